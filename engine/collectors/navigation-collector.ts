import type { Page } from 'playwright-core';
import type { Deadline } from '../core/deadline.ts';
import { navigationTimingFrom, type RawNavigationEntry } from '../core/navigation-timing.ts';
import type { Collector } from './collector.ts';

/** How long a step end waits (outside its timing) for a navigation it caused to finish loading. */
const loadSettleMs = 10_000;
/** How long one read of the page's performance entries may take. */
const readTimeoutMs = 2_000;

interface DocumentState {
  timeOrigin: number;
  entry: RawNavigationEntry | undefined;
}

/** One round trip: the document's identity (timeOrigin) and its navigation entry; undefined when it fails. */
async function readDocument(page: Page, deadline: Deadline): Promise<DocumentState | undefined> {
  // A page stuck in a loop never answers: give up after a short while rather than hold the run.
  try {
    return await deadline.within(
      readTimeoutMs,
      () => new Error(`the navigation timing read did not answer within ${readTimeoutMs} ms`),
      page.evaluate(() => {
        const entry = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
        return {
          timeOrigin: performance.timeOrigin,
          entry: entry === undefined ? undefined : (JSON.parse(JSON.stringify(entry.toJSON())) as RawNavigationEntry),
        };
      }),
    );
  } catch {
    return undefined;
  }
}

/**
 * The main-frame document navigation a step caused, from the browser's Navigation Timing. A new document is
 * recognised by a changed `performance.timeOrigin` (or a different tab) compared with the end of the previous
 * step, so a step costs a single round trip to the page when nothing navigated.
 */
export function navigationCollector(): Collector {
  let lastPage: Page | undefined;
  let lastOrigin: number | undefined;
  return {
    name: 'navigation',
    async afterStep(ctx) {
      const page = ctx.currentPage();
      let state = await readDocument(page, ctx.deadline());
      const url = page.url();
      const isNew = page !== lastPage || state === undefined || state.timeOrigin !== lastOrigin;
      lastPage = page;
      lastOrigin = state?.timeOrigin;
      if (!isNew || state?.entry === undefined || !state.entry.name.startsWith('http')) return { url };
      if (state.entry.loadEventEnd === 0) {
        // The step ended before the load event (e.g. its last action clicked a link): wait, outside the timing.
        await page.waitForLoadState('load', { timeout: Math.max(1, Math.min(loadSettleMs, ctx.remainingMs())) }).catch(() => undefined);
        state = (await readDocument(page, ctx.deadline())) ?? state;
        lastOrigin = state.timeOrigin;
      }
      return state.entry === undefined ? { url } : { url, navigation: navigationTimingFrom(state.entry) };
    },
  };
}
