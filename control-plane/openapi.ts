import { z } from 'zod';
import { monitorDefinitionSchema, resultEnvelopeSchema, version } from '../engine/index.ts';
import {
  alertsQuerySchema,
  rotateTokenSchema,
  channelSchema,
  createCheckpointSchema,
  drainSchema,
  maintenanceWindowSchema,
  monitorAlertingSchema,
  monitorInputSchema,
  monitorsQuerySchema,
  putQuerySchema,
  runNowQuerySchema,
  runsQuerySchema,
  severitySchema,
} from './api-schemas.ts';

// Response shapes: the API's TypeScript records as zod, so the description is generated like the request side,
// and the API tests validate real answers against it (test/integration/control-plane-api.test.ts).

const iso = z.string().describe('ISO 8601 time (UTC).');

export const runRecordSchema = z.object({
  runId: z.string(),
  monitorId: z.string(),
  checkpoint: z.string(),
  attempt: z.number().int().min(1),
  instance: z.string().optional(),
  reason: z.enum(['schedule', 'retry', 'manual', 'redispatch', 'unsolicited']),
  status: z.enum(['dispatched', 'running', 'passed', 'warning', 'failed', 'error', 'lost']),
  dispatchedAt: iso,
  leaseDeadline: iso.optional(),
  finishedAt: iso.optional(),
  durationMs: z.number().optional(),
  late: z.boolean().describe('The result arrived after the run was written off, or for a run never dispatched.'),
  resultStatus: z.string().optional(),
  lostReason: z.string().optional(),
});

const healthSchema = z.enum(['ok', 'warning', 'failing']);
const checkpointStatusSchema = z.enum(['ok', 'warning', 'failing', 'checkpoint-down']);

export const monitorRecordSchema = monitorDefinitionSchema.extend({
  alerting: monitorAlertingSchema.optional(),
  health: healthSchema.describe('Alert state, the worst over its checkpoints: failing after a failure alert, until it recovers, is disabled or deleted.'),
  checkpointHealth: z.record(z.string(), healthSchema).describe('The alert state on each of its checkpoints (checkpoint name → health).'),
  createdAt: iso,
  updatedAt: iso,
  lastRun: runRecordSchema.optional(),
});

/** What GET shows: the record with its status as people read it (`checkpoint-down` rather than a stale `failing`). */
export const monitorViewSchema = monitorRecordSchema.extend({
  status: z
    .enum(['ok', 'warning', 'failing', 'checkpoint-down', 'disabled'])
    .describe('`disabled`, else the worst of `checkpointStatus` (failing, warning, checkpoint-down, ok).'),
  checkpointStatus: z.record(z.string(), checkpointStatusSchema).describe('On each checkpoint: its health there, or `checkpoint-down` while that checkpoint is down.'),
});

const deliverySchema = z.object({
  url: z.string().describe('A --webhook URL, or channel:<id>.'),
  channel: z.string().optional(),
  delivered: z.boolean(),
  attempts: z.number().int(),
  status: z.number().int().optional(),
  error: z.string().optional(),
});

export const alertRecordSchema = z.object({
  id: z.number().int(),
  kind: z.enum(['monitor-failed', 'monitor-warning', 'monitor-reminder', 'monitor-recovered', 'monitor-resolved', 'checkpoint-down', 'checkpoint-up']),
  monitorId: z.string().optional(),
  checkpoint: z.string().optional(),
  runId: z.string().optional(),
  createdAt: iso,
  message: z.string(),
  severity: severitySchema,
  deliveries: z.array(deliverySchema),
});

const instanceStatusSchema = z.object({
  id: z.string(),
  online: z.boolean(),
  version: z.string(),
  browserVersion: z.string().optional(),
  capacity: z.number().int(),
  running: z.number().int(),
  load: z.number(),
  draining: z.boolean(),
  privacyLock: z.boolean(),
  outboxDepth: z.number().int(),
  lastSeen: iso,
});

const checkpointViewSchema = z.object({
  name: z.string(),
  createdAt: iso,
  health: z.enum(['unknown', 'up', 'down']),
  online: z.number().int(),
  instances: z.array(instanceStatusSchema),
  refusedResults: z.number().int().min(0).describe('Results refused since the control plane started: for runs never dispatched to the sending instance, or forged.'),
});

