import type { Clock } from '../engine/index.ts';
import { activeWindow } from './maintenance.ts';
import { checkpointsOf } from './monitor-definition.ts';
import { checkpointHealthMap, checkpointStatuses } from './monitor-status.ts';
import type { RunRecord, ControlPlaneStore } from './store.ts';

/** The windows `checkpoint_monitor_availability_ratio` is given over. */
export const availabilityWindows = [
  { label: '1h', ms: 3_600_000 },
  { label: '24h', ms: 86_400_000 },
  { label: '7d', ms: 7 * 86_400_000 },
] as const;

type Labels = Readonly<Record<string, string>>;

/** Prometheus text format 0.0.4: backslash, double quote and line feed are the characters a label value escapes. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function formatSample(name: string, labels: Labels, value: number): string {
  const entries = Object.entries(labels);
  const text = entries.length === 0 ? '' : `{${entries.map(([key, item]) => `${key}="${escapeLabelValue(item)}"`).join(',')}}`;
  const number = Number.isNaN(value) ? 'NaN' : value === Infinity ? '+Inf' : value === -Infinity ? '-Inf' : String(value);
  return `${name}${text} ${number}`;
}

/** Collects samples per metric, then writes each metric's HELP, TYPE and samples together. */
class Exposition {
  readonly #metrics = new Map<string, { type: string; help: string; samples: string[] }>();

  declare(name: string, type: 'gauge' | 'counter', help: string): void {
    this.#metrics.set(name, { type, help, samples: [] });
  }

  add(name: string, labels: Labels, value: number): void {
    this.#metrics.get(name)?.samples.push(formatSample(name, labels, value));
  }

