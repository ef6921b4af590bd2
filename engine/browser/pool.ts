import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import { systemClock, type Clock } from '../core/clock.ts';
import { EngineError } from '../core/errors.ts';
import { findBrowserProcess, isProcessAlive, killProcessTree, processTreeRssBytes } from './browser-process.ts';
import { defaultContextOptions } from './context-options.ts';
import { registerDevtoolsEndpoint, remoteDebuggingArgs } from './devtools-endpoint.ts';
import { browserEnv, chooseExecutable, chromiumArgs, networkLaunchOptions, rememberNetwork, type BrowserNetwork } from './launch.ts';
import { discoverBrowsers } from './discover.ts';
import { watchForCrashes, withCallDeadline, type Lease, type LeaseProvider } from './lease.ts';
import { ReusableContext } from './reusable-context.ts';

/**
 * Features a headless pool switches off by default: with them Chromium swaps to a new renderer (browsing
 * instance, render document) on same-site navigations, for a back/forward cache that scripted transactions never
 * use (the script format has no history navigation). Measured: ≈8–10 % less CPU per transaction.
 */
export const lighterProcessModel: readonly string[] = ['ProactivelySwapBrowsingInstance', 'RenderDocument'];

export interface PoolOptions {
  /** Browsers kept warm. One browser serves several contexts; more browsers mostly cost memory. Default 1. */
  browsers?: number;
  /** Contexts one browser serves at once. Default 4. */
  contextsPerBrowser?: number;
  /** Retire a browser after this many leases (Chromium leaks slowly). Default 100. */
  recycleAfterLeases?: number;
  /** Retire a browser older than this. Default 30 minutes. */
  maxBrowserAgeMs?: number;
  /** Retire a browser whose process tree grows past this resident size. Default 1.5 GiB. */
  maxBrowserRssBytes?: number;
  /** Deadline of each browser call that can hang: newContext, newPage, context.close, browser.close. Default 10 s. */
  callTimeoutMs?: number;
  /** Minimum gap between two browser launches: launching is the most CPU-hungry moment. Default 500 ms. */
  launchStaggerMs?: number;
  /**
   * Prepare contexts and pages ahead of demand, one per free slot of a browser (so simultaneous leases each
   * find one). Default true.
   */
  spareContext?: boolean;
  /**
   * Keep a released context and its tab for the next lease with the same context options, wiped in between
   * (`reusable-context.ts` says what is wiped and when the pool falls back to a fresh context). Saves a
   * renderer process per transaction. The next transaction starts with the context's idle keep-alive
   * connections and DNS/TLS caches warm. Ignored with `remoteDebugging` (other DevTools clients such as
   * Lighthouse change state the wipe cannot see). Default false.
   */
  reuseContexts?: boolean;
  executablePath?: string;
  /**
   * Chromium features to switch off in every browser. Default for headless pools: `lighterProcessModel`
   * (a renderer process kept across same-site navigations: ≈8–10 % less CPU per transaction, see
   * docs/pool-tuning.md); none for headed ones. `[]` keeps Chromium's own process model.
   */
  disableFeatures?: readonly string[];
  headed?: boolean;
  /** Open a DevTools port on loopback in every browser (Lighthouse needs it). */
  remoteDebugging?: boolean;
  /** Proxy and trusted CAs of the test traffic (launch.ts). */
  network?: BrowserNetwork | undefined;
  clock?: Clock;
}

export type RetireReason = 'leases' | 'age' | 'memory' | 'crash' | 'hung-close' | 'shutdown';

export interface PoolStats {
  browsersLaunched: number;
  browsersRetired: Record<RetireReason, number>;
  leases: number;
  spareHits: number;
  /** Leases served by a context wiped after an earlier lease (`reuseContexts`). */
  contextReuses: number;
  /** Released contexts closed instead of reused because the wipe could not be trusted, by reason. */
  reuseFallbacks: Record<string, number>;
  liveBrowsers: number;
  activeLeases: number;
}