const errorSchema = z.object({
  error: z.object({
    code: z.string().describe('Stable, kebab-case: invalid-request, unknown-parameter, unknown-variable, not-found, …'),
    message: z.string().describe('`path: what was expected`'),
    path: z.string().optional(),
    problems: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  }),
});

const dryRunSchema = z.object({
  dryRun: z.literal(true),
  outcome: z.enum(['created', 'changed', 'unchanged']),
  changes: z.array(z.string()).describe('Top-level fields that would change.'),
  monitor: z.unknown().optional(),
  channel: z.unknown().optional(),
  maintenanceWindow: z.unknown().optional(),
});

const clusterStatusSchema = z.object({
  mode: z.enum(['single', 'cluster']).describe('`single`: SQLite, one process. `cluster`: replicas sharing a PostgreSQL database (docs/scaling.md).'),
  replica: z.string().optional().describe('The replica that answered.'),
  leader: z.string().optional().describe('The replica that schedules, dispatches and alerts now; absent during a takeover.'),
  replicas: z.array(
    z.object({
      id: z.string(),
      startedAt: iso,
      lastSeen: iso,
      alive: z.boolean().describe('Seen within three refresh periods (a third of the leader lease each).'),
      leading: z.boolean(),
      url: z.string().optional(),
    }),
  ),
});

/** Every schema the document names, and whether it describes what is sent (input) or answered (output). */
const components: Record<string, { schema: z.ZodType; io: 'input' | 'output' }> = {
  MonitorInput: { schema: monitorInputSchema, io: 'input' },
  MonitorPatch: {
    schema: z.record(z.string(), z.unknown()).describe('A JSON merge patch (RFC 7386) of MonitorInput: given fields replace, objects merge, null removes. The result must be a valid MonitorInput.'),
    io: 'input',
  },
  Monitor: { schema: monitorRecordSchema, io: 'output' },
  MonitorView: { schema: monitorViewSchema, io: 'output' },
  MonitorList: { schema: z.object({ monitors: z.array(monitorViewSchema) }), io: 'output' },
  Run: { schema: runRecordSchema, io: 'output' },
  RunList: { schema: z.object({ runs: z.array(runRecordSchema) }), io: 'output' },
  RunWithResult: { schema: z.object({ run: runRecordSchema, result: resultEnvelopeSchema.nullable(), receivedAt: iso.nullable(), duplicates: z.number().int() }), io: 'output' },
  RunDispatched: {
    schema: z.object({ runId: z.string(), monitorId: z.string(), checkpoint: z.string().describe('The checkpoint it was sent to.'), instance: z.string(), attempt: z.number().int(), reason: z.literal('manual') }),
    io: 'output',
  },
  Alert: { schema: alertRecordSchema, io: 'output' },
  AlertList: { schema: z.object({ alerts: z.array(alertRecordSchema) }), io: 'output' },
  ClusterStatus: { schema: clusterStatusSchema, io: 'output' },
  CheckpointInput: { schema: createCheckpointSchema, io: 'input' },
  Checkpoint: { schema: checkpointViewSchema, io: 'output' },
  CheckpointCreated: { schema: z.object({ name: z.string(), createdAt: iso, health: z.string(), token: z.string(), tokenNote: z.string() }), io: 'output' },
  CheckpointList: { schema: z.object({ checkpoints: z.array(checkpointViewSchema) }), io: 'output' },
  DrainInput: { schema: drainSchema, io: 'input' },
  TokenRotation: { schema: rotateTokenSchema, io: 'input' },
  TokenRotated: {
    schema: z.object({ name: z.string(), token: z.string(), previousTokenValidUntil: iso.nullable(), tokenNote: z.string() }),
    io: 'output',
  },
  TokenRevoked: { schema: z.object({ name: z.string(), revoked: z.literal(true), disconnected: z.array(z.string()) }), io: 'output' },
  Channel: { schema: channelSchema, io: 'input' },
  ChannelList: { schema: z.object({ channels: z.array(channelSchema) }), io: 'input' },
  MaintenanceWindow: { schema: maintenanceWindowSchema, io: 'input' },
  MaintenanceWindowList: { schema: z.object({ maintenanceWindows: z.array(maintenanceWindowSchema) }), io: 'input' },
  DryRun: { schema: dryRunSchema, io: 'output' },
  MonitorOrDryRun: { schema: z.union([monitorRecordSchema, dryRunSchema]), io: 'output' },
  ChannelOrDryRun: { schema: z.union([channelSchema, dryRunSchema]), io: 'input' },
  MaintenanceWindowOrDryRun: { schema: z.union([maintenanceWindowSchema, dryRunSchema]), io: 'input' },
  Error: { schema: errorSchema, io: 'output' },
};

