// Guards an alert lost at a handover: a leader fenced (or killed) after it decided a failure but before its alert
// was stored must leave the monitor's state as it was, so that its successor decides the result again and alerts.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ResultEnvelope } from '../../../../engine/index.ts';
import { Alerts } from '../../../../control-plane/alerts.ts';
import type { Hub, LiveInstance } from '../../../../control-plane/hub.ts';
import { Scheduler } from '../../../../control-plane/scheduler.ts';
import { SqliteStore } from '../../../../control-plane/store-sqlite.ts';
import { FencedError } from '../../../../control-plane/store-postgres-fence.ts';
import type { ControlPlaneStore } from '../../../../control-plane/store.ts';
import { FakeClock, minimalResult } from '../../../helpers/fake-agent.ts';

const checkpoint = 'hq';
const script = { name: 'home', steps: [{ name: 'open', actions: [{ type: 'navigate' as const, url: 'https://example.test/' }] }] };

/** One connected, greeted instance of `hq`. */
function fakeHub(): Hub {
  const instance = { key: `${checkpoint}/a`, checkpoint, id: 'a', hello: { type: 'hello', capacity: 4, checkCapacity: 4 }, connectedAtMs: 0, lastSeenMs: 0 } as unknown as LiveInstance;
  return {
    instances: (name?: string) => (name === undefined || name === checkpoint ? [instance] : []),
    get: (key: string) => (key === instance.key ? instance : undefined),
    send: () => true,
  } as unknown as Hub;
}

function scheduler(store: ControlPlaneStore, clock: FakeClock, log: string[]): Scheduler {
  const alerts = new Alerts({ store, log: (line) => log.push(line), clock });
  return new Scheduler({ store, hub: fakeHub(), alerts, clock, log: (line) => log.push(line), leaseMarginMs: 60_000, checkpointDownAfterMs: 60_000, startupGraceMs: 45_000 });
}

/** `store`, except that storing an alert is refused as by a fence whose lease another replica now holds. */
function fencedAtInsertAlert(store: ControlPlaneStore): ControlPlaneStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'insertAlert') return () => Promise.reject(new FencedError('scheduler', 'a', 'held by b'));
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

test('a leader fenced before its alert is stored: the successor decides the failure again and alerts once', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'cp-handover-alert-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const store = new SqliteStore(dir);
  t.after(() => store.close());
  const clock = new FakeClock();
  const now = clock.wallNow().toISOString();
  await store.createCheckpoint(checkpoint, 'h'.repeat(64), now);
  await store.insertMonitor({ id: 'm1', name: 'Home', checkpoint, intervalSeconds: 3600, enabled: true, script }, now);
  // The confirming retry of a first failure failed too: its result is stored, not yet decided.
  await store.setMonitorAlertState('m1', { consecutiveFailures: 1 });
  await store.insertRun({ runId: 'r2', monitorId: 'm1', checkpoint, attempt: 2, instance: 'a', reason: 'retry', dispatchedAt: now, leaseDeadline: now });
  const envelope: ResultEnvelope = { runId: 'r2', monitorId: 'm1', attempt: 2, instanceId: 'a', finishedAt: now, result: minimalResult({ runId: 'r2', status: 'failed' }), artifacts: [] };
  await store.storeResult(envelope, checkpoint, now);

  const log: string[] = [];
  const old = scheduler(fencedAtInsertAlert(store), clock, log);
  await old.start().catch((error: unknown) => log.push(`old leader's start: ${String(error)}`));
  await old.stop();

  const successor = scheduler(store, clock, log);
  await successor.start();
  await successor.stop();
  const alerts = await store.listAlerts(10);
  assert.equal(alerts.filter((alert) => alert.kind === 'monitor-failed').length, 1, `one monitor-failed alert for the incident:\n${log.join('\n')}`);
});
