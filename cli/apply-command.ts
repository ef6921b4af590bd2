import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import type { z } from 'zod';
import { describeIssues } from '../engine/index.ts';
import { channelSchema, maintenanceWindowSchema, monitorInputSchema } from '../control-plane/api-schemas.ts';
import { exitCodes } from './exit-codes.ts';
import { formatProblems, loadScriptFile } from './load-script.ts';

export interface ApplyOptions {
  /** Files and directories (searched recursively for *.json). */
  paths: readonly string[];
  /** Base URL of the control plane (falls back to CHECKPOINT_CONTROL_PLANE). */
  controlPlane?: string;
  /** Admin token (falls back to CHECKPOINT_ADMIN_TOKEN). */
  adminToken?: string;
  dryRun: boolean;
  prune: boolean;
}

export interface ApplyIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

type Kind = 'channel' | 'monitor' | 'maintenance window';

interface Resource {
  kind: Kind;
  id: string;
  body: Record<string, unknown>;
  /** `file: monitors[2]`, for messages. */
  where: string;
}

interface Planned extends Resource {
  outcome: 'created' | 'changed' | 'unchanged';
  changes: string[];
}

const kinds: readonly { kind: Kind; key: 'channels' | 'monitors' | 'maintenanceWindows'; collection: string; schema: z.ZodType }[] = [
  { kind: 'channel', key: 'channels', collection: 'channels', schema: channelSchema },
  { kind: 'monitor', key: 'monitors', collection: 'monitors', schema: monitorInputSchema },
  { kind: 'maintenance window', key: 'maintenanceWindows', collection: 'maintenance-windows', schema: maintenanceWindowSchema },
];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Every *.json under the given paths, in a stable order. */
async function jsonFiles(paths: readonly string[]): Promise<string[]> {
  const found: string[] = [];
  const walk = async (path: string): Promise<void> => {
    const info = await stat(path);
    if (!info.isDirectory()) {
      found.push(path);
      return;
    }
    for (const entry of (await readdir(path, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
      const child = join(path, entry.name);
      if (entry.isDirectory()) await walk(child);
      else if (entry.name.endsWith('.json')) found.push(child);
    }
  };
  for (const path of paths) await walk(path);
  return found;
}

/**
 * Read one file: `{ channels, monitors, maintenanceWindows }` (any of them), or one monitor (an object with
 * `script`). A transaction script (`steps`, no `script`) is skipped: monitors refer to such files by path.
 */
async function readResources(file: string, problems: string[]): Promise<Resource[]> {
  let json: unknown;
  try {
    json = JSON.parse((await readFile(file, 'utf8')).replace(/^\uFEFF/, ''));
  } catch (error) {
    problems.push(`${file}: (root): ${error instanceof SyntaxError ? `not valid JSON: ${error.message}` : `cannot read: ${String(error)}`}`);
    return [];
  }
  if (!isRecord(json)) {
    problems.push(`${file}: (root): expected an object with monitors, channels or maintenanceWindows, or one monitor`);
    return [];
  }
  if ('steps' in json && !('script' in json)) return [];
  const bundle: Record<string, unknown> = 'script' in json ? { monitors: [json] } : json;
  const resources: Resource[] = [];
  for (const key of Object.keys(bundle)) {
    if (key !== '$schema' && !kinds.some((kind) => kind.key === key)) problems.push(`${file}: ${key}: unknown field "${key}"; expected monitors, channels or maintenanceWindows`);
  }
  for (const { kind, key, schema } of kinds) {
    const list = bundle[key];
    if (list === undefined) continue;
    if (!Array.isArray(list)) {
      problems.push(`${file}: ${key}: expected an array`);
      continue;
    }
    for (const [index, item] of list.entries()) {
      const where = 'script' in json ? file : `${file}: ${key}[${index}]`;
      const prefix = 'script' in json ? '' : `${key}[${index}].`;
      if (!isRecord(item)) {
        problems.push(`${where}: expected an object`);
        continue;
      }
      const body = { ...item };
      if (kind === 'monitor' && typeof body['script'] === 'string') {
        // A monitor may name its transaction script's file, relative to the monitor file: scripts stay one file each.
        const scriptFile = resolve(dirname(file), body['script']);
        const loaded = await loadScriptFile(scriptFile);
        if (!loaded.ok) {
          problems.push(`${file}: ${prefix}script: the script file has problems:\n${formatProblems(relative(process.cwd(), scriptFile) || scriptFile, loaded.problems)}`);
          continue;
        }
        body['script'] = loaded.script;
      }
      if (typeof body['id'] !== 'string') {
        problems.push(`${file}: ${prefix}id: expected an id (apply creates or updates by id)`);
        continue;
      }
      const parsed = schema.safeParse(body);
      if (!parsed.success) {
        for (const problem of describeIssues(parsed.error.issues, body)) problems.push(`${file}: ${prefix}${problem.path}: ${problem.message}`);
        continue;
      }
      resources.push({ kind, id: body['id'], body, where });
    }
  }
  return resources;
}

class ApiClient {
  readonly #base: string;
  readonly #token: string | undefined;

  constructor(base: string, token: string | undefined) {
    this.#base = base.replace(/\/+$/, '');
    this.#token = token;
  }

  async call(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(`${this.#base}${path}`, {
      method,
      headers: { ...(this.#token === undefined ? {} : { Authorization: `Bearer ${this.#token}` }), ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    const parsed: unknown = text === '' ? {} : JSON.parse(text);
    return { status: response.status, body: isRecord(parsed) ? parsed : {} };
  }
}

function errorText(body: Record<string, unknown>): { code: string; message: string; path?: string } {
  const error = isRecord(body['error']) ? body['error'] : {};
  const text = (value: unknown, fallback: string) => (typeof value === 'string' ? value : fallback);
  return { code: text(error['code'], 'error'), message: text(error['message'], 'unknown error'), ...(typeof error['path'] === 'string' ? { path: error['path'] } : {}) };
}

/** Remove the element at `path` (`alerting.channels[1]`, `monitors[0]`) from a copy of `body`. */
function without(body: Record<string, unknown>, path: string): Record<string, unknown> | undefined {
  const match = /^(.*)\[(\d+)\]$/.exec(path);
  if (match === null) return undefined;
  const copy = structuredClone(body);
  let node: unknown = copy;
  for (const key of (match[1] ?? '').split('.')) node = isRecord(node) ? node[key] : undefined;
  if (!Array.isArray(node)) return undefined;
  node.splice(Number(match[2]), 1);
  return copy;
}

function collectionPath(kind: Kind, id: string): string {
  const collection = kinds.find((entry) => entry.kind === kind)?.collection ?? '';
  return `/api/v1/${collection}/${encodeURIComponent(id)}`;
}

/**
 * `checkpoint apply DIR|FILE…`: make the control plane's monitors, channels and maintenance windows what the
 * files say. Everything is validated first (locally, then by the control plane with `?dryRun=true`); nothing
 * is written unless all of it is valid. `--dry-run` prints the plan only; `--prune` deletes what the files no
 * longer have. Exit 0 applied (or planned), 2 invalid files, 3 the control plane could not be reached or
 * refused a change.
 */
export async function runApply(options: ApplyOptions, io: ApplyIo): Promise<number> {
  const base = options.controlPlane ?? process.env['CHECKPOINT_CONTROL_PLANE'];
  if (base === undefined || !/^https?:\/\/[^/]/.test(base)) {
    io.stderr('error: --control-plane <url> (or CHECKPOINT_CONTROL_PLANE) is required: the control plane`s base URL, e.g. https://cp.example:8400\n');
    return exitCodes.badInput;
  }
  const token = options.adminToken ?? process.env['CHECKPOINT_ADMIN_TOKEN'];
  const problems: string[] = [];
  let files: string[];
  try {
    files = await jsonFiles(options.paths);
  } catch (error) {
    io.stderr(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    return exitCodes.badInput;
  }
  const resources: Resource[] = [];
  for (const file of files) resources.push(...(await readResources(file, problems)));
  const seen = new Map<string, string>();
  for (const resource of resources) {
    const key = `${resource.kind}\u0000${resource.id}`;
    const first = seen.get(key);
    if (first !== undefined) problems.push(`${resource.where}: id: ${resource.kind} "${resource.id}" is also defined in ${first}`);
    else seen.set(key, resource.where);
  }
  if (problems.length > 0) {
    io.stderr(`${problems.join('\n')}\n${problems.length} problem(s); nothing was applied.\n`);
    return exitCodes.badInput;
  }

  const api = new ApiClient(base, token);
  const plan: Planned[] = [];
  const deletions: { kind: Kind; id: string }[] = [];
  try {
    const creating = (kind: Kind) => new Set(plan.filter((entry) => entry.kind === kind && entry.outcome === 'created').map((entry) => entry.id));
    for (const { kind } of kinds) {
      for (const resource of resources.filter((entry) => entry.kind === kind)) {
        let body = resource.body;
        let stripped: string | undefined;
        for (let tries = 0; tries < 100; tries++) {
          const reply = await api.call('PUT', `${collectionPath(kind, resource.id)}?dryRun=true`, body);
          if (reply.status === 401) throw new Error(`the control plane refused the admin token (HTTP 401): ${errorText(reply.body).message}`);
          if (reply.status === 200) {
            let outcome = reply.body['outcome'] as Planned['outcome'];
            let changes = (reply.body['changes'] as string[] | undefined) ?? [];
            if (stripped !== undefined && outcome !== 'created') {
              outcome = 'changed';
              changes = [...new Set([...changes, stripped])].sort();
            }
            plan.push({ ...resource, outcome, changes });
            break;
          }
          const error = errorText(reply.body);
          if (stripped !== undefined && error.path?.split(/[.[]/)[0] === stripped) {
            // Without the reference the rest is not valid either (an empty list): it is checked when applied.
            const exists = (await api.call('GET', collectionPath(kind, resource.id))).status === 200;
            plan.push({ ...resource, outcome: exists ? 'changed' : 'created', changes: exists ? [stripped] : [] });
            break;
          }
          // A reference to something this same apply creates first: check the rest without it.
          const dependsOn = error.code === 'unknown-channel' ? creating('channel') : error.code === 'unknown-monitor' ? creating('monitor') : undefined;
          const referenced = error.path === undefined ? undefined : /"([^"]+)"/.exec(error.message)?.[1];
          const next = error.path === undefined ? undefined : without(body, error.path);
          if (dependsOn !== undefined && referenced !== undefined && dependsOn.has(referenced) && next !== undefined) {
            body = next;
            stripped = error.path?.split(/[.[]/)[0];
            continue;
          }
          problems.push(`${resource.where}: ${reply.status === 400 ? error.message : `HTTP ${reply.status}: ${error.message}`}`);
          break;
        }
      }
    }
    if (options.prune) {
      const wanted = new Set(resources.map((resource) => `${resource.kind}\u0000${resource.id}`));
      for (const { kind, collection } of kinds) {
        const reply = await api.call('GET', `/api/v1/${collection}`);
        if (reply.status !== 200) throw new Error(`GET /api/v1/${collection}: HTTP ${reply.status}: ${errorText(reply.body).message}`);
        const list = Object.values(reply.body).find(Array.isArray) as { id?: unknown }[] | undefined;
        for (const item of list ?? []) if (typeof item.id === 'string' && !wanted.has(`${kind}\u0000${item.id}`)) deletions.push({ kind, id: item.id });
      }
    }
  } catch (error) {
    io.stderr(`error: ${base}: ${error instanceof Error ? error.message : String(error)}\n`);
    return exitCodes.engineFault;
  }
  if (problems.length > 0) {
    io.stderr(`${problems.join('\n')}\n${problems.length} problem(s); nothing was applied.\n`);
    return exitCodes.badInput;
  }

  const sign = { created: '+', changed: '~', unchanged: '=' } as const;
  for (const entry of plan) io.stdout(`${sign[entry.outcome]} ${entry.kind} ${entry.id}: ${entry.outcome === 'changed' ? `changed (${entry.changes.join(', ')})` : entry.outcome}\n`);
  for (const entry of deletions) io.stdout(`- ${entry.kind} ${entry.id}: deleted\n`);
  const count = (outcome: Planned['outcome']) => plan.filter((entry) => entry.outcome === outcome).length;
  const summary = `${count('created')} created, ${count('changed')} changed, ${count('unchanged')} unchanged, ${deletions.length} deleted`;
  if (options.dryRun) {
    io.stdout(`${summary} (dry run: nothing was changed)\n`);
    return exitCodes.passed;
  }

  try {
    for (const entry of plan.filter((item) => item.outcome !== 'unchanged')) {
      const reply = await api.call('PUT', collectionPath(entry.kind, entry.id), entry.body);
      if (reply.status !== 200 && reply.status !== 201) throw new Error(`${entry.kind} ${entry.id}: HTTP ${reply.status}: ${errorText(reply.body).message}`);
    }
    // Windows name monitors and monitors name channels: delete in that order.
    for (const kind of ['maintenance window', 'monitor', 'channel'] as const) {
      for (const entry of deletions.filter((item) => item.kind === kind)) {
        const reply = await api.call('DELETE', collectionPath(kind, entry.id));
        if (reply.status !== 204 && reply.status !== 404) throw new Error(`deleting ${kind} ${entry.id}: HTTP ${reply.status}: ${errorText(reply.body).message}`);
      }
    }
  } catch (error) {
    io.stderr(`error: ${error instanceof Error ? error.message : String(error)}; what came before it was applied\n`);
    return exitCodes.engineFault;
  }
  io.stdout(`${summary}\n`);
  return exitCodes.passed;
}
