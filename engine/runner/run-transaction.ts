import { randomUUID } from 'node:crypto';
import { dirname } from 'node:path';
import type { Page } from 'playwright-core';
import { singleBrowserProvider, type Lease, type LeaseProvider } from '../browser/lease.ts';
import type { Browser } from 'playwright-core';
import { systemClock, type Clock } from '../core/clock.ts';
import { EngineError, toEngineError } from '../core/errors.ts';
import { navigationTimingFrom, type RawNavigationEntry } from '../core/navigation-timing.ts';
import { checkPlaceholders } from '../core/placeholder-check.ts';
import { Redactor } from '../core/redactor.ts';
import {
  actionBudget,
  overallStatus,
  requestedActionTimeoutMs,
  scriptTimeoutMs,
  shouldRunStep,
  stepTimeoutMs,
  type StepOutcome,
} from '../core/run-plan.ts';
import { renderDeep, renderTemplate, type TemplateValues } from '../core/templates.ts';
import { resultSchemaVersion, type ActionResult, type Artifact, type RunResult, type StepResult } from '../schema/result.ts';
import type { CaptureMode, Script, Step } from '../schema/script.ts';
import { executeAction } from './actions.ts';
import type { ArtifactSink } from './artifact-sink.ts';
import { contextOptionsFrom } from './context-options.ts';
import { mapActionError } from './error-mapping.ts';
import { NetworkTracker } from './network-tracker.ts';
import { withDeadline } from './poll.ts';
import { describeSelector } from './selectors.ts';
import { RunSession } from './session.ts';

/** Progress events for live output. Listeners must not throw; they are called synchronously. */
export interface RunListener {
  onRunStart?(info: { runId: string; script: string; stepCount: number }): void;
  onStepStart?(info: { index: number; name: string }): void;
  onStepEnd?(info: { index: number; result: StepResult }): void;
}

export interface RunTransactionOptions {
  script: Script;
  /** Path of the script file; relative upload paths resolve against its directory. */
  scriptPath?: string;
  /** Where the fresh context comes from: a pool, or a single browser (wrapped for you). */
  browser: Browser | LeaseProvider;
  /** `--var` overrides of the script's variables. */
  variables?: Readonly<Record<string, string>>;
  /** Secret look-up (environment, secrets file). Values are masked in every output. */
  secret: (name: string) => string | undefined;
  /** Screenshot policy from the command line; overrides the script's. */
  screenshots?: CaptureMode;
  /** Where screenshots go. Without a sink nothing is captured. */
  artifacts?: ArtifactSink;
  listener?: RunListener;
  clock?: Clock;
  runId?: string;
  /** Aborts the run (drain, cancel): the current action stops and the result says RUN_ABORTED. */
  signal?: AbortSignal;
  /** Time the run waited in a queue before it started; reported, never charged to the transaction. */
  queueWaitMs?: number;
}

export interface RunTransactionOutcome {
  result: RunResult;
  /** Masks every secret the run used; reporters pass all text through it. */
  redactor: Redactor;
}

/** Extra time past an action's own timeout before the runner stops waiting for a stuck browser call. */
const hungCallGraceMs = 2_000;
/** How long a step end waits (outside its timing) for a navigation it caused to finish loading. */
const loadSettleMs = 10_000;

async function documentOrigin(page: Page): Promise<number | undefined> {
  return page.evaluate(() => performance.timeOrigin).catch(() => undefined);
}

async function readNavigationEntry(page: Page): Promise<RawNavigationEntry | undefined> {
  return page
    .evaluate(() => {
      const entry = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
      return entry === undefined ? undefined : (JSON.parse(JSON.stringify(entry.toJSON())) as RawNavigationEntry);
    })
    .catch(() => undefined);
}

/** Reject as soon as `signal` aborts (the browser or page crashed), whatever the work is doing. */
function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Resolve every secret up front: a missing one is bad input, found before a browser is touched. */
function resolveSecrets(names: readonly string[], lookup: (name: string) => string | undefined): Map<string, string> {
  const values = new Map<string, string>();
  const missing = names.filter((name) => {
    const value = lookup(name);
    if (value !== undefined) values.set(name, value);
    return value === undefined;
  });
  if (missing.length > 0) {
    throw new EngineError(
      'SECRET_MISSING',
      `secret${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')} not set (expected environment variable${missing.length > 1 ? 's' : ''} ${missing.join(', ')} or entries in the secrets file)`,
      'script',
    );
  }
  return values;
}

/**
 * Validate placeholders and resolve secrets without a browser. Throws EngineError (blame script) for bad
 * input, so callers can exit 2 before launching anything.
 */
