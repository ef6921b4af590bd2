import { randomUUID } from 'node:crypto';
import { dirname } from 'node:path';
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core';
import { devtoolsEndpointOf } from '../browser/devtools-endpoint.ts';
import { singleBrowserProvider, type Lease, type LeaseProvider } from '../browser/lease.ts';
import type { ArtifactSink, Collector, CollectorContext, StepInfo } from '../collectors/collector.ts';
import { filmstripCollector } from '../collectors/filmstrip-collector.ts';
import { navigationCollector } from '../collectors/navigation-collector.ts';
import { networkCollector, type NetworkCollectorOptions } from '../collectors/network-collector.ts';
import { NetworkTracker } from '../collectors/network-tracker.ts';
import { screenshotCollector } from '../collectors/screenshot-collector.ts';
import { vitalsCollector } from '../collectors/vitals-collector.ts';
import { consoleCollector } from '../collectors/console-collector.ts';
import { systemClock, type Clock } from '../core/clock.ts';
import { applyStepConditions, judgeStep, textsToRead, type TextObservation } from '../core/conditions.ts';
import { assembleRunResult, skippedStep } from '../core/run-result.ts';
import { Deadline } from '../core/deadline.ts';
import { EngineError, toEngineError } from '../core/errors.ts';
import { capturePolicy, privacyLockFromEnv, type CaptureRequest } from '../core/privacy.ts';
import type { Redactor } from '../core/redactor.ts';
import { scriptTimeoutMs, shouldRunStep, type StepOutcome } from '../core/run-plan.ts';
import { renderDeep } from '../core/templates.ts';
import type { Artifact, RunResult, StepResult } from '../schema/result.ts';
import type { Script } from '../schema/script.ts';
import { contextOptionsFrom } from '../browser/context-options.ts';
import { EgressGuard, type EgressResolve } from '../browser/egress-guard.ts';
import { networkOf } from '../browser/launch.ts';
import { defaultEgressPolicy, type EgressPolicy } from '../core/egress-policy.ts';
import { prepareRun } from './prepare-run.ts';
import { RunSession } from './session.ts';
import { HttpErrorWatcher } from './http-error-watcher.ts';
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
  /**
   * The only directory `upload` may read files from. Default: the script file's directory; with neither, file
   * uploads are refused (inline `{ name, text }` files still work).
   */
  uploadsDir?: string;
  /**
   * Where the browser may connect (docs/security.md). Default: the built-in policy (http/https only,
   * link-local and cloud metadata addresses denied). `'off'` only for measurements of the guard's cost.
   */
  egress?: EgressPolicy | 'off';
  /** Resolver the egress guard vets names with (tests); default node:dns lookup. */
  egressResolve?: EgressResolve;
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
 * After a failed step, everything the collectors do for it (failure screenshot first) shares this budget, and
 * whole-run work (the HAR) gets `windDownMs` more: a run that fails at T has ended by about T + 3 s even when
 * the page hangs.
 */
const failureCaptureMs = 2_000;
const windDownMs = 1_000;
/** The hard stop after the script budget: actions get the budget itself; this catches calls that hang. */
const scriptGraceMs = 2_000;

const firstLine = (error: unknown) => (error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error));

/**
 * After a failure, stop a page load still under way (as Esc would): the verdict is already decided, and a page
 * waiting on a hung server runs no script, so masking and the failure screenshot could not happen at all.
 */
async function stopLoading(context: BrowserContext, page: Page, shared: () => Promise<CDPSession>, isFirstTab: boolean, deadline: Deadline): Promise<void> {
  if (page.isClosed()) return;
  // At most a quarter of the capture window: the screenshot after it needs the rest. Within it, a page that is
  // arriving (an error page after the click that led to it) may first commit, so the screenshot shows it.
  const limit = deadline.narrow(deadline.remainingMs() / 4, () => new Error('stopping the page load took too long'));
  try {
    await limit.race(page.waitForLoadState('domcontentloaded', { timeout: Math.max(1, Math.floor(limit.remainingMs() / 2)) })).catch(() => undefined);
    // The first tab's CDP session already exists (the network collector's): no extra round trip under load.
    const session = await limit.race(isFirstTab ? shared() : context.newCDPSession(page));
    await limit.race(session.send('Page.stopLoading'));
    if (!isFirstTab) void session.detach().catch(() => undefined);
  } catch {
    // Capture then works with what it gets.
  } finally {
    limit.dispose();
  }
}

