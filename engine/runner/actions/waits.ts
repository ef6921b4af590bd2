import { EngineError } from '../../core/errors.ts';
import { selectorAlternatives, type Selector } from '../../schema/selector.ts';
import { describeSelector, matchSelector } from '../selectors.ts';
import { onElement } from './element.ts';
import { describeMatcher, pageText, textMatches } from './text.ts';
import { callTimeoutMs, type ActionEnvironment, type ActionHandlers } from './types.ts';

/** How long the network must stay quiet to count as idle. */
const quietWindowMs = 500;

/**
 * Wait until no alternative of `selector` is visible (`hidden`) or attached (`detached`); false when one still
 * is as the deadline ends.
 */
export function waitUntilGone(env: ActionEnvironment, selector: Selector, state: 'hidden' | 'detached'): Promise<boolean> {
  const frame = env.session.frame;
  return env.deadline.poll(async () => {
    for (const alternative of selectorAlternatives(selector)) {
      const resolved = await matchSelector(frame, alternative).catch(() => undefined);
      if (resolved === undefined) continue;
      if (state === 'detached' || (await resolved.locator.first().isVisible())) return false;
    }
    return true;
  });
}

/** Waiting for the page to reach a state, and for time to pass. */
export const waitHandlers: Pick<ActionHandlers, 'waitForElement' | 'waitForText' | 'waitForUrl' | 'waitForTime' | 'waitForNetworkIdle'> = {
  async waitForElement(action, env) {
    const state = action.state ?? 'visible';
    if (state === 'hidden' || state === 'detached') {
      if (!(await waitUntilGone(env, action.selector, state))) {
        throw new EngineError('ACTION_TIMEOUT', `${describeSelector(action.selector)} is still ${state === 'hidden' ? 'visible' : 'attached'} after ${env.timeoutMs} ms`, 'site');
      }
      return {};
    }
    return onElement(env, action.selector, (l, t) => l.first().waitFor({ state, timeout: t }));
  },

  async waitForText(action, env) {
    const { deadline, timeoutMs } = env;
    if (action.selector !== undefined) {
      const selector = action.selector;
      return onElement(env, selector, async (l) => {
        if (!(await deadline.poll(async () => (await l.first().innerText({ timeout: callTimeoutMs(deadline) })).includes(action.text)))) {
          throw new EngineError('ACTION_TIMEOUT', `text ${JSON.stringify(action.text)} did not appear in ${describeSelector(selector)} within ${timeoutMs} ms`, 'site');
        }
      });
    }
    const frame = env.session.frame;
    if (!(await deadline.poll(async () => (await pageText(frame)).includes(action.text)))) {
      throw new EngineError('ACTION_TIMEOUT', `text ${JSON.stringify(action.text)} did not appear within ${timeoutMs} ms`, 'site');
    }
    return {};
  },

  async waitForUrl(action, { session, deadline, timeoutMs }) {
    if (!(await deadline.poll(() => textMatches(session.page.url(), action), 50))) {
      throw new EngineError('ACTION_TIMEOUT', `URL did not ${describeMatcher(action)} within ${timeoutMs} ms (it is ${session.page.url()})`, 'site');
    }
    return {};
  },

  async waitForTime(action, { clock, deadline }) {
    // A timer may fire a little early against the clock; wait until the full time has passed. A wait longer
    // than the budget ends with the deadline's reason.
    const endMs = clock.nowMs() + action.durationMs;
    for (let leftMs = action.durationMs; leftMs > 0; leftMs = endMs - clock.nowMs()) {
      await deadline.sleep(Math.ceil(leftMs));
    }
    return {};
  },

  async waitForNetworkIdle(_action, { network, deadline, timeoutMs }) {
    if (!(await deadline.poll(() => network.quietForMs() >= quietWindowMs, 50))) {
      throw new EngineError('ACTION_TIMEOUT', `the network did not go idle within ${timeoutMs} ms (${network.inFlight} ${network.inFlight === 1 ? 'request' : 'requests'} still open)`, 'site');
    }
    return {};
  },
};
