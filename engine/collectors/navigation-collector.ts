import type { Page } from 'playwright-core';
import { navigationTimingFrom, type RawNavigationEntry } from '../core/navigation-timing.ts';
import type { Collector } from './collector.ts';

/** How long a step end waits (outside its timing) for a navigation it caused to finish loading. */
const loadSettleMs = 10_000;

async function documentOrigin(page: Page): Promise<number | undefined> {
  return page.evaluate(() => performance.timeOrigin).catch(() => undefined);
}

async function readNavigationEntry(page: Page): Promise<RawNavigationEntry | undefined> {
  return page
    .evaluate(() => {
      const entry = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
      return entry === undefined ? undefined : (JSON.parse(JSON.stringify(entry.toJSON())) as RawNavigationEntry);
    })
    .catch(() => undefined);
}

/**
 * The main-frame document navigation a step caused, from the browser's Navigation Timing. A new document is
 * recognised by a changed `performance.timeOrigin` (or a different tab at the end of the step).
 */
export function navigationCollector(): Collector {
  let startPage: Page | undefined;
  let originBefore: number | undefined;
  return {
    name: 'navigation',
    async beforeStep(ctx) {
      startPage = ctx.currentPage();
      originBefore = await documentOrigin(startPage);
    },
    async afterStep(ctx) {
      const endPage = ctx.currentPage();
      const originAfter = await documentOrigin(endPage);
      const url = endPage.url();
      if (endPage === startPage && (originAfter === undefined || originAfter === originBefore)) return { url };
      await endPage.waitForLoadState('load', { timeout: Math.max(1, Math.min(loadSettleMs, ctx.remainingMs())) }).catch(() => undefined);
      const entry = await readNavigationEntry(endPage);
      if (entry === undefined || !entry.name.startsWith('http')) return { url };
      return { url, navigation: navigationTimingFrom(entry) };
    },
  };
}
