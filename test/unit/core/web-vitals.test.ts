/**
 * Web Vitals arithmetic on fixtures shaped like the in-page observer's snapshots (times in ms on the
 * document's clock).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  cumulativeLayoutShift,
  interactionToNextPaint,
  sessionWindows,
  stepVitals,
  totalBlockingTime,
  type StepVitalsInput,
} from '../../../engine/core/web-vitals.ts';

const allTypes = ['paint', 'largest-contentful-paint', 'layout-shift', 'longtask', 'event', 'first-input'];

/** A first read of a freshly loaded document: window from its start to the end of the step. */
function window(overrides: Partial<StepVitalsInput> = {}): StepVitalsInput {
  return {
    activationStart: 0,
    windowStart: 0,
    windowEnd: 10_000,
    firstRead: true,
    fcp: 400,
    lcpCandidates: [400, 900],
    layoutShifts: [],
    longTasks: [],
    interactions: [],
    softNavigations: [],
    observed: allTypes,
    ...overrides,
  };
}

const shift = (startTime: number, value: number, hadRecentInput = false) => ({ startTime, value, hadRecentInput });

describe('CLS session windows', () => {
  it('groups shifts less than 1 s apart into one window and reports the largest window', () => {
    const shifts = [shift(1000, 0.05), shift(1800, 0.05), shift(2600, 0.05), shift(5000, 0.12)];
    const windows = sessionWindows(shifts);
    assert.deepEqual(
      windows.map((w) => [w.startTime, w.endTime, Math.round(w.value * 1000) / 1000, w.shifts]),
      [
        [1000, 2600, 0.15, 3],
        [5000, 5000, 0.12, 1],
      ],
    );
    assert.equal(cumulativeLayoutShift(shifts), 0.15);
  });

  it('starts a new window after a gap of 1 s or more', () => {
    assert.equal(sessionWindows([shift(0, 0.1), shift(1000, 0.1)]).length, 2);
    assert.equal(sessionWindows([shift(0, 0.1), shift(999, 0.1)]).length, 1);
  });

  it('caps a window at 5 s even when shifts keep coming less than 1 s apart', () => {
    const steady = Array.from({ length: 13 }, (_, index) => shift(index * 500, 0.01));
    const windows = sessionWindows(steady);
    assert.deepEqual(
      windows.map((w) => w.shifts),
      [10, 3],
      'shifts at 0…4500 ms form the first window, 5000…6000 the second',
    );
    assert.equal(cumulativeLayoutShift(steady), 0.1);
  });

  it('ignores shifts within 500 ms of input (hadRecentInput), whatever their size', () => {
    assert.equal(cumulativeLayoutShift([shift(100, 0.8, true), shift(300, 0.02)]), 0.02);
    assert.equal(cumulativeLayoutShift([shift(100, 0.8, true)]), 0);
  });

  it('sorts shifts that arrive out of order before grouping them', () => {
    assert.equal(cumulativeLayoutShift([shift(2500, 0.1), shift(1000, 0.1), shift(1800, 0.1)]), 0.3);
  });
});

describe('TBT from long tasks', () => {
  it('sums the part of each long task beyond 50 ms', () => {
    const tasks = [
      { startTime: 1000, duration: 300 },
      { startTime: 2000, duration: 120 },
      { startTime: 3000, duration: 50 },
    ];
    assert.equal(totalBlockingTime(tasks, 0, 10_000), 250 + 70);
  });

  it('counts only the blocking part inside the window (a task straddling its start or end is clipped)', () => {
    // Blocking part of the task is 1050–1300; the window starts at 1200.
    assert.equal(totalBlockingTime([{ startTime: 1000, duration: 300 }], 1200, 5000), 100);
    // Its blocking part ends after the window ends at 1100.
    assert.equal(totalBlockingTime([{ startTime: 1000, duration: 300 }], 0, 1100), 50);
    // The window starts during the task's first 50 ms: all of its blocking part is inside.
    assert.equal(totalBlockingTime([{ startTime: 1000, duration: 300 }], 1020, 5000), 250);
    assert.equal(totalBlockingTime([{ startTime: 1000, duration: 300 }], 5000, 5000), 0);
  });

  it('starts at FCP on the first read of a document, like Lighthouse`s navigation TBT', () => {
    const tasks = [
      { startTime: 100, duration: 200 },
      { startTime: 800, duration: 350 },
    ];
    assert.equal(stepVitals(window({ fcp: 400, longTasks: tasks })).vitals?.tbtMs, 300, 'the parse-time task before FCP is not counted');
    assert.equal(stepVitals(window({ firstRead: false, windowStart: 0, longTasks: tasks })).vitals?.tbtMs, 150 + 300, 'a later step of the same document counts its whole window');
  });
});

