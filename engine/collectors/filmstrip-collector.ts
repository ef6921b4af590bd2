import type { CDPSession, Frame, Page } from 'playwright-core';
import { pickWithinBudget, rankFilmstripFrames, thinByInterval } from '../core/frame-selection.ts';
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
} from '../core/visual-metrics.ts';
import type { StepResult } from '../schema/result.ts';
import type { Collector, CollectorContext } from './collector.ts';
import type { PixelRect, RawImage } from './image-encoding.ts';
import { alwaysMaskedSelector, defaultMaskColor, maskSelectorFor } from './masking.ts';

export interface FilmstripOptions {
  /** Screencast image format. Default `jpeg` (PNG costs the browser far more CPU per frame). */
  format?: 'jpeg' | 'png';
  /** Screencast JPEG quality. Default 70. */
  quality?: number;
  /** Width frames are analysed at (WebPageTest's thumbsize is 400). Default 400. */
  analysisWidth?: number;
  /** Thumbnails kept per step. Default 30. */
  maxFrames?: number;
  /** Bytes of thumbnails kept per step. Default 150 000. */
  maxBytes?: number;
  /**
   * Frames held in memory during a step before they are thinned out. Default 300 (5 s of change at 60 fps);
   * beyond it frames closer than 34 ms, then 68 ms, … to the previous kept frame are dropped.
   */
  maxCapturedFrames?: number;
  /** Bytes of frames held in memory during a step before they are thinned out. Default 48 MB. */
  maxCapturedBytes?: number;
  /** How long beforeStep waits for the baseline frame. Default 1000 ms. */
  firstFrameWaitMs?: number;
  /** De-duplication tolerance. Default: browsertime's suggested 0.05 % of the pixels, at least 5. */
  duplicateTolerance?: DuplicateTolerance;
  /**
   * After the step, capture continues until the screen has been still for this long (a click returns before
   * the paint it causes). Default 200 ms.
   */
  settleQuietMs?: number;
  /** Longest settle after the step (animated pages never go still). Default 3000 ms. */
  settleMaxMs?: number;
  /** Deadline of the afterStep hook (settle, stop, decode, compare, encode, write). Default 20 s. */
  hookTimeoutMs?: number;
}

/** Default thumbnail width (settings.filmstripWidth). */
export const defaultFilmstripWidth = 320;

interface CapturedFrame {
  /** Presentation time, epoch ms (browser clock). */
  atMs: number;
  bytes: Buffer;
}

interface Capture {
  session: CDPSession;
  /** True when this collector created the session (the step started on a tab other than the first). */
  ownSession: boolean;
  page: Page;
  frames: CapturedFrame[];
  bytes: number;
  /** 0 until the step produced more frames than the memory budget; then frames closer than this are thinned. */
  minIntervalMs: number;
  originBefore: number | undefined;
  /** Node wall clock when the capture was ready, just before the step's timed region. */
  readyAtMs: number;
  /** Node wall clock when the last (changed) frame arrived. */
  lastArrivalMs: number;
  masks: PixelRect[];
  /** False when the elements to mask could not be read at the start or the end: thumbnails are then not stored. */
  masksKnown: boolean;
  onFirstFrame: () => void;
}

interface PageState {
  /** `performance.timeOrigin` of the document (epoch ms). */
  origin: number;
  /** Its navigation entry's start on the same scale. */
  navigationStart: number;
  /** Normalised viewport rectangles (0–1) of the elements a filmstrip must never show. */
  masks: PixelRect[];
}

type Box = { x: number; y: number; width: number; height: number };

/** Viewport box → fraction of the viewport, with a 2 px margin (thumbnails are scaled; no sliver may remain). */
function normalise(boxes: readonly Box[], viewport: { width: number; height: number }): PixelRect[] {
  if (viewport.width <= 0 || viewport.height <= 0) return [];
  return boxes
    .filter((box) => box.width > 0 && box.height > 0)
    .map((box) => ({
      x: (box.x - 2) / viewport.width,
      y: (box.y - 2) / viewport.height,
      width: (box.width + 4) / viewport.width,
      height: (box.height + 4) / viewport.height,
    }));
}

