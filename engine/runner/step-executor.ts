import type { Clock } from '../core/clock.ts';
import type { Deadline } from '../core/deadline.ts';
import { EngineError } from '../core/errors.ts';
import { actionBudget, requestedActionTimeoutMs, scriptTimeoutMs, stepTimeoutMs } from '../core/run-plan.ts';
import { renderDeep, type TemplateValues } from '../core/templates.ts';
import type { NetworkTracker } from '../collectors/network-tracker.ts';
import type { ActionResult, StepResult } from '../schema/result.ts';
import type { Script, Step } from '../schema/script.ts';
import { executeAction } from './actions.ts';
import { budgetTimeout, mapActionError } from './error-mapping.ts';
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
  scriptDir: string | undefined;
  /** When the script's budget ends (monotonic ms): actions never get more than what is left of it. */
  scriptDeadlineMs: number;
  clock: Clock;
  /**
   * The step's deadline, a child of the run's: ends when the browser crashes, the run is cancelled, the hard
   * stop after the script budget passes, or the site answers a page with an HTTP error. Its reason becomes
   * the step's error.
   */
  deadline: Deadline;
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
    const budgetMs = budget.limitedBy === 'step' ? stepTimeoutMs(step) : scriptTimeoutMs(env.script);
    // The action's own deadline: exactly its budget. Every wait of the action polls it and Playwright calls
    // get what is left of it, so Playwright normally fails first with its own, better message.
    const deadline = env.deadline.narrow(budget.timeoutMs, () => budgetTimeout({ ...budget, budgetMs }));
    // The hard stop: ends calls that hang without honouring their timeout (a page stuck in a loop).
    const hardStop = env.deadline.narrow(budget.timeoutMs + hungCallGraceMs, () => new EngineError('ACTION_TIMEOUT', `the browser did not answer within ${budget.timeoutMs} ms (page busy or hung)`, 'site'));
    try {
      env.deadline.throwIfEnded();
      const action = renderDeep(rawAction, env.values, `steps[${stepIndex}].actions[${actionIndex}]`);
      if (budget.timeoutMs <= 0) throw new EngineError('ACTION_TIMEOUT', 'no time left', 'site');
      const outcome = await hardStop.race(
        executeAction(action, { session: env.session, network: env.network, deadline, timeoutMs: budget.timeoutMs, clock, scriptDir: env.scriptDir, setVariable: env.setVariable }),
      );
      actions.push({ index: actionIndex, type: rawAction.type, status: 'passed', durationMs: Math.round((clock.nowMs() - actionStartMs) * 100) / 100, ...outcome });
    } catch (thrown) {
      // When the step's deadline was ended from outside (crash, cancel, HTTP error), that is the cause,
      // whatever the interrupted browser call threw on its way out.
      const cause = env.deadline.ended && !env.deadline.expired ? env.deadline.reason : thrown;
      const mapped = mapActionError(cause, {
        ...budget,
        browserConnected: !(cause instanceof EngineError && cause.blame === 'engine' && (cause.code === 'BROWSER_CRASHED' || cause.code === 'RUN_ABORTED')),
        selector,
        budgetMs,
      });
      const sentence = `Step "${step.name}" › action ${actionIndex + 1} (${rawAction.type}): ${mapped.message}`;
      error = { code: mapped.code, message: sentence, blame: mapped.blame, action: actionIndex, ...(selector === undefined ? {} : { selector }) };
      actions.push({ index: actionIndex, type: rawAction.type, status: 'failed', durationMs: Math.round((clock.nowMs() - actionStartMs) * 100) / 100 });
      if (mapped.blame === 'engine') engineFault = mapped;
      break;
    } finally {
      deadline.dispose();
      hardStop.dispose();
    }
  }
  // The page the last action led to answered with an HTTP error after the action returned.
  const late = error === undefined && env.deadline.ended && !env.deadline.expired ? env.deadline.reason : undefined;
  if (late instanceof EngineError && (late.code === 'HTTP_ERROR' || late.code === 'POLICY_BLOCKED')) {
    const last = actions.length - 1;
    const lastAction = actions[last];
    if (lastAction !== undefined) actions[last] = { ...lastAction, status: 'failed' };
    error = { code: late.code, message: `Step "${step.name}" › action ${last + 1} (${lastAction?.type ?? 'unknown'}): ${late.message}`, blame: late.blame, action: Math.max(0, last) };
  }
  const durationMs = Math.round((clock.nowMs() - stepStartMs) * 100) / 100;
  for (let skipped = actions.length; skipped < step.actions.length; skipped++) {
    actions.push({ index: skipped, type: step.actions[skipped]?.type ?? 'unknown', status: 'skipped', durationMs: 0 });
  }
  return { actions, durationMs, ...(error === undefined ? {} : { error }), ...(engineFault === undefined ? {} : { engineFault }) };
}
