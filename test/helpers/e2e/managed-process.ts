import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitUntil } from './wait.ts';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
/** The `checkpoint` CLI, run with the Node that runs the tests. */
export const cliPath = fileURLToPath(new URL('../../../cli/main.ts', import.meta.url));

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Every process the e2e helpers started in this test process, for cleanup and leak checks. */
export const spawnedProcesses: ManagedProcess[] = [];

/** The environment a child gets: this one without any CHECKPOINT_* variable (each test sets its own), plus `extra`. */
export function childEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !/^CHECKPOINT_/i.test(name)) env[name] = value;
  }
  return { ...env, NO_COLOR: '1', ...extra };
}

/**
 * A real child process (`node cli/main.ts …`) with its stdout and stderr kept in memory, stopped with
 * SIGTERM (then SIGKILL when it does not exit in time) or killed with SIGKILL.
 */
export class ManagedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  readonly exited: Promise<ExitStatus>;
  #stdout = '';
  #stderr = '';
  #status: ExitStatus | undefined;

  private constructor(name: string, child: ChildProcess) {
    this.name = name;
    this.child = child;
    if (child.pid === undefined) throw new Error(`${name}: the process did not start`);
    this.pid = child.pid;
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (this.#stdout += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (this.#stderr += chunk));
    this.exited = new Promise<ExitStatus>((resolve) => {
      child.once('exit', (code, signal) => {
        this.#status = { code, signal };
        resolve(this.#status);
      });
    });
  }

  /** Start `node <cli> …args` in the repository root. */
  static start(name: string, args: readonly string[], env: Record<string, string>): ManagedProcess {
    const child = spawn(process.execPath, [cliPath, ...args], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const managed = new ManagedProcess(name, child);
    spawnedProcesses.push(managed);
    return managed;
  }

  get stdout(): string {
    return this.#stdout;
  }

  get stderr(): string {
    return this.#stderr;
  }

  /** Undefined while running. */
  get status(): ExitStatus | undefined {
    return this.#status;
  }

  get running(): boolean {
    return this.#status === undefined;
  }

  /** The last `lines` lines of stdout and stderr, labelled, for assertion messages. */
  tail(lines = 40): string {
    const pick = (text: string) => text.split('\n').filter((line) => line !== '').slice(-lines).join('\n');
    const status = this.#status === undefined ? 'running' : `exited code=${String(this.#status.code)} signal=${String(this.#status.signal)}`;
    return `--- ${this.name} (pid ${this.pid}, ${status}) ---\n${pick(this.#stdout)}${this.#stdout === '' ? '' : '\n'}${pick(this.#stderr)}`;
  }

  /** Wait for `pattern` in stdout or stderr; throws if the process exits first or `timeoutMs` passes. */
  async waitForOutput(pattern: RegExp, timeoutMs = 30_000): Promise<RegExpExecArray> {
    return waitUntil(
      `${this.name} to print ${String(pattern)}`,
      () => {
        const match = pattern.exec(this.#stdout) ?? pattern.exec(this.#stderr);
        if (match !== null) return match;
        if (this.#status !== undefined) throw new Error(`${this.name} exited (code ${String(this.#status.code)}, signal ${String(this.#status.signal)}) before printing ${String(pattern)}`);
        return undefined;
      },
      { timeoutMs, intervalMs: 50, details: () => this.tail() },
    );
  }

  /** Count of lines matching `pattern` in stdout and stderr. */
  count(pattern: RegExp): number {
    return `${this.#stdout}\n${this.#stderr}`.split('\n').filter((line) => pattern.test(line)).length;
  }

  /** Send a signal (no-op once exited). */
  signal(signal: NodeJS.Signals): void {
    if (this.#status === undefined) this.child.kill(signal);
  }

  /**
   * SIGTERM, then wait up to `timeoutMs` for the exit; past it, SIGKILL. `forced` says whether SIGKILL was needed.
   */
  async stop(timeoutMs = 45_000): Promise<ExitStatus & { forced: boolean }> {
    if (this.#status !== undefined) return { ...this.#status, forced: false };
    // A process a test froze (SIGSTOP) would never see the SIGTERM.
    this.child.kill('SIGCONT');
    this.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
    const first = await Promise.race([this.exited, timedOut]);
    clearTimeout(timer);
    if (first !== 'timeout') return { ...first, forced: false };
    this.child.kill('SIGKILL');
    return { ...(await this.exited), forced: true };
  }

  /** SIGKILL and wait for the exit. */
  async kill(): Promise<ExitStatus> {
    if (this.#status !== undefined) return this.#status;
    this.child.kill('SIGKILL');
    return this.exited;
  }
}
