import type { BrowserContext, Frame, Page } from 'playwright-core';
import { EngineError } from '../core/errors.ts';
import type { Deadline } from '../core/deadline.ts';

/**
 * Where actions currently apply: one tab (page) and one frame of it. Tabs are kept in the order they opened,
 * so `switchTab` to `latest` and `main` mean the same thing on every run.
 */
export class RunSession {
  readonly context: BrowserContext;
  readonly pages: Page[] = [];
  #page: Page;
  #frame: Frame;

  constructor(context: BrowserContext, firstPage: Page) {
    this.context = context;
    this.#page = firstPage;
    this.#frame = firstPage.mainFrame();
    this.pages.push(firstPage);
    context.on('page', (page) => {
      if (!this.pages.includes(page)) this.pages.push(page);
      page.on('close', () => {
        const index = this.pages.indexOf(page);
        if (index > 0) this.pages.splice(index, 1);
      });
    });
  }

  get page(): Page {
    return this.#page;
  }

  get frame(): Frame {
    // A frame detached by a navigation of its parent can't be used; fall back to the tab's main frame.
    if (this.#frame.isDetached()) this.#frame = this.#page.mainFrame();
    return this.#frame;
  }

  get mainPage(): Page {
    return this.pages[0] ?? this.#page;
  }

  useFrame(frame: Frame): void {
    this.#frame = frame;
  }

  usePage(page: Page): void {
    this.#page = page;
    this.#frame = page.mainFrame();
  }

  /**
   * Wait for a tab satisfying `match`, opened now or before `deadline` ends; `timeoutMs` (the action's budget)
   * is for the message.
   */
  async waitForPage(match: (page: Page) => boolean, what: string, deadline: Deadline, timeoutMs: number): Promise<Page> {
    let found: Page | undefined;
    const ok = await deadline.poll(() => {
      found = [...this.pages].reverse().find((page) => !page.isClosed() && match(page));
      return found !== undefined;
    }, 50);
    if (!ok || found === undefined) throw new EngineError('TAB_NOT_FOUND', `no ${what} within ${timeoutMs} ms`, 'site');
    return found;
  }
}