/** More frames than this and the filmstrip is refused rather than half-masked (same limit as screenshots). */
const maxMaskedFrames = 64;

/** Where a child frame's viewport sits in the page's viewport; undefined when the frame is not displayed. */
async function frameOffset(frame: Frame): Promise<{ x: number; y: number } | undefined> {
  const element = await frame.frameElement();
  try {
    const box = await element.boundingBox();
    return box === null ? undefined : { x: box.x, y: box.y };
  } finally {
    await element.dispose().catch(() => undefined);
  }
}

/** Viewport boxes of the elements matching `selector` in `frame` (the frame's own coordinates). */
async function boxesOf(frame: Frame, selector: string): Promise<Box[]> {
  return frame.locator(selector).evaluateAll((elements) =>
    elements.slice(0, 200).map((element) => {
      const box = element.getBoundingClientRect();
      return { x: box.x, y: box.y, width: box.width, height: box.height };
    }),
  );
}

/**
 * The document's time origin and navigation start, and the boxes to mask — the fields `masking.ts` always
 * masks and the script's `maskSelectors`, in every frame (the same rule as screenshots). Undefined when the
 * page is closed or cannot run script (its masks are then unknown). Throws when an element to mask cannot be
 * searched for (an invalid selector, too many frames): a filmstrip is never stored half-masked.
 */
async function pageState(page: Page, maskSelectors: readonly string[]): Promise<PageState | undefined> {
  if (page.isClosed()) return undefined;
  const read = () =>
    page.evaluate((always) => {
      const entry = performance.getEntriesByType('navigation')[0];
      const boxes = [...document.querySelectorAll(always)].slice(0, 200).map((element) => {
        const box = element.getBoundingClientRect();
        return { x: box.x, y: box.y, width: box.width, height: box.height };
      });
      return {
        origin: performance.timeOrigin,
        navigationStart: performance.timeOrigin + (entry?.startTime ?? 0),
        viewport: { width: innerWidth, height: innerHeight },
        boxes,
      };
    }, alwaysMaskedSelector);
  // A navigation in flight destroys the execution context under us: one retry once the new document runs.
  const state = await read().catch(async () => {
    await new Promise((resolve) => setTimeout(resolve, 100));
    return page.isClosed() ? undefined : read().catch(() => undefined);
  });
  if (state === undefined) return undefined;
  const masks = normalise(state.boxes, state.viewport);
  const selectors = maskSelectors.map(maskSelectorFor);
  const frames = page.frames().filter((frame) => !frame.isDetached());
  if (frames.length > maxMaskedFrames) throw new Error(`the page has ${frames.length} frames; filmstrips mask at most ${maxMaskedFrames}, so none is stored`);
  for (const frame of frames) {
    const isMain = frame === page.mainFrame();
    const wanted = isMain ? selectors : [alwaysMaskedSelector, ...selectors];
    if (wanted.length === 0) continue;
    try {
      const offset = isMain ? { x: 0, y: 0 } : await frameOffset(frame);
      if (offset === undefined) continue;
      for (const selector of wanted) {
        const boxes = await boxesOf(frame, selector);
        masks.push(...normalise(boxes.map((box) => ({ ...box, x: box.x + offset.x, y: box.y + offset.y })), state.viewport));
      }
    } catch (error) {
      // A frame that went away shows nothing; any other failure means an element to mask could not be found.
      if (frame.isDetached()) continue;
      throw new Error(`could not locate the elements to mask in the filmstrip: ${error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error)}`, { cause: error });
    }
  }
  return { origin: state.origin, navigationStart: state.navigationStart, masks };
}

/** `#rrggbb` → [r, g, b] (black when malformed). */
function hexColor(hex: string): [number, number, number] {
  const match = /^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex.trim());
  return match === null ? [0, 0, 0] : [parseInt(match[1] ?? '0', 16), parseInt(match[2] ?? '0', 16), parseInt(match[3] ?? '0', 16)];
}

