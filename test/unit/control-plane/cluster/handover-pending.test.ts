// Guards a confirming retry lost at a handover: a first failure's retry waits in the old leader's memory for a free
// slot when the lease changes hands; the new leader must rebuild it from the store and run it.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ControlMessage, ResultEnvelope } from '../../../../engine/index.ts';
import { Alerts } from '../../../../control-plane/alerts.ts';
import type { Hub, LiveInstance } from '../../../../control-plane/hub.ts';
import { Scheduler } from '../../../../control-plane/scheduler.ts';
import { SqliteStore } from '../../../../control-plane/store-sqlite.ts';
import { FakeClock, minimalResult } from '../../../helpers/fake-agent.ts';

type RunMessage = Extract<ControlMessage, { type: 'run' }>;

const script = { name: 'home', steps: [{ name: 'open', actions: [{ type: 'navigate' as const, url: 'https://example.test/' }] }] };

/** Two instances of `hq` whose free slots are `capacity()`; every message sent is recorded. */
function hubWith(capacity: () => number, sent: ControlMessage[]): Hub {
  const instances = ['a', 'b'].map(
    (id) =>
      ({
        key: `hq/${id}`,
        checkpoint: 'hq',
        id,
        get hello() {
          return { type: 'hello', capacity: capacity(), checkCapacity: 0 };
        },
        connectedAtMs: 0,
        lastSeenMs: 0,
      }) as unknown as LiveInstance,
  );
  return {
    instances: (name?: string) => (name === undefined || name === 'hq' ? instances : []),
    get: (key: string) => instances.find((instance) => instance.key === key),
    send: (_key: string, message: ControlMessage) => {
      sent.push(message);
      return true;
    },
  } as unknown as Hub;
}

const isRun = (message: ControlMessage): message is RunMessage => message.type === 'run';

test('a first failure`s confirming retry, waiting for a slot when the leader hands over, is run by the new leader', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'cp-handover-pending-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const store = new SqliteStore(dir);
  t.after(() => store.close());
  const clock = new FakeClock();
  const now = clock.wallNow().toISOString();
  await store.createCheckpoint('hq', 'h'.repeat(64), now);
  await store.insertMonitor({ id: 'm1', name: 'Home', checkpoint: 'hq', intervalSeconds: 3600, enabled: true, script }, now);
  let capacity = 1;
  const sent: ControlMessage[] = [];
  const leader = () => new Scheduler({ store, hub: hubWith(() => capacity, sent), alerts: new Alerts({ store, log: () => undefined, clock }), clock, log: () => undefined, leaseMarginMs: 60_000, checkpointDownAfterMs: 60_000, startupGraceMs: 45_000 });
  const old = leader();
  await old.start();
  await old.tick();
  const first = sent.find(isRun);
  assert.ok(first !== undefined, 'the scheduled run is dispatched');
  // Every slot is busy for a moment: the retry waits in the old leader's memory.
  capacity = 0;
  const envelope: ResultEnvelope = { runId: first.runId, monitorId: 'm1', attempt: 1, instanceId: 'a', finishedAt: now, result: minimalResult({ runId: first.runId, status: 'failed' }), artifacts: [] };
  const { run } = await store.storeResult(envelope, 'hq', now);
  await old.resultStored(run, envelope);
  // A graceful handover: the old leader stops, the new one starts once slots are free again.
  await old.stop();
  capacity = 1;
  clock.advance(1000);
  const successor = leader();
  await successor.start();
  await successor.tick();
  await successor.stop();
  const runs = sent.filter(isRun);
  assert.ok(
    runs.some((message) => message.reason === 'retry' && message.attempt === 2),
    `the failure is confirmed by a retry (attempt 2); sent: ${runs.map((message) => `${message.reason} attempt ${message.attempt}`).join(', ')}`,
  );
});
