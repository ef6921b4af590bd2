import type { Frame, Locator } from 'playwright-core';
import { systemClock } from '../core/clock.ts';
import { Deadline } from '../core/deadline.ts';
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
 * Race the alternatives of a selector: poll each until one matches at least one element, preferring the
 * earlier alternative when several match in the same poll. Throws SELECTOR_NOT_FOUND naming every
 * alternative when none matches within the timeout.
 */
export async function resolveSelector(frame: Frame, selector: Selector, timeoutMs: number, signal?: AbortSignal): Promise<ResolvedLocator> {
  const alternatives = selectorAlternatives(selector);
  const locators = alternatives.map((alternative) => frame.locator(toPlaywrightSelector(alternative)));
  const deadline = Deadline.start({ clock: systemClock, budgetMs: timeoutMs, signal, onExpire: () => notFound(alternatives, timeoutMs) });
  let found: ResolvedLocator | undefined;
  let invalid: EngineError | undefined;
  try {
    const ok = await deadline.poll(async () => {
      for (const [index, locator] of locators.entries()) {
        let count: number;
        try {
          count = await locator.count();
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          if (/Unexpected token|Unknown engine|Malformed|is not a valid selector|Failed to parse/i.test(message)) {
            invalid = new EngineError('SELECTOR_INVALID', `selector ${alternatives[index] ?? ''} is not valid: ${message.split('\n')[0] ?? ''}`, 'script', { cause: error });
            return true;
          }
          // The frame is navigating; the next poll sees the new document.
          count = 0;
        }
        if (count > 0) {
          found = { locator, selector: alternatives[index] ?? '', index };
          return true;
        }
      }
      return false;
    }, pollIntervalMs);
    if (invalid !== undefined) throw invalid;
    if (!ok || found === undefined) throw notFound(alternatives, timeoutMs);
    return found;
  } finally {
    deadline.dispose();
  }
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
