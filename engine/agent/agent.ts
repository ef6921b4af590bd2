import type { BrowserNetwork } from '../browser/launch.ts';
import { BrowserPool } from '../browser/pool.ts';
import { defaultContextOptions } from '../browser/context-options.ts';
import { readResourceLimits } from '../browser/resource-limits.ts';
import type { BackoffOptions } from '../core/backoff.ts';
import { defaultConcurrency } from '../core/capacity.ts';
import { systemClock, type Clock } from '../core/clock.ts';
import { defaultCheckConcurrency, Scheduler } from '../runner/scheduler.ts';
import { defaultEgressPolicy, type EgressPolicy } from '../core/egress-policy.ts';
import { protocolVersion, type AgentMessage, type ControlMessage, type MonitorDefinition } from '../schema/protocol.ts';
import { heartbeatOf, metricsText, readinessOf, RunCounters, type AgentState, type Readiness } from './agent-readout.ts';
import { Connection } from './connection.ts';
import type { AgentEvent } from './events.ts';
import { HttpClient } from './http-client.ts';
import { Outbox } from './outbox.ts';
import { RunExecutor } from './run-executor.ts';
import { RunIntake } from './run-intake.ts';
import type { SecretSource } from './secret-source.ts';
import type { TransportOptions } from './transport.ts';
import { Uploader } from './uploader.ts';

export type { Readiness } from './agent-readout.ts';

export interface AgentOptions {
  controlPlane: URL;
  token: string;
  instanceId: string;
  dataDir: string;
  /** Software version reported in hello and in every result. */
  version: string;
  /** Runs at once. Default: from the container's CPU and memory limits. */
  concurrency?: number | undefined;
  /** Non-browser checks at once, in their own lane. Default 16. */
  checkConcurrency?: number | undefined;
  /** Where browsers and checks may connect. Default: the built-in policy. */
  egress?: EgressPolicy | undefined;
  /** The one directory `upload` reads from; none: only inline files. */
  uploadsDir?: string | undefined;
  /** Extra trusted CA certificates (PEM) of non-browser checks: the operator's --ca-file. */
  checkCaCertificates?: readonly string[] | undefined;
  /** CA, client certificate and proxy of the control-plane connection. */
  transport?: TransportOptions | undefined;
  /** Proxy and trusted CA of the browsers' test traffic. */
  browserNetwork?: BrowserNetwork | undefined;
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
  /** The secrets scripts may read: what the operator listed, nothing else of the environment. */
  secrets: SecretSource;
  /** Standing risks of this configuration, counted in /metrics (plain-http control plane, no sandbox). */
  warnings?: readonly string[] | undefined;
  onEvent(event: AgentEvent): void;
}

