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

/**
 * Map whatever an action threw to an EngineError with a plain-language message and the right blame.
 * `limitedBy` says which budget set the timeout, so running out of the step's budget is reported as a step
 * timeout, not as a slow element.
 */
export function mapActionError(
  error: unknown,
  context: { timeoutMs: number; limitedBy: TimeoutSource; browserConnected: boolean; selector?: string | undefined; budgetMs?: number },
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
  const message = error instanceof Error ? error.message : String(error);
  const name = error instanceof Error ? error.name : '';
  if (name === 'TimeoutError' || /Timeout [\d.]+ms exceeded/.test(message)) {
    const reason = callLogReason(message);
    const text =
      context.limitedBy === 'action'
        ? `timed out after ${context.timeoutMs} ms${reason === undefined ? '' : ` (${reason})`}`
        : `timed out: the ${context.limitedBy}'s ${context.budgetMs ?? context.timeoutMs} ms budget ran out${reason === undefined ? '' : ` (${reason})`}`;
    return new EngineError(timeoutCode ?? 'ACTION_TIMEOUT', text, 'site', { cause: error });
  }
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
