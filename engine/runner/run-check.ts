import { randomUUID } from 'node:crypto';
import { checkCheckPlaceholders, checkSpecOf } from '../checks/check-placeholders.ts';
import type { CheckDefinition, CheckEnvironment, CheckOutcome, ResolvedAddress } from '../checks/check-types.ts';
import { vettedLookup } from '../checks/vetted-lookup.ts';
import { infraCheckOf } from '../checks/registry.ts';
import { runRequestStep, type RequestStepOutcome, type RequestStepSpec, type TokenCache } from '../checks/api/run-request.ts';
import { systemClock, type Clock } from '../core/clock.ts';
import { applyStepConditions, judgeStep, judgeTransaction, runStatus, textsToRead, type TextObservation } from '../core/conditions.ts';
import { Deadline } from '../core/deadline.ts';
import { EngineError, toEngineError } from '../core/errors.ts';
import { placeholdersIn, renderDeep, renderTemplate, type TemplateValues } from '../core/templates.ts';
import { appendPath } from '../core/issue-path.ts';
import { Redactor } from '../core/redactor.ts';
import { defaultCheckTimeouts, type ApiSettings, type ApiStep } from '../schema/checks/api.ts';
import type { Condition } from '../schema/conditions.ts';
import { resultSchemaVersion, type CheckStep, type RunResult, type StepResult } from '../schema/result.ts';
import { isApiScript, isHttpScript, kindOf, stepNamesOf, type CheckScript } from '../schema/script.ts';
import type { RunListener, RunTransactionOutcome } from './run-transaction.ts';
import { resolveSecrets } from './prepare-run.ts';

export interface RunCheckOptions {
  script: CheckScript;
  /** `--var` overrides of the script's variables. */
  variables?: Readonly<Record<string, string>> | undefined;
  /** Secret look-up (environment, secrets file). Values are masked in every output. */
  secret: (name: string) => string | undefined;
  /**
   * Resolves and vets a host name (the egress policy). Default: the system resolver with the built-in policy
   * (engine/checks/vetted-lookup.ts: link-local and cloud-metadata addresses denied).
   */
  lookup?: ((host: string) => Promise<ResolvedAddress>) | undefined;
  /** Extra trusted CA certificates (PEM), added to Node's default store (which has NODE_EXTRA_CA_CERTS). */
  caCertificates?: readonly string[] | undefined;
  /** The module of an infrastructure kind. Default: engine/checks/registry.ts (tests pass their own). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the spec was validated by the kind's own schema
  infraCheck?: ((kind: string) => CheckDefinition<any> | undefined) | undefined;
  /** The checkpoint's privacy lock (reported; a check captures no images anyway). */
  privacyLock?: boolean | undefined;
  listener?: RunListener | undefined;
  clock?: Clock | undefined;
  runId?: string | undefined;
  /** Aborts the run (drain, cancel): the result says RUN_ABORTED. */
  signal?: AbortSignal | undefined;
  /** Time the run waited in a queue before it started; reported, never charged to the check. */
  queueWaitMs?: number | undefined;
}

const round2 = (ms: number) => Math.round(ms * 100) / 100;

/** Resolve every secret up front and check the placeholders: bad input is found before anything connects. */
export function prepareCheck(script: CheckScript, overrides: Readonly<Record<string, string>>, secret: (name: string) => string | undefined) {
  const report = checkCheckPlaceholders(script, overrides);
  const first = report.problems[0];
  if (first !== undefined) throw new EngineError('VARIABLE_MISSING', `${first.path}: ${first.message}`, 'script');
  const secrets = resolveSecrets(report.secretNames, secret);
  const redactor = new Redactor(secrets.values());
  const variables = new Map<string, string>();
  /** Variables whose value came from a secret (directly or through a response to a request that used one). */
  const sensitive = new Set<string>();
  const values: TemplateValues = { variable: (name) => variables.get(name), secret: (name) => secrets.get(name) };
  for (const [name, value] of Object.entries({ ...script.variables, ...overrides })) {
    variables.set(name, renderDeep(value, values, `variables.${name}`));
    if (placeholdersIn(value).some((placeholder) => placeholder.kind === 'secret')) {
      sensitive.add(name);
      redactor.add(variables.get(name) ?? '');
    }
  }
  return { variables, values, redactor, sensitive };
}

