import { mkdir } from 'node:fs/promises';
import { childEnv, ManagedProcess, type ExitStatus } from './managed-process.ts';
import { waitUntil } from './wait.ts';

export interface AgentProcessOptions {
  /** What the agent is told the control plane is (usually a recording proxy in front of it). */
  controlPlaneUrl: string;
  token: string;
  instanceId: string;
  dataDir: string;
  /** The agent's TMPDIR: every browser profile and scratch directory of this agent lands under it. */
  tmpDir: string;
  /** `--concurrency`, default 1. */
  concurrency?: number;
  privacyLock?: boolean;
  /** More `checkpoint agent` options. */
  args?: readonly string[];
  /** More environment (script secrets). */
  env?: Record<string, string>;
  /** Label in logs. Default the instance id. */
  name?: string;
}

/**
 * `checkpoint agent` as a child process: the token comes from CHECKPOINT_TOKEN (as in the container images),
 * the rest from options; its health server listens on a free port, read from its first stderr line.
 */
export class AgentProcess {
  readonly options: AgentProcessOptions;
  readonly process: ManagedProcess;
  readonly healthUrl: string;

  private constructor(options: AgentProcessOptions, process: ManagedProcess, healthUrl: string) {
    this.options = options;
    this.process = process;
    this.healthUrl = healthUrl;
  }

  static async start(options: AgentProcessOptions): Promise<AgentProcess> {
    await mkdir(options.tmpDir, { recursive: true });
    const args = [
      'agent',
      '--control-plane',
      options.controlPlaneUrl,
      '--instance-id',
      options.instanceId,
      '--data-dir',
      options.dataDir,
      '--health-port',
      '0',
      '--concurrency',
      String(options.concurrency ?? 1),
      ...(options.privacyLock === true ? ['--privacy-lock'] : []),
      ...(options.args ?? []),
    ];
    const env = childEnv({ ...options.env, CHECKPOINT_TOKEN: options.token, TMPDIR: options.tmpDir });
    const process = ManagedProcess.start(`agent ${options.name ?? options.instanceId}`, args, env);
    const match = await process.waitForOutput(/health on (http:\/\/[^\s]+)/, 30_000);
    return new AgentProcess(options, process, match[1] ?? '');
  }

  get instanceId(): string {
    return this.options.instanceId;
  }

  get pid(): number {
    return this.process.pid;
  }

  get log(): string {
    return this.process.stderr;
  }

  tail(lines = 40): string {
    return this.process.tail(lines);
  }

  /** GET /readyz: status and JSON body. */
  async readiness(): Promise<{ status: number; body: { ready: boolean; reason: string } }> {
    const response = await fetch(`${this.healthUrl}/readyz`, { signal: AbortSignal.timeout(5_000) });
    return { status: response.status, body: (await response.json()) as { ready: boolean; reason: string } };
  }

  /** A gauge or counter without labels from /metrics. */
  async metric(name: string): Promise<number | undefined> {
    const response = await fetch(`${this.healthUrl}/metrics`, { signal: AbortSignal.timeout(5_000) });
    const text = await response.text();
    const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
    return match?.[1] === undefined ? undefined : Number(match[1]);
  }

  /** Until /readyz answers 200 (connected, welcomed, not draining). */
  async waitReady(timeoutMs = 60_000): Promise<void> {
    await waitUntil(`agent ${this.instanceId} to be ready`, async () => {
      if (!this.process.running) throw new Error(`agent ${this.instanceId} exited`);
      return (await this.readiness()).status === 200 ? true : undefined;
    }, { timeoutMs, details: () => this.tail() });
  }

  /** Until the outbox holds `depth` results (checkpoint_outbox_depth). */
  async waitOutboxDepth(depth: number, timeoutMs = 60_000): Promise<void> {
    await waitUntil(`agent ${this.instanceId}'s outbox to hold ${depth} results`, async () => ((await this.metric('checkpoint_outbox_depth')) === depth ? true : undefined), {
      timeoutMs,
      details: () => this.tail(),
    });
  }

  /** SIGTERM (drain) and wait for the exit. */
  stop(timeoutMs?: number): Promise<ExitStatus & { forced: boolean }> {
    return this.process.stop(timeoutMs);
  }

  /** SIGKILL. */
  kill(): Promise<ExitStatus> {
    return this.process.kill();
  }
}
