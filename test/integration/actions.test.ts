/**
 * Every action type and every browser setting, replayed on real Chromium against the demo site. Each test
 * checks what the action observably did (a value read back, a page state, a URL), not only that it passed.
 *
 * Values produced inside a run (extract / evaluate variables) are read back by a final "Reveal" step that
 * navigates to a URL carrying them, so the test can read them from that step's `url` in the result.
 */
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import type { RunResult } from '../../engine/schema/result.ts';
import { startDemoSite, type DemoSite } from '../../scripts/demo-site/server.ts';
import { demoSecrets, launchBrowser, loginStep, runScript } from '../helpers/engine.ts';

const fixturesDir = fileURLToPath(new URL('../../scripts/fixtures/', import.meta.url));
const fixtureCsv = fileURLToPath(new URL('../../scripts/fixtures/expense-report.csv', import.meta.url));

type Json = Record<string, unknown>;

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

/** Run steps in a fresh context with short timeouts (negative tests must not wait 10 s). */
function run(steps: Json[], options: { settings?: Json; secret?: (name: string) => string | undefined; scriptPath?: string } = {}): Promise<RunResult> {
  return runScript(
    browser,
    { name: 'Action test', settings: { actionTimeoutMs: 3000, ...options.settings }, steps },
    {
      variables: { baseUrl: site.url, partnerUrl: site.crossOriginUrl },
      ...(options.secret === undefined ? {} : { secret: options.secret }),
      ...(options.scriptPath === undefined ? {} : { scriptPath: options.scriptPath }),
    },
  );
}

/** Login, then open `path` of the demo site. */
function loginAndOpen(path: string): Json[] {
  return [loginStep(site.url), { name: `Open ${path}`, actions: [{ type: 'navigate', url: `${site.url}${path}` }] }];
}

/** A last step carrying variables in the URL (one query parameter each) for {@link revealed}. */
function revealStep(...names: string[]): Json {
  const query = names.map((name) => `${name}={{${name}}}`).join('&');
  return { name: 'Reveal', actions: [{ type: 'switchToMainFrame' }, { type: 'navigate', url: `${site.url}/public/echo-headers?${query}` }] };
}

/** The variables a {@link revealStep} carried. Test values avoid `&` and `#`. */
function revealed(result: RunResult): Record<string, string> {
  const url = result.steps.at(-1)?.url ?? '';
  const search = url.slice(url.indexOf('?') + 1);
  const values: Record<string, string> = {};
  for (const pair of search.split('&')) {
    const equals = pair.indexOf('=');
    values[pair.slice(0, equals)] = decodeURIComponent(pair.slice(equals + 1));
  }
  return values;
}

/** Assert that the run passed, showing the step errors when it did not. */
function assertPassed(result: RunResult): void {
  const problems = result.steps.filter((step) => step.status !== 'passed').map((step) => `${step.name}: ${step.status}: ${step.error?.message ?? ''}`);
  assert.deepEqual(problems, [], 'every step passed');
  assert.equal(result.status, 'passed');
}

/** The one failed step of a run that should have failed. */
function failedStep(result: RunResult) {
  assert.equal(result.status, 'failed');
  const step = result.steps.find((s) => s.status === 'failed');
  assert.ok(step?.error !== undefined, 'a step failed with an error');
  return { step, error: step.error };
}

describe('navigate and click', () => {
  it('navigate opens an absolute URL and resolves a relative path against the current page', async () => {
    const result = await run([
      { name: 'Absolute', actions: [{ type: 'navigate', url: `${site.url}/login` }] },
      { name: 'Relative', actions: [{ type: 'navigate', url: '/slow?delayMs=0' }] },
    ]);
    assertPassed(result);
    assert.equal(result.steps[0]?.url, `${site.url}/login`);
    assert.equal(result.steps[1]?.url, `${site.url}/slow?delayMs=0`);
    assert.equal(result.steps[1]?.navigation?.httpStatus, 200);
  });

  it('navigate to an unknown page fails with HTTP_ERROR blamed on the site', async () => {
    const { error } = failedStep(await run([{ name: 'Open', actions: [{ type: 'navigate', url: `${site.url}/public/missing` }] }]));
    assert.equal(error.code, 'HTTP_ERROR', error.message);
    assert.equal(error.blame, 'site');
    assert.match(error.message, /HTTP 404/);
  });

  it('click follows a link to another page', async () => {
    const result = await run([loginStep(site.url), { name: 'Orders', actions: [{ type: 'click', selector: 'nav >> text=Orders' }, { type: 'waitForUrl', contains: '/orders' }] }]);
    assertPassed(result);
    assert.equal(result.steps[1]?.url, `${site.url}/orders`);
  });

  it('races selector alternatives: a broken first choice falls through to the second and the result says which matched', async () => {
    const result = await run([
      {
        name: 'Log in',
        actions: [
          { type: 'navigate', url: `${site.url}/login` },
          { type: 'fill', selector: ['#user-login-renamed', '#username'], value: 'demo' },
          { type: 'fill', selector: ['#password', 'testid=password'], value: '{{secret.DEMO_PASSWORD}}' },
          { type: 'click', selector: ['text=Log on', 'role=button[name="Sign in"]'] },
          { type: 'assertUrl', contains: '/dashboard' },
        ],
      },
    ]);
    assertPassed(result);
    const actions = result.steps[0]?.actions ?? [];
    assert.equal(actions[1]?.matchedSelectorIndex, 1);
    assert.equal(actions[1]?.matchedSelector, '#username');
    assert.equal(actions[2]?.matchedSelectorIndex, 0, 'the first alternative wins when both match');
    assert.equal(actions[2]?.matchedSelector, '#password');
    assert.equal(actions[3]?.matchedSelectorIndex, 1);
    assert.equal(actions[3]?.matchedSelector, 'role=button[name="Sign in"]');
  });
});

