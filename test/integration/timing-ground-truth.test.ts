import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { startTimingServer, type TimingServer } from '../fixtures/timing-server.ts';
import { launchBrowser, runScript } from '../helpers/engine.ts';

// Tolerances are generous for a shared 2-core machine; the benchmark reports the exact errors.
const lateToleranceMs = 150;

describe('navigation timing against a server with known delays', () => {
  let server: TimingServer;
  let browser: Browser;

  before(async () => {
    server = await startTimingServer();
    browser = await launchBrowser();
  });
  after(async () => {
    await browser.close();
    await server.close();
  });

  for (const delayMs of [50, 200, 800]) {
    it(`measures a ${delayMs} ms server wait as the TTFB of the step, never less`, async () => {
      const result = await runScript(browser, { name: 'TTFB', steps: [{ name: 'Open', actions: [{ type: 'navigate', url: `${server.url}/ttfb?ms=${delayMs}` }] }] });
      const nav = result.steps[0]?.navigation;
      assert.ok(nav !== undefined, JSON.stringify(result.steps[0]));
      assert.ok(nav.ttfbMs >= delayMs - 1, `ttfbMs ${nav.ttfbMs} < ${delayMs}`);
      assert.ok(nav.ttfbMs <= delayMs + lateToleranceMs, `ttfbMs ${nav.ttfbMs} far above ${delayMs}`);
      assert.ok(result.steps[0]!.durationMs >= nav.ttfbMs, 'the step lasted at least its server wait');
    });
  }

  it('measures a body sent in 5 chunks 120 ms apart as download time, not as TTFB', async () => {
    const result = await runScript(browser, { name: 'Throttled', steps: [{ name: 'Open', actions: [{ type: 'navigate', url: `${server.url}/throttled?chunks=5&gapMs=120` }] }] });
    const nav = result.steps[0]?.navigation;
    assert.ok(nav !== undefined);
    assert.ok(nav.ttfbMs < 100, `ttfbMs ${nav.ttfbMs}: headers came at once`);
    assert.ok(nav.downloadMs >= 5 * 120 - 5, `downloadMs ${nav.downloadMs} covers the 600 ms of chunks`);
    assert.ok(nav.loadMs >= nav.downloadMs);
  });

  it('counts a chain of 3 redirects and their time', async () => {
    const result = await runScript(browser, { name: 'Redirects', steps: [{ name: 'Open', actions: [{ type: 'navigate', url: `${server.url}/redirect?hops=3&ms=60` }] }] });
    const nav = result.steps[0]?.navigation;
    assert.ok(nav !== undefined);
    assert.equal(nav.redirectCount, 3);
    assert.ok((nav.redirectMs ?? 0) >= 3 * 60 - 3, `redirectMs ${nav.redirectMs ?? 0}`);
    assert.match(nav.url, /\/ttfb\?ms=0$/);
  });
});
