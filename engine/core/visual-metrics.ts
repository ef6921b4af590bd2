// Visual metrics from a filmstrip, by the WebPageTest / browsertime histogram method (`visualmetrics.py`,
// `calculate_image_histogram`, `calculate_frame_progress`, `calculate_visual_metrics`; VisuallyComplete as in
// browsertime `extraMetrics.js`). Pure: callers decode the frames and pass raw RGBA pixels in.

/** One decoded frame, RGBA (4 bytes a pixel, row-major), `timeMs` from the measurement's time zero. */
export interface DecodedFrame {
  timeMs: number;
  pixels: Uint8Array;
  width: number;
  height: number;
}

/** Visual progress of one frame, 0–100 (integer, floored as in `visualmetrics.py`). */
export interface ProgressPoint {
  timeMs: number;
  progress: number;
}

export interface VisualMetrics {
  firstVisualChangeMs: number;
  speedIndex: number;
  visuallyComplete85Ms: number;
  visuallyComplete95Ms: number;
  lastVisualChangeMs: number;
}

/**
 * A pixel is left out of the histogram when R, G and B are all at or above this value: "white with a tiny bit
 * of slop for compression artifacts" (WebPageTest and browsertime use 250; speedline uses 249).
 */
export const whiteSlop = 250;

/** 3 × 256 bins: R in [0, 256), G in [256, 512), B in [512, 768). */
export type ColorHistogram = Uint32Array;

/** Per-channel histogram of a frame, ignoring near-white pixels (alpha is ignored). */
export function colorHistogram(frame: Pick<DecodedFrame, 'pixels' | 'width' | 'height'>): ColorHistogram {
  const { pixels, width, height } = frame;
  const count = width * height;
  if (pixels.length < count * 4) throw new RangeError(`expected ${count * 4} bytes of RGBA pixels for ${width}×${height}, got ${pixels.length}`);
  const histogram = new Uint32Array(768);
  for (let offset = 0; offset < count * 4; offset += 4) {
    const r = pixels[offset] ?? 0;
    const g = pixels[offset + 1] ?? 0;
    const b = pixels[offset + 2] ?? 0;
    if (r >= whiteSlop && g >= whiteSlop && b >= whiteSlop) continue;
    histogram[r] = (histogram[r] ?? 0) + 1;
    histogram[256 + g] = (histogram[256 + g] ?? 0) + 1;
    histogram[512 + b] = (histogram[512 + b] ?? 0) + 1;
  }
  return histogram;
}

/**
 * How far a frame's histogram has moved from the first frame's towards the last frame's, 0–100, floored
 * (current `calculate_frame_progress`, without the old ±5-bin slop). 100 when first and last are identical.
 */
export function frameProgress(current: ColorHistogram, first: ColorHistogram, last: ColorHistogram): number {
  let matched = 0;
  let total = 0;
  for (let bin = 0; bin < 768; bin++) {
    const base = first[bin] ?? 0;
    const moved = Math.abs((current[bin] ?? 0) - base);
    const target = Math.abs((last[bin] ?? 0) - base);
    matched += Math.min(moved, target);
    total += target;
  }
  return total === 0 ? 100 : Math.floor((100 * matched) / total);
}

/** Visual progress of every frame, relative to the first (0 %) and the last (100 %) frame. */
export function visualProgress(frames: readonly DecodedFrame[]): ProgressPoint[] {
  const histograms = frames.map((frame) => colorHistogram(frame));
  const first = histograms[0];
  const last = histograms[histograms.length - 1];
  if (first === undefined || last === undefined) return [];
  return frames.map((frame, index) => ({ timeMs: frame.timeMs, progress: frameProgress(histograms[index] ?? first, first, last) }));
}

/**
 * The first time at which progress reaches `threshold` and never falls below it again (browsertime resets a
 * milestone, and every higher one, when progress drops back under it). The last frame is 100 % by definition,
 * so a milestone always exists for a non-empty curve.
 */
function visuallyCompleteAt(points: readonly ProgressPoint[], threshold: number): number {
  let at: number | undefined;
  for (const point of points) {
    if (point.progress < threshold) at = undefined;
    else at ??= point.timeMs;
  }
  return at ?? points[points.length - 1]?.timeMs ?? 0;
}

