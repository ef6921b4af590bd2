/**
 * The control plane's decisions, as pure functions of state and time: which instance runs a check, whether a
 * result is retried, confirmed as an alert or a recovery, when a run counts as lost, and when a checkpoint is
 * down. No I/O and no timers: the caller passes `nowMs` from its Clock, so every rule is testable with a fake
 * clock.
 */

/** What the scheduler knows about one connected (or recently connected) checkpoint instance. */
export interface InstanceView {
  /** Unique within the control plane (checkpoint + instance id). */
  key: string;
  connected: boolean;
  /** Has said hello: capacity and privacy lock are known. */
  ready: boolean;
  draining: boolean;
  /** Runs the instance takes at once (from hello). */
  capacity: number;
  /** Runs in progress: the union of the instance's last heartbeat and the runs dispatched to it and not yet answered. */
  running: number;
  /** When this control plane last dispatched to it (monotonic ms), for round-robin among equals. */
  lastDispatchedAtMs?: number;
}

/** Load as a fraction of capacity: 0 is idle, 1 is full. An instance without capacity counts as full. */
export function instanceLoad(instance: Pick<InstanceView, 'capacity' | 'running'>): number {
  if (instance.capacity <= 0) return Number.POSITIVE_INFINITY;
  return instance.running / instance.capacity;
}

/** True when the instance may be given one more run: connected, greeted, not draining, below capacity. */
export function canTakeRun(instance: InstanceView): boolean {
  return instance.connected && instance.ready && !instance.draining && instance.running < instance.capacity;
}

/**
 * The instance that should run the next check: the least loaded of those that can take a run. `avoid` (the
 * instance whose result is being confirmed) is skipped when any other instance can take the run, and used
 * when it is the only one. Ties go to the instance dispatched to least recently, then to the lowest key, so
 * equal instances share the work.
 */
