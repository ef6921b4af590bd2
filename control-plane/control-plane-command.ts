import { isAbsolute, resolve } from 'node:path';
import { startControlPlane, type ControlPlane, type ControlPlaneOptions } from './server.ts';

export interface ControlPlaneCommandOptions {
  /** Default 8400. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default `.checkpoint/control-plane`. */
  data?: string;
  tlsCert?: string;
  tlsKey?: string;
  /** Falls back to the CHECKPOINT_ADMIN_TOKEN environment variable (keeps it out of `ps`). */
  adminToken?: string;
  webhook?: string[];
  heartbeatIntervalMs?: number;
  checkpointDownAfterMs?: number;
  /** Falls back to CHECKPOINT_PUBLIC_URL. */
  publicUrl?: string;
  /** Falls back to CHECKPOINT_METRICS_TOKEN. */
  metricsToken?: string;
}

export interface CommandIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/** Exit codes, as in cli/exit-codes.ts (this layer may not import the CLI). */
const exit = { done: 0, badInput: 2, fault: 3 } as const;

/** Resolves on the first SIGINT or SIGTERM. */
function untilSignal(): Promise<string> {
  return new Promise((resolveSignal) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolveSignal(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/**
 * `checkpoint control-plane`: run the reference control plane until SIGINT/SIGTERM, then stop cleanly.
 * Returns the exit code: 0 after a clean stop, 2 for bad options, 3 when it cannot start (port in use, TLS files
 * unreadable, data directory not writable).
 */
export async function runControlPlaneCommand(options: ControlPlaneCommandOptions, io: CommandIo, stopped: Promise<unknown> = untilSignal()): Promise<number> {
  if ((options.tlsCert === undefined) !== (options.tlsKey === undefined)) {
    io.stderr('error: --tls-cert and --tls-key go together: give both or neither\n');
    return exit.badInput;
  }
  for (const url of options.webhook ?? []) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    if (parsed === undefined || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
      io.stderr(`error: --webhook ${JSON.stringify(url)}: expected an http:// or https:// URL\n`);
      return exit.badInput;
    }
  }
  if (options.heartbeatIntervalMs !== undefined && (!Number.isInteger(options.heartbeatIntervalMs) || options.heartbeatIntervalMs < 100 || options.heartbeatIntervalMs > 600_000)) {
    io.stderr(`error: --heartbeat-interval: expected milliseconds from 100 to 600000, got ${options.heartbeatIntervalMs}\n`);
    return exit.badInput;
  }
  const dataDir = options.data ?? '.checkpoint/control-plane';
  const adminToken = options.adminToken ?? process.env['CHECKPOINT_ADMIN_TOKEN'];
  const config: ControlPlaneOptions = {
    port: options.port ?? 8400,
    host: options.host ?? '127.0.0.1',
    dataDir: isAbsolute(dataDir) ? dataDir : resolve(dataDir),
    webhooks: options.webhook ?? [],
    log: (line) => io.stderr(`${new Date().toISOString()} ${line}\n`),
  };
  if (adminToken !== undefined && adminToken !== '') config.adminToken = adminToken;
  if (options.tlsCert !== undefined && options.tlsKey !== undefined) config.tls = { certFile: options.tlsCert, keyFile: options.tlsKey };
  if (options.heartbeatIntervalMs !== undefined) config.heartbeatIntervalMs = options.heartbeatIntervalMs;
  if (options.checkpointDownAfterMs !== undefined) config.checkpointDownAfterMs = options.checkpointDownAfterMs;
  const publicUrl = options.publicUrl ?? process.env['CHECKPOINT_PUBLIC_URL'];
  if (publicUrl !== undefined && publicUrl !== '') {
    if (!/^https?:\/\/[^/]/.test(publicUrl)) {
      io.stderr(`error: --public-url ${JSON.stringify(publicUrl)}: expected an http:// or https:// URL\n`);
      return exit.badInput;
    }
    config.publicUrl = publicUrl;
  }
  const metricsToken = options.metricsToken ?? process.env['CHECKPOINT_METRICS_TOKEN'];
  if (metricsToken !== undefined && metricsToken !== '') config.metricsToken = metricsToken;

  let controlPlane: ControlPlane;
  try {
    controlPlane = await startControlPlane(config);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'EADDRINUSE'
        ? `port ${config.port ?? ''} is already in use (try --port 0 for any free port)`
        : error instanceof Error
          ? error.message.split('\n')[0]
          : String(error);
    io.stderr(`error: the control plane could not start: ${reason}\n`);
    return exit.fault;
  }
  io.stdout(`Control plane at ${controlPlane.url}/ (dashboard), API at ${controlPlane.url}/api/v1, agents connect to ${controlPlane.url.replace(/^http/, 'ws')}/api/v1/agent\n`);
  io.stderr('Press Ctrl-C to stop.\n');
  await stopped;
  await controlPlane.close();
  return exit.done;
}
