import { defaultTimeouts, type Script, type Step } from '../schema/script.ts';
import type { Action } from '../schema/actions.ts';

/** Which budget decided an action's timeout; used to name the right error when it runs out. */
export type TimeoutSource = 'action' | 'step' | 'script';

export interface ActionBudget {
  timeoutMs: number;
  limitedBy: TimeoutSource;
}

/** The timeout an action asks for before step and script budgets are applied. */
export function requestedActionTimeoutMs(action: Action, script: Script): number {
  if ('timeoutMs' in action && action.timeoutMs !== undefined) return action.timeoutMs;
  if (action.type === 'navigate') return script.settings?.navigationTimeoutMs ?? defaultTimeouts.navigationTimeoutMs;
  if (action.type === 'waitForTime') return action.durationMs + 1_000;
  return script.settings?.actionTimeoutMs ?? defaultTimeouts.actionTimeoutMs;
}

/**
 * Timeout precedence: an action gets what it asks for (its own `timeoutMs`, else the script default), but
 * never more than what is left of its step's budget or of the whole script's budget. The smallest wins and
 * is reported, so a step timeout is called a step timeout and not blamed on the action.
 */
export function actionBudget(requestedMs: number, stepRemainingMs: number, scriptRemainingMs: number): ActionBudget {
  let budget: ActionBudget = { timeoutMs: requestedMs, limitedBy: 'action' };
  if (stepRemainingMs < budget.timeoutMs) budget = { timeoutMs: stepRemainingMs, limitedBy: 'step' };
  if (scriptRemainingMs < budget.timeoutMs) budget = { timeoutMs: scriptRemainingMs, limitedBy: 'script' };
  return { timeoutMs: Math.max(0, Math.floor(budget.timeoutMs)), limitedBy: budget.limitedBy };
}

export function stepTimeoutMs(step: Step): number {
  return step.timeoutMs ?? defaultTimeouts.stepTimeoutMs;
}

export function scriptTimeoutMs(script: Script): number {
  return script.timeoutMs ?? defaultTimeouts.scriptTimeoutMs;
}

export type StepOutcome = 'passed' | 'failed' | 'skipped';

/**
 * Whether step `index` runs, given the outcomes so far. A failed step stops the transaction unless it said
 * `continueOnFailure`; an engine fault always stops it.
 */
export function shouldRunStep(steps: readonly Step[], outcomes: readonly StepOutcome[], engineFault: boolean): boolean {
  if (engineFault) return false;
  for (let i = 0; i < outcomes.length; i++) {
    if (outcomes[i] === 'failed' && steps[i]?.continueOnFailure !== true) return false;
  }
  return true;
}
