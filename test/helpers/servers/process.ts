import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';

/** Why a server test skips: only a missing binary (CI installs them through bin/setup.sh). */
export function missingBinary(...paths: string[]): string | false {
  const missing = paths.filter((path) => !existsSync(path));
  return missing.length === 0 ? false : `not installed: ${missing.join(', ')} (bin/setup.sh installs it)`;
}

export interface ServerProcess {
  child: ChildProcess;
  /** What the server wrote, for a start-up failure message. */
  output(): string;
  stop(): Promise<void>;
}

/** Start a server in the foreground, keeping its output; `stop` sends SIGTERM (or `stopSignal`), then SIGKILL after 5 s. */
export function startProcess(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; stopSignal?: NodeJS.Signals } = {}): ServerProcess {
  const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => {
    if (output.length < 20_000) output += chunk.toString();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(options.stopSignal ?? 'SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Wait until 127.0.0.1:port accepts connections (or the process exits, or `timeoutMs` passes). */
export async function waitForPort(port: number, server: ServerProcess, timeoutMs = 30_000): Promise<void> {
  const endMs = Date.now() + timeoutMs;
  for (;;) {
    if (server.child.exitCode !== null) throw new Error(`the server exited (${server.child.exitCode}) before listening on ${port}: ${server.output()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > endMs) throw new Error(`nothing listened on ${port} within ${timeoutMs} ms: ${server.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Arguments that run `command` as `user` when this process is root (servers that refuse root). setpriv execs
 * the command in its own place, so the stop signal reaches the server itself (runuser would stay in between
 * and not pass SIGINT on, leaving the server running after the test).
 */
export function asUser(user: string, command: string, args: string[]): [string, string[]] {
  if (process.getuid?.() !== 0) return [command, args];
  return ['setpriv', ['--reuid', user, '--regid', user, '--init-groups', '--', command, ...args]];
}

/** Wait until the server's output matches `ready` (or it exits, or `timeoutMs` passes). */
export async function waitForOutput(server: ServerProcess, ready: RegExp, timeoutMs = 60_000): Promise<void> {
  const endMs = Date.now() + timeoutMs;
  while (!ready.test(server.output())) {
    if (server.child.exitCode !== null) throw new Error(`the server exited (${server.child.exitCode}) before it was ready: ${server.output()}`);
    if (Date.now() > endMs) throw new Error(`the server was not ready within ${timeoutMs} ms: ${server.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
