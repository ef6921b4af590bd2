import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import type { ControlMessage, ResultEnvelope } from '../../../engine/index.ts';
import { Alerts } from '../../../control-plane/alerts.ts';
import type { Hub, LiveInstance } from '../../../control-plane/hub.ts';
import { Scheduler } from '../../../control-plane/scheduler.ts';
import { SqliteStore } from '../../../control-plane/store-sqlite.ts';
import type { ControlPlaneStore } from '../../../control-plane/store.ts';
import { FakeClock, minimalResult } from '../../helpers/fake-agent.ts';

const checkpoint = 'hq';
const script = { name: 'home', steps: [{ name: 'open', actions: [{ type: 'navigate' as const, url: 'https://example.test/' }] }] };

/** One connected, greeted instance of `hq` that records what the scheduler sends it. */
function fakeHub(): { hub: Hub; sent: ControlMessage[] } {
  const sent: ControlMessage[] = [];
  const instance = {
    key: `${checkpoint}/a`,
    checkpoint,
    id: 'a',
    hello: { type: 'hello', capacity: 4, checkCapacity: 4 },
    connectedAtMs: 0,
    lastSeenMs: 0,
  } as unknown as LiveInstance;
  const hub = {
    instances: (name?: string) => (name === undefined || name === checkpoint ? [instance] : []),
    get: (key: string) => (key === instance.key ? instance : undefined),
    send: (_key: string, message: ControlMessage) => {
      sent.push(message);
      return true;
    },
  } as unknown as Hub;
  return { hub, sent };
}

async function dataDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cp-scheduler-serial-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function scheduler(store: ControlPlaneStore, clock: FakeClock, hub: Hub, log: (line: string) => void = () => undefined): Scheduler {
  const alerts = new Alerts({ store, log, clock });
  return new Scheduler({ store, hub, alerts, clock, log, leaseMarginMs: 60_000, checkpointDownAfterMs: 60_000, startupGraceMs: 45_000 });
}

/** A checkpoint, a monitor due in an hour, and a failed result of its run `attempt` stored but never decided. */
async function undecidedFailure(store: SqliteStore, clock: FakeClock, attempt: number): Promise<void> {
  const now = clock.wallNow().toISOString();
  await store.createCheckpoint(checkpoint, 'h'.repeat(64), now);
  await store.insertMonitor({ id: 'm1', name: 'Home', checkpoint, intervalSeconds: 3600, enabled: true, script }, now);
  // The attempts before it failed (and were decided): the count a retry's failure adds to.
  if (attempt > 1) await store.setMonitorAlertState('m1', { consecutiveFailures: attempt - 1 });
  await store.insertRun({ runId: 'r1', monitorId: 'm1', checkpoint, attempt, instance: 'a', reason: attempt === 1 ? 'schedule' : 'retry', dispatchedAt: now, leaseDeadline: now });
  const envelope: ResultEnvelope = { runId: 'r1', monitorId: 'm1', attempt, instanceId: 'a', finishedAt: now, result: minimalResult({ runId: 'r1', status: 'failed' }), artifacts: [] };
  const { stored, run } = await store.storeResult(envelope, checkpoint, now);
  assert.equal(stored, 'new');
  assert.deepEqual(
    (await store.undecidedRuns()).map((undecided) => undecided.runId),
    [run.runId],
    'stored, not decided: the process "died" here',
  );
}

/** A store whose listed methods wait for `release()` once armed: holds the scheduler in the middle of a task. */
function gatedStore(inner: ControlPlaneStore, gated: readonly (keyof ControlPlaneStore)[]) {
  let gate: Promise<void> | undefined;
  let open = () => undefined as void;
  const calls = new Map<string, number>();
  const store = new Proxy(inner, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        const name = String(property);
        calls.set(name, (calls.get(name) ?? 0) + 1);
        if (gate !== undefined && gated.includes(name as keyof ControlPlaneStore)) await gate;
        return (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
      };
    },
  });
  return {
    store,
    calls: (name: keyof ControlPlaneStore) => calls.get(name) ?? 0,
    arm: () => {
      gate = new Promise<void>((resolve) => (open = resolve));
    },
    release: () => {
      gate = undefined;
      open();
    },
  };
}

