import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import { systemClock, type Clock } from '../core/clock.ts';
import { Deadline } from '../core/deadline.ts';
import { EngineError } from '../core/errors.ts';

/**
 * A fresh browser context with one page, lent to one transaction. `release()` always closes the context
 * (with a deadline), or with a pool in `reuseContexts` mode wipes it for the next lease before it resolves; `crashSignal` aborts when the browser or one of the lease's pages crashes, so the
 * runner fails that transaction at once with BROWSER_CRASHED instead of waiting for a timeout.
 */
export interface Lease extends AsyncDisposable {
  readonly context: BrowserContext;
  readonly page: Page;
  readonly browserVersion: string;
  /** The browser (for collectors that need their own connection, such as Lighthouse). */
  readonly browser: Browser;
  readonly crashSignal: AbortSignal;
  /** Time spent waiting for this lease (queue excluded): 0 when a spare context was ready. */
  readonly leaseWaitMs: number;
  release(): Promise<void>;
}

/** Anything that hands out leases: the pool, or a single browser (local replay). */
export interface LeaseProvider {
  lease(options: BrowserContextOptions): Promise<Lease>;
}

/** Browser calls that can hang (newContext, newPage, close) run under a deadline; running out counts as a crash. */
const browserCalls = Deadline.start({ clock: systemClock, budgetMs: Number.POSITIVE_INFINITY, onExpire: () => new Error('unreachable') });

/** `work`, or BROWSER_CRASHED when it has not finished within `timeoutMs`. */
export function withCallDeadline<T>(work: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  return browserCalls.within(timeoutMs, () => new EngineError('BROWSER_CRASHED', `${what} did not finish within ${timeoutMs} ms`, 'engine'), work);
}

/** Abort `controller` when any page of the context crashes or the browser disconnects. */
export function watchForCrashes(browser: Browser, context: BrowserContext, controller: AbortController): () => void {
  const crash = (reason: string) => () => {
    if (!controller.signal.aborted) controller.abort(new EngineError('BROWSER_CRASHED', reason, 'engine'));
  };
  const onDisconnect = crash('the browser process exited or crashed');
  const onPageCrash = crash('the page crashed (renderer process died, often out of memory)');
  browser.on('disconnected', onDisconnect);
  const onPage = (page: Page) => page.on('crash', onPageCrash);
  for (const page of context.pages()) onPage(page);
  context.on('page', onPage);
  return () => {
    browser.off('disconnected', onDisconnect);
    context.off('page', onPage);
    for (const page of context.pages()) page.off('crash', onPageCrash);
  };
}

/** Leases straight from one browser, no pooling: what `checkpoint replay` uses. */
export function singleBrowserProvider(browser: Browser, callTimeoutMs = 15_000, clock: Clock = systemClock): LeaseProvider {
  return {
    async lease(options) {
      const started = clock.nowMs();
      const context = await withCallDeadline(browser.newContext(options), callTimeoutMs, 'creating a browser context');
      const page = await withCallDeadline(context.newPage(), callTimeoutMs, 'opening a page');
      const controller = new AbortController();
      const unwatch = watchForCrashes(browser, context, controller);
      let released = false;
      const release = async () => {
        if (released) return;
        released = true;
        unwatch();
        await withCallDeadline(context.close(), callTimeoutMs, 'closing the browser context').catch(() => undefined);
      };
      return {
        context,
        page,
        browserVersion: browser.version(),
        browser,
        crashSignal: controller.signal,
        leaseWaitMs: clock.nowMs() - started,
        release,
        [Symbol.asyncDispose]: release,
      };
    },
  };
}