type Security = 'admin' | 'agent' | 'metrics' | 'none';

interface Operation {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete' | 'head';
  path: string;
  summary: string;
  tag: string;
  security: Security;
  query?: z.ZodObject;
  body?: string;
  bodyType?: string;
  /** status → component name, or a description for bodiless answers. */
  responses: Record<string, string>;
}

const ok = (component: string) => ({ '200': component });
const monitorId = '{id}';

const operations: Operation[] = [
  { method: 'get', path: '/api/v1/cluster', summary: 'The control-plane replicas sharing the database and which one leads', tag: 'checkpoints', security: 'admin', responses: ok('ClusterStatus') },
  { method: 'get', path: '/api/v1/checkpoints', summary: 'List checkpoints with their instances', tag: 'checkpoints', security: 'admin', responses: ok('CheckpointList') },
  { method: 'post', path: '/api/v1/checkpoints', summary: 'Create a checkpoint; its token is shown once', tag: 'checkpoints', security: 'admin', body: 'CheckpointInput', responses: { '201': 'CheckpointCreated', '409': 'Error' } },
  { method: 'get', path: '/api/v1/checkpoints/{name}', summary: 'One checkpoint', tag: 'checkpoints', security: 'admin', responses: { ...ok('Checkpoint'), '404': 'Error' } },
  { method: 'post', path: '/api/v1/checkpoints/{name}/drain', summary: 'Ask instances to drain', tag: 'checkpoints', security: 'admin', body: 'DrainInput', responses: { '202': 'the instances asked' } },
  {
    method: 'post',
    path: '/api/v1/checkpoints/{name}/token',
    summary: 'Rotate the checkpoint token: a new one, shown once; the previous one works for graceSeconds',
    tag: 'checkpoints',
    security: 'admin',
    body: 'TokenRotation',
    responses: { ...ok('TokenRotated'), '404': 'Error' },
  },
  { method: 'delete', path: '/api/v1/checkpoints/{name}/token', summary: 'Revoke every token of the checkpoint and disconnect its instances', tag: 'checkpoints', security: 'admin', responses: { ...ok('TokenRevoked'), '404': 'Error' } },
  { method: 'delete', path: '/api/v1/checkpoints/{name}', summary: 'Delete a checkpoint with the monitors that run only there (the others lose it from `checkpoints`); its instances are disconnected', tag: 'checkpoints', security: 'admin', responses: { '204': 'deleted', '404': 'Error' } },
  { method: 'delete', path: '/api/v1/checkpoints/{name}/instances/{id}', summary: 'Forget an instance (disconnected if online)', tag: 'checkpoints', security: 'admin', responses: { '204': 'deleted', '404': 'Error' } },
  { method: 'get', path: '/api/v1/monitors', summary: 'List monitors with their last run', tag: 'monitors', security: 'admin', query: monitorsQuerySchema, responses: ok('MonitorList') },
  { method: 'post', path: '/api/v1/monitors', summary: 'Create a monitor (id generated when absent)', tag: 'monitors', security: 'admin', body: 'MonitorInput', responses: { '201': 'Monitor', '400': 'Error', '409': 'Error' } },
  { method: 'get', path: `/api/v1/monitors/${monitorId}`, summary: 'One monitor; the body can be PUT back unchanged', tag: 'monitors', security: 'admin', responses: { ...ok('MonitorView'), '404': 'Error' } },
  {
    method: 'put',
    path: `/api/v1/monitors/${monitorId}`,
    summary: 'Create or replace a monitor (idempotent); ?dryRun=true answers DryRun and stores nothing',
    tag: 'monitors',
    security: 'admin',
    query: putQuerySchema,
    body: 'MonitorInput',
    responses: { '200': 'MonitorOrDryRun', '201': 'Monitor', '400': 'Error' },
  },
  {
    method: 'patch',
    path: `/api/v1/monitors/${monitorId}`,
    summary: 'Update some fields (JSON merge patch, RFC 7386: null removes a field)',
    tag: 'monitors',
    security: 'admin',
    query: putQuerySchema,
    body: 'MonitorPatch',
    bodyType: 'application/merge-patch+json',
    responses: { '200': 'MonitorOrDryRun', '400': 'Error', '404': 'Error' },
  },
  { method: 'delete', path: `/api/v1/monitors/${monitorId}`, summary: 'Delete a monitor (an open alert is resolved)', tag: 'monitors', security: 'admin', responses: { '204': 'deleted', '404': 'Error' } },
  {
    method: 'post',
    path: `/api/v1/monitors/${monitorId}/run`,
    summary: 'Run now, on one of its checkpoints (?checkpoint=) or the first with a free instance; 409 when none has one',
    tag: 'monitors',
    security: 'admin',
    query: runNowQuerySchema,
    responses: { '202': 'RunDispatched', '400': 'Error', '404': 'Error', '409': 'Error' },
  },
  { method: 'get', path: `/api/v1/monitors/${monitorId}/runs`, summary: 'Runs of a monitor, newest first', tag: 'runs', security: 'admin', query: runsQuerySchema.omit({ monitor: true }), responses: { ...ok('RunList'), '400': 'Error' } },
  { method: 'get', path: '/api/v1/runs', summary: 'Runs, newest first, filtered', tag: 'runs', security: 'admin', query: runsQuerySchema, responses: { ...ok('RunList'), '400': 'Error' } },
  { method: 'get', path: '/api/v1/runs/{runId}', summary: 'A run and its result', tag: 'runs', security: 'admin', responses: { ...ok('RunWithResult'), '404': 'Error' } },
  { method: 'get', path: '/api/v1/alerts', summary: 'Alerts, newest first', tag: 'alerts', security: 'admin', query: alertsQuerySchema, responses: { ...ok('AlertList'), '400': 'Error' } },
  { method: 'get', path: '/api/v1/channels', summary: 'Notification channels (plain-text secrets shown as "(redacted)")', tag: 'alerts', security: 'admin', responses: ok('ChannelList') },
  { method: 'get', path: '/api/v1/channels/{id}', summary: 'One channel', tag: 'alerts', security: 'admin', responses: { ...ok('Channel'), '404': 'Error' } },
  {
    method: 'put',
    path: '/api/v1/channels/{id}',
    summary: 'Create or replace a channel; "(redacted)" keeps the stored secret',
    tag: 'alerts',
    security: 'admin',
    query: putQuerySchema,
    body: 'Channel',
    responses: { '200': 'ChannelOrDryRun', '201': 'Channel', '400': 'Error' },
  },
  { method: 'delete', path: '/api/v1/channels/{id}', summary: 'Delete a channel no monitor names', tag: 'alerts', security: 'admin', responses: { '204': 'deleted', '409': 'Error' } },
  { method: 'get', path: '/api/v1/maintenance-windows', summary: 'Maintenance windows', tag: 'alerts', security: 'admin', responses: ok('MaintenanceWindowList') },
  { method: 'get', path: '/api/v1/maintenance-windows/{id}', summary: 'One maintenance window', tag: 'alerts', security: 'admin', responses: { ...ok('MaintenanceWindow'), '404': 'Error' } },
  {
    method: 'put',
    path: '/api/v1/maintenance-windows/{id}',
    summary: 'Create or replace a maintenance window',
    tag: 'alerts',
    security: 'admin',
    query: putQuerySchema,
    body: 'MaintenanceWindow',
    responses: { '200': 'MaintenanceWindowOrDryRun', '201': 'MaintenanceWindow', '400': 'Error' },
  },
  { method: 'delete', path: '/api/v1/maintenance-windows/{id}', summary: 'Delete a maintenance window', tag: 'alerts', security: 'admin', responses: { '204': 'deleted', '404': 'Error' } },
  { method: 'get', path: '/metrics', summary: 'Prometheus metrics (text format 0.0.4)', tag: 'metrics', security: 'metrics', responses: { '200': 'text/plain' } },
  { method: 'get', path: '/api/openapi.json', summary: 'This document', tag: 'meta', security: 'none', responses: { '200': 'OpenAPI 3.1 document' } },
];

