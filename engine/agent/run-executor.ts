import type { Clock } from '../core/clock.ts';
import { checkScriptPlaceholders } from '../checks/check-placeholders.ts';
import type { ResolvedAddress } from '../checks/check-types.ts';
import { vettedLookup } from '../checks/vetted-lookup.ts';
import type { EgressPolicy } from '../core/egress-policy.ts';
import { toEngineError, type EngineError } from '../core/errors.ts';
import type { CaptureRequest } from '../core/privacy.ts';
import type { Job, Scheduler } from '../runner/scheduler.ts';
import type { AgentMessage, MonitorDefinition, RunCommand } from '../schema/protocol.ts';
import { resultSchemaVersion, type RunResult } from '../schema/result.ts';
import { isBrowserScript, kindOf, stepNamesOf } from '../schema/script.ts';
import type { AgentEvent } from './events.ts';
import type { Outbox } from './outbox.ts';
import type { SecretSource } from './secret-source.ts';

/** A run the agent accepted and has not yet put in the outbox. */
export interface ActiveRun {
  command: RunCommand;
  /** Cancels the run through the scheduler's `Job.signal`: dropped while queued, aborted while running. */
  controller: AbortController;
  cancelReason: string | undefined;
}

export interface RunExecutorOptions {
  instanceId: string;
  version: string;
  privacyLock: boolean;
  /** The only place `{{secret.NAME}}` values come from: what the operator listed. */
  secrets: SecretSource;
  /** Where the browser and the checks may connect; checks resolve host names through it. */
  egress: EgressPolicy;
  /** The one directory `upload` reads from. */
  uploadsDir?: string | undefined;
  /** Extra trusted CA certificates (PEM) of non-browser checks. */
  checkCaCertificates: readonly string[];
  clock: Clock;
  outbox: Outbox;
  scheduler: Scheduler;
  /** The checkpoint's name, once the control plane has said it. */
  checkpointName(): string | undefined;
  send(message: AgentMessage): void;
  onEvent(event: AgentEvent): void;
  /** Every result, stored or not (for the run counters). */
  onResult(result: RunResult): void;
  /** A result is in the outbox: time to deliver. */
  onStored(): void;
}

/** What the control plane asks to capture, as the scheduler takes it (unset fields stay unset). */
function captureRequestOf(monitor: MonitorDefinition): CaptureRequest {
  const capture = monitor.capture ?? {};
  return {
    ...(capture.screenshots === undefined ? {} : { screenshots: capture.screenshots }),
    ...(capture.filmstrip === undefined ? {} : { filmstrip: capture.filmstrip }),
    ...(capture.har === undefined ? {} : { har: capture.har }),
  };
}

/**
 * Turns an accepted run command into exactly one result envelope in the outbox: runs it on the scheduler
 * (with the privacy lock and the secrets applied), makes a result even for a run that never started, stores
 * it with its artifacts, and reports the run's status to the control plane.
 */
export class RunExecutor {
  readonly #options: RunExecutorOptions;

  readonly #lookup: (host: string) => Promise<ResolvedAddress>;

  constructor(options: RunExecutorOptions) {
    this.#options = options;
    this.#lookup = vettedLookup(options.egress, { clock: options.clock });
  }

  /** SECRET_MISSING, saying how to allow them, when the script reads secrets the operator did not list. */
  #secretsRefused(monitor: MonitorDefinition): EngineError | undefined {
    const names = checkScriptPlaceholders(monitor.script, monitor.variables ?? {}).secretNames;
    const missing = names.filter((name) => this.#options.secrets.lookup(name) === undefined);
    return missing.length === 0 ? undefined : this.#options.secrets.missing(missing);
  }

  async execute(active: ActiveRun): Promise<void> {
    const options = this.#options;
    const { command } = active;
    const { runId, monitor } = command;
    const lock = options.privacyLock;
    const staging = options.outbox.stage({ refuseImages: lock });
    const job: Job = {
      script: monitor.script,
      variables: monitor.variables ?? {},
      secret: options.secrets.lookup,
      egress: options.egress,
      ...(options.uploadsDir === undefined ? {} : { uploadsDir: options.uploadsDir }),
      lookup: this.#lookup,
      caCertificates: options.checkCaCertificates,
      artifacts: staging,
      privacyLock: lock,
      ...(lock ? { screenshots: 'off' as const, filmstrip: false } : captureRequestOf(monitor)),
      ...(lock && monitor.capture?.har !== undefined ? { har: monitor.capture.har } : {}),
      runId,
      listener: {
        onRunStart: () => {
          options.send({ type: 'run-status', runId, status: 'started' });
          options.onEvent({ type: 'run-started', runId, monitorId: command.monitorId, script: monitor.script.name });
        },
      },
      signal: active.controller.signal,
    };
    let result: RunResult;
    try {
      const refused = this.#secretsRefused(monitor);
      if (refused !== undefined) throw refused;
      ({ result } = await options.scheduler.submit(job));
    } catch (error) {
      // Never started (queue expired, drained while queued, a variable or secret missing): still one result.
      result = this.#unstartedResult(command, toEngineError(error));
    }
    const checkpointName = options.checkpointName();
    result = { ...result, checkpoint: { ...(checkpointName === undefined ? {} : { name: checkpointName }), instanceId: options.instanceId, version: options.version } };
    options.onResult(result);
    let artifactsDropped: number;
    try {
      ({ artifactsDropped } = await options.outbox.commit(
        { runId, monitorId: command.monitorId, attempt: command.attempt, instanceId: options.instanceId, finishedAt: options.clock.wallNow().toISOString(), result },
        staging,
      ));
    } catch (error) {
      await staging.discard().catch(() => undefined);
      const reason = error instanceof Error ? error.message : String(error);
      options.onEvent({ type: 'run-lost', runId, reason });
      options.send({ type: 'run-status', runId, status: 'aborted', reason: `the result could not be stored: ${reason}`.slice(0, 2000) });
      return;
    }
    const errorCode = result.error?.code ?? result.steps.find((step) => step.error !== undefined)?.error?.code;
    const aborted = errorCode === 'RUN_ABORTED';
    options.send({ type: 'run-status', runId, status: aborted ? 'aborted' : 'finished', ...(aborted ? { reason: active.cancelReason ?? 'the checkpoint drained before the run could finish' } : {}) });
    options.onEvent({ type: 'run-finished', runId, status: result.status, durationMs: result.durationMs, errorCode, artifacts: result.artifacts.length, artifactsDropped });
    options.onStored();
  }

  #unstartedResult(command: RunCommand, error: EngineError): RunResult {
    return {
      schemaVersion: resultSchemaVersion,
      runId: command.runId,
      script: command.monitor.script.name,
      ...(isBrowserScript(command.monitor.script) ? {} : { kind: kindOf(command.monitor.script) }),
      status: 'error',
      startedAt: this.#options.clock.wallNow().toISOString(),
      durationMs: 0,
      privacyLock: this.#options.privacyLock,
      steps: stepNamesOf(command.monitor.script).map((name) => ({ name, status: 'skipped' as const, durationMs: 0, actions: [] })),
      artifacts: [],
      error: error.toData(),
    };
  }
}
