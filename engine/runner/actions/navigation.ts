import { checkScheme, egressAbortErrorText } from '../../core/egress-policy.ts';
import { EngineError } from '../../core/errors.ts';
import { isPlaywrightTimeout } from '../error-mapping.ts';
import { callTimeoutMs, type ActionHandlers } from './types.ts';

/** Opening pages and shaping the window they are shown in. */
export const navigationHandlers: Pick<ActionHandlers, 'navigate' | 'setViewport'> = {
  async navigate(action, { session, deadline }) {
    const base = session.page.url();
    const url = /^[a-z][a-z0-9+.-]*:/i.test(action.url) || base === 'about:blank' ? action.url : new URL(action.url, base).href;
    // file:, javascript:, chrome:… are refused before the browser is asked; hosts and addresses are the egress guard's.
    const scheme = checkScheme(url, 'navigation');
    if (!scheme.allowed) throw new EngineError('POLICY_BLOCKED', `cannot open ${url}: ${scheme.rule}`, 'script');
    try {
      // A page answering 400 or more fails the step through the runner's HttpErrorWatcher, which applies to
      // every action and honours settings.allowHttpStatuses.
      await session.page.goto(url, { timeout: callTimeoutMs(deadline), waitUntil: action.waitUntil ?? 'load' });
    } catch (error) {
      if (error instanceof EngineError || isPlaywrightTimeout(error)) throw error;
      const message = error instanceof Error ? error.message : String(error);
      if (/Download is starting/.test(message)) {
        throw new EngineError('NAVIGATION_FAILED', `${url} answered with a file download (Content-Disposition: attachment), not a page`, 'site', { cause: error });
      }
      const reason = /net::[A-Z_]+/.exec(message)?.[0] ?? (message.split('\n')[0] ?? message).replace(/^page\.goto: /, '');
      // Normally the guard has already failed the step with the rule; this is the fallback without it.
      if (reason === egressAbortErrorText) throw new EngineError('POLICY_BLOCKED', `${url} is blocked by the checkpoint's egress policy`, 'script', { cause: error });
      if (/Cannot navigate to invalid URL|invalid URL/i.test(message)) throw new EngineError('SCRIPT_INVALID', `cannot open ${url}: ${reason}`, 'script', { cause: error });
      throw new EngineError('NAVIGATION_FAILED', `could not open ${url}: ${reason}`, 'site', { cause: error });
    }
    return {};
  },

  async setViewport(action, { session }) {
    await session.page.setViewportSize({ width: action.width, height: action.height });
    return {};
  },
};
