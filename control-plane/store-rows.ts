import type { CheckpointHealth, MonitorHealth } from './dispatch-policy.ts';
import type { AlertKind, AlertRecord, CheckpointRecord, InstanceRecord, MonitorRecord, RunReason, RunRecord, RunState, WebhookDelivery } from './store.ts';
import type { MonitorAlerting, Severity } from './api-schemas.ts';
import type { MonitorDefinition } from '../engine/index.ts';
import { worstHealth } from './monitor-status.ts';

/** One row as a driver returns it (SQLite and PostgreSQL share the column names and the mapping below). */
export type Row = Record<string, unknown>;

export function text(row: Row, column: string): string {
  const value = row[column];
  if (typeof value !== 'string') throw new Error(`column ${column}: expected text, got ${typeof value}`);
  return value;
}

export function optionalText(row: Row, column: string): string | undefined {
  const value = row[column];
  return typeof value === 'string' ? value : undefined;
}

export function num(row: Row, column: string): number {
  const value = row[column];
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  throw new Error(`column ${column}: expected a number, got ${typeof value}`);
}

export function optionalNumber(row: Row, column: string): number | undefined {
  const value = row[column];
  return typeof value === 'number' ? value : typeof value === 'bigint' ? Number(value) : undefined;
}

/** Copy `value` into `target[key]` only when defined (exactOptionalPropertyTypes). */
export function setDefined<T extends object, K extends keyof T>(target: T, key: K, value: T[K] | undefined): void {
  if (value !== undefined) target[key] = value;
}

export function toCheckpoint(row: Row): CheckpointRecord {
  return { name: text(row, 'name'), createdAt: text(row, 'created_at'), health: text(row, 'health') as CheckpointHealth };
}

export function toInstance(row: Row): InstanceRecord {
  const instance: InstanceRecord = {
    checkpoint: text(row, 'checkpoint'),
    id: text(row, 'id'),
    version: text(row, 'version'),
    capacity: num(row, 'capacity'),
    privacyLock: num(row, 'privacy_lock') === 1,
    connected: num(row, 'connected') === 1,
    draining: num(row, 'draining') === 1,
    firstSeen: text(row, 'first_seen'),
    lastSeen: text(row, 'last_seen'),
    running: num(row, 'running'),
    load: num(row, 'load'),
    outboxDepth: num(row, 'outbox_depth'),
  };
  setDefined(instance, 'browserVersion', optionalText(row, 'browser_version'));
  setDefined(instance, 'startedAt', optionalText(row, 'started_at'));
  return instance;
}

/**
 * A monitor row and the rows of its `monitor_states` (per checkpoint; none until a result changes one). `health`
 * is the worst of them.
 */
export function toMonitor(row: Row, states: readonly Row[] = []): MonitorRecord {
  const checkpoint = text(row, 'checkpoint');
  const list = optionalText(row, 'checkpoints');
  const checkpoints = list === undefined ? undefined : (JSON.parse(list) as string[]);
  const stated = new Map(states.map((state) => [text(state, 'checkpoint'), text(state, 'health') as MonitorHealth]));
  const checkpointHealth: Record<string, MonitorHealth> = {};
  for (const name of checkpoints ?? [checkpoint]) checkpointHealth[name] = stated.get(name) ?? 'ok';
  const monitor: MonitorRecord = {
    id: text(row, 'id'),
    name: text(row, 'name'),
    checkpoint,
    ...(checkpoints === undefined ? {} : { checkpoints }),
    intervalSeconds: num(row, 'interval_seconds'),
    enabled: num(row, 'enabled') === 1,
    script: JSON.parse(text(row, 'script')) as MonitorDefinition['script'],
    health: worstHealth(Object.values(checkpointHealth)),
    checkpointHealth,
    createdAt: text(row, 'created_at'),
    updatedAt: text(row, 'updated_at'),
  };
  const placement = optionalText(row, 'placement');
  if (placement === 'all' || placement === 'round-robin') monitor.placement = placement;
  const variables = optionalText(row, 'variables');
  if (variables !== undefined) monitor.variables = JSON.parse(variables) as Record<string, string>;
  const capture = optionalText(row, 'capture');
  if (capture !== undefined) monitor.capture = JSON.parse(capture) as NonNullable<MonitorDefinition['capture']>;
  if (num(row, 'alert_on_warning') === 1) monitor.alertOnWarning = true;
  const alerting = optionalText(row, 'alerting');
  if (alerting !== undefined) monitor.alerting = JSON.parse(alerting) as MonitorAlerting;
  return monitor;
}

export function toRun(row: Row): RunRecord {
  const run: RunRecord = {
    runId: text(row, 'run_id'),
    monitorId: text(row, 'monitor_id'),
    checkpoint: text(row, 'checkpoint'),
    attempt: num(row, 'attempt'),
    reason: text(row, 'reason') as RunReason,
    status: text(row, 'status') as RunState,
    dispatchedAt: text(row, 'dispatched_at'),
    late: num(row, 'late') === 1,
  };
  setDefined(run, 'instance', optionalText(row, 'instance'));
  setDefined(run, 'leaseDeadline', optionalText(row, 'lease_deadline'));
  setDefined(run, 'finishedAt', optionalText(row, 'finished_at'));
  setDefined(run, 'durationMs', optionalNumber(row, 'duration_ms'));
  setDefined(run, 'resultStatus', optionalText(row, 'result_status'));
  setDefined(run, 'lostReason', optionalText(row, 'lost_reason'));
  return run;
}

export function toAlert(row: Row): AlertRecord {
  const alert: AlertRecord = {
    id: num(row, 'id'),
    kind: text(row, 'kind') as AlertKind,
    createdAt: text(row, 'created_at'),
    message: text(row, 'message'),
    severity: text(row, 'severity') as Severity,
    deliveries: JSON.parse(text(row, 'deliveries')) as WebhookDelivery[],
  };
  setDefined(alert, 'monitorId', optionalText(row, 'monitor_id'));
  setDefined(alert, 'checkpoint', optionalText(row, 'checkpoint'));
  setDefined(alert, 'runId', optionalText(row, 'run_id'));
  return alert;
}

export function jsonOrNull(value: unknown): string | null {
  return value === undefined ? null : JSON.stringify(value);
}

/**
 * A monitor definition as the values of the `monitors` columns name, checkpoint, checkpoints, placement,
 * interval_seconds, enabled, script, variables, capture, alert_on_warning, alerting (in that order), for both
 * stores' INSERT and UPDATE.
 */
export function monitorColumnValues(definition: MonitorDefinition & { alerting?: MonitorAlerting }): (string | number | null)[] {
  return [
    definition.name,
    definition.checkpoint,
    jsonOrNull(definition.checkpoints),
    definition.placement ?? null,
    definition.intervalSeconds,
    definition.enabled ? 1 : 0,
    JSON.stringify(definition.script),
    jsonOrNull(definition.variables),
    jsonOrNull(definition.capture),
    definition.alertOnWarning === true ? 1 : 0,
    jsonOrNull(definition.alerting),
  ];
}

/** Monitor rows with their `monitor_states` rows (all of them, read in one query), as records. */
export function toMonitors(rows: readonly Row[], stateRows: readonly Row[]): MonitorRecord[] {
  const states = Map.groupBy(stateRows, (state) => text(state, 'monitor_id'));
  return rows.map((row) => toMonitor(row, states.get(text(row, 'id'))));
}
