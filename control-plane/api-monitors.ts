import { randomBytes } from 'node:crypto';
import type { Clock } from '../engine/index.ts';
import { alertsQuerySchema, emptyQuerySchema, monitorIdSchema, monitorInputSchema, monitorsQuerySchema, putQuerySchema, runNowQuerySchema, runsQuerySchema, type MonitorInput } from './api-schemas.ts';
import { mergePatch, outcomeOf, parseQuery } from './api-query.ts';
import type { Route } from './api.ts';
import { ApiError, notFound, parseWith, readJson, sendJson } from './http.ts';
import type { AgentControl } from './hub.ts';
import type { Log } from './log.ts';
import type { CheckpointHealth } from './dispatch-policy.ts';
import { checkpointsOf, patchBaseFor } from './monitor-definition.ts';
import { announceMonitor, checkedMonitor, monitorConfig, removeMonitor, storeMonitor, type MonitorConfig } from './monitor-saving.ts';
import { checkpointHealthMap, checkpointStatuses, monitorStatus, type CheckpointMonitorStatus, type MonitorStatus } from './monitor-status.ts';
import type { SchedulerControl } from './scheduler.ts';
import type { AlertKind, MonitorRecord, RunRecord, ControlPlaneStore } from './store.ts';

export interface MonitorRouteDeps {
  store: ControlPlaneStore;
  hub: AgentControl;
  scheduler: SchedulerControl;
  clock: Clock;
  log: Log;
  maxJsonBytes: number;
}

export type MonitorView = MonitorRecord & { status: MonitorStatus; checkpointStatus: Record<string, CheckpointMonitorStatus>; lastRun?: RunRecord };

/**
 * A monitor as the API shows it: its status (`checkpoint-down` where its checkpoint is down, rather than a stale
 * `failing`), on each checkpoint too, and its latest run.
 */
export function monitorView(monitor: MonitorRecord, lastRun: RunRecord | undefined, checkpoints: ReadonlyMap<string, CheckpointHealth>): MonitorView {
  const view: MonitorView = { ...monitor, status: monitorStatus(monitor, checkpoints), checkpointStatus: checkpointStatuses(monitor, checkpoints) };
  if (lastRun !== undefined) view.lastRun = lastRun;
  return view;
}

const segment = '([^/]+)';

/**
 * Monitors, their runs and the alert list: create (POST, or PUT to an id), replace (PUT, idempotent), update a
 * subset (PATCH, JSON merge patch), delete; `?dryRun=true` on PUT and PATCH validates and reports what would
 * change. A monitor is checked as a whole when saved: the checkpoint and channels it names exist, and every
 * `{{variable}}` its script uses has a value (the message `checkpoint validate` prints).
 */