type Json = Record<string, unknown>;

/** A zod schema as JSON Schema 2020-12 (OpenAPI 3.1's dialect), its `$defs` hoisted into the components. */
function jsonSchema(name: string, schema: z.ZodType, io: 'input' | 'output', hoisted: Json): Json {
  const generated = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Json;
  const { $schema: _dialect, $defs, ...rest } = generated;
  // `#/$defs/x` would resolve against the OpenAPI document's root: point it at the hoisted copy instead.
  const rewrite = (value: Json): Json => JSON.parse(JSON.stringify(value).replace(/"#\/\$defs\/([^"]+)"/g, (_all, def: string) => `"#/components/schemas/${name}_${def}"`)) as Json;
  for (const [def, body] of Object.entries(($defs ?? {}) as Record<string, Json>)) hoisted[`${name}_${def}`] = rewrite(body);
  return rewrite(rest);
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

function parameters(operation: Operation, hoisted: Json): Json[] {
  const inPath = [...operation.path.matchAll(/\{([^}]+)\}/g)].map((match) => ({ name: match[1], in: 'path', required: true, schema: { type: 'string' } }));
  const inQuery = Object.entries(operation.query?.shape ?? {}).map(([key, schema]) => {
    const described = jsonSchema(`query_${key}`, schema as z.ZodType, 'input', hoisted);
    const { description, ...rest } = described;
    return { name: key, in: 'query', required: false, schema: rest, ...(typeof description === 'string' ? { description } : {}) };
  });
  return [...inPath, ...inQuery];
}

