import type { Frame, Locator } from 'playwright-core';
import type { Deadline } from '../core/deadline.ts';
import { EngineError } from '../core/errors.ts';
import { toPlaywrightSelector } from '../core/selector-syntax.ts';
import { selectorAlternatives, type Selector } from '../schema/selector.ts';

export { toPlaywrightSelector };

export interface ResolvedLocator {
  locator: Locator;
  /** The alternative that matched, as written in the script. */
  selector: string;
  index: number;
}

const pollIntervalMs = 50;

/**
 * Look once for the first alternative that matches at least one element (the earlier alternative wins when
 * several match). Undefined when none does; throws SELECTOR_INVALID for an alternative that is not a selector.
 */
export async function matchSelector(frame: Frame, selector: Selector): Promise<ResolvedLocator | undefined> {
  const alternatives = selectorAlternatives(selector);
  for (const [index, alternative] of alternatives.entries()) {
    const locator = frame.locator(toPlaywrightSelector(alternative));
    let count: number;
    try {
      count = await locator.count();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (/Unexpected token|Unknown engine|Malformed|is not a valid selector|Failed to parse/i.test(message)) {
        throw new EngineError('SELECTOR_INVALID', `selector ${alternative} is not valid: ${message.split('\n')[0] ?? ''}`, 'script', { cause: error });
      }
      // The frame is navigating; the next look sees the new document.
      count = 0;
    }
    if (count > 0) return { locator, selector: alternative, index };
  }
  return undefined;
}

/**
 * Race the alternatives of a selector until one matches, within the action's deadline. Throws
 * SELECTOR_NOT_FOUND naming every alternative (and the action's `timeoutMs`) when none matches in time, and
 * the deadline's reason when it is aborted (a cancel, a crash).
 */
export async function resolveSelector(frame: Frame, selector: Selector, deadline: Deadline, timeoutMs: number): Promise<ResolvedLocator> {
  let found: ResolvedLocator | undefined;
  let invalid: EngineError | undefined;
  await deadline.poll(async () => {
    try {
      found = await matchSelector(frame, selector);
    } catch (error) {
      if (!(error instanceof EngineError)) throw error;
      invalid = error;
      return true;
    }
    return found !== undefined;
  }, pollIntervalMs);
  if (invalid !== undefined) throw invalid;
  if (found === undefined) throw notFound(selectorAlternatives(selector), timeoutMs);
  return found;
}

function notFound(alternatives: readonly string[], timeoutMs: number): EngineError {
  const names = alternatives.length === 1 ? (alternatives[0] ?? '') : `any of ${alternatives.join(' | ')}`;
  return new EngineError('SELECTOR_NOT_FOUND', `no element matches ${names} within ${timeoutMs} ms`, 'script');
}

/** Describe a selector for messages. */
export function describeSelector(selector: Selector): string {
  const alternatives = selectorAlternatives(selector);
  return alternatives.length === 1 ? alternatives[0] ?? '' : alternatives.join(' | ');
}
