import { EngineError } from '../../core/errors.ts';
import type { ActionOf } from '../../schema/actions.ts';
import type { Selector } from '../../schema/selector.ts';
import { describeSelector, matchSelector } from '../selectors.ts';
import type { ActionEnvironment, ActionOutcome } from './types.ts';

type ElementCondition = Pick<ActionOf<'assertElement'>, 'count' | 'minCount' | 'maxCount' | 'attributes' | 'domProperties' | 'negate'>;

/** Whether an assertElement checks a condition on the matching elements (rather than visibility). */
export function isElementCondition(action: ActionOf<'assertElement'>): boolean {
  return [action.count, action.minCount, action.maxCount, action.attributes, action.domProperties, action.negate].some((v) => v !== undefined);
}

function describeCondition(condition: ElementCondition, selector: Selector): string {
  const { count, minCount, maxCount } = condition;
  const number =
    count !== undefined ? `${count}`
    : minCount !== undefined && maxCount !== undefined ? `between ${minCount} and ${maxCount}`
    : maxCount !== undefined ? `at most ${maxCount}`
    : `at least ${minCount ?? 1}`;
  const withAttributes = condition.attributes === undefined ? '' : ` with attributes ${JSON.stringify(condition.attributes)}`;
  const withProperties = condition.domProperties === undefined ? '' : ` with DOM properties ${JSON.stringify(condition.domProperties)}`;
  return `${number} elements matching ${describeSelector(selector)}${withAttributes}${withProperties}`;
}

/**
 * assertElement with a count, attributes, properties or negate: DevTools `waitForElement` semantics. The
 * elements are those of the first alternative matching any (hidden ones included); the condition is the
 * count check and every element having the attributes and properties; `negate` wants it false.
 */
export async function assertElementCondition(env: ActionEnvironment, action: ActionOf<'assertElement'>): Promise<ActionOutcome> {
  const { count, minCount, maxCount, attributes, domProperties: properties } = action;
  const negate = action.negate === true;
  let seen = 0;
  let mismatched = 0;
  let outcome: ActionOutcome = {};
  let invalid: EngineError | undefined;
  const ok = await env.deadline.poll(async () => {
    seen = 0;
    mismatched = 0;
    let resolved;
    try {
      resolved = await matchSelector(env.session.frame, action.selector);
    } catch (error) {
      if (!(error instanceof EngineError)) throw error;
      invalid = error;
      return true;
    }
    if (resolved !== undefined) {
      seen = await resolved.locator.count();
      outcome = { matchedSelector: resolved.selector, matchedSelectorIndex: resolved.index };
    }
    const countHolds = count !== undefined ? seen === count : seen >= (minCount ?? (maxCount === undefined ? 1 : 0)) && (maxCount === undefined || seen <= maxCount);
    let holds = countHolds;
    if (holds && resolved !== undefined && (attributes !== undefined || properties !== undefined)) {
      // Plain types: the JSON type of `properties` is too deep for Playwright's argument typing.
      const expectedArg: { attributes: Record<string, string> | undefined; properties: unknown } = { attributes, properties };
      mismatched = await resolved.locator.evaluateAll(
        (elements, expected) => {
          const deepMatch = (want: unknown, have: unknown): boolean => {
            if (want === have) return true;
            if (typeof want !== 'object' || want === null || typeof have !== 'object' || have === null) return false;
            return Object.entries(want).every(([key, value]) => deepMatch(value, (have as Record<string, unknown>)[key]));
          };
          return elements.filter(
            (element) =>
              !Object.entries(expected.attributes ?? {}).every(([name, value]) => element.getAttribute(name) === value) ||
              (expected.properties !== undefined && !deepMatch(expected.properties, element)),
          ).length;
        },
        expectedArg,
      );
      holds = mismatched === 0;
    }
    return holds !== negate;
  });
  if (invalid !== undefined) throw invalid;
  if (!ok) {
    const condition = describeCondition(action, action.selector);
    const found = `found ${seen}${mismatched > 0 ? `, ${mismatched} of them not matching` : ''}`;
    const message = negate ? `expected NOT ${condition}, but that still held after ${env.timeoutMs} ms (${found})` : `expected ${condition}, ${found} (after ${env.timeoutMs} ms)`;
    throw new EngineError('ASSERTION_FAILED', message, 'site');
  }
  return outcome;
}
