import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, afterEach, before, describe, it } from 'node:test';
import { killProcessTree } from '../../engine/browser/browser-process.ts';
import { BrowserPool, type PoolOptions } from '../../engine/browser/pool.ts';
import { runTransaction } from '../../engine/runner/run-transaction.ts';
import type { RunResult } from '../../engine/schema/result.ts';
import { scriptSchema } from '../../engine/schema/script.ts';
import { startDemoSite, type DemoSite } from '../../scripts/demo-site/server.ts';
import { startHostileSite, type HostileSite } from '../fixtures/hostile-site.ts';
import {
  assertNoBrowserLeft,
  assertNoLiveBrowsers,
  browserDirs,
  checkpointTempDirs,
  isAlive,
  listProcesses,
  markerOf,
  processGroupOf,
  waitForExit,
} from '../helpers/processes.ts';

/** Run a literal script (validated, so a typo fails loudly) on the pool. */
async function run(pool: BrowserPool, script: unknown, listener?: { onStepStart?(info: { index: number; name: string }): void }): Promise<RunResult> {
  const { result } = await runTransaction({ script: scriptSchema.parse(script), browser: pool, secret: () => undefined, ...(listener === undefined ? {} : { listener }) });
  return result;
}

function okScript(url: string) {
  return { name: 'OK page', steps: [{ name: 'Open OK', actions: [{ type: 'navigate', url: `${url}/ok` }, { type: 'assertText', text: 'OK', selector: 'h1' }] }] };
}

/**
 * The browser process itself in the process group of `pid`. Playwright spawns what may be a distribution's
 * shell wrapper (`/bin/sh /usr/bin/chromium-headless-shell …`, which leads the group and carries the same
 * switches) whose child is the real browser: the deepest process carrying the pool marker without `--type=`.
 */
function realBrowserPid(pid: number): number {
  const all = listProcesses();
  const group = all.find((p) => p.pid === pid)?.pgrp ?? pid;
  const candidates = all.filter((p) => p.pgrp === group && markerOf(p) !== undefined && !p.args.some((a) => a.startsWith('--type=')));
  const pids = new Set(candidates.map((p) => p.pid));
  const deepest = candidates.find((p) => !candidates.some((c) => c.ppid === p.pid && pids.has(c.pid)));
  assert.ok(deepest !== undefined, `no browser process in the group of ${pid}`);
  return deepest.pid;
}

