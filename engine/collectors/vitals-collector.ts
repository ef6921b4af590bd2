import { randomUUID } from 'node:crypto';
import type { Page } from 'playwright-core';
import { stepVitals } from '../core/web-vitals.ts';
import type { StepResult } from '../schema/result.ts';
import { installVitalsObserver, type RawVitalsSnapshot, type VitalsObserverConfig, type VitalsReader } from '../in-page/vitals-observer.ts';
import type { Collector } from './collector.ts';

export interface VitalsCollectorOptions {
  /**
   * Longest the end-of-step read waits (outside the step's timing) for the first paint of a new document and
   * for a soft navigation to settle, ms. Default 3000.
   */
  readWaitMs?: number;
  /** DOM quiet time that ends a soft navigation, ms. Default 100. */
  settleQuietMs?: number;
  /** Longest a soft navigation is followed, ms. Default 5000. */
  settleCapMs?: number;
}

/** Extra time the evaluate round trip gets on top of the in-page wait. */
const roundTripMs = 1500;
/** The reset before a step is a synchronous call; a page that does not answer in time is not waited for. */
const resetDeadlineMs = 1000;


/**
 * Web Vitals (FCP, LCP, CLS, TBT, INP) and soft navigations per step, from PerformanceObservers installed in
 * every top-level document before the first navigation (`engine/in-page/vitals-observer.ts`).
 *
 * Window of a step: from the reset in `beforeStep` (or the start of a document first seen during the step)
 * to the read in `afterStep`. Observations of documents that unloaded during the step are lost with them: the
 * figures describe the document on screen at the end of the step. See `docs/measurements.md`.
 */
export function vitalsCollector(options: VitalsCollectorOptions = {}): Collector {
  const readWaitMs = options.readWaitMs ?? 3000;
  const config: VitalsObserverConfig = {
    key: `__checkpointVitals_${randomUUID().replace(/-/g, '')}`,
    settleQuietMs: options.settleQuietMs ?? 100,
    settleCapMs: options.settleCapMs ?? 5000,
    maxEntries: 1000,
  };
  const callReset = (page: Page): Promise<number | undefined> =>
    page.evaluate((key) => (window as unknown as Record<string, VitalsReader | undefined>)[key]?.reset(), config.key);
  const callRead = (page: Page, waitMs: number): Promise<RawVitalsSnapshot | undefined> =>
    page.evaluate(
      ([key, wait]) => (window as unknown as Record<string, VitalsReader | undefined>)[key]?.read(wait),
      [config.key, waitMs] as const,
    );

  return {
    name: 'vitals',
    hookTimeoutMs: readWaitMs + roundTripMs + 500,
    async start(ctx) {
      await ctx.context.addInitScript(installVitalsObserver, config);
    },
    async beforeStep(ctx) {
      const page = ctx.currentPage();
      if (page.isClosed()) return;
      // Between steps the page may still run late work (beacons, timers): it is not charged to the next step.
      await ctx.deadline().within(resetDeadlineMs, () => new Error(`the vitals reset did not answer within ${resetDeadlineMs} ms (page busy?)`), callReset(page)).catch(() => undefined);
    },
    async afterStep(ctx): Promise<Partial<StepResult> | undefined> {
      const page = ctx.currentPage();
      if (page.isClosed()) return undefined;
      const waitMs = Math.max(0, Math.min(readWaitMs, ctx.remainingMs() - roundTripMs));
      let raw: RawVitalsSnapshot | undefined;
      try {
        raw = await ctx.deadline().within(waitMs + roundTripMs, () => new Error(`the vitals read did not answer within ${waitMs + roundTripMs} ms (page busy?)`), callRead(page, waitMs));
      } catch (error) {
        if (page.isClosed()) return undefined;
        throw error;
      }
      // A document without the observer (about:blank, a page opened before the run): nothing to say.
      if (raw === undefined) return undefined;
      return stepVitals(raw);
    },
  };
}
