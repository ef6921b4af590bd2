import { z } from 'zod';
import { captureModeSchema, monitorScriptSchema } from './script.ts';
import { resultSchema } from './result.ts';

/**
 * The checkpoint ↔ control-plane protocol, version 1. One contract for both sides: every message is
 * validated with these schemas when it is received. Documented in docs/protocol.md.
 *
 * Transport: the checkpoint instance opens ONE outbound WebSocket to `<control plane>/api/v1/agent` with
 * `Authorization: Bearer <token>` and `X-Checkpoint-Instance: <instanceId>`. Commands come down it; status
 * and heartbeats go up it. Results and artifacts go over HTTPS POST (see the REST paths below), artifacts
 * first, the result last, with the run id as idempotency key. Nothing ever connects into the checkpoint.
 */
export const protocolVersion = 1;

const id = z.string().min(1).max(200);
const isoTime = z.string().min(1).max(64);

/**
 * The one rule for a checkpoint instance id, on both sides of the link: the agent checks `--instance-id` and
 * the id file with it, the hub the `X-Checkpoint-Instance` header, and the messages carry it. Ids appear in
 * file paths, HTTP headers and results, so they stay plain: a letter or digit first, then letters, digits,
 * `.`, `_` or `-`, at most 128 characters.
 */
export const instanceIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'expected a letter or digit, then letters, digits, ".", "_" or "-" (at most 128 characters)')
  .describe('Checkpoint instance id: `[A-Za-z0-9][A-Za-z0-9._-]{0,127}`.');

/** True when `text` is a valid instance id (see `instanceIdSchema`). */
export function isInstanceId(text: string): boolean {
  return instanceIdSchema.safeParse(text).success;
}

export const captureRequestSchema = z
  .object({
    screenshots: captureModeSchema.optional(),
    filmstrip: z.boolean().optional(),
    har: z.boolean().optional(),
  })
  .describe('What the control plane asks to capture. The checkpoint`s privacy lock overrides it.');
export type CaptureRequestMessage = z.infer<typeof captureRequestSchema>;

export const monitorDefinitionSchema = z.object({
  id,
  name: z.string().min(1).max(200),
  checkpoint: z.string().min(1).max(200).describe('Name of the private location (checkpoint) that runs it; with `checkpoints`, the first of them.'),
  checkpoints: z
    .array(z.string().min(1).max(200))
    .min(2)
    .max(20)
    .optional()
    .describe('Every checkpoint it runs on, when more than one (internal and external, several sites); `checkpoint` is the first of them.'),
  placement: z
    .enum(['all', 'round-robin'])
    .optional()
    .describe('With `checkpoints`: run each interval on every one of them (`all`, the default) or on the next one in turn (`round-robin`).'),
  intervalSeconds: z.number().int().min(10).max(86_400),
  enabled: z.boolean(),
  script: monitorScriptSchema.describe('The script of any kind: a browser transaction (default), an API monitor, an HTTP request or an infrastructure check.'),
  variables: z.record(z.string(), z.string()).optional(),
  capture: captureRequestSchema.optional(),
  alertOnWarning: z
    .boolean()
    .optional()
    .describe('Alert when a run breaches a warning condition (status `warning`), not only when it fails. Default false.'),
});
export type MonitorDefinition = z.infer<typeof monitorDefinitionSchema>;

// ---- checkpoint → control plane (WebSocket) ----

export const helloMessage = z.object({
  type: z.literal('hello'),
  protocolVersion: z.number().int(),
  instanceId: instanceIdSchema,
  version: z.string().describe('Checkpoint software version.'),
  browserVersion: z.string().optional(),
  capacity: z.number().int().min(0).describe('Browser transactions the instance takes at once.'),
  checkCapacity: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe('Non-browser checks (API, HTTP, infrastructure) the instance takes at once, in their own lane; absent: the instance runs no checks.'),
  privacyLock: z.boolean().describe('True when this instance never captures images, whatever it is asked.'),
  startedAt: isoTime,
});

export const heartbeatMessage = z.object({
  type: z.literal('heartbeat'),
  sentAt: isoTime,
  running: z.array(id).describe('Run ids in progress.'),
  freeSlots: z.number().int().min(0),
  queued: z.number().int().min(0),
  outboxDepth: z.number().int().min(0),
  outboxOldestAgeMs: z.number().min(0),
  draining: z.boolean(),
});

export const runStatusMessage = z.object({
  type: z.literal('run-status'),
  runId: id,
  status: z.enum(['accepted', 'started', 'rejected', 'finished', 'aborted']),
  reason: z.string().max(2000).optional(),
});

export const agentMessageSchema = z.discriminatedUnion('type', [helloMessage, heartbeatMessage, runStatusMessage]);
export type AgentMessage = z.infer<typeof agentMessageSchema>;

// ---- control plane → checkpoint (WebSocket) ----

export const welcomeMessage = z.object({
  type: z.literal('welcome'),
  protocolVersion: z.number().int(),
  checkpoint: z.string().describe('Name of the checkpoint this token belongs to.'),
  heartbeatIntervalMs: z.number().int().min(100).max(600_000),
  monitors: z.array(monitorDefinitionSchema),
});

export const monitorsMessage = z.object({
  type: z.literal('monitors'),
  monitors: z.array(monitorDefinitionSchema).describe('The full current set of definitions for this checkpoint.'),
});

export const runCommandMessage = z.object({
  type: z.literal('run'),
  runId: id.describe('Minted by the control plane; the idempotency key of the result.'),
  monitorId: id,
  attempt: z.number().int().min(1),
  reason: z.enum(['schedule', 'retry', 'manual', 'redispatch']),
  /** The definition as it was when dispatched, so a run never mixes two versions of a monitor. */
  monitor: monitorDefinitionSchema,
});

export const cancelMessage = z.object({ type: z.literal('cancel'), runId: id });
export const drainMessage = z.object({ type: z.literal('drain'), reason: z.string().max(500).optional() });

export const controlMessageSchema = z.discriminatedUnion('type', [welcomeMessage, monitorsMessage, runCommandMessage, cancelMessage, drainMessage]);
export type ControlMessage = z.infer<typeof controlMessageSchema>;
export type RunCommand = z.infer<typeof runCommandMessage>;

// ---- HTTPS ----

/** REST paths of the control plane used by checkpoints (all `Authorization: Bearer <token>`). */
export const agentPaths = {
  websocket: '/api/v1/agent',
  /** PUT raw bytes; `:sha256` is the lowercase hex SHA-256 of the body (content-addressed, idempotent). */
  artifact: (sha256: string) => `/api/v1/artifacts/${sha256}`,
  /** POST a resultEnvelope; header `Idempotency-Key: <runId>`. */
  results: '/api/v1/results',
} as const;

export const artifactRefSchema = z.object({
  path: z.string().describe('Path as named in result.artifacts.'),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  contentType: z.string(),
  sizeBytes: z.number().int().min(0),
});

export const resultEnvelopeSchema = z.object({
  runId: id,
  monitorId: id,
  attempt: z.number().int().min(1),
  instanceId: instanceIdSchema,
  finishedAt: isoTime,
  result: resultSchema,
  artifacts: z.array(artifactRefSchema).describe('Every artifact the result refers to, uploaded before this envelope.'),
  artifactsDropped: z.number().int().min(0).optional().describe('Artifacts the outbox had to drop to stay under its cap.'),
});
export type ResultEnvelope = z.infer<typeof resultEnvelopeSchema>;

export const resultAckSchema = z.object({
  runId: id,
  stored: z.enum(['new', 'duplicate']),
});
export type ResultAck = z.infer<typeof resultAckSchema>;
