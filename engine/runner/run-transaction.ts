import { randomUUID } from 'node:crypto';
import { dirname } from 'node:path';
import type { Browser, CDPSession } from 'playwright-core';
import { devtoolsEndpointOf } from '../browser/devtools-endpoint.ts';
import { singleBrowserProvider, type Lease, type LeaseProvider } from '../browser/lease.ts';
import type { ArtifactSink, Collector, CollectorContext, StepInfo } from '../collectors/collector.ts';
import { filmstripCollector } from '../collectors/filmstrip-collector.ts';
import { navigationCollector } from '../collectors/navigation-collector.ts';
import { networkCollector, type NetworkCollectorOptions } from '../collectors/network-collector.ts';
import { NetworkTracker } from '../collectors/network-tracker.ts';
import { screenshotCollector } from '../collectors/screenshot-collector.ts';
import { vitalsCollector } from '../collectors/vitals-collector.ts';
import { systemClock, type Clock } from '../core/clock.ts';
import { EngineError, toEngineError } from '../core/errors.ts';
import { capturePolicy, privacyLockFromEnv, type CaptureRequest } from '../core/privacy.ts';
import type { Redactor } from '../core/redactor.ts';
import { overallStatus, scriptTimeoutMs, shouldRunStep, type StepOutcome } from '../core/run-plan.ts';
import { renderDeep } from '../core/templates.ts';
import { resultSchemaVersion, type Artifact, type RunResult, type StepResult } from '../schema/result.ts';
import type { Script, Step } from '../schema/script.ts';
import { contextOptionsFrom } from '../browser/context-options.ts';
import { prepareRun } from './prepare-run.ts';
import { RunSession } from './session.ts';
import { withDeadline } from './poll.ts';
import { executeStep } from './step-executor.ts';

export { prepareRun } from './prepare-run.ts';

/** Progress events for live output. Listeners must not throw; they are called synchronously. */
export interface RunListener {
  onRunStart?(info: { runId: string; script: string; stepCount: number }): void;
  onStepStart?(info: { index: number; name: string }): void;
  onStepEnd?(info: { index: number; result: StepResult }): void;
}

export interface RunTransactionOptions extends CaptureRequest {
  script: Script;
  /** Path of the script file; relative upload paths resolve against its directory. */
  scriptPath?: string;
  /** Where the fresh context comes from: a pool, or a single browser (wrapped for you). */
  browser: Browser | LeaseProvider;
  /** `--var` overrides of the script's variables. */
  variables?: Readonly<Record<string, string>>;
  /** Secret look-up (environment, secrets file). Values are masked in every output. */
  secret: (name: string) => string | undefined;
  /** Where captured files go. Without a sink no image is captured. */
  artifacts?: ArtifactSink;
  /**
   * The checkpoint's privacy lock: no screenshots or filmstrips whatever the script or request says.
   * Default: from the CHECKPOINT_PRIVACY_LOCK environment variable.
   */
  privacyLock?: boolean;
  /** Options of the built-in network collector (HAR creator, `replay --har FILE`). */
  network?: NetworkCollectorOptions;
  /**
   * Extra collectors, run after the built-in ones (navigation, requests, network, vitals, filmstrip) and before
   * screenshots. One named like a built-in collector replaces it.
   */
  collectors?: readonly Collector[];
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

function skippedStep(step: Step): StepResult {
  return { name: step.name, status: 'skipped', durationMs: 0, actions: [] };
}

const round2 = (ms: number) => Math.round(ms * 100) / 100;

/**
 * The built-in collectors with the extra ones inserted before the screenshot collector (the last one); an
 * extra collector whose name matches a built-in one takes its place (tests, custom settings).
 */
function withReplacements(builtIn: readonly Collector[], extra: readonly Collector[]): Collector[] {
  const replaced = builtIn.map((collector) => extra.find((e) => e.name === collector.name) ?? collector);
  const added = extra.filter((e) => !builtIn.some((collector) => collector.name === e.name));
  return [...replaced.slice(0, -1), ...added, ...replaced.slice(-1)];
}

/** Deadline of one collector hook unless the collector declares its own (Lighthouse needs longer). */
const defaultHookTimeoutMs = 10_000;

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
  const lock = options.privacyLock ?? privacyLockFromEnv(process.env);
  const startedAt = clock.wallNow().toISOString();
  const runStartMs = clock.nowMs();
  const scriptDeadlineMs = runStartMs + scriptTimeoutMs(script);
  const artifacts: Artifact[] = [];
  const warnings: { collector: string; message: string }[] = [];
  const steps: StepResult[] = [];
  const outcomes: StepOutcome[] = [];
  let engineFault: EngineError | undefined;
  let lease: Lease | undefined;
  let collectors: Collector[] = [];
  let collectorContext: CollectorContext | undefined;

