import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isProcessAlive } from '../browser/browser-process.ts';
import { rootCertificates } from 'node:tls';
import type { BackoffOptions } from '../core/backoff.ts';
import { EngineError, toEngineError } from '../core/errors.ts';
import { resolveAgentConfig } from '../schema/agent-config.ts';
import { version } from './version.ts';
import { Agent, type Readiness } from './agent.ts';
import { describeEvent, type AgentEvent } from './events.ts';
import { defaultHealthPort, startHealthServer, type HealthServer } from './health-server.ts';
import { resolveIdentity } from './instance-id.ts';
import { parseControlPlaneUrl } from './urls.ts';

/**
 * Options of `checkpoint agent`. Each one left undefined falls back to an environment variable (what the
 * container images set), then to its default: CHECKPOINT_CONTROL_PLANE, CHECKPOINT_TOKEN, CHECKPOINT_INSTANCE_ID,
 * CHECKPOINT_DATA_DIR, CHECKPOINT_HEALTH_HOST, CHECKPOINT_HEALTH_PORT, CHECKPOINT_CONCURRENCY, CHECKPOINT_CA_FILE,
 * CHECKPOINT_PRIVACY_LOCK.
 */
export interface AgentCommandOptions {
  /** Base URL of the control plane, e.g. `https://control-plane.example:8443`. */
  controlPlane?: string | URL | undefined;
  /** Bearer token of this checkpoint. Default: the CHECKPOINT_TOKEN environment variable. */
  token?: string | undefined;
  /** Stable id of this instance. Default: `<hostname>-<random>`, generated once and kept (see instance-id.ts). */
  instanceId?: string | undefined;
  /** Outbox location. Default `./.checkpoint/agent-<instanceId>`. */
  dataDir?: string | undefined;
  /** Port of /healthz, /readyz, /metrics. Default 9464; 0 picks a free port. */
  healthPort?: number | undefined;
  /** Address of the health server. Default 127.0.0.1. */
  healthHost?: string | undefined;
  /** Runs at once. Default: from the container's CPU and memory limits. */
  concurrency?: number | undefined;
  /** PEM file with extra CA certificates trusted for the control plane (besides the system's). */
  caFile?: string | undefined;
  /** Turn the privacy lock on (it is also on when CHECKPOINT_PRIVACY_LOCK is set; an option cannot turn it off). */
  privacyLock?: boolean | undefined;
  /** Grace given to running runs on drain before they are aborted. Default 30 000 ms. */
  drainGraceMs?: number | undefined;
  /** Time given to delivering the outbox on drain. Default 10 000 ms. */
  flushTimeoutMs?: number | undefined;
  /** Outbox byte cap. Default 512 MiB. */
  outboxCapBytes?: number | undefined;
  /** Reconnect/upload pacing (tests and embedding). */
  backoff?: BackoffOptions | undefined;
  /** Browser executable (default: discovered). */
  executablePath?: string | undefined;
}

export interface AgentCommandIo {
  /** One line per state change. */
  stderr(text: string): void;
  /** Aborting it drains and stops the agent like SIGTERM (embedding, tests). */
  signal?: AbortSignal | undefined;
  /** Drain on SIGTERM/SIGINT (a second one aborts running runs at once). Default true. */
  handleSignals?: boolean | undefined;
  /** Environment for CHECKPOINT_TOKEN, CHECKPOINT_PRIVACY_LOCK and script secrets. Default process.env. */
  env?: Readonly<Record<string, string | undefined>> | undefined;
  /** Every agent event, structured (the lines on stderr are made from them). */
  onEvent?: ((event: AgentEvent) => void) | undefined;
}

const exit = { done: 0, badInput: 2, engineFault: 3 } as const;

/**
 * A standalone agent keeps every temporary file of its browsers (profiles, Playwright artifacts) under
 * `<dataDir>/tmp/<pid>`, and removes the folders of earlier agent processes that are gone: a SIGKILLed or
 * OOM-killed agent cannot clean up after itself, and its leftovers would otherwise fill the disk over months.
 * Not done for agents embedded in another process (`checkpoint start`), which share one TMPDIR.
 */
async function isolateTempDir(dataDir: string): Promise<void> {
  const root = join(dataDir, 'tmp');
  await mkdir(root, { recursive: true });
  for (const entry of await readdir(root)) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid || !isProcessAlive(pid)) {
      if (pid !== process.pid) await rm(join(root, entry), { recursive: true, force: true }).catch(() => undefined);
    }
  }
  const own = join(root, String(process.pid));
  await mkdir(own, { recursive: true });
  process.env['TMPDIR'] = own;
  process.env['TMP'] = own;
  process.env['TEMP'] = own;
}

/**
 * `checkpoint agent`: run this checkpoint instance until SIGTERM/SIGINT (or `io.signal`, or a drain command
 * from the control plane), then drain. Returns the exit code: 0 after a clean drain, 2 for bad options, 3
 * for an engine fault (no browser, unusable data directory).
 */