/**
 * The checkpoint instance: a warm browser pool and a scheduler executing the control plane's run commands,
 * a durable outbox for their results, an uploader emptying it, and the WebSocket that ties it to the
 * control plane. Every accepted run ends as exactly one result envelope in the outbox. This class wires the
 * parts together and answers the control messages; runs are taken by RunIntake, executed by RunExecutor, and
 * the heartbeat, /readyz and /metrics are read out by agent-readout.ts.
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
  readonly #browserVersion: string;
  readonly #startedAt: string;
  readonly #intake: RunIntake;
  readonly #counters = new RunCounters();
  #monitors: MonitorDefinition[] = [];
  #checkpointName: string | undefined;
  #draining: Promise<void> | undefined;
  #drainReason = '';
  #stopped = false;
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
    const maxQueued = init.capacity * 10;
    this.#browserVersion = init.browserVersion;
    this.#startedAt = this.#clock.wallNow().toISOString();
    this.#scheduler = new Scheduler({ leases: init.pool, concurrency: init.capacity, checkConcurrency: options.checkConcurrency ?? defaultCheckConcurrency, maxQueued, clock: this.#clock });
    this.#http = new HttpClient(options.transport);
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
        if (event.type === 'delivered') this.#intake.delivered(event.runId);
        options.onEvent(event);
      },
    });
    this.#connection = new Connection({
      controlPlane: options.controlPlane,
      token: options.token,
      instanceId: options.instanceId,
      transport: options.transport,
      clock: this.#clock,
      ...(options.backoff === undefined ? {} : { backoff: options.backoff }),
      hello: () => ({
        type: 'hello',
        protocolVersion,
        instanceId: options.instanceId,
        version: options.version,
        ...(this.#browserVersion === '' ? {} : { browserVersion: this.#browserVersion }),
        capacity: this.#capacity,
        checkCapacity: this.#scheduler.checkConcurrency,
        privacyLock: options.privacyLock,
        startedAt: this.#startedAt,
      }),
      heartbeat: () => this.#heartbeat(),
      onControl: (message) => this.#onControl(message),
      onEvent: (event) => options.onEvent(event),
    });
    const send = (message: AgentMessage): void => {
      this.#connection.send(message);
    };
    const executor = new RunExecutor({
      instanceId: options.instanceId,
      version: options.version,
      privacyLock: options.privacyLock,
      secrets: options.secrets,
      egress: options.egress ?? defaultEgressPolicy,
      uploadsDir: options.uploadsDir,
      checkCaCertificates: options.checkCaCertificates ?? [],
      clock: this.#clock,
      outbox: init.outbox,
      scheduler: this.#scheduler,
      checkpointName: () => this.#checkpointName,
      send,
      onEvent: (event) => options.onEvent(event),
      onResult: (result) => this.#counters.result(result),
      onStored: () => this.#uploader.trigger(),
    });
    this.#intake = new RunIntake({
      executor,
      outbox: init.outbox,
      scheduler: this.#scheduler,
      maxQueued,
      refusal: () => (this.#draining !== undefined ? 'the checkpoint is draining' : this.#connection.state === 'rejected' ? 'credential rejected' : undefined),
      send,
      onEvent: (event) => options.onEvent(event),
      onRejected: () => this.#counters.rejected(),
      deliver: () => this.#uploader.trigger(),
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
        network: options.browserNetwork,
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

  #state(): AgentState {
    return {
      connection: this.#connection.state,
      credentialRejected: this.#uploader.rejectedStatus !== undefined,
      draining: this.#draining !== undefined,
      stopped: this.#stopped,
      outbox: this.#outbox.closed ? undefined : this.#outbox.stats(),
      scheduler: this.#scheduler.stats,
      capacity: this.#capacity,
      now: this.#clock.wallNow(),
      warnings: this.#options.warnings ?? [],
    };
  }

  /** /readyz: connected, welcomed, credential accepted, not draining, outbox not full. */
  readiness(): Readiness {
    return readinessOf(this.#state());
  }

  #heartbeat(): Extract<AgentMessage, { type: 'heartbeat' }> {
    return heartbeatOf(this.#state(), this.#intake.runIds);
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
        this.#intake.run(message);
        break;
      case 'cancel':
        this.#intake.cancel(message.runId, 'the run was cancelled by the control plane');
        break;
      case 'drain':
        void this.drain(message.reason === undefined ? 'drain requested by the control plane' : `drain requested by the control plane: ${message.reason}`);
        break;
    }
  }

  /** Abort every run in progress now (a second SIGTERM). Their results still go to the outbox. */
  abortRuns(reason: string): void {
    this.#intake.abortAll(reason);
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
      Promise.allSettled([drained, ...this.#intake.work]),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, grace + 15_000))),
    ]);
    clearTimeout(timer);
    for (const runId of this.#intake.runIds) this.#options.onEvent({ type: 'run-lost', runId, reason: 'still running after the grace period; the control plane will re-dispatch it' });
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
    const options = this.#options;
    return metricsText(this.#state(), { counters: this.#counters, pool: this.#pool.stats, version: options.version, instanceId: options.instanceId, browserVersion: this.#browserVersion });
  }
}
