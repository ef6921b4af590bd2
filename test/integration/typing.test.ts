/**
 * Replay fidelity on a page that reacts only to real input (keyup-only filter, a <select>, controls named by
 * content): from an imported DevTools recording, from `checkpoint record`, and through `checkpoint replay` of a
 * DevTools file. Also: a DevTools count that does not hold fails, and a URL typed 2 s after a click is recorded.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { runTransaction } from '../../engine/runner/run-transaction.ts';
import type { Script } from '../../engine/schema/script.ts';
import { importDevtoolsRecording } from '../../recorder/interop/import-devtools.ts';
import { startRecorder } from '../../recorder/recorder.ts';
import { startKeyboardSite, type KeyboardSite } from '../fixtures/keyboard-site.ts';
import { runCli } from '../helpers/cli.ts';
import { launchBrowser } from '../helpers/engine.ts';

let site: KeyboardSite;
let browser: Browser;
let dir: string;

before(async () => {
  site = await startKeyboardSite();
  browser = await launchBrowser();
  dir = await mkdtemp(join(tmpdir(), 'checkpoint-typing-'));
});
after(async () => {
  await browser.close();
  await site.close();
  await rm(dir, { recursive: true, force: true });
});

/** What Chrome's Recorder saves for: type "glob" in the search box, choose Open, click Apply, open Orders. */
function recording(visibleCustomers = 2) {
  return {
    title: 'Keyboard search',
    steps: [
      { type: 'setViewport', width: 1000, height: 700, deviceScaleFactor: 1, isMobile: false, hasTouch: false, isLandscape: false },
      { type: 'navigate', url: `${site.url}/search`, assertedEvents: [{ type: 'navigation', url: `${site.url}/search`, title: 'Search' }] },
      { type: 'click', selectors: [['aria/Search customers'], ['#q']], offsetX: 5, offsetY: 5 },
      { type: 'change', selectors: [['aria/Search customers'], ['#q']], value: 'glob' },
      { type: 'waitForElement', selectors: [['.customer:not([hidden])']], operator: '==', count: visibleCustomers, timeout: 2000 },
      { type: 'change', selectors: [['aria/Status'], ['#status']], value: 'open' },
      { type: 'waitForExpression', expression: "document.querySelector('#chosen').textContent === 'Status: open'" },
      { type: 'click', selectors: [['aria/Apply']], offsetX: 5, offsetY: 5 },
      { type: 'waitForElement', selectors: [['#applied']], properties: { textContent: 'Applied' } },
      { type: 'click', selectors: [['aria/Orders']], offsetX: 5, offsetY: 5, assertedEvents: [{ type: 'navigation', url: `${site.url}/orders`, title: 'Orders' }] },
      { type: 'waitForElement', selectors: [['#orders']] },
    ],
  };
}

async function replay(script: Script) {
  const { result } = await runTransaction({ script, browser, secret: () => undefined });
  return result;
}

function failures(result: Awaited<ReturnType<typeof replay>>): string[] {
  return result.steps.filter((step) => step.status !== 'passed').map((step) => `${step.name}: ${step.error?.code ?? ''} ${step.error?.message ?? ''}`);
}

