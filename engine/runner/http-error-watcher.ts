import type { BrowserContext, Response } from 'playwright-core';
import { EngineError } from '../core/errors.ts';

/** The HTTP_ERROR sentence, the same whichever action led to the page. */
export function httpErrorFor(status: number, statusText: string, url: string): EngineError {
  return new EngineError('HTTP_ERROR', `the server answered HTTP ${`${status} ${statusText}`.trim()} for ${url}`, 'site');
}

function isMainFrameDocument(response: Response): boolean {
  try {
    const request = response.request();
    return request.isNavigationRequest() && request.resourceType() === 'document' && response.frame().parentFrame() === null;
  } catch {
    // Service-worker responses have no frame.
    return false;
  }
}

/**
 * Watches every tab of a transaction for a main-frame page answering 400 or more — after a navigate, a click,
 * a form submit, a key press or a redirect alike — and reports it at once, so the step fails with HTTP_ERROR
 * (blame `site`) naming status and URL instead of timing out on a selector of a page that never came.
 */
export class HttpErrorWatcher {
  readonly #allowed: ReadonlySet<number>;
  #onError: ((error: EngineError) => void) | undefined;
  #pending: EngineError | undefined;
  #unsubscribe: () => void;

  constructor(context: BrowserContext, allowedStatuses: readonly number[] = []) {
    this.#allowed = new Set(allowedStatuses);
    const onResponse = (response: Response) => {
      const status = response.status();
      if (status < 400 || this.#allowed.has(status) || !isMainFrameDocument(response)) return;
      const error = httpErrorFor(status, response.statusText(), response.url());
      if (this.#onError === undefined) this.#pending ??= error;
      else this.#onError(error);
    };
    context.on('response', onResponse);
    this.#unsubscribe = () => context.off('response', onResponse);
  }

  /**
   * Report errors to `onError` while a step runs. An error seen between steps (a late response to the last
   * action of the previous step) is reported to the next step at once.
   */
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

  /** An error seen after the last step ended and not yet reported. */
  takePending(): EngineError | undefined {
    const pending = this.#pending;
    this.#pending = undefined;
    return pending;
  }

  dispose(): void {
    this.#unsubscribe();
  }
}
