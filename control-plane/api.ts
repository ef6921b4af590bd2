import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Clock, type ResultAck, resultEnvelopeSchema } from '../engine/index.ts';
import { alertingRoutes } from './api-alerting.ts';
import { monitorRoutes } from './api-monitors.ts';
import { createCheckpointSchema, drainSchema, rotateTokenSchema } from './api-schemas.ts';
import { ArtifactTooLargeError, sha256Pattern, type ArtifactFiles } from './artifact-files.ts';
import type { Auth } from './auth.ts';
import type { Environment } from './channels/secrets.ts';
import { ApiError, bearerToken, newToken, notFound, parseJsonText, parseWith, readBody, readJson, secretsEqual, sendError, sendJson, sha256Hex } from './http.ts';
import type { ClusterStatus } from './cluster/registry.ts';
import type { AgentControl } from './hub.ts';
import type { Log, LogLimiter } from './log.ts';
import { metricsText } from './metrics.ts';
import { checkpointsOf } from './monitor-definition.ts';
import { openApiDocument } from './openapi.ts';
import { clampedFinishedAt, resultRefusal } from './result-checks.ts';
import type { InstanceStatus, SchedulerControl } from './scheduler.ts';
import { ConflictError, type ControlPlaneStore } from './store.ts';

export interface ApiLimits {
  maxJsonBytes: number;
  maxResultBytes: number;
  maxArtifactBytes: number;
}

export const defaultLimits: ApiLimits = { maxJsonBytes: 6_000_000, maxResultBytes: 32_000_000, maxArtifactBytes: 100_000_000 };

export interface ApiDeps {
  store: ControlPlaneStore;
  files: ArtifactFiles;
  hub: AgentControl;
  scheduler: SchedulerControl;
  auth: Auth;
  clock: Clock;
  log: Log;
  limits: ApiLimits;
  /** A bearer token that may read /metrics only (the admin token may too). */
  metricsToken?: string;
  /** Where `{{env.NAME}}` in channel settings is checked at save time. Default process.env. */
  env?: Environment;
  /** Bounded log for refused agent input. */
  complaints: LogLimiter;
  /** The replicas sharing the database and which one leads; alone, `{ mode: 'single' }`. */
  clusterStatus: () => Promise<ClusterStatus>;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, params: string[], url: URL) => Promise<void> | void;

export interface Route {
  method: string;
  pattern: RegExp;
  /** `either`: an admin or a checkpoint token; `metrics`: the admin or the metrics token; `public`: anyone. */
  access: 'admin' | 'agent' | 'either' | 'metrics' | 'public';
  handler: Handler;
}

const segment = '([^/]+)';

/** Content types served inline; anything else is served as a download, so nothing uploaded can run on this origin. */
const inlineTypes = new Set(['image/png', 'image/jpeg', 'image/webp', 'application/json']);

export { monitorView } from './api-monitors.ts';

/**
 * The REST API (`/api/v1/…`): JSON in and out, every body validated with zod, errors as
 * `{ error: { code, message, path } }`. Admin endpoints need the admin token (or loopback when none is set);
 * agent endpoints (artifact upload, result delivery) need a checkpoint token.
 */