/**
 * Metrics from a progress curve whose time zero is the measurement start and whose first point is the
 * baseline (what was on screen at time zero), sorted by time, duplicates already removed:
 * - firstVisualChange: the second point's time (the first frame that differs from the baseline);
 * - lastVisualChange: the last point's time;
 * - Speed Index: ∫ (1 − progress/100) dt from 0 to the last change, as a step function (each frame's progress
 *   holds until the next frame), truncated to whole ms like `visualmetrics.py`;
 * - visuallyComplete85/95: see visuallyCompleteAt.
 * With a single point (nothing changed) every metric is that point's time and Speed Index is that time too
 * (0 when the baseline is at time zero), as in WebPageTest.
 */
export function visualMetricsFromProgress(points: readonly ProgressPoint[]): VisualMetrics | undefined {
  const first = points[0];
  const last = points[points.length - 1];
  if (first === undefined || last === undefined) return undefined;
  // Before the baseline frame nothing of the final state is on screen.
  let speedIndex = Math.max(0, first.timeMs);
  for (let index = 1; index < points.length; index++) {
    const previous = points[index - 1] ?? first;
    const point = points[index] ?? last;
    // (100 − p) / 100 rather than 1 − p / 100: exact for whole-ms times and whole-percent progress.
    speedIndex += (Math.max(0, point.timeMs - previous.timeMs) * (100 - previous.progress)) / 100;
  }
  return {
    firstVisualChangeMs: (points[1] ?? first).timeMs,
    speedIndex: Math.trunc(speedIndex),
    visuallyComplete85Ms: visuallyCompleteAt(points, 85),
    visuallyComplete95Ms: visuallyCompleteAt(points, 95),
    lastVisualChangeMs: last.timeMs,
  };
}

/** Progress curve and metrics of de-duplicated, time-aligned frames (the first one is the baseline). */
export function computeVisualMetrics(frames: readonly DecodedFrame[]): { progress: ProgressPoint[]; metrics: VisualMetrics } | undefined {
  const progress = visualProgress(frames);
  const metrics = visualMetricsFromProgress(progress);
  return metrics === undefined ? undefined : { progress, metrics };
}

/**
 * Noise tolerance of frame de-duplication (browsertime `--noisetolerance`, whose help suggests 0.05 %): a frame
 * differing from the last kept frame in at most max(minPixels, fraction × pixels) pixels is a duplicate. This
 * keeps a blinking caret or sub-pixel re-rasterisation from counting as a visual change.
 */
export interface DuplicateTolerance {
  /** Fraction of the frame's pixels, 0–1. Default 0.0005 (0.05 %). */
  fraction?: number;
  /** Floor in pixels. Default 5. */
  minPixels?: number;
}

/** How many differing pixels a frame of `totalPixels` may have and still count as a duplicate. */
export function duplicateAllowance(totalPixels: number, tolerance: DuplicateTolerance = {}): number {
  return Math.max(tolerance.minPixels ?? 5, (tolerance.fraction ?? 0.0005) * totalPixels);
}

/** Whether a frame whose pixel diff against the last kept frame is `differingPixels` counts as the same image. */
export function isDuplicateFrame(differingPixels: number, totalPixels: number, tolerance: DuplicateTolerance = {}): boolean {
  return differingPixels <= duplicateAllowance(totalPixels, tolerance);
}

/**
 * Puts frames captured on an absolute clock on the measurement's time axis: `timeMs = atMs − originMs`. Frames
 * before the origin collapse into one baseline at time 0 — the last of them, which is what the screen showed
 * at time zero. When no frame precedes the origin, the first frame is the baseline at its own time.
 * Returns, in time order, the index of each frame kept and its aligned time.
 */
export function alignToOrigin(capturedAtMs: readonly number[], originMs: number): { index: number; timeMs: number }[] {
  const order = capturedAtMs.map((atMs, index) => ({ atMs, index })).sort((a, b) => a.atMs - b.atMs || a.index - b.index);
  const out: { index: number; timeMs: number }[] = [];
  let baseline: { index: number; timeMs: number } | undefined;
  for (const { atMs, index } of order) {
    const timeMs = atMs - originMs;
    if (timeMs <= 0) baseline = { index, timeMs: 0 };
    else out.push({ index, timeMs });
  }
  return baseline === undefined ? out : [baseline, ...out];
}
