import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { BrowserContextOptions } from 'playwright-core';
import type { Lease, LeaseProvider } from '../../engine/browser/lease.ts';
import { BrowserPool } from '../../engine/browser/pool.ts';
import { runTransaction } from '../../engine/runner/run-transaction.ts';
import type { RunResult, StepError } from '../../engine/schema/result.ts';
import { scriptSchema } from '../../engine/schema/script.ts';
import { startHostileSite, type HostileSite } from '../fixtures/hostile-site.ts';
import { assertNoBrowserLeft, assertNoLiveBrowsers, browserDirs, processGroupOf, waitForExit } from '../helpers/processes.ts';

/**
 * Longest a hostile run may take before the test calls it a hang. The runs below need a few seconds, up to
 * about 15 s when the page never yields (action timeout + grace, then the collectors' 10 s hook deadline).
 */
const hangDeadlineMs = 40_000;

/** What a timeout on a page that never yields reads like: the runner's own deadline, or Playwright's. */
const frozenPage = (ms: number | string) => new RegExp(`^(the browser did not answer within ${ms} ms \\(page busy or hung\\)|timed out after ${ms} ms\\b.*)$`);

/** Passes leases through, keeping them (to look at their pages, or to unblock a hung run). */
class WatchingProvider implements LeaseProvider {
  readonly #inner: LeaseProvider;
  readonly leases: Lease[] = [];
  pagesOpened = 0;

  constructor(inner: LeaseProvider) {
    this.#inner = inner;
  }

  async lease(options: BrowserContextOptions): Promise<Lease> {
    const lease = await this.#inner.lease(options);
    this.leases.push(lease);
    lease.context.on('page', () => this.pagesOpened++);
    return lease;
  }
}

/** A wait that does not keep the process alive after the tests (it is raced, and often loses). */
function sleep(ms: number): Promise<'slept'> {
  return new Promise((resolve) => setTimeout(() => resolve('slept'), ms).unref());
}

/** `Step "<name>" › action <n> (<type>): <reason>`: the sentence every step error must be. */
function assertSentence(error: StepError | undefined, step: string, action: number, type: string, reason: RegExp): void {
  assert.ok(error !== undefined, 'the step has an error');
  const prefix = `Step "${step}" › action ${action} (${type}): `;
  assert.ok(error.message.startsWith(prefix), `"${error.message}" starts with ${prefix}`);
  assert.match(error.message.slice(prefix.length), reason);
  assert.equal(error.action, action - 1);
}

