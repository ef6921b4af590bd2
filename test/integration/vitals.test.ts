/**
 * Web Vitals and soft navigations on real Chromium, checked against what the pages are built to do: content that
 * appears only after a timer, a 300 ms busy loop, a click handler that blocks for 200 ms, an SPA route that
 * renders when a slow API answers. Only lower bounds and orderings are asserted, never how fast the machine is.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import type { RunResult } from '../../engine/schema/result.ts';
import { startDemoSite, type DemoSite } from '../../scripts/demo-site/server.ts';
import { launchBrowser, loginStep, runScript } from '../helpers/engine.ts';

/** Runs a busy loop after the first contentful paint, so TBT (which starts at FCP) must see it. */
const busyPage = `<!doctype html><title>Busy</title><p>Busy page</p><button id="block">Block for 200 ms</button>
<script>
function spin(ms) { var end = performance.now() + ms; while (performance.now() < end) {} }
new PerformanceObserver(function (list, observer) {
  if (!list.getEntries().some(function (e) { return e.name === 'first-contentful-paint'; })) return;
  observer.disconnect();
  setTimeout(function () {
    spin(300);
    var done = document.createElement('p'); done.id = 'done'; done.textContent = 'done'; document.body.appendChild(done);
  }, 50);
}).observe({ type: 'paint', buffered: true });
document.getElementById('block').addEventListener('click', function () {
  spin(200);
  var clicked = document.createElement('p'); clicked.id = 'clicked'; clicked.textContent = 'clicked'; document.body.appendChild(clicked);
});
</script>`;

/** Nothing contentful until 300 ms, a much larger element at 700 ms. */
const latePaintPage = `<!doctype html><title>Late paint</title><body>
<script>
setTimeout(function () { var p = document.createElement('p'); p.textContent = 'first words'; document.body.appendChild(p); }, 300);
setTimeout(function () {
  var h = document.createElement('h1'); h.id = 'big'; h.style.fontSize = '96px'; h.textContent = 'The largest text on the page';
  document.body.appendChild(h);
}, 700);
</script></body>`;

/** A route change that shows a placeholder at once and renders its data when a 300 ms API answers. */
const spaPage = `<!doctype html><title>SPA</title><a id="go" href="/spa/next">Next</a><div id="view">home</div>
<script>
document.getElementById('go').addEventListener('click', function (event) {
  event.preventDefault();
  history.pushState({}, '', '/spa/next');
  var changedAt = performance.now();
  document.getElementById('view').textContent = 'loading next';
  fetch('/api/slow').then(function (response) { return response.text(); }).then(function (text) {
    document.getElementById('view').innerHTML = '<h1 id="next"></h1>';
    document.getElementById('next').textContent = text;
    window.renderedAfterMs = performance.now() - changedAt;
  });
});
</script>`;

function startPages(): Promise<{ url: string; server: Server }> {
  const pages: Record<string, string> = { '/busy': busyPage, '/late-paint': latePaintPage, '/spa': spaPage, '/spa/next': spaPage };
  const server = createServer((req, res) => {
    if (req.url === '/api/slow') {
      setTimeout(() => res.end('Next view'), 300);
      return;
    }
    const body = pages[new URL(req.url ?? '/', 'http://localhost').pathname];
    res.writeHead(body === undefined ? 404 : 200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(body ?? 'not found');
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server }));
  });
}

function failures(result: RunResult): string {
  return JSON.stringify({ errors: result.steps.map((s) => s.error), warnings: result.warnings });
}

