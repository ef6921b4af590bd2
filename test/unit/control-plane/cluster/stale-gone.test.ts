// Guards an agent that moved from replica F1 to F2 while F1 noticed its dead link only later: the leader must not
// forget the instance F2 reports (and tell the scheduler it is gone) on F1's late "gone", and the instance's row
// must not stay disconnected while F2 keeps hearing its heartbeats (every follower's API would say it is offline).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ClusterBus, BusHandler } from '../../../../control-plane/cluster/bus.ts';
import type { LeaderLease } from '../../../../control-plane/cluster/lease.ts';
import { Replica, statusFromRecord, type LeaderScheduler } from '../../../../control-plane/cluster/replica.ts';
import type { Hub, InstanceLink, LiveInstance } from '../../../../control-plane/hub.ts';
import { SqliteStore } from '../../../../control-plane/store-sqlite.ts';
import type { ControlPlaneStore } from '../../../../control-plane/store.ts';

/** A scheduler that only records which instances it was told are ready or gone. */
function recordingScheduler(calls: string[]): LeaderScheduler {
  const done = () => Promise.resolve();
  return {
    start: done,
    stop: done,
    tick: done,
    decideStored: done,
    heartbeat: done,
    runStatus: done,
    resultStored: done,
    monitorChanged: done,
    runNow: () => Promise.resolve(undefined),
    instanceStatus: () => Promise.resolve([]),
    inFlightCount: () => 0,
    instanceReady: (instance: LiveInstance) => {
      calls.push(`ready ${instance.key}`);
      return Promise.resolve();
    },
    instanceGone: (instance: LiveInstance) => {
      calls.push(`gone ${instance.key}`);
      return Promise.resolve();
    },
  };
}

test('leader: a late instance-gone from the replica the agent left keeps the instance the new replica reports', async () => {
  let deliver: BusHandler = () => undefined;
  const bus = {
    onMessage: (handler: BusHandler) => (deliver = handler),
    onReconnected: () => undefined,
    publish: () => Promise.resolve(),
  } as unknown as ClusterBus;
  const hub = { instances: () => [], get: () => undefined, send: () => false } as unknown as Hub;
  const calls: string[] = [];
  let link: InstanceLink | undefined;
  const replica = new Replica({
    replicaId: 'L',
    store: {} as ControlPlaneStore,
    hub,
    bus,
    clock: { nowMs: () => performance.now(), wallNow: () => new Date() },
    log: () => undefined,
    heartbeatIntervalMs: 1000,
    reconnectGraceMs: 10_000,
    createScheduler: (schedulerLink) => {
      link = schedulerLink;
      return recordingScheduler(calls);
    },
  });
  replica.useLease({ held: true } as LeaderLease);
  await replica.gained(1);
  const hello = { type: 'hello', protocolVersion: 1, instanceId: 'a', version: '1', capacity: 2, privacyLock: false, startedAt: new Date().toISOString() };
  await deliver({ type: 'instance-ready', instance: { key: 'hq/a', checkpoint: 'hq', id: 'a', hello } }, 'F2');
  await deliver({ type: 'instance-gone', key: 'hq/a', reason: 'link closed' }, 'F1');
  assert.deepEqual(link?.instances('hq').map((instance) => instance.key), ['hq/a'], 'the agent is still connected to F2');
  assert.deepEqual(calls, ['ready hq/a'], 'the scheduler was never told the agent is gone');
});

test('store: a heartbeat after a late disconnect from the old replica marks the instance connected again', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'cp-stale-gone-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const store = new SqliteStore(dir);
  t.after(() => store.close());
  const at = (seconds: number) => new Date(Date.UTC(2026, 11, 5, 12, 0, seconds)).toISOString();
  await store.createCheckpoint('hq', 'h'.repeat(64), at(0));
  // The hello on F2, then F1's ping timeout on the old link, then F2 keeps hearing the agent.
  await store.instanceHello({ checkpoint: 'hq', id: 'a', version: '1', capacity: 2, privacyLock: false, startedAt: at(0), now: at(1) });
  await store.instanceDisconnected('hq', 'a', at(2));
  await store.instanceHeartbeat({ checkpoint: 'hq', id: 'a', running: 1, load: 0.5, draining: false, outboxDepth: 0, now: at(3) });
  const [record] = await store.listInstances('hq');
  assert.ok(record !== undefined, 'the instance has a row');
  const status = statusFromRecord(record, Date.parse(at(4)), 3000);
  assert.equal(status.online, true, 'a follower says the agent is offline while it runs on F2');
});
