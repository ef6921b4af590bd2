import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { systemClock, type Clock } from '../engine/index.ts';
import { Alerts, type PostJson } from './alerts.ts';
import type { Environment } from './channels/secrets.ts';
import { createApi, defaultLimits } from './api.ts';
import { ArtifactFiles } from './artifact-files.ts';
import { Auth } from './auth.ts';
import { createDashboard } from './dashboard.ts';
import { ApiError, bearerToken, isLoopbackHost, sendError, sha256Hex } from './http.ts';
import { Hub, rejectUpgrade, type AgentControl, type HubLimits, type InstanceLink } from './hub.ts';
import { escapedLog, LogLimiter, stderrLog, type Log } from './log.ts';
import { allowedHostNames, checkHost, checkJsonContentType, checkOrigin } from './origin-guard.ts';
import { RateLimiter } from './rate-limit.ts';
import { Retention, type RetentionDays } from './retention.ts';
import { Scheduler } from './scheduler.ts';
import { Sessions } from './sessions.ts';
import { openStore } from './open-store.ts';
import { defaultLeaderLeaseMs, defaultReplicaId, schedulerLease, startCluster, type Cluster } from './cluster/start-cluster.ts';
import type { Replica } from './cluster/replica.ts';
import { redactPostgresUrl } from './store-postgres.ts';

export interface ControlPlaneOptions {
  /** Default 0: any free port (see `url`). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** SQLite file and artifacts live here (with `database`, only artifacts: share it between replicas). */
  dataDir: string;
  /**
   * A PostgreSQL URL (`postgres://user:password@host:5432/db?sslmode=verify-full`): the store is shared with every
   * replica that names it, and they form a cluster (docs/scaling.md). Default: SQLite in `dataDir`.
   */
  database?: string;
  /** Connections to PostgreSQL this replica keeps at most for its store. Default 10. */
  databasePoolSize?: number;
  /** This replica's id in a cluster. Default: the host name and a random suffix. */
  replicaId?: string;
  /** How long the leading replica's lease lasts without renewal (renewed every third of it). Default 15 s. */
  leaderLeaseMs?: number;
  /** Bearer token for the admin API and the dashboard. Without one, both answer loopback clients only. */
  adminToken?: string;
  /** Serve HTTPS and WSS. */
  tls?: { certFile: string; keyFile: string };
  /** Sent to instances in `welcome`; a link silent for 3 intervals is terminated. Default 10 s. */
  heartbeatIntervalMs?: number;
  /** A checkpoint with no instance connected for this long raises `checkpoint-down`. Default 60 s. */
  checkpointDownAfterMs?: number;
  /** URLs that receive every alert as a JSON POST. */
  webhooks?: string[];
  /** HMAC secret signing the `webhooks` POSTs (docs/alerting.md). */
  webhookSecret?: string;
  /** Time source of the scheduler, liveness and alerting. Default: the system clock. */
  clock?: Clock;
  /** After a start, how long instances get to reconnect before their runs count as lost. Default max(3 heartbeats, 45 s). */
  startupGraceMs?: number;
  /** Added to a script's time budget for its lease. Default 60 s. */
  leaseMarginMs?: number;
  /** How often the maintenance tick runs (real time). Default 500 ms. */
  tickIntervalMs?: number;
  /** Waits before webhook attempts 2, 3, … Default 1 s, 5 s, 15 s. */
  webhookRetryDelaysMs?: number[];
  /** Where log lines go. Default: stderr with timestamps. */
  log?: Log;
  /** Replace the webhook transport (tests). */
  postJson?: PostJson;
  /** Base URL of links in alerts (the dashboard as users reach it). Default: the listening URL. */
  publicUrl?: string;
  /** A bearer token that may read /metrics only. */
  metricsToken?: string;
  /** Where `{{env.NAME}}` in channel settings is read. Default: process.env. */
  env?: Environment;
  /**
   * Host names (as in the Host header) this control plane answers to, besides the loopback names and the address
   * it is bound to. `*` answers any (only behind a reverse proxy that checks Host itself).
   */
  allowedHosts?: string[];
  /** Requests per second per client (admin token, checkpoint token or address) on the REST API and dashboard. Default 100, burst 1000. */
  rateLimit?: { perSecond: number; burst: number };
  /** Limits of the agent hub (messages and connection attempts per second, instances per checkpoint). */
  hubLimits?: Partial<HubLimits>;
  /** Days to keep runs, results, alerts, artifacts and gone instances (0: forever). Defaults in retention.ts. */
  retentionDays?: Partial<RetentionDays>;
  /** How often the pruning job runs (on `clock`). Default 1 h. */
  retentionEveryMs?: number;
  /** Dashboard sessions end this long after sign-in (default 12 h) or this long unused (default 2 h). */
  session?: { maxAgeMs?: number; idleMs?: number };
  /** Real monotonic time of the rate limits (tests). Default performance.now. */
  rateNowMs?: () => number;
}

