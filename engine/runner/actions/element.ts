import type { Locator } from 'playwright-core';
import { EngineError } from '../../core/errors.ts';
import type { Selector } from '../../schema/selector.ts';
import { isPlaywrightTimeout } from '../error-mapping.ts';
import { resolveSelector, toPlaywrightSelector } from '../selectors.ts';
import { callTimeoutMs, outcomeOf, type ActionEnvironment, type ActionOutcome } from './types.ts';

/**
 * Run one element action on the alternative that matched first. `act` gets the Playwright `timeout` for its
 * first call; later calls take `callTimeoutMs(env.deadline)` again.
 */
export async function onElement(
  env: ActionEnvironment,
  selector: Selector,
  act: (locator: Locator, timeoutMs: number) => Promise<unknown>,
): Promise<ActionOutcome> {
  if (typeof selector === 'string') {
    // One selector: let Playwright wait for the element itself (no extra round trips), and tell "not there"
    // from "there but not actionable" only when it fails.
    const locator = env.session.frame.locator(toPlaywrightSelector(selector));
    try {
      await act(locator, callTimeoutMs(env.deadline));
    } catch (error) {
      if (isPlaywrightTimeout(error) && (await locator.count().catch(() => 0)) === 0) {
        throw new EngineError('SELECTOR_NOT_FOUND', `no element matches ${selector} within ${env.timeoutMs} ms`, 'script', { cause: error });
      }
      throw error;
    }
    return { matchedSelector: selector, matchedSelectorIndex: 0 };
  }
  const resolved = await resolveSelector(env.session.frame, selector, env.deadline, env.timeoutMs);
  await act(resolved.locator, callTimeoutMs(env.deadline));
  return outcomeOf(resolved);
}
