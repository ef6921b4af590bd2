import type { BrowserContext, Response } from 'playwright-core';
import { EngineError } from '../core/errors.ts';
import { StepFailures } from '../core/step-failures.ts';

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
export class HttpErrorWatcher extends StepFailures {
  readonly #allowed: ReadonlySet<number>;
  #unsubscribe: () => void;

  constructor(context: BrowserContext, allowedStatuses: readonly number[] = []) {
    super();
    this.#allowed = new Set(allowedStatuses);
    const onResponse = (response: Response) => {
      const status = response.status();
      if (status < 400 || this.#allowed.has(status) || !isMainFrameDocument(response)) return;
      this.report(httpErrorFor(status, response.statusText(), response.url()));
    };
    context.on('response', onResponse);
    this.#unsubscribe = () => context.off('response', onResponse);
  }

  dispose(): void {
    this.#unsubscribe();
  }
}