interface Prepared {
  context: BrowserContext;
  page: Page;
  /** Set in `reuseContexts` mode. */
  reusable?: ReusableContext;
}

/** A context ready for the next lease: a spare made ahead of demand, or a wiped one (`reused`). */
interface Idle {
  key: string;
  ready: Promise<Prepared | undefined>;
  reused: boolean;
}

/** One warm browser and its bookkeeping. */
class PooledBrowser {
  readonly id: string;
  readonly browser: Browser;
  readonly launchedAtMs: number;
  readonly pid: number | undefined;
  readonly pgid: number | undefined;
  readonly profileDirs: string[];
  leasesServed = 0;
  active = 0;
  state: 'ready' | 'retiring' | 'gone' = 'ready';
  idle: Idle[] = [];

  constructor(id: string, browser: Browser, launchedAtMs: number, found: { pid: number; pgid: number } | undefined, profileDirs: string[]) {
    this.id = id;
    this.browser = browser;
    this.launchedAtMs = launchedAtMs;
    this.pid = found?.pid;
    this.pgid = found?.pgid;
    this.profileDirs = profileDirs;
  }
}

/**
 * Warm browsers handing out a fresh context per transaction. The unit of isolation is the context (closed
 * after every lease, or with `reuseContexts` wiped and kept for the next lease with the same options when the
 * wipe can be trusted, else closed); the unit of failure and ageing is the browser (recycled after N leases, an
 * age or a memory limit, replaced after a crash or a hung close, killed with its process tree when it won't
 * close). Isolation of both modes is proven by test/integration/lease-isolation.test.ts.
 */