/** Render every string of a JSON body, `type` keys included (renderDeep leaves those alone: they name actions). */
function renderJson(value: unknown, values: TemplateValues, where: string): unknown {
  if (typeof value === 'string') return renderTemplate(value, values, where);
  if (Array.isArray(value)) return value.map((item: unknown, index) => renderJson(item, values, appendPath(where, index)));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, renderJson(item, values, appendPath(where, key))]));
  return value;
}

/** True when any string inside `value` reads a secret or a variable that came from one. */
function usesSecret(value: unknown, sensitive: ReadonlySet<string>): boolean {
  if (typeof value === 'string') return placeholdersIn(value).some((placeholder) => placeholder.kind === 'secret' || sensitive.has(placeholder.name));
  if (Array.isArray(value)) return value.some((item) => usesSecret(item, sensitive));
  if (value !== null && typeof value === 'object') return Object.values(value).some((item) => usesSecret(item, sensitive));
  return false;
}

function stepOf(name: string, kind: string, outcome: CheckOutcome, startedAt: string, durationMs: number, extra: Partial<CheckStep> = {}): StepResult {
  const failed = outcome.error !== undefined;
  const check: CheckStep = {
    kind,
    phases: { ...outcome.phases },
    details: { ...outcome.details },
    ...(outcome.warnings.length === 0 ? {} : { warnings: outcome.warnings.map((warning) => warning.message) }),
    ...extra,
  };
  return {
    name,
    status: failed ? 'failed' : outcome.warnings.length > 0 ? 'warning' : 'passed',
    startedAt,
    durationMs: round2(durationMs),
    check,
    actions: [],
    ...(outcome.error === undefined ? {} : { error: outcome.error.toData() }),
  };
}

/** The request side of a request step, as the step result shows it (a waterfall row, request counts). */
function requestFields(outcome: RequestStepOutcome, durationMs: number): Partial<StepResult> {
  const { http } = outcome;
  const phases = outcome.phases;
  const failed = http.status === undefined || http.status >= 400 ? 1 : 0;
  return {
    url: http.url,
    requests: { count: 1 + http.redirects, bytes: http.sizeBytes ?? 0, failed },
    waterfall: [
      {
        url: http.url,
        method: http.method,
        status: http.status ?? 0,
        resourceType: 'fetch',
        startMs: 0,
        durationMs: round2(durationMs),
        transferBytes: http.sizeBytes ?? 0,
        ...(outcome.error !== undefined && http.status === undefined ? { failure: outcome.error.code } : {}),
        phases: {
          ...(phases.dnsMs === undefined ? {} : { dnsMs: phases.dnsMs }),
          ...(phases.connectMs === undefined ? {} : { connectMs: phases.connectMs }),
          ...(phases.tlsMs === undefined ? {} : { tlsMs: phases.tlsMs }),
          ...(phases.ttfbMs === undefined ? {} : { waitMs: phases.ttfbMs }),
          ...(phases.downloadMs === undefined ? {} : { receiveMs: phases.downloadMs }),
        },
      },
    ],
  };
}

/**
 * Run one non-browser check (an API monitor, a single HTTP request or an infrastructure check) and return a
 * result of the usual shape: one step per request (one for a single check), timed phases and details under
 * `check`, conditions judged as for a browser step, no browser. Failures are results; bad input found before
 * the run (missing variable or secret) throws EngineError with blame `script`.
 */
