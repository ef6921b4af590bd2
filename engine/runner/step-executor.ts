import type { Clock } from '../core/clock.ts';
import { EngineError } from '../core/errors.ts';
import { actionBudget, requestedActionTimeoutMs, scriptTimeoutMs, stepTimeoutMs } from '../core/run-plan.ts';
import { renderDeep, type TemplateValues } from '../core/templates.ts';
import type { NetworkTracker } from '../collectors/network-tracker.ts';
import type { ActionResult, StepResult } from '../schema/result.ts';
import type { Script, Step } from '../schema/script.ts';
import { executeAction } from './actions.ts';
import { mapActionError } from './error-mapping.ts';
import { withDeadline } from './poll.ts';
import { describeSelector } from './selectors.ts';
import type { RunSession } from './session.ts';

/** Extra time past an action's own timeout before the runner stops waiting for a stuck browser call. */
const hungCallGraceMs = 2_000;

export interface StepRun {
  actions: ActionResult[];
  durationMs: number;
  error?: NonNullable<StepResult['error']>;
  /** Set when the failure is the engine's (crash, abort): the run stops and its status is `error`. */
  engineFault?: EngineError;
}

export interface StepExecutorEnvironment {
  script: Script;
  session: RunSession;
  network: NetworkTracker;
  values: TemplateValues;
  setVariable: (name: string, value: string) => void;
  scriptDir: string;
  scriptDeadlineMs: number;
  clock: Clock;
  /** Aborts when the browser crashes or the run is cancelled. */
  abortSignal: AbortSignal;
}

/** Reject as soon as `signal` aborts (the browser or page crashed), whatever the work is doing. */
function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    // Observe the work anyway: its later rejection must not become an unhandled rejection.
    work.catch(() => undefined);
    return Promise.reject(signal.reason as Error);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * Run the actions of one step: the step's timed region, nothing else. Stops at the first failure, which it
 * returns as a one-sentence error naming step, action and selector.
 */
export async function executeStep(step: Step, stepIndex: number, env: StepExecutorEnvironment): Promise<StepRun> {
  const { clock } = env;
  const actions: ActionResult[] = [];
  const stepStartMs = clock.nowMs();
  const stepDeadlineMs = stepStartMs + stepTimeoutMs(step);
  let error: StepRun['error'];
  let engineFault: EngineError | undefined;
  for (const [actionIndex, rawAction] of step.actions.entries()) {
    const actionStartMs = clock.nowMs();
    const budget = actionBudget(requestedActionTimeoutMs(rawAction, env.script), stepDeadlineMs - actionStartMs, env.scriptDeadlineMs - actionStartMs);
    const selector = 'selector' in rawAction && rawAction.selector !== undefined ? describeSelector(rawAction.selector) : undefined;
    try {
      const action = renderDeep(rawAction, env.values, `steps[${stepIndex}].actions[${actionIndex}]`);
      if (budget.timeoutMs <= 0) throw new EngineError('ACTION_TIMEOUT', 'no time left', 'site');
      const outcome = await withDeadline(
        abortable(
          executeAction(action, { session: env.session, network: env.network, timeoutMs: budget.timeoutMs, scriptDir: env.scriptDir, setVariable: env.setVariable }),
          env.abortSignal,
        ),
        budget.timeoutMs + hungCallGraceMs,
        () => new EngineError('ACTION_TIMEOUT', `the browser did not answer within ${budget.timeoutMs} ms (page busy or hung)`, 'site'),
      );
      actions.push({ index: actionIndex, type: rawAction.type, status: 'passed', durationMs: Math.round((clock.nowMs() - actionStartMs) * 100) / 100, ...outcome });
    } catch (thrown) {
      const mapped = mapActionError(thrown, {
        ...budget,
        browserConnected: !env.abortSignal.aborted,
        selector,
        budgetMs: budget.limitedBy === 'step' ? stepTimeoutMs(step) : scriptTimeoutMs(env.script),
      });
      const sentence = `Step "${step.name}" › action ${actionIndex + 1} (${rawAction.type}): ${mapped.message}`;
      error = { code: mapped.code, message: sentence, blame: mapped.blame, action: actionIndex, ...(selector === undefined ? {} : { selector }) };
      actions.push({ index: actionIndex, type: rawAction.type, status: 'failed', durationMs: Math.round((clock.nowMs() - actionStartMs) * 100) / 100 });
      if (mapped.blame === 'engine') engineFault = mapped;
      break;
    }
  }
  const durationMs = Math.round((clock.nowMs() - stepStartMs) * 100) / 100;
  for (let skipped = actions.length; skipped < step.actions.length; skipped++) {
    actions.push({ index: skipped, type: step.actions[skipped]?.type ?? 'unknown', status: 'skipped', durationMs: 0 });
  }
  return { actions, durationMs, ...(error === undefined ? {} : { error }), ...(engineFault === undefined ? {} : { engineFault }) };
}