/** Give pending work a moment (only before asserting that something did NOT happen). */
const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 20));

/** Wait until `condition` holds (a loaded machine may take a while; the guard only stops a hanging test). */
async function until(condition: () => boolean, what: string): Promise<void> {
  for (let waitedMs = 0; !condition(); waitedMs += 5) {
    if (waitedMs > 10_000) throw new Error(`still waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('scheduler: results stored but not decided', () => {
  it('alerts once for a failure a dead process stored but never decided, and not again on the next start', async (t) => {
    const store = new SqliteStore(await dataDir(t));
    t.after(() => store.close());
    const clock = new FakeClock();
    await undecidedFailure(store, clock, 2);

    const first = scheduler(store, clock, fakeHub().hub);
    await first.start();
    await first.stop();
    const alerts = await store.listAlerts(10);
    assert.deepEqual(
      alerts.map((alert) => [alert.kind, alert.runId]),
      [['monitor-failed', 'r1']],
      'the retry`s failure is the second in a row: one alert',
    );
    assert.equal((await store.getMonitor('m1'))?.health, 'failing');
    assert.deepEqual(await store.undecidedRuns(), [], 'decided');

    const second = scheduler(store, clock, fakeHub().hub);
    await second.start();
    await second.tick();
    await second.stop();
    assert.equal((await store.listAlerts(10)).length, 1, 'a second start decides nothing again');
  });

  it('retries once a first failure a dead process stored but never decided, and not again on the next start', async (t) => {
    const store = new SqliteStore(await dataDir(t));
    t.after(() => store.close());
    const clock = new FakeClock();
    await undecidedFailure(store, clock, 1);

    const { hub, sent } = fakeHub();
    const first = scheduler(store, clock, hub);
    await first.start();
    await first.tick();
    await first.stop();
    const runs = () => sent.flatMap((message) => (message.type === 'run' ? [[message.monitorId, message.attempt, message.reason]] : []));
    assert.deepEqual(runs(), [['m1', 2, 'retry']], 'the first failure is re-run once');
    assert.equal((await store.listAlerts(10)).length, 0, 'a first failure does not alert');

    const second = scheduler(store, clock, hub);
    await second.start();
    await second.tick();
    await second.stop();
    assert.deepEqual(runs(), [['m1', 2, 'retry']], 'no second retry');
  });
});