export function prepareRun(script: Script, overrides: Readonly<Record<string, string>>, secret: (name: string) => string | undefined) {
  const report = checkPlaceholders(script, overrides);
  if (report.problems.length > 0) {
    const first = report.problems[0];
    throw new EngineError('VARIABLE_MISSING', `${first?.path ?? ''}: ${first?.message ?? ''}`, 'script');
  }
  const secrets = resolveSecrets(report.secretNames, secret);
  const redactor = new Redactor(secrets.values());
  const variables = new Map<string, string>();
  const values: TemplateValues = { variable: (name) => variables.get(name), secret: (name) => secrets.get(name) };
  for (const [name, value] of Object.entries({ ...script.variables, ...overrides })) {
    variables.set(name, renderTemplate(value, values, `variables.${name}`));
  }
  const credentials = script.settings?.httpCredentials;
  if (credentials !== undefined) {
    // Basic auth sends base64("user:password"); mask that whole string too.
    const user = renderTemplate(credentials.username, values, 'settings.httpCredentials.username');
    const password = renderTemplate(credentials.password, values, 'settings.httpCredentials.password');
    if (secrets.size > 0) redactor.add(`${user}:${password}`);
  }
  return { variables, values, redactor };
}

function skippedStep(step: Step): StepResult {
  return { name: step.name, status: 'skipped', durationMs: 0, actions: [] };
}

/**
 * Run one transaction in a fresh browser context and return its result. Site and script failures are
 * results (status `failed`); engine faults are results with status `error`. Bad input found before the run
 * (missing variable or secret) throws EngineError with blame `script`.
 */
