import type { Clock } from '../engine/index.ts';
import { channelSchema, emptyQuerySchema, maintenanceWindowSchema, putQuerySchema, type Channel, type MaintenanceWindow } from './api-schemas.ts';
import { outcomeOf, parseQuery } from './api-query.ts';
import type { Route } from './api.ts';
import { envReferences, resolveEnv, stringsIn, type Environment } from './channels/secrets.ts';
import { ApiError, notFound, parseWith, readJson, sendJson } from './http.ts';
import type { Log } from './log.ts';
import { windowActiveAt } from './maintenance.ts';
import type { StoredDefinition, ControlPlaneStore } from './store.ts';

export interface AlertingRouteDeps {
  store: ControlPlaneStore;
  clock: Clock;
  log: Log;
  maxJsonBytes: number;
  /** Where `{{env.NAME}}` references are checked at save time. Default process.env. */
  env?: Environment;
}

/** Shown instead of a secret stored in plain text; PUT back as is, it keeps the stored value. */
export const redacted = '(redacted)';

/** The fields of each channel type that hold secrets (dotted paths; `headers.*` is every header). */
const secretPaths: Record<Channel['type'], readonly string[]> = {
  webhook: ['secret', 'headers.*'],
  slack: ['url'],
  teams: ['url'],
  pagerduty: ['routingKey'],
  email: ['smtp.password'],
};

function isSecretPath(type: Channel['type'], path: string): boolean {
  return secretPaths[type].some((pattern) => (pattern.endsWith('.*') ? path.startsWith(pattern.slice(0, -1)) : path === pattern));
}

/** Apply `change` to the string at every secret path of a channel-shaped object. */
function mapSecrets(type: Channel['type'], value: Record<string, unknown>, change: (text: string, path: string) => string): Record<string, unknown> {
  const walk = (node: unknown, path: string): unknown => {
    if (typeof node === 'string') return isSecretPath(type, path) ? change(node, path) : node;
    if (typeof node === 'object' && node !== null && !Array.isArray(node)) {
      return Object.fromEntries(Object.entries(node).map(([key, item]) => [key, walk(item, path === '' ? key : `${path}.${key}`)]));
    }
    return node;
  };
  return walk(value, '') as Record<string, unknown>;
}

/** A channel as GET shows it: secrets given as {{env.NAME}} references as they are, plain-text ones hidden. */
export function channelView(stored: StoredDefinition<Channel>): Record<string, unknown> {
  const visible = mapSecrets(stored.definition.type, stored.definition, (text) => (envReferences(text).length > 0 ? text : redacted));
  return { ...visible, createdAt: stored.createdAt, updatedAt: stored.updatedAt };
}

function withoutBookkeeping<T extends Record<string, unknown>>(value: T): T {
  const { createdAt: _created, updatedAt: _updated, active: _active, ...rest } = value;
  return rest as T;
}

/** Where a channel's secrets are sent: its URL, or for email the SMTP server. */
function destinationOf(channel: Channel): string {
  return channel.type === 'email' ? JSON.stringify([channel.smtp.host, channel.smtp.port ?? null, channel.smtp.secure ?? null]) : (channel.url ?? '');
}

const segment = '([^/]+)';