describe('scheduler: one task at a time', { timeout: 20_000 }, () => {
  it('never runs two ticks at once, and runs one more for requests made while one runs', async (t) => {
    const sqlite = new SqliteStore(await dataDir(t));
    t.after(() => sqlite.close());
    const gated = gatedStore(sqlite, ['listCheckpoints']);
    const clock = new FakeClock();
    const sched = scheduler(gated.store, clock, fakeHub().hub);
    await sched.start();
    const before = gated.calls('listCheckpoints');

    gated.arm();
    const running = sched.tick();
    await until(() => gated.calls('listCheckpoints') - before === 1, 'the first tick to wait for the store');
    // Requests while it runs: none may start a second tick now, and none may be lost.
    const requests = [sched.tick(), sched.tick(), sched.tick()];
    await settle();
    assert.equal(gated.calls('listCheckpoints') - before, 1, 'no second tick while the first runs');
    gated.release();
    await Promise.all([running, ...requests]);
    assert.equal(gated.calls('listCheckpoints') - before, 2, 'exactly one more tick for the requests made meanwhile');
    await sched.stop();
  });

  it('dispatches a due monitor once, whatever events arrive while its dispatch waits for the store', async (t) => {
    const sqlite = new SqliteStore(await dataDir(t));
    t.after(() => sqlite.close());
    const clock = new FakeClock();
    const now = clock.wallNow().toISOString();
    await sqlite.createCheckpoint(checkpoint, 'h'.repeat(64), now);
    const gated = gatedStore(sqlite, ['insertRun']);
    const { hub, sent } = fakeHub();
    const sched = scheduler(gated.store, clock, hub);
    await sched.start();
    const instance = hub.get(`${checkpoint}/a`);
    assert.ok(instance !== undefined);

    gated.arm();
    await gated.store.insertMonitor({ id: 'm1', name: 'Home', checkpoint, intervalSeconds: 60, enabled: true, script }, now);
    const changed = sched.monitorChanged('m1', 'created');
    await until(() => gated.calls('insertRun') === 1, 'the dispatch to wait for the store');
    const events = [sched.heartbeat(instance), sched.tick(), sched.instanceReady(instance), sched.monitorChanged('m1', 'updated'), sched.tick()];
    await settle();
    gated.release();
    await Promise.all([changed, ...events]);
    assert.equal(sent.filter((message) => message.type === 'run').length, 1, 'one run for one due occurrence');
    assert.equal(sched.inFlightCount(), 1);
    await sched.stop();
  });

  it('logs a failing store instead of rejecting, and goes on with the next task', async (t) => {
    const sqlite = new SqliteStore(await dataDir(t));
    t.after(() => sqlite.close());
    let failing = true;
    const broken = new Proxy(sqlite, {
      get(target, property, receiver) {
        const value: unknown = Reflect.get(target, property, receiver);
        if (property === 'listCheckpoints') return () => (failing ? Promise.reject(new Error('database is gone')) : target.listCheckpoints());
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const lines: string[] = [];
    const sched = scheduler(sqlite, new FakeClock(), fakeHub().hub, (line) => lines.push(line));
    const brokenSched = scheduler(broken, new FakeClock(), fakeHub().hub, (line) => lines.push(line));
    await sched.start();
    await assert.rejects(brokenSched.start(), /database is gone/, 'a scheduler that cannot read what is in flight does not start');

    failing = false;
    await brokenSched.start();
    failing = true;
    await brokenSched.tick();
    assert.ok(
      lines.some((line) => line.includes('handling tick failed: database is gone')),
      lines.join('\n'),
    );
    failing = false;
    const before = lines.length;
    await brokenSched.tick();
    assert.equal(lines.length, before, 'the next tick runs and succeeds');
    await Promise.all([sched.stop(), brokenSched.stop()]);
  });

  it('stop waits for the task at work, and nothing runs after it', async (t) => {
    const sqlite = new SqliteStore(await dataDir(t));
    t.after(() => sqlite.close());
    const gated = gatedStore(sqlite, ['listCheckpoints']);
    const sched = scheduler(gated.store, new FakeClock(), fakeHub().hub);
    await sched.start();
    const before = gated.calls('listCheckpoints');
    gated.arm();
    const ticking = sched.tick();
    await until(() => gated.calls('listCheckpoints') - before === 1, 'the tick to wait for the store');
    let stopped = false;
    const stopping = sched.stop().then(() => (stopped = true));
    await settle();
    assert.equal(stopped, false, 'the tick still waits for the store');
    gated.release();
    await Promise.all([ticking, stopping]);
    await sched.tick();
    assert.equal(gated.calls('listCheckpoints') - before, 1, 'no tick after stop');
  });

  it('stays stopped when a stop overtakes a start that is still reading the store, and starts again after', async (t) => {
    const sqlite = new SqliteStore(await dataDir(t));
    t.after(() => sqlite.close());
    const gated = gatedStore(sqlite, ['inFlightRuns']);
    const sched = scheduler(gated.store, new FakeClock(), fakeHub().hub);
    gated.arm();
    const starting = sched.start();
    await until(() => gated.calls('inFlightRuns') === 1, 'the start to wait for the store');
    const stopping = sched.stop();
    gated.release();
    await Promise.all([starting, stopping]);
    const before = gated.calls('listCheckpoints');
    await sched.tick();
    assert.equal(gated.calls('listCheckpoints'), before, 'stopped: the tick does nothing');
    await sched.start();
    await sched.tick();
    assert.ok(gated.calls('listCheckpoints') > before, 'started again: it ticks');
    await sched.stop();
  });
});
