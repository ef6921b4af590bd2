import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { BrowserContextOptions } from 'playwright-core';
import type { Lease, LeaseProvider } from '../../engine/browser/lease.ts';
import { BrowserPool } from '../../engine/browser/pool.ts';
import type { Clock } from '../../engine/core/clock.ts';
import { EngineError } from '../../engine/core/errors.ts';
import type { RunTransactionOutcome } from '../../engine/runner/run-transaction.ts';
import { Scheduler, type Job } from '../../engine/runner/scheduler.ts';
import type { RunResult } from '../../engine/schema/result.ts';
import { scriptSchema } from '../../engine/schema/script.ts';
import { startDemoSite, type DemoSite } from '../../scripts/demo-site/server.ts';
import { assertNoBrowserLeft, assertNoLiveBrowsers, processGroupOf } from '../helpers/processes.ts';

function job(name: string, steps: unknown[], extra: Partial<Job> = {}): Job {
  return { script: scriptSchema.parse({ name, steps }), secret: () => undefined, ...extra };
}

/** A job whose only step waits `delayMs` for the demo site's /slow page. */
function slowJob(site: DemoSite, name: string, delayMs: number, extra: Partial<Job> = {}): Job {
  return job(name, [{ name: 'Open slow page', actions: [{ type: 'navigate', url: `${site.url}/slow?delayMs=${delayMs}` }, { type: 'assertText', text: 'Served after' }] }], extra);
}

function quickJob(site: DemoSite, name: string, extra: Partial<Job> = {}): Job {
  return job(name, [{ name: 'Open page', actions: [{ type: 'navigate', url: `${site.url}/slow?delayMs=0` }] }], extra);
}

