// Guards the leader lease against a slow or silent database and a slow scheduler start: a replica must never
// start a new scheduler while the old one is still stopping, never stop one that is still starting, and must
// keep renewing (and be able to stop) when a lease query never answers. The pool is a fake: no PostgreSQL.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type pg from 'pg';
import { LeaderLease } from '../../../../control-plane/cluster/lease.ts';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Wait until `condition` holds (a loaded machine may take a while; the guard only stops a hanging test). */
async function until(condition: () => boolean, what: string): Promise<void> {
  for (let waitedMs = 0; !condition(); waitedMs += 10) {
    if (waitedMs > 15_000) throw new Error(`still waiting for ${what}`);
    await sleep(10);
  }
}

/** A pool whose lease query answers "you hold term 1" after `delayMs()` ms, or never when that is Infinity. */
function fakePool(delayMs: () => number): { pool: pg.Pool; calls: () => number } {
  let calls = 0;
  const query = async (sql: string) => {
    calls++;
    if (sql.startsWith('UPDATE')) return { rows: [] };
    const delay = delayMs();
    if (delay === Infinity) await new Promise<never>(() => undefined);
    await sleep(delay);
    return { rows: [{ term: '1' }] };
  };
  return { pool: { query } as unknown as pg.Pool, calls: () => calls };
}

test('a renewal slower than the grant: the lease is gained again only after lost() (the old scheduler draining) finished', async () => {
  const events: string[] = [];
  let lostCalls = 0;
  let lostRunning = false;
  let gainedCalls = 0;
  let overlap = false;
  // The database is slow (700 ms, the grant is valid 800 ms from sending) until the leader stepped down, then quick
  // again: the same replica takes the lease anew while its old scheduler is still stopping.
  let queries = 0;
  const { pool } = fakePool(() => (queries++ === 0 || lostCalls > 0 ? 1 : 700));
  const lease = new LeaderLease({
    pool,
    name: 's',
    holder: 'a',
    ttlMs: 900,
    renewEveryMs: 200,
    nowMs: () => performance.now(),
    log: (line) => events.push(line),
    gained: () => {
      gainedCalls++;
      if (lostRunning) overlap = true;
    },
    // The old scheduler's stop(): it waits for its running task (a tick dispatching).
    lost: async () => {
      lostCalls++;
      lostRunning = true;
      await sleep(1000);
      lostRunning = false;
    },
  });
  await lease.start();
  await until(() => gainedCalls >= 2 && !lostRunning, 'the lease to lapse and be gained again');
  await lease.stop();
  assert.equal(overlap, false, `gained() was called while lost() was still running:\n${events.join('\n')}`);
});

test('a gained() longer than the grant: renewals go on, and lost() never runs in the middle of gained()', async () => {
  const events: string[] = [];
  const { pool } = fakePool(() => 1);
  let inGained = false;
  let lostDuringGained = false;
  const lease = new LeaderLease({
    pool,
    name: 's',
    holder: 'a',
    ttlMs: 900,
    renewEveryMs: 200,
    nowMs: () => performance.now(),
    log: (line) => events.push(line),
    // A scheduler start that takes well over the grant (a slow store at start-up).
    gained: async () => {
      inGained = true;
      await sleep(2000);
      inGained = false;
    },
    lost: () => {
      if (inGained) lostDuringGained = true;
    },
  });
  await lease.start();
  await lease.stop();
  assert.equal(lostDuringGained, false, `lost() ran while gained() was still starting the scheduler:\n${events.join('\n')}`);
});

test('a renewal query that never answers (half-open TCP): renewals are tried again, and stop() returns', async () => {
  const events: string[] = [];
  let queries = 0;
  const fake = fakePool(() => (queries++ === 0 ? 1 : Infinity));
  const lease = new LeaderLease({
    pool: fake.pool,
    name: 's',
    holder: 'a',
    ttlMs: 900,
    renewEveryMs: 200,
    nowMs: () => performance.now(),
    log: (line) => events.push(line),
    gained: () => undefined,
    lost: () => undefined,
  });
  await lease.start();
  await until(() => fake.calls() >= 4, 'lease queries after one that never answered');
  // Only a guard against a hang: stop() has nothing to wait for but a query bounded by the lease itself.
  let guard: NodeJS.Timeout | undefined;
  const stopped = await Promise.race([lease.stop().then(() => 'stopped'), new Promise((resolve) => (guard = setTimeout(resolve, 15_000, 'pending')))]);
  clearTimeout(guard);
  assert.equal(stopped, 'stopped', `stop() never returned:\n${events.join('\n')}`);
});
