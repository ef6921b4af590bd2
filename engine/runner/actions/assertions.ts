import { EngineError } from '../../core/errors.ts';
import { isPlaywrightTimeout } from '../error-mapping.ts';
import { describeSelector, resolveSelector } from '../selectors.ts';
import { assertElementCondition, isElementCondition } from './element-condition.ts';
import { onElement } from './element.ts';
import { describeMatcher, pageText, textMatches } from './text.ts';
import { callTimeoutMs, outcomeOf, type ActionHandlers, type ActionOutcome } from './types.ts';
import { waitUntilGone } from './waits.ts';

function failAssertion(message: string): never {
  throw new EngineError('ASSERTION_FAILED', message, 'site');
}

/**
 * Checks that retry until they hold or the deadline ends: pages settle asynchronously, and a single look
 * would make monitors flaky.
 */
export const assertionHandlers: Pick<ActionHandlers, 'assertText' | 'assertElement' | 'assertUrl' | 'assertTitle'> = {
  async assertText(action, { session, deadline, timeoutMs }) {
    const absent = action.absent === true;
    let outcome: ActionOutcome = {};
    let read = () => pageText(session.frame);
    if (action.selector !== undefined) {
      const resolved = await resolveSelector(session.frame, action.selector, deadline, timeoutMs);
      outcome = outcomeOf(resolved);
      read = () => resolved.locator.first().innerText({ timeout: callTimeoutMs(deadline) });
    }
    const where = action.selector === undefined ? 'the page' : describeSelector(action.selector);
    const ok = await deadline.poll(async () => (await read()).includes(action.text) !== absent);
    if (!ok) failAssertion(`expected ${where} ${absent ? 'not to contain' : 'to contain'} text ${JSON.stringify(action.text)} within ${timeoutMs} ms`);
    return outcome;
  },

  async assertElement(action, env) {
    if (isElementCondition(action)) return assertElementCondition(env, action);
    const what = describeSelector(action.selector);
    if ((action.state ?? 'visible') === 'hidden') {
      if (!(await waitUntilGone(env, action.selector, 'hidden'))) failAssertion(`expected ${what} to be hidden within ${env.timeoutMs} ms`);
      return {};
    }
    try {
      return await onElement(env, action.selector, (l, t) => l.first().waitFor({ state: 'visible', timeout: t }));
    } catch (error) {
      if (error instanceof EngineError && error.code === 'SELECTOR_NOT_FOUND') failAssertion(`expected ${what} to be visible, but ${error.message}`);
      if (isPlaywrightTimeout(error)) failAssertion(`expected ${what} to be visible within ${env.timeoutMs} ms, but it stayed hidden`);
      throw error;
    }
  },

  async assertUrl(action, { session, deadline }) {
    if (!(await deadline.poll(() => textMatches(session.page.url(), action), 50))) {
      failAssertion(`expected the URL to ${describeMatcher(action)}, but it is ${session.page.url()}`);
    }
    return {};
  },

  async assertTitle(action, { session, deadline }) {
    let title = '';
    const ok = await deadline.poll(async () => textMatches((title = await session.page.title()), action), 50);
    if (!ok) failAssertion(`expected the title to ${describeMatcher(action)}, but it is ${JSON.stringify(title)}`);
    return {};
  },
};
