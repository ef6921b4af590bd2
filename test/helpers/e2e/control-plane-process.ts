import { ControlPlaneApi } from './api.ts';
import { childEnv, ManagedProcess, type ExitStatus } from './managed-process.ts';

export interface ControlPlaneProcessOptions {
  dataDir: string;
  /** `--checkpoint-down-after-ms`. */
  checkpointDownAfterMs?: number;
  /** `--heartbeat-interval-ms`. */
  heartbeatIntervalMs?: number;
  /** More `checkpoint control-plane` options (`--database`, `--replica-id`, …). */
  args?: readonly string[];
  /** Label in logs. Default `control plane`. */
  name?: string;
}

/**
 * `checkpoint control-plane` as a child process. The first life listens on a port the system picks (`--port 0`);
 * later lives take that same port and data directory, so the control plane comes back where the agents expect
 * it. Its logs are kept across lives.
 */
export class ControlPlaneProcess {
  readonly options: ControlPlaneProcessOptions;
  readonly lives: ManagedProcess[] = [];
  #port = 0;
  #api: ControlPlaneApi | undefined;

  private constructor(options: ControlPlaneProcessOptions) {
    this.options = options;
  }

  static async start(options: ControlPlaneProcessOptions): Promise<ControlPlaneProcess> {
    const cp = new ControlPlaneProcess(options);
    await cp.start();
    return cp;
  }

  get port(): number {
    if (this.#port === 0) throw new Error('the control plane has not listened yet');
    return this.#port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get api(): ControlPlaneApi {
    this.#api ??= new ControlPlaneApi(this.url);
    return this.#api;
  }

  get process(): ManagedProcess | undefined {
    return this.lives.at(-1);
  }

  get running(): boolean {
    return this.process?.running === true;
  }

  /** Everything every life printed (the log lines are on stderr). */
  get log(): string {
    return this.lives.map((life) => `${life.stdout}${life.stderr}`).join('');
  }

  /** Log lines matching `pattern`, over every life. */
  count(pattern: RegExp): number {
    return this.log.split('\n').filter((line) => pattern.test(line)).length;
  }

  tail(lines = 60): string {
    return this.process?.tail(lines) ?? '--- control plane: never started ---';
  }

  /** Start (again) on the same port and data directory; resolves once it listens. */
  async start(): Promise<void> {
    if (this.running) throw new Error('the control plane is already running');
    const args = ['control-plane', '--port', String(this.#port), '--data', this.options.dataDir];
    if (this.options.checkpointDownAfterMs !== undefined) args.push('--checkpoint-down-after-ms', String(this.options.checkpointDownAfterMs));
    if (this.options.heartbeatIntervalMs !== undefined) args.push('--heartbeat-interval-ms', String(this.options.heartbeatIntervalMs));
    args.push(...(this.options.args ?? []));
    const life = ManagedProcess.start(`${this.options.name ?? 'control plane'} #${this.lives.length + 1}`, args, childEnv({}));
    this.lives.push(life);
    const match = await life.waitForOutput(/Control plane at http:\/\/127\.0\.0\.1:(\d+)\//, 30_000);
    const port = Number(match[1]);
    if (this.#port !== 0 && port !== this.#port) throw new Error(`the control plane came back on port ${port}, not ${this.#port}`);
    this.#port = port;
  }

  /** SIGTERM and wait for the exit (SIGKILL after 20 s). */
  async stop(): Promise<ExitStatus & { forced: boolean }> {
    const life = this.process;
    if (life === undefined) throw new Error('the control plane was never started');
    return life.stop(20_000);
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }
}