describe('form actions', () => {
  it('fill puts a value into a field that extract from=value reads back', async () => {
    const result = await run([
      ...loginAndOpen('/playground'),
      { name: 'Type', actions: [{ type: 'fill', selector: '#key-input', value: 'round trip 42' }, { type: 'extract', variable: 'typed', from: 'value', selector: '#key-input' }] },
      revealStep('typed'),
    ]);
    assertPassed(result);
    assert.equal(revealed(result)['typed'], 'round trip 42');
  });

  it('fill replaces what a field already contained', async () => {
    const result = await run([
      ...loginAndOpen('/playground'),
      {
        name: 'Type twice',
        actions: [
          { type: 'fill', selector: '#key-input', value: 'first' },
          { type: 'fill', selector: '#key-input', value: 'second' },
          { type: 'extract', variable: 'typed', from: 'value', selector: '#key-input' },
        ],
      },
      revealStep('typed'),
    ]);
    assertPassed(result);
    assert.equal(revealed(result)['typed'], 'second');
  });

  it('select chooses an option by visible label and by value', async () => {
    const result = await run([
      ...loginAndOpen('/form'),
      {
        name: 'Choose',
        actions: [
          { type: 'select', selector: '#department', option: 'Human resources' },
          { type: 'extract', variable: 'byLabel', from: 'value', selector: '#department' },
          { type: 'select', selector: '#department', option: 'finance' },
          { type: 'extract', variable: 'byValue', from: 'value', selector: '#department' },
        ],
      },
      revealStep('byLabel', 'byValue'),
    ]);
    assertPassed(result);
    assert.deepEqual(revealed(result), { byLabel: 'hr', byValue: 'finance' });
  });

  it('select fails with ASSERTION_FAILED naming an option the list does not have', async () => {
    const { error } = failedStep(await run([...loginAndOpen('/form'), { name: 'Choose', actions: [{ type: 'select', selector: '#department', option: 'Legal' }] }]));
    assert.equal(error.code, 'ASSERTION_FAILED', error.message);
    assert.match(error.message, /no option "Legal"/);
  });

  it('check and uncheck set the checkbox state, and check selects a radio button', async () => {
    const result = await run([
      ...loginAndOpen('/form'),
      {
        name: 'Toggle',
        actions: [
          { type: 'evaluate', variable: 'initially', expression: "document.querySelector('#urgent').checked" },
          { type: 'check', selector: '#urgent' },
          { type: 'evaluate', variable: 'afterCheck', expression: "document.querySelector('#urgent').checked" },
          { type: 'uncheck', selector: '#urgent' },
          { type: 'evaluate', variable: 'afterUncheck', expression: "document.querySelector('#urgent').checked" },
          { type: 'check', selector: '#priority-high' },
          { type: 'evaluate', variable: 'priority', expression: "document.querySelector('input[name=priority]:checked').value" },
        ],
      },
      revealStep('initially', 'afterCheck', 'afterUncheck', 'priority'),
    ]);
    assertPassed(result);
    assert.deepEqual(revealed(result), { initially: 'false', afterCheck: 'true', afterUncheck: 'false', priority: 'high' });
  });

  it('upload sends a file found relative to the script, and the server sees its name and size', async () => {
    const { size } = await stat(fixtureCsv);
    const result = await run(
      [
        ...loginAndOpen('/form'),
        {
          name: 'Submit',
          actions: [
            { type: 'fill', selector: '#title', value: 'With attachment' },
            { type: 'upload', selector: '#attachment', files: ['expense-report.csv'] },
            { type: 'click', selector: 'button[type=submit]' },
            { type: 'extract', variable: 'attachment', from: 'text', selector: '#summary-attachment' },
          ],
        },
        revealStep('attachment'),
      ],
      { scriptPath: `${fixturesDir}upload-test.json` },
    );
    assertPassed(result);
    assert.equal(revealed(result)['attachment'], `expense-report.csv (${size} bytes)`);
  });

  it('upload sends an inline file with its name and UTF-8 byte size', async () => {
    const text = 'Grüße from the checkpoint';
    const result = await run([
      ...loginAndOpen('/form'),
      {
        name: 'Submit',
        actions: [
          { type: 'fill', selector: '#title', value: 'Inline attachment' },
          { type: 'upload', selector: '#attachment', files: [{ name: 'note.txt', text }] },
          { type: 'click', selector: 'button[type=submit]' },
          { type: 'extract', variable: 'attachment', from: 'text', selector: '#summary-attachment' },
        ],
      },
      revealStep('attachment'),
    ]);
    assertPassed(result);
    assert.equal(revealed(result)['attachment'], `note.txt (${Buffer.byteLength(text, 'utf8')} bytes)`);
  });

  it('upload of a missing file fails with FILE_NOT_FOUND blamed on the script', async () => {
    const { error } = failedStep(
      await run([...loginAndOpen('/form'), { name: 'Attach', actions: [{ type: 'upload', selector: '#attachment', files: ['no-such-file.pdf'] }] }], {
        scriptPath: `${fixturesDir}upload-test.json`,
      }),
    );
    assert.equal(error.code, 'FILE_NOT_FOUND', error.message);
    assert.equal(error.blame, 'script');
    assert.match(error.message, /no-such-file\.pdf/);
  });
});

