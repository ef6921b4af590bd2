import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchBrowser, runScript } from '../helpers/engine.ts';
import { MemorySink } from '../helpers/memory-sink.ts';

/**
 * A small app with the failure modes a monitor must judge right: a slow page, a sign-in that lands on a 500,
 * a page that never answers, a friendly 404, a page that logs console errors.
 */
function startApp(): Promise<{ url: string; close: () => Promise<void> }> {
  const hung = new Set<ServerResponse>();
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const page = (status: number, body: string) => {
      res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><html><head><title>app</title></head><body>${body}</body></html>`);
    };
    switch (path) {
      case '/':
        return page(200, '<h1>Home</h1><form method="post" action="/signin"><button id="go" type="submit">Sign in</button></form><a id="slow" href="/slow">slow</a><a id="hang" href="/hang">hang</a>');
      case '/slow':
        setTimeout(() => page(200, '<h1 id="done">Slow but fine</h1>'), 1200);
        return;
      case '/signin':
        return page(500, '<h1>Internal Server Error</h1><p>NullReferenceException at Login.cs:42</p>');
      case '/hang':
        // Never answers (until the server closes).
        hung.add(res);
        return;
      case '/missing':
        return page(404, '<h1 id="nf">Sorry, that page is gone</h1>');
      case '/noisy':
        return page(200, '<h1>Noisy</h1><script>console.error("boom"); setTimeout(() => { throw new Error("late boom"); }, 0);</script>');
      default:
        return page(404, 'not found');
    }
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        close: () =>
          new Promise<void>((done) => {
            for (const res of hung) res.destroy();
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

describe('verdicts: error conditions, HTTP errors, bounded failure capture', () => {
  let app: { url: string; close: () => Promise<void> };
  let browser: Browser;

  before(async () => {
    app = await startApp();
    browser = await launchBrowser();
  });
  after(async () => {
    await browser.close();
    await app.close();
  });

  it('a slow step breaches a warning and an error condition; every step still runs and is measured', async () => {
    const result = await runScript(browser, {
      name: 'Slow',
      conditions: [{ metric: 'durationMs', max: 600, level: 'warning' }],
      steps: [
        { name: 'Open slow page', conditions: [{ metric: 'durationMs', max: 500, level: 'error' }, { metric: 'ttfbMs', max: 400, level: 'warning' }], actions: [{ type: 'navigate', url: `${app.url}/slow` }, { type: 'assertText', text: 'Slow but fine' }] },
        { name: 'Back home', conditions: [{ metric: 'durationMs', max: 60_000, level: 'error' }], actions: [{ type: 'navigate', url: `${app.url}/` }] },
      ],
    });
    assert.equal(result.status, 'failed');
    const [slow, home] = result.steps;
    assert.equal(slow?.status, 'failed');
    assert.equal(slow?.error?.code, 'CONDITION_BREACHED');
    assert.equal(slow?.error?.blame, 'site');
    assert.ok((slow?.durationMs ?? 0) >= 1200, `the whole slow step was measured (${slow?.durationMs} ms)`);
    const duration = slow?.conditions?.find((c) => c.metric === 'durationMs');
    assert.equal(duration?.breached, true);
    assert.ok((duration?.overBy ?? 0) >= 700, 'says by how much');
    const ttfb = slow?.conditions?.find((c) => c.metric === 'ttfbMs');
    assert.equal(ttfb?.breached, true, `TTFB ${ttfb?.actual} over 400 ms`);
    assert.equal(ttfb?.level, 'warning');
    assert.equal(home?.status, 'passed', 'the next step still ran');
    assert.ok(home?.navigation !== undefined, 'and was measured');
    assert.equal(result.conditions?.[0]?.breached, true, 'the transaction`s own warning condition is judged too');
  });

  it('only warning breaches give the distinct status `warning`', async () => {
    const result = await runScript(browser, {
      name: 'Warn',
      steps: [{ name: 'Open slow page', conditions: [{ metric: 'durationMs', max: 100, level: 'warning' }], actions: [{ type: 'navigate', url: `${app.url}/slow` }] }],
    });
    assert.equal(result.status, 'warning');
    assert.equal(result.steps[0]?.status, 'warning');
    assert.equal(result.steps[0]?.error, undefined);
  });

  it('page text and console error conditions', async () => {
    const result = await runScript(browser, {
      name: 'Text',
      conditions: [{ metric: 'pageText', notContains: 'Exception', level: 'warning' }],
      steps: [
        { name: 'Noisy', conditions: [{ metric: 'consoleErrors', max: 0, level: 'warning' }, { metric: 'pageText', contains: 'Noisy', level: 'error' }], actions: [{ type: 'navigate', url: `${app.url}/noisy` }, { type: 'waitForTime', durationMs: 100 }] },
      ],
    });
    const step = result.steps[0];
    assert.ok((step?.consoleErrors ?? 0) >= 2, `console.error and the uncaught exception are counted (${step?.consoleErrors})`);
    assert.deepEqual(step?.conditions?.map((c) => [c.metric, c.breached]), [['consoleErrors', true], ['pageText', false], ['pageText', false]]);
    assert.equal(result.status, 'warning');
  });

  it('a click landing on an HTTP 500 fails at once with HTTP_ERROR (blame site), naming status and URL', async () => {
    const sink = new MemorySink();
    const result = await runScript(
      browser,
      {
        name: 'Sign in',
        settings: { actionTimeoutMs: 20_000, screenshots: 'failure' },
        conditions: [{ metric: 'pageText', notContains: 'Exception', level: 'warning' }],
        steps: [
          { name: 'Home', actions: [{ type: 'navigate', url: `${app.url}/` }] },
          { name: 'Sign in', actions: [{ type: 'click', selector: '#go' }, { type: 'assertText', text: 'Welcome back' }] },
        ],
      },
      { artifacts: sink },
    );
    const step = result.steps[1];
    assert.equal(result.status, 'failed');
    assert.equal(step?.error?.code, 'HTTP_ERROR');
    assert.equal(step?.error?.blame, 'site');
    assert.match(step?.error?.message ?? '', /HTTP 500 Internal Server Error for http:\/\/127\.0\.0\.1:\d+\/signin/);
    assert.equal(step?.error?.action, 0, 'blamed on the click that led there');
    assert.ok((step?.durationMs ?? Infinity) < 10_000, `failed well under the 20 s action timeout (${step?.durationMs} ms)`);
    // The error page is usually still committing when the step fails; on a busy machine the capture can miss its
    // window, and then the result must say so rather than stay silent.
    assert.ok(step?.screenshot !== undefined || (result.warnings ?? []).some((w) => w.collector === 'screenshots'), `a failure screenshot, or a warning why not (warnings: ${JSON.stringify(result.warnings)})`);
  });

  it('a status the script allows does not fail the step', async () => {
    const result = await runScript(browser, {
      name: 'Friendly 404',
      settings: { allowHttpStatuses: [404] },
      steps: [{ name: 'Gone', actions: [{ type: 'navigate', url: `${app.url}/missing` }, { type: 'assertText', text: 'Sorry' }] }],
    });
    assert.equal(result.status, 'passed', JSON.stringify(result.steps[0]?.error));
    const strict = await runScript(browser, { name: '404', steps: [{ name: 'Gone', actions: [{ type: 'navigate', url: `${app.url}/missing` }] }] });
    assert.equal(strict.steps[0]?.error?.code, 'HTTP_ERROR');
    assert.match(strict.steps[0]?.error?.message ?? '', /HTTP 404/);
  });

  it('a hung page fails with a failure screenshot and the run ends within 3 s of the failure', async () => {
    const sink = new MemorySink();
    const result = await runScript(
      browser,
      {
        name: 'Hung',
        settings: { navigationTimeoutMs: 2000, screenshots: 'failure' },
        steps: [
          { name: 'Home', actions: [{ type: 'navigate', url: `${app.url}/` }] },
          { name: 'Hang', actions: [{ type: 'navigate', url: `${app.url}/hang` }] },
          { name: 'Never', actions: [{ type: 'navigate', url: `${app.url}/` }] },
        ],
      },
      { artifacts: sink },
    );
    const step = result.steps[1];
    assert.equal(step?.status, 'failed');
    assert.equal(step?.error?.blame, 'site');
    assert.ok(step?.screenshot !== undefined, `a failure screenshot was saved (warnings: ${JSON.stringify(result.warnings)})`);
    assert.ok((sink.files.get(step?.screenshot ?? '')?.byteLength ?? 0) > 0);
    const failedAtMs = Date.parse(step?.startedAt ?? '') + (step?.durationMs ?? 0);
    const endedAtMs = Date.parse(result.startedAt) + result.durationMs;
    assert.ok(endedAtMs - failedAtMs <= 3000, `the run ended ${Math.round(endedAtMs - failedAtMs)} ms after the failure`);
    assert.equal(result.steps[2]?.status, 'skipped');
  });
});