const stepLabel = (index: number) => `step-${String(index + 1).padStart(2, '0')}`;

/**
 * A filmstrip and visual metrics of each step whose capture policy allows it (`info.capture.filmstrip`; when it
 * is false — script, request or the checkpoint's privacy lock — no screencast is started at all).
 *
 * During the step the browser pushes frames through CDP `Page.startScreencast` (damage-driven: a frame only
 * when the compositor produces one, up to the display rate); each frame is acknowledged at once and only its
 * bytes and presentation time are kept. Decoding, comparison and encoding happen after the step's timed region.
 * After the step, capture goes on until the screen has been still for `settleQuietMs` (at most `settleMaxMs`),
 * so the paint a final click causes is seen. Frames are de-duplicated (pixelmatch, noise tolerance), the
 * progress curve and metrics come from core/visual-metrics.ts, and the baseline, the final state and the
 * biggest changes are stored as WebP thumbnails within the count and byte caps. Password fields and
 * `settings.maskSelectors` (every frame, as for screenshots), located at the start and at the end of the step,
 * are painted over in every thumbnail; when they cannot be located, no thumbnail is stored.
 *
 * Time zero — the choice and why: frames carry `metadata.timestamp`, the frame's presentation time in epoch
 * seconds on the browser's clock (Chromium 156 fills it; we check it is there and fall back to the arrival time
 * in Node otherwise). `performance.timeOrigin` of a document is its navigation start on the same epoch scale,
 * so when the step loaded a new document in its tab, time zero is that document's `timeOrigin` plus its
 * navigation entry's `startTime` (0 in today's browsers) — the same zero as the step's Navigation Timing, FCP
 * and LCP, so First Visual Change compares directly with them. When the step loaded several documents, the
 * last one wins (as for `navigation`); what was on screen at its start is the baseline. When the step loaded
 * none (clicks in a single-page app), time zero is the step start (`result.startedAt`, the runner's wall clock
 * on the same machine; checked for sanity against the moment capture was ready). Frames before time zero
 * collapse into one baseline frame at 0.
 */
