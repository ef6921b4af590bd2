import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { systemClock, type Clock } from '../engine/index.ts';
import { Alerts, type PostJson } from './alerts.ts';
import type { Environment } from './channels/secrets.ts';
import { createApi, defaultLimits } from './api.ts';
import { ArtifactFiles } from './artifact-files.ts';
import { Auth } from './auth.ts';
import { createDashboard } from './dashboard.ts';
import { isLoopbackHost } from './http.ts';
import { Hub } from './hub.ts';
import { stderrLog, type Log } from './log.ts';
import { Scheduler } from './scheduler.ts';
import { Store } from './store.ts';

export interface ControlPlaneOptions {
  /** Default 0: any free port (see `url`). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** SQLite file and artifacts live here. */
  dataDir: string;
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
}

export interface ControlPlane {
  /** Base URL, e.g. `http://127.0.0.1:41234` (agents connect to `<url>/api/v1/agent`). */
  url: string;
  /** Stop: terminates agent links and open connections at once, stops webhook retries, closes the database. */
  close(): Promise<void>;
  /** Run the maintenance tick now (liveness, lost runs, checkpoint health, due monitors). For fake-clock tests. */
  tick(): void;
  /** Resolves when every webhook delivery started so far has finished. */
  alertsSettled(): Promise<void>;
}

function formatHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

/** Start the reference control plane: REST API, agent WebSocket hub, scheduler, alerting and dashboard on one port. */
export async function startControlPlane(options: ControlPlaneOptions): Promise<ControlPlane> {
  const clock = options.clock ?? systemClock;
  const log = options.log ?? stderrLog(() => clock.wallNow());
  const host = options.host ?? '127.0.0.1';
  const heartbeatIntervalMs = options.heartbeatIntervalMs ?? 10_000;
  // The bounds of welcome.heartbeatIntervalMs in the protocol.
  if (!Number.isInteger(heartbeatIntervalMs) || heartbeatIntervalMs < 100 || heartbeatIntervalMs > 600_000) {
    throw new RangeError(`heartbeatIntervalMs: expected a whole number of milliseconds from 100 to 600000, got ${heartbeatIntervalMs}`);
  }
  if (options.checkpointDownAfterMs !== undefined && !(options.checkpointDownAfterMs >= 0)) {
    throw new RangeError(`checkpointDownAfterMs: expected a number of milliseconds ≥ 0, got ${options.checkpointDownAfterMs}`);
  }
  const adminToken = options.adminToken === '' ? undefined : options.adminToken;
  const tls = options.tls === undefined ? undefined : { cert: readFileSync(options.tls.certFile), key: readFileSync(options.tls.keyFile) };

  const store = new Store(options.dataDir);
  store.markAllInstancesDisconnected();
  const files = new ArtifactFiles(options.dataDir);
  await files.clearTemporary();
  const auth = new Auth(store, adminToken);
  const alerts = new Alerts({
    store,
    log,
    clock,
    webhooks: options.webhooks ?? [],
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
    events: {
      ready: (instance) => scheduler.instanceReady(instance),
      gone: (instance) => scheduler.instanceGone(instance),
      heartbeat: (instance) => scheduler.heartbeat(instance),
      runStatus: (instance, message) => scheduler.runStatus(instance, message),
    },
  });
  const scheduler = new Scheduler({
    store,
    hub,
    alerts,
    clock,
    log,
    leaseMarginMs: options.leaseMarginMs ?? 60_000,
    checkpointDownAfterMs: options.checkpointDownAfterMs ?? 60_000,
    // Agents reconnect with a backoff capped at 30 s: give them that (and a margin) after a restart before their
    // runs count as lost, or healthy runs would be written off and run twice.
    startupGraceMs: options.startupGraceMs ?? Math.max(3 * heartbeatIntervalMs, 45_000),
  });
  scheduler.start();

  const loopbackOnly = adminToken === undefined;
  const notice = loopbackOnly && !isLoopbackHost(host) ? 'No admin token is configured: the API and this dashboard answer loopback clients only.' : undefined;
  const api = createApi({
    store,
    files,
    hub,
    scheduler: scheduler,
    auth,
    clock,
    log,
    limits: defaultLimits,
    ...(options.metricsToken === undefined || options.metricsToken === '' ? {} : { metricsToken: options.metricsToken }),
    ...(options.env === undefined ? {} : { env: options.env }),
  });
  const dashboard = createDashboard({ store, scheduler: scheduler, auth, clock, log, secureCookies: tls !== undefined, ...(notice === undefined ? {} : { notice }) });

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const work = path.startsWith('/api/') || path === '/metrics' ? api(req, res) : dashboard(req, res);
    work.catch((error: unknown) => {
      log(`server: ${req.method ?? 'GET'} ${path}: ${error instanceof Error ? error.message : String(error)}`);
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  };
  const server: Server = tls === undefined ? createHttpServer(handle) : createHttpsServer({ cert: tls.cert, key: tls.key }, handle);
  server.on('upgrade', (req, socket, head) => hub.handleUpgrade(req, socket, head));
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
    store.close();
    throw error;
  }

  const { port } = server.address() as AddressInfo;
  const url = `${tls === undefined ? 'http' : 'https'}://${formatHost(host)}:${port}`;
  alerts.defaultBaseUrl(url);
  log(`control plane listening on ${url} (data in ${options.dataDir})`);
  if (loopbackOnly) {
    log(
      isLoopbackHost(host)
        ? 'no admin token configured: the API and dashboard listen on loopback only'
        : `no admin token configured: the API and dashboard answer loopback clients only; agents may connect on ${host}`,
    );
  }

  const tick = () => {
    hub.checkLiveness();
    scheduler.tick();
  };
  const timer = setInterval(() => {
    try {
      tick();
    } catch (error) {
      log(`scheduler: tick failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
  }, options.tickIntervalMs ?? 500);
  timer.unref();

  let closing: Promise<void> | undefined;
  return {
    url,
    tick,
    alertsSettled: () => alerts.settled(),
    close: () => {
      closing ??= (async () => {
        clearInterval(timer);
        hub.close();
        alerts.close();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await closed;
        await alerts.settled();
        store.close();
        log('control plane stopped');
      })();
      return closing;
    },
  };
}