/** Notification channels and maintenance windows: PUT (create or replace, `?dryRun=true`), GET, DELETE. */
export function alertingRoutes(deps: AlertingRouteDeps): Route[] {
  const { store, clock, log } = deps;
  const env = deps.env ?? process.env;
  const now = () => clock.wallNow().toISOString();

  const checkedChannel = async (id: string, body: unknown): Promise<Channel> => {
    const parsed = parseWith(channelSchema, body);
    if (parsed.id !== id) throw new ApiError(400, 'id-mismatch', `id: the body says "${parsed.id}", the URL "${id}"`, { path: 'id' });
    const stored = (await store.getChannel(id))?.definition;
    // "(redacted)" from a GET means "keep what is stored" — but only towards the same destination: a stored secret
    // must never follow a changed URL or mail server to whoever the new one is.
    // (A destination that is itself "(redacted)" is the stored one.)
    const sameDestination = stored?.type === parsed.type && (destinationOf(parsed) === redacted || destinationOf(stored) === destinationOf(parsed));
    const restored = mapSecrets(parsed.type, withoutBookkeeping(parsed), (text, path) => {
      if (text !== redacted) return text;
      const previous = stored?.type === parsed.type ? stringsIn(stored).find((entry) => entry.path === path)?.text : undefined;
      if (previous === undefined) throw new ApiError(400, 'invalid-request', `${path}: "${redacted}" stands for a stored secret, and none is stored here; give the value or an {{env.NAME}} reference`, { path });
      if (!sameDestination) throw new ApiError(400, 'invalid-request', `${path}: "${redacted}" keeps a stored secret only while the channel's destination stays the same; the destination changed, so give the secret again`, { path });
      return previous;
    }) as Channel;
    for (const { path, text } of stringsIn(restored)) {
      let value: string;
      try {
        value = resolveEnv(text, env);
      } catch (error) {
        throw new ApiError(400, 'unset-secret', `${path}: ${error instanceof Error ? error.message : String(error)}`, { path });
      }
      if (path === 'url' && restored.type !== 'email') {
        const protocol = URL.canParse(value) ? new URL(value).protocol : '';
        if (protocol !== 'http:' && protocol !== 'https:') throw new ApiError(400, 'invalid-request', `url: expected an http:// or https:// URL`, { path });
      }
    }
    return restored;
  };

  const checkedWindow = async (id: string, body: unknown): Promise<MaintenanceWindow> => {
    const parsed = withoutBookkeeping(parseWith(maintenanceWindowSchema, body));
    if (parsed.id !== id) throw new ApiError(400, 'id-mismatch', `id: the body says "${parsed.id}", the URL "${id}"`, { path: 'id' });
    let missing = -1;
    for (const [index, monitor] of (parsed.monitors ?? []).entries()) {
      if ((await store.getMonitor(monitor)) !== undefined) continue;
      missing = index;
      break;
    }
    if (missing >= 0) {
      const path = `monitors[${missing}]`;
      throw new ApiError(400, 'unknown-monitor', `${path}: no monitor with id "${parsed.monitors?.[missing] ?? ''}"`, { path });
    }
    return parsed;
  };

  const windowView = (stored: StoredDefinition<MaintenanceWindow>) => ({ ...stored.definition, active: windowActiveAt(stored.definition, clock.wallNow()), createdAt: stored.createdAt, updatedAt: stored.updatedAt });

  return [
    {
      method: 'GET',
      pattern: /^\/api\/v1\/channels$/,
      access: 'admin',
      handler: async (_req, res, _params, url) => {
        parseQuery(url, emptyQuerySchema);
        sendJson(res, 200, { channels: (await store.listChannels()).map(channelView) });
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/api/v1/channels/${segment}$`),
      access: 'admin',
      handler: async (_req, res, [id = ''], url) => {
        parseQuery(url, emptyQuerySchema);
        const stored = await store.getChannel(id);
        if (stored === undefined) throw notFound(`channel "${id}"`);
        sendJson(res, 200, channelView(stored));
      },
    },
    {
      method: 'PUT',
      pattern: new RegExp(`^/api/v1/channels/${segment}$`),
      access: 'admin',
      handler: async (req, res, [id = ''], url) => {
        const query = parseQuery(url, putQuerySchema);
        const channel = await checkedChannel(id, await readJson(req, deps.maxJsonBytes));
        const { outcome, changes } = outcomeOf((await store.getChannel(id))?.definition, channel);
        const view = (stored: StoredDefinition<Channel>) => channelView(stored);
        if (query.dryRun === 'true') {
          const at = now();
          sendJson(res, 200, { dryRun: true, outcome, changes, channel: view({ definition: channel, createdAt: at, updatedAt: at }) });
          return;
        }
        if (outcome !== 'unchanged') {
          await store.putChannel(channel, now());
          log(`api: channel ${id} (${channel.type}) ${outcome}`);
        }
        const stored = await store.getChannel(id);
        if (stored === undefined) throw notFound(`channel "${id}"`);
        sendJson(res, outcome === 'created' ? 201 : 200, view(stored), { 'X-Checkpoint-Outcome': outcome });
      },
    },
    {
      method: 'DELETE',
      pattern: new RegExp(`^/api/v1/channels/${segment}$`),
      access: 'admin',
      handler: async (_req, res, [id = ''], url) => {
        parseQuery(url, emptyQuerySchema);
        if ((await store.getChannel(id)) === undefined) throw notFound(`channel "${id}"`);
        const users = (await store.listMonitors()).filter((monitor) => monitor.alerting?.channels?.includes(id) === true);
        if (users.length > 0) throw new ApiError(409, 'channel-in-use', `channel "${id}" is used by monitor(s) ${users.map((monitor) => monitor.id).join(', ')}; change their alerting.channels first`);
        await store.deleteChannel(id);
        log(`api: channel ${id} deleted`);
        res.writeHead(204).end();
      },
    },
    {
      method: 'GET',
      pattern: /^\/api\/v1\/maintenance-windows$/,
      access: 'admin',
      handler: async (_req, res, _params, url) => {
        parseQuery(url, emptyQuerySchema);
        sendJson(res, 200, { maintenanceWindows: (await store.listMaintenanceWindows()).map(windowView) });
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/api/v1/maintenance-windows/${segment}$`),
      access: 'admin',
      handler: async (_req, res, [id = ''], url) => {
        parseQuery(url, emptyQuerySchema);
        const stored = await store.getMaintenanceWindow(id);
        if (stored === undefined) throw notFound(`maintenance window "${id}"`);
        sendJson(res, 200, windowView(stored));
      },
    },
    {
      method: 'PUT',
      pattern: new RegExp(`^/api/v1/maintenance-windows/${segment}$`),
      access: 'admin',
      handler: async (req, res, [id = ''], url) => {
        const query = parseQuery(url, putQuerySchema);
        const window = await checkedWindow(id, await readJson(req, deps.maxJsonBytes));
        const { outcome, changes } = outcomeOf((await store.getMaintenanceWindow(id))?.definition, window);
        if (query.dryRun === 'true') {
          sendJson(res, 200, { dryRun: true, outcome, changes, maintenanceWindow: window });
          return;
        }
        if (outcome !== 'unchanged') {
          await store.putMaintenanceWindow(window, now());
          log(`api: maintenance window ${id} ${outcome}`);
        }
        const stored = await store.getMaintenanceWindow(id);
        if (stored === undefined) throw notFound(`maintenance window "${id}"`);
        sendJson(res, outcome === 'created' ? 201 : 200, windowView(stored), { 'X-Checkpoint-Outcome': outcome });
      },
    },
    {
      method: 'DELETE',
      pattern: new RegExp(`^/api/v1/maintenance-windows/${segment}$`),
      access: 'admin',
      handler: async (_req, res, [id = ''], url) => {
        parseQuery(url, emptyQuerySchema);
        if (!(await store.deleteMaintenanceWindow(id))) throw notFound(`maintenance window "${id}"`);
        log(`api: maintenance window ${id} deleted`);
        res.writeHead(204).end();
      },
    },
  ];
}
