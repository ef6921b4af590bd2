import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Clock, renderHtmlReport, type ResultEnvelope } from '../engine/index.ts';
import { sessionCookie, type Auth } from './auth.ts';
import type { Session } from './sessions.ts';
import { csrfField, loginPage, logoutPage } from './dashboard-session-views.ts';
import { alertsPage, messagePage, monitorPage, overviewPage, runPage } from './dashboard-views.ts';
import { ApiError, cookies, readBody, sendHtml } from './http.ts';
import type { AgentControl } from './hub.ts';
import type { Log, LogLimiter } from './log.ts';
import { monitorFormRoutes } from './dashboard-forms-routes.ts';
import { doneNotice, monitorActions } from './dashboard-forms-views.ts';
import { monitorPageData } from './dashboard-monitor-page.ts';
import { staleBrowsers } from './dashboard-versions.ts';
import { checkpointHealthMap, monitorStatus } from './monitor-status.ts';
import type { SchedulerControl } from './scheduler.ts';
import type { ControlPlaneStore } from './store.ts';

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

/** The pre-sign-in cookie the login form's CSRF token is bound to. */
const loginCookie = 'checkpoint_login';
const maxFormBytes = 8192;
/** The monitor form carries a whole script (URL-encoded, so up to three times its size). */
const maxMonitorFormBytes = 4_000_000;

/** Fields of an `application/x-www-form-urlencoded` body (the only kind the dashboard's forms send). */
export async function readForm(req: IncomingMessage, maxBytes = maxFormBytes): Promise<URLSearchParams> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') throw new ApiError(415, 'unsupported-media-type', 'expected a form (application/x-www-form-urlencoded)');
  return new URLSearchParams((await readBody(req, maxBytes)).toString('utf8'));
}

/**
 * A form that may carry a file (`multipart/form-data`, parsed by the platform's own Fetch implementation), or a
 * plain one. A file's content becomes the field's text (UTF-8); an empty file input is left out.
 */
export async function readFormWithFiles(req: IncomingMessage, maxBytes: number): Promise<URLSearchParams> {
  const contentType = req.headers['content-type'] ?? '';
  if (contentType.split(';')[0]?.trim().toLowerCase() !== 'multipart/form-data') return readForm(req, maxBytes);
  const body = await readBody(req, maxBytes);
  let data: FormData;
  try {
    data = await new Response(new Uint8Array(body), { headers: { 'Content-Type': contentType } }).formData();
  } catch {
    throw new ApiError(400, 'invalid-form', 'the form data could not be read (malformed multipart/form-data)');
  }
  const fields = new URLSearchParams();
  for (const [name, value] of data) {
    if (typeof value === 'string') fields.append(name, value);
    else if (value.size > 0) fields.append(name, await value.text());
  }
  return fields;
}

/**
 * The server-rendered dashboard on the API's port: overview, monitor, run (with the HTML report) and alerts.
 * With an admin token configured, it needs a session, started by POSTing the token to `/login` (the form there)
 * and ended by `/logout` or expiry; without one, it answers loopback clients only (like the admin API). Every
 * form that POSTs carries a CSRF token bound to the session (`checkForm`).
 */
