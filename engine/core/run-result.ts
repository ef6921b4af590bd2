import type { ErrorData } from './errors.ts';
import { judgeTransaction, runStatus } from './conditions.ts';
import { resultSchemaVersion, type Artifact, type RunResult, type StepResult } from '../schema/result.ts';
import type { Script, Step } from '../schema/script.ts';

const round2 = (ms: number) => Math.round(ms * 100) / 100;

/** A step that did not run. */
export function skippedStep(step: Pick<Step, 'name'>): StepResult {
  return { name: step.name, status: 'skipped', durationMs: 0, actions: [] };
}

/** Everything the runner gathered about one run, before it becomes a result. */
export interface RunFacts {
  runId: string;
  script: Script;
  startedAt: string;
  durationMs: number;
  browserVersion: string | undefined;
  queueWaitMs: number | undefined;
  leaseWaitMs: number | undefined;
  privacyLock: boolean;
  /** The steps that ran or were skipped, in order; steps never reached are added as skipped. */
  steps: readonly StepResult[];
  artifacts: readonly Artifact[];
  warnings: readonly { collector: string; message: string }[];
  /** The engine fault that ended the run, if any. */
  engineFault: ErrorData | undefined;
}

/**
 * The run result, as a pure function of what the run gathered: steps never reached are skipped, the
 * transaction's conditions are judged on the steps, the status follows (error > failed > warning > passed),
 * and an engine fault outside any step becomes the run's `error`.
 */
export function assembleRunResult(facts: RunFacts): RunResult {
  const steps = [...facts.steps, ...facts.script.steps.slice(facts.steps.length).map(skippedStep)];
  const engineFault = facts.engineFault !== undefined;
  const conditions = engineFault ? [] : judgeTransaction(steps, facts.script.conditions);
  const result: RunResult = {
    schemaVersion: resultSchemaVersion,
    runId: facts.runId,
    script: facts.script.name,
    status: runStatus(steps, conditions, engineFault),
    startedAt: facts.startedAt,
    durationMs: round2(facts.durationMs),
    browser: { name: 'chromium', version: facts.browserVersion ?? '' },
    ...(facts.queueWaitMs === undefined ? {} : { queueWaitMs: round2(facts.queueWaitMs) }),
    ...(facts.leaseWaitMs === undefined ? {} : { leaseWaitMs: round2(facts.leaseWaitMs) }),
    privacyLock: facts.privacyLock,
    steps,
    artifacts: [...facts.artifacts],
    ...(conditions.length === 0 ? {} : { conditions }),
    ...(facts.warnings.length === 0 ? {} : { warnings: [...facts.warnings] }),
  };
  if (facts.engineFault !== undefined && !steps.some((step) => step.error?.blame === 'engine')) result.error = facts.engineFault;
  return result;
}