describe('web vitals and soft navigations (real Chromium)', () => {
  let site: DemoSite;
  let pages: { url: string; server: Server };
  let browser: Browser;

  before(async () => {
    site = await startDemoSite({ port: 0 });
    pages = await startPages();
    browser = await launchBrowser();
  });
  after(async () => {
    await browser.close();
    await site.close();
    await new Promise((resolve) => pages.server.close(resolve));
  });

  it('measures the demo layout-shift page: CLS above 0.05, FCP and LCP from navigation start', async () => {
    const result = await runScript(
      browser,
      {
        name: 'Layout shift',
        steps: [{ name: 'Open', actions: [{ type: 'navigate', url: `${site.url}/layout-shift` }, { type: 'waitForElement', selector: '#late-banner' }] }],
      },
      {},
    );
    assert.equal(result.status, 'passed', failures(result));
    const step = result.steps[0]!;
    const vitals = step.vitals;
    assert.ok(vitals !== undefined, failures(result));
    assert.ok((vitals.cls ?? 0) > 0.05, `the late banner shifts the content (CLS ${vitals.cls})`);
    assert.ok(vitals.fcpMs !== undefined && vitals.lcpMs !== undefined, JSON.stringify(vitals));
    assert.ok(vitals.fcpMs > 0 && vitals.fcpMs <= vitals.lcpMs, JSON.stringify(vitals));
    assert.ok((step.navigation?.ttfbMs ?? 0) < vitals.fcpMs, 'nothing is painted before the response arrives');
    assert.equal(step.softNavigations, undefined, 'a full navigation is not a soft navigation');
  });

  it('reports FCP no earlier than the first content and LCP no earlier than the largest element', async () => {
    const result = await runScript(
      browser,
      { name: 'Late paint', steps: [{ name: 'Open', actions: [{ type: 'navigate', url: `${pages.url}/late-paint` }, { type: 'waitForElement', selector: '#big' }] }] },
      {},
    );
    assert.equal(result.status, 'passed', failures(result));
    const vitals = result.steps[0]!.vitals;
    assert.ok((vitals?.fcpMs ?? 0) >= 300, `FCP ${vitals?.fcpMs} ms: no content before the 300 ms timer`);
    assert.ok((vitals?.lcpMs ?? 0) >= 700, `LCP ${vitals?.lcpMs} ms: the largest element arrives at 700 ms`);
  });

  it('waits for the first paint when a step ends at the load event, before the page painted', async () => {
    const result = await runScript(
      browser,
      { name: 'Load only', steps: [{ name: 'Open', actions: [{ type: 'navigate', url: `${pages.url}/late-paint` }] }] },
      {},
    );
    assert.equal(result.status, 'passed', failures(result));
    assert.ok((result.steps[0]!.vitals?.fcpMs ?? 0) >= 300, JSON.stringify(result.steps[0]!.vitals));
  });

  it('counts a 300 ms busy loop after FCP in TBT, and a 200 ms click handler in INP and the click step`s TBT', async () => {
    const result = await runScript(
      browser,
      {
        name: 'Busy',
        steps: [
          { name: 'Open', actions: [{ type: 'navigate', url: `${pages.url}/busy` }, { type: 'waitForElement', selector: '#done' }] },
          { name: 'Click', actions: [{ type: 'click', selector: '#block' }, { type: 'waitForElement', selector: '#clicked' }] },
          { name: 'Idle', actions: [{ type: 'assertElement', selector: '#clicked' }] },
        ],
      },
      {},
    );
    assert.equal(result.status, 'passed', failures(result));
    const [open, click, idle] = result.steps;
    assert.ok((open?.vitals?.tbtMs ?? 0) >= 249, `TBT ${open?.vitals?.tbtMs} ms: one 300 ms task blocks for at least 250 ms`);
    assert.equal(open?.vitals?.inpMs, undefined, 'no interaction in the first step');
    assert.ok((click?.vitals?.inpMs ?? 0) >= 192, `INP ${click?.vitals?.inpMs} ms: the handler alone runs 200 ms (durations are rounded to 8 ms)`);
    assert.ok((click?.vitals?.tbtMs ?? 0) >= 149, `TBT ${click?.vitals?.tbtMs} ms of the click step`);
    assert.equal(click?.vitals?.fcpMs, undefined, 'paint metrics belong to the step that loaded the page');
    assert.equal(idle?.vitals?.tbtMs, 0, 'the busy work of earlier steps is not charged to a later one');
    assert.equal(idle?.vitals?.inpMs, undefined);
  });

  it('flags the demo SPA route /app → /app/weekly taken by a click as a soft navigation', async () => {
    const result = await runScript(
      browser,
      {
        name: 'Reports SPA',
        steps: [
          loginStep(site.url),
          { name: 'Open reports', actions: [{ type: 'navigate', url: `${site.url}/app` }, { type: 'waitForElement', selector: '#report-links' }] },
          { name: 'Weekly', actions: [{ type: 'click', selector: 'a[href="/app/weekly"]' }, { type: 'waitForElement', selector: '#report-total' }] },
        ],
      },
      {},
    );
    assert.equal(result.status, 'passed', failures(result));
    const [, open, weekly] = result.steps;
    assert.equal(open?.softNavigations, undefined);
    assert.equal(weekly?.navigation, undefined, 'no document navigation');
    assert.equal(weekly?.softNavigations?.length, 1, JSON.stringify(weekly));
    const soft = weekly.softNavigations[0]!;
    assert.equal(new URL(soft.url).pathname, '/app/weekly');
    assert.ok(soft.durationMs > 0, 'the view rendered after the URL changed');
    assert.equal(weekly.vitals?.fcpMs, undefined, 'a soft navigation has no FCP of its own here');
  });

  it('follows a soft navigation after the step`s last action until the DOM settles, and times it from the URL change', async () => {
    const result = await runScript(
      browser,
      {
        name: 'Late SPA render',
        steps: [
          { name: 'Open', actions: [{ type: 'navigate', url: `${pages.url}/spa` }] },
          // The step ends right after the click; the view renders when the API answers 300 ms later.
          { name: 'Go', actions: [{ type: 'click', selector: '#go' }] },
          { name: 'Check', actions: [{ type: 'assertElement', selector: '#next' }, { type: 'evaluate', expression: "if (!(window.renderedAfterMs >= 300)) throw new Error('not rendered')" }] },
        ],
      },
      {},
    );
    assert.equal(result.status, 'passed', failures(result));
    const soft = result.steps[1]!.softNavigations;
    assert.equal(soft?.length, 1, JSON.stringify(result.steps[1]));
    assert.equal(new URL(soft[0]!.url).pathname, '/spa/next');
    assert.ok(soft[0]!.durationMs >= 300, `${soft[0]!.durationMs} ms: the view rendered after the 300 ms API call, not at the placeholder`);
    assert.equal(result.steps[2]!.softNavigations, undefined, 'reported once, in the step that caused it');
  });

  it('leaves no trace a page can see: the reader is not enumerable and history.pushState still looks native', async () => {
    const probe = [
      "if (Object.keys(window).some(function (k) { return /vitals|checkpoint/i.test(k); })) throw new Error('reader visible');",
      "if (!/\\[native code\\]/.test(String(history.pushState))) throw new Error('pushState looks wrapped');",
      "if (history.pushState.name !== 'pushState' || history.pushState.length !== 2) throw new Error('pushState signature changed');",
      "'clean'",
    ].join(' ');
    const result = await runScript(
      browser,
      { name: 'Stealth', steps: [{ name: 'Probe', actions: [{ type: 'navigate', url: `${pages.url}/spa` }, { type: 'evaluate', expression: probe }] }] },
      {},
    );
    assert.equal(result.status, 'passed', failures(result));
    assert.ok(result.steps[0]!.vitals !== undefined, 'and the vitals were still read');
  });
});