export async function runCheck(options: RunCheckOptions): Promise<RunTransactionOutcome> {
  const { script } = options;
  const kind = kindOf(script);
  const clock = options.clock ?? systemClock;
  const runId = options.runId ?? randomUUID();
  const { variables, values, redactor, sensitive } = prepareCheck(script, options.variables ?? {}, options.secret);
  const startedAt = clock.wallNow().toISOString();
  const runStartMs = clock.nowMs();
  const budgetMs = script.timeoutMs ?? defaultCheckTimeouts.checkTimeoutMs;
  const run = Deadline.start({ clock, budgetMs, onExpire: () => new EngineError('SCRIPT_TIMEOUT', `the check's ${budgetMs} ms budget ran out`, 'site'), signal: options.signal });
  const lookup = options.lookup ?? vettedLookup(undefined, { clock });
  const caCertificates = options.caCertificates ?? [];
  const stepNames = stepNamesOf(script);
  const steps: StepResult[] = [];
  let engineFault: EngineError | undefined;
  options.listener?.onRunStart?.({ runId, script: script.name, stepCount: stepNames.length });

  const environment = (deadline: Deadline): CheckEnvironment => ({ deadline, clock, lookup, caCertificates });
  /** The reason a run ended early, as the error of a step that could not finish. */
  const abortReason = (): EngineError | undefined => {
    const reason = run.reason;
    if (reason === undefined) return undefined;
    return reason instanceof EngineError ? reason : new EngineError('RUN_ABORTED', 'the run was aborted (checkpoint draining or run cancelled)', 'engine');
  };
  const finishStep = (index: number, result: StepResult, own: readonly Condition[] | undefined, transaction: readonly Condition[] | undefined, body: string | undefined) => {
    const texts = textsToRead([...(own ?? []), ...(transaction ?? [])]);
    const seen: TextObservation[] | undefined = body === undefined ? undefined : texts.map((text) => ({ text, present: body.includes(text) }));
    const judged = applyStepConditions(result, judgeStep(result, own, transaction, seen));
    if (judged.error?.blame === 'engine' && engineFault === undefined) engineFault = new EngineError(judged.error.code, judged.error.message, 'engine');
    steps.push(judged);
    options.listener?.onStepEnd?.({ index, result: redactor.redactDeep(judged) });
  };

  try {
    if (isApiScript(script) || isHttpScript(script)) {
      const tokens: TokenCache = new Map();
      const api = isApiScript(script);
      const settings: ApiSettings = api
        ? (script.settings ?? {})
        : Object.fromEntries(Object.entries(script).filter(([key]) => ['followRedirects', 'maxRedirects', 'requestTimeoutMs', 'ignoreHttpsErrors', 'clientCertificate', 'maxBodyBytes', 'certificateWarningDays'].includes(key)));
      const renderedSettings = renderDeep({ ...settings }, values, api ? 'settings' : '(root)');
      const stepSpecs: ApiStep[] = api
        ? script.steps
        : [{ name: script.name, request: { method: script.method, url: script.url, headers: script.headers, query: script.query, body: script.body }, auth: script.auth, assertions: script.assertions }];
      const outcomes: ('passed' | 'failed')[] = [];
      for (const [index, step] of stepSpecs.entries()) {
        const stopped = outcomes.some((outcome, i) => outcome === 'failed' && stepSpecs[i]?.continueOnFailure !== true);
        if (engineFault !== undefined || stopped || run.ended) {
          if (run.ended && engineFault === undefined && steps.length === index) {
            const reason = abortReason();
            if (reason?.blame === 'engine') engineFault = reason;
          }
          steps.push({ name: step.name, status: 'skipped', durationMs: 0, actions: [] });
          continue;
        }
        options.listener?.onStepStart?.({ index, name: step.name });
        const where = api ? `steps[${index}]` : '(root)';
        const stepStartedAt = clock.wallNow().toISOString();
        const stepStartMs = clock.nowMs();
        const requestTimeoutMs = step.timeoutMs ?? renderedSettings.requestTimeoutMs ?? defaultCheckTimeouts.requestTimeoutMs;
        const deadline = run.narrow(requestTimeoutMs, () => new EngineError('STEP_TIMEOUT', `Step "${step.name}": no complete response within ${requestTimeoutMs} ms`, 'site'));
        let outcome: RequestStepOutcome;
        try {
          const rendered = renderDeep({ request: step.request, auth: step.auth ?? settings.auth, assertions: step.assertions, extract: step.extract }, values, where);
          const body = step.request.body;
          const request = body?.type === 'json' ? { ...rendered.request, body: { type: 'json' as const, value: renderJson(body.value, values, appendPath(appendPath(appendPath(where, 'request'), 'body'), 'value')) } } : rendered.request;
          const spec: RequestStepSpec = {
            name: step.name,
            where,
            request,
            defaultHeaders: renderedSettings.headers,
            auth: rendered.auth,
            assertions: rendered.assertions,
            extract: rendered.extract,
            followRedirects: renderedSettings.followRedirects,
            maxRedirects: renderedSettings.maxRedirects,
            maxBodyBytes: renderedSettings.maxBodyBytes,
            certificateWarningDays: renderedSettings.certificateWarningDays,
            tls: { ignoreHttpsErrors: renderedSettings.ignoreHttpsErrors, clientCertificate: renderedSettings.clientCertificate },
          };
          outcome = await runRequestStep(spec, environment(deadline), tokens);
        } catch (error) {
          // Rendering: a variable an earlier (failed, continueOnFailure) step should have extracted.
          const engineError = toEngineError(error);
          outcome = { phases: {}, details: {}, warnings: [], error: engineError, http: { method: step.request.method ?? 'GET', url: step.request.url, redirects: 0 }, assertions: [], extracted: new Map(), sensitive: [] };
        } finally {
          deadline.dispose();
        }
        for (const value of outcome.sensitive) redactor.add(value);
        // What a request that sends a secret gets back (a login's token) is a secret too; a request that only
        // authenticates with one (a bearer token, a header) answers with data, reported as it is.
        const auth = step.auth ?? settings.auth;
        const tainted =
          auth?.type === 'oauth2-client-credentials' ||
          usesSecret({ url: step.request.url, query: step.request.query, body: step.request.body }, sensitive) ||
          (auth?.type === 'basic' && usesSecret(auth, sensitive));
        for (const [name, value] of outcome.extracted) {
          variables.set(name, value);
          const secret = tainted || step.extract?.find((extract) => extract.name === name)?.secret === true;
          if (secret) {
            sensitive.add(name);
            redactor.add(value);
          } else sensitive.delete(name);
        }
        const durationMs = clock.nowMs() - stepStartMs;
        const result = {
          ...stepOf(step.name, kind, outcome, stepStartedAt, durationMs, {
            http: outcome.http,
            ...(outcome.assertions.length === 0 ? {} : { assertions: outcome.assertions }),
            ...(outcome.extracted.size === 0 ? {} : { extracted: [...outcome.extracted.keys()] }),
          }),
          ...requestFields(outcome, durationMs),
        };
        outcomes.push(result.status === 'failed' ? 'failed' : 'passed');
        // An API step's own conditions, plus the monitor's pageText conditions (for `http`, the check's conditions are the step's).
        finishStep(index, result, api ? step.conditions : script.conditions, api ? script.conditions?.filter((condition) => condition.metric === 'pageText') : undefined, outcome.bodyText);
      }
    } else {
      const definition = (options.infraCheck ?? infraCheckOf)(kind);
      options.listener?.onStepStart?.({ index: 0, name: script.name });
      const stepStartedAt = clock.wallNow().toISOString();
      const stepStartMs = clock.nowMs();
      let outcome: CheckOutcome;
      try {
        // The schema knows the kind but this checkpoint has no module for it: the checkpoint's fault, not the script's.
        if (definition === undefined) throw new EngineError('INTERNAL', `this checkpoint has no module to run a "${kind}" check`, 'engine');
        const spec = renderDeep(checkSpecOf(script), values, '(root)');
        outcome = await definition.run(spec, environment(run));
      } catch (error) {
        // A check returns its failures; a throw is a bug, or a rendering problem (blame script).
        const engineError = error instanceof EngineError ? error : new EngineError('INTERNAL', `the ${kind} check failed unexpectedly: ${error instanceof Error ? error.message : String(error)}`, 'engine');
        outcome = { phases: {}, details: {}, warnings: [], error: engineError };
      }
      if (run.ended && outcome.error === undefined) outcome = { ...outcome, error: abortReason() };
      finishStep(0, stepOf(script.name, kind, outcome, stepStartedAt, clock.nowMs() - stepStartMs), script.conditions, undefined, undefined);
    }
    if (engineFault === undefined && run.ended) {
      const reason = abortReason();
      if (reason?.blame === 'engine') engineFault = reason;
    }
  } catch (thrown) {
    engineFault = toEngineError(thrown);
  } finally {
    run.dispose();
  }
  const all: StepResult[] = [...steps, ...stepNames.slice(steps.length).map((name) => ({ name, status: 'skipped' as const, durationMs: 0, actions: [] }))];
  const fault = engineFault !== undefined;
  const conditions = fault || !isApiScript(script) ? [] : judgeTransaction(all, script.conditions);
  const result: RunResult = {
    schemaVersion: resultSchemaVersion,
    runId,
    script: script.name,
    kind,
    status: runStatus(all, conditions, fault),
    startedAt,
    durationMs: round2(clock.nowMs() - runStartMs),
    ...(options.queueWaitMs === undefined ? {} : { queueWaitMs: round2(options.queueWaitMs) }),
    privacyLock: options.privacyLock ?? false,
    steps: all,
    artifacts: [],
    ...(conditions.length === 0 ? {} : { conditions }),
  };
  if (engineFault !== undefined && !all.some((step) => step.error?.blame === 'engine')) result.error = engineFault.toData();
  return { result: redactor.redactDeep(result), redactor };
}
