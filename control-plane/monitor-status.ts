import type { CheckpointHealth, MonitorHealth } from './dispatch-policy.ts';
import { checkpointsOf } from './monitor-definition.ts';
import type { CheckpointRecord, MonitorRecord } from './store.ts';

/**
 * What a monitor's state means to the people looking at it, on each of its checkpoints: its health there, unless
 * that checkpoint is down; then nothing is known about the application from there, and `checkpoint-down` says so
 * instead of a stale `failing` (the checkpoint's own alert is the one raised).
 */
export type CheckpointMonitorStatus = MonitorHealth | 'checkpoint-down';
export type MonitorStatus = CheckpointMonitorStatus | 'disabled';

/** Worst first: a failure anywhere is the news; a checkpoint down hides less than a warning shows. */
const rank: Record<CheckpointMonitorStatus, number> = { failing: 3, warning: 2, 'checkpoint-down': 1, ok: 0 };

export function checkpointStatuses(monitor: Pick<MonitorRecord, 'checkpoint' | 'checkpoints' | 'checkpointHealth'>, checkpoints: ReadonlyMap<string, CheckpointHealth>): Record<string, CheckpointMonitorStatus> {
  const statuses: Record<string, CheckpointMonitorStatus> = {};
  for (const name of checkpointsOf(monitor)) statuses[name] = checkpoints.get(name) === 'down' ? 'checkpoint-down' : (monitor.checkpointHealth[name] ?? 'ok');
  return statuses;
}

/** One word for the whole monitor: `disabled`, else the worst of its checkpoints' statuses. */
export function monitorStatus(monitor: Pick<MonitorRecord, 'enabled' | 'checkpoint' | 'checkpoints' | 'checkpointHealth'>, checkpoints: ReadonlyMap<string, CheckpointHealth>): MonitorStatus {
  if (!monitor.enabled) return 'disabled';
  let worst: CheckpointMonitorStatus = 'ok';
  for (const status of Object.values(checkpointStatuses(monitor, checkpoints))) if (rank[status] > rank[worst]) worst = status;
  return worst;
}

/** Checkpoint name → health, for the functions above. */
export function checkpointHealthMap(records: readonly CheckpointRecord[]): Map<string, CheckpointHealth> {
  return new Map(records.map((record) => [record.name, record.health]));
}

/** The worst of several healths (a monitor's, over its checkpoints). */
export function worstHealth(healths: Iterable<MonitorHealth>): MonitorHealth {
  let worst: MonitorHealth = 'ok';
  for (const health of healths) if (health === 'failing' || (health === 'warning' && worst === 'ok')) worst = health;
  return worst;
}
