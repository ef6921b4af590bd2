/**
 * Web Vitals of one step from raw in-page observations (pure; the observer is `engine/in-page/vitals-observer.ts`).
 *
 * Synthetic-measurement caveats, which every figure here inherits:
 * - There are no real users. A figure describes one scripted visit, on the checkpoint's hardware and network,
 *   in one tab that never goes to the background. It is a lab value, not a field (CrUX / RUM) value, and a
 *   single sample: compare trends, not single runs, with field thresholds.
 * - Playwright's input (click, press) is dispatched through CDP and is *trusted*: the first click or key press
 *   ends LCP for that document (the browser stops emitting candidates) and marks the next 500 ms of layout
 *   shifts as `hadRecentInput`, which CLS excludes.
 * - Figures are per step, not per page view: CLS, TBT and INP cover the step's window only (see
 *   {@link StepVitalsInput}); FCP and LCP belong to the step that first reads a document.
 * - All times come from the browser's own clock (`performance.now()` of the document), never from Node.
 */
import type { StepResult } from '../schema/result.ts';

export type StepVitals = NonNullable<StepResult['vitals']>;
export type SoftNavigation = NonNullable<StepResult['softNavigations']>[number];

/** CLS session windows (Layout Instability / web-vitals): a new window starts after a gap of 1 s, or 5 s after its first shift. */
export const clsSessionGapMs = 1000;
export const clsSessionMaxMs = 5000;
/** A task blocks the main thread for the part of it beyond this (Long Tasks API, Lighthouse TBT). */
export const blockingThresholdMs = 50;

export interface ShiftInput {
  startTime: number;
  value: number;
  hadRecentInput: boolean;
}

export interface TaskInput {
  startTime: number;
  duration: number;
}

export interface InteractionInput {
  interactionId: number;
  startTime: number;
  duration: number;
}

export interface SoftNavigationInput {
  url: string;
  startTime: number;
  endTime: number;
  settled: boolean;
}

/**
 * One window of observations of one document, in that document's time (ms since its `timeOrigin`).
 * The window runs from `windowStart` (the document's start, or the reset just before the step) to
 * `windowEnd` (the read at the end of the step).
 */
export interface StepVitalsInput {
  activationStart: number;
  windowStart: number;
  windowEnd: number;
  /** First read of this document: FCP and LCP are reported, and TBT starts at FCP. */
  firstRead: boolean;
  fcp?: number | undefined;
  lcpCandidates: readonly number[];
  firstHidden?: number | undefined;
  layoutShifts: readonly ShiftInput[];
  longTasks: readonly TaskInput[];
  interactions: readonly InteractionInput[];
  interactionCount?: number | undefined;
  softNavigations: readonly SoftNavigationInput[];
  /** Entry types the observer could subscribe to; a figure whose type is missing is left out. */
  observed: readonly string[];
}

const roundMs = (ms: number): number => Math.round(Math.max(0, ms) * 100) / 100;
const roundScore = (score: number): number => Math.round(Math.max(0, score) * 10_000) / 10_000;

export interface SessionWindow {
  startTime: number;
  endTime: number;
  value: number;
  shifts: number;
}

/**
 * Group layout shifts into session windows: a shift joins the current window when it comes less than `gapMs`
 * after the previous shift and less than `maxMs` after the window's first shift (web-vitals' `onCLS` rule);
 * otherwise it opens a new window. Shifts with
 * `hadRecentInput` (within 500 ms of input) are excluded, as the Layout Instability spec and web-vitals do.
 */
export function sessionWindows(shifts: readonly ShiftInput[], gapMs = clsSessionGapMs, maxMs = clsSessionMaxMs): SessionWindow[] {
  const windows: SessionWindow[] = [];
  let current: SessionWindow | undefined;
  const ordered = shifts.filter((shift) => !shift.hadRecentInput && shift.value > 0).sort((a, b) => a.startTime - b.startTime);
  for (const shift of ordered) {
    if (current !== undefined && shift.startTime - current.endTime < gapMs && shift.startTime - current.startTime < maxMs) {
      current.endTime = shift.startTime;
      current.value += shift.value;
      current.shifts++;
    } else {
      current = { startTime: shift.startTime, endTime: shift.startTime, value: shift.value, shifts: 1 };
      windows.push(current);
    }
  }
  return windows;
}

/**
 * Cumulative Layout Shift: the largest session window (gap 1 s, max 5 s), 0 when nothing shifted.
 * Caveat: only shifts during the step's window count, and scripted input hides the 500 ms after it.
 */
export function cumulativeLayoutShift(shifts: readonly ShiftInput[]): number {
  return roundScore(sessionWindows(shifts).reduce((worst, window) => Math.max(worst, window.value), 0));
}