describe('hostile pages on one browser pool', () => {
  let site: HostileSite;
  let pool: BrowserPool;
  const seenPids = new Set<number>();
  const seenDirs = new Set<string>();

  function note(): void {
    for (const pid of pool.browserPids) {
      seenPids.add(pid);
      // The pool may report the browser itself or the wrapper that leads its process group: keep both.
      const group = processGroupOf(pid);
      if (group !== undefined) seenPids.add(group);
      for (const dir of browserDirs(pid)) seenDirs.add(dir);
    }
  }

  /**
   * Run a script on the pool and return its result. A run that has not ended after `hangDeadlineMs` fails the
   * test; its context is closed first, so that the hung run ends and the file can go on.
   */
  async function runOnPool(script: unknown): Promise<{ result: RunResult; watch: WatchingProvider }> {
    const watch = new WatchingProvider(pool);
    const running = runTransaction({ script: scriptSchema.parse(script), browser: watch, secret: () => undefined });
    const first = await Promise.race([running, sleep(hangDeadlineMs)]);
    note();
    if (first === 'slept') {
      await Promise.race([Promise.all(watch.leases.map((lease) => lease.context.close().catch(() => undefined))), sleep(5_000)]);
      await Promise.race([running.catch(() => undefined), sleep(5_000)]);
      assert.fail(`the run did not end within ${hangDeadlineMs} ms`);
    }
    return { result: first.result, watch };
  }

  /** The pool still works: a normal page passes on it and every lease was given back. */
  async function assertPoolStillServes(): Promise<void> {
    const { result } = await runOnPool({
      name: 'Normal page',
      steps: [{ name: 'Open OK', actions: [{ type: 'navigate', url: `${site.url}/ok` }, { type: 'assertText', selector: 'h1', text: 'OK' }] }],
    });
    assert.equal(result.status, 'passed', JSON.stringify(result.steps.map((s) => s.error)));
    assert.equal(pool.stats.activeLeases, 0, 'no lease is still out');
  }

  before(async () => {
    site = await startHostileSite();
    pool = new BrowserPool({ callTimeoutMs: 5_000 });
    await pool.warm();
    note();
  });

  after(async () => {
    note();
    await pool.close();
    await site.close();
    await assertNoBrowserLeft([...seenPids]);
    await assertNoLiveBrowsers({ groups: [...seenPids] });
    assert.deepEqual([...seenDirs].filter((dir) => existsSync(dir)), [], 'every browser directory was removed');
  });

  it('ends a run stuck in an alert/confirm loop with ACTION_TIMEOUT, and the pool still serves', async () => {
    const { result } = await runOnPool({
      name: 'Alert loop',
      settings: { actionTimeoutMs: 2_000 },
      steps: [{ name: 'Read the page', timeoutMs: 15_000, actions: [{ type: 'navigate', url: `${site.url}/alert-loop` }, { type: 'assertText', text: 'Welcome' }] }],
    });
    assert.equal(result.status, 'failed');
    const error = result.steps[0]?.error;
    assert.equal(error?.code, 'ACTION_TIMEOUT');
    assert.equal(error.blame, 'site');
    assertSentence(error, 'Read the page', 2, 'assertText', frozenPage(2000));
    await assertPoolStillServes();
  });

  it('ends a run whose click starts an endless loop with ACTION_TIMEOUT, and the pool still serves', async () => {
    const { result } = await runOnPool({
      name: 'Busy loop',
      settings: { actionTimeoutMs: 2_000 },
      steps: [
        {
          name: 'Spin',
          timeoutMs: 15_000,
          actions: [{ type: 'navigate', url: `${site.url}/busy-loop` }, { type: 'click', selector: '#spin' }, { type: 'assertText', text: 'Done' }],
        },
      ],
    });
    assert.equal(result.status, 'failed');
    const error = result.steps[0]?.error;
    assert.ok(error?.code === 'ACTION_TIMEOUT', JSON.stringify(error));
    assert.equal(error.blame, 'site');
    // The click itself never gets its answer, or it does and the next action finds the page frozen.
    assert.ok(error.action === 1 || error.action === 2, JSON.stringify(error));
    assertSentence(error, 'Spin', error.action + 1, error.action === 1 ? 'click' : 'assertText', frozenPage(2000));
    await assertPoolStillServes();
  });

  it('ends a run whose page eats memory until its renderer dies, with a clear error, and the pool still serves', async () => {
    const crashesBefore = pool.stats.browsersRetired.crash;
    const { result } = await runOnPool({
      name: 'Memory hog',
      settings: { actionTimeoutMs: 3_000 },
      steps: [{ name: 'Hog', timeoutMs: 22_000, actions: [{ type: 'navigate', url: `${site.url}/memory-hog` }, { type: 'click', selector: '#hog', timeoutMs: 20_000 }] }],
    });
    const error = result.steps[0]?.error;
    assert.ok(error !== undefined, 'the step failed');
    if (error.code === 'BROWSER_CRASHED') {
      assert.equal(result.status, 'error');
      assert.equal(error.blame, 'engine');
      assertSentence(error, 'Hog', 2, 'click', /^the page crashed \(renderer process died, often out of memory\)$/);
      assert.equal(pool.stats.browsersRetired.crash, crashesBefore, 'a dead renderer does not cost the browser');
    } else {
      // The renderer outlived the action: then it is a plain, clearly worded timeout.
      assert.equal(error.code, 'ACTION_TIMEOUT', JSON.stringify(error));
      assertSentence(error, 'Hog', 2, 'click', frozenPage('\\d+'));
    }
    await assertPoolStillServes();
  });

  it('fails waitForNetworkIdle on a request that never ends with ACTION_TIMEOUT naming the open requests, and the pool still serves', async () => {
    const { result } = await runOnPool({
      name: 'Never ends',
      settings: { actionTimeoutMs: 2_000 },
      steps: [{ name: 'Wait for quiet', actions: [{ type: 'navigate', url: `${site.url}/never-ends` }, { type: 'waitForNetworkIdle' }] }],
    });
    assert.equal(result.status, 'failed');
    const error = result.steps[0]?.error;
    assert.equal(error?.code, 'ACTION_TIMEOUT');
    assert.equal(error.blame, 'site');
    assertSentence(error, 'Wait for quiet', 2, 'waitForNetworkIdle', /^the network did not go idle within 2000 ms \(1 request still open\)$/);
    // Closing the context dropped the request the page never got the end of.
    for (let tries = 0; site.openHangs > 0 && tries < 60; tries++) await sleep(50);
    assert.equal(site.openHangs, 0, 'the never-ending response was abandoned with the context');
    await assertPoolStillServes();
  });

  it('fails a navigation that turns into a download with NAVIGATION_FAILED, and the pool still serves', async () => {
    const { result } = await runOnPool({
      name: 'Download',
      settings: { actionTimeoutMs: 3_000 },
      steps: [{ name: 'Open report', actions: [{ type: 'navigate', url: `${site.url}/download` }] }],
    });
    assert.equal(result.status, 'failed');
    const error = result.steps[0]?.error;
    assert.equal(error?.code, 'NAVIGATION_FAILED');
    assert.equal(error.blame, 'site');
    assertSentence(error, 'Open report', 1, 'navigate', new RegExp(`^${site.url}/download answered with a file download \\(Content-Disposition: attachment\\), not a page$`));
    await assertPoolStillServes();
  });

  it('closes every popup of a popup storm with the context, and the pool still serves', async () => {
    const { result, watch } = await runOnPool({
      name: 'Popup storm',
      settings: { actionTimeoutMs: 5_000 },
      steps: [
        {
          name: 'Storm',
          actions: [
            { type: 'navigate', url: `${site.url}/popup-storm` },
            { type: 'click', selector: '#storm' },
            { type: 'switchTab', urlContains: 'popup=29' },
            { type: 'assertText', selector: 'h1', text: 'OK' },
          ],
        },
      ],
    });
    assert.equal(result.status, 'passed', JSON.stringify(result.steps.map((s) => s.error)));
    assert.equal(watch.pagesOpened, 30, 'the storm opened 30 popups');
    const [lease] = watch.leases;
    assert.ok(lease !== undefined);
    assert.deepEqual(lease.context.pages(), [], 'the context closed every page');
    assert.equal(pool.stats.activeLeases, 0);
    await assertPoolStillServes();
  });

  it('leaves no browser process, zombie or directory behind when the pool closes', async () => {
    note();
    const pids = [...seenPids];
    assert.ok(pids.length >= 1);
    await pool.close();
    assert.ok(await waitForExit(pids), 'the browsers exited');
    await assertNoBrowserLeft(pids);
    assert.deepEqual([...seenDirs].filter((dir) => existsSync(dir)), []);
    assert.equal(site.openHangs, 0);
  });
});
