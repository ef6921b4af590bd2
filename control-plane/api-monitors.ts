import { randomBytes } from 'node:crypto';
import { checkScriptPlaceholders, type Clock, type MonitorDefinition } from '../engine/index.ts';
import { alertsQuerySchema, emptyQuerySchema, monitorIdSchema, monitorInputSchema, monitorsQuerySchema, putQuerySchema, runsQuerySchema, type MonitorAlerting, type MonitorInput } from './api-schemas.ts';
import { mergePatch, outcomeOf, parseQuery } from './api-query.ts';
import type { Route } from './api.ts';
import { ApiError, notFound, parseWith, readJson, sendJson } from './http.ts';
import type { Hub } from './hub.ts';
import type { Log } from './log.ts';
import { definitionFromInput, definitionFromRecord } from './monitor-definition.ts';
import type { Scheduler } from './scheduler.ts';
import type { AlertKind, MonitorRecord, RunRecord, Store } from './store.ts';

export interface MonitorRouteDeps {
  store: Store;
  hub: Hub;
  scheduler: Scheduler;
  clock: Clock;
  log: Log;
  maxJsonBytes: number;
}

/** What a monitor is defined as: what PUT takes and GET gives back, without the control plane's bookkeeping. */
export type MonitorConfig = MonitorDefinition & { alerting?: MonitorAlerting };

/** A monitor as the API shows it, with its latest run. */
export function monitorView(monitor: MonitorRecord, lastRun: RunRecord | undefined): MonitorRecord & { lastRun?: RunRecord } {
  return lastRun === undefined ? monitor : { ...monitor, lastRun };
}

export function monitorConfig(monitor: MonitorRecord): MonitorConfig {
  const definition = definitionFromRecord(monitor);
  return monitor.alerting === undefined ? definition : { ...definition, alerting: monitor.alerting };
}

const segment = '([^/]+)';

/**
 * Monitors, their runs and the alert list: create (POST, or PUT to an id), replace (PUT, idempotent), update a
 * subset (PATCH, JSON merge patch), delete; `?dryRun=true` on PUT and PATCH validates and reports what would
 * change. A monitor is checked as a whole when saved: the checkpoint and channels it names exist, and every
 * `{{variable}}` its script uses has a value (the message `checkpoint validate` prints).
 */
