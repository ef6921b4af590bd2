// From a step's screencast frames to visual metrics and encoded thumbnails. Runs after the step, off the
// critical path (the filmstrip collector starts it once the step's frames are in, lets it advance only between
// later steps' timed regions and awaits it in `finish`): the pixel work is sharp (libuv threads) plus small
// JS loops over 400-pixel-wide frames.
import { pickWithinBudget, rankFilmstripFrames } from '../core/frame-selection.ts';
import {
  alignToOrigin,
  colorHistogram,
  duplicateAllowance,
  frameProgress,
  isDuplicateFrame,
  visualMetricsFromProgress,
  type ColorHistogram,
  type DuplicateTolerance,
  type ProgressPoint,
  type VisualMetrics,
} from '../core/visual-metrics.ts';
import type { PixelRect, RawImage } from './image-encoding.ts';

export interface CapturedFrame {
  /** Presentation time, epoch ms (browser clock). */
  atMs: number;
  bytes: Buffer;
}

export interface Thumbnail {
  timeMs: number;
  visualProgress: number;
  webp: Uint8Array;
}

export interface ProcessedFilmstrip {
  visualMetrics: VisualMetrics | undefined;
  /** Undefined when thumbnails may not be stored (no sink, or the elements to mask are unknown). */
  thumbnails: Thumbnail[] | undefined;
}

export interface ProcessOptions {
  /** Epoch ms of the step's time zero (same clock as the frames). */
  originMs: number;
  analysisWidth: number;
  duplicateTolerance: DuplicateTolerance | undefined;
  thumbnails: { width: number; maxFrames: number; maxBytes: number; masks: readonly PixelRect[]; maskColor: [number, number, number] } | undefined;
  /** Throws when the work ran out of time (called between frames). */
  checkTime: () => void;
  /** Resolves when the work may go on (not while a step's timed region runs). */
  betweenSteps: () => Promise<void>;
}

/**
 * De-duplicates the frames against the last kept one (pixelmatch with a noise tolerance), builds the progress
 * curve and the metrics (core/visual-metrics.ts), then encodes the baseline, the final state and the biggest
 * changes as WebP thumbnails within the count and byte caps, with the masks painted over. Undefined when no
 * frame is left.
 */
export async function processFilmstrip(frames: readonly CapturedFrame[], options: ProcessOptions): Promise<ProcessedFilmstrip | undefined> {
  // sharp and pixelmatch load on first use, so runs without filmstrips never pay for them.
  const { decodeToRgba, differingPixels, webpThumbnail } = await import('./image-encoding.ts');
  const aligned = alignToOrigin(
    frames.map((f) => f.atMs),
    options.originMs,
  );
  if (aligned.length === 0) return undefined;

  // One decoded frame at a time (the next frame decodes on sharp's threads while this one is compared).
  const kept: { frame: CapturedFrame; timeMs: number; histogram: ColorHistogram }[] = [];
  let lastKept: RawImage | undefined;
  const decode = (position: number) => {
    const frame = frames[aligned[position]?.index ?? -1];
    return frame === undefined ? undefined : decodeToRgba(frame.bytes, options.analysisWidth);
  };
  let next = decode(0);
  next?.catch(() => undefined);
  for (const [position, { index, timeMs }] of aligned.entries()) {
    await options.betweenSteps();
    options.checkTime();
    const frame = frames[index];
    const decoding = next;
    next = decode(position + 1);
    // A failed prefetch must not surface as an unhandled rejection; it is awaited (and throws) on its turn.
    next?.catch(() => undefined);
    if (frame === undefined || decoding === undefined) continue;
    const image = await decoding;
    if (lastKept !== undefined) {
      const total = image.width * image.height;
      const allowed = duplicateAllowance(total, options.duplicateTolerance);
      const diff = differingPixels(lastKept, image, 0.1, { enoughBelow: allowed, clearlyAbove: Math.max(20 * allowed, 0.05 * total) });
      if (isDuplicateFrame(diff, total, options.duplicateTolerance)) continue;
    }
    lastKept = image;
    kept.push({ frame, timeMs: Math.round(timeMs), histogram: colorHistogram(image) });
  }
  const first = kept[0];
  const last = kept[kept.length - 1];
  if (first === undefined || last === undefined) return undefined;
  const progress: ProgressPoint[] = kept.map((k) => ({ timeMs: k.timeMs, progress: frameProgress(k.histogram, first.histogram, last.histogram) }));
  const visualMetrics = visualMetricsFromProgress(progress);
  const caps = options.thumbnails;
  if (caps === undefined) return { visualMetrics, thumbnails: undefined };

  const encode = async (index: number, quality: number) => {
    await options.betweenSteps();
    options.checkTime();
    const entry = kept[index];
    if (entry === undefined) return { bytes: Number.POSITIVE_INFINITY, value: new Uint8Array() };
    const value = await webpThumbnail(entry.frame.bytes, { width: caps.width, quality, masks: caps.masks, maskColor: caps.maskColor });
    return { bytes: value.byteLength, value };
  };
  // Thumbnails too big for their share of the budget (wide settings.filmstripWidth, busy pages) are
  // encoded at a lower quality so that more of them fit.
  const probe = await encode(0, 60);
  const quality = probe.bytes > caps.maxBytes / Math.min(caps.maxFrames, kept.length) ? 30 : 60;
  const chosen = await pickWithinBudget(
    rankFilmstripFrames(progress),
    (index) => (index === 0 && quality === 60 ? Promise.resolve(probe) : encode(index, quality)),
    { maxFrames: caps.maxFrames, maxBytes: caps.maxBytes },
  );
  const thumbnails: Thumbnail[] = [];
  for (const { index, value } of chosen) {
    const point = progress[index];
    if (point !== undefined) thumbnails.push({ timeMs: point.timeMs, visualProgress: point.progress, webp: value });
  }
  return { visualMetrics, thumbnails };
}
