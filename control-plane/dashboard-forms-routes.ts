import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../engine/index.ts';
import type { Auth } from './auth.ts';
import { checkMonitorForm, formValuesFromConfig, formValuesOf, newFormValues, type FieldProblem, type MonitorFormValues } from './dashboard-forms.ts';
import { deleteMonitorPage, monitorFormPage } from './dashboard-forms-views.ts';
import { messagePage } from './dashboard-views.ts';
import { sendHtml } from './http.ts';
import type { AgentControl } from './hub.ts';
import type { Log } from './log.ts';
import { checkpointsOf } from './monitor-definition.ts';
import { monitorConfig, removeMonitor, storeMonitor } from './monitor-saving.ts';
import type { SchedulerControl } from './scheduler.ts';
import type { Session } from './sessions.ts';
import type { MonitorRecord, ControlPlaneStore } from './store.ts';

export interface MonitorFormDeps {
  store: ControlPlaneStore;
  hub: AgentControl;
  scheduler: SchedulerControl;
  auth: Auth;
  clock: Clock;
  log: Log;
  pageCsp: string;
  maxFormBytes: number;
  readForm: (req: IncomingMessage, maxBytes: number) => Promise<URLSearchParams>;
  /** The POST comes from an administrator's dashboard session and carries its CSRF token. */
  checkForm: (req: IncomingMessage, form: URLSearchParams) => boolean;
}

type Action = 'new' | 'edit' | 'delete' | 'enabled' | 'run';

/** `/monitors/new` or `/monitors/:id/(edit|delete|enabled|run)`, else undefined. */
function routeOf(url: URL): { action: Action; id: string | undefined } | undefined {
  const segments = url.pathname.split('/').filter((part) => part !== '');
  if (segments[0] !== 'monitors') return undefined;
  if (segments.length === 2 && segments[1] === 'new') return { action: 'new', id: undefined };
  const action = segments[2];
  if (segments.length !== 3 || segments[1] === undefined || (action !== 'edit' && action !== 'delete' && action !== 'enabled' && action !== 'run')) return undefined;
  try {
    return { action, id: decodeURIComponent(segments[1]) };
  } catch {
    return undefined;
  }
}

function redirect(res: ServerResponse, location: string): void {
  // 303: the browser follows with a GET, so reloading the page it lands on never re-submits the form.
  res.writeHead(303, { Location: location, 'Cache-Control': 'no-store' }).end();
}

const monitorHref = (id: string, done: string) => `/monitors/${encodeURIComponent(id)}?done=${done}`;

/**
 * The dashboard's forms for monitors: create, edit, enable/disable, delete (after a confirmation page) and run
 * now. Plain HTML forms, POST then redirect, each with the session's CSRF token; a refused form comes back with
 * what was typed and every problem, in the API's `path: message` words.
 */
