import type { Clock } from '../../core/clock.ts';
import type { Deadline } from '../../core/deadline.ts';
import type { NetworkTracker } from '../../collectors/network-tracker.ts';
import type { ActionOf, ActionType } from '../../schema/actions.ts';
import type { ResolvedLocator } from '../selectors.ts';
import type { RunSession } from '../session.ts';

export interface ActionEnvironment {
  session: RunSession;
  network: NetworkTracker;
  /**
   * The action's own deadline: exactly its budget, already capped by the step and script budgets. Every wait
   * polls, sleeps and hands Playwright what is left of it; a cancel or crash ends it at once.
   */
  deadline: Deadline;
  /** The budget the deadline started with, for messages ("… within N ms"). */
  timeoutMs: number;
  clock: Clock;
  /**
   * The only directory `upload` reads files from (the script's own for local replay, the configured uploads
   * directory on an agent); relative paths resolve against it. Undefined: file uploads are refused.
   */
  scriptDir: string | undefined;
  setVariable: (name: string, value: string) => void;
}

export interface ActionOutcome {
  matchedSelector?: string;
  matchedSelectorIndex?: number;
}

export type ActionHandler<T extends ActionType> = (action: ActionOf<T>, env: ActionEnvironment) => Promise<ActionOutcome>;

/** One handler per action type: an action type without one does not compile. */
export type ActionHandlers = { [T in ActionType]: ActionHandler<T> };

export function outcomeOf(resolved: ResolvedLocator): ActionOutcome {
  return { matchedSelector: resolved.selector, matchedSelectorIndex: resolved.index };
}

/** The `timeout` of a Playwright call: what is left of the deadline, never 0 (which Playwright reads as "no limit"). */
export function callTimeoutMs(deadline: Deadline): number {
  return Math.max(1, Math.floor(deadline.remainingMs()));
}

/** Playwright's words for "the document this call ran in went away" (a navigation committed meanwhile). */
const destroyedContext = /Execution context was destroyed|Cannot find context with specified id/;

/**
 * Run page code in the document that is there: when a navigation (a submit the previous action started) tears the
 * document down under the call, wait for the new one and run it again there, within the action's deadline. What
 * the code itself throws is not retried.
 */
export async function inSettledDocument<T>(env: ActionEnvironment, run: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      if (attempt >= 3 || !(error instanceof Error) || !destroyedContext.test(error.message) || env.deadline.signal.aborted) throw error;
      await env.session.frame.waitForLoadState('domcontentloaded', { timeout: callTimeoutMs(env.deadline) });
    }
  }
}
