/**
 * Token buckets keyed by client (a token hash, an address, an instance): each key holds up to `burst` tokens and
 * regains `perSecond` of them per second; a request takes one. Keys idle long enough to be full again are
 * forgotten, and at most `maxKeys` are kept (the least recently used go first), so the table stays bounded
 * whatever the clients do. Time comes from the caller (a monotonic clock in ms).
 */
export class RateLimiter {
  readonly #perSecond: number;
  readonly #burst: number;
  readonly #maxKeys: number;
  readonly #nowMs: () => number;
  readonly #buckets = new Map<string, { tokens: number; atMs: number }>();

  constructor(options: { perSecond: number; burst: number; nowMs: () => number; maxKeys?: number }) {
    if (!(options.perSecond > 0) || !(options.burst >= 1)) throw new RangeError(`rate limit: expected perSecond > 0 and burst ≥ 1, got ${options.perSecond} and ${options.burst}`);
    this.#perSecond = options.perSecond;
    this.#burst = options.burst;
    this.#maxKeys = options.maxKeys ?? 10_000;
    this.#nowMs = options.nowMs;
  }

  /** Take one token for `key`: `{ ok: true }`, or `{ ok: false, retryAfterMs }` until the next token is due. */
  take(key: string): { ok: true } | { ok: false; retryAfterMs: number } {
    const now = this.#nowMs();
    const previous = this.#buckets.get(key);
    let tokens = this.#burst;
    if (previous !== undefined) {
      tokens = Math.min(this.#burst, previous.tokens + (Math.max(0, now - previous.atMs) * this.#perSecond) / 1000);
      this.#buckets.delete(key);
    } else if (this.#buckets.size >= this.#maxKeys) {
      this.#evict(now);
    }
    if (tokens >= 1) {
      this.#buckets.set(key, { tokens: tokens - 1, atMs: now });
      return { ok: true };
    }
    this.#buckets.set(key, { tokens, atMs: now });
    return { ok: false, retryAfterMs: Math.ceil(((1 - tokens) * 1000) / this.#perSecond) };
  }

  /** How many keys are tracked (for tests and bounds). */
  get size(): number {
    return this.#buckets.size;
  }

  #evict(now: number): void {
    const fullAfterMs = (this.#burst * 1000) / this.#perSecond;
    for (const [key, bucket] of this.#buckets) if (now - bucket.atMs >= fullAfterMs) this.#buckets.delete(key);
    // Still full: drop the least recently used (Map order is insertion order, and `take` re-inserts).
    while (this.#buckets.size >= this.#maxKeys) {
      const oldest = this.#buckets.keys().next().value;
      if (oldest === undefined) break;
      this.#buckets.delete(oldest);
    }
  }
}
