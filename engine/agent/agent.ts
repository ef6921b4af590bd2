import { BrowserPool, type PoolStats } from '../browser/pool.ts';
import { defaultContextOptions } from '../browser/context-options.ts';
import { readResourceLimits } from '../browser/resource-limits.ts';
import type { BackoffOptions } from '../core/backoff.ts';
import { defaultConcurrency } from '../core/capacity.ts';
import { systemClock, type Clock } from '../core/clock.ts';
import { EngineError, toEngineError } from '../core/errors.ts';
import type { CaptureRequest } from '../core/privacy.ts';
import { Scheduler, type Job } from '../runner/scheduler.ts';
import { protocolVersion, type AgentMessage, type ControlMessage, type MonitorDefinition, type RunCommand } from '../schema/protocol.ts';
import { resultSchemaVersion, type RunResult } from '../schema/result.ts';
import { Connection } from './connection.ts';
import type { AgentEvent } from './events.ts';
import { HttpClient } from './http-client.ts';
import { Exposition, Histogram } from './metrics.ts';
import { Outbox } from './outbox.ts';
import { Uploader } from './uploader.ts';

export interface AgentOptions {
  controlPlane: URL;
  token: string;
  instanceId: string;
  dataDir: string;
  /** Software version reported in hello and in every result. */
  version: string;
  /** Runs at once. Default: from the container's CPU and memory limits. */
  concurrency?: number | undefined;
  /** Extra CA certificates (PEM) trusted for the control plane. */
  ca?: string | Buffer | (string | Buffer)[] | undefined;
  /** The checkpoint's privacy lock: no image is ever captured, whatever the control plane asks. */
  privacyLock: boolean;
  /** In-flight runs get this long to finish on drain, then are aborted. Default 30 s. */
  drainGraceMs?: number | undefined;
  /** Time given to delivering the outbox on drain. Default 10 s. */
  flushTimeoutMs?: number | undefined;
  outboxCapBytes?: number | undefined;
  backoff?: BackoffOptions | undefined;
  clock?: Clock | undefined;
  executablePath?: string | undefined;
  /** Where `{{secret.NAME}}` values come from. Default process.env (CHECKPOINT_* names are never given out). */
  env?: Readonly<Record<string, string | undefined>> | undefined;
  onEvent(event: AgentEvent): void;
}

export interface Readiness {
  ready: boolean;
  reason: string;
}

interface ActiveRun {
  command: RunCommand;
  /** Cancels the run through the scheduler's `Job.signal`: dropped while queued, aborted while running. */
  controller: AbortController;
  cancelReason: string | undefined;
}

/** Runs whose result was delivered recently, to answer a re-sent run command without running it twice. */
const recentlyDeliveredLimit = 2000;

/**
 * The checkpoint instance: a warm browser pool and a scheduler executing the control plane's run commands,
 * a durable outbox for their results, an uploader emptying it, and the WebSocket that ties it to the
 * control plane. Every accepted run ends as exactly one result envelope in the outbox.
 */
export class Agent {
  readonly #options: AgentOptions;
  readonly #clock: Clock;
  readonly #outbox: Outbox;
  readonly #pool: BrowserPool;
  readonly #scheduler: Scheduler;
  readonly #connection: Connection;
  readonly #uploader: Uploader;
  readonly #http: HttpClient;
  readonly #capacity: number;
  readonly #maxQueued: number;
  readonly #browserVersion: string;
  readonly #startedAt: string;
  readonly #runs = new Map<string, ActiveRun>();
  readonly #work = new Set<Promise<void>>();
  readonly #recentlyDelivered = new Set<string>();
  #monitors: MonitorDefinition[] = [];
  #checkpointName: string | undefined;
  #draining: Promise<void> | undefined;
  #drainReason = '';
  #stopped = false;
  readonly #runsTotal: Record<string, number> = { passed: 0, failed: 0, error: 0, rejected: 0 };
  readonly #leaseWait = new Histogram([0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]);
  readonly #done: Promise<void>;
  #resolveDone: () => void = () => undefined;

