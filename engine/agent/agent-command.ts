import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isProcessAlive } from '../browser/browser-process.ts';
import { rootCertificates } from 'node:tls';
import { sandboxUnavailable, type BrowserNetwork } from '../browser/launch.ts';
import { buildBrowserTrustHome } from '../browser/trust-store.ts';
import { egressPolicyFromSettings } from '../core/egress-policy.ts';
import { parseSecretsText } from '../core/secrets-file.ts';
import type { BackoffOptions } from '../core/backoff.ts';
import { EngineError, toEngineError } from '../core/errors.ts';
import { resolveAgentConfig } from '../schema/agent-config.ts';
import { version } from './version.ts';
import { Agent, type Readiness } from './agent.ts';
import { describeEvent, type AgentEvent } from './events.ts';
import { defaultHealthPort, startHealthServer, type HealthServer } from './health-server.ts';
import { resolveIdentity } from './instance-id.ts';
import { SecretSource } from './secret-source.ts';
import { plaintextWarning, redactedProxy, type TransportOptions } from './transport.ts';
import { parseControlPlaneUrl } from './urls.ts';

/**
 * Options of `checkpoint agent`. Each one left undefined falls back to an environment variable (what the
 * container images set), then to its default: CHECKPOINT_CONTROL_PLANE, CHECKPOINT_TOKEN, CHECKPOINT_INSTANCE_ID,
 * CHECKPOINT_DATA_DIR, CHECKPOINT_HEALTH_HOST, CHECKPOINT_HEALTH_PORT, CHECKPOINT_CONCURRENCY, CHECKPOINT_CA_FILE,
 * CHECKPOINT_PRIVACY_LOCK, CHECKPOINT_SECRETS_FILE, CHECKPOINT_SECRETS_ENV, CHECKPOINT_CLIENT_CERT,
 * CHECKPOINT_CLIENT_KEY, CHECKPOINT_CONTROL_PLANE_PROXY, CHECKPOINT_BROWSER_PROXY, CHECKPOINT_BROWSER_PROXY_BYPASS,
 * CHECKPOINT_ALLOW_NO_SANDBOX (engine/schema/agent-config.ts).
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
  /** Non-browser checks at once, in their own lane. Default 16. */
  checkConcurrency?: number | undefined;
  /** Egress policy on top of the built-in rules (docs/security.md): hosts and address ranges allowed or denied. */
  egressAllowHosts?: readonly string[] | undefined;
  egressDenyHosts?: readonly string[] | undefined;
  egressAllowCidrs?: readonly string[] | undefined;
  egressDenyCidrs?: readonly string[] | undefined;
  /** Also deny loopback and private addresses. */
  egressDenyPrivate?: boolean | undefined;
  /** The one directory `upload` reads files from (none: only inline files upload). */
  uploadsDir?: string | undefined;
  /** PEM file with extra CA certificates trusted for the control plane and by the browsers (besides the system's). */
  caFile?: string | undefined;
  /** Secrets file (JSON object or NAME=value lines): its entries are secrets scripts may read. */
  secretsFile?: string | undefined;
  /** Environment variables scripts may read as secrets (no other variable is given out). */
  secretEnv?: readonly string[] | undefined;
  /** PEM client certificate and key presented to the control plane (mutual TLS). */
  clientCert?: string | undefined;
  clientKey?: string | undefined;
  /** HTTP(S) proxy of the control-plane connection. */
  controlPlaneProxy?: string | undefined;
  /** Proxy of the browsers' test traffic, and the hosts that bypass it (comma-separated). */
  browserProxy?: string | undefined;
  browserProxyBypass?: string | undefined;
  /** As root, run Chromium without its sandbox (refused otherwise, exit 2). */
  allowNoSandbox?: boolean | undefined;
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
  /** Environment of the CHECKPOINT_* settings and of the secrets its allow-list names. Default process.env. */
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
      checkConcurrency: options.checkConcurrency,
      caFile: options.caFile,
      egressAllowHosts: options.egressAllowHosts?.join(','),
      egressDenyHosts: options.egressDenyHosts?.join(','),
      egressAllowCidrs: options.egressAllowCidrs?.join(','),
      egressDenyCidrs: options.egressDenyCidrs?.join(','),
      egressDenyPrivate: options.egressDenyPrivate === true ? true : undefined,
      uploadsDir: options.uploadsDir,
      privacyLock: options.privacyLock === true ? true : undefined,
      secretsFile: options.secretsFile,
      secretEnv: options.secretEnv?.join(','),
      clientCert: options.clientCert,
      clientKey: options.clientKey,
      controlPlaneProxy: options.controlPlaneProxy,
      browserProxy: options.browserProxy,
      browserProxyBypass: options.browserProxyBypass,
      allowNoSandbox: options.allowNoSandbox === true ? true : undefined,
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
  const { secretEnv, ...settings } = config;
  options = { ...options, ...settings };
  const token = config.token;

  const warnings: string[] = [];
  if (options.caFile !== undefined && process.platform !== 'linux') warnings.push(`--ca-file is trusted for the control plane only: on ${process.platform} the browsers use the system's trust store, install the CA there`);
  const plaintext = plaintextWarning(controlPlane);
  if (plaintext !== undefined) warnings.push(plaintext);

  // ---- trust, client certificate and proxies ----
  let ca: (string | Buffer)[] | undefined;
  let caPem: string | undefined;
  if (options.caFile !== undefined) {
    try {
      caPem = await readFile(options.caFile, 'utf8');
    } catch {
      return fail(exit.badInput, `--ca-file: cannot read ${options.caFile}`);
    }
    if (!caPem.includes('-----BEGIN CERTIFICATE-----')) return fail(exit.badInput, `--ca-file: ${options.caFile}: expected PEM certificates (-----BEGIN CERTIFICATE-----)`);
    ca = [...rootCertificates, caPem];
  }
  let clientCert: TransportOptions['clientCert'];
  if ((config.clientCert === undefined) !== (config.clientKey === undefined)) return fail(exit.badInput, '--client-cert and --client-key (CHECKPOINT_CLIENT_CERT, CHECKPOINT_CLIENT_KEY) go together');
  if (config.clientCert !== undefined && config.clientKey !== undefined) {
    const pair: string[] = [];
    for (const [flag, file, marker] of [['--client-cert', config.clientCert, 'CERTIFICATE'], ['--client-key', config.clientKey, 'PRIVATE KEY']] as const) {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch {
        return fail(exit.badInput, `${flag}: cannot read ${file}`);
      }
      if (!text.includes(marker)) return fail(exit.badInput, `${flag}: ${file}: expected a PEM ${marker.toLowerCase()} (-----BEGIN …${marker}-----)`);
      pair.push(text);
    }
    clientCert = { cert: pair[0] ?? '', key: pair[1] ?? '' };
  }
  const proxy = config.controlPlaneProxy === undefined ? undefined : new URL(config.controlPlaneProxy);
  const transport: TransportOptions = { ca, clientCert, proxy };

  // ---- secrets: only what the operator listed ----
  let fileSecrets: Map<string, string> | undefined;
  if (config.secretsFile !== undefined) {
    let text: string;
    try {
      text = await readFile(config.secretsFile, 'utf8');
    } catch {
      return fail(exit.badInput, `--secrets-file: cannot read ${config.secretsFile}`);
    }
    try {
      fileSecrets = parseSecretsText(text, config.secretsFile);
    } catch (error) {
      return fail(exit.badInput, `--secrets-file: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  const secrets = new SecretSource({ file: fileSecrets, envNames: secretEnv, env, token });
  let identity: { instanceId: string; dataDir: string };
  try {
    identity = await resolveIdentity({ instanceId: options.instanceId, dataDir: options.dataDir });
  } catch (error) {
    return fail(exit.badInput, `--data-dir: ${error instanceof Error ? error.message : String(error)}`);
  }

  // ---- the browsers' sandbox: as root Chromium cannot have one, and that takes the operator's consent ----
  if (sandboxUnavailable()) {
    if (config.allowNoSandbox !== true) {
      return fail(
        exit.badInput,
        'refusing to run Chromium without its sandbox: this agent runs as root, where Chromium cannot start its sandbox, and a page that exploits the renderer would then act with root rights on this host. ' +
          'Run the agent as an unprivileged user (the container image does), or accept the risk with --allow-no-sandbox (CHECKPOINT_ALLOW_NO_SANDBOX=1)',
      );
    }
    warnings.push('running as root: Chromium runs without its sandbox (allowed by --allow-no-sandbox / CHECKPOINT_ALLOW_NO_SANDBOX); a page that exploits the renderer acts with root rights on this host');
  }
  const privacyLock = config.privacyLock === true;
  if (io.handleSignals !== false) await isolateTempDir(identity.dataDir);
  const browserNetwork: BrowserNetwork = { proxy: config.browserProxy, proxyBypass: config.browserProxyBypass };

  // ---- health server first, so /healthz answers while the browser starts ----
  let agent: Agent | undefined;
  let health: HealthServer;
  try {
    health = await startHealthServer({
      host: options.healthHost ?? '127.0.0.1',
      port: options.healthPort ?? defaultHealthPort,
      readiness: (): Readiness => agent?.readiness() ?? { ready: false, reason: 'starting' },
      metrics: () => agent?.metrics() ?? '',
      warnings,
    });
  } catch (error) {
    const code = (error as { code?: string }).code;
    return fail(exit.badInput, `--health-port: cannot listen on ${options.healthHost ?? '127.0.0.1'}:${options.healthPort ?? defaultHealthPort}${code === undefined ? '' : ` (${code})`}`);
  }
  say(`version ${version}, health on ${health.url} (/healthz /readyz /metrics)`);
  for (const warning of warnings) say(`warning: ${warning}`);
  say(
    [
      `secrets for scripts: ${secrets.size} (${fileSecrets === undefined ? 'no secrets file' : `${fileSecrets.size} from ${config.secretsFile ?? ''}`}, ${secretEnv === undefined || secretEnv.length === 0 ? 'no environment allow-list' : `environment: ${secretEnv.join(', ')}`})`,
      ...(proxy === undefined ? [] : [`control plane through proxy ${redactedProxy(proxy)}`]),
      ...(config.browserProxy === undefined ? [] : [`browsers through proxy ${redactedProxy(new URL(config.browserProxy))}${config.browserProxyBypass === undefined ? '' : ` except ${config.browserProxyBypass}`}`]),
      ...(caPem === undefined ? [] : [`CA file ${options.caFile ?? ''} trusted by Node${process.platform === 'linux' ? ' and the browsers' : ''}`]),
      ...(clientCert === undefined ? [] : ['client certificate presented to the control plane']),
    ].join('; '),
  );

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
    // Chromium reads a user's trust anchors from $HOME/.pki/nssdb on Linux only; elsewhere it uses the system store.
    if (caPem !== undefined && process.platform === 'linux') browserNetwork.homeDir = await buildBrowserTrustHome(join(identity.dataDir, 'browser-home'), caPem, `--ca-file ${options.caFile ?? ''}`);
    agent = await Agent.start({
      controlPlane,
      token,
      instanceId: identity.instanceId,
      dataDir: identity.dataDir,
      version,
      privacyLock,
      concurrency: options.concurrency,
      checkConcurrency: config.checkConcurrency,
      transport,
      browserNetwork,
      egress: egressPolicyFromSettings(config),
      uploadsDir: config.uploadsDir,
      checkCaCertificates: caPem === undefined ? [] : [caPem],
      secrets,
      warnings,
      drainGraceMs: options.drainGraceMs,
      flushTimeoutMs: options.flushTimeoutMs,
      outboxCapBytes: options.outboxCapBytes,
      backoff: options.backoff,
      executablePath: options.executablePath,
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
