import type { Browser, BrowserContext, BrowserContextOptions, CDPSession, Frame, Page } from 'playwright-core';

/** Deadline of each wipe call; a page that does not let go of its document within it is not reused. */
const wipeCallTimeoutMs = 5_000;

/**
 * Calls through which a transaction (runner, collector, custom collector) changes context or page state that
 * the wipe does not undo. Using one makes the context unusable for the next transaction: it is closed.
 */
const unresettableContextCalls = ['setGeolocation', 'setOffline', 'setExtraHTTPHeaders', 'setHTTPCredentials', 'routeFromHAR', 'routeWebSocket', 'setDefaultTimeout', 'setDefaultNavigationTimeout'] as const;
const unresettablePageCalls = ['setViewportSize', 'emulateMedia', 'setExtraHTTPHeaders', 'routeFromHAR', 'routeWebSocket', 'setDefaultTimeout', 'setDefaultNavigationTimeout'] as const;
/** Calls that return a Disposable the wipe disposes (init scripts, exposed functions). */
const disposableCalls = ['addInitScript', 'exposeBinding', 'exposeFunction'] as const;

/** `scheme://host` of a URL: a conservative stand-in for its site (treats sibling subdomains as other sites). */
function hostOf(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? `${parsed.protocol}//${parsed.hostname}` : undefined;
  } catch {
    return undefined;
  }
}

/** Origin that can own storage (http, https; blob: URLs carry their creator's origin), else undefined. */
function storageOriginOf(url: string): string | undefined {
  try {
    const origin = new URL(url).origin;
    return origin.startsWith('http://') || origin.startsWith('https://') ? origin : undefined;
  } catch {
    return undefined;
  }
}

type Listener = (...args: unknown[]) => void;
interface Emitter {
  eventNames(): (string | symbol)[];
  listeners(event: string | symbol): Listener[];
  removeListener(event: string | symbol, listener: Listener): unknown;
}

function snapshotListeners(emitter: Emitter): Map<string | symbol, Listener[]> {
  return new Map(emitter.eventNames().map((name) => [name, emitter.listeners(name)]));
}

function removeListenersAddedSince(emitter: Emitter, before: Map<string | symbol, Listener[]>): void {
  for (const name of emitter.eventNames()) {
    const kept = before.get(name) ?? [];
    for (const listener of emitter.listeners(name)) if (!kept.includes(listener)) emitter.removeListener(name, listener);
  }
}

/**
 * One context and its single tab, kept for the next transaction with the same context options, and wiped in
 * between. A wipe is only attempted when everything the transaction could have left behind is known and can
 * be undone; otherwise `wipe()` says why and the pool closes the context (the next lease gets a fresh one).
 *
 * What the wipe undoes: the document and its in-page globals (navigation to about:blank, `window.name`
 * cleared, history reset), cookies (all of the context's, HttpOnly and third-party included), site data of every
 * origin a frame or worker of the tab ran in (`Storage.clearDataForOrigin` "all": localStorage, sessionStorage,
 * IndexedDB, Cache Storage, service workers, file systems…), the context's HTTP cache, permissions granted,
 * routes, init scripts and exposed functions added during the lease, CDP sessions opened during the lease,
 * and event listeners added during the lease.
 *
 * What makes it give up (fresh context instead): a second tab (popup), a download, a crash, a frame of another
 * site inside the tab (its storage is partitioned under a key the wipe does not address), an HTTP 401/407
 * (the auth cache has no CDP wipe), a call that changes emulation or network state (viewport, media,
 * geolocation, offline, extra headers, HTTP credentials, HAR routes, default timeouts), or a failed wipe step.
 *
 * What stays (documented in docs/pool-tuning.md): idle keep-alive connections, DNS and TLS session caches of
 * the context's network stack, and the tab's renderer process — the point of reuse.
 */
export class ReusableContext {
  readonly context: BrowserContext;
  readonly page: Page;
  /** The context options this context was made with (JSON): it only serves leases asking for the same. */
  readonly key: string;
  readonly #origins = new Set<string>();
  #dirty: string | undefined;
  #disposables: { dispose(): Promise<void> }[] = [];
  #sessions: CDPSession[] = [];
  #ownSession: CDPSession | undefined;
  #contextListeners = new Map<string | symbol, Listener[]>();
  #pageListeners = new Map<string | symbol, Listener[]>();
  #newCDPSession: BrowserContext['newCDPSession'];

  private constructor(context: BrowserContext, page: Page, key: string) {
    this.context = context;
    this.page = page;
    this.key = key;
    this.#newCDPSession = context.newCDPSession.bind(context);
    this.#watch();
    this.#guardCalls();
  }

  static async create(browser: Browser, options: BrowserContextOptions, key: string): Promise<ReusableContext> {
    const context = await browser.newContext(options);
    try {
      const page = await context.newPage();
      return new ReusableContext(context, page, key);
    } catch (error) {
      await context.close().catch(() => undefined);
      throw error;
    }
  }

  /** Why this context cannot be handed out again, if it cannot. */
  get dirtyReason(): string | undefined {
    return this.#dirty;
  }

