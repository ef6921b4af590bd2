import type { BrowserContext, Request } from 'playwright-core';
import { systemClock, type Clock } from '../core/clock.ts';

/**
 * Knows how many requests of a context are in flight and when the network last moved, for
 * `waitForNetworkIdle` (Playwright's own `networkidle` only applies right after a navigation, not after a
 * click that fetches). Event bookkeeping only: no browser round trips. Per-step counts, bytes and the
 * waterfall come from the CDP network collector.
 */
export class NetworkTracker {
  readonly #clock: Clock;
  #inFlight = new Set<Request>();
  #lastActivityMs: number;

  constructor(context: BrowserContext, clock: Clock = systemClock) {
    this.#clock = clock;
    this.#lastActivityMs = clock.nowMs();
    const settle = (request: Request) => {
      this.#inFlight.delete(request);
      this.#lastActivityMs = clock.nowMs();
    };
    context.on('request', (request) => {
      this.#inFlight.add(request);
      this.#lastActivityMs = clock.nowMs();
    });
    context.on('requestfinished', settle);
    context.on('requestfailed', settle);
  }

  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** Milliseconds since the last request started or ended (0 while any is in flight). */
  quietForMs(): number {
    return this.#inFlight.size > 0 ? 0 : this.#clock.nowMs() - this.#lastActivityMs;
  }
}
