// Isolation between two consecutive leases of the same pool slot, for every leasing mode the pool has: a fresh
// context per lease (default) and a reused, wiped context (`reuseContexts`). Transaction A writes to every kind
// of browser state; B, the next lease on the same slot, must see none of it. When the wipe cannot be trusted
// (popup, download, a closed tab, a frame of another site, an auth challenge, an emulation change, other context
// options), the pool must hand B a fresh context instead.
import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { BrowserContextOptions } from 'playwright-core';
import { defaultContextOptions } from '../../engine/browser/context-options.ts';
import type { Lease } from '../../engine/browser/lease.ts';
import { BrowserPool } from '../../engine/browser/pool.ts';
import { runTransaction } from '../../engine/runner/run-transaction.ts';
import { scriptSchema } from '../../engine/schema/script.ts';

interface TestServer {
  origin: string;
  /** The same server under another host name: another site for the browser. */
  otherSiteOrigin: string;
  hits: Map<string, number>;
  close(): Promise<void>;
}

const user = 'alice';
const password = 'wonderland';

async function startServer(): Promise<TestServer> {
  const hits = new Map<string, number>();
  const html = (res: ServerResponse, body: string) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><html><head><title>t</title></head><body>${body}</body></html>`);
  };
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    switch (path) {
      case '/page':
        return html(res, '<h1>page</h1>');
      case '/with-cached-script':
        return html(res, '<script src="/cached.js"></script><h1>cached</h1>');
      case '/cached.js':
        res.writeHead(200, { 'content-type': 'text/javascript', 'cache-control': 'public, max-age=3600' });
        return res.end('window.cachedScriptRuns = (window.cachedScriptRuns || 0) + 1;');
      case '/set-cookie':
        res.writeHead(200, { 'set-cookie': 'secret=httponly-a; Path=/; HttpOnly; Max-Age=3600', 'content-type': 'text/plain' });
        return res.end('set');
      case '/echo-cookie':
        res.writeHead(200, { 'content-type': 'text/plain' });
        return res.end(req.headers.cookie ?? '');
      case '/sw.js':
        res.writeHead(200, { 'content-type': 'text/javascript' });
        return res.end("self.addEventListener('install', () => self.skipWaiting()); self.addEventListener('activate', (e) => e.waitUntil(self.clients.claim())); self.addEventListener('fetch', () => {});");
      case '/auth': {
        const expected = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
        if (req.headers.authorization !== expected) {
          res.writeHead(401, { 'www-authenticate': 'Basic realm="test"', 'content-type': 'text/plain' });
          return res.end('challenge');
        }
        return html(res, '<h1>authenticated</h1>');
      }
      case '/download':
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-disposition': 'attachment; filename="a.bin"' });
        return res.end('bytes');
      case '/frame-host': {
        const src = new URL(req.url ?? '/', 'http://x').searchParams.get('src') ?? '';
        return html(res, `<iframe src="${src}"></iframe>`);
      }
      default:
        res.writeHead(404);
        return res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    otherSiteOrigin: `http://localhost:${port}`,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Everything transaction B could see of transaction A, read from inside B's page. */
async function readState(lease: Lease, origin: string) {
  const { page } = lease;
  await page.goto(`${origin}/page`);
  const inPage = await page.evaluate(async () => {
    const w = window as unknown as Record<string, unknown>;
    const databases = await indexedDB.databases();
    const cacheNames = await caches.keys();
    const registrations = await navigator.serviceWorker.getRegistrations();
    const permission = async (name: string) => (await navigator.permissions.query({ name: name as PermissionName })).state;
    return {
      cookie: document.cookie,
      localStorage: localStorage.length,
      sessionStorage: sessionStorage.length,
      indexedDB: databases.map((d) => d.name),
      cacheStorage: cacheNames,
      serviceWorkers: registrations.length,
      controlled: navigator.serviceWorker.controller !== null,
      globalX: w['leakedGlobal'] ?? null,
      windowName: window.name,
      geolocation: await permission('geolocation'),
      notifications: await permission('notifications'),
    };
  });
  const cookieHeader = await page.evaluate(async () => (await fetch('/echo-cookie')).text());
  return { ...inPage, cookieHeader, contextCookies: (await lease.context.cookies()).length };
}

const cleanState = {
  cookie: '',
  localStorage: 0,
  sessionStorage: 0,
  indexedDB: [],
  cacheStorage: [],
  serviceWorkers: 0,
  controlled: false,
  globalX: null,
  windowName: '',
  cookieHeader: '',
  contextCookies: 0,
};

/** Transaction A: write to every kind of storage the page can reach, and check that it stuck. */
async function writeEverything(lease: Lease, origin: string): Promise<void> {
  const { page, context } = lease;
  await page.goto(`${origin}/page`);
  await page.evaluate(() => fetch('/set-cookie'));
  await context.grantPermissions(['geolocation', 'notifications'], { origin });
  const written = await page.evaluate(async () => {
    document.cookie = 'visible=a; path=/; max-age=3600';
    localStorage.setItem('k', 'a');
    sessionStorage.setItem('k', 'a');
    (window as unknown as Record<string, unknown>)['leakedGlobal'] = 'a';
    window.name = 'transaction-a';
    await new Promise<void>((resolve, reject) => {
      const open = indexedDB.open('leak-db', 1);
      open.onupgradeneeded = () => open.result.createObjectStore('s');
      open.onsuccess = () => {
        const tx = open.result.transaction('s', 'readwrite');
        tx.objectStore('s').put('a', 'k');
        tx.oncomplete = () => {
          open.result.close();
          resolve();
        };
        tx.onerror = () => reject(new Error('idb write failed'));
      };
      open.onerror = () => reject(new Error('idb open failed'));
    });
    const cache = await caches.open('leak-cache');
    await cache.put('/cached-entry', new Response('a'));
    return {
      cookie: document.cookie,
      databases: (await indexedDB.databases()).map((d) => d.name),
      caches: await caches.keys(),
      geolocation: (await navigator.permissions.query({ name: 'geolocation' })).state,
    };
  });
  assert.deepEqual(written, { cookie: 'visible=a', databases: ['leak-db'], caches: ['leak-cache'], geolocation: 'granted' }, 'A wrote its state');
  assert.equal(await page.evaluate(async () => (await fetch('/echo-cookie')).text()), 'secret=httponly-a; visible=a', 'the HttpOnly cookie is sent in A');
  // The HTTP cache: a cacheable script, fetched once by A.
  await page.goto(`${origin}/with-cached-script`);
  await page.goto(`${origin}/with-cached-script`);
}

for (const mode of ['fresh', 'reuse'] as const) {
  describe(`lease isolation (${mode} contexts) on real Chromium`, () => {
    let server: TestServer;
    let pool: BrowserPool;
    const reuse = mode === 'reuse';
    const defaults = defaultContextOptions();

    before(async () => {
      server = await startServer();
      // One slot: the next lease is always served by the slot the previous one used.
      pool = new BrowserPool({ browsers: 1, contextsPerBrowser: 1, reuseContexts: reuse, launchStaggerMs: 0 });
    });
    after(async () => {
      await pool.close();
      await server.close();
    });

    /** Lease A, let it act, release; lease B with `optionsB`; return both and whether B got A's context. */
    async function consecutive(optionsA: BrowserContextOptions, actA: (lease: Lease) => Promise<void>, optionsB = optionsA) {
      const reusesBefore = pool.stats.contextReuses;
      const a = await pool.lease(optionsA);
      const contextA = a.context;
      try {
        await actA(a);
      } finally {
        await a.release();
      }
      const b = await pool.lease(optionsB);
      return { b, sameContext: b.context === contextA, reused: pool.stats.contextReuses > reusesBefore };
    }

    it('B sees nothing A wrote: cookies (HttpOnly too), local/session storage, IndexedDB, Cache Storage, HTTP cache, permissions, globals', async () => {
      const { b, sameContext, reused } = await consecutive(defaults, (a) => writeEverything(a, server.origin));
      try {
        assert.equal(sameContext, reuse, reuse ? 'B got the wiped context of A' : 'B got a fresh context');
        assert.equal(reused, reuse);
        const state = await readState(b, server.origin);
        assert.deepEqual({ ...state, geolocation: undefined, notifications: undefined }, { ...cleanState, geolocation: undefined, notifications: undefined });
        assert.notEqual(state.geolocation, 'granted', 'geolocation is not granted in B');
        assert.notEqual(state.notifications, 'granted', 'notifications are not granted in B');
        const fetchedBefore = server.hits.get('/cached.js') ?? 0;
        assert.equal(fetchedBefore, 1, 'A fetched the cacheable script once and then used its HTTP cache');
        await b.page.goto(`${server.origin}/with-cached-script`);
        assert.equal(server.hits.get('/cached.js'), 2, 'B fetched the script again: A`s HTTP cache is gone');
        assert.ok(!(await b.page.goBack().then((r) => r?.url() ?? '')).includes('with-cached-script'), 'history does not lead back to A`s pages');
      } finally {
        await b.release();
      }
    });

    it('B finds no service worker A registered (none registered, none controlling)', async () => {
      const options = { ...defaults, serviceWorkers: 'allow' } as const;
      const { b, sameContext } = await consecutive(options, async (a) => {
        await a.page.goto(`${server.origin}/page`);
        const controlled = await a.page.evaluate(async () => {
          await navigator.serviceWorker.register('/sw.js');
          await navigator.serviceWorker.ready;
          return (await navigator.serviceWorker.getRegistrations()).length;
        });
        assert.equal(controlled, 1, 'A registered a service worker');
        await a.page.reload();
        assert.ok(await a.page.evaluate(() => navigator.serviceWorker.controller !== null), 'the worker controls A`s page');
      });
      try {
        assert.equal(sameContext, reuse);
        const state = await readState(b, server.origin);
        assert.equal(state.serviceWorkers, 0, 'no registration in B');
        assert.equal(state.controlled, false, 'no worker controls B`s page');
      } finally {
        await b.release();
      }
    });

    it('B is challenged again after A authenticated with HTTP basic auth (the context is not reused)', async () => {
      const port = new URL(server.origin).port;
      const { b, sameContext } = await consecutive(defaults, async (a) => {
        const response = await a.page.goto(`http://${user}:${password}@127.0.0.1:${port}/auth`);
        assert.equal(response?.status(), 200, 'A authenticated');
        assert.equal((await a.page.goto(`${server.origin}/auth`))?.status(), 200, 'A`s browser remembers the credentials');
      });
      try {
        assert.equal(sameContext, false, 'an auth challenge makes the pool give up on the context');
        assert.equal((await b.page.goto(`${server.origin}/auth`))?.status(), 401, 'B gets the challenge');
      } finally {
        await b.release();
      }
      if (reuse) assert.ok(Object.keys(pool.stats.reuseFallbacks).some((reason) => reason.includes('credentials')), JSON.stringify(pool.stats.reuseFallbacks));
    });

    const fallbacks: [string, (a: Lease) => Promise<void>][] = [
      [
        'a popup',
        async (a) => {
          await a.page.goto(`${server.origin}/page`);
          await Promise.all([a.context.waitForEvent('page', { timeout: 10_000 }), a.page.evaluate(() => window.open('/page'))]);
        },
      ],
      [
        'a download',
        async (a) => {
          await a.page.goto(`${server.origin}/page`);
          await Promise.all([a.page.waitForEvent('download', { timeout: 10_000 }), a.page.evaluate(() => (location.href = '/download'))]);
        },
      ],
      [
        'the transaction closed its tab',
        async (a) => {
          await a.page.goto(`${server.origin}/page`);
          await a.page.close();
        },
      ],
      [
        'a frame of another site (partitioned storage the wipe does not address)',
        async (a) => {
          await a.page.goto(`${server.origin}/frame-host?src=${encodeURIComponent(`${server.otherSiteOrigin}/page`)}`);
          await a.page.frameLocator('iframe').locator('h1').waitFor();
          await a.page.frames()[1]?.evaluate(() => localStorage.setItem('third-party', 'a'));
        },
      ],
      [
        'a viewport change by the transaction',
        async (a) => {
          await a.page.goto(`${server.origin}/page`);
          await a.page.setViewportSize({ width: 500, height: 500 });
        },
      ],
    ];
    for (const [what, act] of fallbacks) {
      it(`falls back to a fresh context after ${what}`, async () => {
        const { b, sameContext } = await consecutive(defaults, act);
        try {
          assert.equal(sameContext, false);
          assert.equal(b.context.pages().length, 1, 'B has one tab');
          assert.deepEqual(b.page.viewportSize(), defaults.viewport);
          assert.equal(b.page.url(), 'about:blank');
        } finally {
          await b.release();
        }
      });
    }

    const otherOptions: [string, BrowserContextOptions][] = [
      ['viewport', { ...defaults, viewport: { width: 800, height: 600 } }],
      ['locale', { ...defaults, locale: 'de-DE' }],
      ['httpCredentials', { ...defaults, httpCredentials: { username: user, password } }],
      ['storageState', { ...defaults, storageState: { cookies: [], origins: [{ origin: 'http://127.0.0.1:1', localStorage: [{ name: 'seed', value: '1' }] }] } }],
    ];
    for (const [what, options] of otherOptions) {
      it(`gives a lease with another ${what} a fresh context`, async () => {
        const { b, sameContext } = await consecutive(defaults, (a) => a.page.goto(`${server.origin}/page`).then(() => undefined), options);
        try {
          assert.equal(sameContext, false);
        } finally {
          await b.release();
        }
      });
    }

    it('runs transactions back to back through the runner without piling up listeners in the kept context', async () => {
      const script = scriptSchema.parse({
        name: 'Isolation through the runner',
        steps: [
          {
            name: 'Write',
            actions: [
              { type: 'navigate', url: `${server.origin}/page` },
              { type: 'assertText', selector: 'h1', text: 'page' },
            ],
          },
        ],
      });
      const counts: number[] = [];
      for (let i = 0; i < 3; i++) {
        const { result } = await runTransaction({ script, browser: pool, secret: () => undefined });
        assert.equal(result.status, 'passed', JSON.stringify(result.warnings ?? result.steps.map((s) => s.error)));
        assert.equal(result.warnings, undefined, 'every collector worked in the reused context');
        assert.ok(result.steps[0]?.navigation !== undefined && result.steps[0].requests !== undefined, 'navigation timing and network figures are there');
        const lease = await pool.lease(defaults);
        const listeners = (emitter: object, event: string) => (emitter as { listenerCount(event: string): number }).listenerCount(event);
        counts.push(listeners(lease.context, 'request') + listeners(lease.context, 'page') + listeners(lease.page, 'framenavigated'));
        await lease.release();
      }
      assert.equal(new Set(counts).size, 1, `listener counts stay flat: ${counts.join(', ')}`);
    });
  });
}

describe('lease isolation with a DevTools port open', () => {
  it('never reuses a context when other DevTools clients (Lighthouse) may change it', async () => {
    const pool = new BrowserPool({ browsers: 1, contextsPerBrowser: 1, reuseContexts: true, remoteDebugging: true, launchStaggerMs: 0 });
    try {
      const a = await pool.lease(defaultContextOptions());
      const contextA = a.context;
      await a.page.goto('about:blank');
      await a.release();
      const b = await pool.lease(defaultContextOptions());
      try {
        assert.notEqual(b.context, contextA);
        assert.equal(pool.stats.contextReuses, 0);
      } finally {
        await b.release();
      }
    } finally {
      await pool.close();
    }
  });
});
