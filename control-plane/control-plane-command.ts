import { isAbsolute, resolve } from 'node:path';
import { isPostgresUrl } from './open-store.ts';
import { retentionProblem, type RetentionDays } from './retention.ts';
import { startControlPlane, type ControlPlane, type ControlPlaneOptions } from './server.ts';

export interface ControlPlaneCommandOptions {
  /** Default 8400. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default `.checkpoint/control-plane`. */
  data?: string;
  /** A PostgreSQL URL; falls back to CHECKPOINT_DATABASE_URL. Default: SQLite in `data`. */
  database?: string;
  databasePoolSize?: number;
  /** Falls back to CHECKPOINT_REPLICA_ID. */
  replicaId?: string;
  leaderLeaseMs?: number;
  tlsCert?: string;
  tlsKey?: string;
  /** Falls back to the CHECKPOINT_ADMIN_TOKEN environment variable (keeps it out of `ps`). */
  adminToken?: string;
  webhook?: string[];
  heartbeatIntervalMs?: number;
  checkpointDownAfterMs?: number;
  /** Signs the --webhook POSTs; falls back to CHECKPOINT_WEBHOOK_SECRET. */
  webhookSecret?: string;
  /** Falls back to CHECKPOINT_PUBLIC_URL. */
  publicUrl?: string;
  /** Falls back to CHECKPOINT_METRICS_TOKEN. */
  metricsToken?: string;
  /** Extra Host names to answer to (repeatable); falls back to CHECKPOINT_ALLOWED_HOSTS (comma-separated). */
  allowedHost?: string[];
  /** Days to keep each kind of record (0: forever); fall back to CHECKPOINT_RETENTION_<KIND>_DAYS. */
  retainRunsDays?: number;
  retainResultsDays?: number;
  retainAlertsDays?: number;
  retainArtifactsDays?: number;
  retainInstancesDays?: number;
}

/** Retention days from the options, else the environment (`CHECKPOINT_RETENTION_RUNS_DAYS`, …). */
function retentionFrom(options: ControlPlaneCommandOptions, env: NodeJS.ProcessEnv): Partial<RetentionDays> | string {
  const days: Partial<RetentionDays> = {};
  const kinds = { runs: options.retainRunsDays, results: options.retainResultsDays, alerts: options.retainAlertsDays, artifacts: options.retainArtifactsDays, instances: options.retainInstancesDays };
  for (const [kind, value] of Object.entries(kinds) as [keyof RetentionDays, number | undefined][]) {
    const name = `CHECKPOINT_RETENTION_${kind.toUpperCase()}_DAYS`;
    const fromEnv = env[name];
    if (value !== undefined) days[kind] = value;
    else if (fromEnv !== undefined && fromEnv.trim() !== '') {
      if (!/^\d+$/.test(fromEnv.trim())) return `${name}=${JSON.stringify(fromEnv)}: expected whole days (0 keeps forever)`;
      days[kind] = Number(fromEnv.trim());
    }
  }
  return retentionProblem(days) ?? days;
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
  if (adminToken !== undefined && adminToken.trim() === '') {
    // An empty token must not quietly mean "no token" (every loopback client an administrator).
    io.stderr(`error: ${options.adminToken === undefined ? 'CHECKPOINT_ADMIN_TOKEN' : '--admin-token'} is empty: give a token, or leave it out for a loopback-only control plane\n`);
    return exit.badInput;
  }
  const host = options.host ?? '127.0.0.1';
  if (adminToken === undefined && !['127.0.0.1', '::1', 'localhost'].includes(host) && !host.startsWith('127.')) {
    io.stderr(`error: --host ${host}: without an admin token the control plane listens on loopback only; set --admin-token (or CHECKPOINT_ADMIN_TOKEN) to listen on ${host}\n`);
    return exit.badInput;
  }
  const retention = retentionFrom(options, process.env);
  if (typeof retention === 'string') {
    io.stderr(`error: ${retention}\n`);
    return exit.badInput;
  }
  const database = options.database ?? (process.env['CHECKPOINT_DATABASE_URL'] === '' ? undefined : process.env['CHECKPOINT_DATABASE_URL']);
  if (database !== undefined && !isPostgresUrl(database)) {
    // Never echo the value: it may carry a password.
    io.stderr(`error: ${options.database === undefined ? 'CHECKPOINT_DATABASE_URL' : '--database'}: expected a postgres:// or postgresql:// URL (leave it out for SQLite in --data)\n`);
    return exit.badInput;
  }
  if (options.leaderLeaseMs !== undefined && options.leaderLeaseMs < 1000) {
    io.stderr(`error: --leader-lease-ms: expected at least 1000 ms, got ${options.leaderLeaseMs}\n`);
    return exit.badInput;
  }
  const replicaId = options.replicaId ?? process.env['CHECKPOINT_REPLICA_ID'];
  if (replicaId !== undefined && !/^[\w.-]{1,100}$/.test(replicaId)) {
    io.stderr(`error: --replica-id ${JSON.stringify(replicaId)}: expected 1 to 100 letters, digits, '.', '_' or '-'\n`);
    return exit.badInput;
  }
  const allowedHosts = options.allowedHost ?? (process.env['CHECKPOINT_ALLOWED_HOSTS'] ?? '').split(',').map((name) => name.trim()).filter((name) => name !== '');
  const config: ControlPlaneOptions = {
    port: options.port ?? 8400,
    host,
    allowedHosts,
    retentionDays: retention,
    dataDir: isAbsolute(dataDir) ? dataDir : resolve(dataDir),
    webhooks: options.webhook ?? [],
    log: (line) => io.stderr(`${new Date().toISOString()} ${line}\n`),
  };
  if (adminToken !== undefined) config.adminToken = adminToken;
  if (database !== undefined) config.database = database;
  if (options.databasePoolSize !== undefined) config.databasePoolSize = options.databasePoolSize;
  if (replicaId !== undefined) config.replicaId = replicaId;
  if (options.leaderLeaseMs !== undefined) config.leaderLeaseMs = options.leaderLeaseMs;
  const webhookSecret = options.webhookSecret ?? process.env['CHECKPOINT_WEBHOOK_SECRET'];
  if (webhookSecret !== undefined) {
    if (webhookSecret.length < 16) {
      io.stderr(`error: ${options.webhookSecret === undefined ? 'CHECKPOINT_WEBHOOK_SECRET' : '--webhook-secret'}: expected at least 16 characters\n`);
      return exit.badInput;
    }
    config.webhookSecret = webhookSecret;
  }
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