  #markDirty(reason: string): void {
    this.#dirty ??= reason;
  }

  #watch(): void {
    const { context, page } = this;
    context.on('page', (other) => {
      if (other !== page) this.#markDirty('a second tab was opened');
    });
    page.on('crash', () => this.#markDirty('the page crashed'));
    page.on('close', () => this.#markDirty('the tab was closed'));
    page.on('download', () => this.#markDirty('a download started'));
    page.on('framenavigated', (frame: Frame) => this.#noteFrame(frame));
    page.on('worker', (worker) => {
      const origin = storageOriginOf(worker.url());
      if (origin !== undefined) this.#origins.add(origin);
    });
    // Credentials in a URL (navigation, or XMLHttpRequest.open with user and password) land in the network
    // stack's HTTP auth cache, which no CDP call clears. Playwright's request URLs keep them.
    context.on('request', (request) => {
      const url = request.url();
      if (url.includes('@') && /^https?:\/\/[^/?#]*@/.test(url)) this.#markDirty('HTTP credentials in a URL (the auth cache cannot be wiped)');
    });
  }

  #noteFrame(frame: Frame): void {
    const url = frame.url();
    const origin = storageOriginOf(url);
    if (origin !== undefined) this.#origins.add(origin);
    if (frame === this.page.mainFrame()) return;
    const top = hostOf(this.page.mainFrame().url());
    const own = hostOf(url);
    // A frame of another site keeps its storage under a partitioned key (top site + origin).
    if (own !== undefined && own !== top) this.#markDirty('a frame of another site inside the tab');
  }

  /** Wrap the state-changing calls of context and page on these two objects only. */
  #guardCalls(): void {
    const record = (target: object, name: string) => {
      const original = (target as Record<string, unknown>)[name];
      if (typeof original !== 'function') return;
      const wrapped = async (...args: unknown[]) => {
        const disposable = (await (original as (...a: unknown[]) => Promise<unknown>).apply(target, args)) as { dispose(): Promise<void> } | undefined;
        if (disposable !== undefined && typeof disposable.dispose === 'function') this.#disposables.push(disposable);
        return disposable;
      };
      Object.defineProperty(target, name, { value: wrapped, configurable: true, writable: true });
    };
    const poison = (target: object, name: string, where: string) => {
      const original = (target as Record<string, unknown>)[name];
      if (typeof original !== 'function') return;
      const wrapped = (...args: unknown[]) => {
        this.#markDirty(`${where}.${name}() changed state the wipe does not undo`);
        return (original as (...a: unknown[]) => unknown).apply(target, args);
      };
      Object.defineProperty(target, name, { value: wrapped, configurable: true, writable: true });
    };
    for (const name of disposableCalls) {
      record(this.context, name);
      record(this.page, name);
    }
    for (const name of unresettableContextCalls) poison(this.context, name, 'context');
    for (const name of unresettablePageCalls) poison(this.page, name, 'page');
    const newCDPSession = this.#newCDPSession;
    Object.defineProperty(this.context, 'newCDPSession', {
      value: async (target: Page | Frame) => {
        const session = await newCDPSession(target);
        this.#sessions.push(session);
        return session;
      },
      configurable: true,
      writable: true,
    });
  }

  /** Call when the context is handed to a transaction: what is added from now on is removed by `wipe()`. */
  beginLease(): void {
    this.#contextListeners = snapshotListeners(this.context as unknown as Emitter);
    this.#pageListeners = snapshotListeners(this.page as unknown as Emitter);
  }

  /**
   * Undo what the transaction left. Resolves to undefined when the context is clean and may serve the next
   * lease, or to the reason it may not (the caller closes it).
   */
  async wipe(): Promise<string | undefined> {
    if (this.#dirty !== undefined) return this.#dirty;
    const { context, page } = this;
    if (page.isClosed() || context.pages().length !== 1) return 'the tab is gone or another is open';
    // Stop the transaction's listeners first: they must not see the wipe's own navigation.
    removeListenersAddedSince(context as unknown as Emitter, this.#contextListeners);
    removeListenersAddedSince(page as unknown as Emitter, this.#pageListeners);
    try {
      const sessions = this.#sessions;
      const disposables = this.#disposables;
      this.#sessions = [];
      this.#disposables = [];
      await Promise.all([...sessions.map((s) => s.detach().catch(() => undefined)), ...disposables.map((d) => d.dispose())]);
      await Promise.all([context.unrouteAll({ behavior: 'ignoreErrors' }), page.unrouteAll({ behavior: 'ignoreErrors' })]);
      // Leave the document first, so no script of it writes storage after the wipe (unload handlers run here).
      await page.goto('about:blank', { timeout: wipeCallTimeoutMs });
      const cdp = (this.#ownSession ??= await this.#newCDPSession(page));
      const origins = [...this.#origins];
      this.#origins.clear();
      await Promise.all([
        cdp.send('Page.resetNavigationHistory'),
        // The browsing context's name survives navigations within a tab.
        page.evaluate(() => {
          window.name = '';
        }),
        context.clearCookies(),
        context.clearPermissions(),
        cdp.send('Network.clearBrowserCache'),
        ...origins.map((origin) => cdp.send('Storage.clearDataForOrigin', { origin, storageTypes: 'all' })),
      ]);
    } catch {
      return 'a wipe step failed';
    }
    // Anything that happened during the wipe (a late popup, a crash) still counts.
    return this.#dirty;
  }
}