describe('mouse, keyboard and scrolling', () => {
  it('doubleClick triggers the double-click handler', async () => {
    const result = await run([
      ...loginAndOpen('/playground'),
      {
        name: 'Double-click',
        actions: [
          { type: 'extract', variable: 'before', from: 'text', selector: '#dbl-status' },
          { type: 'doubleClick', selector: '#dbl-target' },
          { type: 'extract', variable: 'after', from: 'text', selector: '#dbl-status' },
        ],
      },
      revealStep('before', 'after'),
    ]);
    assertPassed(result);
    assert.deepEqual(revealed(result), { before: 'Waiting', after: 'Double-clicked' });
  });

  it('hover opens the hover menu', async () => {
    const result = await run([
      ...loginAndOpen('/playground'),
      {
        name: 'Hover',
        actions: [
          { type: 'evaluate', variable: 'hiddenBefore', expression: "document.getElementById('hover-items').hidden" },
          { type: 'hover', selector: '#hover-trigger' },
          { type: 'evaluate', variable: 'hiddenAfter', expression: "document.getElementById('hover-items').hidden" },
          { type: 'extract', variable: 'expanded', from: 'attribute', selector: '#hover-trigger', attribute: 'aria-expanded' },
        ],
      },
      revealStep('hiddenBefore', 'hiddenAfter', 'expanded'),
    ]);
    assertPassed(result);
    assert.deepEqual(revealed(result), { hiddenBefore: 'true', hiddenAfter: 'false', expanded: 'true' });
  });

  it('press sends a key to an element, and without a selector to the focused element', async () => {
    const result = await run([
      ...loginAndOpen('/playground'),
      {
        name: 'Keys',
        actions: [
          { type: 'press', selector: '#key-input', key: 'Enter' },
          { type: 'extract', variable: 'first', from: 'text', selector: '#last-key' },
          { type: 'press', key: 'ArrowLeft' },
          { type: 'extract', variable: 'second', from: 'text', selector: '#last-key' },
          { type: 'press', key: 'Shift+KeyA' },
          { type: 'extract', variable: 'typed', from: 'value', selector: '#key-input' },
        ],
      },
      revealStep('first', 'second', 'typed'),
    ]);
    assertPassed(result);
    assert.deepEqual(revealed(result), { first: 'Enter', second: 'ArrowLeft', typed: 'A' });
  });

  it('scroll brings an element into view and scrolls the window by x/y', async () => {
    const inView = "(() => { const r = document.getElementById('bottom-marker').getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; })()";
    const result = await run([
      ...loginAndOpen('/playground'),
      {
        name: 'Scroll',
        actions: [
          { type: 'evaluate', variable: 'visibleBefore', expression: inView },
          { type: 'scroll', selector: '#bottom-marker' },
          { type: 'evaluate', variable: 'visibleAfter', expression: inView },
          { type: 'scroll', y: -1_000_000 },
          { type: 'evaluate', variable: 'atTop', expression: 'scrollY' },
          { type: 'scroll', y: 250 },
          { type: 'evaluate', variable: 'scrolled', expression: 'Math.round(scrollY)' },
        ],
      },
      revealStep('visibleBefore', 'visibleAfter', 'atTop', 'scrolled'),
    ]);
    assertPassed(result);
    assert.deepEqual(revealed(result), { visibleBefore: 'false', visibleAfter: 'true', atTop: '0', scrolled: '250' });
  });

  it('evaluate runs in the document that is there when a navigation tears the old one down under it', async () => {
    // The expression starts a navigation and waits: its document is destroyed mid-call (as when a submit the
    // previous action started commits). Replay runs it again in the arriving page, where it answers at once.
    const expression = "location.pathname === '/playground' ? 'arrived' : new Promise((resolve) => { location.href = '/playground'; setTimeout(resolve, 5000); })";
    const result = await run([...loginAndOpen('/orders'), { name: 'Navigate under an evaluate', actions: [{ type: 'evaluate', variable: 'where', expression }] }, revealStep('where')]);
    assertPassed(result);
    assert.deepEqual(revealed(result), { where: 'arrived' });
  });

  it('setViewport resizes the window the page sees', async () => {
    const result = await run([
      ...loginAndOpen('/playground'),
      {
        name: 'Resize',
        actions: [
          { type: 'evaluate', variable: 'initial', expression: "innerWidth + 'x' + innerHeight" },
          { type: 'setViewport', width: 390, height: 640 },
          { type: 'evaluate', variable: 'resized', expression: "innerWidth + 'x' + innerHeight" },
        ],
      },
      revealStep('initial', 'resized'),
    ]);
    assertPassed(result);
    assert.deepEqual(revealed(result), { initial: '1280x720', resized: '390x640' });
  });

  it('settings.viewport sets the initial window size', async () => {
    const result = await run(
      [...loginAndOpen('/playground'), { name: 'Measure', actions: [{ type: 'evaluate', variable: 'size', expression: "innerWidth + 'x' + innerHeight" }] }, revealStep('size')],
      { settings: { viewport: { width: 800, height: 600 } } },
    );
    assertPassed(result);
    assert.equal(revealed(result)['size'], '800x600');
  });
});

