import type { PoolStats } from '../browser/pool.ts';
import type { SchedulerStats } from '../runner/scheduler.ts';
import type { AgentMessage } from '../schema/protocol.ts';
import type { RunResult } from '../schema/result.ts';
import type { ConnectionState } from './connection.ts';
import { Exposition, Histogram } from './metrics.ts';
import type { OutboxStats } from './outbox.ts';

/** /readyz's answer. */
export interface Readiness {
  ready: boolean;
  reason: string;
}

/** What the agent has done since it started: runs by outcome and how long leases took. */
export class RunCounters {
  readonly runsTotal: Record<string, number> = { passed: 0, failed: 0, error: 0, rejected: 0 };
  readonly leaseWait = new Histogram([0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]);

  result(result: RunResult): void {
    if (result.leaseWaitMs !== undefined) this.leaseWait.observe(result.leaseWaitMs / 1000);
    this.runsTotal[result.status] = (this.runsTotal[result.status] ?? 0) + 1;
  }

  rejected(): void {
    this.runsTotal['rejected'] = (this.runsTotal['rejected'] ?? 0) + 1;
  }
}

/** The agent's state as the readouts see it. `outbox` is undefined once the outbox is closed. */
export interface AgentState {
  connection: ConnectionState;
  credentialRejected: boolean;
  draining: boolean;
  stopped: boolean;
  outbox: OutboxStats | undefined;
  scheduler: SchedulerStats;
  capacity: number;
  now: Date;
  warnings: readonly string[];
}

/** /readyz: connected, welcomed, credential accepted, not draining, outbox not full. */
export function readinessOf(state: AgentState): Readiness {
  if (state.connection === 'rejected' || state.credentialRejected) return { ready: false, reason: 'credential rejected' };
  if (state.draining) return { ready: false, reason: 'draining' };
  if (state.stopped) return { ready: false, reason: 'stopped' };
  if (state.connection !== 'ready') {
    return { ready: false, reason: state.connection === 'greeting' ? 'waiting for the welcome' : 'not connected to the control plane' };
  }
  if (state.outbox?.full === true) return { ready: false, reason: 'outbox full' };
  return { ready: true, reason: 'ready' };
}

function oldestAgeMs(state: AgentState): number {
  const oldest = state.outbox?.oldestCreatedAtMs;
  return oldest === undefined ? 0 : Math.max(0, state.now.getTime() - oldest);
}

/** The heartbeat sent up the WebSocket: what runs, what is free, what waits for delivery. */
export function heartbeatOf(state: AgentState, running: string[]): Extract<AgentMessage, { type: 'heartbeat' }> {
  const stats = state.scheduler;
  return {
    type: 'heartbeat',
    sentAt: state.now.toISOString(),
    running,
    freeSlots: state.draining ? 0 : Math.max(0, state.capacity - stats.running - stats.queued),
    queued: stats.queued,
    outboxDepth: state.outbox?.depth ?? 0,
    outboxOldestAgeMs: oldestAgeMs(state),
    draining: state.draining,
  };
}

/** Prometheus text for /metrics. */
export function metricsText(state: AgentState, input: { counters: RunCounters; pool: PoolStats; version: string; instanceId: string; browserVersion: string }): string {
  const { scheduler: stats, outbox } = state;
  const { counters, pool } = input;
  return new Exposition()
    .add('checkpoint_runs_total', 'counter', 'Runs by outcome: passed, failed, error (results) and rejected (refused before running).', Object.entries(counters.runsTotal).map(([status, value]) => ({ labels: { status }, value })))
    .add('checkpoint_queue_depth', 'gauge', 'Runs accepted and waiting for a slot.', [{ value: stats.queued }])
    .add('checkpoint_running', 'gauge', 'Runs executing now.', [{ value: stats.running }])
    .add('checkpoint_capacity', 'gauge', 'Runs this instance executes at once.', [{ value: state.capacity }])
    .histogram('checkpoint_lease_wait_seconds', 'Time to obtain a fresh browser context (queue time excluded).', counters.leaseWait)
    .add(
      'checkpoint_browser_restarts_total',
      'counter',
      'Browsers retired and replaced, by reason (leases, age, memory, crash, hung-close, shutdown).',
      Object.entries(pool.browsersRetired).map(([reason, value]) => ({ labels: { reason }, value })),
    )
    .add('checkpoint_browsers', 'gauge', 'Live browser processes in the pool.', [{ value: pool.liveBrowsers }])
    .add('checkpoint_outbox_depth', 'gauge', 'Results not yet acknowledged by the control plane.', [{ value: outbox?.depth ?? 0 }])
    .add('checkpoint_outbox_poisoned', 'gauge', 'Results the control plane refused (kept, not resent until restart).', [{ value: outbox?.poisoned ?? 0 }])
    .add('checkpoint_outbox_bytes', 'gauge', 'Bytes of results and artifacts in the outbox.', [{ value: outbox?.bytes ?? 0 }])
    .add('checkpoint_outbox_oldest_age_seconds', 'gauge', 'Age of the oldest undelivered result (0 when empty).', [{ value: oldestAgeMs(state) / 1000 }])
    .add('checkpoint_outbox_artifacts_dropped_total', 'counter', 'Artifacts dropped to keep the outbox under its byte cap.', [{ value: outbox?.artifactsDroppedTotal ?? 0 }])
    .add('checkpoint_connected', 'gauge', '1 while the WebSocket to the control plane is up and welcomed.', [{ value: state.connection === 'ready' ? 1 : 0 }])
    .add('checkpoint_ready', 'gauge', '1 when /readyz answers 200.', [{ value: readinessOf(state).ready ? 1 : 0 }])
    .add('checkpoint_config_warnings', 'gauge', 'Standing risks of the configuration (plain-http control plane, browsers without sandbox); /healthz lists them.', [{ value: state.warnings.length }])
    .add('checkpoint_info', 'gauge', 'Version and identity of this instance.', [{ labels: { version: input.version, instance: input.instanceId, browser: input.browserVersion }, value: 1 }])
    .toString();
}