/** One warning per refused subresource (navigations fail their step instead), at most 20 and a count of the rest. */
function egressWarnings(guard: EgressGuard, redactor: Redactor): { collector: string; message: string }[] {
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const block of guard.blocked) {
    if (block.navigation || block.afterConnect || seen.has(block.url)) continue;
    seen.add(block.url);
    lines.push(`blocked ${block.url}: ${block.rule}`);
  }
  const shown = lines.slice(0, 20).map((message) => ({ collector: 'egress-policy', message: redactor.redact(message) }));
  if (lines.length > 20) shown.push({ collector: 'egress-policy', message: `${lines.length - 20} more requests blocked by the egress policy` });
  return shown;
}

/** Read whether each text is on the page (visible text of the main frame), within the deadline. */
async function readTexts(page: Page, texts: readonly string[], deadline: Deadline): Promise<TextObservation[] | undefined> {
  if (texts.length === 0 || page.isClosed()) return undefined;
  try {
    const present = await deadline.race(page.mainFrame().evaluate((wanted) => {
      const text = document.body?.innerText ?? '';
      return wanted.map((t) => text.includes(t));
    }, [...texts]));
    return texts.map((text, index) => ({ text, present: present[index] === true }));
  } catch {
    return undefined;
  }
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
  const lock = options.privacyLock ?? privacyLockFromEnv(process.env);
  const startedAt = clock.wallNow().toISOString();
  const runStartMs = clock.nowMs();
  const scriptDeadlineMs = runStartMs + scriptTimeoutMs(script);
  // One deadline per run. `run` ends only by abort (cancel, drain, browser crash); `scripted` is the hard stop
  // after the script's budget; steps, actions and collector hooks narrow one of them.
  const run = Deadline.start({ clock, budgetMs: Number.POSITIVE_INFINITY, onExpire: () => new Error('unreachable'), signal: options.signal });
  const scripted = run.narrow(scriptTimeoutMs(script) + scriptGraceMs, () => new EngineError('SCRIPT_TIMEOUT', `the transaction's ${scriptTimeoutMs(script)} ms budget ran out`, 'site'));
  const artifacts: Artifact[] = [];
  const warnings: { collector: string; message: string }[] = [];
  const steps: StepResult[] = [];
  const outcomes: StepOutcome[] = [];
  let engineFault: EngineError | undefined;
  let lease: Lease | undefined;
  let collectors: Collector[] = [];
  let collectorContext: CollectorContext | undefined;
  let httpErrors: HttpErrorWatcher | undefined;
  let egress: EgressGuard | undefined;
  /** Set after a failed step: all capture for it shares this deadline. */
  let captureWindow: Deadline | undefined;

  /** One collector's hook under its own deadline, in a context whose `deadline()` is that deadline. */
  async function runHook<T>(collector: Collector, hook: (collector: Collector, ctx: CollectorContext) => Promise<T> | undefined): Promise<Awaited<T> | undefined> {
    if (collectorContext === undefined) return undefined;
    // A page stuck in a loop or a dialog must not hang measurement: every hook has a deadline.
    const limitMs = captureWindow === undefined ? Math.min(collector.hookTimeoutMs ?? defaultHookTimeoutMs, Math.max(0, scriptDeadlineMs - clock.nowMs()) + defaultHookTimeoutMs) : (collector.hookTimeoutMs ?? defaultHookTimeoutMs);
    const deadline = (captureWindow ?? run).narrow(Math.max(1, limitMs), () => new Error(`${collector.name} took longer than ${Math.round(limitMs)} ms`));
    const ctx: CollectorContext = { ...collectorContext, deadline: () => deadline, remainingMs: () => deadline.remainingMs() };
    try {
      deadline.throwIfEnded();
      const work = hook(collector, ctx);
      return work === undefined ? undefined : await deadline.race(work);
    } catch (error) {
      warnings.push({ collector: collector.name, message: redactor.redact(firstLine(error)) });
      return undefined;
    } finally {
      deadline.dispose();
    }
  }

  /**
   * Run one hook of every collector; a failure becomes a warning, never a failed run. `together` runs at the
   * same time (reads that do not disturb each other), then the rest one after another, in order.
   */
  async function eachCollector<T>(hook: (collector: Collector, ctx: CollectorContext) => Promise<T> | undefined, order: readonly Collector[] = collectors, together: readonly Collector[] = []): Promise<Awaited<T>[]> {
    const out: (Awaited<T> | undefined)[] = await Promise.all(together.map((collector) => runHook(collector, hook)));
    for (const collector of order) if (!together.includes(collector)) out.push(await runHook(collector, hook));
    return out.filter((value): value is Awaited<T> => value !== undefined);
  }

  options.listener?.onRunStart?.({ runId, script: script.name, stepCount: script.steps.length });
  try {
    const settings = renderDeep(script.settings, values, 'settings');
    lease = await provider.lease(contextOptionsFrom(settings));
    const { context, page } = lease;
    const crashSignal = lease.crashSignal;
    if (crashSignal.aborted) run.abort(crashSignal.reason as Error);
    else crashSignal.addEventListener('abort', () => run.abort(crashSignal.reason as Error), { once: true });
    httpErrors = new HttpErrorWatcher(context, settings?.allowHttpStatuses);
    // Before the script's own routes: those run first (Playwright calls the last one added first) and may only block more.
    if (options.egress !== 'off') egress = await EgressGuard.install(context, { policy: options.egress ?? defaultEgressPolicy, network: networkOf(lease.browser), ...(options.egressResolve === undefined ? {} : { resolve: options.egressResolve }) });
    for (const pattern of settings?.blockedUrls ?? []) {
      await context.route(pattern, (route) => route.abort('blockedbyclient'));
    }
    const session = new RunSession(context, page);
    const network = new NetworkTracker(context, clock);
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
      // Each hook gets its own deadline (runHook); between hooks there is only the run's.
      deadline: () => run,
      remainingMs: () => run.remainingMs(),
    };
    // Request counts, bytes and the waterfall come from CDP; when CDP cannot attach, steps lack `requests` and
    // the run says why in `warnings`.
    const builtIn = [navigationCollector(), networkCollector(options.network), vitalsCollector(), consoleCollector(), filmstripCollector()];
    const screenshots = screenshotCollector();
    collectors = withReplacements([...builtIn, screenshots], options.collectors ?? []);
    // The built-in measurement reads run at the same time after each step; extra collectors (Lighthouse, which
    // drives the page) and the screenshot (which paints its masks) run after them, one at a time.
    const readNames = new Set(builtIn.map((collector) => collector.name));
    const concurrentReads = collectors.filter((collector) => readNames.has(collector.name));
    // After a failure the screenshot of the moment matters most: it goes first within the capture budget.
    const failureOrder = [...collectors.filter((c) => c.name === screenshots.name), ...collectors.filter((c) => c.name !== screenshots.name)];
    await eachCollector((collector, ctx) => collector.start?.(ctx));

    for (const [stepIndex, step] of script.steps.entries()) {
      if (run.ended && engineFault === undefined) {
        const reason = run.reason;
        engineFault = reason instanceof EngineError && reason.blame === 'engine' ? reason : new EngineError('RUN_ABORTED', 'the run was aborted before this step (checkpoint draining or run cancelled)', 'engine');
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
      const stepDeadline = scripted.child();
      httpErrors.watch((error) => stepDeadline.abort(error));
      egress?.watch((error) => stepDeadline.abort(error));
      const stepRun = await executeStep(step, stepIndex, {
        script,
        session,
        network,
        values,
        setVariable: (name, value) => variables.set(name, value),
        scriptDir: options.uploadsDir ?? (options.scriptPath === undefined ? undefined : dirname(options.scriptPath)),
        scriptDeadlineMs,
        clock,
        deadline: stepDeadline,
      }).finally(() => {
        httpErrors?.unwatch();
        egress?.unwatch();
        stepDeadline.dispose();
      });
      // Measurement and capture happen after the step's timed region.
      let result: StepResult = {
        name: step.name,
        status: stepRun.error === undefined ? 'passed' : 'failed',
        startedAt: stepStartedAt,
        durationMs: stepRun.durationMs,
        actions: stepRun.actions,
        ...(stepRun.error === undefined ? {} : { error: stepRun.error }),
      };
      if (stepRun.engineFault === undefined) {
        if (stepRun.error !== undefined) {
          captureWindow = run.narrow(failureCaptureMs, () => new Error(`the ${failureCaptureMs} ms capture budget after the failure ran out`));
          await stopLoading(context, session.page, () => collectorContext?.cdp() ?? context.newCDPSession(session.page), session.page === page, captureWindow);
        }
        try {
          const afterStep = (collector: Collector, ctx: CollectorContext) => collector.afterStep?.(ctx, info, result);
          // Measurement reads overlap; the screenshot (which paints its masks) comes after them. After a failure
          // everything runs in turn, the screenshot first.
          const fieldSets = captureWindow === undefined ? await eachCollector(afterStep, collectors, concurrentReads) : await eachCollector(afterStep, failureOrder);
          for (const fields of fieldSets) {
            result = { ...result, ...fields };
          }
          const texts = textsToRead([...(step.conditions ?? []), ...(script.conditions ?? [])]);
          const reading = texts.length === 0 ? undefined : (captureWindow ?? run).narrow(defaultHookTimeoutMs, () => new Error('reading the page text took too long'));
          const seen = reading === undefined ? undefined : await readTexts(session.page, texts, reading).finally(() => reading.dispose());
          result = applyStepConditions(result, judgeStep(result, step.conditions, script.conditions, seen));
        } finally {
          captureWindow?.dispose();
          captureWindow = undefined;
        }
      } else {
        engineFault = stepRun.engineFault;
      }
      steps.push(result);
      // A breached condition never stops the next steps: only the actions' own outcome counts for that.
      outcomes.push(stepRun.error === undefined ? 'passed' : 'failed');
      options.listener?.onStepEnd?.({ index: stepIndex, result: redactor.redactDeep(result) });
    }
    if (engineFault === undefined) {
      // After a failure the whole-run work (the HAR, deferred encodes) gets a short budget too, so the run ends
      // soon after it.
      if (outcomes.includes('failed')) captureWindow = run.narrow(windDownMs, () => new Error(`the ${windDownMs} ms wind-down budget after the failure ran out`));
      await eachCollector(async (collector, ctx) => {
        // Fields of earlier steps from deferred work (encoding); a step whose deferred work failed gets a warning.
        for (const [index, fields] of (await collector.finish?.(ctx, steps)) ?? []) {
          const step = steps[index];
          if (fields instanceof Error) warnings.push({ collector: collector.name, message: redactor.redact(`step ${index + 1}: ${firstLine(fields)}`) });
          else if (step !== undefined) steps[index] = { ...step, ...fields };
        }
      });
    }
    // The page the last step led to answered with an HTTP error after the step ended (also during the finish hooks).
    const late = httpErrors.takePending() ?? egress?.takePending();
    const last = steps.at(-1);
    if (late !== undefined && last !== undefined && last.status !== 'skipped' && last.error === undefined) {
      steps[steps.length - 1] = { ...last, status: 'failed', error: { ...late.toData(), message: `Step "${last.name}": ${late.message}` } };
    }
    // A crash or cancel during the last step's capture or the finish hooks still ends the run as an engine fault.
    if (engineFault === undefined && run.ended) {
      const reason = run.reason;
      engineFault = reason instanceof EngineError && reason.blame === 'engine' ? reason : new EngineError('RUN_ABORTED', 'the run was aborted after its last step (checkpoint draining or run cancelled)', 'engine');
    }
  } catch (thrown) {
    engineFault = toEngineError(thrown);
  } finally {
    if (egress !== undefined) warnings.push(...egressWarnings(egress, redactor));
    egress?.dispose();
    httpErrors?.dispose();
    captureWindow?.dispose();
    scripted.dispose();
    run.dispose();
    await lease?.release();
  }

  const result = assembleRunResult({
    runId,
    script,
    startedAt,
    durationMs: clock.nowMs() - runStartMs,
    browserVersion: lease?.browserVersion,
    queueWaitMs: options.queueWaitMs,
    leaseWaitMs: lease?.leaseWaitMs,
    privacyLock: lock,
    steps,
    artifacts,
    warnings,
    engineFault: engineFault?.toData(),
  });
  return { result: redactor.redactDeep(result), redactor };
}