export function chooseInstance(instances: readonly InstanceView[], options: { avoid?: string } = {}): string | undefined {
  const eligible = instances.filter(canTakeRun);
  const others = options.avoid === undefined ? eligible : eligible.filter((instance) => instance.key !== options.avoid);
  const pool = others.length > 0 ? others : eligible;
  const sorted = [...pool].sort(
    (a, b) =>
      instanceLoad(a) - instanceLoad(b) ||
      (a.lastDispatchedAtMs ?? Number.NEGATIVE_INFINITY) - (b.lastDispatchedAtMs ?? Number.NEGATIVE_INFINITY) ||
      (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
  );
  return sorted[0]?.key;
}

/** Whether a monitor is currently considered failing (an alert was raised and no recovery yet). */
export type MonitorHealth = 'ok' | 'warning' | 'failing';
export type RunOutcome = 'passed' | 'warning' | 'failed' | 'error';
export type MonitorAlertKind = 'monitor-failed' | 'monitor-warning' | 'monitor-recovered';

/** Failures in a row (on different instances when possible) needed before a monitor alerts. */
export const confirmingAttempts = 2;

export interface ResultDecision {
  /** Re-run now, on another instance when there is one, as attempt + 1 with reason `retry`. */
  retry: boolean;
  alert?: MonitorAlertKind;
  health: MonitorHealth;
}

/**
 * What a result means for its monitor. A first failure is only a suspicion: the check is re-run at once on
 * another instance, and only a second consecutive failure raises `monitor-failed` (once, while the monitor
 * stays failing). A pass while failing raises `monitor-recovered`. `error` (the run could not complete) counts
 * as a failure. A late result (its run was already declared lost and re-run) changes nothing.
 *
 * With `alertAfter` (a monitor's `alerting.afterFailures`), `monitor-failed` waits for that many failed checks in
 * a row (`failuresBefore` + this one) instead of the retry's.
 *
 * `warning` (every step passed, a warning condition was breached) is not retried: the transaction worked, it
 * was slow or showed something to look at. It ends a failure (`monitor-recovered`); when the monitor asks for
 * it (`alertOnWarning`) it raises `monitor-warning` once, and a later clean pass raises `monitor-recovered`.
 */
export function decideAfterResult(input: {
  outcome: RunOutcome;
  attempt: number;
  health: MonitorHealth;
  late: boolean;
  alertOnWarning?: boolean;
  /** Failed checks in a row before this one; default: attempt - 1 (the retry chain). */
  failuresBefore?: number;
  /** Failed checks in a row that raise `monitor-failed`. Default `confirmingAttempts` (2). */
  alertAfter?: number;
}): ResultDecision {
  const { outcome, attempt, health } = input;
  if (input.late) return { retry: false, health };
  if (outcome === 'passed') return health === 'ok' ? { retry: false, health: 'ok' } : { retry: false, alert: 'monitor-recovered', health: 'ok' };
  if (outcome === 'warning') {
    if (input.alertOnWarning !== true) return health === 'failing' ? { retry: false, alert: 'monitor-recovered', health: 'ok' } : { retry: false, health: 'ok' };
    // A failing monitor that now only warns: its failure incident is closed; the warning stays open.
    if (health === 'failing') return { retry: false, alert: 'monitor-recovered', health: 'warning' };
    return health === 'warning' ? { retry: false, health } : { retry: false, alert: 'monitor-warning', health: 'warning' };
  }
  if (health !== 'failing' && failuresInARow(input) >= (input.alertAfter ?? confirmingAttempts)) return { retry: false, alert: 'monitor-failed', health: 'failing' };
  // A first failure is re-run at once on another instance: it confirms the failure or clears it.
  return { retry: attempt < confirmingAttempts, health };
}

/** Failed checks in a row once this result counts: 0 after a pass or a warning, unchanged by a late result. */
export function failuresInARow(input: { outcome: RunOutcome; attempt: number; late: boolean; failuresBefore?: number }): number {
  const before = input.failuresBefore ?? input.attempt - 1;
  if (input.late) return before;
  return input.outcome === 'failed' || input.outcome === 'error' ? before + 1 : 0;
}

/** Deadline of a run's lease: the script's own time budget plus a margin for queueing, start-up and upload. */
export function leaseDeadlineMs(nowMs: number, scriptTimeoutMs: number, marginMs: number): number {
  return nowMs + scriptTimeoutMs + marginMs;
}

export type LostReason = 'instance-gone' | 'lease-expired';

/**
 * Whether a run in flight must be written off and re-dispatched: its instance is gone (disconnected, or not
 * back by `instanceGoneAtMs` after a control-plane restart), or its lease ran out.
 */
export function runLostReason(input: { nowMs: number; leaseDeadlineMs: number; instanceConnected: boolean; instanceGoneAtMs?: number }): LostReason | undefined {
  if (!input.instanceConnected && (input.instanceGoneAtMs === undefined || input.nowMs >= input.instanceGoneAtMs)) return 'instance-gone';
  if (input.nowMs >= input.leaseDeadlineMs) return 'lease-expired';
  return undefined;
}

/** `unknown`: no instance seen yet (a new checkpoint is not alerted on). */
export type CheckpointHealth = 'unknown' | 'up' | 'down';
export type CheckpointAlertKind = 'checkpoint-down' | 'checkpoint-up';

/**
 * Checkpoint liveness: `down` once no instance has been connected for `downAfterMs` (alerted once), `up`
 * again (alerted only after a `down`) as soon as one instance is connected.
 */
export function evaluateCheckpoint(input: {
  health: CheckpointHealth;
  connectedInstances: number;
  /** When the last instance went away (monotonic ms); undefined while one is connected. */
  offlineSinceMs: number | undefined;
  nowMs: number;
  downAfterMs: number;
}): { health: CheckpointHealth; alert?: CheckpointAlertKind } {
  if (input.connectedInstances > 0) return input.health === 'down' ? { health: 'up', alert: 'checkpoint-up' } : { health: 'up' };
  if (input.health === 'up' && input.offlineSinceMs !== undefined && input.nowMs - input.offlineSinceMs >= input.downAfterMs) {
    return { health: 'down', alert: 'checkpoint-down' };
  }
  return { health: input.health };
}

/**
 * When a monitor is next due after a dispatch at `nowMs`: one interval later. A monitor that could not be
 * dispatched (no instance) stays due; occurrences are never queued up to be run in a burst later.
 */
export function nextDueMs(nowMs: number, intervalSeconds: number): number {
  return nowMs + intervalSeconds * 1000;
}