export function monitorFormRoutes(deps: MonitorFormDeps) {
  const { store, scheduler, clock, pageCsp } = deps;
  const checkpointNames = async () => (await store.listCheckpoints()).map((checkpoint) => checkpoint.name);

  const formPage = async (res: ServerResponse, status: number, input: { monitor: MonitorRecord | undefined; values: MonitorFormValues; problems: readonly FieldProblem[]; csrfToken: string }) => {
    sendHtml(res, status, monitorFormPage({ now: clock.wallNow(), checkpoints: await checkpointNames(), ...input }), pageCsp);
  };

  const notFoundPage = (res: ServerResponse, now: Date) => sendHtml(res, 404, messagePage(now, 'Not found', 'There is no such monitor (any more).'), pageCsp);

  /** GET: the forms themselves. True when it answered. */
  const get = async (res: ServerResponse, url: URL, now: Date, session: Session): Promise<boolean> => {
    const route = routeOf(url);
    if (route === undefined) return false;
    if (route.action === 'new') {
      const chosen = url.searchParams.get('checkpoint') ?? (await checkpointNames())[0] ?? '';
      await formPage(res, 200, { monitor: undefined, values: newFormValues(chosen), problems: [], csrfToken: session.csrfToken });
      return true;
    }
    if (route.action !== 'edit' && route.action !== 'delete') return false;
    const monitor = await store.getMonitor(route.id ?? '');
    if (monitor === undefined) notFoundPage(res, now);
    else if (route.action === 'edit') await formPage(res, 200, { monitor, values: formValuesFromConfig(monitorConfig(monitor)), problems: [], csrfToken: session.csrfToken });
    else sendHtml(res, 200, deleteMonitorPage({ now, monitor, csrfToken: session.csrfToken }), pageCsp);
    return true;
  };

  /** POST: the forms' submissions. True when it answered (it then read the body). */
  const post = async (req: IncomingMessage, res: ServerResponse, url: URL, now: Date): Promise<boolean> => {
    const route = routeOf(url);
    if (route === undefined) return false;
    const form = await deps.readForm(req, deps.maxFormBytes);
    const session = deps.auth.session(req);
    if (session === undefined || !deps.checkForm(req, form)) {
      sendHtml(res, 403, messagePage(now, 'Form expired', 'The form was not sent from this dashboard session, or the session has ended. Sign in and try again; nothing was changed.'), pageCsp);
      return true;
    }
    const nowIso = now.toISOString();
    if (route.action === 'new') {
      const values = formValuesOf(form);
      const checked = await checkMonitorForm(store, values, { id: undefined, base: undefined });
      if (!checked.ok) {
        await formPage(res, 400, { monitor: undefined, values, problems: checked.problems, csrfToken: session.csrfToken });
        return true;
      }
      await storeMonitor(deps, checked.config, nowIso, 'dashboard');
      redirect(res, monitorHref(checked.config.id, 'created'));
      return true;
    }
    const monitor = await store.getMonitor(route.id ?? '');
    if (monitor === undefined) {
      notFoundPage(res, now);
      return true;
    }
    switch (route.action) {
      case 'edit': {
        const values = formValuesOf(form);
        const checked = await checkMonitorForm(store, values, { id: monitor.id, base: monitorConfig(monitor) });
        if (!checked.ok) {
          await formPage(res, 400, { monitor, values, problems: checked.problems, csrfToken: session.csrfToken });
          return true;
        }
        const { outcome } = await storeMonitor(deps, checked.config, nowIso, 'dashboard');
        redirect(res, monitorHref(monitor.id, outcome === 'unchanged' ? 'unchanged' : 'saved'));
        return true;
      }
      case 'enabled': {
        const enabled = form.get('enabled') === 'true';
        await storeMonitor(deps, { ...monitorConfig(monitor), enabled }, nowIso, 'dashboard');
        redirect(res, monitorHref(monitor.id, enabled ? 'enabled' : 'disabled'));
        return true;
      }
      case 'delete':
        await removeMonitor(deps, monitor, 'dashboard');
        redirect(res, '/?done=deleted');
        return true;
      case 'run': {
        const names = checkpointsOf(monitor);
        const chosen = form.get('checkpoint') ?? '';
        if (chosen !== '' && !names.includes(chosen)) {
          sendHtml(res, 400, messagePage(now, 'Not run', `Monitor "${monitor.name}" does not run on checkpoint "${chosen}"; it runs on ${names.map((name) => `"${name}"`).join(', ')}.`), pageCsp);
          return true;
        }
        const dispatched = await scheduler.runNow(monitor.id, chosen === '' ? undefined : chosen);
        if (dispatched === undefined) {
          const where = (chosen === '' ? names : [chosen]).map((name) => `"${name}"`).join(' or ');
          sendHtml(res, 409, messagePage(now, 'Not run', `No instance of checkpoint ${where} is connected with a free slot, so the run was not dispatched. Try again when one is.`), pageCsp);
          return true;
        }
        deps.log(`dashboard: monitor ${monitor.id} (${monitor.name}) run now on ${dispatched.checkpoint}/${dispatched.instance}`);
        redirect(res, `/runs/${encodeURIComponent(dispatched.runId)}?done=dispatched`);
        return true;
      }
    }
  };

  return { get, post };
}
