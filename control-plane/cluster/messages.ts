import { z } from 'zod';
import { controlMessageSchema, heartbeatMessage, helloMessage, runStatusMessage } from '../../engine/index.ts';

/** An instance connected to some replica, as that replica reports it to the leader. */
const remoteInstance = z.object({
  key: z.string(),
  checkpoint: z.string(),
  id: z.string(),
  hello: helloMessage,
  lastHeartbeat: heartbeatMessage.optional(),
});
export type RemoteInstanceReport = z.infer<typeof remoteInstance>;

const monitorChange = z.enum(['created', 'updated', 'deleted']);

/**
 * What replicas tell each other over the bus (control-plane/cluster/bus.ts). Every message is checked on receipt:
 * replicas of different versions may meet during a rolling upgrade, and a message that does not parse is dropped.
 */
export const clusterMessageSchema = z.discriminatedUnion('type', [
  // replica → leader: its agents' events, and what its API received
  z.object({ type: z.literal('instance-ready'), instance: remoteInstance }),
  z.object({ type: z.literal('instance-heartbeat'), instance: remoteInstance }),
  z.object({ type: z.literal('instance-gone'), key: z.string(), reason: z.string() }),
  z.object({ type: z.literal('run-status'), key: z.string(), message: runStatusMessage }),
  z.object({ type: z.literal('result-stored'), runId: z.string() }),
  z.object({ type: z.literal('monitor-changed'), monitorId: z.string(), change: monitorChange, previousJson: z.string().optional() }),
  z.object({ type: z.literal('run-now'), monitorId: z.string(), checkpoint: z.string().optional(), requestId: z.string() }),
  // leader → one replica
  z.object({ type: z.literal('send'), key: z.string(), message: controlMessageSchema }),
  z.object({ type: z.literal('reply'), requestId: z.string(), runId: z.string().optional(), instance: z.string().optional(), checkpoint: z.string().optional() }),
  // any replica → every replica
  z.object({ type: z.literal('announce') }),
  z.object({ type: z.literal('push-monitors'), checkpoint: z.string() }),
  z.object({ type: z.literal('drain'), checkpoint: z.string(), reason: z.string(), instanceId: z.string().optional() }),
  z.object({ type: z.literal('disconnect'), checkpoint: z.string(), reason: z.string(), instanceId: z.string().optional() }),
  z.object({ type: z.literal('check-liveness') }),
]);
export type ClusterMessage = z.infer<typeof clusterMessageSchema>;
/** Messages that only the leader acts on. */
export type LeaderMessage = Extract<ClusterMessage, { type: 'instance-ready' | 'instance-heartbeat' | 'instance-gone' | 'run-status' | 'result-stored' | 'monitor-changed' | 'run-now' }>;
const leaderTypes: ReadonlySet<string> = new Set<LeaderMessage['type']>(['instance-ready', 'instance-heartbeat', 'instance-gone', 'run-status', 'result-stored', 'monitor-changed', 'run-now']);
export function isLeaderMessage(message: ClusterMessage): message is LeaderMessage {
  return leaderTypes.has(message.type);
}