  toString(): string {
    const lines: string[] = [];
    for (const [name, metric] of this.#metrics) lines.push(`# HELP ${name} ${metric.help}`, `# TYPE ${name} ${metric.type}`, ...metric.samples);
    return `${lines.join('\n')}\n`;
  }
}

const finished = new Set(['passed', 'warning', 'failed', 'error']);

/**
 * Availability of a monitor's checks (runs oldest first): a check is available when it passed or warned. A
 * retry decides the check it confirms, so a first failure that the second instance does not confirm counts as
 * available, as it raised no alert; lost and unfinished runs do not count.
 */
export function availability(runs: readonly (Pick<RunRecord, 'status' | 'reason'> & Partial<Pick<RunRecord, 'checkpoint'>>)[]): { checks: number; available: number } {
  const outcomes: boolean[] = [];
  /** Checkpoint → the index of its latest check: a retry confirms the check of its own checkpoint, whatever ran in between elsewhere. */
  const latest = new Map<string, number>();
  for (const run of runs) {
    if (!finished.has(run.status)) continue;
    const ok = run.status === 'passed' || run.status === 'warning';
    const where = run.checkpoint ?? '';
    const confirmed = latest.get(where);
    if (run.reason === 'retry' && confirmed !== undefined) outcomes[confirmed] = ok;
    else latest.set(where, outcomes.push(ok) - 1);
  }
  return { checks: outcomes.length, available: outcomes.filter(Boolean).length };
}

/** The values of `checkpoint_monitor_state`: the API's `checkpointStatus`, or `disabled`. */
export const monitorStates = ['ok', 'warning', 'failing', 'checkpoint-down', 'disabled'] as const;

/**
 * GET /metrics (docs/api.md lists every series). The per-monitor series are per monitor and checkpoint: one set
 * for each checkpoint it runs on, from that checkpoint's runs, so a monitor on one checkpoint has the same
 * series and labels as before monitors could run on several.
 */
export async function metricsText(input: { store: ControlPlaneStore; clock: Clock; instancesOnline: (checkpoint: string) => Promise<number> }): Promise<string> {
  const { store } = input;
  const now = input.clock.wallNow();
  const windows = (await store.listMaintenanceWindows()).map((stored) => stored.definition);
  const out = new Exposition();
  out.declare('checkpoint_monitor_up', 'gauge', 'Last finished run of the monitor on this checkpoint passed or warned (1) or failed (0).');
  out.declare('checkpoint_monitor_status', 'gauge', 'Last finished run status on this checkpoint: 1 for the current status, 0 for the others.');
  out.declare('checkpoint_monitor_health', 'gauge', 'Alert state on this checkpoint: 1 for the current one (ok, warning, failing), 0 for the others.');
  out.declare('checkpoint_monitor_state', 'gauge', 'Status on this checkpoint as the API shows it (ok, warning, failing, checkpoint-down, disabled): 1 for the current one, 0 for the others.');
  out.declare('checkpoint_monitor_enabled', 'gauge', 'The monitor is enabled (1) or disabled (0).');
  out.declare('checkpoint_monitor_in_maintenance', 'gauge', 'A maintenance window silences the monitor now.');
  out.declare('checkpoint_monitor_consecutive_failures', 'gauge', 'Failed checks in a row on this checkpoint.');
  out.declare('checkpoint_monitor_last_duration_seconds', 'gauge', 'Duration of the last finished run on this checkpoint.');
  out.declare('checkpoint_monitor_last_run_timestamp_seconds', 'gauge', 'When the last finished run on this checkpoint was dispatched (Unix time).');
  out.declare('checkpoint_monitor_step_duration_seconds', 'gauge', 'Duration of each step of the last finished run on this checkpoint.');
  out.declare('checkpoint_monitor_availability_ratio', 'gauge', 'Share of checks on this checkpoint that passed or warned over the window (a retry decides the check it confirms).');
  out.declare('checkpoint_monitor_checks', 'gauge', 'Checks on this checkpoint counted in the availability over the window.');
  out.declare('checkpoint_monitor_runs_total', 'counter', 'Runs on this checkpoint by status since the database was created.');
  out.declare('checkpoint_up', 'gauge', 'The checkpoint is up (1): an instance is connected, or it has not been gone long enough to count as down.');
  out.declare('checkpoint_instances_connected', 'gauge', 'Instances of the checkpoint connected now.');

  const counts = new Map<string, { status: string; count: number }[]>();
  const countKey = (monitorId: string, checkpoint: string) => JSON.stringify([monitorId, checkpoint]);
  for (const row of await store.runCounts()) {
    const key = countKey(row.monitorId, row.checkpoint);
    counts.set(key, [...(counts.get(key) ?? []), row]);
  }
  const checkpoints = await store.listCheckpoints();
  const healthOf = checkpointHealthMap(checkpoints);
  const longest = availabilityWindows[availabilityWindows.length - 1]?.ms ?? 0;
  for (const monitor of await store.listMonitors()) {
    const inMaintenance = activeWindow(windows, now, monitor.id) === undefined ? 0 : 1;
    const statuses = checkpointStatuses(monitor, healthOf);
    for (const checkpoint of checkpointsOf(monitor)) {
      const labels = { monitor_id: monitor.id, monitor: monitor.name, checkpoint };
      const last = await store.lastFinishedRun(monitor.id, checkpoint);
      if (last !== undefined) {
        out.add('checkpoint_monitor_up', labels, last.status === 'passed' || last.status === 'warning' ? 1 : 0);
        for (const status of ['passed', 'warning', 'failed', 'error']) out.add('checkpoint_monitor_status', { ...labels, status }, last.status === status ? 1 : 0);
        if (last.durationMs !== undefined) out.add('checkpoint_monitor_last_duration_seconds', labels, last.durationMs / 1000);
        out.add('checkpoint_monitor_last_run_timestamp_seconds', labels, Date.parse(last.dispatchedAt) / 1000);
        const steps = (await store.getResult(last.runId))?.envelope.result.steps ?? [];
        steps.forEach((step, index) => {
          if (step.status !== 'skipped') out.add('checkpoint_monitor_step_duration_seconds', { ...labels, step_index: String(index + 1), step: step.name }, step.durationMs / 1000);
        });
      }
      const health = monitor.checkpointHealth[checkpoint] ?? monitor.health;
      for (const value of ['ok', 'warning', 'failing']) out.add('checkpoint_monitor_health', { ...labels, health: value }, health === value ? 1 : 0);
      const state = monitor.enabled ? (statuses[checkpoint] ?? health) : 'disabled';
      for (const value of monitorStates) out.add('checkpoint_monitor_state', { ...labels, state: value }, state === value ? 1 : 0);
      out.add('checkpoint_monitor_enabled', labels, monitor.enabled ? 1 : 0);
      out.add('checkpoint_monitor_in_maintenance', labels, inMaintenance);
      out.add('checkpoint_monitor_consecutive_failures', labels, (await store.getMonitorAlertState(monitor.id, checkpoint)).consecutiveFailures);
      const recent = await store.runsSince(monitor.id, new Date(now.getTime() - longest).toISOString(), checkpoint);
      for (const window of availabilityWindows) {
        const from = new Date(now.getTime() - window.ms).toISOString();
        const { checks, available } = availability(recent.filter((run) => run.dispatchedAt >= from));
        out.add('checkpoint_monitor_checks', { ...labels, window: window.label }, checks);
        if (checks > 0) out.add('checkpoint_monitor_availability_ratio', { ...labels, window: window.label }, available / checks);
      }
      for (const row of counts.get(countKey(monitor.id, checkpoint)) ?? []) out.add('checkpoint_monitor_runs_total', { ...labels, status: row.status }, row.count);
    }
  }
  for (const checkpoint of checkpoints) {
    const online = await input.instancesOnline(checkpoint.name);
    out.add('checkpoint_up', { checkpoint: checkpoint.name }, checkpoint.health === 'down' || (checkpoint.health === 'unknown' && online === 0) ? 0 : 1);
    out.add('checkpoint_instances_connected', { checkpoint: checkpoint.name }, online);
  }
  return out.toString();
}