describe('browser pool on real Chromium', () => {
  let demo: DemoSite;
  let hostile: HostileSite;
  /** The pool most tests share (default options); closed at the end of the file. */
  let shared: BrowserPool;
  /** Pools made for one test; closed after it. */
  let own: BrowserPool[] = [];
  /** Every browser pid, marker and directory seen, for the leak checks. */
  const seenPids = new Set<number>();
  const seenMarkers = new Set<string>();
  const seenDirs = new Set<string>();
  let sampler: NodeJS.Timeout | undefined;

  /** Remember the live browsers of `pool` (also sampled every 50 ms, to catch short-lived ones). */
  function note(pool: BrowserPool): void {
    for (const pid of pool.browserPids) {
      if (!isAlive(pid)) continue;
      seenPids.add(pid);
      // Renderers, zygotes and a distribution's wrapper script share the browser's process group.
      const group = processGroupOf(pid) ?? pid;
      seenPids.add(group);
      for (const dir of browserDirs(pid)) seenDirs.add(dir);
      for (const info of listProcesses()) {
        const marker = info.pgrp === group ? markerOf(info) : undefined;
        if (marker !== undefined) seenMarkers.add(marker);
      }
    }
  }

  function newPool(options: PoolOptions = {}): BrowserPool {
    const pool = new BrowserPool(options);
    own.push(pool);
    return pool;
  }

  /** No process of a browser that is not in a live pool any more, no directory of it. */
  async function assertRetiredBrowsersGone(): Promise<void> {
    const live = new Set(shared.browserPids.flatMap((pid) => [pid, processGroupOf(pid) ?? pid]));
    const retired = [...seenPids].filter((pid) => !live.has(pid));
    await assertNoBrowserLeft(retired);
    const dirsOfLive = new Set(shared.browserPids.flatMap((pid) => browserDirs(pid)));
    const leftDirs = [...seenDirs].filter((dir) => !dirsOfLive.has(dir) && existsSync(dir));
    assert.deepEqual(leftDirs, [], 'temp and profile directories of retired browsers were removed');
  }

  before(async () => {
    [demo, hostile] = await Promise.all([startDemoSite({ port: 0 }), startHostileSite()]);
    shared = new BrowserPool();
    sampler = setInterval(() => [shared, ...own].forEach(note), 50);
  });

  afterEach(async () => {
    for (const pool of own) note(pool);
    note(shared);
    await Promise.all(own.map((pool) => pool.close()));
    own = [];
    await assertRetiredBrowsersGone();
  });

  after(async () => {
    clearInterval(sampler);
    note(shared);
    await shared.close();
    await Promise.all([demo.close(), hostile.close()]);
    await assertNoBrowserLeft([...seenPids]);
    await assertNoLiveBrowsers({ markers: [...seenMarkers], groups: [...seenPids] });
    assert.deepEqual([...seenDirs].filter((dir) => existsSync(dir)), [], 'every browser directory was removed');
    const ourTempDirs = [...seenDirs].filter((dir) => /checkpoint-browser-[^/]*$/.test(dir));
    assert.ok(ourTempDirs.length >= 5, `the leak checks saw the pools' temp directories (${ourTempDirs.length})`);
    assert.deepEqual(checkpointTempDirs().filter((dir) => ourTempDirs.includes(dir)), [], 'no checkpoint-browser-* directory of these pools remains');
  });

  it('isolates leases: cookies and localStorage set in one lease are absent in the next', async () => {
    const first = await shared.lease({});
    note(shared);
    try {
      await first.page.goto(`${hostile.url}/ok`);
      const stored = await first.page.evaluate(() => {
        localStorage.setItem('marker', 'lease-1');
        document.cookie = 'leak=1; path=/; max-age=3600';
        return { item: localStorage.getItem('marker'), cookie: document.cookie };
      });
      assert.deepEqual(stored, { item: 'lease-1', cookie: 'leak=1' }, 'the state was set in the first lease');
      assert.equal((await first.context.cookies()).length, 1);
    } finally {
      await first.release();
    }
    const second = await shared.lease({});
    try {
      await second.page.goto(`${hostile.url}/ok`);
      const seen = await second.page.evaluate(() => ({ item: localStorage.getItem('marker'), cookie: document.cookie }));
      assert.deepEqual(seen, { item: null, cookie: '' }, 'the next lease starts without the cookie and localStorage');
      assert.deepEqual(await second.context.cookies(), []);
    } finally {
      await second.release();
    }
    assert.equal(shared.stats.activeLeases, 0);
  });

  it('isolates leases: a service worker registered in one lease is not registered in the next', async () => {
    const options = { serviceWorkers: 'allow' } as const;
    const first = await shared.lease(options);
    try {
      await first.page.goto(`${hostile.url}/sw`);
      await first.page.locator('#status', { hasText: 'registered' }).waitFor({ timeout: 10_000 });
      const registrations = await first.page.evaluate(async () => (await navigator.serviceWorker.getRegistrations()).length);
      assert.equal(registrations, 1, 'the first lease registered a service worker');
    } finally {
      await first.release();
    }
    const second = await shared.lease(options);
    try {
      await second.page.goto(`${hostile.url}/ok`);
      const registrations = await second.page.evaluate(async () => (await navigator.serviceWorker.getRegistrations()).length);
      assert.equal(registrations, 0, 'the next lease sees no service worker registration');
    } finally {
      await second.release();
    }
    assert.equal(hostile.hits.get('/sw.js'), 1, 'the worker script was fetched once, by the first lease only');
  });

  it('takes the spare context warm() prepared for the first transaction, and prepares the next one during it', async () => {
    const pool = newPool();
    await pool.warm();
    note(pool);
    assert.equal(pool.stats.spareHits, 0);
    const first = await run(pool, okScript(hostile.url));
    assert.equal(first.status, 'passed', JSON.stringify(first.steps.map((s) => s.error)));
    assert.equal(pool.stats.spareHits, 1, 'the first transaction took the spare warm() prepared');
    assert.ok(typeof first.leaseWaitMs === 'number' && first.leaseWaitMs >= 0, `the result reports leaseWaitMs (${first.leaseWaitMs})`);
    const second = await run(pool, okScript(hostile.url));
    assert.equal(second.status, 'passed');
    assert.equal(pool.stats.spareHits, 2, 'the second took the spare prepared while the first ran');
    assert.equal(pool.stats.leases, 2);
    assert.equal(pool.stats.browsersLaunched, 1);
  });

  it('prepares the spare with the options of the latest lease, and hands it out when the next lease asks for the same', async () => {
    const options = { viewport: { width: 640, height: 480 } };
    await (await shared.lease(options)).release();
    const hits = shared.stats.spareHits;
    const lease = await shared.lease(options);
    note(shared);
    try {
      assert.equal(shared.stats.spareHits, hits + 1);
      assert.deepEqual(lease.page.viewportSize(), { width: 640, height: 480 }, 'the spare has the requested options');
      assert.ok(Number.isFinite(lease.leaseWaitMs) && lease.leaseWaitMs >= 0, `leaseWaitMs is reported (${lease.leaseWaitMs})`);
    } finally {
      await lease.release();
    }
    const other = await shared.lease({ viewport: { width: 800, height: 600 } });
    try {
      assert.equal(shared.stats.spareHits, hits + 1, 'a spare prepared for other options is not handed out');
      assert.deepEqual(other.page.viewportSize(), { width: 800, height: 600 });
    } finally {
      await other.release();
    }
  });

  it('recycles a browser after recycleAfterLeases leases and kills the old one', async () => {
    const pool = newPool({ recycleAfterLeases: 3, launchStaggerMs: 0 });
    const pids: number[] = [];
    for (let index = 0; index < 4; index++) {
      const lease = await pool.lease({});
      note(pool);
      pids.push(...pool.browserPids);
      await lease.page.goto(`${hostile.url}/ok`);
      await lease.release();
    }
    const stats = pool.stats;
    assert.equal(stats.browsersLaunched, 2, 'a second browser replaced the first');
    assert.equal(stats.browsersRetired.leases, 1);
    assert.equal(stats.leases, 4);
    const [oldPid] = pids;
    assert.ok(oldPid !== undefined);
    assert.deepEqual([...new Set(pids)].length, 2, `leases 1–3 used one browser, lease 4 another (${pids.join(', ')})`);
    assert.equal(pids[3] === oldPid, false);
    await assertNoBrowserLeft([oldPid]);
    assert.equal(pool.stats.liveBrowsers, 1);
  });

  it('fails only the transaction whose browser is killed, with BROWSER_CRASHED, and replaces the browser', async () => {
    // Start from a live browser so its pid is known before the transaction.
    await shared.warm();
    note(shared);
    const crashesBefore = shared.stats.browsersRetired.crash;
    let stepStarted!: () => void;
    const started = new Promise<void>((resolve) => (stepStarted = resolve));
    const running = run(
      shared,
      { name: 'Slow page', steps: [{ name: 'Open slow page', actions: [{ type: 'navigate', url: `${demo.url}/slow?delayMs=5000` }, { type: 'assertText', text: 'Served' }] }] },
      { onStepStart: () => stepStarted() },
    );
    await started;
    // Let the navigation reach the server (which holds it for 5 s).
    await new Promise((resolve) => setTimeout(resolve, 300));
    const [pid] = shared.browserPids;
    assert.ok(pid !== undefined);
    killProcessTree(pid);

    const result = await running;
    assert.equal(result.status, 'error');
    const step = result.steps[0]!;
    assert.equal(step.status, 'failed');
    assert.equal(step.error?.code, 'BROWSER_CRASHED');
    assert.equal(step.error?.blame, 'engine');
    assert.match(step.error?.message ?? '', /^Step "Open slow page" › action 1 \(navigate\): the browser/);
    assert.deepEqual(step.actions.map((a) => a.status), ['failed', 'skipped']);
    assert.ok(await waitForExit([pid]), 'the killed browser is gone');

    const next = await run(shared, okScript(hostile.url));
    note(shared);
    assert.equal(next.status, 'passed', JSON.stringify(next.steps.map((s) => s.error)));
    assert.equal(shared.stats.browsersRetired.crash, crashesBefore + 1, 'the dead browser was retired as a crash');
    assert.equal(shared.browserPids.includes(pid), false, 'the next transaction ran on a new browser');
    assert.equal(shared.stats.activeLeases, 0);
  });

  it('retires a hung browser whose context close times out, kills it, and serves the next lease on a new browser', async () => {
    const pool = newPool({ callTimeoutMs: 1_500, launchStaggerMs: 0, spareContext: false });
    const lease = await pool.lease({});
    note(pool);
    const [browserPid] = pool.browserPids;
    assert.ok(browserPid !== undefined);
    const groupPid = processGroupOf(browserPid) ?? browserPid;
    try {
      await lease.page.goto(`${hostile.url}/ok`);
      process.kill(browserPid, 'SIGSTOP');
      await lease.release();
      assert.equal(pool.stats.browsersRetired['hung-close'], 1, 'the browser was retired as hung');
      assert.ok(await waitForExit([groupPid, browserPid]), 'the hung browser was killed');

      const next = await pool.lease({});
      note(pool);
      try {
        await next.page.goto(`${hostile.url}/ok`);
        assert.equal(await next.page.locator('h1').innerText(), 'OK');
      } finally {
        await next.release();
      }
      assert.equal(pool.stats.browsersLaunched, 2);
      assert.equal(pool.browserPids.includes(browserPid), false, 'the next lease ran on a new browser');
    } finally {
      try {
        process.kill(browserPid, 'SIGCONT');
      } catch {
        // Already gone, as it should be.
      }
    }
  });

  it('reports the pid of the browser process itself, not of a wrapper script, so that signals sent to it reach the browser', async () => {
    // Shares the shared pool's browser: no extra launch.
    await shared.warm();
    note(shared);
    const [pid] = shared.browserPids;
    assert.ok(pid !== undefined);
    assert.equal(pid, realBrowserPid(pid));
  });

  it('leaves no process of the browser`s group behind when only the browser process is killed', async () => {
    await shared.warm();
    note(shared);
    const [pid] = shared.browserPids;
    assert.ok(pid !== undefined);
    const group = processGroupOf(pid) ?? pid;
    const crashes = shared.stats.browsersRetired.crash;
    process.kill(pid, 'SIGKILL');
    await assertNoBrowserLeft([pid, group]);
    for (let tries = 0; shared.stats.browsersRetired.crash === crashes && tries < 60; tries++) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(shared.stats.browsersRetired.crash, crashes + 1, 'the pool noticed and retired the browser');
    const next = await run(shared, okScript(hostile.url));
    note(shared);
    assert.equal(next.status, 'passed');
  });
});
