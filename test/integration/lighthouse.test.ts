import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchBrowser } from '../../engine/browser/launch.ts';
import { lighthouseCollector } from '../../engine/collectors/lighthouse-collector.ts';
import { ArtifactDirectory } from '../../engine/report/artifact-dir.ts';
import { runTransaction } from '../../engine/runner/run-transaction.ts';
import { scriptSchema } from '../../engine/schema/script.ts';
import { startDemoSite, type DemoSite } from '../../scripts/demo-site/server.ts';

describe('Lighthouse collector (real Chromium, Lighthouse 13)', () => {
  let site: DemoSite;
  let browser: Browser;
  let dir: string;

  before(async () => {
    site = await startDemoSite({ port: 0 });
    browser = await launchBrowser({ remoteDebugging: true });
    dir = await mkdtemp(join(tmpdir(), 'checkpoint-lh-'));
  });
  after(async () => {
    await browser.close();
    await site.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('audits a navigating step in navigation mode and an interaction step as a timespan, and stores both reports without page images when screenshots are off', async () => {
    const script = scriptSchema.parse({
      name: 'Lighthouse',
      settings: { screenshots: 'off' },
      steps: [
        { name: 'Open login', lighthouse: true, actions: [{ type: 'navigate', url: `${site.url}/login` }] },
        { name: 'Type', lighthouse: true, actions: [{ type: 'fill', selector: '#username', value: 'demo' }] },
        { name: 'No audit', actions: [{ type: 'assertTitle', contains: 'Sign in' }] },
      ],
    });
    const { result } = await runTransaction({
      script,
      browser,
      secret: () => undefined,
      artifacts: new ArtifactDirectory(dir),
      collectors: [lighthouseCollector()],
    });
    assert.equal(result.status, 'passed');
    assert.equal(result.warnings, undefined, JSON.stringify(result.warnings));
    const [navigation, timespan, none] = result.steps;
    assert.equal(navigation?.lighthouse?.mode, 'navigation');
    assert.equal(timespan?.lighthouse?.mode, 'timespan');
    assert.equal(none?.lighthouse, undefined);
    for (const score of Object.values(navigation?.lighthouse?.scores ?? {})) assert.ok(score === null || (score >= 0 && score <= 1));
    assert.ok((navigation?.lighthouse?.metrics['fcpMs'] ?? 0) > 0, 'FCP measured');
    assert.ok('accessibility' in (navigation?.lighthouse?.scores ?? {}));
    const reportJson = await readFile(join(dir, navigation?.lighthouse?.reportJson ?? 'missing'), 'utf8');
    assert.ok(!reportJson.includes('data:image/'), 'no page images in the stored report when screenshots are off');
    const reportHtml = await readFile(join(dir, timespan?.lighthouse?.reportHtml ?? 'missing'), 'utf8');
    assert.match(reportHtml, /<html/i);
    assert.equal(result.artifacts.filter((a) => a.kind === 'lighthouse').length, 4);
  });

  it('records a warning instead of failing the run when the browser has no DevTools port', async () => {
    const plain = await launchBrowser();
    try {
      const script = scriptSchema.parse({ name: 'No port', steps: [{ name: 'Open', lighthouse: true, actions: [{ type: 'navigate', url: `${site.url}/login` }] }] });
      const { result } = await runTransaction({ script, browser: plain, secret: () => undefined, collectors: [lighthouseCollector()] });
      assert.equal(result.status, 'passed');
      assert.equal(result.steps[0]?.lighthouse, undefined);
      assert.match(result.warnings?.[0]?.message ?? '', /remote debugging/);
    } finally {
      await plain.close();
    }
  });
});
