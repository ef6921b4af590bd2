import type { BrowserContext, Request } from 'playwright-core';

/**
 * Knows how many requests of a context are in flight and when the network last moved, for
 * `waitForNetworkIdle` (Playwright's own `networkidle` only applies right after a navigation, not after a
 * click that fetches). Event bookkeeping only: no browser round trips. Per-step counts, bytes and the
 * waterfall come from the CDP network collector.
 */
export class NetworkTracker {
  #inFlight = new Set<Request>();
  #lastActivityMs = performance.now();

  constructor(context: BrowserContext) {
    const settle = (request: Request) => {
      this.#inFlight.delete(request);
      this.#lastActivityMs = performance.now();
    };
    context.on('request', (request) => {
      this.#inFlight.add(request);
      this.#lastActivityMs = performance.now();
    });
    context.on('requestfinished', settle);
    context.on('requestfailed', settle);
  }

  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** Milliseconds since the last request started or ended (0 while any is in flight). */
  quietForMs(): number {
    return this.#inFlight.size > 0 ? 0 : performance.now() - this.#lastActivityMs;
  }
}
