import type { CDPSession, Page } from 'playwright-core';
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

/**
 * The document's time origin and navigation start, and the boxes to mask: password inputs always (one
 * evaluate), then the script's `maskSelectors` (Playwright locators, main frame only). Undefined when the page
 * is gone or cannot run script.
 */
async function pageState(page: Page, maskSelectors: readonly string[]): Promise<PageState | undefined> {
  if (page.isClosed()) return undefined;
  const state = await page
    .evaluate(() => {
      const entry = performance.getEntriesByType('navigation')[0];
      const boxes = [...document.querySelectorAll('input[type=password]')].slice(0, 200).map((element) => {
        const box = element.getBoundingClientRect();
        return { x: box.x, y: box.y, width: box.width, height: box.height };
      });
      return {
        origin: performance.timeOrigin,
        navigationStart: performance.timeOrigin + (entry?.startTime ?? 0),
        viewport: { width: innerWidth, height: innerHeight },
        boxes,
      };
    })
    .catch(() => undefined);
  if (state === undefined) return undefined;
  const masks = normalise(state.boxes, state.viewport);
  for (const selector of maskSelectors.map(toPlaywrightSelector)) {
    const boxes = await page
      .locator(selector)
      .evaluateAll((elements) =>
        elements.slice(0, 200).map((element) => {
          const box = element.getBoundingClientRect();
          return { x: box.x, y: box.y, width: box.width, height: box.height };
        }),
      )
      .catch((): Box[] => []);
    masks.push(...normalise(boxes, state.viewport));
  }
  return { origin: state.origin, navigationStart: state.navigationStart, masks };
}

/**
 * Our selector syntax → Playwright's (same mapping as runner/selectors.ts `toPlaywrightSelector`, which this
 * layer may not import): `testid=x` is the `data-testid` attribute and a bare `//…` is XPath.
 */
function toPlaywrightSelector(selector: string): string {
  return selector
    .split(/\s*>>\s*/)
    .map((part) => {
      if (part.startsWith('testid=')) return `internal:testid=[data-testid=${JSON.stringify(part.slice('testid='.length))}s]`;
      if (part.startsWith('//') || part.startsWith('(//')) return `xpath=${part}`;
      return part;
    })
    .join(' >> ');
}

const stepLabel = (index: number) => `step-${String(index + 1).padStart(2, '0')}`;

/**
 * A filmstrip and visual metrics of each step whose capture policy allows it (`info.capture.filmstrip`; when it
 * is false — script, request or the checkpoint's privacy lock — no screencast is started at all).
 *
 * During the step the browser pushes frames through CDP `Page.startScreencast` (damage-driven: a frame only
 * when the compositor produces one, up to the display rate); each frame is acknowledged at once and only its
 * bytes and presentation time are kept. Decoding, comparison and encoding happen after the step's timed region.
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
      if (sink === undefined) return fields;
      const thumbnailWidth = ctx.script.settings?.filmstripWidth ?? defaultFilmstripWidth;
      const encode = async (index: number, q: number) => {
        checkTime();
        const entry = kept[index];
        if (entry === undefined) return { bytes: Number.POSITIVE_INFINITY, value: new Uint8Array() };
        const value = await webpThumbnail(entry.frame.bytes, { width: thumbnailWidth, quality: q, masks: capture.masks });
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