describe('INP of the step`s interactions', () => {
  const interaction = (interactionId: number, duration: number, startTime = 1000) => ({ interactionId, startTime, duration });

  it('takes the longest entry of each interaction and reports the worst interaction when there are fewer than 50', () => {
    const entries = [interaction(7, 24), interaction(7, 208), interaction(14, 96), interaction(21, 40)];
    assert.equal(interactionToNextPaint(entries), 208);
  });

  it('approximates p98 with many interactions: the (n/50)th longest, at most the 10th', () => {
    const many = Array.from({ length: 120 }, (_, index) => interaction(index + 1, 16 + index));
    // Sorted descending: 135, 134, 133 … ; floor(120 / 50) = 2 → the third longest.
    assert.equal(interactionToNextPaint(many), 133);
    const lots = Array.from({ length: 1000 }, (_, index) => interaction(index + 1, 16 + index));
    assert.equal(interactionToNextPaint(lots), 1015 - 9, 'index capped at 9');
  });

  it('uses the browser`s interaction count for the index, since fast interactions have no entry', () => {
    const few = Array.from({ length: 12 }, (_, index) => interaction(index + 1, 300 - index));
    assert.equal(interactionToNextPaint(few, 12), 300);
    assert.equal(interactionToNextPaint(few, 150), 297, '150 interactions → the fourth longest');
  });

  it('is 0 when interactions happened but all were under the 16 ms reporting threshold, and absent without any', () => {
    assert.equal(interactionToNextPaint([], 3), 0);
    assert.equal(interactionToNextPaint([]), undefined);
    assert.equal(interactionToNextPaint([], 0), undefined);
  });

  it('ignores event entries that are not part of an interaction', () => {
    assert.equal(interactionToNextPaint([interaction(0, 500), interaction(3, 32)]), 32);
  });
});

describe('stepVitals', () => {
  it('reports FCP and LCP from navigation start on the first read of a document', () => {
    const { vitals } = stepVitals(window({ fcp: 412.3, lcpCandidates: [412.3, 988.04] }));
    assert.equal(vitals?.fcpMs, 412.3);
    assert.equal(vitals?.lcpMs, 988.04);
  });

  it('measures a prerendered page from its activation', () => {
    const { vitals } = stepVitals(window({ activationStart: 300, fcp: 100, lcpCandidates: [500] }));
    assert.equal(vitals?.fcpMs, 0, 'painted before activation: 0 after it');
    assert.equal(vitals?.lcpMs, 200);
  });

  it('leaves FCP and LCP out for a document an earlier step already reported, and keeps CLS and TBT', () => {
    const { vitals } = stepVitals(window({ firstRead: false, fcp: undefined, lcpCandidates: [], windowStart: 5000 }));
    assert.deepEqual(vitals, { cls: 0, tbtMs: 0 });
  });

  it('ignores paints after the page was first hidden (a background tab)', () => {
    const { vitals } = stepVitals(window({ fcp: 400, lcpCandidates: [400, 2000], firstHidden: 1000 }));
    assert.equal(vitals?.fcpMs, 400);
    assert.equal(vitals?.lcpMs, 400);
    assert.equal(stepVitals(window({ fcp: 400, firstHidden: 0, lcpCandidates: [400] })).vitals?.fcpMs, undefined);
  });

  it('counts only layout shifts and interactions that started inside the step`s window', () => {
    const { vitals } = stepVitals(
      window({
        firstRead: false,
        windowStart: 3000,
        windowEnd: 6000,
        layoutShifts: [shift(2900, 0.5), shift(3100, 0.04), shift(6100, 0.3)],
        interactions: [
          { interactionId: 1, startTime: 2500, duration: 400 },
          { interactionId: 2, startTime: 3500, duration: 56 },
        ],
      }),
    );
    assert.equal(vitals?.cls, 0.04);
    assert.equal(vitals?.inpMs, 56);
  });

  it('leaves out a figure whose entry type the browser does not support', () => {
    const { vitals } = stepVitals(window({ observed: ['paint', 'largest-contentful-paint'] }));
    assert.deepEqual(vitals, { fcpMs: 400, lcpMs: 900 });
  });

  it('turns soft navigations into URL and time from the URL change until the DOM settled', () => {
    const result = stepVitals(
      window({
        firstRead: false,
        windowStart: 1000,
        softNavigations: [
          { url: 'http://intranet/app/weekly', startTime: 1200, endTime: 1534.567, settled: true },
          { url: 'http://intranet/app/ticker', startTime: 2000, endTime: 7000, settled: false },
          { url: 'http://intranet/app/old', startTime: 900, endTime: 950, settled: true },
        ],
      }),
    );
    assert.deepEqual(result.softNavigations, [
      { url: 'http://intranet/app/weekly', durationMs: 334.57 },
      { url: 'http://intranet/app/ticker', durationMs: 5000 },
    ]);
  });

  it('omits empty fields: no vitals object and no softNavigations when nothing was observed', () => {
    assert.deepEqual(stepVitals(window({ firstRead: false, observed: [] })), {});
  });
});