export function monitorRoutes(deps: MonitorRouteDeps): Route[] {
  const { store, scheduler, clock, log } = deps;
  const now = () => clock.wallNow().toISOString();

  const monitorOr404 = async (id: string): Promise<MonitorRecord> => {
    const monitor = await store.getMonitor(id);
    if (monitor === undefined) throw notFound(`monitor "${id}"`);
    return monitor;
  };

  const checked = (input: MonitorInput, id: string): Promise<MonitorConfig> => checkedMonitor(store, input, id);

  /** PUT and PATCH: create or replace, or say what would happen. */
  const save = async (res: Parameters<Route['handler']>[1], id: string, body: unknown, dryRun: boolean): Promise<void> => {
    // The URL names the monitor a PUT creates: it must be an id like any other (it reaches agents, logs, metrics).
    const idCheck = monitorIdSchema.safeParse(id);
    if (!idCheck.success) throw new ApiError(400, 'invalid-id', `id: ${idCheck.error.issues[0]?.message ?? 'expected a monitor id'} (in the URL)`, { path: 'id' });
    const input = parseWith(monitorInputSchema, body);
    if (input.id !== undefined && input.id !== id) throw new ApiError(400, 'id-mismatch', `id: the body says "${input.id}", the URL "${id}"`, { path: 'id' });
    const next = await checked(input, id);
    if (dryRun) {
      const previous = await store.getMonitor(id);
      const { outcome, changes } = outcomeOf(previous === undefined ? undefined : monitorConfig(previous), next);
      sendJson(res, 200, { dryRun: true, outcome, changes, monitor: next });
      return;
    }
    const { monitor, outcome } = await storeMonitor(deps, next, now(), 'api');
    if (monitor === undefined) throw notFound(`monitor "${id}"`);
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
        const monitor = await store.insertMonitor(await checked(input, id), now());
        await announceMonitor(deps, monitor, undefined);
        log(`api: monitor ${monitor.id} (${monitor.name}) created on ${checkpointsOf(monitor).join(', ')}`);
        sendJson(res, 201, monitor, { Location: `/api/v1/monitors/${encodeURIComponent(monitor.id)}` });
      },
    },
    {
      method: 'GET',
      pattern: /^\/api\/v1\/monitors$/,
      access: 'admin',
      handler: async (_req, res, _params, url) => {
        const query = parseQuery(url, monitorsQuerySchema);
        const checkpoints = checkpointHealthMap(await store.listCheckpoints());
        const listed = (await store.listMonitors(query.checkpoint))
          .filter((monitor) => query.enabled === undefined || String(monitor.enabled) === query.enabled)
          .filter((monitor) => query.health === undefined || query.health.includes(monitor.health))
          .filter((monitor) => query.status === undefined || query.status.includes(monitorStatus(monitor, checkpoints)));
        const monitors = await Promise.all(listed.map(async (monitor) => monitorView(monitor, (await store.listRuns(monitor.id, 1))[0], checkpoints)));
        sendJson(res, 200, { monitors });
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/api/v1/monitors/${segment}$`),
      access: 'admin',
      handler: async (_req, res, [id = ''], url) => {
        parseQuery(url, emptyQuerySchema);
        const monitor = await monitorOr404(id);
        sendJson(res, 200, monitorView(monitor, (await store.listRuns(monitor.id, 1))[0], checkpointHealthMap(await store.listCheckpoints())));
      },
    },
    {
      method: 'PUT',
      pattern: new RegExp(`^/api/v1/monitors/${segment}$`),
      access: 'admin',
      handler: async (req, res, [id = ''], url) => {
        const query = parseQuery(url, putQuerySchema);
        await save(res, id, await readJson(req, deps.maxJsonBytes), query.dryRun === 'true');
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
        const previous = await monitorOr404(id);
        await save(res, id, mergePatch(patchBaseFor(monitorConfig(previous), patch as Record<string, unknown>), patch), query.dryRun === 'true');
      },
    },
    {
      method: 'DELETE',
      pattern: new RegExp(`^/api/v1/monitors/${segment}$`),
      access: 'admin',
      handler: async (_req, res, [id = ''], url) => {
        parseQuery(url, emptyQuerySchema);
        const monitor = await monitorOr404(id);
        await removeMonitor(deps, monitor, 'api');
        res.writeHead(204).end();
      },
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/api/v1/monitors/${segment}/run$`),
      access: 'admin',
      handler: async (_req, res, [id = ''], url) => {
        const query = parseQuery(url, runNowQuerySchema);
        const monitor = await monitorOr404(id);
        const names = checkpointsOf(monitor);
        if (query.checkpoint !== undefined && !names.includes(query.checkpoint)) {
          throw new ApiError(400, 'invalid-query', `checkpoint: monitor "${monitor.id}" does not run on "${query.checkpoint}"; it runs on ${names.map((name) => `"${name}"`).join(', ')}`, { path: 'checkpoint' });
        }
        const dispatched = await scheduler.runNow(monitor.id, query.checkpoint);
        if (dispatched === undefined) {
          const where = query.checkpoint === undefined ? names : [query.checkpoint];
          throw new ApiError(409, 'no-instance', `no instance of checkpoint ${where.map((name) => `"${name}"`).join(' or ')} is connected with a free slot`);
        }
        sendJson(res, 202, { runId: dispatched.runId, monitorId: monitor.id, checkpoint: dispatched.checkpoint, instance: dispatched.instance, attempt: 1, reason: 'manual' });
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/api/v1/monitors/${segment}/runs$`),
      access: 'admin',
      handler: async (_req, res, [id = ''], url) => {
        const query = parseQuery(url, runsQuery);
        await monitorOr404(id);
        sendJson(res, 200, { runs: await store.queryRuns({ ...query, monitor: id, limit: query.limit ?? 50 }) });
      },
    },
    {
      method: 'GET',
      pattern: /^\/api\/v1\/runs$/,
      access: 'admin',
      handler: async (_req, res, _params, url) => {
        const query = parseQuery(url, runsQuerySchema);
        sendJson(res, 200, { runs: await store.queryRuns({ ...query, limit: query.limit ?? 50 }) });
      },
    },
    {
      method: 'GET',
      pattern: /^\/api\/v1\/alerts$/,
      access: 'admin',
      handler: async (_req, res, _params, url) => {
        const query = parseQuery(url, alertsQuerySchema);
        const filter: { monitorId?: string; checkpoint?: string; kinds?: AlertKind[]; since?: string } = {};
        if (query.monitor !== undefined) filter.monitorId = query.monitor;
        if (query.checkpoint !== undefined) filter.checkpoint = query.checkpoint;
        if (query.kind !== undefined) filter.kinds = query.kind;
        if (query.since !== undefined) filter.since = query.since;
        sendJson(res, 200, { alerts: await store.listAlerts(query.limit ?? 100, filter) });
      },
    },
  ];
}