export function monitorRoutes(deps: MonitorRouteDeps): Route[] {
  const { store, hub, scheduler, clock, log } = deps;
  const now = () => clock.wallNow().toISOString();

  const monitorOr404 = (id: string): MonitorRecord => {
    const monitor = store.getMonitor(id);
    if (monitor === undefined) throw notFound(`monitor "${id}"`);
    return monitor;
  };

  const checked = (input: MonitorInput, id: string): MonitorConfig => {
    if (store.getCheckpoint(input.checkpoint) === undefined) {
      throw new ApiError(400, 'unknown-checkpoint', `checkpoint: no checkpoint named "${input.checkpoint}"; create it first (POST /api/v1/checkpoints)`, { path: 'checkpoint' });
    }
    const channels = input.alerting?.channels ?? [];
    const missing = channels.findIndex((channel) => store.getChannel(channel) === undefined);
    if (missing >= 0) {
      const path = `alerting.channels[${missing}]`;
      throw new ApiError(400, 'unknown-channel', `${path}: no channel with id "${channels[missing] ?? ''}"; create it first (PUT /api/v1/channels/:id)`, { path });
    }
    // The monitor's variables are the script's values at run time: a placeholder without one would only fail there.
    const problems = checkScriptPlaceholders(input.script, input.variables ?? {}).problems.map((problem) => ({ path: `script.${problem.path}`, message: problem.message }));
    const first = problems[0];
    if (first !== undefined) throw new ApiError(400, 'unknown-variable', `${first.path}: ${first.message}`, { path: first.path, problems });
    const definition = definitionFromInput(input, id);
    return input.alerting === undefined ? definition : { ...definition, alerting: input.alerting };
  };

  const announce = (monitor: MonitorRecord, previous: MonitorRecord | undefined) => {
    hub.pushMonitors(monitor.checkpoint);
    if (previous !== undefined && previous.checkpoint !== monitor.checkpoint) hub.pushMonitors(previous.checkpoint);
    scheduler.monitorChanged(monitor.id, previous === undefined ? 'created' : 'updated', previous);
  };

  /** PUT and PATCH: create or replace, or say what would happen. */
  const save = (res: Parameters<Route['handler']>[1], id: string, body: unknown, dryRun: boolean) => {
    // The URL names the monitor a PUT creates: it must be an id like any other (it reaches agents, logs, metrics).
    const idCheck = monitorIdSchema.safeParse(id);
    if (!idCheck.success) throw new ApiError(400, 'invalid-id', `id: ${idCheck.error.issues[0]?.message ?? 'expected a monitor id'} (in the URL)`, { path: 'id' });
    const input = parseWith(monitorInputSchema, body);
    if (input.id !== undefined && input.id !== id) throw new ApiError(400, 'id-mismatch', `id: the body says "${input.id}", the URL "${id}"`, { path: 'id' });
    const previous = store.getMonitor(id);
    const next = checked(input, id);
    const { outcome, changes } = outcomeOf(previous === undefined ? undefined : monitorConfig(previous), next);
    if (dryRun) {
      sendJson(res, 200, { dryRun: true, outcome, changes, monitor: next });
      return;
    }
    let monitor = previous;
    if (outcome === 'created') monitor = store.insertMonitor(next, now());
    else if (outcome === 'changed') monitor = store.updateMonitor(next, now());
    if (monitor === undefined) throw notFound(`monitor "${id}"`);
    if (outcome !== 'unchanged') {
      announce(monitor, previous);
      log(`api: monitor ${id} (${monitor.name}) ${outcome}${outcome === 'changed' ? ` (${changes.join(', ')})` : ''}`);
    }
    const headers: Record<string, string> = { 'X-Checkpoint-Outcome': outcome };
    if (outcome === 'created') headers['Location'] = `/api/v1/monitors/${encodeURIComponent(id)}`;
    sendJson(res, outcome === 'created' ? 201 : 200, monitor, headers);
  };

  const runsQuery = runsQuerySchema.omit({ monitor: true });

  return [
    {
      method: 'POST',
      pattern: /^\/api\/v1\/monitors$/,
      access: 'admin',
      handler: async (req, res, _params, url) => {
        parseQuery(url, emptyQuerySchema);
        const input = parseWith(monitorInputSchema, await readJson(req, deps.maxJsonBytes));
        const id = input.id ?? `m-${randomBytes(6).toString('hex')}`;
        const monitor = store.insertMonitor(checked(input, id), now());
        announce(monitor, undefined);
        log(`api: monitor ${monitor.id} (${monitor.name}) created on ${monitor.checkpoint}`);
        sendJson(res, 201, monitor, { Location: `/api/v1/monitors/${encodeURIComponent(monitor.id)}` });
      },
    },
    {
      method: 'GET',
      pattern: /^\/api\/v1\/monitors$/,
      access: 'admin',
      handler: (_req, res, _params, url) => {
        const query = parseQuery(url, monitorsQuerySchema);
        const monitors = store
          .listMonitors(query.checkpoint)
          .filter((monitor) => query.enabled === undefined || String(monitor.enabled) === query.enabled)
          .filter((monitor) => query.health === undefined || query.health.includes(monitor.health))
          .map((monitor) => monitorView(monitor, store.listRuns(monitor.id, 1)[0]));
        sendJson(res, 200, { monitors });
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/api/v1/monitors/${segment}$`),
      access: 'admin',
      handler: (_req, res, [id = ''], url) => {
        parseQuery(url, emptyQuerySchema);
        const monitor = monitorOr404(id);
        sendJson(res, 200, monitorView(monitor, store.listRuns(monitor.id, 1)[0]));
      },
    },
    {
      method: 'PUT',
      pattern: new RegExp(`^/api/v1/monitors/${segment}$`),
      access: 'admin',
      handler: async (req, res, [id = ''], url) => {
        const query = parseQuery(url, putQuerySchema);
        save(res, id, await readJson(req, deps.maxJsonBytes), query.dryRun === 'true');
      },
    },
    {
      method: 'PATCH',
      pattern: new RegExp(`^/api/v1/monitors/${segment}$`),
      access: 'admin',
      handler: async (req, res, [id = ''], url) => {
        const query = parseQuery(url, putQuerySchema);
        const patch = await readJson(req, deps.maxJsonBytes);
        if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
          throw new ApiError(400, 'invalid-request', '(root): expected a JSON object (a JSON merge patch, RFC 7386)', { path: '(root)' });
        }
        const previous = monitorOr404(id);
        save(res, id, mergePatch(monitorConfig(previous), patch), query.dryRun === 'true');
      },
    },
    {
      method: 'DELETE',
      pattern: new RegExp(`^/api/v1/monitors/${segment}$`),
      access: 'admin',
      handler: (_req, res, [id = ''], url) => {
        parseQuery(url, emptyQuerySchema);
        const monitor = monitorOr404(id);
        store.deleteMonitor(id);
        hub.pushMonitors(monitor.checkpoint);
        scheduler.monitorChanged(id, 'deleted', monitor);
        log(`api: monitor ${id} (${monitor.name}) deleted`);
        res.writeHead(204).end();
      },
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/api/v1/monitors/${segment}/run$`),
      access: 'admin',
      handler: (_req, res, [id = ''], url) => {
        parseQuery(url, emptyQuerySchema);
        const monitor = monitorOr404(id);
        const dispatched = scheduler.runNow(monitor.id);
        if (dispatched === undefined) {
          throw new ApiError(409, 'no-instance', `no instance of checkpoint "${monitor.checkpoint}" is connected with a free slot`);
        }
        sendJson(res, 202, { runId: dispatched.runId, monitorId: monitor.id, instance: dispatched.instance, attempt: 1, reason: 'manual' });
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/api/v1/monitors/${segment}/runs$`),
      access: 'admin',
      handler: (_req, res, [id = ''], url) => {
        const query = parseQuery(url, runsQuery);
        monitorOr404(id);
        sendJson(res, 200, { runs: store.queryRuns({ ...query, monitor: id, limit: query.limit ?? 50 }) });
      },
    },
    {
      method: 'GET',
      pattern: /^\/api\/v1\/runs$/,
      access: 'admin',
      handler: (_req, res, _params, url) => {
        const query = parseQuery(url, runsQuerySchema);
        sendJson(res, 200, { runs: store.queryRuns({ ...query, limit: query.limit ?? 50 }) });
      },
    },
    {
      method: 'GET',
      pattern: /^\/api\/v1\/alerts$/,
      access: 'admin',
      handler: (_req, res, _params, url) => {
        const query = parseQuery(url, alertsQuerySchema);
        const filter: { monitorId?: string; checkpoint?: string; kinds?: AlertKind[]; since?: string } = {};
        if (query.monitor !== undefined) filter.monitorId = query.monitor;
        if (query.checkpoint !== undefined) filter.checkpoint = query.checkpoint;
        if (query.kind !== undefined) filter.kinds = query.kind;
        if (query.since !== undefined) filter.since = query.since;
        sendJson(res, 200, { alerts: store.listAlerts(query.limit ?? 100, filter) });
      },
    },
  ];
}