  /** Run one hook of every collector; a failure becomes a warning, never a failed run. */
  async function eachCollector<T>(hook: (collector: Collector, ctx: CollectorContext) => Promise<T> | undefined): Promise<T[]> {
    const out: T[] = [];
    if (collectorContext === undefined) return out;
    for (const collector of collectors) {
      try {
        const work = hook(collector, collectorContext);
        if (work === undefined) continue;
        // A page stuck in a loop or a dialog must not hang measurement: every hook has a deadline.
        const limitMs = Math.max(1, Math.min(collector.hookTimeoutMs ?? defaultHookTimeoutMs, scriptDeadlineMs - clock.nowMs() + defaultHookTimeoutMs));
        const value = await withDeadline(work, limitMs, () => new Error(`${collector.name} took longer than ${limitMs} ms`));
        if (value !== undefined) out.push(value);
      } catch (error) {
        warnings.push({ collector: collector.name, message: redactor.redact(error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error)) });
      }
    }
    return out;
  }

  options.listener?.onRunStart?.({ runId, script: script.name, stepCount: script.steps.length });
  try {
    const settings = renderDeep(script.settings, values, 'settings');
    lease = await provider.lease(contextOptionsFrom(settings));
    const { context, page } = lease;
    const abortSignal = options.signal === undefined ? lease.crashSignal : AbortSignal.any([lease.crashSignal, options.signal]);
    for (const pattern of settings?.blockedUrls ?? []) {
      await context.route(pattern, (route) => route.abort('blockedbyclient'));
    }
    const session = new RunSession(context, page);
    const network = new NetworkTracker(context);
    let cdp: Promise<CDPSession> | undefined;
    collectorContext = {
      runId,
      script,
      context,
      page,
      currentPage: () => session.page,
      cdp: () => (cdp ??= context.newCDPSession(page)),
      devtoolsEndpoint: devtoolsEndpointOf(lease.browser),
      clock,
      redactor,
      artifacts: options.artifacts,
      addArtifact: (artifact) => artifacts.push(artifact),
      remainingMs: () => scriptDeadlineMs - clock.nowMs(),
    };
    // Request counts, bytes and the waterfall come from CDP; when CDP cannot attach, steps lack `requests` and
    // the run says why in `warnings`.
    const builtIn = [navigationCollector(), networkCollector(options.network), vitalsCollector(), filmstripCollector()];
    collectors = withReplacements([...builtIn, screenshotCollector()], options.collectors ?? []);
    await eachCollector((collector, ctx) => collector.start?.(ctx));

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
      const info: StepInfo = {
        index: stepIndex,
        step,
        capture: capturePolicy({ lock, request: options, script: script.settings, step }),
      };
      await eachCollector((collector, ctx) => collector.beforeStep?.(ctx, info));
      const stepStartedAt = clock.wallNow().toISOString();
      const run = await executeStep(step, stepIndex, {
        script,
        session,
        network,
        values,
        setVariable: (name, value) => variables.set(name, value),
        scriptDir: options.scriptPath === undefined ? process.cwd() : dirname(options.scriptPath),
        scriptDeadlineMs,
        clock,
        abortSignal,
      });
      // Measurement and capture happen after the step's timed region.
      let result: StepResult = {
        name: step.name,
        status: run.error === undefined ? 'passed' : 'failed',
        startedAt: stepStartedAt,
        durationMs: run.durationMs,
        actions: run.actions,
        ...(run.error === undefined ? {} : { error: run.error }),
      };
      if (run.engineFault === undefined) {
        for (const fields of await eachCollector((collector, ctx) => collector.afterStep?.(ctx, info, result))) {
          result = { ...result, ...fields };
        }
      } else {
        engineFault = run.engineFault;
      }
      steps.push(result);
      outcomes.push(result.status);
      options.listener?.onStepEnd?.({ index: stepIndex, result: redactor.redactDeep(result) });
    }
    if (engineFault === undefined) {
      await eachCollector(async (collector, ctx) => {
        // Fields of earlier steps from deferred work (encoding); a step whose deferred work failed gets a warning.
        for (const [index, fields] of (await collector.finish?.(ctx, steps)) ?? []) {
          const step = steps[index];
          if (fields instanceof Error) warnings.push({ collector: collector.name, message: redactor.redact(`step ${index + 1}: ${fields.message.split('\n')[0] ?? ''}`) });
          else if (step !== undefined) steps[index] = { ...step, ...fields };
        }
      });
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
  const result: RunResult = {
    schemaVersion: resultSchemaVersion,
    runId,
    script: script.name,
    status: overallStatus(outcomes, engineFault !== undefined),
    startedAt,
    durationMs: round2(clock.nowMs() - runStartMs),
    browser: { name: 'chromium', version: lease?.browserVersion ?? '' },
    ...(options.queueWaitMs === undefined ? {} : { queueWaitMs: round2(options.queueWaitMs) }),
    ...(lease === undefined ? {} : { leaseWaitMs: round2(lease.leaseWaitMs) }),
    privacyLock: lock,
    steps,
    artifacts,
    ...(warnings.length === 0 ? {} : { warnings }),
  };
  if (engineFault !== undefined && !steps.some((step) => step.error?.blame === 'engine')) {
    result.error = engineFault.toData();
  }
  return { result: redactor.redactDeep(result), redactor };
}
