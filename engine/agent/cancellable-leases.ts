import type { BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import type { Lease, LeaseProvider } from '../browser/lease.ts';
import type { Collector } from '../collectors/collector.ts';

/**
 * Per-run cancellation on top of the Scheduler, whose jobs carry only the scheduler's drain signal: every
 * lease gets its own abort controller folded into `crashSignal` (which the runner already obeys), and a tiny
 * collector tells the agent which controller belongs to which run once the run has its context.
 */
export class CancellableLeases implements LeaseProvider {
  readonly #inner: LeaseProvider;
  readonly #controllers = new WeakMap<BrowserContext, AbortController>();
  readonly #onLease: ((lease: Lease) => void) | undefined;

  constructor(inner: LeaseProvider, onLease?: (lease: Lease) => void) {
    this.#inner = inner;
    this.#onLease = onLease;
  }

  async lease(options: BrowserContextOptions): Promise<Lease> {
    const inner = await this.#inner.lease(options);
    const controller = new AbortController();
    this.#controllers.set(inner.context, controller);
    this.#onLease?.(inner);
    const release = () => inner.release();
    return {
      context: inner.context,
      page: inner.page,
      browserVersion: inner.browserVersion,
      browser: inner.browser,
      crashSignal: AbortSignal.any([inner.crashSignal, controller.signal]),
      leaseWaitMs: inner.leaseWaitMs,
      release,
      [Symbol.asyncDispose]: release,
    };
  }

  /** A collector that hands the run's abort controller (and first page) to `bind` once the run has its context. */
  binder(bind: (controller: AbortController, page: Page) => void): Collector {
    const controllers = this.#controllers;
    return {
      name: 'cancellation',
      start(ctx) {
        const controller = controllers.get(ctx.context);
        if (controller !== undefined) bind(controller, ctx.page);
        return Promise.resolve();
      },
    };
  }
}
