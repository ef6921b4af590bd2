import { EngineError } from '../core/errors.ts';
import type { TimeoutSource } from '../core/run-plan.ts';

const ansiEscape = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

/** Last line of Playwright's call log: usually the reason an element was not actionable. */
function callLogReason(message: string): string | undefined {
  // Playwright dims call-log lines with ANSI codes.
  const lines = message
    .replace(ansiEscape, '')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith('- '));
  const reason = lines.findLast((line) => /^- element (is|was)|not (visible|enabled|stable|editable)|intercepts pointer/.test(line)) ?? lines.findLast((line) => !/^- (waiting|retrying|attempting)/.test(line));
  return reason?.slice(2);
}

function firstLine(message: string): string {
  return (message.split('\n')[0] ?? message).replace(/^(locator|page|frame|keyboard|elementHandle)\.[A-Za-z]+: /, '').trim();
}

/** Whether Playwright gave up waiting (its `timeout` option ran out). */
export function isPlaywrightTimeout(error: unknown): error is Error {
  return error instanceof Error && (error.name === 'TimeoutError' || /Timeout [\d.]+ms exceeded/.test(error.message));
}

export interface BudgetContext {
  timeoutMs: number;
  limitedBy: TimeoutSource;
  /** The step's or script's whole budget, when one of them limited the action. */
  budgetMs?: number | undefined;
}

/**
 * The error for an action whose time ran out, named after the budget that limited it: running out of the
 * step's budget is a step timeout, not a slow element. `detail` says what was being waited for.
 */
export function budgetTimeout(context: BudgetContext, detail?: string, cause?: unknown): EngineError {
  const timeoutCode = context.limitedBy === 'step' ? 'STEP_TIMEOUT' : context.limitedBy === 'script' ? 'SCRIPT_TIMEOUT' : 'ACTION_TIMEOUT';
  const text =
    context.limitedBy === 'action'
      ? `timed out after ${context.timeoutMs} ms${detail === undefined ? '' : ` (${detail})`}`
      : `timed out: the ${context.limitedBy}'s ${context.budgetMs ?? context.timeoutMs} ms budget ran out${detail === undefined ? '' : ` (${detail})`}`;
  return new EngineError(timeoutCode, text, 'site', cause === undefined ? undefined : { cause });
}

/**
 * Map whatever an action threw to an EngineError with a plain-language message and the right blame.
 * `limitedBy` says which budget set the timeout, so running out of the step's budget is reported as a step
 * timeout, not as a slow element.
 */
export function mapActionError(
  error: unknown,
  context: BudgetContext & { browserConnected: boolean; selector?: string | undefined },
): EngineError {
  if (!context.browserConnected) {
    if (error instanceof EngineError && (error.code === 'BROWSER_CRASHED' || error.code === 'RUN_ABORTED')) return error;
    return new EngineError('BROWSER_CRASHED', 'the browser crashed or was closed during the action', 'engine', { cause: error });
  }
  const timeoutCode = context.limitedBy === 'step' ? 'STEP_TIMEOUT' : context.limitedBy === 'script' ? 'SCRIPT_TIMEOUT' : undefined;
  const budgetNote = context.limitedBy === 'action' ? '' : ` (the ${context.limitedBy}'s ${context.budgetMs ?? ''} ms budget ran out)`.replace('  ', ' ');
  if (error instanceof EngineError) {
    const isTimeout = error.code === 'ACTION_TIMEOUT' || error.code === 'SELECTOR_NOT_FOUND' || error.code === 'ASSERTION_FAILED';
    if (timeoutCode !== undefined && isTimeout) {
      return new EngineError(timeoutCode, `${error.message}${budgetNote}`, 'site', { cause: error });
    }
    return error;
  }
  if (isPlaywrightTimeout(error)) return budgetTimeout(context, callLogReason(error.message), error);
  const message = error instanceof Error ? error.message : String(error);
  if (/strict mode violation/.test(message)) {
    const count = /resolved to (\d+) elements/.exec(message)?.[1];
    return new EngineError('SELECTOR_AMBIGUOUS', `${context.selector ?? 'the selector'} matches ${count ?? 'several'} elements; make it match exactly one`, 'script', { cause: error });
  }
  if (/Target page, context or browser has been closed|Target closed|has been closed/.test(message)) {
    return new EngineError('TAB_NOT_FOUND', 'the tab was closed during the action', 'site', { cause: error });
  }
  if (/crash/i.test(message)) {
    return new EngineError('BROWSER_CRASHED', `the page crashed: ${firstLine(message)}`, 'engine', { cause: error });
  }
  if (/^(locator|page|frame|keyboard|elementHandle)\./.test(message)) {
    return new EngineError('ELEMENT_NOT_ACTIONABLE', firstLine(message), 'script', { cause: error });
  }
  return new EngineError('INTERNAL', firstLine(message), 'engine', { cause: error });
}
