/**
 * Lets a collector's deferred work (decoding, comparing, encoding) run only between the steps' timed regions
 * and after the last step, so that it never competes with a step for the CPU and a step's `durationMs` stays
 * what it would be without capture. Work waits at its next checkpoint while a step runs; an operation already
 * under way (one frame, one encode: a few ms) finishes.
 */
export class BetweenSteps {
  #running = false;
  #waiters: (() => void)[] = [];

  /** The step's timed region begins (call at the end of beforeStep). */
  stepStarts(): void {
    this.#running = true;
  }

  /** The step's timed region is over (call at the start of afterStep, and in finish). */
  stepEnded(): void {
    this.#running = false;
    for (const wake of this.#waiters.splice(0)) wake();
  }

  /** Resolves at once between steps; during a step, when it ends. */
  async wait(): Promise<void> {
    if (this.#running) await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }
}
