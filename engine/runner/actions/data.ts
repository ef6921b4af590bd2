import { assertNever, EngineError } from '../../core/errors.ts';
import type { ActionOf } from '../../schema/actions.ts';
import { resolveSelector } from '../selectors.ts';
import { callTimeoutMs, inSettledDocument, outcomeOf, type ActionEnvironment, type ActionHandlers, type ActionOutcome } from './types.ts';

/** Reading values out of the page into script variables. */
export const dataHandlers: Pick<ActionHandlers, 'extract' | 'evaluate'> = {
  async extract(action, env) {
    const { value, outcome } = await extractValue(env, action);
    env.setVariable(action.variable, applyPattern(value, action.pattern));
    return outcome;
  },

  async evaluate(action, env) {
    let value: unknown;
    try {
      value = await inSettledDocument(env, () => env.session.frame.evaluate(action.expression));
    } catch (error) {
      const message = error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
      throw new EngineError('EVALUATION_FAILED', `the expression threw: ${message.replace(/^(frame|page)\.evaluate: /, '')}`, 'site', { cause: error });
    }
    if (action.variable !== undefined) env.setVariable(action.variable, stringify(value));
    return {};
  },
};

function urlPart(href: string, part: ActionOf<'extract'>['urlPart'], param: string | undefined): string {
  const url = new URL(href);
  switch (part) {
    case undefined:
    case 'href':
      return url.href;
    case 'origin':
      return url.origin;
    case 'host':
      return url.host;
    case 'pathname':
      return url.pathname;
    case 'search':
      return url.search;
    case 'hash':
      return url.hash;
    case 'param':
      return url.searchParams.get(param ?? '') ?? '';
    default:
      return assertNever(part, 'url part');
  }
}

async function extractValue(env: ActionEnvironment, action: ActionOf<'extract'>): Promise<{ value: string; outcome: ActionOutcome }> {
  if (action.from === 'url') return { value: urlPart(env.session.frame.url(), action.urlPart, action.param), outcome: {} };
  if (action.selector === undefined) throw new EngineError('SCRIPT_INVALID', 'extract needs a selector', 'script');
  const { deadline } = env;
  const resolved = await resolveSelector(env.session.frame, action.selector, deadline, env.timeoutMs);
  const element = resolved.locator.first();
  let value: string;
  switch (action.from) {
    case 'text':
      value = (await element.innerText({ timeout: callTimeoutMs(deadline) })).trim();
      break;
    case 'value':
      value = await element.inputValue({ timeout: callTimeoutMs(deadline) });
      break;
    case 'attribute':
      value = (await element.getAttribute(action.attribute ?? '', { timeout: callTimeoutMs(deadline) })) ?? '';
      break;
    default:
      return assertNever(action.from, 'extract source');
  }
  return { value, outcome: outcomeOf(resolved) };
}

function applyPattern(value: string, pattern: string | undefined): string {
  if (pattern === undefined) return value;
  const match = new RegExp(pattern).exec(value);
  if (match === null) throw new EngineError('ASSERTION_FAILED', `value ${JSON.stringify(value.slice(0, 200))} does not match /${pattern}/`, 'site');
  return match[1] ?? match[0];
}

function stringify(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  return JSON.stringify(value) ?? '';
}