export function createApi(deps: ApiDeps): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const { store, files, hub, scheduler, auth, clock, log, limits, complaints } = deps;
  const now = () => clock.wallNow().toISOString();
  /** Checkpoint → results refused since the start (forged, or for another instance's run). */
  const refusedResults = new Map<string, number>();

  const checkpointView = async (name: string) => {
    const checkpoint = await store.getCheckpoint(name);
    if (checkpoint === undefined) throw notFound(`checkpoint "${name}"`);
    const instances: InstanceStatus[] = await scheduler.instanceStatus(name);
    return { ...checkpoint, online: instances.filter((instance) => instance.online).length, instances, refusedResults: refusedResults.get(name) ?? 0 };
  };

  /** PUT /api/v1/artifacts/:sha256, inside the artifact's lock: store the bytes once, verified against their hash. */
  const receiveArtifact = async (req: IncomingMessage, res: ServerResponse, sha256: string): Promise<void> => {
    if ((await store.getArtifact(sha256)) !== undefined) {
      req.resume();
      sendJson(res, 200, { sha256, stored: 'duplicate' });
      return;
    }
    const contentType = (req.headers['content-type'] ?? 'application/octet-stream').split(';')[0]?.trim().toLowerCase() ?? 'application/octet-stream';
    let received: Awaited<ReturnType<ArtifactFiles['receive']>>;
    try {
      const declared = Number(req.headers['content-length']);
      received = await files.receive(req, limits.maxArtifactBytes, Number.isFinite(declared) ? declared : undefined);
    } catch (error) {
      if (error instanceof ArtifactTooLargeError) throw new ApiError(413, 'body-too-large', error.message);
      throw error;
    }
    if (received.sha256 !== sha256) {
      await received.discard();
      throw new ApiError(400, 'hash-mismatch', `the body's SHA-256 is ${received.sha256}, not ${sha256}`, { path: 'sha256' });
    }
    const file = await received.commit();
    const isNew = await store.insertArtifact({ sha256, sizeBytes: received.sizeBytes, contentType, file, createdAt: now() });
    sendJson(res, isNew ? 201 : 200, { sha256, stored: isNew ? 'new' : 'duplicate' });
  };

  const metricsAllowed = (req: IncomingMessage): boolean => {
    if (auth.admin(req)) return true;
    const token = bearerToken(req);
    return deps.metricsToken !== undefined && token !== undefined && secretsEqual(token, deps.metricsToken);
  };

  const routes: Route[] = [
    ...monitorRoutes({ store, hub, scheduler, clock, log, maxJsonBytes: limits.maxJsonBytes }),
    ...alertingRoutes({ store, clock, log, maxJsonBytes: limits.maxJsonBytes, ...(deps.env === undefined ? {} : { env: deps.env }) }),
    {
      method: 'GET',
      pattern: /^\/api\/openapi\.json$/,
      access: 'public',
      handler: (_req, res) => sendJson(res, 200, openApiDocument(), { 'Cache-Control': 'no-cache' }),
    },
    {
      method: 'GET',
      pattern: /^\/metrics$/,
      access: 'metrics',
      handler: async (_req, res) => {
        const text = await metricsText({ store, clock, instancesOnline: async (name) => (await scheduler.instanceStatus(name)).filter((instance) => instance.online).length });
        res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
        res.end(text);
      },
    },
    {
      method: 'GET',
      pattern: /^\/api\/v1\/cluster$/,
      access: 'admin',
      handler: async (_req, res) => sendJson(res, 200, await deps.clusterStatus()),
    },
    {
      method: 'POST',
      pattern: /^\/api\/v1\/checkpoints$/,
      access: 'admin',
      handler: async (req, res) => {
        const input = parseWith(createCheckpointSchema, await readJson(req, limits.maxJsonBytes));
        const token = newToken('cpt');
        const checkpoint = await store.createCheckpoint(input.name, sha256Hex(token), now());
        log(`api: checkpoint ${checkpoint.name} created`);
        sendJson(res, 201, { ...checkpoint, token, tokenNote: 'Shown once: only its SHA-256 is stored. Give it to the checkpoint instances (checkpoint agent --token).' });
      },
    },
    {
      method: 'GET',
      pattern: /^\/api\/v1\/checkpoints$/,
      access: 'admin',
      handler: async (_req, res) => sendJson(res, 200, { checkpoints: await Promise.all((await store.listCheckpoints()).map((checkpoint) => checkpointView(checkpoint.name))) }),
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/api/v1/checkpoints/${segment}$`),
      access: 'admin',
      handler: async (_req, res, [name = '']) => sendJson(res, 200, await checkpointView(name)),
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/api/v1/checkpoints/${segment}/drain$`),
      access: 'admin',
      handler: async (req, res, [name = '']) => {
        if ((await store.getCheckpoint(name)) === undefined) throw notFound(`checkpoint "${name}"`);
        const body = await readBody(req, limits.maxJsonBytes);
        const input = parseWith(drainSchema, body.byteLength === 0 ? {} : parseJsonText(body));
        const drained = await hub.drain(name, input.reason ?? 'asked by an administrator', input.instance);
        if (input.instance !== undefined && drained.length === 0) throw notFound(`connected instance "${input.instance}" of checkpoint "${name}"`);
        log(`api: asked ${drained.length} instance(s) of ${name} to drain`);
        sendJson(res, 202, { checkpoint: name, drained });
      },
    },
    {
      // Token rotation: a new token now, the previous one accepted for a grace period (docs/security.md).
      method: 'POST',
      pattern: new RegExp(`^/api/v1/checkpoints/${segment}/token$`),
      access: 'admin',
      handler: async (req, res, [name = '']) => {
        if ((await store.getCheckpoint(name)) === undefined) throw notFound(`checkpoint "${name}"`);
        const body = await readBody(req, limits.maxJsonBytes);
        const input = parseWith(rotateTokenSchema, body.byteLength === 0 ? {} : parseJsonText(body));
        const token = newToken('cpt');
        const previousValidUntil = input.graceSeconds === 0 ? undefined : new Date(clock.wallNow().getTime() + input.graceSeconds * 1000).toISOString();
        await store.rotateCheckpointToken(name, sha256Hex(token), previousValidUntil);
        log(`api: token of checkpoint ${name} rotated (${previousValidUntil === undefined ? 'the previous one is refused at once' : `the previous one works until ${previousValidUntil}`})`);
        await hub.checkLiveness();
        sendJson(res, 200, { name, token, previousTokenValidUntil: previousValidUntil ?? null, tokenNote: 'Shown once: only its SHA-256 is stored.' });
      },
    },
    {
      // Revocation: no token opens the checkpoint until the next rotation; connected instances are cut off.
      method: 'DELETE',
      pattern: new RegExp(`^/api/v1/checkpoints/${segment}/token$`),
      access: 'admin',
      handler: async (_req, res, [name = '']) => {
        if (!(await store.revokeCheckpointTokens(name, randomBytes(16).toString('hex')))) throw notFound(`checkpoint "${name}"`);
        const disconnected = await hub.disconnect(name, 'token revoked');
        log(`api: tokens of checkpoint ${name} revoked; ${disconnected.length} instance(s) disconnected`);
        sendJson(res, 200, { name, revoked: true, disconnected });
      },
    },
    {
      method: 'DELETE',
      pattern: new RegExp(`^/api/v1/checkpoints/${segment}$`),
      access: 'admin',
      handler: async (_req, res, [name = '']) => {
        // The monitors as they were: the scheduler resolves their open alerts with the incident keys they had.
        const before = new Map((await store.listMonitors(name)).map((monitor) => [monitor.id, monitor]));
        const deleted = await store.deleteCheckpoint(name);
        if (deleted === undefined) throw notFound(`checkpoint "${name}"`);
        for (const id of deleted.monitors) await scheduler.monitorChanged(id, 'deleted', before.get(id));
        // Monitors that also run elsewhere stay, without it: their other checkpoints' agents get the new definition.
        const elsewhere = new Set<string>();
        for (const id of deleted.updated) {
          const monitor = await store.getMonitor(id);
          for (const checkpoint of monitor === undefined ? [] : checkpointsOf(monitor)) elsewhere.add(checkpoint);
          await scheduler.monitorChanged(id, 'updated', before.get(id));
        }
        for (const checkpoint of elsewhere) await hub.pushMonitors(checkpoint);
        const disconnected = await hub.disconnect(name, 'checkpoint deleted');
        const kept = deleted.updated.length === 0 ? '' : ` (${deleted.updated.length} other(s) keep running elsewhere)`;
        log(`api: checkpoint ${name} deleted with ${deleted.monitors.length} monitor(s)${kept}; ${disconnected.length} instance(s) disconnected`);
        res.writeHead(204).end();
      },
    },
    {
      method: 'DELETE',
      pattern: new RegExp(`^/api/v1/checkpoints/${segment}/instances/${segment}$`),
      access: 'admin',
      handler: async (_req, res, [name = '', id = '']) => {
        const disconnected = await hub.disconnect(name, 'instance deleted', id);
        if (!(await store.deleteInstance(name, id)) && disconnected.length === 0) throw notFound(`instance "${id}" of checkpoint "${name}"`);
        log(`api: instance ${id} of checkpoint ${name} deleted`);
        res.writeHead(204).end();
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/api/v1/runs/${segment}$`),
      access: 'admin',
      handler: async (_req, res, [runId = '']) => {
        const run = await store.getRun(runId);
        if (run === undefined) throw notFound(`run "${runId}"`);
        const stored = await store.getResult(runId);
        sendJson(res, 200, { run, result: stored?.envelope ?? null, receivedAt: stored?.receivedAt ?? null, duplicates: stored?.duplicates ?? 0 });
      },
    },
    {
      // Agents ask before uploading (docs/protocol.md): 200 when stored, 404 when not.
      method: 'HEAD',
      pattern: new RegExp(`^/api/v1/artifacts/${segment}$`),
      access: 'either',
      handler: async (_req, res, [sha256 = '']) => {
        const artifact = sha256Pattern.test(sha256) ? await store.getArtifact(sha256) : undefined;
        res.writeHead(artifact === undefined ? 404 : 200, artifact === undefined ? {} : { 'Content-Length': artifact.sizeBytes, 'Cache-Control': 'no-store' }).end();
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/api/v1/artifacts/${segment}$`),
      access: 'admin',
      handler: async (_req, res, [sha256 = '']) => {
        const artifact = sha256Pattern.test(sha256) ? await store.getArtifact(sha256) : undefined;
        if (artifact === undefined) throw notFound(`artifact "${sha256}"`);
        const inline = inlineTypes.has(artifact.contentType);
        res.writeHead(200, {
          'Content-Type': inline ? artifact.contentType : 'application/octet-stream',
          'Content-Length': artifact.sizeBytes,
          'Content-Security-Policy': "default-src 'none'; sandbox",
          'X-Content-Type-Options': 'nosniff',
          'Cache-Control': 'private, max-age=31536000, immutable',
          ...(inline ? {} : { 'Content-Disposition': `attachment; filename="${artifact.sha256}"` }),
        });
        const stream = files.open(artifact.file);
        stream.on('error', (error) => {
          log(`api: artifact ${sha256}: ${error.message}`);
          res.destroy(error);
        });
        stream.pipe(res);
      },
    },
    {
      method: 'PUT',
      pattern: new RegExp(`^/api/v1/artifacts/${segment}$`),
      access: 'agent',
      handler: async (req, res, [sha256 = '']) => {
        if (!sha256Pattern.test(sha256)) throw new ApiError(400, 'invalid-hash', 'the URL must end with the lowercase hex SHA-256 of the body', { path: 'sha256' });
        // One upload of these bytes at a time, and never beside retention removing them (artifact-files.ts).
        await files.exclusive(sha256, () => receiveArtifact(req, res, sha256));
      },
    },
    {
      method: 'POST',
      pattern: /^\/api\/v1\/results$/,
      access: 'agent',
      handler: async (req, res) => {
        const checkpoint = await auth.agent(req);
        if (checkpoint === undefined) throw new ApiError(401, 'unauthorized', 'missing or invalid token');
        const envelope = parseWith(resultEnvelopeSchema, await readJson(req, limits.maxResultBytes), 'invalid-result');
        const key = req.headers['idempotency-key'];
        if (typeof key === 'string' && key.trim() !== envelope.runId) {
          throw new ApiError(400, 'idempotency-key-mismatch', `runId: the Idempotency-Key header says "${key.trim()}", the envelope "${envelope.runId}"`, { path: 'runId' });
        }
        const run = await store.getRun(envelope.runId);
        const header = req.headers['x-checkpoint-instance'];
        const refusal = resultRefusal({ envelope, run, checkpoint: checkpoint.name, headerInstance: typeof header === 'string' ? header.trim() : undefined });
        if (refusal !== undefined || run === undefined) {
          refusedResults.set(checkpoint.name, (refusedResults.get(checkpoint.name) ?? 0) + 1);
          complaints.log(`results:${checkpoint.name}`, `api: refused a result from ${checkpoint.name}: ${refusal?.message ?? 'unknown run'}`);
          throw refusal ?? new ApiError(403, 'not-dispatched', 'unknown run');
        }
        const finish = clampedFinishedAt(envelope, run, now());
        if (finish.clamped) complaints.log(`results:${checkpoint.name}`, `api: result of run ${run.runId} says it finished at ${envelope.finishedAt}; recorded as ${finish.finishedAt}`);
        let missing = -1;
        for (const [index, artifact] of envelope.artifacts.entries()) {
          if ((await store.getArtifact(artifact.sha256)) !== undefined) continue;
          missing = index;
          break;
        }
        if (missing >= 0) {
          throw new ApiError(409, 'artifact-missing', `artifacts[${missing}].sha256: upload the artifact (PUT /api/v1/artifacts/:sha256) before the result`, {
            path: `artifacts[${missing}].sha256`,
          });
        }
        const { stored, run: settled } = await store.storeResult(envelope, checkpoint.name, now(), { finishedAt: finish.finishedAt });
        // The scheduler logs its own failures: the result is stored, so the agent gets its acknowledgement regardless.
        if (stored === 'new') await scheduler.resultStored(settled, envelope);
        else log(`api: duplicate result for run ${envelope.runId} (acknowledged again, not stored twice)`);
        const ack: ResultAck = { runId: envelope.runId, stored };
        sendJson(res, 200, ack);
      },
    },
  ];

  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://control-plane');
    const method = req.method ?? 'GET';
    try {
      let allowed: string[] = [];
      for (const route of routes) {
        const match = route.pattern.exec(url.pathname);
        if (match === null) continue;
        if (route.method !== method && !(route.method === 'GET' && method === 'HEAD')) {
          allowed.push(route.method);
          continue;
        }
        allowed = [];
        if (route.access === 'either' && !auth.admin(req) && (await auth.agent(req)) === undefined) throw new ApiError(401, 'unauthorized', 'missing or invalid token');
        if (route.access === 'admin' && !auth.admin(req)) {
          throw new ApiError(401, 'unauthorized', auth.adminTokenRequired ? 'this endpoint needs the admin token (Authorization: Bearer …)' : 'without an admin token, this endpoint answers loopback clients only');
        }
        if (route.access === 'agent' && (await auth.agent(req)) === undefined) throw new ApiError(401, 'unauthorized', 'missing or invalid token');
        if (route.access === 'metrics' && !metricsAllowed(req)) throw new ApiError(401, 'unauthorized', 'this endpoint needs the metrics token or the admin token (Authorization: Bearer …)');
        const params = match.slice(1).map((value) => decodeURIComponent(value));
        await route.handler(req, res, params, url);
        return;
      }
      if (allowed.length > 0) throw new ApiError(405, 'method-not-allowed', `${method} is not allowed here; use ${allowed.join(' or ')}`);
      throw notFound(`${url.pathname}`);
    } catch (error) {
      req.resume();
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (error instanceof ApiError) {
        sendError(res, error, error.status === 401 ? { 'WWW-Authenticate': 'Bearer' } : {});
      } else if (error instanceof ConflictError) {
        sendError(res, new ApiError(409, 'conflict', error.message));
      } else if (error instanceof URIError) {
        sendError(res, new ApiError(400, 'invalid-path', 'the URL is not correctly encoded'));
      } else {
        log(`api: ${method} ${url.pathname}: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
        sendError(res, new ApiError(500, 'internal', 'internal error; see the control-plane log'));
      }
    }
  };
}
