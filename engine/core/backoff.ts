import type { Clock } from './clock.ts';

/**
 * Retry pacing for the checkpoint's links to the control plane (WebSocket reconnects, result uploads).
 * Capped exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff and Jitter"):
 * the n-th delay is uniform in [0, min(cap, base·2ⁿ)), so many checkpoints that lost the same control plane
 * do not come back in lock-step. Pure: time and randomness are injected.
 */
export interface BackoffOptions {
  /** First ceiling, ms. Default 500. */
  baseMs?: number;
  /** Largest ceiling, ms. Default 30 000. */
  capMs?: number;
  /**
   * A link must have stayed up this long before a failure starts the sequence again from the base; a
   * shorter-lived link keeps climbing, so a flapping control plane is not hammered at the minimum delay.
   * Default 30 000.
   */
  healthyAfterMs?: number;
  /** Uniform in [0, 1). Default Math.random. */
  random?: () => number;
}

export const defaultBackoff = { baseMs: 500, capMs: 30_000, healthyAfterMs: 30_000 } as const;

/** Ceiling of the `attempt`-th delay (attempt 0 = first retry): min(cap, base·2^attempt). */
export function backoffCeilingMs(attempt: number, baseMs: number, capMs: number): number {
  // 2^attempt overflows to Infinity long after it passed any cap; min() handles that.
  return Math.min(capMs, baseMs * 2 ** Math.max(0, attempt));
}

/** Full jitter: a delay uniform in [0, ceiling). `random` must return a number in [0, 1). */
export function fullJitterDelayMs(attempt: number, baseMs: number, capMs: number, random: () => number): number {
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.floor(r * backoffCeilingMs(attempt, baseMs, capMs));
}

/**
 * One retry sequence. Call `nextDelayMs()` after each failure; `linkUp()` when the link works again and
 * `linkDown()` when it fails after having worked: the sequence restarts only when the link stayed up for
 * `healthyAfterMs`. `succeeded()` restarts at once (for request/response work such as an upload that was
 * acknowledged).
 */
export class Backoff {
  readonly #baseMs: number;
  readonly #capMs: number;
  readonly #healthyAfterMs: number;
  readonly #random: () => number;
  readonly #clock: Pick<Clock, 'nowMs'>;
  #attempt = 0;
  #upSinceMs: number | undefined;

  constructor(clock: Pick<Clock, 'nowMs'>, options: BackoffOptions = {}) {
    this.#clock = clock;
    this.#baseMs = options.baseMs ?? defaultBackoff.baseMs;
    this.#capMs = Math.max(options.capMs ?? defaultBackoff.capMs, this.#baseMs);
    this.#healthyAfterMs = options.healthyAfterMs ?? defaultBackoff.healthyAfterMs;
    this.#random = options.random ?? Math.random;
  }

  /** Failures since the sequence last restarted. */
  get attempt(): number {
    return this.#attempt;
  }

  /** The delay before the next try; each call climbs one step. */
  nextDelayMs(): number {
    const delay = fullJitterDelayMs(this.#attempt, this.#baseMs, this.#capMs, this.#random);
    // Stop counting once the ceiling is the cap, so `attempt` stays a small number over a long outage.
    if (backoffCeilingMs(this.#attempt, this.#baseMs, this.#capMs) < this.#capMs) this.#attempt++;
    return delay;
  }

  /** The link works (connected and greeted). */
  linkUp(): void {
    this.#upSinceMs ??= this.#clock.nowMs();
  }

  /** The link failed. Restarts the sequence only if it had been up for `healthyAfterMs`. */
  linkDown(): void {
    if (this.#upSinceMs !== undefined && this.#clock.nowMs() - this.#upSinceMs >= this.#healthyAfterMs) this.#attempt = 0;
    this.#upSinceMs = undefined;
  }

  /** A request went through: restart the sequence. */
  succeeded(): void {
    this.#attempt = 0;
  }
}

/**
 * A `Retry-After` header (seconds, or an HTTP date) as a delay in ms; undefined when absent or unreadable.
 * Bounded by `capMs` so a hostile or broken server cannot park the checkpoint for a day.
 */
export function retryAfterMs(header: string | undefined, nowWallMs: number, capMs: number): number | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  const text = header.trim();
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(text)) ms = Number(text) * 1000;
  else {
    const at = Date.parse(text);
    if (Number.isNaN(at)) return undefined;
    ms = at - nowWallMs;
  }
  return Math.min(Math.max(0, Math.round(ms)), capMs);
}

/**
 * True when nothing (message or pong) came from the other side for more than `missedIntervals` heartbeat
 * intervals: the TCP connection may be dead without any close event (a dropped NAT entry, a pulled cable).
 */
export function linkIsSilent(lastSeenMs: number, nowMs: number, heartbeatIntervalMs: number, missedIntervals = 3): boolean {
  return nowMs - lastSeenMs > heartbeatIntervalMs * missedIntervals;
}
