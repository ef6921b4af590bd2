import type { Clock } from './clock.ts';

/** Timer functions, injected so deadlines can be tested with a fake clock. */
export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemTimers: Timers = {
  setTimeout: (callback, ms) => {
    const handle = setTimeout(callback, ms);
    // A pending deadline must never keep the process alive on its own.
    handle.unref();
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/**
 * The time a piece of work may take and the one way it is cancelled (Playwright's `Progress` is the model).
 * A run creates one; steps, actions and collector hooks narrow it. Whatever ends a deadline first — its own
 * time running out, an enclosing deadline ending, or `abort()` (a crash, a cancel, an HTTP error) — aborts
 * its `signal` with that reason, an Error that says why. Nothing else in the runner races timers.
 */
export class Deadline {
  readonly #clock: Clock;
  readonly #timers: Timers;
  readonly #controller = new AbortController();
  /** Monotonic ms (the clock's origin) at which this deadline ends, counting the deadlines around it. */
  readonly endsAtMs: number;
  #timer: unknown;
  #detach: (() => void) | undefined;
  /** True when time ran out (here or around it); false when something aborted it. */
  #expired = false;

  private constructor(clock: Clock, timers: Timers, endsAtMs: number, ownEndMs: number, onExpire: () => Error, parent: Deadline | AbortSignal | undefined) {
    this.#clock = clock;
    this.#timers = timers;
    this.endsAtMs = endsAtMs;
    const parentSignal = parent instanceof Deadline ? parent.signal : parent;
    if (parentSignal !== undefined) {
      const follow = () => this.#end(parentSignal.reason as Error, parent instanceof Deadline && parent.#expired);
      if (parentSignal.aborted) {
        follow();
        return;
      }
      parentSignal.addEventListener('abort', follow, { once: true });
      this.#detach = () => parentSignal.removeEventListener('abort', follow);
    }
    if (Number.isFinite(ownEndMs)) {
      this.#timer = timers.setTimeout(() => this.#end(onExpire(), true), Math.max(0, ownEndMs - clock.nowMs()));
    }
  }

  /**
   * A root deadline `budgetMs` from now. `signal` (a cancel, a drain, a crash) ends it early with its reason.
   * `Infinity` makes a deadline that only ends by abort.
   */
  static start(options: { clock: Clock; budgetMs: number; onExpire: () => Error; signal?: AbortSignal | undefined; timers?: Timers }): Deadline {
    const { clock } = options;
    const endMs = clock.nowMs() + options.budgetMs;
    return new Deadline(clock, options.timers ?? systemTimers, endMs, endMs, options.onExpire, options.signal);
  }

  /**
   * A child that ends `budgetMs` from now, or when this one ends, whichever is first; when this one ends
   * first the child carries this one's reason, so a step running out is called a step timeout, not an
   * action timeout. Dispose children when their work is done.
   */
  narrow(budgetMs: number, onExpire: () => Error): Deadline {
    const ownEndMs = this.#clock.nowMs() + budgetMs;
    // When this deadline is the tighter one, its own timer (and reason) ends the child.
    const timerAtMs = ownEndMs < this.endsAtMs ? ownEndMs : Number.POSITIVE_INFINITY;
    return new Deadline(this.#clock, this.#timers, Math.min(ownEndMs, this.endsAtMs), timerAtMs, onExpire, this);
  }

  /** A child with no time limit of its own: ends when this one does, or on its own `abort()`. */
  child(): Deadline {
    return new Deadline(this.#clock, this.#timers, this.endsAtMs, Number.POSITIVE_INFINITY, () => new Error('unreachable'), this);
  }

  #end(reason: Error, expired: boolean): void {
    if (this.ended) return;
    this.#expired = expired;
    this.#controller.abort(reason);
    this.dispose();
  }

  /** Aborted when the deadline ends, for whatever reason. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  get ended(): boolean {
    return this.#controller.signal.aborted;
  }

  /** Why the deadline ended; undefined while it runs. */
  get reason(): Error | undefined {
    return this.ended ? (this.#controller.signal.reason as Error) : undefined;
  }

  /** Milliseconds left, never negative; 0 once ended. */
  remainingMs(): number {
    if (this.ended) return 0;
    return Math.max(0, this.endsAtMs - this.#clock.nowMs());
  }

  /** True when the deadline ended because time ran out (its own or an enclosing deadline's). */
  get expired(): boolean {
    return this.#expired;
  }

  /** End now with `reason` (first reason wins). Children end with it too. */
  abort(reason: Error): void {
    this.#end(reason, false);
  }

  /** Stop the timer and stop following the parent. The signal keeps its state. */
  dispose(): void {
    if (this.#timer !== undefined) this.#timers.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#detach?.();
    this.#detach = undefined;
  }

  /** Throw the reason when the deadline has ended. */
  throwIfEnded(): void {
    if (this.ended) throw this.#controller.signal.reason as Error;
  }

  /**
   * Settle with `work`, or reject with the reason as soon as the deadline ends. Browser calls that can hang
   * without honouring their own timeout (a page stuck in a loop, a dialog) cannot hang the run.
   */
  race<T>(work: Promise<T>): Promise<T> {
    // Whoever loses the race may reject later, when nobody listens any more.
    work.catch(() => undefined);
    const signal = this.#controller.signal;
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(signal.reason as Error);
      signal.addEventListener('abort', onAbort, { once: true });
      work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  /**
   * `work` under a child deadline of `budgetMs` (or less, when this one ends sooner): settles with it, or
   * rejects with `onExpire()` or this deadline's reason. For one browser call with a limit of its own.
   */
  async within<T>(budgetMs: number, onExpire: () => Error, work: Promise<T>): Promise<T> {
    const limit = this.narrow(budgetMs, onExpire);
    try {
      return await limit.race(work);
    } finally {
      limit.dispose();
    }
  }

  /** Wait `ms` (bounded by what is left); rejects with the reason if the deadline ends first. */
  sleep(ms: number): Promise<void> {
    const waitMs = Math.min(ms, this.remainingMs());
    const signal = this.#controller.signal;
    let stop = () => {};
    return this.race(
      new Promise<void>((resolve) => {
        const handle = this.#timers.setTimeout(resolve, waitMs);
        stop = () => this.#timers.clearTimeout(handle);
        signal.addEventListener('abort', stop, { once: true });
      }),
    ).finally(() => signal.removeEventListener('abort', stop));
  }

  /**
   * Re-check `condition` until it holds (true) or time runs out (false). When the deadline is aborted for
   * another reason (a crash, a cancel, an HTTP error) the poll rejects with that reason.
   * Looks again quickly at first — most conditions hold within a few ms of a navigation or click — then backs
   * off to `maxIntervalMs` so a long wait costs few browser round trips. A check that throws counts as "not
   * yet" (a navigation destroyed the execution context; look again in the new document).
   */
  async poll(condition: () => boolean | Promise<boolean>, maxIntervalMs = 100): Promise<boolean> {
    let intervalMs = Math.min(10, maxIntervalMs);
    for (;;) {
      this.#throwIfAborted();
      // The check itself is not cut short by the time limit: a zero budget still means "look once", and a
      // check that hangs is the business of the hard stop around the action.
      let ok: boolean;
      try {
        ok = await condition();
      } catch {
        ok = false;
      }
      if (ok) return true;
      this.#throwIfAborted();
      if (this.remainingMs() <= 0) return false;
      try {
        await this.sleep(intervalMs);
      } catch (error) {
        return this.#timedOut(error);
      }
      intervalMs = Math.min(maxIntervalMs, intervalMs * 2);
    }
  }

  #throwIfAborted(): void {
    if (this.ended && !this.#expired) throw this.#controller.signal.reason as Error;
  }

  #timedOut(error: unknown): false {
    if (!this.#expired) throw error;
    return false;
  }
}