export function filmstripCollector(options: FilmstripOptions = {}): Collector {
  const format = options.format ?? 'jpeg';
  const quality = options.quality ?? 70;
  const analysisWidth = options.analysisWidth ?? 400;
  const maxFrames = options.maxFrames ?? 30;
  const maxBytes = options.maxBytes ?? 150_000;
  const maxCapturedFrames = options.maxCapturedFrames ?? 300;
  const maxCapturedBytes = options.maxCapturedBytes ?? 48 * 1024 * 1024;
  const firstFrameWaitMs = options.firstFrameWaitMs ?? 1000;
  const settleQuietMs = options.settleQuietMs ?? 200;
  const settleMaxMs = options.settleMaxMs ?? 3000;
  const hookTimeoutMs = options.hookTimeoutMs ?? 20_000;
  const maskColor = hexColor(defaultMaskColor);
  const listening = new WeakSet<CDPSession>();
  let active: Capture | undefined;

  function record(capture: Capture, frame: CapturedFrame): void {
    const last = capture.frames[capture.frames.length - 1];
    // Byte-identical to the previous frame: nothing changed on screen (speedline drops these too).
    if (last !== undefined && last.bytes.equals(frame.bytes)) return;
    capture.frames.push(frame);
    capture.bytes += frame.bytes.byteLength;
    capture.lastArrivalMs = Date.now();
    capture.onFirstFrame();
    while (capture.frames.length > maxCapturedFrames || capture.bytes > maxCapturedBytes) {
      // Over budget: keep frames at least an interval apart (first and last always), doubling it each time.
      capture.minIntervalMs = capture.minIntervalMs === 0 ? 34 : capture.minIntervalMs * 2;
      const kept = thinByInterval(
        capture.frames.map((f) => f.atMs),
        capture.minIntervalMs,
      ).map((index) => capture.frames[index] as CapturedFrame);
      capture.frames = kept;
      capture.bytes = kept.reduce((sum, f) => sum + f.bytes.byteLength, 0);
    }
  }

  function listen(session: CDPSession): void {
    if (listening.has(session)) return;
    listening.add(session);
    session.on('Page.screencastFrame', (event) => {
      // Acknowledge at once: Chromium drops (does not queue) frames while acks are outstanding.
      session.send('Page.screencastFrameAck', { sessionId: event.sessionId }).catch(() => undefined);
      const capture = active;
      if (capture?.session !== session) return;
      // Without a timestamp (older browsers) the arrival time in Node stands in: later by the delivery latency.
      const stamped = event.metadata.timestamp;
      record(capture, { atMs: stamped === undefined ? Date.now() : stamped * 1000, bytes: Buffer.from(event.data, 'base64') });
    });
  }

  async function stop(capture: Capture): Promise<void> {
    if (active === capture) active = undefined;
    await capture.session.send('Page.stopScreencast').catch(() => undefined);
    if (capture.ownSession) await capture.session.detach().catch(() => undefined);
  }

  function captureWidth(ctx: CollectorContext): number {
    const thumbnailWidth = ctx.script.settings?.filmstripWidth ?? defaultFilmstripWidth;
    return Math.min(1280, Math.max(analysisWidth, thumbnailWidth));
  }

  return {
    name: 'filmstrip',
    hookTimeoutMs,
    async beforeStep(ctx, info) {
      // A capture left running by a step that never reached afterStep (engine fault) ends here, unused.
      if (active !== undefined) await stop(active);
      if (!info.capture.filmstrip) return;
      const page = ctx.currentPage();
      const ownSession = page !== ctx.page;
      const session = ownSession ? await ctx.context.newCDPSession(page) : await ctx.cdp();
      const start = await pageState(page, ctx.script.settings?.maskSelectors ?? []);
      let onFirstFrame = () => {};
      const firstFrame = new Promise<void>((resolve) => (onFirstFrame = resolve));
      const capture: Capture = {
        session,
        ownSession,
        page,
        frames: [],
        bytes: 0,
        minIntervalMs: 0,
        originBefore: start?.origin,
        readyAtMs: Date.now(),
        lastArrivalMs: 0,
        masks: start?.masks ?? [],
        masksKnown: start !== undefined,
        onFirstFrame: () => onFirstFrame(),
      };
      listen(session);
      active = capture;
      const width = captureWidth(ctx);
      await session.send('Page.startScreencast', {
        format,
        ...(format === 'jpeg' ? { quality } : {}),
        maxWidth: width,
        maxHeight: width * 3,
        everyNthFrame: 1,
      });
      // Chromium sends the current picture right away; it is the baseline of steps that do not navigate.
      const waitMs = Math.max(0, Math.min(firstFrameWaitMs, ctx.remainingMs()));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([firstFrame, new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)))]);
      clearTimeout(timer);
      capture.readyAtMs = Date.now();
    },

    async afterStep(ctx, info, result) {
      const capture = active;
      if (capture === undefined || !info.capture.filmstrip) return undefined;
      // Our own deadline, a second before the runner's (which also shrinks near the end of the script).
      const deadline = performance.now() + Math.min(hookTimeoutMs, ctx.remainingMs() + 10_000) - 1000;
      // Settle: keep capturing until the screen has been still for settleQuietMs (outside the step's timing).
      const enteredMs = Date.now();
      const settleUntilMs = enteredMs + Math.max(0, Math.min(settleMaxMs, ctx.remainingMs() - 1000));
      for (;;) {
        const quietAtMs = Math.max(capture.lastArrivalMs, enteredMs) + settleQuietMs;
        const nowMs = Date.now();
        if (nowMs >= quietAtMs || nowMs >= settleUntilMs) break;
        await new Promise((resolve) => setTimeout(resolve, Math.min(quietAtMs, settleUntilMs) - nowMs));
      }
      await stop(capture);
      const checkTime = () => {
        if (performance.now() > deadline) throw new Error('filmstrip processing ran out of time');
      };

      const after = await pageState(capture.page, ctx.script.settings?.maskSelectors ?? []);
      const navigated = after !== undefined && after.origin !== capture.originBefore;
      const stepStartMs = result.startedAt === undefined ? Number.NaN : Date.parse(result.startedAt);
      const stepStartSane = Number.isFinite(stepStartMs) && stepStartMs >= capture.readyAtMs - 5 && stepStartMs <= Date.now();
      const originMs = navigated ? after.navigationStart : stepStartSane ? stepStartMs : capture.readyAtMs;
      capture.masks.push(...(after?.masks ?? []));
      if (after === undefined) capture.masksKnown = false;

      // sharp and pixelmatch load on first use, so runs without filmstrips never pay for them.
      const { decodeToRgba, differingPixels, webpThumbnail } = await import('./image-encoding.ts');
      const aligned = alignToOrigin(
        capture.frames.map((f) => f.atMs),
        originMs,
      );
      if (aligned.length === 0) return undefined;

      // De-duplicate against the last kept frame and build the progress curve, one decoded frame at a time
      // (the next frame decodes on sharp's threads while this one is compared).
      const kept: { frame: CapturedFrame; timeMs: number; histogram: ColorHistogram }[] = [];
      let lastKept: RawImage | undefined;
      const decode = (position: number) => {
        const frame = capture.frames[aligned[position]?.index ?? -1];
        return frame === undefined ? undefined : decodeToRgba(frame.bytes, analysisWidth);
      };
      let next = decode(0);
      next?.catch(() => undefined);
      for (const [position, { index, timeMs }] of aligned.entries()) {
        checkTime();
        const frame = capture.frames[index];
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
      const fields: Partial<StepResult> = visualMetrics === undefined ? {} : { visualMetrics };

      // Thumbnails: baseline, final state and the biggest changes, within the count and byte caps.
      const sink = ctx.artifacts;
      // Without a sink nothing is stored; with masks unknown (the tab closed or could not run script) nothing may be.
      if (sink === undefined || !capture.masksKnown) return fields;
      const thumbnailWidth = ctx.script.settings?.filmstripWidth ?? defaultFilmstripWidth;
      const encode = async (index: number, q: number) => {
        checkTime();
        const entry = kept[index];
        if (entry === undefined) return { bytes: Number.POSITIVE_INFINITY, value: new Uint8Array() };
        const value = await webpThumbnail(entry.frame.bytes, { width: thumbnailWidth, quality: q, masks: capture.masks, maskColor });
        return { bytes: value.byteLength, value };
      };
      // Thumbnails too big for their share of the budget (wide settings.filmstripWidth, busy pages) are
      // encoded at a lower quality so that more of them fit.
      const probe = await encode(0, 60);
      const thumbnailQuality = probe.bytes > maxBytes / Math.min(maxFrames, kept.length) ? 30 : 60;
      const chosen = await pickWithinBudget(
        rankFilmstripFrames(progress),
        (index) => (index === 0 && thumbnailQuality === 60 ? Promise.resolve(probe) : encode(index, thumbnailQuality)),
        { maxFrames, maxBytes },
      );
      const filmstrip: NonNullable<StepResult['filmstrip']> = [];
      const names = new Set<string>();
      for (const { index, value } of chosen) {
        const point = progress[index];
        if (point === undefined) continue;
        let name = `${stepLabel(info.index)}-${String(point.timeMs).padStart(4, '0')}ms`;
        while (names.has(name)) name += '-b';
        names.add(name);
        const artifact = await sink.write({ kind: 'filmstrip-frame', name: `${name}.webp`, bytes: value, contentType: 'image/webp', step: info.index });
        ctx.addArtifact(artifact);
        filmstrip.push({ timeMs: point.timeMs, path: artifact.path, visualProgress: point.progress });
      }
      return { ...fields, filmstrip };
    },

    async finish() {
      if (active !== undefined) await stop(active);
    },
  };
}
