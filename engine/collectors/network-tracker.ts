import type { BrowserContext, Request } from 'playwright-core';

export interface RequestCounts {
  count: number;
  bytes: number;
  failed: number;
}

/**
 * Counts requests of a context per step and knows how many are in flight, for `waitForNetworkIdle`.
 * Playwright's own `networkidle` only applies right after a navigation, not after a click that fetches.
 */
export class NetworkTracker {
  #inFlight = new Set<Request>();
  #lastActivityMs = performance.now();
  #counts: RequestCounts = { count: 0, bytes: 0, failed: 0 };
  #pendingSizes: Promise<void>[] = [];

  constructor(context: BrowserContext) {
    context.on('request', (request) => {
      this.#inFlight.add(request);
      this.#counts.count++;
      this.#lastActivityMs = performance.now();
    });
    context.on('requestfinished', (request) => {
      this.#inFlight.delete(request);
      this.#lastActivityMs = performance.now();
      this.#pendingSizes.push(
        request
          .sizes()
          .then((sizes) => {
            this.#counts.bytes += sizes.responseBodySize + sizes.responseHeadersSize;
          })
          .catch(() => undefined),
      );
    });
    context.on('requestfailed', (request) => {
      this.#inFlight.delete(request);
      this.#counts.failed++;
      this.#lastActivityMs = performance.now();
    });
  }

  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** Milliseconds since the last request started or ended. */
  quietForMs(): number {
    return this.#inFlight.size > 0 ? 0 : performance.now() - this.#lastActivityMs;
  }

  /** The counts since the previous call (one step's worth), after pending size look-ups settle. */
  async takeCounts(): Promise<RequestCounts> {
    const pending = this.#pendingSizes;
    this.#pendingSizes = [];
    await Promise.all(pending);
    const counts = this.#counts;
    this.#counts = { count: 0, bytes: 0, failed: 0 };
    return counts;
  }
}