describe('waits', () => {
  it('waitForElement waits for an element that appears a second after the click', async () => {
    const result = await run([
      ...loginAndOpen('/playground'),
      {
        name: 'Late element',
        actions: [
          { type: 'click', selector: '#delayed-button' },
          { type: 'waitForElement', selector: '#delayed-text' },
          { type: 'extract', variable: 'late', from: 'text', selector: '#delayed-text' },
        ],
      },
      revealStep('late'),
    ]);
    assertPassed(result);
    assert.equal(revealed(result)['late'], 'Loaded later');
    const waited = result.steps[2]?.actions[1]?.durationMs ?? 0;
    assert.ok(waited >= 800, `waitForElement waited for the element (${waited} ms)`);
  });

  it('waitForElement with state hidden waits until an element is hidden, and times out while it stays visible', async () => {
    const ok = await run([
      ...loginAndOpen('/playground'),
      {
        name: 'Toggle',
        actions: [
          { type: 'click', selector: '#reveal-button' },
          { type: 'waitForElement', selector: '#hidden-text', state: 'visible' },
          { type: 'click', selector: '#reveal-button' },
          { type: 'waitForElement', selector: '#hidden-text', state: 'hidden' },
          { type: 'waitForElement', selector: '#never-there', state: 'detached' },
        ],
      },
    ]);
    assertPassed(ok);
    const { error } = failedStep(
      await run([...loginAndOpen('/playground'), { name: 'Wait', actions: [{ type: 'waitForElement', selector: '#dbl-target', state: 'hidden', timeoutMs: 400 }] }]),
    );
    assert.equal(error.code, 'ACTION_TIMEOUT', error.message);
    assert.match(error.message, /#dbl-target is still visible after 400 ms/);
  });

  it('waitForText waits until a text appears, and times out with ACTION_TIMEOUT when it never does', async () => {
    const result = await run([
      ...loginAndOpen('/playground'),
      { name: 'Late text', actions: [{ type: 'click', selector: '#delayed-button' }, { type: 'waitForText', text: 'Loaded later' }, { type: 'waitForText', selector: '#delayed-area', text: 'later' }] },
    ]);
    assertPassed(result);
    const waited = result.steps[2]?.actions[1]?.durationMs ?? 0;
    assert.ok(waited >= 800, `waitForText waited for the text (${waited} ms)`);

    const { error } = failedStep(await run([...loginAndOpen('/playground'), { name: 'Never', actions: [{ type: 'waitForText', text: 'Never shown', timeoutMs: 300 }] }]));
    assert.equal(error.code, 'ACTION_TIMEOUT', error.message);
    assert.match(error.message, /"Never shown" did not appear within 300 ms/);
  });

  it('waitForUrl waits for a URL by equals, contains and matches, and reports the URL it saw on timeout', async () => {
    const result = await run([
      loginStep(site.url),
      {
        name: 'Search',
        actions: [
          { type: 'navigate', url: `${site.url}/orders` },
          { type: 'fill', selector: 'input[name=q]', value: 'Hooli' },
          { type: 'press', selector: 'input[name=q]', key: 'Enter' },
          { type: 'waitForUrl', contains: 'q=Hooli' },
          { type: 'waitForUrl', matches: '/orders\\?q=Hooli&status=all$' },
          { type: 'waitForUrl', equals: `${site.url}/orders?q=Hooli&status=all` },
        ],
      },
    ]);
    assertPassed(result);
    const { error } = failedStep(await run([{ name: 'Wait', actions: [{ type: 'navigate', url: `${site.url}/login` }, { type: 'waitForUrl', contains: '/dashboard', timeoutMs: 300 }] }]));
    assert.equal(error.code, 'ACTION_TIMEOUT', error.message);
    assert.ok(error.message.includes(`(it is ${site.url}/login)`), error.message);
  });

  it('waitForTime pauses for at least its duration', async () => {
    const result = await run([{ name: 'Pause', actions: [{ type: 'waitForTime', durationMs: 400 }] }]);
    assertPassed(result);
    const paused = result.steps[0]?.actions[0]?.durationMs ?? 0;
    // Node timers may fire up to 1 ms early against performance.now(); see the engine note in the report.
    assert.ok(paused >= 399 && paused < 1500, `paused ${paused} ms`);
  });

  it('waitForNetworkIdle waits for a background request started by a click to finish', async () => {
    const result = await run([
      ...loginAndOpen('/playground'),
      {
        name: 'Fetch',
        actions: [
          { type: 'click', selector: '#fetch-button' },
          { type: 'waitForNetworkIdle' },
          // extract reads once (no retry): the answer must already be on the page.
          { type: 'extract', variable: 'answer', from: 'text', selector: '#fetch-result' },
        ],
      },
      revealStep('answer'),
    ]);
    assertPassed(result);
    assert.equal(revealed(result)['answer'], 'Loaded after 300 ms');
    const waited = result.steps[2]?.actions[1]?.durationMs ?? 0;
    assert.ok(waited >= 500, `waited for the request and the 500 ms quiet window (${waited} ms)`);
  });
});

describe('assertions', () => {
  it('assertText passes for present text, and for absent text that is not there', async () => {
    const result = await run([
      loginStep(site.url),
      {
        name: 'Check',
        actions: [
          { type: 'assertText', text: 'Welcome back, demo' },
          { type: 'assertText', selector: '#welcome', text: 'demo' },
          { type: 'assertText', text: 'Invalid username or password', absent: true },
        ],
      },
    ]);
    assertPassed(result);
  });

  it('assertText absent fails with ASSERTION_FAILED blamed on the site when the text is present', async () => {
    const result = await run([
      loginStep(site.url),
      { name: 'Check', actions: [{ type: 'assertText', text: 'Welcome back, demo', absent: true, timeoutMs: 500 }] },
      { name: 'Never reached', actions: [{ type: 'assertTitle', contains: 'Dashboard' }] },
    ]);
    const { step, error } = failedStep(result);
    assert.equal(step.name, 'Check');
    assert.equal(error.code, 'ASSERTION_FAILED', error.message);
    assert.equal(error.blame, 'site');
    assert.equal(error.action, 0);
    assert.ok(error.message.includes('not to contain text "Welcome back, demo"'), error.message);
    assert.equal(result.steps[2]?.status, 'skipped');
  });

  it('assertText fails when an element does not contain the text', async () => {
    const { error } = failedStep(await run([loginStep(site.url), { name: 'Check', actions: [{ type: 'assertText', selector: '#welcome', text: 'Welcome back, admin', timeoutMs: 400 }] }]));
    assert.equal(error.code, 'ASSERTION_FAILED', error.message);
    assert.match(error.message, /expected #welcome to contain text "Welcome back, admin"/);
    assert.equal(error.selector, '#welcome');
  });

  it('assertElement checks an exact count, and reports the count it found when wrong', async () => {
    const search = { type: 'navigate', url: `${site.url}/orders?q=Hooli&status=open` };
    const ok = await run([loginStep(site.url), { name: 'Count', actions: [search, { type: 'assertElement', selector: '[data-testid=order-row]', count: 3 }, { type: 'assertElement', selector: '#no-results', count: 0 }] }]);
    assertPassed(ok);
    const { error } = failedStep(await run([loginStep(site.url), { name: 'Count', actions: [search, { type: 'assertElement', selector: '[data-testid=order-row]', count: 4, timeoutMs: 400 }] }]));
    assert.equal(error.code, 'ASSERTION_FAILED', error.message);
    assert.match(error.message, /expected 4 elements matching \[data-testid=order-row\], found 3/);
  });

  it('assertElement checks visible and hidden states', async () => {
    const ok = await run([
      ...loginAndOpen('/playground'),
      {
        name: 'States',
        actions: [
          { type: 'assertElement', selector: '#hidden-text', state: 'hidden' },
          { type: 'assertElement', selector: '#no-such-element', state: 'hidden' },
          { type: 'click', selector: '#reveal-button' },
          { type: 'assertElement', selector: '#hidden-text' },
        ],
      },
    ]);
    assertPassed(ok);
    const { error } = failedStep(
      await run([...loginAndOpen('/playground'), { name: 'Visible?', actions: [{ type: 'assertElement', selector: '#hidden-text', state: 'visible', timeoutMs: 400 }] }]),
    );
    assert.equal(error.code, 'ASSERTION_FAILED', error.message);
    assert.match(error.message, /expected #hidden-text to be visible/);
    const hidden = failedStep(
      await run([...loginAndOpen('/playground'), { name: 'Hidden?', actions: [{ type: 'assertElement', selector: '#dbl-target', state: 'hidden', timeoutMs: 400 }] }]),
    );
    assert.equal(hidden.error.code, 'ASSERTION_FAILED', hidden.error.message);
    assert.match(hidden.error.message, /expected #dbl-target to be hidden/);
  });

  it(
    'assertElement with selector alternatives reports an element that stays hidden as ASSERTION_FAILED',
    async () => {
      const { error } = failedStep(
        await run([...loginAndOpen('/playground'), { name: 'Visible?', actions: [{ type: 'assertElement', selector: ['#old-note', '#hidden-text'], timeoutMs: 400 }] }]),
      );
      assert.equal(error.code, 'ASSERTION_FAILED', error.message);
    },
  );

  it('assertUrl accepts equals, contains and matches, and a mismatch names the actual URL', async () => {
    const ok = await run([
      {
        name: 'Check',
        actions: [
          { type: 'navigate', url: `${site.url}/slow?delayMs=0` },
          { type: 'assertUrl', equals: `${site.url}/slow?delayMs=0` },
          { type: 'assertUrl', contains: '/slow?' },
          { type: 'assertUrl', matches: '^http://127\\.0\\.0\\.1:\\d+/slow\\?delayMs=0$' },
        ],
      },
    ]);
    assertPassed(ok);
    const { error } = failedStep(await run([{ name: 'Check', actions: [{ type: 'navigate', url: `${site.url}/login` }, { type: 'assertUrl', contains: '/dashboard', timeoutMs: 300 }] }]));
    assert.equal(error.code, 'ASSERTION_FAILED', error.message);
    assert.ok(error.message.includes(`expected the URL to contain "/dashboard", but it is ${site.url}/login`), error.message);
  });

  it('assertTitle accepts equals, contains and matches, and a mismatch names the actual title', async () => {
    const ok = await run([
      {
        name: 'Check',
        actions: [
          { type: 'navigate', url: `${site.url}/login` },
          { type: 'assertTitle', equals: 'Sign in · Acme Intranet' },
          { type: 'assertTitle', contains: 'Sign in' },
          { type: 'assertTitle', matches: '^Sign in · Acme' },
        ],
      },
    ]);
    assertPassed(ok);
    const { error } = failedStep(await run([{ name: 'Check', actions: [{ type: 'navigate', url: `${site.url}/login` }, { type: 'assertTitle', equals: 'Dashboard', timeoutMs: 300 }] }]));
    assert.equal(error.code, 'ASSERTION_FAILED', error.message);
    assert.ok(error.message.includes('expected the title to equal "Dashboard", but it is "Sign in · Acme Intranet"'), error.message);
  });
});

describe('extract and evaluate', () => {
  it('extract reads text (with a pattern), an attribute, and parts of the URL', async () => {
    const result = await run([
      loginStep(site.url),
      {
        name: 'Read',
        actions: [
          { type: 'extract', variable: 'popupHref', from: 'attribute', selector: '#popup-link', attribute: 'href' },
          { type: 'extract', variable: 'openOrders', from: 'text', selector: 'testid=kpi-open-orders' },
          { type: 'navigate', url: `${site.url}/orders?q=Hooli&status=open` },
          { type: 'extract', variable: 'status', from: 'url', urlPart: 'param', param: 'status' },
          { type: 'extract', variable: 'missing', from: 'url', urlPart: 'param', param: 'page' },
          { type: 'extract', variable: 'path', from: 'url', urlPart: 'pathname' },
          { type: 'extract', variable: 'count', from: 'text', selector: '#result-count', pattern: '^(\\d+) orders$' },
          { type: 'extract', variable: 'firstOrder', from: 'text', selector: '[data-testid=order-row] .order-id >> nth=0', pattern: 'SO-\\d+' },
        ],
      },
      revealStep('popupHref', 'openOrders', 'status', 'missing', 'path', 'count', 'firstOrder'),
    ]);
    assertPassed(result);
    assert.deepEqual(revealed(result), { popupHref: '/popup-target', openOrders: '15', status: 'open', missing: '', path: '/orders', count: '3', firstOrder: 'SO-1009' });
  });

  it('extract fails with ASSERTION_FAILED when the value does not match the pattern', async () => {
    const { error } = failedStep(await run([loginStep(site.url), { name: 'Read', actions: [{ type: 'extract', variable: 'x', from: 'text', selector: '#welcome', pattern: '^Goodbye' }] }]));
    assert.equal(error.code, 'ASSERTION_FAILED', error.message);
    assert.match(error.message, /"Welcome back, demo" does not match \/\^Goodbye\//);
  });

  it('evaluate stores its result in a variable that a later fill uses', async () => {
    const result = await run([
      ...loginAndOpen('/playground'),
      {
        name: 'Compute',
        actions: [
          { type: 'evaluate', variable: 'answer', expression: "'order-' + (6 * 7)" },
          { type: 'evaluate', variable: 'asJson', expression: '({ n: 1, ok: true })' },
          { type: 'evaluate', variable: 'awaited', expression: "new Promise((resolve) => setTimeout(() => resolve('later'), 50))" },
          { type: 'fill', selector: '#key-input', value: '{{answer}}/{{awaited}}' },
          { type: 'extract', variable: 'typed', from: 'value', selector: '#key-input' },
        ],
      },
      revealStep('typed', 'asJson'),
    ]);
    assertPassed(result);
    assert.deepEqual(revealed(result), { typed: 'order-42/later', asJson: '{"n":1,"ok":true}' });
  });

  it('evaluate that throws fails with EVALUATION_FAILED and the thrown message', async () => {
    const { error } = failedStep(await run([{ name: 'Throw', actions: [{ type: 'navigate', url: `${site.url}/login` }, { type: 'evaluate', expression: "(() => { throw new Error('probe said no'); })()" }] }]));
    assert.equal(error.code, 'EVALUATION_FAILED', error.message);
    assert.match(error.message, /probe said no/);
  });
});

describe('frames and tabs', () => {
  it('switchFrame by selector enters the same-origin frame, and switchToMainFrame returns to the page', async () => {
    const result = await run([
      ...loginAndOpen('/frames'),
      {
        name: 'Inner frame',
        actions: [
          { type: 'switchFrame', selector: '#inner-frame' },
          { type: 'fill', selector: '#frame-input', value: 'hello frame' },
          { type: 'click', selector: '#frame-button' },
          { type: 'assertText', selector: '#frame-output', text: 'Echo: hello frame' },
          { type: 'extract', variable: 'echo', from: 'text', selector: '#frame-output' },
          { type: 'evaluate', variable: 'framePath', expression: 'location.pathname' },
          { type: 'switchToMainFrame' },
          { type: 'evaluate', variable: 'mainPath', expression: 'location.pathname' },
          { type: 'assertElement', selector: '#frame-output', count: 0 },
        ],
      },
      revealStep('echo', 'framePath', 'mainPath'),
    ]);
    assertPassed(result);
    assert.deepEqual(revealed(result), { echo: 'Echo: hello frame', framePath: '/frame-inner', mainPath: '/frames' });
  });

  it('switchFrame by name and by urlContains enters the cross-origin partner frame', async () => {
    const result = await run([
      ...loginAndOpen('/frames'),
      {
        name: 'Partner by name',
        actions: [
          { type: 'switchFrame', name: 'cross' },
          { type: 'click', selector: '#widget-button' },
          { type: 'extract', variable: 'status', from: 'text', selector: '#widget-status' },
          { type: 'evaluate', variable: 'byName', expression: 'location.origin' },
          { type: 'switchToMainFrame' },
        ],
      },
      {
        name: 'Partner by URL',
        actions: [
          { type: 'switchFrame', urlContains: '{{partnerUrl}}/widget' },
          { type: 'evaluate', variable: 'byUrl', expression: 'location.origin' },
          { type: 'switchToMainFrame' },
          { type: 'evaluate', variable: 'main', expression: 'location.origin' },
        ],
      },
      revealStep('status', 'byName', 'byUrl', 'main'),
    ]);
    assertPassed(result);
    assert.deepEqual(revealed(result), { status: 'Acknowledged', byName: site.crossOriginUrl, byUrl: site.crossOriginUrl, main: site.url });
  });

  it('switchFrame fails with FRAME_NOT_FOUND when no frame has the name', async () => {
    const { error } = failedStep(await run([...loginAndOpen('/frames'), { name: 'Enter', actions: [{ type: 'switchFrame', name: 'nope', timeoutMs: 300 }] }]));
    assert.equal(error.code, 'FRAME_NOT_FOUND', error.message);
    assert.match(error.message, /no frame named "nope"/);
  });

  it('switchTab follows a popup (latest), returns to the main tab, and closeTab closes the popup', async () => {
    const result = await run([
      loginStep(site.url),
      {
        name: 'Popup',
        actions: [
          { type: 'click', selector: '#popup-link' },
          { type: 'switchTab', to: 'latest' },
          { type: 'assertTitle', contains: 'Popup report' },
          { type: 'evaluate', variable: 'inPopup', expression: 'location.pathname' },
          { type: 'switchTab', to: 'main' },
          { type: 'evaluate', variable: 'inMain', expression: 'location.pathname' },
          { type: 'switchTab', urlContains: '/popup-target' },
          { type: 'evaluate', variable: 'byUrl', expression: 'location.pathname' },
          { type: 'closeTab' },
          { type: 'evaluate', variable: 'afterClose', expression: 'location.pathname' },
        ],
      },
      {
        name: 'Window',
        actions: [
          { type: 'click', selector: '#window-open' },
          { type: 'switchTab' },
          { type: 'waitForUrl', contains: '/popup-target' },
          { type: 'assertText', selector: '#popup-text', text: 'Quarterly figures' },
          { type: 'closeTab' },
        ],
      },
      revealStep('inPopup', 'inMain', 'byUrl', 'afterClose'),
    ]);
    assertPassed(result);
    assert.deepEqual(revealed(result), { inPopup: '/popup-target', inMain: '/dashboard', byUrl: '/popup-target', afterClose: '/dashboard' });
    assert.ok(result.steps[1]?.url?.endsWith('/dashboard'), 'after closeTab the run continues in the main tab');
    assert.ok(result.steps[2]?.url?.endsWith('/dashboard'));
  });

  it('closeTab refuses to close the main tab, blaming the script', async () => {
    const { error } = failedStep(await run([{ name: 'Close', actions: [{ type: 'navigate', url: `${site.url}/login` }, { type: 'closeTab' }] }]));
    assert.equal(error.code, 'SCRIPT_INVALID', error.message);
    assert.equal(error.blame, 'script');
  });

  it('switchTab to latest fails with TAB_NOT_FOUND when no tab opens', async () => {
    const { error } = failedStep(await run([{ name: 'Switch', actions: [{ type: 'navigate', url: `${site.url}/login` }, { type: 'switchTab', to: 'latest', timeoutMs: 300 }] }]));
    assert.equal(error.code, 'TAB_NOT_FOUND', error.message);
  });
});

describe('settings', () => {
  const readHeaders = (names: string[]) => ({
    type: 'evaluate',
    variable: 'headers',
    expression: `(() => { const h = JSON.parse(document.body.innerText); return ${JSON.stringify(names)}.map((n) => n + ':' + (h[n] ?? '-')).join('|'); })()`,
  });

  it('sends extraHttpHeaders (with variables) and the userAgent on every request', async () => {
    const result = await run(
      [
        { name: 'Echo', actions: [{ type: 'navigate', url: `${site.url}/public/echo-headers` }, readHeaders(['x-probe', 'x-run', 'user-agent'])] },
        revealStep('headers'),
      ],
      { settings: { userAgent: 'CheckpointTest/2.0', extraHttpHeaders: { 'X-Probe': 'actions-test', 'X-Run': 'base {{baseUrl}}' } } },
    );
    assertPassed(result);
    assert.equal(revealed(result)['headers'], `x-probe:actions-test|x-run:base ${site.url}|user-agent:CheckpointTest/2.0`);
  });

  it('answers the basic-auth challenge with httpCredentials, and fails with HTTP 401 without them or with a wrong password', async () => {
    const credentials = { httpCredentials: { username: 'admin', password: '{{secret.BASIC_AUTH_PASSWORD}}' } };
    const steps = [{ name: 'Admin', actions: [{ type: 'navigate', url: `${site.url}/basic-auth` }, { type: 'extract', variable: 'status', from: 'text', selector: '#basic-auth-status' }] }];
    const ok = await run([...steps, revealStep('status')], { settings: credentials });
    assertPassed(ok);
    assert.equal(revealed(ok)['status'], 'You are authenticated with HTTP basic authentication.');

    const without = failedStep(await run(steps));
    assert.equal(without.error.code, 'HTTP_ERROR', without.error.message);
    assert.match(without.error.message, /HTTP 401/);

    const wrong = failedStep(await run(steps, { settings: credentials, secret: (name) => (name === 'BASIC_AUTH_PASSWORD' ? 'not-the-password' : demoSecrets[name]) }));
    assert.equal(wrong.error.code, 'HTTP_ERROR', wrong.error.message);
    assert.match(wrong.error.message, /HTTP 401/);
  });

  it('blockedUrls aborts matching requests: the page sees the fetch fail and the step counts it', async () => {
    const result = await run(
      [
        ...loginAndOpen('/playground'),
        {
          name: 'Fetch',
          actions: [
            { type: 'click', selector: '#fetch-button' },
            { type: 'waitForText', selector: '#fetch-result', text: 'Failed' },
            { type: 'extract', variable: 'answer', from: 'text', selector: '#fetch-result' },
          ],
        },
        revealStep('answer'),
      ],
      { settings: { blockedUrls: ['**/api/slow-data*'] } },
    );
    assertPassed(result);
    assert.match(revealed(result)['answer'] ?? '', /^Failed: /);
    assert.ok((result.steps[2]?.requests?.failed ?? 0) >= 1, `the blocked request is counted as failed: ${JSON.stringify(result.steps[2]?.requests)}`);
  });

  it('blockedUrls makes a navigation to a blocked page fail with NAVIGATION_FAILED', async () => {
    const { error } = failedStep(await run([{ name: 'Open', actions: [{ type: 'navigate', url: `${site.url}/slow?delayMs=0` }] }], { settings: { blockedUrls: ['**/slow*'] } }));
    assert.equal(error.code, 'NAVIGATION_FAILED', error.message);
    assert.match(error.message, /ERR_BLOCKED_BY_CLIENT/);
  });

  it('locale and timezoneId change Intl, navigator.language and Accept-Language', async () => {
    const result = await run(
      [
        {
          name: 'Intl',
          actions: [
            { type: 'navigate', url: `${site.url}/public/echo-headers` },
            {
              type: 'evaluate',
              variable: 'intl',
              expression:
                "[Intl.DateTimeFormat().resolvedOptions().timeZone, navigator.language, new Intl.NumberFormat().format(1234.5), new Date(Date.UTC(2026, 0, 1, 12)).getHours(), JSON.parse(document.body.innerText)['accept-language'].split(',')[0]].join('|')",
            },
          ],
        },
        revealStep('intl'),
      ],
      { settings: { locale: 'de-DE', timezoneId: 'Asia/Tokyo' } },
    );
    assertPassed(result);
    assert.equal(revealed(result)['intl'], 'Asia/Tokyo|de-DE|1.234,5|21|de-DE');
  });
});