let cached: Json | undefined;

/** The OpenAPI 3.1 description served at /api/openapi.json. */
export function openApiDocument(): Json {
  if (cached !== undefined) return cached;
  const schemas: Json = {};
  const hoisted: Json = {};
  for (const [name, { schema, io }] of Object.entries(components)) schemas[name] = jsonSchema(name, schema, io, hoisted);
  const paths: Record<string, Json> = {};
  for (const operation of operations) {
    const responses: Json = {};
    for (const [status, answer] of Object.entries(operation.responses)) {
      if (answer in components) responses[status] = { description: answer, content: { 'application/json': { schema: ref(answer) } } };
      else if (answer === 'text/plain') responses[status] = { description: 'Prometheus text', content: { 'text/plain': { schema: { type: 'string' } } } };
      else responses[status] = { description: answer };
    }
    if (operation.security !== 'none') responses['401'] = { description: 'missing or wrong token', content: { 'application/json': { schema: ref('Error') } } };
    const entry: Json = {
      summary: operation.summary,
      tags: [operation.tag],
      operationId: `${operation.method}${operation.path.replace(/\{([^}]+)\}/g, 'By-$1').replace(/[^A-Za-z0-9]+(.)?/g, (_all, next: string | undefined) => (next ?? '').toUpperCase())}`,
      security: operation.security === 'none' ? [] : operation.security === 'metrics' ? [{ admin: [] }, { metrics: [] }] : [{ [operation.security]: [] }],
      parameters: parameters(operation, hoisted),
      responses,
    };
    if (operation.body !== undefined) entry['requestBody'] = { required: true, content: { [operation.bodyType ?? 'application/json']: { schema: ref(operation.body) } } };
    paths[operation.path] = { ...paths[operation.path], [operation.method]: entry };
  }
  cached = {
    openapi: '3.1.0',
    info: {
      title: 'Private checkpoint control plane',
      version,
      description: 'The reference control plane`s REST API: docs/api.md. Errors are `{ error: { code, message, path } }`; an unknown query parameter is a 400 naming it.',
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    servers: [{ url: '/' }],
    tags: ['checkpoints', 'monitors', 'runs', 'alerts', 'metrics', 'meta'].map((name) => ({ name })),
    paths,
    components: {
      schemas: { ...schemas, ...hoisted },
      securitySchemes: {
        admin: { type: 'http', scheme: 'bearer', description: 'The admin token (--admin-token / CHECKPOINT_ADMIN_TOKEN).' },
        agent: { type: 'http', scheme: 'bearer', description: 'A checkpoint token.' },
        metrics: { type: 'http', scheme: 'bearer', description: 'The metrics token (--metrics-token / CHECKPOINT_METRICS_TOKEN): reads /metrics only.' },
      },
    },
  };
  return cached;
}