export interface ControlPlane {
  /** Base URL, e.g. `http://127.0.0.1:41234` (agents connect to `<url>/api/v1/agent`). */
  url: string;
  /** Stop: terminates agent links and open connections at once, stops webhook retries, closes the database. */
  close(): Promise<void>;
  /** Run the maintenance tick now (liveness, lost runs, checkpoint health, due monitors); resolves when it is done. For fake-clock tests. */
  tick(): Promise<void>;
  /** Resolves when every webhook delivery started so far has finished. */
  alertsSettled(): Promise<void>;
  /** Run the pruning job now (retention). */
  prune(): ReturnType<Retention['prune']>;
}

function formatHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

/** Start the reference control plane: REST API, agent WebSocket hub, scheduler, alerting and dashboard on one port. */
export async function startControlPlane(options: ControlPlaneOptions): Promise<ControlPlane> {
  const clock = options.clock ?? systemClock;
  // Every line is escaped: names, versions and messages from clients cannot forge log lines.
  const log = escapedLog(options.log ?? stderrLog(() => clock.wallNow()));
  const host = options.host ?? '127.0.0.1';
  const rateNowMs = options.rateNowMs ?? (() => performance.now());
  const heartbeatIntervalMs = options.heartbeatIntervalMs ?? 10_000;
  // The bounds of welcome.heartbeatIntervalMs in the protocol.
  if (!Number.isInteger(heartbeatIntervalMs) || heartbeatIntervalMs < 100 || heartbeatIntervalMs > 600_000) {
    throw new RangeError(`heartbeatIntervalMs: expected a whole number of milliseconds from 100 to 600000, got ${heartbeatIntervalMs}`);
  }
  if (options.checkpointDownAfterMs !== undefined && !(options.checkpointDownAfterMs >= 0)) {
    throw new RangeError(`checkpointDownAfterMs: expected a number of milliseconds ≥ 0, got ${options.checkpointDownAfterMs}`);
  }
  if (options.adminToken !== undefined && options.adminToken.trim() === '') {
    throw new RangeError('adminToken: expected a token, got an empty string (leave it out for a loopback-only control plane)');
  }
  const adminToken = options.adminToken;
  // Without an admin token every client that reaches the port is an administrator: only this machine may.
  if (adminToken === undefined && !isLoopbackHost(host)) {
    throw new RangeError(`host ${host}: without an admin token the control plane listens on loopback only; set an admin token (--admin-token or CHECKPOINT_ADMIN_TOKEN) to listen on ${host}`);
  }
  // The public URL's host is one the control plane answers to (a reverse proxy passes it on as Host).
  const publicHost = options.publicUrl === undefined ? [] : [new URL(options.publicUrl).hostname];
  const allowedHosts = allowedHostNames({ bindHost: host, extra: [...(options.allowedHosts ?? []), ...publicHost] });
  const tls = options.tls === undefined ? undefined : { cert: readFileSync(options.tls.certFile), key: readFileSync(options.tls.keyFile) };

  const clustered = options.database !== undefined;
  const replicaId = options.replicaId ?? defaultReplicaId();
  const store = await openStore({
    dataDir: options.dataDir,
    ...(options.database === undefined ? {} : { database: options.database, fence: { lease: schedulerLease, holder: replicaId } }),
    ...(options.databasePoolSize === undefined ? {} : { poolSize: options.databasePoolSize }),
  });
  try {
    // Alone, nothing is connected at start-up, whatever the file says; in a cluster, other replicas' agents are.
    if (!clustered) await store.markAllInstancesDisconnected();
  } catch (error) {
    await store.close();
    throw error;
  }
  const files = new ArtifactFiles(options.dataDir);
  await files.clearTemporary();
  const sessions = new Sessions({ nowMs: () => clock.nowMs(), ...(options.session ?? {}) });
  const auth = new Auth(store, adminToken, sessions, () => clock.wallNow().toISOString());
  const complaints = new LogLimiter({ log, nowMs: rateNowMs });
  const requests = new RateLimiter({ perSecond: options.rateLimit?.perSecond ?? 100, burst: options.rateLimit?.burst ?? 1000, nowMs: rateNowMs });
  const retention = new Retention({
    store,
    files,
    clock,
    log,
    ...(options.retentionDays === undefined ? {} : { days: options.retentionDays }),
    ...(options.retentionEveryMs === undefined ? {} : { everyMs: options.retentionEveryMs }),
  });
  const alerts = new Alerts({
    store,
    log,
    clock,
    webhooks: options.webhooks ?? [],
    ...(options.webhookSecret === undefined ? {} : { webhookSecret: options.webhookSecret }),
    ...(options.webhookRetryDelaysMs === undefined ? {} : { retryDelaysMs: options.webhookRetryDelaysMs }),
    ...(options.postJson === undefined ? {} : { post: options.postJson }),
    ...(options.publicUrl === undefined ? {} : { baseUrl: options.publicUrl }),
    ...(options.env === undefined ? {} : { env: options.env }),
  });

  // The hub and the scheduler call each other: the hub reports instance events (only once sockets connect, after
  // both exist), the scheduler sends commands.
  const hub = new Hub({
    store,
    clock,
    log,
    heartbeatIntervalMs,
    complaints,
    rateNowMs,
    ...(options.hubLimits === undefined ? {} : { limits: options.hubLimits }),
    // An agent's message must never take the control plane down: the scheduler logs a failure while handling it.
    // Alone, the scheduler handles them; in a cluster, the replica (which hands them to the leader).
    events: {
      ready: (instance): Promise<void> => coordinator.instanceReady(instance),
      gone: (instance): Promise<void> => coordinator.instanceGone(instance),
      heartbeat: (instance): Promise<void> => coordinator.heartbeat(instance),
      runStatus: (instance, message): Promise<void> => coordinator.runStatus(instance, message),
    },
  });
  const createScheduler = (link: InstanceLink): Scheduler =>
    new Scheduler({
      store,
      hub: link,
      alerts,
      clock,
      log,
      leaseMarginMs: options.leaseMarginMs ?? 60_000,
      checkpointDownAfterMs: options.checkpointDownAfterMs ?? 60_000,
      // Agents reconnect with a backoff capped at 30 s: give them that (and a margin) after a restart before their
      // runs count as lost, or healthy runs would be written off and run twice.
      startupGraceMs: options.startupGraceMs ?? Math.max(3 * heartbeatIntervalMs, 45_000),
    });
  let coordinator: Scheduler | Replica;
  let cluster: Cluster | undefined;
  try {
    if (options.database === undefined) {
      const scheduler = createScheduler(hub);
      coordinator = scheduler;
      await scheduler.start();
    } else {
      cluster = await startCluster({ database: options.database, replicaId, leaderLeaseMs: options.leaderLeaseMs ?? defaultLeaderLeaseMs, store, hub, clock, log, heartbeatIntervalMs, createScheduler });
      coordinator = cluster.replica;
    }
  } catch (error) {
    hub.close();
    alerts.close();
    await store.close();
    throw error;
  }
  const agentControl: AgentControl = cluster?.replica ?? hub;
  /** Work only one process of a cluster does (retention): the leader's, or the only one's. */
  const leads = (): boolean => cluster === undefined || cluster.replica.leads();
  const stopScheduling = async (): Promise<void> => {
    if (cluster !== undefined) await cluster.close();
    else await (coordinator as Scheduler).stop();
  };

  const loopbackOnly = adminToken === undefined;
  const scheme = tls === undefined ? 'http' : 'https';
  const publicOrigin = options.publicUrl === undefined ? undefined : new URL(options.publicUrl).origin;
  const api = createApi({
    store,
    files,
    hub: agentControl,
    scheduler: coordinator,
    auth,
    clock,
    log,
    limits: defaultLimits,
    complaints,
    ...(options.metricsToken === undefined || options.metricsToken === '' ? {} : { metricsToken: options.metricsToken }),
    ...(options.env === undefined ? {} : { env: options.env }),
  });
  const dashboard = createDashboard({ store, hub: agentControl, scheduler: coordinator, auth, clock, log, complaints, secureCookies: tls !== undefined || publicOrigin?.startsWith('https:') === true });

  /** Who a request counts against for rate limiting: its bearer token when it has one, else its address. */
  const clientKey = async (req: IncomingMessage): Promise<string> => {
    const token = bearerToken(req);
    // Only a token that is valid earns a bucket of its own: a made-up one per request must not escape the limit
    // of its address (or guess tokens at full speed).
    const valid = token !== undefined && (auth.admin(req) || (await auth.agent(req)) !== undefined);
    return valid ? `token:${sha256Hex(token).slice(0, 32)}` : `address:${req.socket.remoteAddress ?? 'unknown'}`;
  };

  /** The checks every request passes before any handler runs (docs/security.md). Returns false when refused. */
  const admit = async (req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> => {
    const refuse = (error: ApiError, headers: Record<string, string> = {}) => {
      complaints.log(`http:${req.socket.remoteAddress ?? 'unknown'}`, `server: refused ${req.method ?? 'GET'} ${path} from ${req.socket.remoteAddress ?? 'unknown'}: ${error.message}`);
      req.resume();
      sendError(res, error, { Connection: 'close', ...headers });
      return false;
    };
    const hostProblem = checkHost(req, allowedHosts);
    if (hostProblem !== undefined) return refuse(new ApiError(421, 'unknown-host', hostProblem));
    const allowed = requests.take(await clientKey(req));
    if (!allowed.ok) return refuse(new ApiError(429, 'rate-limited', 'too many requests; slow down'), { 'Retry-After': String(Math.max(1, Math.ceil(allowed.retryAfterMs / 1000))) });
    const originProblem = checkOrigin(req, scheme, publicOrigin);
    if (originProblem !== undefined) return refuse(new ApiError(403, 'cross-origin', originProblem));
    // Artifacts are raw bytes of their own type; every other API body is JSON.
    if (path.startsWith('/api/') && !(req.method === 'PUT' && path.startsWith('/api/v1/artifacts/'))) {
      const typeProblem = checkJsonContentType(req);
      if (typeProblem !== undefined) return refuse(new ApiError(415, 'unsupported-media-type', typeProblem));
    }
    return true;
  };

  const serve = async (req: IncomingMessage, res: ServerResponse, path: string): Promise<void> => {
    if (!(await admit(req, res, path))) return;
    if (path === '/healthz') {
      // Liveness for probes and load balancers: the process answers and its database is readable. No data.
      await store.ping();
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }).end(req.method === 'HEAD' ? undefined : '{"status":"alive"}\n');
      return;
    }
    await (path.startsWith('/api/') || path === '/metrics' ? api(req, res) : dashboard(req, res));
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (tls !== undefined) res.setHeader('Strict-Transport-Security', 'max-age=31536000');
    serve(req, res, path).catch((error: unknown) => {
      log(`server: ${req.method ?? 'GET'} ${path}: ${error instanceof Error ? error.message : String(error)}`);
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  };
  const server: Server = tls === undefined ? createHttpServer(handle) : createHttpsServer({ cert: tls.cert, key: tls.key }, handle);
  server.on('upgrade', (req, socket, head) => {
    if (checkHost(req, allowedHosts) !== undefined) return rejectUpgrade(socket, 421);
    // Agents send no Origin; a browser always does, and a web page has no business on the agent link.
    if (req.headers.origin !== undefined) return rejectUpgrade(socket, 403);
    hub.handleUpgrade(req, socket, head);
  });
  server.on('clientError', (_error, socket) => socket.destroy());

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    hub.close();
    alerts.close();
    await stopScheduling();
    await store.close();
    throw error;
  }

  const { port } = server.address() as AddressInfo;
  const url = `${tls === undefined ? 'http' : 'https'}://${formatHost(host)}:${port}`;
  alerts.defaultBaseUrl(url);
  log(`control plane listening on ${url} (${options.database === undefined ? `data in ${options.dataDir}` : `replica ${replicaId} on ${redactPostgresUrl(options.database)}, artifacts in ${options.dataDir}`})`);
  if (loopbackOnly) log('no admin token configured: the API and dashboard listen on loopback only');
  if (allowedHosts === 'any') log('host check off (--allowed-host "*"): make sure a reverse proxy checks the Host header');

  const tick = async () => {
    await hub.checkLiveness();
    await coordinator.tick();
    complaints.sweep();
    if (leads()) retention.tick();
  };
  /** The timer's tick in progress: a slow store makes the next interval skip, not pile ticks up. */
  let timerTick: Promise<void> | undefined;
  const timer = setInterval(() => {
    timerTick ??= tick()
      .catch((error: unknown) => log(`scheduler: tick failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`))
      .finally(() => (timerTick = undefined));
  }, options.tickIntervalMs ?? 500);
  timer.unref();

  let closing: Promise<void> | undefined;
  return {
    url,
    tick,
    alertsSettled: () => alerts.settled(),
    prune: () => retention.prune(),
    close: () => {
      closing ??= (async () => {
        clearInterval(timer);
        hub.close();
        alerts.close();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await closed;
        // Whatever still runs uses the store: let it finish first (a leading replica hands the lease over).
        await stopScheduling();
        await timerTick;
        await hub.settled();
        await alerts.settled();
        await retention.settled();
        sessions.clear();
        await store.close();
        log('control plane stopped');
      })();
      return closing;
    },
  };
}
