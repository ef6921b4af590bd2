/**
 * The recorder end to end: Playwright acts as the author on the demo site through `startRecorder`, the recorded
 * script must validate, contain no typed password, and replay with status passed.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { parseScriptValue } from '../../engine/core/parse-script.ts';
import { runTransaction } from '../../engine/runner/run-transaction.ts';
import { runRecordCommand } from '../../recorder/record-command.ts';
import { startRecorder } from '../../recorder/recorder.ts';
import { startDemoSite, type DemoSite } from '../../scripts/demo-site/server.ts';
import { launchBrowser } from '../helpers/engine.ts';

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

/** Collect page errors of every tab of a context. */
function watchErrors(page: Page, errors: string[]): void {
  const watch = (p: Page) => p.on('pageerror', (error) => errors.push(`${p.url()}: ${error.message}`));
  watch(page);
  page.context().on('page', watch);
}

describe('recorder on the demo site', () => {
  it('records login, search, form, popup, frame and an assertion, and the script replays', async () => {
    const recorder = await startRecorder({ browser, url: `${site.url}/login`, passwordSecret: 'DEMO_PASSWORD', name: 'Recorded demo journey' });
    const { page } = recorder;
    const errors: string[] = [];
    watchErrors(page, errors);

    // Log in.
    await page.fill('#username', 'demo');
    await page.fill('#password', 'demo-password');
    await page.click('button[type=submit]');
    await page.waitForURL(/\/dashboard/);
    await recorder.addAssertion(page.locator('#welcome'), 'text');

    // Search orders.
    await page.click('nav >> text=Orders');
    await page.waitForURL(/\/orders/);
    await page.fill('input[type=search]', 'Globex');
    await page.press('input[type=search]', 'Enter');
    await page.waitForURL(/q=Globex/);
    await recorder.addAssertion(page.locator('[data-testid=order-row]').first(), 'visible');

    // The request form: text, select, checkbox, radio.
    await page.click('nav >> text=New request');
    await page.waitForURL(/\/form/);
    await page.fill('#title', 'New laptop');
    await page.selectOption('#department', 'finance');
    await page.check('#urgent');
    await page.check('#priority-high');
    await page.fill('#notes', 'Recorded by the recorder test');
    await page.click('button[type=submit]');
    await page.waitForSelector('#request-id');
    await recorder.addAssertion(page.locator('#summary-department'), 'text');

    // The popup report, then back to the main tab.
    await page.click('nav >> text=Dashboard');
    await page.waitForURL(/\/dashboard/);
    const [popup] = await Promise.all([page.context().waitForEvent('page'), page.click('#popup-link')]);
    await popup.waitForLoadState('domcontentloaded');
    await recorder.addAssertion(popup.locator('#popup-text'), 'text');

    // Work inside the same-origin iframe on /frames.
    await page.bringToFront();
    await page.click('nav >> text=Frames');
    await page.waitForURL(/\/frames/);
    const frame = page.frameLocator('#inner-frame');
    await frame.locator('#frame-input').fill('Hello frame');
    await frame.locator('#frame-button').click();
    await recorder.addAssertion(frame.locator('#frame-output'), 'text');
    await recorder.addAssertion(page.locator('h1'), 'text');

    const script = await recorder.stop();
    const json = JSON.stringify(script, null, 2);
    assert.deepEqual(errors, [], 'no page errors while recording');
    assert.ok(!json.includes('demo-password'), 'the typed password appears nowhere in the script');
    assert.ok(json.includes('{{secret.DEMO_PASSWORD}}'));

    const parsed = parseScriptValue(JSON.parse(json));
    assert.ok(parsed.ok, parsed.ok ? '' : JSON.stringify(parsed.problems));
    assert.equal(script.variables?.['baseUrl'], site.url);
    const actions = script.steps.flatMap((step) => step.actions);
    const types = actions.map((action) => action.type);
    assert.equal(types[0], 'navigate');
    assert.deepEqual(actions[0], { type: 'navigate', url: '{{baseUrl}}/login' });
    assert.equal(types.filter((t) => t === 'navigate').length, 1, 'navigations caused by clicks are not recorded');
    for (const expected of ['setValue', 'click', 'press', 'select', 'check', 'switchTab', 'switchFrame', 'switchToMainFrame', 'assertText', 'assertElement']) {
      assert.ok(types.includes(expected as (typeof types)[number]), `records ${expected}: ${types.join(', ')}`);
    }
    assert.ok(actions.some((a) => a.type === 'select' && a.option === 'finance'));
    assert.ok(actions.some((a) => a.type === 'switchTab' && a.to === 'main'));
    assert.equal(actions.filter((a) => a.type === 'setValue' && JSON.stringify(a.selector).includes('username')).length, 1, 'typing coalesced into one setValue');
    assert.ok(script.steps.some((step) => step.name.startsWith('Dashboard')), script.steps.map((s) => s.name).join(' | '));

    if (process.env['RECORDER_TEST_PRINT'] === '1') process.stderr.write(`${json}\n`);
    const { result } = await runTransaction({
      script: parsed.ok ? parsed.script : script,
      browser,
      variables: { baseUrl: site.url },
      secret: (name) => (name === 'DEMO_PASSWORD' ? 'demo-password' : undefined),
    });
    const problems = result.steps.filter((step) => step.status !== 'passed').map((step) => `${step.name}: ${step.error?.message ?? ''}`);
    assert.deepEqual(problems, [], `${json}\n`);
    assert.equal(result.status, 'passed');
  });

  it('records a hover that opens a menu (and not one that opens nothing), and the script replays', async () => {
    const recorder = await startRecorder({ browser, url: `${site.url}/login`, passwordSecret: 'DEMO_PASSWORD', name: 'Hover menu' });
    const { page } = recorder;
    await page.fill('#username', 'demo');
    await page.fill('#password', 'demo-password');
    await page.click('button[type=submit]');
    await page.waitForURL(/\/dashboard/);
    await page.goto(`${site.url}/playground`);
    await page.hover('h1');
    await page.hover('#hover-trigger');
    await page.locator('#hover-items').waitFor({ state: 'visible' });
    await page.click('#hover-items >> text=Settings');
    await recorder.addAssertion(page.locator('#menu-selection'), 'text');
    const script = await recorder.stop();
    const actions = script.steps.flatMap((step) => step.actions);
    const hovers = actions.filter((a) => a.type === 'hover');
    assert.equal(hovers.length, 1, `one hover recorded (the heading opened nothing): ${JSON.stringify(actions)}`);
    const hoverIndex = actions.findIndex((a) => a.type === 'hover');
    assert.equal(actions[hoverIndex + 1]?.type, 'click', 'the hover comes right before the click on the revealed item');
    const { result } = await runTransaction({ script, browser, variables: { baseUrl: site.url }, secret: (name) => (name === 'DEMO_PASSWORD' ? 'demo-password' : undefined) });
    assert.equal(result.status, 'passed', JSON.stringify(result.steps.map((step) => step.error)));
  });

  it('records a click on a page with a strict Content-Security-Policy', async () => {
    const server: Server = createServer((req, res) => {
      if (req.url === '/app.js') {
        res.writeHead(200, { 'Content-Type': 'text/javascript' });
        res.end("document.getElementById('go').addEventListener('click', () => { document.getElementById('out').textContent = 'Clicked'; });");
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/html', 'Content-Security-Policy': "default-src 'self'; script-src 'self'; style-src 'self'" });
      res.end('<!doctype html><title>Strict page</title><h1>Strict</h1><button id="go" type="button">Go</button><p id="out"></p><script src="/app.js"></script>');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const recorder = await startRecorder({ browser, url: `${origin}/` });
      const errors: string[] = [];
      const console: string[] = [];
      watchErrors(recorder.page, errors);
      recorder.page.on('console', (message) => {
        if (message.type() === 'error') console.push(message.text());
      });
      await recorder.page.click('#go');
      await recorder.page.waitForFunction(() => document.getElementById('out')?.textContent === 'Clicked');
      const script = await recorder.stop();
      assert.deepEqual(errors, []);
      assert.deepEqual(console.filter((text) => /Content Security Policy/i.test(text)), [], 'no CSP violation');
      const actions = script.steps.flatMap((step) => step.actions);
      assert.deepEqual(actions[0], { type: 'navigate', url: '{{baseUrl}}/' });
      const click = actions.find((action) => action.type === 'click');
      assert.ok(click !== undefined && click.type === 'click');
      assert.deepEqual(click.selector, ['role=button[name="Go" s]', 'text="Go"', '#go']);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('checkpoint record: headless run ends on the signal and writes a valid script; bad URLs exit 2', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'recorder-'));
    try {
      const out = join(dir, 'recorded.json');
      const controller = new AbortController();
      const stderr: string[] = [];
      const io = { stdout: () => undefined, stderr: (t: string) => void stderr.push(t), signal: controller.signal };
      setTimeout(() => controller.abort(), 1500);
      const code = await runRecordCommand({ url: `${site.url}/login`, out, headless: true }, io);
      assert.equal(code, 0, stderr.join(''));
      const parsed = parseScriptValue(JSON.parse(await readFile(out, 'utf8')));
      assert.ok(parsed.ok);
      assert.equal(parsed.script.variables?.['baseUrl'], site.url);
      assert.match(parsed.script.$schema ?? '', /transaction\.schema\.json$/);
      assert.equal(await runRecordCommand({ url: 'ftp://x' }, io), 2);
      assert.equal(await runRecordCommand({ url: 'not a url' }, io), 2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
