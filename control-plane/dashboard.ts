import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Clock, renderHtmlReport, type ResultEnvelope } from '../engine/index.ts';
import { sessionCookie, type Auth } from './auth.ts';
import { alertsPage, loginPage, messagePage, monitorPage, overviewPage, runPage } from './dashboard-views.ts';
import { sendHtml } from './http.ts';
import type { Log } from './log.ts';
import type { Scheduler } from './scheduler.ts';
import type { Store } from './store.ts';

/** Dashboard pages run no script at all and load nothing but their own images. */
const pageCsp = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; frame-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
/** The report page (shown in an iframe of the run page): inline style and SVG, images from here, no script. */
const reportCsp = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'";

/** Artifact path (as named in the result) → the admin artifact URL of its content. */
function artifactLinks(envelope: ResultEnvelope): (path: string) => string | undefined {
  const byPath = new Map(envelope.artifacts.map((artifact) => [artifact.path.replace(/\\/g, '/'), artifact.sha256]));
  return (path) => {
    const sha256 = byPath.get(path.replace(/\\/g, '/'));
    return sha256 === undefined ? undefined : `/api/v1/artifacts/${sha256}`;
  };
}

/**
 * The server-rendered dashboard on the API's port: overview, monitor, run (with the HTML report) and alerts.
 * With an admin token configured, it needs the session cookie set by `/login?token=…`; without one, it answers
 * loopback clients only (like the admin API).
 */
export function createDashboard(deps: { store: Store; scheduler: Scheduler; auth: Auth; clock: Clock; log: Log; secureCookies: boolean; notice?: string }) {
  const { store, scheduler, auth, clock, log } = deps;

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://control-plane');
    const now = clock.wallNow();
    const method = req.method ?? 'GET';
    req.resume();
    if (method !== 'GET' && method !== 'HEAD') {
      sendHtml(res, 405, messagePage(now, 'Not allowed', 'The dashboard only reads.'), pageCsp, { Allow: 'GET, HEAD' });
      return;
    }

    if (url.pathname === '/login') {
      const token = url.searchParams.get('token');
      if (!auth.adminTokenRequired) {
        res.writeHead(303, { Location: '/' }).end();
        return;
      }
      const session = token === null ? undefined : auth.login(token);
      if (session === undefined) {
        sendHtml(res, token === null ? 200 : 401, loginPage(now, token !== null), pageCsp);
        return;
      }
      const cookie = `${sessionCookie}=${session}; Path=/; HttpOnly; SameSite=Strict${deps.secureCookies ? '; Secure' : ''}`;
      res.writeHead(303, { Location: '/', 'Set-Cookie': cookie, 'Cache-Control': 'no-store' }).end();
      return;
    }

    if (!auth.admin(req)) {
      if (auth.adminTokenRequired) res.writeHead(303, { Location: '/login', 'Cache-Control': 'no-store' }).end();
      else sendHtml(res, 403, messagePage(now, 'Loopback only', 'No admin token is configured, so the dashboard answers loopback clients only.'), pageCsp);
      return;
    }

    try {
      const segments = url.pathname.split('/').filter((part) => part !== '').map((part) => decodeURIComponent(part));
      const [first, second, third] = segments;
      if (segments.length === 0) {
        const checkpoints = store.listCheckpoints().map((checkpoint) => ({ ...checkpoint, instances: scheduler.instanceStatus(checkpoint.name) }));
        const monitors = store.listMonitors().map((monitor) => ({ monitor, runs: store.listRuns(monitor.id, 20) }));
        const alerts = store.listAlerts(200);
        const dayAgo = new Date(now.getTime() - 86_400_000).toISOString();
        const input = { now, checkpoints, monitors, alerts: alerts.slice(0, 6), alertsLast24h: alerts.filter((alert) => alert.createdAt >= dayAgo).length };
        sendHtml(res, 200, overviewPage(deps.notice === undefined ? input : { ...input, notice: deps.notice }), pageCsp);
        return;
      }
      if (first === 'alerts' && segments.length === 1) {
        const monitorNames = new Map(store.listMonitors().map((monitor) => [monitor.id, monitor.name]));
        sendHtml(res, 200, alertsPage({ now, alerts: store.listAlerts(500), monitorNames }), pageCsp);
        return;
      }
      if (first === 'monitors' && second !== undefined && segments.length === 2) {
        const monitor = store.getMonitor(second);
        if (monitor !== undefined) {
          sendHtml(res, 200, monitorPage({ now, monitor, runs: store.listRuns(monitor.id, 50), alerts: store.listAlerts(50, { monitorId: monitor.id }) }), pageCsp);
          return;
        }
      }
      if (first === 'runs' && second !== undefined && (segments.length === 2 || (segments.length === 3 && third === 'report'))) {
        const run = store.getRun(second);
        if (run !== undefined) {
          const stored = store.getResult(run.runId);
          if (third === 'report') {
            if (stored === undefined) {
              sendHtml(res, 404, messagePage(now, 'No report', 'This run has no result yet, so no report.'), pageCsp);
              return;
            }
            const rendered = renderHtmlReport(stored.envelope.result, { embed: artifactLinks(stored.envelope) });
            sendHtml(res, 200, rendered, reportCsp, { 'X-Frame-Options': 'SAMEORIGIN' });
            return;
          }
          sendHtml(
            res,
            200,
            runPage({
              now,
              run,
              monitorName: store.getMonitor(run.monitorId)?.name,
              envelope: stored?.envelope,
              duplicates: stored?.duplicates ?? 0,
              reportHref: stored !== undefined ? `/runs/${encodeURIComponent(run.runId)}/report` : undefined,
              artifactHref: stored === undefined ? () => undefined : artifactLinks(stored.envelope),
            }),
            pageCsp,
          );
          return;
        }
      }
      sendHtml(res, 404, messagePage(now, 'Not found', 'There is nothing at this address.'), pageCsp);
    } catch (error) {
      log(`dashboard: ${url.pathname}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      if (!res.headersSent) sendHtml(res, 500, messagePage(now, 'Something went wrong', 'See the control-plane log.'), pageCsp);
      else res.destroy();
    }
  };
  // The server treats every handler alike (the API's are asynchronous).
  return (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    handle(req, res);
    return Promise.resolve();
  };
}
