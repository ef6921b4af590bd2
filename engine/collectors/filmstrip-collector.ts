import type { CDPSession, Frame, Page } from 'playwright-core';
import { thinByInterval } from '../core/frame-selection.ts';
import type { DuplicateTolerance } from '../core/visual-metrics.ts';
import type { Clock } from '../core/clock.ts';
import type { Deadline } from '../core/deadline.ts';
import type { StepResult } from '../schema/result.ts';
import type { Collector, CollectorContext } from './collector.ts';
import { BetweenSteps } from './between-steps.ts';
import { processFilmstrip, type CapturedFrame, type ProcessedFilmstrip } from './filmstrip-processing.ts';
import type { PixelRect } from './image-encoding.ts';
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
  /** How long beforeStep waits for the baseline frame when it starts a screencast. Default 1000 ms. */
  firstFrameWaitMs?: number;
  /** De-duplication tolerance. Default: browsertime's suggested 0.05 % of the pixels, at least 5. */
  duplicateTolerance?: DuplicateTolerance;
  /**
   * After a step whose last action was an interaction (a click returns before the paint it causes), capture
   * goes on until the screen has been still for this long. Default 200 ms.
   */
  settleQuietMs?: number;
  /** Longest such settle (animated pages never go still). Default 3000 ms. */
  settleMaxMs?: number;
  /**
   * How long `finish` waits at most for the last step's frames still on their way through CDP (it stops as
   * soon as a frame presented after the step's end arrives). Default 50 ms.
   */
  finalQuietMs?: number;
  /** Deadline of each hook, `finish` included (settle, then waiting for decoding, comparison, encoding, writes). Default 20 s. */
  hookTimeoutMs?: number;
}

/** Default thumbnail width (settings.filmstripWidth). */
export const defaultFilmstripWidth = 320;

interface PageState {
  /** `performance.timeOrigin` of the document (epoch ms). */
  origin: number;
  /** Its navigation entry's start on the same scale. */
  navigationStart: number;
  /** Normalised viewport rectangles (0–1) of the elements a filmstrip must never show. */
  masks: PixelRect[];
}

/** What one step's filmstrip gathers while its screencast runs. */
interface Segment {
  readonly stepIndex: number;
  /** Node wall clock (epoch ms) when the step's capture was ready, just before its timed region. */
  readyAtMs: number;
  frames: CapturedFrame[];
  bytes: number;
  /** 0 until the step produced more frames than the memory budget; then frames closer than this are thinned. */
  minIntervalMs: number;
  /** `timeOrigin` of the document on screen when the step started. */
  originBefore: number | undefined;
  masks: PixelRect[];
  /** False when the elements to mask could not be read at the start or the end: thumbnails are then not stored. */
  masksKnown: boolean;
  /**
   * Epoch ms from which frames no longer belong to this step (set by afterStep once the page has committed
   * the step's last paint); undefined while the step runs.
   */
  endMs: number | undefined;
  /** Set by afterStep: the step's time zero, and whether its last action was an interaction. */
  end?: { originMs: number; interaction: boolean };
}

/**
 * One screencast, kept running across consecutive filmstrip steps on the same tab (no restart, no first-frame
 * wait). Each step opens a segment; a frame goes by its presentation time to the oldest open segment that had
 * not ended by then. Frames between two steps (another collector's work, e.g. a screenshot's mask overlay) go
 * to no step: the newest of them is the next step's baseline candidate.
 */
interface Screencast {
  session: CDPSession;
  /** True when this collector created the session (the step started on a tab other than the first). */
  ownSession: boolean;
  page: Page;
  /** Segments still receiving frames, oldest first. */
  open: Segment[];
  /** The newest frame of the last sealed segment: the screen the next segment starts from (its baseline). */
  carried: CapturedFrame | undefined;
  /** The newest frame presented after the last step ended and before the next one opened. */
  between: CapturedFrame | undefined;
  /** Bytes of the last frame recorded (byte-identical frames show nothing new). */
  lastBytes: Buffer | undefined;
  /** Node wall clock when the last (changed) frame arrived. */
  lastArrivalMs: number;
  /** Presentation time of the newest frame received (epoch ms). */
  newestAtMs: number;
  /** The page as the last step left it: time origin and masks, reused as the next step's start. */
  endState: PageState | undefined;
  onFrame: () => void;
}