/** Resolves with the EngineError a rejected submit() carries. */
async function rejection(promise: Promise<unknown>): Promise<EngineError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof EngineError, `expected an EngineError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the promise to reject');
}

function errorsOf(outcome: RunTransactionOutcome | RunResult): string {
  const result = 'result' in outcome ? outcome.result : outcome;
  return JSON.stringify([result.error, ...result.steps.map((s) => s.error)]);
}

/** Counts leases held at once; `watch` marks the leases whose options match, to see who ran beside them. */
class CountingProvider implements LeaseProvider {
  readonly #inner: LeaseProvider;
  readonly #isWatched: (options: BrowserContextOptions) => boolean;
  active = 0;
  maxActive = 0;
  watchedActive = 0;
  /** Largest number of leases held while a watched lease was held (1 = it ran alone). */
  maxActiveWhileWatched = 0;
  watchedLeases = 0;
  /** Samples taken when a watched lease starts. */
  readonly samples: number[] = [];
  onWatchedLease: (() => void) | undefined;

  constructor(inner: LeaseProvider, isWatched: (options: BrowserContextOptions) => boolean) {
    this.#inner = inner;
    this.#isWatched = isWatched;
  }

  #update(): void {
    this.maxActive = Math.max(this.maxActive, this.active);
    if (this.watchedActive > 0) this.maxActiveWhileWatched = Math.max(this.maxActiveWhileWatched, this.active);
  }

  async lease(options: BrowserContextOptions): Promise<Lease> {
    const inner = await this.#inner.lease(options);
    const watched = this.#isWatched(options);
    this.active++;
    if (watched) {
      this.watchedActive++;
      this.watchedLeases++;
      this.onWatchedLease?.();
    }
    this.#update();
    let released = false;
    const release = async () => {
      if (released) return;
      released = true;
      this.active--;
      if (watched) this.watchedActive--;
      await inner.release();
    };
    // The pool's leases are plain objects: copy them with a counting release.
    return { ...inner, release, [Symbol.asyncDispose]: release };
  }
}

describe('scheduler on real Chromium', () => {
  let site: DemoSite;
  let pool: BrowserPool;
  const seenPids = new Set<number>();

  /** Remember the pool's browsers and their process groups, for the leak check at the end. */
  function note(): void {
    for (const pid of pool.browserPids) seenPids.add(pid).add(processGroupOf(pid) ?? pid);
  }

  before(async () => {
    site = await startDemoSite({ port: 0 });
    pool = new BrowserPool({ contextsPerBrowser: 4 });
    await pool.warm();
    note();
  });

  after(async () => {
    note();
    await pool.close();
    await site.close();
    await assertNoBrowserLeft([...seenPids]);
    await assertNoLiveBrowsers({ groups: [...seenPids] });
  });

  it('rejects a submit with QUEUE_FULL when maxQueued jobs already wait, and runs the accepted ones', async () => {
    const scheduler = new Scheduler({ leases: pool, concurrency: 1, maxQueued: 2 });
    const running = scheduler.submit(slowJob(site, 'Runs', 800));
    const waiting = [scheduler.submit(quickJob(site, 'Waits 1')), scheduler.submit(quickJob(site, 'Waits 2'))];
    assert.deepEqual({ running: scheduler.stats.running, queued: scheduler.stats.queued }, { running: 1, queued: 2 });

    const error = await rejection(scheduler.submit(quickJob(site, 'One too many')));
    assert.equal(error.code, 'QUEUE_FULL');
    assert.equal(error.blame, 'engine');
    assert.match(error.message, /the run queue is full \(2 waiting\)/);

    const outcomes = await Promise.all([running, ...waiting]);
    assert.deepEqual(outcomes.map((o) => o.result.status), ['passed', 'passed', 'passed'], outcomes.map(errorsOf).join('\n'));
    assert.deepEqual(scheduler.stats, { queued: 0, running: 0, completed: 3, rejected: 1, expired: 0 });
  });

  it('reports the time a job waited in the queue as queueWaitMs, outside its durationMs', async () => {
    // A clock that jumps 100 s while the second job waits: its queue wait must contain the jump, its
    // duration must not. No assumption about how fast anything runs.
    let offsetMs = 0;
    const clock: Clock = { nowMs: () => performance.now() + offsetMs, wallNow: () => new Date() };
    const jumpMs = 100_000;
    const scheduler = new Scheduler({ leases: pool, concurrency: 1, clock });
    const first = scheduler.submit(
      quickJob(site, 'First', {
        listener: {
          onStepEnd: () => {
            offsetMs += jumpMs;
          },
        },
      }),
    );
    const second = scheduler.submit(quickJob(site, 'Second'));
    const [a, b] = await Promise.all([first, second]);
    assert.equal(a.result.status, 'passed', errorsOf(a));
    assert.equal(b.result.status, 'passed', errorsOf(b));
    assert.ok(a.result.queueWaitMs !== undefined && a.result.queueWaitMs < jumpMs, `the first job did not wait (${a.result.queueWaitMs})`);
    assert.ok((b.result.queueWaitMs ?? 0) >= jumpMs, `the queued job reports its wait (${b.result.queueWaitMs})`);
    assert.ok(b.result.durationMs < jumpMs, `the wait is not part of durationMs (${b.result.durationMs})`);
    assert.equal(typeof b.result.leaseWaitMs, 'number');
  });

  it('drops a job that waited longer than maxQueueWaitMs with QUEUE_EXPIRED', async () => {
    const scheduler = new Scheduler({ leases: pool, concurrency: 1, maxQueueWaitMs: 200 });
    // The site holds the first job's page for 1 s, so the second job waits at least that long.
    const first = scheduler.submit(slowJob(site, 'Holds the lane', 1_000));
    const second = scheduler.submit(quickJob(site, 'Waits too long'));
    const error = await rejection(second);
    assert.equal(error.code, 'QUEUE_EXPIRED');
    assert.match(error.message, /^the run waited \d+ ms in the queue \(limit 200 ms\) and was dropped$/);
    assert.equal((await first).result.status, 'passed');
    assert.equal(scheduler.stats.expired, 1);
    assert.equal(scheduler.stats.completed, 1);
  });

  it('drains: aborts the running job after the grace period with RUN_ABORTED, drops queued jobs and refuses new ones', async () => {
    const scheduler = new Scheduler({ leases: pool, concurrency: 1 });
    let stepStarted!: () => void;
    const started = new Promise<void>((resolve) => (stepStarted = resolve));
    const running = scheduler.submit(slowJob(site, 'Long', 4_000, { listener: { onStepStart: () => stepStarted() } }));
    const queued = [scheduler.submit(quickJob(site, 'Queued 1')), scheduler.submit(quickJob(site, 'Queued 2'))];
    const queuedErrors = queued.map((promise) => rejection(promise));
    await started;

    await scheduler.drain(300);

    const { result } = await running;
    assert.equal(result.status, 'error');
    const step = result.steps[0]!;
    const code = result.error?.code ?? step.error?.code;
    assert.equal(code, 'RUN_ABORTED', errorsOf(result));
    assert.equal(step.error?.blame, 'engine');
    assert.match(step.error?.message ?? '', /^Step "Open slow page" › action 1 \(navigate\): the run was aborted: the checkpoint drained and the 300 ms grace period ended$/);
    assert.deepEqual(step.actions.map((a) => a.status), ['failed', 'skipped']);

    for (const error of await Promise.all(queuedErrors)) {
      assert.equal(error.code, 'RUN_ABORTED');
      assert.match(error.message, /draining; this queued run was not started/);
    }
    const refused = await rejection(scheduler.submit(quickJob(site, 'After drain')));
    assert.equal(refused.code, 'RUN_ABORTED');
    assert.match(refused.message, /draining and takes no new runs/);
    assert.equal(pool.stats.activeLeases, 0, 'the aborted run released its context');
  });

  it('runs a lighthouse-lane job alone: default jobs finish first and the next ones wait until it is done', async () => {
    const lighthouseAgent = 'checkpoint-lighthouse-lane-test';
    const counting = new CountingProvider(pool, (options) => options.userAgent === lighthouseAgent);
    const scheduler = new Scheduler({ leases: counting, concurrency: 2 });
    counting.onWatchedLease = () => counting.samples.push(scheduler.stats.running);

    const before = [scheduler.submit(slowJob(site, 'Default 1', 600)), scheduler.submit(slowJob(site, 'Default 2', 600))];
    const lighthouse = scheduler.submit({
      script: scriptSchema.parse({
        name: 'Lighthouse',
        settings: { userAgent: lighthouseAgent },
        steps: [{ name: 'Audit', actions: [{ type: 'navigate', url: `${site.url}/slow?delayMs=0` }, { type: 'waitForTime', durationMs: 600 }] }],
      }),
      secret: () => undefined,
      lane: 'lighthouse',
    });
    const afterwards = [scheduler.submit(slowJob(site, 'Default 3', 300)), scheduler.submit(slowJob(site, 'Default 4', 300))];
    const outcomes = await Promise.all([...before, lighthouse, ...afterwards]);

    assert.deepEqual(outcomes.map((o) => o.result.status), ['passed', 'passed', 'passed', 'passed', 'passed'], outcomes.map(errorsOf).join('\n'));
    assert.equal(counting.watchedLeases, 1);
    assert.equal(counting.maxActiveWhileWatched, 1, 'no other transaction held a context while the lighthouse job ran');
    assert.deepEqual(counting.samples, [1], 'one job was running when the lighthouse job got its context');
    assert.equal(counting.maxActive, 2, 'default jobs still ran two at a time');
  });
});
