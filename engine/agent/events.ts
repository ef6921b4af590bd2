import type { RunStatus } from '../schema/result.ts';
import type { ConnectionEvent } from './connection.ts';
import type { UploaderEvent } from './uploader.ts';

/** Everything the agent reports about itself; agent-command prints most of it, one line each. */
export type AgentEvent =
  | ConnectionEvent
  | UploaderEvent
  | { type: 'agent-started'; instanceId: string; dataDir: string; capacity: number; privacyLock: boolean; browserVersion: string; outboxDepth: number }
  | { type: 'monitors'; count: number }
  | { type: 'run-accepted'; runId: string; monitorId: string; attempt: number }
  | { type: 'run-rejected'; runId: string; reason: string }
  | { type: 'run-started'; runId: string; monitorId: string; script: string }
  | { type: 'run-cancel'; runId: string; known: boolean }
  | { type: 'run-finished'; runId: string; status: RunStatus; durationMs: number; errorCode: string | undefined; artifacts: number; artifactsDropped: number }
  | { type: 'run-lost'; runId: string; reason: string }
  | { type: 'draining'; reason: string }
  | { type: 'drained'; outboxDepth: number; flushed: boolean };

const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;

/** One human line for an event, or undefined for events not worth a line (too chatty). */
export function describeEvent(event: AgentEvent): string | undefined {
  switch (event.type) {
    case 'agent-started':
      return `instance ${event.instanceId}: capacity ${event.capacity}, ${event.browserVersion === '' ? 'browser ready' : `Chromium ${event.browserVersion}`}, privacy lock ${event.privacyLock ? 'ON (no images are ever captured)' : 'off'}, outbox ${event.dataDir} (${event.outboxDepth} undelivered)`;
    case 'connecting':
      return undefined;
    case 'connected':
      return `connected to ${event.url}`;
    case 'welcome':
      return `welcomed by checkpoint "${event.checkpoint}" (heartbeat every ${event.heartbeatIntervalMs} ms, ${event.monitors} monitors)`;
    case 'disconnected':
      return `disconnected: ${event.reason}`;
    case 'reconnecting':
      return `reconnecting in ${event.delayMs} ms (${event.reason})`;
    case 'credential-rejected':
      return `credential rejected by the control plane (HTTP ${event.status}); not retrying — check --token`;
    case 'link-silent':
      return `no message or pong from the control plane for ${seconds(event.silentMs)}: dropping the connection`;
    case 'invalid-message':
      return `ignored an invalid message from the control plane: ${event.problem}`;
    case 'protocol-mismatch':
      return `the control plane speaks protocol ${event.theirs}, this checkpoint ${event.ours}; continuing`;
    case 'monitors':
      return `received ${event.count} monitor definitions`;
    case 'run-accepted':
      return undefined;
    case 'run-rejected':
      return `run ${event.runId} rejected: ${event.reason}`;
    case 'run-started':
      return `run ${event.runId} started (monitor ${event.monitorId}, "${event.script}")`;
    case 'run-cancel':
      return event.known ? `run ${event.runId}: cancel requested by the control plane` : `cancel for unknown run ${event.runId} ignored`;
    case 'run-finished':
      return `run ${event.runId} finished: ${event.status}${event.errorCode === undefined ? '' : ` (${event.errorCode})`} in ${Math.round(event.durationMs)} ms, ${event.artifacts} artifacts${event.artifactsDropped > 0 ? `, ${event.artifactsDropped} dropped (outbox cap)` : ''}`;
    case 'run-lost':
      return `run ${event.runId}: result could not be stored: ${event.reason}`;
    case 'delivered':
      return `run ${event.runId} delivered (${event.stored}; ${event.artifactsSent} artifacts sent, ${event.artifactsSkipped} already there)`;
    case 'upload-failed':
      return `upload of run ${event.runId} failed: ${event.reason}; retrying in ${event.retryInMs} ms`;
    case 'poisoned':
      return `run ${event.runId} refused by the control plane and kept in the outbox: ${event.reason}`;
    case 'artifact-missing':
      return `run ${event.runId}: artifact ${event.path} is unreadable (${event.reason}); sending the result without it`;
    case 'draining':
      return `draining (${event.reason}): no new runs`;
    case 'drained':
      return event.flushed ? 'drained: every result delivered' : `drained: ${event.outboxDepth} results stay in the outbox for the next start`;
  }
}
