/**
 * The egress guard on real Chromium, loopback only and with no namespace: 127.0.0.1 serves the pages,
 * 127.0.0.2 stands for a denied address (`denyCidrs: ['127.0.0.2/32']`) and 127.0.0.3 for a proxy in a denied
 * range. Names are resolved by an injected resolver (Node) and `--host-resolver-rules` (Chromium): nothing
 * here asks a real DNS server.
 */
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { EgressGuard, type EgressResolve } from '../../engine/browser/egress-guard.ts';
import { chromiumArgs, launchBrowser } from '../../engine/browser/launch.ts';
import { discoverBrowsers } from '../../engine/browser/discover.ts';
import type { Clock } from '../../engine/core/clock.ts';
import { EgressPolicy } from '../../engine/core/egress-policy.ts';
import type { RunResult } from '../../engine/schema/result.ts';
import { runScript } from '../helpers/engine.ts';

const denyOther = new EgressPolicy({ denyCidrs: ['127.0.0.2/32'] });

function listen(server: Server, host: string): Promise<number> {
  return new Promise((resolve) => server.listen(0, host, () => resolve((server.address() as AddressInfo).port)));
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** A resolver answering from a table, failing like getaddrinfo for other names; counts what it was asked. */
function table(entries: Record<string, string>): EgressResolve & { asked: string[] } {
  const asked: string[] = [];
  const resolve: EgressResolve = (host) => {
    asked.push(host);
    const address = entries[host];
    if (address === undefined) return Promise.reject(Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' }));
    return Promise.resolve([{ address }]);
  };
  return Object.assign(resolve, { asked });
}

const open = (url: string, waitMs = 0) => ({ name: 'Open', steps: [{ name: 'Open', actions: [{ type: 'navigate', url }, ...(waitMs > 0 ? [{ type: 'waitForTime', durationMs: waitMs }] : [])] }] });

function assertPolicyBlocked(result: RunResult, pattern: RegExp): void {
  const step = result.steps[0];
  assert.equal(result.status, 'failed', JSON.stringify({ warnings: result.warnings, error: step?.error }));
  assert.equal(step?.error?.code, 'POLICY_BLOCKED', JSON.stringify(step?.error));
  assert.match(step?.error?.message ?? '', pattern);
}

describe('egress guard review: redirects, frames, unresolved names, proxies (loopback only)', () => {
  let browser: Browser;
  let site: Server;
  let sitePort: number;
  let denied: Server;
  let deniedPort: number;
  /** What the denied server (127.0.0.2) received. */
  const deniedSeen: string[] = [];

  before(async () => {
    denied = createServer((request, response) => {
      deniedSeen.push(request.url ?? '');
      // JSON, as a metadata service answers: an image gets no response event for it (opaque response blocking
      // fails the request), a fetch (CORS allowed) gets a complete response. Both must be caught.
      response.writeHead(200, { 'content-type': 'application/json', 'access-control-allow-origin': '*' });
      response.end('{"AccessKeyId":"fake"}');
    });
    deniedPort = await listen(denied, '127.0.0.2');
    const deniedUrl = (path: string) => `http://127.0.0.2:${deniedPort}${path}`;
    site = createServer((request, response) => {
      const url = new URL(request.url ?? '/', 'http://x');
      const redirect = (path: string) => `/redir?to=${encodeURIComponent(deniedUrl(path))}`;
      response.setHeader('content-type', 'text/html');
      switch (url.pathname) {
        case '/redir':
          response.writeHead(302, { location: url.searchParams.get('to') ?? '/' }).end();
          return;
        case '/img':
          response.end(`<title>img</title><img src="${redirect('/img')}">`);
          return;
        case '/fetch':
          response.end(`<title>fetch</title><script>fetch('${redirect('/x')}').finally(() => document.body.append('fetched'));</script>`);
          return;
        case '/img-by-name':
          response.end(`<title>img</title><img src="/redir?to=${encodeURIComponent(`http://meta.test:${sitePort}/plain`)}">`);
          return;
        case '/frame':
          response.end(`<title>frame</title><iframe src="${redirect('/frame')}"></iframe><p>with a frame</p>`);
          return;
        default:
          response.end('<title>plain</title><p>plain page</p>');
      }
    });
    sitePort = await listen(site, '127.0.0.1');
    const executablePath = discoverBrowsers().headlessShell ?? discoverBrowsers().full;
    // Chromium knows split.test (its own resolver); Node's resolver in these tests does not.
    browser = await chromium.launch({ executablePath, headless: true, args: [...chromiumArgs(), '--host-resolver-rules=MAP split.test 127.0.0.1'] });
  });

  after(async () => {
    await browser.close();
    await Promise.all([site, denied].map(close));
  });

  it('fails the step when an img or a fetch followed a redirect to a denied address (the request went out)', async () => {
    deniedSeen.length = 0;
    const img = await runScript(browser, open(`http://127.0.0.1:${sitePort}/img`, 1500), { egress: denyOther });
    assertPolicyBlocked(img, new RegExp(`http://127\\.0\\.0\\.2:${deniedPort}/img .*denies: 127\\.0\\.0\\.2 is in the denied range 127\\.0\\.0\\.2/32`));
    const fetched = await runScript(browser, open(`http://127.0.0.1:${sitePort}/fetch`, 1500), { egress: denyOther });
    assertPolicyBlocked(fetched, new RegExp(`http://127\\.0\\.0\\.2:${deniedPort}/x .*127\\.0\\.0\\.2 is in the denied range 127\\.0\\.0\\.2/32`));
    // The documented residual: a subresource's redirect is seen only once its answer is back.
    assert.deepEqual(deniedSeen.sort(), ['/img', '/x']);
  });

  it('records a frame redirected to a denied address (a run warning, nothing sent) but fails the tab redirected there', async () => {
    deniedSeen.length = 0;
    const framed = await runScript(browser, { name: 'Frame', steps: [{ name: 'Open', actions: [{ type: 'navigate', url: `http://127.0.0.1:${sitePort}/frame` }, { type: 'waitForText', text: 'with a frame' }, { type: 'waitForTime', durationMs: 1000 }] }] }, { egress: denyOther });
    assert.equal(framed.status, 'passed', JSON.stringify(framed.steps[0]?.error));
    const warnings = (framed.warnings ?? []).filter((warning) => warning.collector === 'egress-policy').map((warning) => warning.message);
    assert.ok(warnings.some((warning) => warning.includes(`127.0.0.2:${deniedPort}/frame`) && warning.includes('denied range 127.0.0.2/32')), JSON.stringify(warnings));
    const tab = await runScript(browser, open(`http://127.0.0.1:${sitePort}/redir?to=${encodeURIComponent(`http://127.0.0.2:${deniedPort}/tab`)}`), { egress: denyOther });
    assertPolicyBlocked(tab, /127\.0\.0\.2 is in the denied range 127\.0\.0\.2\/32 \(redirected from /);
    assert.deepEqual(deniedSeen, [], 'documents are refused before the browser follows the redirect');
  });

  it('fails a name Node cannot resolve as a DNS failure (NAVIGATION_FAILED, blame site), never passing it to the browser', async () => {
    const resolve = table({});
    const result = await runScript(browser, open(`http://split.test:${sitePort}/plain`), { egressResolve: resolve });
    const step = result.steps[0];
    assert.equal(result.status, 'failed', 'the browser would have reached it: fail open');
    assert.equal(step?.error?.code, 'NAVIGATION_FAILED', JSON.stringify(step?.error));
    assert.equal(step?.error?.blame, 'site');
    assert.match(step?.error?.message ?? '', /ERR_NAME_NOT_RESOLVED/);
    assert.deepEqual(resolve.asked, ['split.test']);
    const known = await runScript(browser, open(`http://split.test:${sitePort}/plain`), { egressResolve: table({ 'split.test': '127.0.0.1' }) });
    assert.equal(known.status, 'passed', JSON.stringify(known.steps[0]?.error));
  });

  it('asks again a few seconds after a failed resolution, and keeps a good answer for the verdict TTL', async () => {
    let nowMs = 0;
    const clock: Clock = { nowMs: () => nowMs, wallNow: () => new Date() };
    let resolvable = false;
    const asked: string[] = [];
    const resolve: EgressResolve = (host) => {
      asked.push(host);
      return resolvable ? Promise.resolve([{ address: '127.0.0.1' }]) : Promise.reject(Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' }));
    };
    const context = await browser.newContext();
    try {
      const guard = await EgressGuard.install(context, { policy: denyOther, resolve, clock });
      const url = `http://split.test:${sitePort}/plain`;
      // A tab per attempt: a failed navigation leaves its tab loading an error page.
      const attempt = async () => {
        const page = await context.newPage();
        try {
          return (await page.goto(url))?.status();
        } finally {
          await page.close();
        }
      };
      await assert.rejects(attempt(), /ERR_NAME_NOT_RESOLVED/);
      resolvable = true;
      nowMs = 2_000;
      await assert.rejects(attempt(), /ERR_NAME_NOT_RESOLVED/, 'within the short TTL the failure is reused');
      assert.equal(asked.length, 1);
      nowMs = 3_500;
      assert.equal(await attempt(), 200);
      assert.equal(asked.length, 2);
      nowMs = 20_000;
      assert.equal(await attempt(), 200);
      assert.equal(asked.length, 2, 'a good answer is kept for the verdict TTL');
      assert.deepEqual(guard.blocked, []);
      assert.equal(guard.takePending(), undefined, 'no policy failure for a name that does not resolve');
      guard.dispose();
    } finally {
      await context.close();
    }
  });

  it('does not hold the proxy address against the site: through a proxy in a denied range, pages load', async () => {
    const proxied: string[] = [];
    // A forward proxy on 127.0.0.3 that sends every request to the site on 127.0.0.1, whatever its host.
    const proxy = createServer((incoming: IncomingMessage, outgoing) => {
      proxied.push(incoming.url ?? '');
      const target = new URL(incoming.url ?? '/', 'http://x');
      const upstream = httpRequest({ host: '127.0.0.1', port: sitePort, path: `${target.pathname}${target.search}`, method: incoming.method, headers: incoming.headers }, (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      });
      upstream.on('error', () => outgoing.writeHead(502).end());
      incoming.pipe(upstream);
    });
    const proxyPort = await listen(proxy, '127.0.0.3');
    const proxiedBrowser = await launchBrowser({ network: { proxy: `http://127.0.0.3:${proxyPort}` } });
    try {
      const policy = new EgressPolicy({ denyCidrs: ['127.0.0.3/32'] });
      const result = await runScript(proxiedBrowser, open(`http://app.test:${sitePort}/plain`), { egress: policy, egressResolve: table({ 'app.test': '127.0.0.1' }) });
      assert.equal(result.status, 'passed', JSON.stringify(result.steps[0]?.error));
      assert.ok(proxied.includes(`http://app.test:${sitePort}/plain`), `the page came through the proxy: ${JSON.stringify(proxied)}`);
      // Through the proxy Node need not resolve the name: the proxy does.
      const unresolved = await runScript(proxiedBrowser, open(`http://app.test:${sitePort}/plain`), { egress: policy, egressResolve: table({}) });
      assert.equal(unresolved.status, 'passed', JSON.stringify(unresolved.steps[0]?.error));
      // The policy still applies to what a URL names, and to the addresses of a name a subresource was redirected to.
      const named = await runScript(proxiedBrowser, open(`http://127.0.0.2:${deniedPort}/named`), { egress: denyOther });
      assertPolicyBlocked(named, /127\.0\.0\.2 is in the denied range/);
      const redirected = await runScript(proxiedBrowser, open(`http://app.test:${sitePort}/img-by-name`, 1500), {
        egress: new EgressPolicy({ denyCidrs: ['127.0.0.2/32', '127.0.0.3/32'] }),
        egressResolve: table({ 'app.test': '127.0.0.1', 'meta.test': '127.0.0.2' }),
      });
      assertPolicyBlocked(redirected, new RegExp(`http://meta\\.test:${sitePort}/plain .*127\\.0\\.0\\.2 \\(meta\\.test\\) is in the denied range 127\\.0\\.0\\.2/32 \\(reached by a redirect\\)`));
    } finally {
      await proxiedBrowser.close();
      await close(proxy);
    }
  });
});