/** Actions after which what the step checked is already in the DOM; any other action may still cause a paint. */
const settledActions = new Set([
  'navigate',
  'waitForElement',
  'waitForText',
  'waitForUrl',
  'waitForTime',
  'waitForNetworkIdle',
  'assertText',
  'assertElement',
  'assertUrl',
  'assertTitle',
  'extract',
  'switchFrame',
  'switchToMainFrame',
]);

/** Whether the last action the step ran may still cause a paint after it returned (a click, a key press, …). */
function endedWithInteraction(result: Readonly<StepResult>): boolean {
  const ran = result.actions.filter((action) => action.status !== 'skipped');
  const last = ran[ran.length - 1];
  return last !== undefined && !settledActions.has(last.type);
}

type Box = { x: number; y: number; width: number; height: number };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

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
async function pageState(page: Page, maskSelectors: readonly string[], afterFrame = false): Promise<PageState | undefined> {
  if (page.isClosed()) return undefined;
  const read = () =>
    page.evaluate(async ({ always, waitForFrame }) => {
      // The page runs an animation frame and the task after it: the frame is committed to the compositor. A
      // page too busy for that within 1 s is read anyway (this only bounds which frames count for the step).
      if (waitForFrame) await Promise.race([new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0))), new Promise((resolve) => setTimeout(resolve, 1000))]);
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
    }, { always: alwaysMaskedSelector, waitForFrame: afterFrame });
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
 * is false — script, request or the checkpoint's privacy lock — no screencast runs during that step at all).
 *
 * The browser pushes frames through CDP `Page.startScreencast` (damage-driven: a frame only when the
 * compositor produces one, up to the display rate); each frame is acknowledged at once and only its bytes and
 * presentation time are kept. The screencast keeps running across consecutive filmstrip steps on the same tab,
 * and each frame goes to a step by its presentation time, not by when it arrives, so no step waits for a still
 * screen. A step ends, for its filmstrip, once the page has run an animation frame after
 * the step's last action (what an assertion or wait checked is then committed for display); frames presented
 * later belong to no step (other collectors may paint: a screenshot's mask overlay) except as the next step's
 * baseline. Only after a step whose last action was an interaction (a click returns before the paint it
 * causes) does capture first wait until the screen has been still for `settleQuietMs` (at most `settleMaxMs`).
 *
 * All pixel work happens after the step's timed region and off the critical path: once a step's frames are
 * all in (when the next step ends, or in `finish`), they are de-duplicated (pixelmatch, noise tolerance), the
 * progress curve and metrics come from core/visual-metrics.ts, and the baseline, the final state and the
 * biggest changes are encoded as WebP thumbnails within the count and byte caps (filmstrip-processing.ts)
 * while later steps run. `finish` awaits that work, writes the thumbnails and returns each step's
 * `visualMetrics` and `filmstrip` as late fields. Password fields and `settings.maskSelectors` (every frame,
 * as for screenshots), located at the start and at the end of the step, are painted over in every thumbnail;
 * when they cannot be located, no thumbnail is stored.
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
  const finalQuietMs = options.finalQuietMs ?? 50;
  const hookTimeoutMs = options.hookTimeoutMs ?? 20_000;
  const maskColor = hexColor(defaultMaskColor);
  const listening = new WeakSet<CDPSession>();
  let active: Screencast | undefined;
  /** Deferred processing of each step's frames, by step index; awaited in `finish`. */
  const jobs = new Map<number, Promise<ProcessedFilmstrip | undefined>>();
  const between = new BetweenSteps();
  /** Deferred work blocks nobody until `finish` waits for it; from then on it must end with `finish`'s deadline. */
  let workDeadline: Deadline | undefined;

  /**
   * This collector's deadline within a hook: a second before the hook's own (which shrinks near the end of the
   * script and after a failure), so that what ran out can still be reported per step.
   */
  function deadlineOf(ctx: CollectorContext): Deadline {
    return ctx.deadline().narrow(Math.max(0, ctx.remainingMs() - 1000), () => new Error('filmstrip processing ran out of time'));
  }

  function record(segment: Segment, frame: CapturedFrame): void {
    segment.frames.push(frame);
    segment.bytes += frame.bytes.byteLength;
    while (segment.frames.length > maxCapturedFrames || segment.bytes > maxCapturedBytes) {
      // Over budget: keep frames at least an interval apart (first and last always), doubling it each time.
      segment.minIntervalMs = segment.minIntervalMs === 0 ? 34 : segment.minIntervalMs * 2;
      const kept = thinByInterval(
        segment.frames.map((f) => f.atMs),
        segment.minIntervalMs,
      ).map((index) => segment.frames[index] as CapturedFrame);
      segment.frames = kept;
      segment.bytes = kept.reduce((sum, f) => sum + f.bytes.byteLength, 0);
    }
  }

  /** The open segment a frame presented at `atMs` belongs to; undefined between steps. */
  function segmentFor(cast: Screencast, atMs: number): Segment | undefined {
    return cast.open.find((segment) => segment.endMs === undefined || atMs < segment.endMs);
  }

  function listen(session: CDPSession, clock: Clock): void {
    if (listening.has(session)) return;
    listening.add(session);
    session.on('Page.screencastFrame', (event) => {
      // Acknowledge at once: Chromium drops (does not queue) frames while acks are outstanding.
      session.send('Page.screencastFrameAck', { sessionId: event.sessionId }).catch(() => undefined);
      const cast = active;
      if (cast?.session !== session) return;
      // Without a timestamp (older browsers) the arrival time in Node stands in: later by the delivery latency.
      const stamped = event.metadata.timestamp;
      const frame = { atMs: stamped === undefined ? clock.wallNow().getTime() : stamped * 1000, bytes: Buffer.from(event.data, 'base64') };
      // Byte-identical to the previous frame: nothing changed on screen (speedline drops these too).
      if (cast.lastBytes?.equals(frame.bytes) === true) return;
      cast.lastBytes = frame.bytes;
      cast.lastArrivalMs = clock.wallNow().getTime();
      cast.newestAtMs = Math.max(cast.newestAtMs, frame.atMs);
      const segment = segmentFor(cast, frame.atMs);
      if (segment !== undefined) record(segment, frame);
      else if (cast.between === undefined || frame.atMs >= cast.between.atMs) cast.between = frame;
      cast.onFrame();
    });
  }

  function newSegment(stepIndex: number, start: PageState | undefined, readyAtMs: number, baseline?: CapturedFrame): Segment {
    return {
      stepIndex,
      readyAtMs,
      endMs: undefined,
      frames: baseline === undefined ? [] : [baseline],
      bytes: baseline?.bytes.byteLength ?? 0,
      minIntervalMs: 0,
      originBefore: start?.origin,
      masks: [...(start?.masks ?? [])],
      masksKnown: start !== undefined,
    };
  }

  /** No more frames go to `segment`: its processing starts now, in the background (awaited in `finish`). */
  function seal(ctx: CollectorContext, cast: Screencast, segment: Segment): void {
    cast.open = cast.open.filter((s) => s !== segment);
    // The screen as the previous step left it is this step's baseline (frames before time zero collapse into it).
    const frames = cast.carried === undefined ? segment.frames : [cast.carried, ...segment.frames];
    cast.carried = frames.reduce<CapturedFrame | undefined>((newest, f) => (newest === undefined || f.atMs >= newest.atMs ? f : newest), undefined);
    const end = segment.end;
    // A step that never reached afterStep's end (its hook failed) gets nothing, as before.
    if (end === undefined) return;
    const job = processFilmstrip(frames, {
      originMs: end.originMs,
      analysisWidth,
      duplicateTolerance: options.duplicateTolerance,
      // Without a sink nothing is stored; with masks unknown (the tab closed or could not run script) nothing may be.
      thumbnails:
        ctx.artifacts === undefined || !segment.masksKnown
          ? undefined
          : { width: ctx.script.settings?.filmstripWidth ?? defaultFilmstripWidth, maxFrames, maxBytes, masks: segment.masks, maskColor },
      checkTime: () => {
        workDeadline?.throwIfEnded();
      },
      betweenSteps: () => between.wait(),
    });
    // Awaited (and its error reported) in finish; never an unhandled rejection meanwhile.
    job.catch(() => undefined);
    jobs.set(segment.stepIndex, job);
  }

  async function stop(ctx: CollectorContext, cast: Screencast): Promise<void> {
    await cast.session.send('Page.stopScreencast').catch(() => undefined);
    if (active === cast) active = undefined;
    if (cast.ownSession) await cast.session.detach().catch(() => undefined);
    for (const segment of [...cast.open]) seal(ctx, cast, segment);
  }

  /** Waits until no frame has arrived for `quietMs` (at most `maxMs`, never past the script's end). */
  async function settle(ctx: CollectorContext, cast: Screencast, quietMs: number, maxMs: number): Promise<void> {
    const wallMs = () => ctx.clock.wallNow().getTime();
    const enteredMs = wallMs();
    const untilMs = enteredMs + Math.max(0, Math.min(maxMs, ctx.remainingMs() - 1000));
    for (;;) {
      const quietAtMs = Math.max(cast.lastArrivalMs, enteredMs) + quietMs;
      const nowMs = wallMs();
      if (nowMs >= quietAtMs || nowMs >= untilMs) return;
      await sleep(Math.min(quietAtMs, untilMs) - nowMs);
    }
  }

  function captureWidth(ctx: CollectorContext): number {
    const thumbnailWidth = ctx.script.settings?.filmstripWidth ?? defaultFilmstripWidth;
    return Math.min(1280, Math.max(analysisWidth, thumbnailWidth));
  }

  async function startScreencast(ctx: CollectorContext, stepIndex: number, page: Page): Promise<void> {
    const ownSession = page !== ctx.page;
    const session = ownSession ? await ctx.context.newCDPSession(page) : await ctx.cdp();
    const start = await pageState(page, ctx.script.settings?.maskSelectors ?? []);
    let onFirstFrame = () => {};
    const firstFrame = new Promise<void>((resolve) => (onFirstFrame = resolve));
    // Until capture is ready every frame goes to this step (the first one is its baseline).
    const segment = newSegment(stepIndex, start, Number.NEGATIVE_INFINITY);
    const cast: Screencast = {
      session,
      ownSession,
      page,
      open: [segment],
      carried: undefined,
      between: undefined,
      lastBytes: undefined,
      lastArrivalMs: 0,
      newestAtMs: 0,
      endState: undefined,
      onFrame: () => onFirstFrame(),
    };
    listen(session, ctx.clock);
    active = cast;
    const width = captureWidth(ctx);
    await session.send('Page.startScreencast', {
      format,
      ...(format === 'jpeg' ? { quality } : {}),
      maxWidth: width,
      maxHeight: width * 3,
      everyNthFrame: 1,
    });
    // Chromium sends the current picture right away; it is the baseline of steps that do not navigate.
    await ctx.deadline().within(firstFrameWaitMs, () => new Error('no first frame'), firstFrame).catch(() => undefined);
    cast.onFrame = () => {};
    segment.readyAtMs = ctx.clock.wallNow().getTime();
  }

  return {
    name: 'filmstrip',
    hookTimeoutMs,
    async beforeStep(ctx, info) {
      const cast = active;
      if (!info.capture.filmstrip) {
        // No frame may be captured during a step that may not record.
        if (cast !== undefined) await stop(ctx, cast);
        between.stepStarts();
        return;
      }
      const page = ctx.currentPage();
      if (cast !== undefined && cast.page === page && !page.isClosed()) {
        // Same tab: the screencast keeps running; this step's frames are those presented from now on. Its
        // start state is the page as the previous step left it (read in that step's afterStep).
        const start = cast.endState ?? (await pageState(page, ctx.script.settings?.maskSelectors ?? []));
        cast.endState = undefined;
        const nowMs = ctx.clock.wallNow().getTime();
        // A step whose afterStep never ran takes no frame of this one.
        for (const segment of cast.open) segment.endMs ??= nowMs;
        cast.open.push(newSegment(info.index, start, nowMs, cast.between));
        cast.between = undefined;
        between.stepStarts();
        return;
      }
      if (cast !== undefined) await stop(ctx, cast);
      await startScreencast(ctx, info.index, page);
      between.stepStarts();
    },

    async afterStep(ctx, info, result) {
      between.stepEnded();
      const cast = active;
      const segment = cast?.open.find((s) => s.stepIndex === info.index);
      if (cast === undefined || segment === undefined || !info.capture.filmstrip) return undefined;
      // Earlier steps' frames were presented before this step started and have arrived by now.
      for (const earlier of cast.open.filter((s) => s.stepIndex < info.index)) seal(ctx, cast, earlier);
      const interaction = endedWithInteraction(result);
      if (interaction) await settle(ctx, cast, settleQuietMs, settleMaxMs);
      // What the step checked is in the DOM: once the page has run an animation frame and committed it (read
      // with the end state, one round trip), the step's last paint is presented; frames from then on belong to
      // no step (the next collectors may paint: a screenshot's mask overlay).
      const after = await pageState(cast.page, ctx.script.settings?.maskSelectors ?? [], true);
      segment.endMs = ctx.clock.wallNow().getTime();
      const navigated = after !== undefined && after.origin !== segment.originBefore;
      const stepStartMs = result.startedAt === undefined ? Number.NaN : Date.parse(result.startedAt);
      const stepStartSane = Number.isFinite(stepStartMs) && stepStartMs >= segment.readyAtMs - 5 && stepStartMs <= ctx.clock.wallNow().getTime();
      const originMs = navigated ? after.navigationStart : stepStartSane ? stepStartMs : segment.readyAtMs;
      segment.masks.push(...(after?.masks ?? []));
      if (after === undefined) segment.masksKnown = false;
      segment.end = { originMs, interaction };
      cast.endState = after;
      // visualMetrics and filmstrip arrive from finish, once the frames are processed off the critical path.
      return undefined;
    },

    async finish(ctx) {
      between.stepEnded();
      const deadline = deadlineOf(ctx);
      workDeadline = deadline;
      try {
        const cast = active;
        if (cast !== undefined) {
          // The last step's frames are presented; some may still be on their way through CDP.
          const endMs = Math.max(...cast.open.map((segment) => segment.endMs ?? Number.POSITIVE_INFINITY));
          const quiet = deadline.narrow(finalQuietMs, () => new Error('the last frames did not arrive'));
          await quiet.poll(() => cast.newestAtMs >= endMs, 5).catch(() => false);
          quiet.dispose();
          await stop(ctx, cast);
        }
        const late = new Map<number, Partial<StepResult> | Error>();
        const pending = [...jobs].sort((a, b) => a[0] - b[0]);
        jobs.clear();
        for (const [stepIndex, job] of pending) {
          let processed: ProcessedFilmstrip | undefined;
          try {
            processed = await deadline.race(job);
          } catch (error) {
            late.set(stepIndex, error instanceof Error ? error : new Error(String(error)));
            continue;
          }
          if (processed === undefined) continue;
          const fields: Partial<StepResult> = processed.visualMetrics === undefined ? {} : { visualMetrics: processed.visualMetrics };
          const sink = ctx.artifacts;
          if (sink !== undefined && processed.thumbnails !== undefined) {
            const filmstrip: NonNullable<StepResult['filmstrip']> = [];
            const names = new Set<string>();
            for (const thumbnail of processed.thumbnails) {
              let name = `${stepLabel(stepIndex)}-${String(thumbnail.timeMs).padStart(4, '0')}ms`;
              while (names.has(name)) name += '-b';
              names.add(name);
              const artifact = await sink.write({ kind: 'filmstrip-frame', name: `${name}.webp`, bytes: thumbnail.webp, contentType: 'image/webp', step: stepIndex });
              ctx.addArtifact(artifact);
              filmstrip.push({ timeMs: thumbnail.timeMs, path: artifact.path, visualProgress: thumbnail.visualProgress });
            }
            fields.filmstrip = filmstrip;
          }
          late.set(stepIndex, fields);
        }
        return late;
      } finally {
        deadline.dispose();
      }
    },
  };
}