describe('replay fidelity on a page that reacts only to key events', () => {
  it('replays an imported DevTools recording: keyup filter, <select>, aria-named button and link', async () => {
    const { script, problems } = importDevtoolsRecording(recording());
    assert.deepEqual(problems, []);
    const result = await replay(script);
    assert.deepEqual(failures(result), []);
    assert.equal(result.status, 'passed');
  });

  it('role=* finds a link and a button by accessible name, scoped by a preceding chain part', async () => {
    const script: Script = {
      name: 'Accessible names',
      steps: [
        {
          name: 'Open',
          actions: [
            { type: 'navigate', url: `${site.url}/search` },
            { type: 'assertElement', selector: 'nav >> role=*[name="Orders" s]', count: 1 },
            { type: 'assertElement', selector: '#list >> role=*[name="Orders" s]', count: 0 },
            { type: 'assertElement', selector: 'role=*[name="apply"]', count: 1, attributes: { id: 'apply' } },
            { type: 'assertElement', selector: 'role=*[name="apply" s]', count: 0, timeoutMs: 500 },
          ],
        },
      ],
    };
    assert.deepEqual(failures(await replay(script)), []);
  });

  it('setValue lets the element decide: checkbox state, date value, contenteditable typing; a <div> is refused', async () => {
    const setValues: Script = {
      name: 'Set values',
      steps: [
        {
          name: 'Open',
          actions: [
            { type: 'navigate', url: `${site.url}/search` },
            { type: 'setValue', selector: 'role=*[name="Notify me"]', value: 'on' },
            { type: 'assertElement', selector: '#notify', count: 1, domProperties: { checked: true } },
            { type: 'setValue', selector: '#notify', value: 'false' },
            { type: 'assertElement', selector: '#notify', count: 1, domProperties: { checked: false } },
            { type: 'setValue', selector: '#due', value: '2026-12-24' },
            { type: 'assertElement', selector: '#due', count: 1, domProperties: { value: '2026-12-24' } },
            { type: 'setValue', selector: '#note', value: 'hello' },
            { type: 'setValue', selector: '#note', value: 'hello world' },
            { type: 'assertText', selector: '#note', text: 'hello world' },
          ],
        },
        { name: 'Refused', actions: [{ type: 'setValue', selector: '#count', value: 'x' }] },
      ],
    };
    const result = await replay(setValues);
    assert.equal(result.steps[0]?.status, 'passed', failures(result).join('\n'));
    assert.equal(result.steps[1]?.error?.code, 'ELEMENT_NOT_ACTIONABLE');
    assert.match(result.steps[1]?.error?.message ?? '', /element is a <p>, which has no value to set/);
  });

  it('the same script with `fill` instead fails: the page really needs key events', async () => {
    const { script } = importDevtoolsRecording(recording());
    const filled: Script = JSON.parse(JSON.stringify(script, (_key, value: unknown) => {
      const action = value as { type?: unknown; selector?: unknown; value?: unknown };
      return action?.type === 'setValue' && action.value === 'glob' ? { type: 'fill', selector: action.selector, value: action.value } : value;
    })) as Script;
    const result = await replay(filled);
    assert.equal(result.status, 'failed');
    assert.match(failures(result)[0] ?? '', /ASSERTION_FAILED .*expected 2 elements matching .* found 4/);
  });

  it('fails replay when a DevTools count does not hold (never weakened to "at least one")', async () => {
    const { script } = importDevtoolsRecording(recording(3));
    const result = await replay(script);
    assert.equal(result.status, 'failed');
    assert.match(failures(result)[0] ?? '', /ASSERTION_FAILED .*expected 3 elements matching \.customer:not\(\[hidden\]\), found 2/);
  });

  it('`checkpoint replay` runs a DevTools recording file directly and prints the import warnings', async () => {
    const file = join(dir, 'recording.json');
    const withWarning = recording();
    withWarning.steps[0] = { ...withWarning.steps[0], deviceScaleFactor: 2 } as (typeof withWarning.steps)[0];
    await writeFile(file, JSON.stringify(withWarning, null, 2));
    const run = await runCli(['replay', file], { timeoutMs: 90_000 });
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
    assert.match(run.stderr, /recording\.json: steps\[0\]\.deviceScaleFactor: warning: /);
  });
});

describe('recording on a page that reacts only to key events', () => {
  it('records typing, a <select> and a link so that the script replays (typing replays as key events)', async () => {
    const recorder = await startRecorder({ browser, url: `${site.url}/search`, toolbar: false, name: 'Recorded keyboard search' });
    const { page } = recorder;
    await page.locator('#q').pressSequentially('glob');
    await page.locator('#count').filter({ hasText: '2 customers' }).waitFor();
    await recorder.addAssertion(page.locator('#count'), 'text');
    await page.selectOption('#status', 'open');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByRole('link', { name: 'Orders' }).click();
    await page.waitForURL(/\/orders$/);
    await recorder.addAssertion(page.locator('#orders'), 'text');
    const script = await recorder.stop();
    const actions = script.steps.flatMap((step) => step.actions);
    assert.ok(actions.some((a) => a.type === 'setValue' && a.value === 'glob'), JSON.stringify(actions));
    assert.ok(actions.some((a) => a.type === 'assertText' && a.text === '2 customers'), JSON.stringify(actions));
    assert.equal(actions.filter((a) => a.type === 'navigate').length, 1, 'the click on Orders caused its navigation');
    const { result } = await runTransaction({ script, browser, variables: { baseUrl: site.url }, secret: () => undefined });
    assert.deepEqual(failures(result), [], JSON.stringify(script, null, 2));
  });

  it('records a URL the person typed 2 s after a click as a navigate (told apart by who started it, not by time)', async () => {
    const recorder = await startRecorder({ browser, url: `${site.url}/search`, toolbar: false });
    const { page } = recorder;
    await page.getByRole('button', { name: 'Apply' }).click();
    await new Promise((resolve) => setTimeout(resolve, 2000));
    // page.goto is a browser-initiated navigation (CDP Page.navigate, transition "typed"), like the address bar.
    await page.goto(`${site.url}/orders`);
    await recorder.addAssertion(page.locator('#orders'), 'text');
    const script = await recorder.stop();
    const actions = script.steps.flatMap((step) => step.actions);
    assert.deepEqual(
      actions.filter((a) => a.type === 'navigate'),
      [
        { type: 'navigate', url: '{{baseUrl}}/search' },
        { type: 'navigate', url: '{{baseUrl}}/orders' },
      ],
    );
    const { result } = await runTransaction({ script, browser, variables: { baseUrl: site.url }, secret: () => undefined });
    assert.deepEqual(failures(result), []);
  });
});
