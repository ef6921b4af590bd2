// Guards against a monitor dispatched twice by one replica: a leader whose renewal is slow (a loaded database)
// steps down on its deadline while its scheduler is in the middle of a dispatch, and takes the lease again as soon
// as the database answers. The scheduler of the new grant must start only once the old one has finished its task,
// so it reads the old one's run from the store instead of dispatching the same due occurrence again.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type pg from 'pg';
import type { ControlMessage } from '../../../../engine/index.ts';
import { systemClock } from '../../../../engine/index.ts';
import { Alerts } from '../../../../control-plane/alerts.ts';
import type { ClusterBus } from '../../../../control-plane/cluster/bus.ts';
import { LeaderLease } from '../../../../control-plane/cluster/lease.ts';
import { Replica } from '../../../../control-plane/cluster/replica.ts';
import type { Hub, LiveInstance } from '../../../../control-plane/hub.ts';
import { Scheduler } from '../../../../control-plane/scheduler.ts';
import { SqliteStore } from '../../../../control-plane/store-sqlite.ts';
import type { ControlPlaneStore } from '../../../../control-plane/store.ts';

const script = { name: 'home', steps: [{ name: 'open', actions: [{ type: 'navigate' as const, url: 'https://example.test/' }] }] };
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Wait until `condition` holds (a loaded machine may take a while; the guard only stops a hanging test). */
async function until(condition: () => boolean, what: string): Promise<void> {
  for (let waitedMs = 0; !condition(); waitedMs += 10) {
    if (waitedMs > 15_000) throw new Error(`still waiting for ${what}`);
    await sleep(10);
  }
}

/** `inner`, except that `insertRun` waits while the gate is closed (a write stuck in a loaded database). */
function gatedInsertRun(inner: ControlPlaneStore) {
  let gate: Promise<void> = Promise.resolve();
  let open = (): void => undefined;
  let calls = 0;
  const store = new Proxy(inner, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      const method = (value as (...args: unknown[]) => unknown).bind(target);
      if (property !== 'insertRun') return method;
      return async (...args: unknown[]) => {
        calls++;
        await gate;
        return method(...args);
      };
    },
  });
  return {
    store,
    insertRunCalls: () => calls,
    close: () => {
      gate = new Promise<void>((resolve) => (open = resolve));
    },
    open: () => open(),
  };
}

test('a slow renewal mid-dispatch: the replica`s next scheduler does not dispatch the same due monitor again', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'cp-handover-dispatch-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const sqlite = new SqliteStore(dir);
  t.after(() => sqlite.close());
  const now = new Date().toISOString();
  await sqlite.createCheckpoint('hq', 'h'.repeat(64), now);
  await sqlite.insertMonitor({ id: 'm1', name: 'Home', checkpoint: 'hq', intervalSeconds: 3600, enabled: false, script }, now);
  const gated = gatedInsertRun(sqlite);
  const { store } = gated;
  const instance = { key: 'hq/a', checkpoint: 'hq', id: 'a', hello: { type: 'hello', capacity: 4, checkCapacity: 4 }, connectedAtMs: 0, lastSeenMs: 0 } as unknown as LiveInstance;
  const runs: string[] = [];
  const hub = {
    instances: (name?: string) => (name === undefined || name === 'hq' ? [instance] : []),
    get: (key: string) => (key === instance.key ? instance : undefined),
    send: (_key: string, message: ControlMessage) => {
      if (message.type === 'run') runs.push(`${message.monitorId} ${message.runId}`);
      return true;
    },
  } as unknown as Hub;
  const bus = { onMessage: () => undefined, onReconnected: () => undefined, publish: () => Promise.resolve() } as unknown as ClusterBus;
  const log: string[] = [];
  const replica = new Replica({
    replicaId: 'a',
    store,
    hub,
    bus,
    clock: systemClock,
    log: (line) => log.push(line),
    heartbeatIntervalMs: 1000,
    reconnectGraceMs: 10_000,
    createScheduler: (link) =>
      new Scheduler({ store, hub: link, alerts: new Alerts({ store, log: () => undefined, clock: systemClock }), clock: systemClock, log: (line) => log.push(line), leaseMarginMs: 60_000, checkpointDownAfterMs: 60_000, startupGraceMs: 45_000 }),
  });
  // The lease row, always granted to this replica: quick answers, or 700 ms ones (the grant is valid 800 ms from
  // sending) while the database is loaded.
  let databaseSlow = false;
  const query = async (sql: string) => {
    if (sql.startsWith('UPDATE')) return { rows: [] };
    if (databaseSlow) await sleep(700);
    return { rows: [{ term: '1' }] };
  };
  let lostCalls = 0;
  const lease = new LeaderLease({
    pool: { query } as unknown as pg.Pool,
    name: 'scheduler',
    holder: 'a',
    ttlMs: 900,
    renewEveryMs: 200,
    nowMs: () => performance.now(),
    log: (line) => log.push(line),
    gained: (term) => replica.gained(term),
    lost: () => {
      lostCalls++;
      return replica.lost();
    },
  });
  replica.useLease(lease);
  await lease.start();
  t.after(() => lease.stop());
  assert.equal(replica.leads(), true);

  // The monitor is switched on: the leader dispatches it, and its run's write is stuck.
  gated.close();
  await sqlite.updateMonitor({ id: 'm1', name: 'Home', checkpoint: 'hq', intervalSeconds: 3600, enabled: true, script }, new Date().toISOString());
  void replica.monitorChanged('m1', 'updated');
  await until(() => gated.insertRunCalls() >= 1, 'the dispatch of the due monitor');
  // The database slows down until the leader stepped down, then answers quickly again: the same replica holds the
  // lease again while its old scheduler is still in the middle of that dispatch.
  databaseSlow = true;
  await until(() => lostCalls >= 1, 'the leader to step down on its deadline');
  databaseSlow = false;
  await until(() => lease.held, 'the lease to be granted again');
  // Time for a second scheduler to read the store and dispatch (what must NOT happen before the write lands).
  await sleep(1000);
  gated.open();
  await until(() => replica.leads(), 'the replica to lead again');
  await replica.tick();
  await lease.stop();
  assert.equal(runs.length, 1, `one due occurrence, one run: ${runs.join(', ')}\n${log.join('\n')}`);
});