export async function runTransaction(options: RunTransactionOptions): Promise<RunTransactionOutcome> {
  const { script } = options;
  const provider: LeaseProvider = 'lease' in options.browser ? options.browser : singleBrowserProvider(options.browser);
  const clock = options.clock ?? systemClock;
  const runId = options.runId ?? randomUUID();
  const { variables, values, redactor } = prepareRun(script, options.variables ?? {}, options.secret);
  const scriptDir = options.scriptPath === undefined ? process.cwd() : dirname(options.scriptPath);
  const startedAt = clock.wallNow().toISOString();
  const runStartMs = clock.nowMs();
  const scriptDeadlineMs = runStartMs + scriptTimeoutMs(script);
  const artifacts: Artifact[] = [];
  const steps: StepResult[] = [];
  const outcomes: StepOutcome[] = [];
  let engineFault: EngineError | undefined;
  let lease: Lease | undefined;
  let browserVersion = '';

  options.listener?.onRunStart?.({ runId, script: script.name, stepCount: script.steps.length });
  try {
    const settings = renderDeep(script.settings, values, 'settings');
    lease = await provider.lease(contextOptionsFrom(settings));
    browserVersion = lease.browserVersion;
    const { context, page } = lease;
    const crashSignal = options.signal === undefined ? lease.crashSignal : AbortSignal.any([lease.crashSignal, options.signal]);
    for (const pattern of settings?.blockedUrls ?? []) {
      await context.route(pattern, (route) => route.abort('blockedbyclient'));
    }
    const session = new RunSession(context, page);
    const network = new NetworkTracker(context);

    for (const [stepIndex, step] of script.steps.entries()) {
      if (options.signal?.aborted === true && engineFault === undefined) {
        engineFault = new EngineError('RUN_ABORTED', 'the run was aborted before this step (checkpoint draining or run cancelled)', 'engine');
      }
      if (!shouldRunStep(script.steps, outcomes, engineFault !== undefined)) {
        steps.push(skippedStep(step));
        outcomes.push('skipped');
        continue;
      }
      options.listener?.onStepStart?.({ index: stepIndex, name: step.name });
      const stepStartedAt = clock.wallNow().toISOString();
      const startPage = session.page;
      const originBefore = await documentOrigin(startPage);
      const actions: ActionResult[] = [];
      let error: StepResult['error'];
      const stepStartMs = clock.nowMs();
      const stepDeadlineMs = stepStartMs + stepTimeoutMs(step);

      for (const [actionIndex, rawAction] of step.actions.entries()) {
        const actionStartMs = clock.nowMs();
        const budget = actionBudget(
          requestedActionTimeoutMs(rawAction, script),
          stepDeadlineMs - actionStartMs,
          scriptDeadlineMs - actionStartMs,
        );
        const selector = 'selector' in rawAction && rawAction.selector !== undefined ? describeSelector(rawAction.selector) : undefined;
        try {
          const action = renderDeep(rawAction, values, `steps[${stepIndex}].actions[${actionIndex}]`);
          if (budget.timeoutMs <= 0) throw new EngineError('ACTION_TIMEOUT', 'no time left', 'site');
          const outcome = await withDeadline(
            abortable(executeAction(action, {
              session,
              network,
              timeoutMs: budget.timeoutMs,
              scriptDir,
              setVariable: (name, value) => variables.set(name, value),
            }), crashSignal),
            budget.timeoutMs + hungCallGraceMs,
            () => new EngineError('ACTION_TIMEOUT', `the browser did not answer within ${budget.timeoutMs} ms (page busy or hung)`, 'site'),
          );
          actions.push({ index: actionIndex, type: rawAction.type, status: 'passed', durationMs: clock.nowMs() - actionStartMs, ...outcome });
        } catch (thrown) {
          const mapped = mapActionError(thrown, {
            ...budget,
            browserConnected: !crashSignal.aborted,
            selector,
            budgetMs: budget.limitedBy === 'step' ? stepTimeoutMs(step) : scriptTimeoutMs(script),
          });
          const sentence = `Step "${step.name}" › action ${actionIndex + 1} (${rawAction.type}): ${mapped.message}`;
          error = { code: mapped.code, message: sentence, blame: mapped.blame, action: actionIndex, ...(selector === undefined ? {} : { selector }) };
          actions.push({ index: actionIndex, type: rawAction.type, status: 'failed', durationMs: clock.nowMs() - actionStartMs });
          if (mapped.blame === 'engine') engineFault = mapped;
          break;
        }
      }
      const durationMs = clock.nowMs() - stepStartMs;
      for (let skipped = actions.length; skipped < step.actions.length; skipped++) {
        actions.push({ index: skipped, type: step.actions[skipped]?.type ?? 'unknown', status: 'skipped', durationMs: 0 });
      }

      // Measurement and capture happen after the step's timed region.
      const result: StepResult = {
        name: step.name,
        status: error === undefined ? 'passed' : 'failed',
        startedAt: stepStartedAt,
        durationMs: Math.round(durationMs * 100) / 100,
        actions,
      };
      if (engineFault === undefined) {
        const endPage = session.page;
        result.url = endPage.url();
        const originAfter = await documentOrigin(endPage);
        if (endPage !== startPage || (originAfter !== undefined && originAfter !== originBefore)) {
          await endPage.waitForLoadState('load', { timeout: Math.max(1, Math.min(loadSettleMs, scriptDeadlineMs - clock.nowMs())) }).catch(() => undefined);
          const entry = await readNavigationEntry(endPage);
          if (entry !== undefined && entry.name.startsWith('http')) result.navigation = navigationTimingFrom(entry);
        }
        result.requests = await network.takeCounts();
        const mode = step.screenshot ?? options.screenshots ?? script.settings?.screenshots ?? 'failure';
        if (options.artifacts !== undefined && (mode === 'all' || (mode === 'failure' && error !== undefined))) {
          const bytes = await withDeadline(endPage.screenshot({ timeout: 10_000 }), 12_000, () => new Error('screenshot timed out')).catch(() => undefined);
          if (bytes !== undefined) {
            const artifact = await options.artifacts.write({
              kind: 'screenshot',
              name: `step-${String(stepIndex + 1).padStart(2, '0')}${error === undefined ? '' : '-failure'}.png`,
              bytes,
              contentType: 'image/png',
              step: stepIndex,
            });
            artifacts.push(artifact);
            result.screenshot = artifact.path;
          }
        }
      }
      if (error !== undefined) result.error = error;
      steps.push(result);
      outcomes.push(result.status);
      options.listener?.onStepEnd?.({ index: stepIndex, result: redactor.redactDeep(result) });
    }
  } catch (thrown) {
    engineFault = toEngineError(thrown);
  } finally {
    await lease?.release();
  }

  // Steps never reached because of an engine fault outside any step.
  for (let index = steps.length; index < script.steps.length; index++) {
    const step = script.steps[index];
    if (step !== undefined) steps.push(skippedStep(step));
  }
  const status = overallStatus(outcomes, engineFault !== undefined);
  const result: RunResult = {
    schemaVersion: resultSchemaVersion,
    runId,
    script: script.name,
    status,
    startedAt,
    durationMs: Math.round((clock.nowMs() - runStartMs) * 100) / 100,
    browser: { name: 'chromium', version: browserVersion },
    ...(options.queueWaitMs === undefined ? {} : { queueWaitMs: Math.round(options.queueWaitMs * 100) / 100 }),
    ...(lease === undefined ? {} : { leaseWaitMs: Math.round(lease.leaseWaitMs * 100) / 100 }),
    steps,
    artifacts,
  };
  if (engineFault !== undefined && !steps.some((step) => step.error?.blame === 'engine')) {
    result.error = engineFault.toData();
  }
  return { result: redactor.redactDeep(result), redactor };
}