  private constructor(init: {
    options: AgentOptions;
    outbox: Outbox;
    pool: BrowserPool;
    capacity: number;
    browserVersion: string;
  }) {
    const { options } = init;
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#outbox = init.outbox;
    this.#pool = init.pool;
    this.#capacity = init.capacity;
    this.#maxQueued = init.capacity * 10;
    this.#browserVersion = init.browserVersion;
    this.#startedAt = this.#clock.wallNow().toISOString();
    this.#scheduler = new Scheduler({ leases: init.pool, concurrency: init.capacity, maxQueued: this.#maxQueued, clock: this.#clock });
    this.#http = new HttpClient({ ca: options.ca });
    this.#done = new Promise<void>((resolve) => (this.#resolveDone = resolve));
    this.#uploader = new Uploader({
      outbox: init.outbox,
      controlPlane: options.controlPlane,
      token: options.token,
      instanceId: options.instanceId,
      http: this.#http,
      clock: this.#clock,
      ...(options.backoff === undefined ? {} : { backoff: options.backoff }),
      onEvent: (event) => {
        if (event.type === 'delivered') this.#remember(event.runId);
        options.onEvent(event);
      },
    });
    this.#connection = new Connection({
      controlPlane: options.controlPlane,
      token: options.token,
      instanceId: options.instanceId,
      ca: options.ca,
      clock: this.#clock,
      ...(options.backoff === undefined ? {} : { backoff: options.backoff }),
      hello: () => ({
        type: 'hello',
        protocolVersion,
        instanceId: options.instanceId,
        version: options.version,
        ...(this.#browserVersion === '' ? {} : { browserVersion: this.#browserVersion }),
        capacity: this.#capacity,
        privacyLock: options.privacyLock,
        startedAt: this.#startedAt,
      }),
      heartbeat: () => this.#heartbeat(),
      onControl: (message) => this.#onControl(message),
      onEvent: (event) => options.onEvent(event),
    });
  }

  /**
   * Open the outbox, start the browser pool and check it can open a context (so a missing or broken
   * browser fails at start, exit 3), then connect. Undelivered results from a previous life are sent first.
   */
  static async start(options: AgentOptions): Promise<Agent> {
    const capacity = options.concurrency ?? defaultConcurrency(readResourceLimits());
    const outbox = await Outbox.open({ dataDir: options.dataDir, ...(options.outboxCapBytes === undefined ? {} : { capBytes: options.outboxCapBytes }), ...(options.clock === undefined ? {} : { clock: options.clock }) });
    let pool: BrowserPool | undefined;
    try {
      outbox.requeuePoisoned();
      const browsers = Math.max(1, Math.ceil(capacity / 4));
      pool = new BrowserPool({
        browsers,
        contextsPerBrowser: Math.ceil(capacity / browsers),
        ...(options.executablePath === undefined ? {} : { executablePath: options.executablePath }),
        ...(options.clock === undefined ? {} : { clock: options.clock }),
      });
      const lease = await pool.lease(defaultContextOptions());
      const browserVersion = lease.browserVersion;
      await lease.release();
      const agent = new Agent({ options, outbox, pool, capacity, browserVersion });
      options.onEvent({ type: 'agent-started', instanceId: options.instanceId, dataDir: options.dataDir, capacity, privacyLock: options.privacyLock, browserVersion, outboxDepth: outbox.stats().depth });
      agent.#uploader.trigger();
      agent.#connection.start();
      return agent;
    } catch (error) {
      await pool?.close().catch(() => undefined);
      outbox.close();
      throw error;
    }
  }

  /** Resolves once the agent drained and closed everything (after SIGTERM or a drain command). */
  get done(): Promise<void> {
    return this.#done;
  }

  get instanceId(): string {
    return this.#options.instanceId;
  }

  get capacity(): number {
    return this.#capacity;
  }

  get monitors(): readonly MonitorDefinition[] {
    return this.#monitors;
  }

  /** /readyz: connected, welcomed, credential accepted, not draining, outbox not full. */
  readiness(): Readiness {
    if (this.#connection.state === 'rejected' || this.#uploader.rejectedStatus !== undefined) return { ready: false, reason: 'credential rejected' };
    if (this.#draining !== undefined) return { ready: false, reason: 'draining' };
    if (this.#stopped) return { ready: false, reason: 'stopped' };
    if (this.#connection.state !== 'ready') {
      return { ready: false, reason: this.#connection.state === 'greeting' ? 'waiting for the welcome' : 'not connected to the control plane' };
    }
    if (!this.#outbox.closed && this.#outbox.stats().full) return { ready: false, reason: 'outbox full' };
    return { ready: true, reason: 'ready' };
  }

  #heartbeat(): Extract<AgentMessage, { type: 'heartbeat' }> {
    const stats = this.#scheduler.stats;
    const outbox = this.#outbox.closed ? undefined : this.#outbox.stats();
    return {
      type: 'heartbeat',
      sentAt: this.#clock.wallNow().toISOString(),
      running: [...this.#runs.keys()],
      freeSlots: this.#draining === undefined ? Math.max(0, this.#capacity - stats.running - stats.queued) : 0,
      queued: stats.queued,
      outboxDepth: outbox?.depth ?? 0,
      outboxOldestAgeMs: outbox?.oldestCreatedAtMs === undefined ? 0 : Math.max(0, this.#clock.wallNow().getTime() - outbox.oldestCreatedAtMs),
      draining: this.#draining !== undefined,
    };
  }

  #send(message: AgentMessage): void {
    this.#connection.send(message);
  }

  #onControl(message: ControlMessage): void {
    switch (message.type) {
      case 'welcome':
        this.#checkpointName = message.checkpoint;
        this.#monitors = message.monitors;
        // The link is back: deliver now rather than at the end of a backoff wait.
        this.#uploader.wake();
        break;
      case 'monitors':
        this.#monitors = message.monitors;
        this.#options.onEvent({ type: 'monitors', count: message.monitors.length });
        break;
      case 'run':
        this.#onRun(message);
        break;
      case 'cancel':
        this.#cancel(message.runId, 'the run was cancelled by the control plane');
        break;
      case 'drain':
        void this.drain(message.reason === undefined ? 'drain requested by the control plane' : `drain requested by the control plane: ${message.reason}`);
        break;
    }
  }

  #reject(runId: string, reason: string): void {
    this.#runsTotal['rejected'] = (this.#runsTotal['rejected'] ?? 0) + 1;
    this.#send({ type: 'run-status', runId, status: 'rejected', reason });
    this.#options.onEvent({ type: 'run-rejected', runId, reason });
  }

  #remember(runId: string): void {
    this.#recentlyDelivered.add(runId);
    if (this.#recentlyDelivered.size > recentlyDeliveredLimit) {
      const oldest = this.#recentlyDelivered.values().next().value;
      if (oldest !== undefined) this.#recentlyDelivered.delete(oldest);
    }
  }

  #onRun(command: RunCommand): void {
    const { runId } = command;
    if (this.#runs.has(runId)) return; // A re-sent command for a run in progress.
    if (this.#recentlyDelivered.has(runId) || (!this.#outbox.closed && this.#outbox.has(runId))) {
      // Already ran: its result is (or was) on its way; running it twice would measure twice.
      this.#send({ type: 'run-status', runId, status: 'finished', reason: 'already ran; the result is in the outbox or delivered' });
      this.#uploader.trigger();
      return;
    }
    if (this.#draining !== undefined) return this.#reject(runId, 'the checkpoint is draining');
    if (this.#connection.state === 'rejected') return this.#reject(runId, 'credential rejected');
    if (this.#outbox.stats().full) return this.#reject(runId, 'the outbox is full (the control plane has not taken results for a while)');
    if (this.#scheduler.stats.queued >= this.#maxQueued) return this.#reject(runId, `the run queue is full (${this.#maxQueued} waiting)`);
    const active: ActiveRun = { command, controller: new AbortController(), cancelReason: undefined };
    this.#runs.set(runId, active);
    this.#send({ type: 'run-status', runId, status: 'accepted' });
    this.#options.onEvent({ type: 'run-accepted', runId, monitorId: command.monitorId, attempt: command.attempt });
    const work = this.#execute(active).finally(() => {
      this.#runs.delete(runId);
      this.#work.delete(work);
    });
    this.#work.add(work);
  }

  #captureRequest(monitor: MonitorDefinition): CaptureRequest {
    const capture = monitor.capture ?? {};
    return {
      ...(capture.screenshots === undefined ? {} : { screenshots: capture.screenshots }),
      ...(capture.filmstrip === undefined ? {} : { filmstrip: capture.filmstrip }),
      ...(capture.har === undefined ? {} : { har: capture.har }),
    };
  }

  #secret = (name: string): string | undefined => {
    // The agent's own configuration (its token above all) is never a script secret.
    if (/^CHECKPOINT_/i.test(name)) return undefined;
    const env = this.#options.env ?? process.env;
    const value = Object.hasOwn(env, name) ? env[name] : undefined;
    return value === this.#options.token ? undefined : value;
  };

  async #execute(active: ActiveRun): Promise<void> {
    const { command } = active;
    const { runId, monitor } = command;
    const lock = this.#options.privacyLock;
    const staging = this.#outbox.stage({ refuseImages: lock });
    const job: Job = {
      script: monitor.script,
      variables: monitor.variables ?? {},
      secret: this.#secret,
      artifacts: staging,
      privacyLock: lock,
      ...(lock ? { screenshots: 'off' as const, filmstrip: false } : this.#captureRequest(monitor)),
      ...(lock && monitor.capture?.har !== undefined ? { har: monitor.capture.har } : {}),
      runId,
      listener: {
        onRunStart: () => {
          this.#send({ type: 'run-status', runId, status: 'started' });
          this.#options.onEvent({ type: 'run-started', runId, monitorId: command.monitorId, script: monitor.script.name });
        },
      },
      signal: active.controller.signal,
    };
    let result: RunResult;
    try {
      ({ result } = await this.#scheduler.submit(job));
    } catch (error) {
      // Never started (queue expired, drained while queued, a variable or secret missing): still one result.
      result = this.#unstartedResult(command, toEngineError(error));
    }
    result = { ...result, checkpoint: { ...(this.#checkpointName === undefined ? {} : { name: this.#checkpointName }), instanceId: this.#options.instanceId, version: this.#options.version } };
    if (result.leaseWaitMs !== undefined) this.#leaseWait.observe(result.leaseWaitMs / 1000);
    this.#runsTotal[result.status] = (this.#runsTotal[result.status] ?? 0) + 1;
    let artifactsDropped: number;
    try {
      ({ artifactsDropped } = await this.#outbox.commit(
        { runId, monitorId: command.monitorId, attempt: command.attempt, instanceId: this.#options.instanceId, finishedAt: this.#clock.wallNow().toISOString(), result },
        staging,
      ));
    } catch (error) {
      await staging.discard().catch(() => undefined);
      const reason = error instanceof Error ? error.message : String(error);
      this.#options.onEvent({ type: 'run-lost', runId, reason });
      this.#send({ type: 'run-status', runId, status: 'aborted', reason: `the result could not be stored: ${reason}`.slice(0, 2000) });
      return;
    }
    const errorCode = result.error?.code ?? result.steps.find((step) => step.error !== undefined)?.error?.code;
    const aborted = errorCode === 'RUN_ABORTED';
    this.#send({ type: 'run-status', runId, status: aborted ? 'aborted' : 'finished', ...(aborted ? { reason: active.cancelReason ?? 'the checkpoint drained before the run could finish' } : {}) });
    this.#options.onEvent({ type: 'run-finished', runId, status: result.status, durationMs: result.durationMs, errorCode, artifacts: result.artifacts.length, artifactsDropped });
    this.#uploader.trigger();
  }

  #unstartedResult(command: RunCommand, error: EngineError): RunResult {
    return {
      schemaVersion: resultSchemaVersion,
      runId: command.runId,
      script: command.monitor.script.name,
      status: 'error',
      startedAt: this.#clock.wallNow().toISOString(),
      durationMs: 0,
      privacyLock: this.#options.privacyLock,
      steps: command.monitor.script.steps.map((step) => ({ name: step.name, status: 'skipped' as const, durationMs: 0, actions: [] })),
      artifacts: [],
      error: error.toData(),
    };
  }

  #cancel(runId: string, reason: string): void {
    const active = this.#runs.get(runId);
    this.#options.onEvent({ type: 'run-cancel', runId, known: active !== undefined });
    if (active === undefined) return;
    active.cancelReason ??= reason;
    active.controller.abort(new EngineError('RUN_ABORTED', reason, 'engine'));
  }

  /** Abort every run in progress now (a second SIGTERM). Their results still go to the outbox. */
  abortRuns(reason: string): void {
    for (const runId of this.#runs.keys()) this.#cancel(runId, reason);
  }

  /**
   * Stop taking work, give running runs `drainGraceMs` and abort the rest (they are still reported),
   * deliver the outbox for up to `flushTimeoutMs`, close the WebSocket with 1000, close the browsers.
   * Idempotent.
   */
  drain(reason: string): Promise<void> {
    this.#draining ??= this.#drain(reason);
    return this.#draining;
  }

  async #drain(reason: string): Promise<void> {
    this.#drainReason = reason;
    const grace = this.#options.drainGraceMs ?? 30_000;
    this.#options.onEvent({ type: 'draining', reason });
    this.#connection.heartbeatNow();
    const drained = this.#scheduler.drain(grace);
    // Runs that ignore the abort (a hung browser call) are given a little more, then left behind.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([drained, ...this.#work]),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, grace + 15_000))),
    ]);
    clearTimeout(timer);
    for (const runId of this.#runs.keys()) this.#options.onEvent({ type: 'run-lost', runId, reason: 'still running after the grace period; the control plane will re-dispatch it' });
    const flushed = await this.#uploader.flush(this.#options.flushTimeoutMs ?? 10_000);
    await this.#uploader.stop();
    this.#connection.heartbeatNow();
    await this.#connection.close(this.#drainReason);
    await this.#pool.close().catch(() => undefined);
    this.#http.close();
    const depth = this.#outbox.stats().depth;
    this.#outbox.close();
    this.#stopped = true;
    this.#options.onEvent({ type: 'drained', outboxDepth: depth, flushed });
    this.#resolveDone();
  }

  get draining(): boolean {
    return this.#draining !== undefined;
  }

  /** Prometheus text for /metrics. */
  metrics(): string {
    const stats = this.#scheduler.stats;
    const pool: PoolStats = this.#pool.stats;
    const outbox = this.#outbox.closed ? undefined : this.#outbox.stats();
    const now = this.#clock.wallNow().getTime();
    const readiness = this.readiness();
    return new Exposition()
      .add('checkpoint_runs_total', 'counter', 'Runs by outcome: passed, failed, error (results) and rejected (refused before running).', Object.entries(this.#runsTotal).map(([status, value]) => ({ labels: { status }, value })))
      .add('checkpoint_queue_depth', 'gauge', 'Runs accepted and waiting for a slot.', [{ value: stats.queued }])
      .add('checkpoint_running', 'gauge', 'Runs executing now.', [{ value: stats.running }])
      .add('checkpoint_capacity', 'gauge', 'Runs this instance executes at once.', [{ value: this.#capacity }])
      .histogram('checkpoint_lease_wait_seconds', 'Time to obtain a fresh browser context (queue time excluded).', this.#leaseWait)
      .add(
        'checkpoint_browser_restarts_total',
        'counter',
        'Browsers retired and replaced, by reason (leases, age, memory, crash, hung-close, shutdown).',
        Object.entries(pool.browsersRetired).map(([reason, value]) => ({ labels: { reason }, value })),
      )
      .add('checkpoint_browsers', 'gauge', 'Live browser processes in the pool.', [{ value: pool.liveBrowsers }])
      .add('checkpoint_outbox_depth', 'gauge', 'Results not yet acknowledged by the control plane.', [{ value: outbox?.depth ?? 0 }])
      .add('checkpoint_outbox_poisoned', 'gauge', 'Results the control plane refused (kept, not resent until restart).', [{ value: outbox?.poisoned ?? 0 }])
      .add('checkpoint_outbox_bytes', 'gauge', 'Bytes of results and artifacts in the outbox.', [{ value: outbox?.bytes ?? 0 }])
      .add('checkpoint_outbox_oldest_age_seconds', 'gauge', 'Age of the oldest undelivered result (0 when empty).', [{ value: outbox?.oldestCreatedAtMs === undefined ? 0 : Math.max(0, (now - outbox.oldestCreatedAtMs) / 1000) }])
      .add('checkpoint_outbox_artifacts_dropped_total', 'counter', 'Artifacts dropped to keep the outbox under its byte cap.', [{ value: outbox?.artifactsDroppedTotal ?? 0 }])
      .add('checkpoint_connected', 'gauge', '1 while the WebSocket to the control plane is up and welcomed.', [{ value: this.#connection.state === 'ready' ? 1 : 0 }])
      .add('checkpoint_ready', 'gauge', '1 when /readyz answers 200.', [{ value: readiness.ready ? 1 : 0 }])
      .add('checkpoint_info', 'gauge', 'Version and identity of this instance.', [{ labels: { version: this.#options.version, instance: this.#options.instanceId, browser: this.#browserVersion }, value: 1 }])
      .toString();
  }
}