export class BrowserPool implements LeaseProvider {
  readonly #options: Required<Omit<PoolOptions, 'executablePath' | 'clock' | 'disableFeatures' | 'network'>> & { executablePath: string; disableFeatures: readonly string[]; network: BrowserNetwork | undefined };
  readonly #clock: Clock;
  readonly #browsers = new Set<PooledBrowser>();
  #launching: Promise<PooledBrowser> | undefined;
  #lastLaunchMs = Number.NEGATIVE_INFINITY;
  #closed = false;
  #waiters: (() => void)[] = [];
  readonly #stats: PoolStats = {
    browsersLaunched: 0,
    browsersRetired: { leases: 0, age: 0, memory: 0, crash: 0, 'hung-close': 0, shutdown: 0 },
    leases: 0,
    spareHits: 0,
    contextReuses: 0,
    reuseFallbacks: {},
    liveBrowsers: 0,
    activeLeases: 0,
  };

  constructor(options: PoolOptions = {}) {
    const headed = options.headed ?? false;
    this.#options = {
      browsers: options.browsers ?? 1,
      contextsPerBrowser: options.contextsPerBrowser ?? 4,
      recycleAfterLeases: options.recycleAfterLeases ?? 100,
      maxBrowserAgeMs: options.maxBrowserAgeMs ?? 30 * 60_000,
      maxBrowserRssBytes: options.maxBrowserRssBytes ?? 1.5 * 1024 ** 3,
      callTimeoutMs: options.callTimeoutMs ?? 10_000,
      launchStaggerMs: options.launchStaggerMs ?? 500,
      spareContext: options.spareContext ?? true,
      // A DevTools port lets other clients (Lighthouse) change emulation and throttling behind the wipe's back.
      reuseContexts: (options.reuseContexts ?? false) && options.remoteDebugging !== true,
      disableFeatures: options.disableFeatures ?? (headed ? [] : lighterProcessModel),
      remoteDebugging: options.remoteDebugging ?? false,
      headed,
      executablePath: options.executablePath ?? chooseExecutable(discoverBrowsers(), headed),
      network: options.network,
    };
    this.#clock = options.clock ?? systemClock;
  }

  get stats(): PoolStats {
    const live = [...this.#browsers].filter((b) => b.state !== 'gone');
    return { ...this.#stats, browsersRetired: { ...this.#stats.browsersRetired }, reuseFallbacks: { ...this.#stats.reuseFallbacks }, liveBrowsers: live.length, activeLeases: live.reduce((n, b) => n + b.active, 0) };
  }

  /** Pids of the live browsers (for leak checks and metrics). */
  get browserPids(): number[] {
    return [...this.#browsers].flatMap((b) => (b.pid === undefined || b.state === 'gone' ? [] : [b.pid]));
  }

  /** Launch the browsers ahead of the first lease. */
  async warm(): Promise<void> {
    while (this.#readyBrowsers().length < this.#options.browsers) await this.#launch();
    const options = defaultContextOptions();
    for (const browser of this.#readyBrowsers()) this.#prepareSpares(browser, JSON.stringify(options), options);
    await Promise.all(this.#readyBrowsers().flatMap((b) => b.idle.map((idle) => idle.ready)));
  }

  #readyBrowsers(): PooledBrowser[] {
    return [...this.#browsers].filter((b) => b.state === 'ready');
  }

  async #launch(): Promise<PooledBrowser> {
    if (this.#launching !== undefined) return this.#launching;
    this.#launching = (async () => {
      const waitMs = this.#lastLaunchMs + this.#options.launchStaggerMs - this.#clock.nowMs();
      if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
      this.#lastLaunchMs = this.#clock.nowMs();
      const id = randomUUID();
      const marker = `--checkpoint-browser=${id}`;
      const tempDir = await mkdtemp(join(tmpdir(), 'checkpoint-browser-'));
      let browser: Browser;
      try {
        const network = networkLaunchOptions(this.#options.network);
        browser = await chromium.launch({
          ...(network.proxy === undefined ? {} : { proxy: network.proxy }),
          executablePath: this.#options.executablePath,
          headless: !this.#options.headed,
          args: [...chromiumArgs(this.#options.disableFeatures), marker, ...(this.#options.remoteDebugging ? remoteDebuggingArgs : [])],
          // Chromium's own scratch files go to a directory we remove with the browser.
          env: browserEnv({ TMPDIR: tempDir, ...network.env }),
          timeout: 30_000,
          handleSIGINT: false,
          handleSIGTERM: false,
          handleSIGHUP: false,
        });
      } catch (error) {
        await rm(tempDir, { recursive: true, force: true });
        throw new EngineError('BROWSER_LAUNCH_FAILED', `could not start ${this.#options.executablePath}: ${error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error)}`, 'engine', { cause: error });
      }
      rememberNetwork(browser, this.#options.network);
      const found = findBrowserProcess(marker);
      if (this.#options.remoteDebugging) await registerDevtoolsEndpoint(browser, marker);
      const pooled = new PooledBrowser(id, browser, this.#clock.nowMs(), found, [tempDir, ...(found?.userDataDir === undefined ? [] : [found.userDataDir])]);
      browser.on('disconnected', () => {
        if (pooled.state !== 'gone') void this.#retire(pooled, 'crash');
      });
      this.#browsers.add(pooled);
      this.#stats.browsersLaunched++;
      return pooled;
    })();
    try {
      return await this.#launching;
    } finally {
      this.#launching = undefined;
    }
  }

  #needsRecycling(browser: PooledBrowser): RetireReason | undefined {
    if (browser.leasesServed >= this.#options.recycleAfterLeases) return 'leases';
    if (this.#clock.nowMs() - browser.launchedAtMs >= this.#options.maxBrowserAgeMs) return 'age';
    if (browser.pgid !== undefined && processTreeRssBytes(browser.pgid) > this.#options.maxBrowserRssBytes) return 'memory';
    return undefined;
  }

  /** A ready browser with a free slot, launching one when the pool is below size. Waits when all are busy. */
  async #acquireBrowser(): Promise<PooledBrowser> {
    for (;;) {
      if (this.#closed) throw new EngineError('INTERNAL', 'the browser pool is closed', 'engine');
      const ready = this.#readyBrowsers();
      const free = ready.filter((b) => b.active < this.#options.contextsPerBrowser).sort((a, b) => a.active - b.active)[0];
      if (free !== undefined) return free;
      if (ready.length < this.#options.browsers) return this.#launch();
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  async #newContext(browser: PooledBrowser, options: BrowserContextOptions, key: string): Promise<Prepared> {
    const timeoutMs = this.#options.callTimeoutMs;
    if (this.#options.reuseContexts) {
      const reusable = await withCallDeadline(ReusableContext.create(browser.browser, options, key), timeoutMs, 'creating a browser context');
      return { context: reusable.context, page: reusable.page, reusable };
    }
    const context = await withCallDeadline(browser.browser.newContext(options), timeoutMs, 'creating a browser context');
    const page = await withCallDeadline(context.newPage(), timeoutMs, 'opening a page');
    return { context, page };
  }

  #discard(idle: Idle): void {
    void idle.ready.then((prepared) => prepared?.context.close()).catch(() => undefined);
  }

  /**
   * Keep one ready context per free slot of the browser, for the options of the latest lease. Contexts made
   * for other options are dropped when the slots are needed (the next spares follow the latest settings).
   */
  #prepareSpares(browser: PooledBrowser, key: string, options: BrowserContextOptions): void {
    if (browser.state !== 'ready') return;
    const slots = this.#options.contextsPerBrowser;
    for (const idle of browser.idle.filter((i) => i.key !== key && !i.reused)) {
      browser.idle.splice(browser.idle.indexOf(idle), 1);
      this.#discard(idle);
    }
    while (browser.active + browser.idle.length > slots) {
      const index = browser.idle.findLastIndex((idle) => idle.key !== key);
      if (index < 0) break;
      const [dropped] = browser.idle.splice(index, 1);
      if (dropped !== undefined) this.#discard(dropped);
    }
    if (!this.#options.spareContext) return;
    while (browser.active + browser.idle.length < slots) {
      const ready = this.#newContext(browser, options, key).catch(() => undefined);
      browser.idle.push({ key, ready, reused: false });
    }
  }

  /** A ready context for `key`: a wiped one first (its renderer is warm), else a spare. */
  async #takeIdle(browser: PooledBrowser, key: string): Promise<{ prepared: Prepared; reused: boolean } | undefined> {
    for (;;) {
      const index = browser.idle.findIndex((idle) => idle.key === key);
      if (index < 0) return undefined;
      const [idle] = browser.idle.splice(index, 1);
      if (idle === undefined) return undefined;
      const prepared = await idle.ready;
      if (prepared !== undefined && !prepared.page.isClosed()) return { prepared, reused: idle.reused };
      if (prepared !== undefined) void prepared.context.close().catch(() => undefined);
    }
  }

  async lease(options: BrowserContextOptions): Promise<Lease> {
    const started = this.#clock.nowMs();
    const key = JSON.stringify(options);
    const pooled = await this.#acquireBrowser();
    pooled.active++;
    let prepared: Prepared;
    try {
      const taken = await this.#takeIdle(pooled, key);
      if (taken === undefined) {
        prepared = await this.#newContext(pooled, options, key);
      } else {
        prepared = taken.prepared;
        if (taken.reused) this.#stats.contextReuses++;
        else this.#stats.spareHits++;
      }
    } catch (error) {
      pooled.active--;
      void this.#retire(pooled, pooled.browser.isConnected() ? 'hung-close' : 'crash');
      throw error instanceof EngineError ? error : new EngineError('BROWSER_CRASHED', `could not open a context: ${String(error)}`, 'engine', { cause: error });
    }
    this.#stats.leases++;
    const leaseWaitMs = this.#clock.nowMs() - started;
    // Get the next ones ready while this transaction runs.
    this.#prepareSpares(pooled, key, options);
    const { context, page, reusable } = prepared;
    reusable?.beginLease();
    const controller = new AbortController();
    const unwatch = watchForCrashes(pooled.browser, context, controller);
    let released = false;
    const release = async () => {
      if (released) return;
      released = true;
      unwatch();
      const kept = reusable !== undefined && pooled.state === 'ready' && (await this.#wipe(reusable));
      if (kept && pooled.state === 'ready') {
        pooled.idle.unshift({ key, ready: Promise.resolve(prepared), reused: true });
      } else {
        try {
          await withCallDeadline(context.close(), this.#options.callTimeoutMs, 'closing the browser context');
        } catch {
          await this.#retire(pooled, pooled.browser.isConnected() ? 'hung-close' : 'crash');
        }
      }
      pooled.active--;
      pooled.leasesServed++;
      const reason = pooled.state === 'ready' ? this.#needsRecycling(pooled) : undefined;
      if (reason !== undefined) await this.#retire(pooled, reason);
      else if (pooled.state === 'retiring' && pooled.active === 0) await this.#closeBrowser(pooled);
      this.#wake();
    };
    return { context, page, browserVersion: pooled.browser.version(), browser: pooled.browser, crashSignal: controller.signal, leaseWaitMs, release, [Symbol.asyncDispose]: release };
  }

  /** Wipe a released context for the next lease; false (and the reason counted) when it must be closed. */
  async #wipe(reusable: ReusableContext): Promise<boolean> {
    let reason: string | undefined;
    try {
      reason = await withCallDeadline(reusable.wipe(), this.#options.callTimeoutMs, 'wiping the browser context');
    } catch (error) {
      reason = error instanceof Error ? error.message : String(error);
    }
    if (reason === undefined) return true;
    this.#stats.reuseFallbacks[reason] = (this.#stats.reuseFallbacks[reason] ?? 0) + 1;
    return false;
  }

  /**
   * Take a browser out of service. In-flight leases finish first (recycling); a crashed or hung browser is
   * killed at once with its process tree.
   */
  async #retire(browser: PooledBrowser, reason: RetireReason): Promise<void> {
    if (browser.state !== 'ready') {
      if (reason === 'crash' || reason === 'hung-close') await this.#kill(browser);
      return;
    }
    browser.state = 'retiring';
    this.#stats.browsersRetired[reason]++;
    const idle = browser.idle;
    browser.idle = [];
    if (reason === 'crash' || reason === 'hung-close') {
      await this.#kill(browser);
    } else {
      for (const context of idle) this.#discard(context);
      if (browser.active === 0) await this.#closeBrowser(browser);
    }
    this.#wake();
  }

  async #closeBrowser(browser: PooledBrowser): Promise<void> {
    if (browser.state === 'gone') return;
    try {
      await withCallDeadline(browser.browser.close(), this.#options.callTimeoutMs, 'closing the browser');
    } catch {
      // Fall through to the kill below.
    }
    await this.#kill(browser);
  }

  async #kill(browser: PooledBrowser): Promise<void> {
    const wasGone = browser.state === 'gone';
    browser.state = 'gone';
    this.#browsers.delete(browser);
    // Signal the whole group even when the browser itself is gone: its children may linger.
    if (browser.pgid !== undefined) killProcessTree(browser.pgid, browser.pgid);
    else if (browser.pid !== undefined && isProcessAlive(browser.pid)) killProcessTree(browser.pid);
    if (!wasGone) {
      // Let Playwright notice the exit before the profile directory goes.
      await browser.browser.close().catch(() => undefined);
      for (const dir of browser.profileDirs) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    }
    this.#wake();
  }

  /** Close every browser. In-flight leases fail with BROWSER_CRASHED. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#wake();
    const all = [...this.#browsers];
    for (const browser of all) {
      if (browser.state === 'ready') this.#stats.browsersRetired.shutdown++;
      browser.state = 'retiring';
    }
    await Promise.all(all.map((browser) => this.#closeBrowser(browser)));
  }
}
