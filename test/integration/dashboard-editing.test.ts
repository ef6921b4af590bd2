// Issue 14, item 2: the dashboard is for work. Driven in real Chromium: sign in through the login form, create a
// monitor through the form (refused first, with the API's own message next to the field and the values kept),
// edit it, disable it, run it now on a fake agent and watch the result arrive, delete it. And a form POST without
// its CSRF token changes nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchBrowser } from '../../engine/browser/launch.ts';
import { FakeAgent, FakeClock, type Answer } from '../helpers/fake-agent.ts';
import { dashboardAdminToken, screenshot, signIn as signInWith, startPlane, type Plane } from '../helpers/dashboard-plane.ts';

const plane = (t: TestContext, clock = new FakeClock(), loopbackAdmin = false): Promise<Plane> => startPlane(t, { clock, loopbackAdmin });
const signIn = (t: TestContext, p: Plane) => signInWith(browser, t, p);

const adminToken = dashboardAdminToken;

const homeScript = { name: 'Intranet home', steps: [{ name: 'Open the home page', actions: [{ type: 'navigate', url: '{{baseUrl}}/' }] }] };

let browser: Browser;
before(async () => {
  browser = await launchBrowser({ executablePath: '/usr/bin/chromium-headless-shell' });
});
after(async () => {
  await browser.close();
});

