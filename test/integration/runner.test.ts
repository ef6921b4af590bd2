import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { startDemoSite, type DemoSite } from '../../scripts/demo-site/server.ts';
import { launchBrowser, loginStep, runScript } from '../helpers/engine.ts';

describe('runner on real Chromium', () => {
  let site: DemoSite;
  let browser: Browser;

  before(async () => {
    site = await startDemoSite({ port: 0 });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser.close();
    await site.close();
  });

  it('isolates runs: a cookie and localStorage set in one run are absent in the next', async () => {
    // Throws in the page when any state of an earlier run is visible.
    const probe = "if (localStorage.getItem('marker') !== null || document.cookie.includes('extra=1')) throw new Error('state leaked'); 'clean'";
    const first = await runScript(browser, {
      name: 'Set state',
      steps: [
        loginStep(site.url),
        { name: 'Store', actions: [{ type: 'evaluate', expression: "localStorage.setItem('marker', 'from-run-1'); document.cookie = 'extra=1; path=/'; 'ok'" }] },
        { name: 'Probe sees it', actions: [{ type: 'evaluate', expression: probe }] },
      ],
    });
    assert.deepEqual(first.steps.map((s) => s.status), ['passed', 'passed', 'failed'], 'the probe detects state within one run');
    assert.equal(first.steps[2]?.error?.code, 'EVALUATION_FAILED');
    const second = await runScript(browser, {
      name: 'Read state',
      steps: [
        {
          name: 'Look',
          actions: [
            { type: 'navigate', url: `${site.url}/dashboard` },
            { type: 'assertUrl', contains: '/login', description: 'the session cookie did not survive' },
            { type: 'evaluate', expression: probe },
          ],
        },
      ],
    });
    assert.equal(second.status, 'passed', JSON.stringify(second.steps.map((s) => s.error)));
    assert.equal(browser.contexts().length, 0, 'the runs closed their contexts');
  });

  it('reports a step timeout as STEP_TIMEOUT when the step budget is smaller than the action timeout', async () => {
    const result = await runScript(browser, {
      name: 'Step budget',
      steps: [
        {
          name: 'Slow',
          timeoutMs: 800,
          actions: [{ type: 'navigate', url: `${site.url}/slow?delayMs=3000`, timeoutMs: 10_000 }],
        },
      ],
    });
    assert.equal(result.status, 'failed');
    const step = result.steps[0]!;
    assert.equal(step.error?.code, 'STEP_TIMEOUT');
    assert.equal(step.error?.blame, 'site');
    assert.match(step.error?.message ?? '', /^Step "Slow" › action 1 \(navigate\): timed out: the step's 800 ms budget ran out/);
    assert.ok(step.durationMs < 3000, `the step stopped at its budget (${step.durationMs} ms)`);
  });

  it('reports an action timeout with the action`s own budget', async () => {
    const result = await runScript(browser, {
      name: 'Action budget',
      steps: [{ name: 'Wait', actions: [{ type: 'navigate', url: `${site.url}/slow?delayMs=0` }, { type: 'waitForElement', selector: '#never', timeoutMs: 300 }] }],
    });
    const step = result.steps[0]!;
    assert.equal(step.error?.code, 'SELECTOR_NOT_FOUND');
    assert.match(step.error?.message ?? '', /no element matches #never within 300 ms/);
  });

  it('keeps going after a failed step that says continueOnFailure, and still fails the run', async () => {
    const result = await runScript(browser, {
      name: 'Continue',
      settings: { actionTimeoutMs: 500 },
      steps: [
        { name: 'Optional check', continueOnFailure: true, actions: [{ type: 'navigate', url: `${site.url}/login` }, { type: 'assertText', text: 'Not on this page' }] },
        { name: 'Still runs', actions: [{ type: 'assertTitle', contains: 'Sign in' }] },
        { name: 'Hard failure', actions: [{ type: 'assertTitle', equals: 'Nope' }] },
        { name: 'Skipped', actions: [{ type: 'assertTitle', contains: 'Sign in' }] },
      ],
    });
    assert.equal(result.status, 'failed');
    assert.deepEqual(result.steps.map((s) => s.status), ['failed', 'passed', 'failed', 'skipped']);
    assert.equal(result.steps[0]?.error?.code, 'ASSERTION_FAILED');
    assert.deepEqual(result.steps[3]?.actions, []);
  });

  it('measures the navigation a step caused from the browser clock, and none for steps without one', async () => {
    const result = await runScript(browser, {
      name: 'Timing',
      steps: [
        { name: 'Slow page', actions: [{ type: 'navigate', url: `${site.url}/slow?delayMs=300` }] },
        { name: 'No navigation', actions: [{ type: 'assertText', text: 'Served after 300 ms' }] },
      ],
    });
    assert.equal(result.status, 'passed');
    const nav = result.steps[0]?.navigation;
    assert.ok(nav !== undefined);
    assert.ok(nav.ttfbMs >= 295 && nav.ttfbMs < 1500, `ttfbMs ${nav.ttfbMs}`);
    assert.ok(nav.loadMs >= nav.ttfbMs, 'load comes after the first byte');
    assert.equal(nav.httpStatus, 200);
    assert.ok(result.steps[0]!.durationMs >= nav.ttfbMs, 'the step took at least the server delay');
    assert.equal(result.steps[1]?.navigation, undefined);
    assert.equal(result.steps[0]?.requests?.count, 1);
  });

  it('fails a navigation to an HTTP error page with blame site', async () => {
    const result = await runScript(browser, {
      name: 'Not found',
      steps: [{ name: 'Open', actions: [{ type: 'navigate', url: `${site.url}/public/no-such-page` }] }],
    });
    assert.equal(result.steps[0]?.error?.code, 'HTTP_ERROR');
    assert.equal(result.steps[0]?.error?.blame, 'site');
    assert.match(result.steps[0]?.error?.message ?? '', /answered HTTP 404/);
  });

  it('turns a page that refuses connections into NAVIGATION_FAILED naming the URL', async () => {
    const closed = await startDemoSite({ port: 0 });
    const url = `${closed.url}/login`;
    await closed.close();
    const result = await runScript(browser, { name: 'Down', steps: [{ name: 'Open', actions: [{ type: 'navigate', url }] }] });
    assert.equal(result.steps[0]?.error?.code, 'NAVIGATION_FAILED');
    assert.match(result.steps[0]?.error?.message ?? '', /could not open .*: net::ERR_CONNECTION_REFUSED/);
  });
});