export function createDashboard(deps: { store: ControlPlaneStore; hub: AgentControl; scheduler: SchedulerControl; auth: Auth; clock: Clock; log: Log; secureCookies: boolean; notice?: string; complaints?: LogLimiter }) {
  const { store, scheduler, auth, clock, log } = deps;
  const secure = deps.secureCookies ? '; Secure' : '';
  const sessions = auth.sessions;

  const loginForm = (res: ServerResponse, now: Date, failed: boolean): void => {
    // A fresh pre-sign-in cookie per form shown; the token in the form is its signature.
    const pre = randomBytes(32).toString('base64url');
    sendHtml(res, failed ? 401 : 200, loginPage(now, { failed, csrfToken: sessions.loginCsrfToken(pre) }), pageCsp, {
      'Set-Cookie': `${loginCookie}=${pre}; Path=/login; HttpOnly; SameSite=Strict; Max-Age=3600${secure}`,
    });
  };

  /** Sign in (GET shows the form, POST checks it) and sign out. True when it answered the request. */
  const sessionRoutes = async (req: IncomingMessage, res: ServerResponse, url: URL, now: Date, method: string): Promise<boolean> => {
    if (url.pathname === '/login') {
      if (!auth.adminTokenRequired) {
        req.resume();
        res.writeHead(303, { Location: '/' }).end();
        return true;
      }
      if (method === 'GET' || method === 'HEAD') {
        req.resume();
        loginForm(res, now, false);
        return true;
      }
      if (method !== 'POST') return false;
      const form = await readForm(req);
      if (!sessions.loginCsrfValid(cookies(req).get(loginCookie), form.get(csrfField) ?? undefined)) {
        sendHtml(res, 403, messagePage(now, 'Form expired', 'The sign-in form was not sent from this dashboard, or it is too old. Open it again.'), pageCsp);
        return true;
      }
      if (!auth.tokenMatches(form.get('token') ?? '')) {
        // Bounded per address: a token-guessing flood must not flood the log too.
        (deps.complaints?.log.bind(deps.complaints) ?? ((_source: string, line: string) => log(line)))(`sign-in:${req.socket.remoteAddress ?? 'unknown'}`, `dashboard: failed sign-in from ${req.socket.remoteAddress ?? 'unknown'}`);
        loginForm(res, now, true);
        return true;
      }
      const { cookieValue } = sessions.create();
      res.writeHead(303, {
        Location: '/',
        'Cache-Control': 'no-store',
        'Set-Cookie': [
          `${sessionCookie}=${cookieValue}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${sessions.maxAgeSeconds}${secure}`,
          `${loginCookie}=; Path=/login; HttpOnly; SameSite=Strict; Max-Age=0${secure}`,
        ],
      });
      res.end();
      return true;
    }
    if (url.pathname === '/logout') {
      const session = auth.session(req);
      if (session === undefined) {
        req.resume();
        res.writeHead(303, { Location: auth.adminTokenRequired ? '/login' : '/', 'Cache-Control': 'no-store' }).end();
        return true;
      }
      if (method === 'GET' || method === 'HEAD') {
        req.resume();
        sendHtml(res, 200, logoutPage(now, { csrfToken: session.csrfToken }), pageCsp);
        return true;
      }
      if (method !== 'POST') return false;
      if (!checkForm(req, await readForm(req))) {
        sendHtml(res, 403, messagePage(now, 'Form expired', 'The form was not sent from this dashboard session.'), pageCsp);
        return true;
      }
      sessions.destroy(cookies(req).get(sessionCookie));
      res.writeHead(303, { Location: '/login', 'Cache-Control': 'no-store', 'Set-Cookie': `${sessionCookie}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure}` });
      res.end();
      return true;
    }
    return false;
  };

  /**
   * The session whose CSRF token the forms of this page carry. Without an admin token there is no sign-in, so a
   * loopback browser gets a session on its first page: dashboard forms are CSRF-proof in both modes.
   */
  const formSession = (req: IncomingMessage, res: ServerResponse): Session | undefined => {
    const existing = auth.session(req);
    if (existing !== undefined || auth.adminTokenRequired) return existing;
    const { cookieValue, session } = sessions.create();
    res.setHeader('Set-Cookie', `${sessionCookie}=${cookieValue}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${sessions.maxAgeSeconds}${secure}`);
    return session;
  };

  /** A POSTed dashboard form is genuine: it carries the CSRF token of the session its cookie names. */
  const checkForm = (req: IncomingMessage, form: URLSearchParams): boolean => {
    const session = auth.session(req);
    return session !== undefined && sessions.csrfValid(session, form.get(csrfField) ?? undefined);
  };

  const forms = monitorFormRoutes({
    ...deps,
    pageCsp,
    maxFormBytes: maxMonitorFormBytes,
    readForm: readFormWithFiles,
    checkForm: (req, form) => (auth.adminTokenRequired || auth.admin(req)) && checkForm(req, form),
  });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://control-plane');
    const now = clock.wallNow();
    const method = req.method ?? 'GET';
    try {
      if (await sessionRoutes(req, res, url, now, method)) return;
    } catch (error) {
      req.resume();
      if (!(error instanceof ApiError)) throw error;
      sendHtml(res, error.status, messagePage(now, 'Not accepted', error.message), pageCsp);
      return;
    }
    if (method === 'POST') {
      // A cookie alone never changes anything: the form must carry its session's CSRF token (checkForm).
      try {
        const answered = await forms.post(req, res, url, now);
        if (answered) return;
      } catch (error) {
        req.resume();
        if (!(error instanceof ApiError)) throw error;
        sendHtml(res, error.status, messagePage(now, 'Not accepted', error.message), pageCsp);
        return;
      }
    }
    req.resume();
    if (method !== 'GET' && method !== 'HEAD') {
      sendHtml(res, 405, messagePage(now, 'Not allowed', 'Not something this address does.'), pageCsp, { Allow: 'GET, HEAD' });
      return;
    }

    if (!auth.admin(req)) {
      if (auth.adminTokenRequired) res.writeHead(303, { Location: '/login', 'Cache-Control': 'no-store' }).end();
      else sendHtml(res, 403, messagePage(now, 'Loopback only', 'No admin token is configured, so the dashboard answers loopback clients only.'), pageCsp);
      return;
    }

    const session = formSession(req, res);
    try {
      if (session !== undefined && (await forms.get(res, url, now, session))) return;
      let segments: string[];
      try {
        segments = url.pathname.split('/').filter((part) => part !== '').map((part) => decodeURIComponent(part));
      } catch {
        // A malformed %-escape is a bad address, not a fault of the dashboard.
        sendHtml(res, 400, messagePage(now, 'Bad address', 'That address is not well formed.'), pageCsp);
        return;
      }
      const [first, second, third] = segments;
      if (segments.length === 0) {
        const records = await store.listCheckpoints();
        const health = checkpointHealthMap(records);
        const checkpoints = await Promise.all(records.map(async (checkpoint) => ({ ...checkpoint, instances: await scheduler.instanceStatus(checkpoint.name) })));
        const monitors = await Promise.all((await store.listMonitors()).map(async (monitor) => ({ monitor, runs: await store.listRuns(monitor.id, 20), status: monitorStatus(monitor, health) })));
        const alerts = await store.listAlerts(200);
        const dayAgo = new Date(now.getTime() - 86_400_000).toISOString();
        const stale = staleBrowsers(await store.listInstances(), now);
        const input = { now, checkpoints, monitors, alerts: alerts.slice(0, 6), alertsLast24h: alerts.filter((alert) => alert.createdAt >= dayAgo).length, staleBrowsers: stale };
        const withDone = { ...input, done: doneNotice(url) };
        sendHtml(res, 200, overviewPage(deps.notice === undefined ? withDone : { ...withDone, notice: deps.notice }), pageCsp);
        return;
      }
      if (first === 'alerts' && segments.length === 1) {
        const monitorNames = new Map((await store.listMonitors()).map((monitor) => [monitor.id, monitor.name]));
        sendHtml(res, 200, alertsPage({ now, alerts: await store.listAlerts(500), monitorNames }), pageCsp);
        return;
      }
      if (first === 'monitors' && second !== undefined && segments.length === 2) {
        const monitor = await store.getMonitor(second);
        if (monitor !== undefined) {
          const loaded = await monitorPageData(store, monitor, url, now);
          if (!loaded.ok) {
            sendHtml(res, 400, messagePage(now, 'Bad filter', loaded.message), pageCsp);
            return;
          }
          const { data } = loaded;
          const page = {
            now,
            monitor,
            status: data.status,
            runs: data.runs,
            chartRuns: data.chartRuns,
            ranges: data.ranges,
            stepChart: data.stepChart,
            ...(data.checkpointTable === undefined ? {} : { checkpointTable: data.checkpointTable }),
            ...(data.vitals === undefined ? {} : { vitals: data.vitals }),
            alerts: (await store.listAlerts(50, { monitorId: monitor.id })).filter((alert) => data.view.checkpoint === undefined || alert.checkpoint === undefined || alert.checkpoint === data.view.checkpoint),
            notice: doneNotice(url),
          };
          sendHtml(res, 200, monitorPage(session === undefined ? page : { ...page, actions: monitorActions(monitor, session.csrfToken) }), pageCsp);
          return;
        }
      }
      if (first === 'runs' && second !== undefined && (segments.length === 2 || (segments.length === 3 && third === 'report'))) {
        const run = await store.getRun(second);
        if (run !== undefined) {
          const stored = await store.getResult(run.runId);
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
              monitorName: (await store.getMonitor(run.monitorId))?.name,
              envelope: stored?.envelope,
              duplicates: stored?.duplicates ?? 0,
              reportHref: stored !== undefined ? `/runs/${encodeURIComponent(run.runId)}/report` : undefined,
              artifactHref: stored === undefined ? () => undefined : artifactLinks(stored.envelope),
              notice: doneNotice(url),
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
  return handle;
}