describe('dashboard: working with monitors', () => {
  it('creates, refuses with the API message, edits, disables, runs now and deletes a monitor through its forms', async (t) => {
    const p = await plane(t);
    const created = await p.call('POST', '/api/v1/checkpoints', { name: 'intranet' });
    assert.equal(created.status, 201);
    const dmz = await p.call('POST', '/api/v1/checkpoints', { name: 'dmz' });
    assert.equal(dmz.status, 201);
    const { tab } = await signIn(t, p);

    // ---- create: refused first (an undefined {{baseUrl}}), with the API's exact message next to the script ----
    await Promise.all([tab.waitForURL(`${p.cp.url}/monitors/new`), tab.getByRole('link', { name: 'New monitor' }).click()]);
    await tab.getByLabel('Id (optional)').fill('intranet-home');
    await tab.getByLabel('Name').fill('Intranet home');
    await tab.getByRole('checkbox', { name: 'dmz', exact: true }).uncheck();
    await tab.getByRole('checkbox', { name: 'intranet', exact: true }).check();
    await tab.getByLabel('Interval (seconds)').fill('60');
    const scriptText = JSON.stringify(homeScript, null, 2);
    await tab.getByLabel('Script (JSON)').fill(scriptText);
    await tab.getByLabel('Variables').fill('');
    await Promise.all([tab.waitForLoadState(), tab.getByRole('button', { name: 'Create monitor' }).click()]);

    const api = await p.call('PUT', '/api/v1/monitors/intranet-home?dryRun=true', { name: 'Intranet home', checkpoint: 'intranet', intervalSeconds: 60, script: homeScript });
    assert.equal(api.status, 400, 'the API refuses the same monitor');
    const apiMessage = (api.body['error'] as { message: string }).message;
    assert.match(apiMessage, /^script\.steps\[0\]\.actions\[0\]\.url: .*baseUrl/);
    const scriptError = tab.locator('#field-script-error');
    assert.equal(((await scriptError.textContent()) ?? '').replace(/^Error: /, '').trim(), apiMessage, 'the form shows the API`s message, next to the script');
    assert.equal(await tab.getByLabel('Script (JSON)').getAttribute('aria-invalid'), 'true');
    assert.match((await tab.getByLabel('Script (JSON)').getAttribute('aria-describedby')) ?? '', /\bfield-script-error\b/);
    const summary = tab.getByRole('alert');
    assert.match(await summary.innerText(), /The monitor was not saved: 1 problem/);
    assert.equal(await summary.getByRole('link').getAttribute('href'), '#field-script', 'the summary links to the field');
    assert.equal(await tab.evaluate(() => document.activeElement?.className), 'error-summary', 'the summary has the focus');
    assert.equal(await tab.getByLabel('Name').inputValue(), 'Intranet home', 'values are kept');
    assert.equal(await tab.getByLabel('Id (optional)').inputValue(), 'intranet-home');
    assert.equal(await tab.getByRole('checkbox', { name: 'intranet', exact: true }).isChecked(), true);
    assert.equal(await tab.getByRole('checkbox', { name: 'dmz', exact: true }).isChecked(), false);
    assert.equal(await tab.getByLabel('Script (JSON)').inputValue(), scriptText);
    assert.equal((await p.call('GET', '/api/v1/monitors/intranet-home')).status, 404, 'nothing was stored');

    // Fixed by keyboard alone: type the variable, Tab to the button, Enter.
    await tab.getByLabel('Variables').focus();
    await tab.keyboard.type('baseUrl=http://intranet.example');
    await tab.keyboard.press('Tab');
    assert.equal(await tab.evaluate(() => document.activeElement?.textContent), 'Create monitor');
    await Promise.all([tab.waitForURL(`${p.cp.url}/monitors/intranet-home?done=created`), tab.keyboard.press('Enter')]);
    assert.match(await tab.getByRole('status').innerText(), /Monitor created/);
    const stored = await p.call('GET', '/api/v1/monitors/intranet-home');
    assert.equal(stored.status, 200);
    assert.deepEqual([stored.body['name'], stored.body['checkpoint'], stored.body['intervalSeconds'], stored.body['enabled']], ['Intranet home', 'intranet', 60, true]);
    assert.deepEqual(stored.body['variables'], { baseUrl: 'http://intranet.example' });
    assert.deepEqual(stored.body['script'], homeScript);
    await tab.goto(`${p.cp.url}/`);
    assert.equal(await tab.getByRole('link', { name: 'Intranet home' }).count(), 1, 'listed on the overview');

    // ---- edit: prefilled; a bad interval and broken JSON are refused with their messages, then saved ----
    await tab.getByRole('link', { name: 'Intranet home' }).click();
    await Promise.all([tab.waitForURL(`${p.cp.url}/monitors/intranet-home/edit`), tab.getByRole('link', { name: 'Edit' }).click()]);
    assert.equal(await tab.getByLabel('Name').inputValue(), 'Intranet home');
    assert.equal(await tab.getByLabel('Variables').inputValue(), 'baseUrl=http://intranet.example');
    assert.deepEqual(JSON.parse(await tab.getByLabel('Script (JSON)').inputValue()), homeScript);
    await tab.getByLabel('Name').fill('Intranet home page');
    await tab.getByLabel('Interval (seconds)').fill('5');
    await tab.getByLabel('Script (JSON)').fill('{ "name": "Intranet home", "steps": [ }');
    await Promise.all([tab.waitForLoadState(), tab.getByRole('button', { name: 'Save changes' }).click()]);
    assert.match(await tab.locator('#field-interval-error').innerText(), /intervalSeconds: .*10/, 'the interval is refused next to its field');
    assert.match(await tab.locator('#field-script-error').innerText(), /script: invalid JSON/);
    assert.match(await tab.getByRole('alert').innerText(), /2 problems/);
    assert.equal(await tab.getByLabel('Name').inputValue(), 'Intranet home page', 'values are kept');
    await screenshot(tab, 'dashboard-edit-monitor.png');
    assert.equal((await p.call('GET', '/api/v1/monitors/intranet-home')).body['name'], 'Intranet home', 'nothing was stored');

    await tab.getByLabel('Interval (seconds)').fill('120');
    await tab.getByLabel('Script (JSON)').fill(scriptText);
    await tab.getByRole('checkbox', { name: 'intranet', exact: true }).uncheck();
    await tab.getByRole('checkbox', { name: 'dmz', exact: true }).check();
    await Promise.all([tab.waitForURL(`${p.cp.url}/monitors/intranet-home?done=saved`), tab.getByRole('button', { name: 'Save changes' }).click()]);
    const edited = (await p.call('GET', '/api/v1/monitors/intranet-home')).body;
    assert.deepEqual([edited['name'], edited['intervalSeconds'], edited['checkpoint'], edited['enabled']], ['Intranet home page', 120, 'dmz', true]);
    assert.deepEqual(edited['variables'], { baseUrl: 'http://intranet.example' }, 'variables kept');

    // ---- disable ----
    await Promise.all([tab.waitForURL(`${p.cp.url}/monitors/intranet-home?done=disabled`), tab.getByRole('button', { name: 'Disable' }).click()]);
    assert.equal((await p.call('GET', '/api/v1/monitors/intranet-home')).body['enabled'], false);
    assert.equal(await tab.getByRole('button', { name: 'Enable' }).count(), 1, 'the button now enables it');

    // ---- run now: dispatched to the connected agent; the page shows the result when it arrives ----
    const agent = await FakeAgent.connect({ baseUrl: p.cp.url, token: String(dmz.body['token']), instanceId: 'dmz-1' });
    t.after(() => agent.kill());
    await tab.reload();
    await Promise.all([tab.waitForURL(/\/runs\/[^/?]+\?done=dispatched$/), tab.getByRole('button', { name: 'Run now' }).click()]);
    const runId = decodeURIComponent(new URL(tab.url()).pathname.split('/')[2] ?? '');
    const command = await agent.next('run');
    assert.deepEqual([command.runId, command.monitorId, command.reason], [runId, 'intranet-home', 'manual']);
    assert.match(await tab.locator('main').innerText(), /in progress/);
    await agent.answer(command, { status: 'passed', durationMs: 812 });
    await tab.locator('.title-row .pill.passed').waitFor({ timeout: 20_000 });
    assert.equal(await tab.locator('meta[http-equiv=refresh]').count(), 0, 'the page stops reloading once the result is there');

    // ---- delete, after a confirmation step ----
    await tab.goto(`${p.cp.url}/monitors/intranet-home`);
    await Promise.all([tab.waitForURL(`${p.cp.url}/monitors/intranet-home/delete`), tab.getByRole('link', { name: 'Delete…' }).click()]);
    assert.equal((await p.call('GET', '/api/v1/monitors/intranet-home')).status, 200, 'the confirmation page deletes nothing');
    await Promise.all([tab.waitForURL(`${p.cp.url}/?done=deleted`), tab.getByRole('button', { name: 'Delete monitor' }).click()]);
    assert.equal((await p.call('GET', '/api/v1/monitors/intranet-home')).status, 404);
    assert.equal(await tab.getByRole('link', { name: 'Intranet home page' }).count(), 0);
    assert.ok(p.logs.some((line) => line.startsWith('dashboard: monitor intranet-home (Intranet home page) deleted')));
  });

  it('refuses a form POST without its session`s CSRF token and changes nothing', async (t) => {
    const p = await plane(t);
    await p.call('POST', '/api/v1/checkpoints', { name: 'intranet' });
    const monitor = { id: 'home', name: 'Home', checkpoint: 'intranet', intervalSeconds: 60, script: { name: 'Home', steps: [{ name: 'Open', actions: [{ type: 'navigate', url: 'http://intranet.example/' }] }] } };
    assert.equal((await p.call('PUT', '/api/v1/monitors/home', monitor)).status, 201);
    const { context, tab } = await signIn(t, p);
    const session = (await context.cookies()).find((cookie) => cookie.name === 'checkpoint_session');
    assert.ok(session !== undefined);
    await tab.goto(`${p.cp.url}/monitors/home`);
    const csrf = (await tab.locator('form[action="/monitors/home/enabled"] input[name=csrf]').getAttribute('value')) ?? '';
    assert.notEqual(csrf, '');

    const post = (path: string, fields: Record<string, string>, headers: Record<string, string> = { Cookie: `checkpoint_session=${session.value}` }) =>
      fetch(`${p.cp.url}${path}`, { method: 'POST', redirect: 'manual', headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(fields).toString() });
    const newMonitor = { id: 'evil', name: 'Evil', checkpoint: 'intranet', intervalSeconds: '60', enabled: 'true', script: JSON.stringify(monitor.script), variables: '' };
    const attempts: [string, Record<string, string>][] = [
      ['/monitors/new', newMonitor],
      ['/monitors/home/edit', { ...newMonitor, id: '', name: 'Renamed' }],
      ['/monitors/home/enabled', { enabled: 'false' }],
      ['/monitors/home/run', {}],
      ['/monitors/home/delete', {}],
    ];
    for (const [path, fields] of attempts) {
      assert.equal((await post(path, fields)).status, 403, `${path} without a token`);
      assert.equal((await post(path, { ...fields, csrf: 'guessed' })).status, 403, `${path} with a wrong token`);
      assert.equal((await post(path, { ...fields, csrf }, { Authorization: `Bearer ${adminToken}` })).status, 403, `${path} with the admin token but no session`);
    }
    const after = (await p.call('GET', '/api/v1/monitors/home')).body;
    assert.deepEqual([after['name'], after['enabled']], ['Home', true], 'nothing changed');
    assert.equal((await p.call('GET', '/api/v1/monitors/evil')).status, 404);
    assert.deepEqual((await p.call('GET', '/api/v1/runs')).body['runs'], []);

    // The same request with the session's token does what it says: the refusals above were the token's doing.
    const genuine = await post('/monitors/home/enabled', { enabled: 'false', csrf });
    assert.equal(genuine.status, 303);
    assert.equal(genuine.headers.get('location'), '/monitors/home?done=disabled');
    assert.equal((await p.call('GET', '/api/v1/monitors/home')).body['enabled'], false);
  });

  it('shows availability and p50/p95 per time range, filters runs by status, and draws failed runs as failures', async (t) => {
    const clock = new FakeClock();
    const p = await plane(t, clock);
    const created = await p.call('POST', '/api/v1/checkpoints', { name: 'intranet' });
    const token = String(created.body['token']);
    const script = { name: 'Home', steps: [{ name: 'Open', actions: [{ type: 'navigate', url: 'http://intranet.example/' }] }] };
    // Disabled: only the runs this test starts happen.
    assert.equal((await p.call('PUT', '/api/v1/monitors/home', { name: 'Home', checkpoint: 'intranet', intervalSeconds: 60, enabled: false, script })).status, 201);
    const answers: Answer[] = [];
    const autoAnswer = () => answers.shift() ?? { status: 'passed' as const, durationMs: 1 };
    for (const instanceId of ['a', 'b']) {
      const agent = await FakeAgent.connect({ baseUrl: p.cp.url, token, instanceId, autoAnswer });
      t.after(() => agent.kill());
    }
    const finishedRuns = async () => {
      const runs = (await p.call('GET', '/api/v1/monitors/home/runs?status=passed,warning,failed,error')).body['runs'] as unknown[];
      return runs.length;
    };
    const runWith = async (expectedTotal: number, ...next: Answer[]) => {
      answers.push(...next);
      assert.equal((await p.call('POST', '/api/v1/monitors/home/run')).status, 202);
      const deadline = Date.now() + 15_000;
      while ((await finishedRuns()) < expectedTotal) {
        assert.ok(Date.now() < deadline, `timed out waiting for ${expectedTotal} finished runs`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    await runWith(1, { status: 'passed', durationMs: 300 });
    clock.advance(3 * 3_600_000);
    await runWith(2, { status: 'passed', durationMs: 100 });
    await runWith(3, { status: 'passed', durationMs: 200 });
    await runWith(4, { status: 'passed', durationMs: 400 });
    // Two failures at the timeout (a disabled monitor gets no retry: each manual run is a check of its own).
    await runWith(5, { status: 'failed', durationMs: 30_000 });
    await runWith(6, { status: 'failed', durationMs: 30_000 });
    assert.equal(((await p.call('GET', '/api/v1/monitors/home/runs')).body['runs'] as unknown[]).length, 6, 'no other run happened');

    const { tab } = await signIn(t, p);
    await tab.goto(`${p.cp.url}/monitors/home`);
    const tile = (label: RegExp) => tab.locator('.range-tiles .tile', { hasText: label }).locator('.value').innerText();
    assert.match(await tile(/Availability, last 24 h/), /^66\.67 % 4 of 6 checks$/);
    assert.equal(await tile(/p50/), '200 ms', 'the median of the passing runs (100, 200, 300, 400 ms), not of the failures');
    assert.equal(await tile(/p95/), '400 ms');
    assert.equal(await tile(/Failed runs/), '2');
    const chart = tab.locator('svg.chart:not(.steps-chart)');
    assert.match((await chart.getAttribute('aria-label')) ?? '', /longest passing 400 ms; 2 failed or lost/, 'the 30 s failures are not drawn as slow runs');
    assert.equal(await chart.locator('g.failure[data-status=failed]').count(), 2);
    assert.equal(await chart.locator('circle[data-status=passed]').count(), 4);
    const steps = tab.locator('svg.steps-chart');
    assert.equal(await steps.locator('g.step-bar').count(), 4, 'one stacked bar per passing run in the range');
    assert.match(await tab.locator('ul.legend').innerText(), /1\. Open the intranet/);
    await screenshot(tab, 'dashboard-monitor-ranges.png');

    await Promise.all([tab.waitForURL(`${p.cp.url}/monitors/home?range=1h`), tab.getByRole('link', { name: '1 h' }).click()]);
    assert.equal(await tab.getByRole('link', { name: '1 h' }).getAttribute('aria-current'), 'page');
    assert.match(await tile(/Availability, last 1 h/), /^60\.00 % 3 of 5 checks$/, 'the run of 3 h ago is out of range');
    assert.equal(await tile(/p50/), '200 ms');

    await tab.getByLabel('Status').selectOption('failed');
    await Promise.all([tab.waitForURL(`${p.cp.url}/monitors/home?range=1h&status=failed`), tab.getByRole('button', { name: 'Filter' }).click()]);
    const rows = tab.locator('table.runs tbody tr');
    assert.equal(await rows.count(), 2, 'only the failed runs are listed');
    for (const row of await rows.all()) assert.equal(await row.locator('.pill').first().innerText(), 'failed');
    assert.match(await tile(/Availability, last 1 h/), /^60\.00 %/, 'the figures are of the whole range, whatever the filter');
  });

  it('works without an admin token for a loopback browser (script typed or uploaded as a file), its forms still CSRF-protected', async (t) => {
    const p = await plane(t, new FakeClock(), true);
    await p.call('POST', '/api/v1/checkpoints', { name: 'intranet' });
    const context = await browser.newContext();
    t.after(() => context.close());
    const tab = await context.newPage();
    await tab.goto(`${p.cp.url}/monitors/new`);
    await tab.getByLabel('Name').fill('Loopback home');
    await tab.getByLabel('Interval (seconds)').fill('300');
    await Promise.all([tab.waitForURL(/\/monitors\/m-[0-9a-f]{12}\?done=created$/), tab.getByRole('button', { name: 'Create monitor' }).click()]);
    const id = decodeURIComponent(new URL(tab.url()).pathname.split('/')[2] ?? '');
    const stored = (await p.call('GET', `/api/v1/monitors/${id}`)).body;
    assert.deepEqual([stored['name'], stored['checkpoint'], stored['intervalSeconds']], ['Loopback home', 'intranet', 300], 'the starting script and variables of the new form are valid as they are');

    // The script as an uploaded file: refused when broken (its text comes back in the text area), then created.
    await tab.goto(`${p.cp.url}/monitors/new`);
    await tab.getByLabel('Id (optional)').fill('uploaded');
    await tab.getByLabel('Name').fill('Uploaded');
    await tab.getByLabel('Or upload the script as a JSON file').setInputFiles({ name: 'broken.json', mimeType: 'application/json', buffer: Buffer.from('{"name": "Uploaded", "steps": [{"name": "Open", "actions": [{"type": "navigat"}]}]}') });
    await Promise.all([tab.waitForLoadState(), tab.getByRole('button', { name: 'Create monitor' }).click()]);
    assert.match(await tab.locator('#field-script-error').innerText(), /script\.steps\[0\]\.actions\[0\]\.type: /);
    assert.match(await tab.getByLabel('Script (JSON)').inputValue(), /"navigat"/, 'the uploaded text is shown to fix');
    const uploadedScript = { name: 'Uploaded', steps: [{ name: 'Open', actions: [{ type: 'navigate', url: 'http://intranet.example/{{path}}' }] }] };
    await tab.getByLabel('Or upload the script as a JSON file').setInputFiles({ name: 'home.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(uploadedScript)) });
    await tab.getByLabel('Variables').fill('path=start');
    await Promise.all([tab.waitForURL(`${p.cp.url}/monitors/uploaded?done=created`), tab.getByRole('button', { name: 'Create monitor' }).click()]);
    assert.deepEqual((await p.call('GET', '/api/v1/monitors/uploaded')).body['script'], uploadedScript);

    const session = (await context.cookies()).find((cookie) => cookie.name === 'checkpoint_session');
    assert.ok(session !== undefined, 'a loopback browser gets a session for its forms');
    const forged = await fetch(`${p.cp.url}/monitors/${id}/delete`, { method: 'POST', redirect: 'manual', headers: { Cookie: `checkpoint_session=${session.value}`, 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'csrf=guess' });
    assert.equal(forged.status, 403);
    assert.equal((await p.call('GET', `/api/v1/monitors/${id}`)).status, 200, 'still there');
  });

  it('shows each instance`s agent and browser version, flagging one behind the newest seen', async (t) => {
    const p = await plane(t);
    const created = await p.call('POST', '/api/v1/checkpoints', { name: 'intranet' });
    const token = String(created.body['token']);
    for (const [instanceId, browserVersion] of [['fresh', 'Chromium 156.0.7389.12'], ['stale', 'Chromium 140.0.7000.1']] as const) {
      const agent = await FakeAgent.connect({ baseUrl: p.cp.url, token, instanceId, browserVersion });
      t.after(() => agent.kill());
    }
    const { tab } = await signIn(t, p);
    const row = (id: string) => tab.locator('tr', { has: tab.locator('.mono', { hasText: new RegExp(`^${id}$`) }) });
    assert.match(await row('stale').innerText(), /Chromium 140\.0\.7000\.1\s+browser behind/);
    assert.match((await row('stale').locator('.pill.warning').getAttribute('title')) ?? '', /Newest browser seen on an instance: Chromium 156\.0\.7389\.12/);
    assert.match(await row('fresh').innerText(), /Chromium 156\.0\.7389\.12/);
    assert.equal(await row('fresh').locator('.pill.warning').count(), 0, 'the newest is not flagged');
  });
});
