import type { EngineError } from './errors.ts';

/**
 * Failures noticed outside a step's own code (a page answering 500, a request the egress policy refused): told
 * to the running step at once, or kept for the next step when none is running (a late response to the last
 * action of the previous one). The first kept failure wins.
 */
export class StepFailures {
  #onError: ((error: EngineError) => void) | undefined;
  #pending: EngineError | undefined;

  /** A failure: to the watching step now, else kept. */
  protected report(error: EngineError): void {
    if (this.#onError === undefined) this.#pending ??= error;
    else this.#onError(error);
  }

  /** Report failures to `onError` while a step runs; one kept since the last step is reported at once. */
  watch(onError: (error: EngineError) => void): void {
    this.#onError = onError;
    const pending = this.#pending;
    this.#pending = undefined;
    if (pending !== undefined) onError(pending);
  }

  /** Stop reporting to the current step. */
  unwatch(): void {
    this.#onError = undefined;
  }

  /** A failure seen after the last step ended and not yet reported. */
  takePending(): EngineError | undefined {
    const pending = this.#pending;
    this.#pending = undefined;
    return pending;
  }
}