/**
 * Total Blocking Time over `[from, to]`: for each long task, the part beyond its first 50 ms that lies inside
 * the window (a task wholly inside counts `duration − 50`). This approximates Lighthouse's trace-based TBT
 * from the Long Tasks API: long tasks only (no sub-50 ms tasks, which block nothing), the browser's
 * 200-entry buffer before the observer started, and main-frame attribution as the browser reports it.
 */
export function totalBlockingTime(tasks: readonly TaskInput[], from: number, to: number): number {
  if (!(to > from)) return 0;
  let sum = 0;
  for (const task of tasks) {
    if (task.duration <= blockingThresholdMs) continue;
    const blockingStart = Math.max(task.startTime + blockingThresholdMs, from);
    const blockingEnd = Math.min(task.startTime + task.duration, to);
    if (blockingEnd > blockingStart) sum += blockingEnd - blockingStart;
  }
  return roundMs(sum);
}

/**
 * Interaction to Next Paint of a set of interactions: each interaction's latency is its longest event
 * entry; with fewer than 50 interactions INP is the worst one, otherwise the p98 approximation of
 * web-vitals and Lighthouse (index `min(9, floor(n / 50))` of the latencies sorted descending).
 * `interactionCount` > 0 with no entry means every interaction was under the 16 ms reporting threshold:
 * INP is then 0. Undefined when there was no interaction at all.
 */
export function interactionToNextPaint(interactions: readonly InteractionInput[], interactionCount?: number): number | undefined {
  const latency = new Map<number, number>();
  for (const entry of interactions) {
    if (entry.interactionId <= 0) continue;
    latency.set(entry.interactionId, Math.max(latency.get(entry.interactionId) ?? 0, entry.duration));
  }
  const sorted = [...latency.values()].sort((a, b) => b - a);
  if (sorted.length === 0) return (interactionCount ?? 0) > 0 ? 0 : undefined;
  const count = Math.max(sorted.length, interactionCount ?? 0);
  return roundMs(sorted[Math.min(9, Math.floor(count / 50), sorted.length - 1)] ?? 0);
}

/**
 * The step's vitals and soft navigations from one window of raw observations.
 *
 * - `fcpMs`, `lcpMs`: only in the first read of a document (the step that loaded it, or first looked at it),
 *   from navigation start (`activationStart` for prerendered pages); LCP is the last candidate before the
 *   first input or the page being hidden, as known when the step ended. Absent for documents that were hidden
 *   before they painted.
 * - `cls`: largest session window of the shifts that started in the window; 0 when none.
 * - `tbtMs`: {@link totalBlockingTime} from the window start — or from FCP on the first read of a document,
 *   like Lighthouse's navigation TBT (which then runs to TTI; ours runs to the end of the step) — until the
 *   end of the step's read.
 * - `inpMs`: {@link interactionToNextPaint} of the interactions that started in the window.
 * - `softNavigations`: route changes that started in the window; `durationMs` runs from the URL change to the
 *   last DOM change before the DOM went quiet. When the DOM was still changing at the cap or at the read,
 *   it is the time followed so far (a lower bound).
 */
export function stepVitals(input: StepVitalsInput): { vitals?: StepVitals; softNavigations?: SoftNavigation[] } {
  const vitals: StepVitals = {};
  const inWindow = (time: number): boolean => time >= input.windowStart && time <= input.windowEnd;
  const visibleUntil = input.firstHidden ?? Number.POSITIVE_INFINITY;
  const fromStart = (time: number): number => roundMs(time - input.activationStart);

  if (input.firstRead && input.fcp !== undefined && input.fcp < visibleUntil) vitals.fcpMs = fromStart(input.fcp);
  if (input.firstRead) {
    const candidates = input.lcpCandidates.filter((time) => time < visibleUntil);
    const lcp = candidates[candidates.length - 1];
    if (lcp !== undefined) vitals.lcpMs = fromStart(lcp);
  }
  if (input.observed.includes('layout-shift')) {
    vitals.cls = cumulativeLayoutShift(input.layoutShifts.filter((shift) => inWindow(shift.startTime)));
  }
  if (input.observed.includes('longtask')) {
    const from = input.firstRead && input.fcp !== undefined ? Math.max(input.windowStart, input.fcp) : input.windowStart;
    vitals.tbtMs = totalBlockingTime(input.longTasks, from, input.windowEnd);
  }
  if (input.observed.includes('event')) {
    const inp = interactionToNextPaint(
      input.interactions.filter((entry) => inWindow(entry.startTime)),
      input.interactionCount,
    );
    if (inp !== undefined) vitals.inpMs = inp;
  }

  const softNavigations = input.softNavigations
    .filter((navigation) => inWindow(navigation.startTime))
    .map((navigation) => ({ url: navigation.url, durationMs: roundMs(navigation.endTime - navigation.startTime) }));

  return {
    ...(Object.keys(vitals).length === 0 ? {} : { vitals }),
    ...(softNavigations.length === 0 ? {} : { softNavigations }),
  };
}
