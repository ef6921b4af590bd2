import type { ConsoleMessage, Page } from 'playwright-core';
import type { Collector } from './collector.ts';

/**
 * Counts console errors and uncaught exceptions per step, in every tab of the transaction, for the
 * `consoleErrors` figure and its error conditions. Counting only: message texts may hold user data and are
 * not kept.
 */
export function consoleCollector(): Collector {
  let count = 0;
  const onConsole = (message: ConsoleMessage) => {
    if (message.type() === 'error') count++;
  };
  const onPageError = () => {
    count++;
  };
  const watch = (page: Page) => {
    page.on('console', onConsole);
    page.on('pageerror', onPageError);
  };
  return {
    name: 'console',
    start(ctx) {
      for (const page of ctx.context.pages()) watch(page);
      ctx.context.on('page', watch);
      return Promise.resolve();
    },
    beforeStep() {
      count = 0;
      return Promise.resolve();
    },
    afterStep() {
      return Promise.resolve({ consoleErrors: count });
    },
  };
}