export async function runAgentCommand(options: AgentCommandOptions, io: AgentCommandIo): Promise<number> {
  const env = io.env ?? process.env;
  const say = (line: string) => io.stderr(`checkpoint agent: ${line}\n`);
  const fail = (code: number, message: string) => {
    io.stderr(`error: ${message}\n`);
    return code;
  };

  // ---- options over the environment: one schema (engine/schema/agent-config.ts) ----
  const resolved = resolveAgentConfig(
    {
      controlPlane: options.controlPlane instanceof URL ? options.controlPlane.href : options.controlPlane,
      token: options.token,
      instanceId: options.instanceId,
      dataDir: options.dataDir,
      healthHost: options.healthHost,
      healthPort: options.healthPort,
      concurrency: options.concurrency,
      caFile: options.caFile,
      privacyLock: options.privacyLock === true ? true : undefined,
      drainGraceMs: options.drainGraceMs,
      flushTimeoutMs: options.flushTimeoutMs,
      outboxCapBytes: options.outboxCapBytes,
    },
    env,
  );
  if (!resolved.ok) return fail(exit.badInput, resolved.problems.join('\nerror: '));
  const config = resolved.config;
  const controlPlane = parseControlPlaneUrl(config.controlPlane);
  if (typeof controlPlane === 'string') return fail(exit.badInput, controlPlane);
  options = { ...options, ...config };
  const token = config.token;
  let ca: (string | Buffer)[] | undefined;
  if (options.caFile !== undefined) {
    try {
      const pem = await readFile(options.caFile, 'utf8');
      if (!pem.includes('-----BEGIN CERTIFICATE-----')) return fail(exit.badInput, `--ca-file: ${options.caFile}: expected PEM certificates (-----BEGIN CERTIFICATE-----)`);
      ca = [...rootCertificates, pem];
    } catch {
      return fail(exit.badInput, `--ca-file: cannot read ${options.caFile}`);
    }
  }
  let identity: { instanceId: string; dataDir: string };
  try {
    identity = await resolveIdentity({ instanceId: options.instanceId, dataDir: options.dataDir });
  } catch (error) {
    return fail(exit.badInput, `--data-dir: ${error instanceof Error ? error.message : String(error)}`);
  }
  const privacyLock = config.privacyLock === true;
  if (io.handleSignals !== false) await isolateTempDir(identity.dataDir);

  // ---- health server first, so /healthz answers while the browser starts ----
  let agent: Agent | undefined;
  let health: HealthServer;
  try {
    health = await startHealthServer({
      host: options.healthHost ?? '127.0.0.1',
      port: options.healthPort ?? defaultHealthPort,
      readiness: (): Readiness => agent?.readiness() ?? { ready: false, reason: 'starting' },
      metrics: () => agent?.metrics() ?? '',
    });
  } catch (error) {
    const code = (error as { code?: string }).code;
    return fail(exit.badInput, `--health-port: cannot listen on ${options.healthHost ?? '127.0.0.1'}:${options.healthPort ?? defaultHealthPort}${code === undefined ? '' : ` (${code})`}`);
  }
  say(`version ${version}, health on ${health.url} (/healthz /readyz /metrics)`);

  const onEvent = (event: AgentEvent) => {
    io.onEvent?.(event);
    const line = describeEvent(event);
    if (line !== undefined) say(line);
  };

  // ---- stop requests, installed before the slow start so an early SIGTERM is not lost ----
  let stopRequested: string | undefined;
  let requests = 0;
  const requestStop = (why: string) => {
    requests++;
    stopRequested ??= why;
    if (agent === undefined) return;
    if (requests === 1 || !agent.draining) void agent.drain(why);
    else {
      say(`${why} again: aborting running runs now`);
      agent.abortRuns(`the run was aborted: the checkpoint was stopped (${why})`);
    }
  };
  const onSigterm = () => requestStop('SIGTERM');
  const onSigint = () => requestStop('SIGINT');
  const onSigbreak = () => requestStop('SIGBREAK');
  const onAbort = () => requestStop('stop requested');
  if (io.handleSignals !== false) {
    process.on('SIGTERM', onSigterm);
    process.on('SIGINT', onSigint);
    // Windows: Ctrl+Break (and what some service wrappers send) arrives as SIGBREAK.
    if (process.platform === 'win32') process.on('SIGBREAK', onSigbreak);
  }
  io.signal?.addEventListener('abort', onAbort, { once: true });
  const cleanup = async () => {
    process.off('SIGTERM', onSigterm);
    process.off('SIGINT', onSigint);
    process.off('SIGBREAK', onSigbreak);
    io.signal?.removeEventListener('abort', onAbort);
    await health.close();
  };

  try {
    agent = await Agent.start({
      controlPlane,
      token,
      instanceId: identity.instanceId,
      dataDir: identity.dataDir,
      version,
      privacyLock,
      concurrency: options.concurrency,
      ca,
      drainGraceMs: options.drainGraceMs,
      flushTimeoutMs: options.flushTimeoutMs,
      outboxCapBytes: options.outboxCapBytes,
      backoff: options.backoff,
      executablePath: options.executablePath,
      env,
      onEvent,
    });
  } catch (error) {
    await cleanup();
    const engineError = error instanceof EngineError ? error : toEngineError(error);
    return fail(engineError.blame === 'engine' ? exit.engineFault : exit.badInput, engineError.message);
  }
  if (stopRequested !== undefined || io.signal?.aborted === true) void agent.drain(stopRequested ?? 'stop requested');

  try {
    await agent.done;
  } catch (error) {
    await cleanup();
    return fail(exit.engineFault, toEngineError(error).message);
  }
  await cleanup();
  return exit.done;
}
