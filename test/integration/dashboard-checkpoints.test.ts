// Issue 14, item 1 on the dashboard: monitors on several checkpoints. Driven in real Chromium against a real control
// plane with fake agents (one per checkpoint): create a monitor on two checkpoints through the form (refused first
// with none ticked), see it listed with both, run it now on a chosen checkpoint, read the per-checkpoint table and
// filter the page to one checkpoint, see "checkpoint down" rather than a failure when a checkpoint is down, read
// the navigation and vitals trends, and the browser-older-than-two-weeks warning.
import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser } from '../../engine/browser/launch.ts';
import type { RunCommand } from '../../engine/schema/protocol.ts';
import { FakeAgent, FakeClock, type Answer } from '../helpers/fake-agent.ts';
import { screenshot, signIn as signInWith, startPlane, type Plane } from '../helpers/dashboard-plane.ts';

const plane = (t: TestContext, clock = new FakeClock()): Promise<Plane> => startPlane(t, { clock, options: { checkpointDownAfterMs: 60_000 } });
const signIn = async (t: TestContext, p: Plane): Promise<Page> => (await signInWith(browser, t, p)).tab;

interface Vitals {
  ttfbMs: number;
  lcpMs: number;
  cls: number;
  inpMs: number;
}

/** Answer a run as a real instance does (started, result, finished), its step carrying navigation timing and vitals. */
async function answerWith(agent: FakeAgent, command: RunCommand, answer: Answer, vitals?: Vitals): Promise<void> {
  agent.send({ type: 'run-status', runId: command.runId, status: 'accepted' });
  agent.send({ type: 'run-status', runId: command.runId, status: 'started' });
  const envelope = agent.envelope(command, answer);
  const step = envelope.result.steps[0];
  if (vitals !== undefined && step !== undefined) {
    step.navigation = { url: 'http://intranet.example/', dnsMs: 1, connectMs: 2, tlsMs: 0, ttfbMs: vitals.ttfbMs, downloadMs: 3, domContentLoadedMs: vitals.ttfbMs + 20, loadMs: vitals.ttfbMs + 40 };
    step.vitals = { lcpMs: vitals.lcpMs, cls: vitals.cls, inpMs: vitals.inpMs };
  }
  const posted = await agent.postResult(envelope);
  assert.ok(posted.ack !== undefined, `result POST answered ${posted.status}`);
  agent.send({ type: 'run-status', runId: command.runId, status: 'finished' });
}

const homeScript = { name: 'Intranet home', steps: [{ name: 'Open the home page', actions: [{ type: 'navigate', url: 'http://intranet.example/' }] }] };

let browser: Browser;
before(async () => {
  browser = await launchBrowser({ executablePath: '/usr/bin/chromium-headless-shell' });
});
after(async () => {
  await browser.close();
});

describe('dashboard: monitors on several checkpoints', () => {
  it('creates a monitor on two checkpoints through the form, lists both, runs it on each and shows and filters per checkpoint', async (t) => {
    const p = await plane(t);
    const tokens: Record<string, string> = {};
    for (const name of ['internal', 'dmz', 'spare']) {
      const created = await p.call('POST', '/api/v1/checkpoints', { name });
      assert.equal(created.status, 201);
      tokens[name] = String(created.body['token']);
    }
    const tab = await signIn(t, p);

    // ---- create: none ticked is refused, with the message next to the boxes ----
    await tab.goto(`${p.cp.url}/monitors/new`);
    const box = (name: string) => tab.getByRole('checkbox', { name, exact: true });
    assert.equal(await tab.getByRole('group', { name: 'Checkpoints', exact: true }).count(), 1, 'the boxes are a group named by its legend');
    await tab.getByLabel('Id (optional)').fill('home');
    await tab.getByLabel('Name').fill('Intranet home');
    for (const name of ['internal', 'dmz', 'spare']) await box(name).uncheck();
    await tab.getByLabel('Enabled').uncheck();
    await tab.getByLabel('Script (JSON)').fill(JSON.stringify(homeScript, null, 2));
    await tab.getByLabel('Variables').fill('');
    await tab.getByRole('radio', { name: 'on one of them in turn (round-robin)' }).check();
    await Promise.all([tab.waitForLoadState(), tab.getByRole('button', { name: 'Create monitor' }).click()]);
    const error = tab.locator('#field-checkpoints-error');
    assert.match((await error.textContent()) ?? '', /^Error: checkpoints: expected at least one checkpoint/, 'the problem is shown next to the boxes, with its path');
    assert.equal(await tab.getByRole('group', { name: 'Checkpoints', exact: true }).getAttribute('aria-describedby'), 'field-checkpoints-hint field-checkpoints-error');
    assert.equal(await box('internal').getAttribute('aria-invalid'), 'true');
    assert.equal(await tab.getByRole('alert').getByRole('link').getAttribute('href'), '#field-checkpoints', 'the summary links to the first box');
    assert.equal(await tab.getByLabel('Name').inputValue(), 'Intranet home', 'values are kept');
    assert.equal(await tab.getByRole('radio', { name: 'on one of them in turn (round-robin)' }).isChecked(), true);
    assert.equal((await p.call('GET', '/api/v1/monitors/home')).status, 404, 'nothing was stored');
    const api = await p.call('PUT', '/api/v1/monitors/home?dryRun=true', { name: 'Intranet home', checkpoints: [], intervalSeconds: 300, script: homeScript });
    assert.equal(api.status, 400);
    assert.equal(((await error.textContent()) ?? '').replace(/^Error: /, '').trim(), (api.body['error'] as { message: string }).message, 'in the API`s words');
    await screenshot(tab, 'dashboard-monitor-checkpoints-form.png');

    // Ticked by keyboard: Space on the focused box.
    await box('internal').focus();
    await tab.keyboard.press('Space');
    await box('dmz').check();
    await Promise.all([tab.waitForURL(`${p.cp.url}/monitors/home?done=created`), tab.getByRole('button', { name: 'Create monitor' }).click()]);
    const stored = (await p.call('GET', '/api/v1/monitors/home')).body;
    assert.deepEqual([stored['checkpoint'], stored['checkpoints'], stored['placement'], stored['enabled']], ['dmz', ['dmz', 'internal'], 'round-robin', false], 'in the order the form lists them (the checkpoint list)');

    await tab.goto(`${p.cp.url}/`);
    const listed = tab.locator('tr', { has: tab.getByRole('link', { name: 'Intranet home' }) });
    assert.match(await listed.innerText(), /dmz, internal · round-robin/, 'listed with both checkpoints');

    // The edit form shows it as stored, and saving it unchanged changes nothing.
    await tab.goto(`${p.cp.url}/monitors/home/edit`);
    assert.deepEqual([await box('internal').isChecked(), await box('dmz').isChecked(), await box('spare').isChecked()], [true, true, false]);
    assert.equal(await tab.getByRole('radio', { name: 'on one of them in turn (round-robin)' }).isChecked(), true);
    await Promise.all([tab.waitForURL(`${p.cp.url}/monitors/home?done=unchanged`), tab.getByRole('button', { name: 'Save changes' }).click()]);

    // ---- run now on a chosen checkpoint ----
    const internal = await FakeAgent.connect({ baseUrl: p.cp.url, token: tokens['internal'] ?? '', instanceId: 'internal-1' });
    t.after(() => internal.kill());
    const dmz = await FakeAgent.connect({ baseUrl: p.cp.url, token: tokens['dmz'] ?? '', instanceId: 'dmz-1' });
    t.after(() => dmz.kill());
    await tab.goto(`${p.cp.url}/monitors/home`);
    await tab.getByLabel('Run on checkpoint').selectOption('dmz');
    await Promise.all([tab.waitForURL(/\/runs\/[^/?]+\?done=dispatched$/), tab.getByRole('button', { name: 'Run now' }).click()]);
    const first = await dmz.next('run');
    assert.equal(decodeURIComponent(new URL(tab.url()).pathname.split('/')[2] ?? ''), first.runId, 'the run page is of the run dmz received');
    assert.equal(internal.unread('run').length, 0, 'nothing was sent to internal');
    assert.match(await tab.locator('dl.facts').innerText(), /CHECKPOINT\s+dmz/i);
    await answerWith(dmz, first, { status: 'passed', durationMs: 200 });

    // Three more through the API: internal passes in 100 and 300 ms (with vitals), dmz fails once.
    const runOn = async (checkpoint: string, agent: FakeAgent, answer: Answer, vitals?: Vitals) => {
      p.clock.advance(60_000);
      const asked = await p.call('POST', `/api/v1/monitors/home/run?checkpoint=${checkpoint}`);
      assert.equal(asked.status, 202);
      assert.equal(asked.body['checkpoint'], checkpoint);
      await answerWith(agent, await agent.next('run'), answer, vitals);
    };
    await runOn('internal', internal, { status: 'passed', durationMs: 100 }, { ttfbMs: 40, lcpMs: 400, cls: 0.01, inpMs: 80 });
    await runOn('internal', internal, { status: 'passed', durationMs: 300 }, { ttfbMs: 60, lcpMs: 900, cls: 0.2, inpMs: 120 });
    await runOn('dmz', dmz, { status: 'failed', durationMs: 30_000 });
    const finished = (await p.call('GET', '/api/v1/monitors/home/runs?status=passed,failed')).body['runs'] as unknown[];
    assert.equal(finished.length, 4);

    // ---- the per-checkpoint table ----
    await tab.goto(`${p.cp.url}/monitors/home`);
    const row = (name: string) => tab.locator('table.checkpoints tbody tr[data-checkpoint="' + name + '"]');
    const cells = async (name: string) => (await row(name).locator('td').allInnerTexts()).map((text) => text.replace(/\s+/g, ' ').trim());
    assert.equal(await tab.locator('table.checkpoints tbody tr').count(), 2, 'one row per checkpoint of the monitor');
    const internalCells = await cells('internal');
    assert.deepEqual(internalCells.slice(0, 6), ['internal', 'ok', '100 % 2 of 2 checks', '100 ms', '300 ms', '2']);
    assert.match(internalCells[6] ?? '', /^passed /, 'its last run, with its status');
    const dmzCells = await cells('dmz');
    assert.deepEqual(dmzCells.slice(0, 6), ['dmz', 'ok', '50.00 % 1 of 2 checks', '200 ms', '200 ms', '2']);
    assert.match(dmzCells[6] ?? '', /^failed /);
    const lastRunLink = await row('dmz').locator('td').nth(6).getByRole('link').getAttribute('href');
    const dmzRuns = (await p.call('GET', '/api/v1/runs?checkpoint=dmz&limit=1')).body['runs'] as { runId: string }[];
    assert.equal(lastRunLink, `/runs/${dmzRuns[0]?.runId ?? ''}`, 'links to the newest run there');
    assert.match(await tab.locator('.range-tiles').innerText(), /75\.00 %\s+3 of 4 checks/, 'the figures of all checkpoints together');

    // Navigation and vitals: a row per measurement of the step, median and newest of the passing runs.
    const vitalsRow = (metric: string) => tab.locator(`table.vitals tr[data-metric="${metric}"]`);
    assert.deepEqual((await vitalsRow('TTFB').locator('td').allInnerTexts()).slice(0, 5), ['1. Open the intranet', 'TTFB', '40 ms', '60 ms', '2']);
    assert.deepEqual((await vitalsRow('LCP').locator('td').allInnerTexts()).slice(2, 5), ['400 ms', '900 ms', '2']);
    assert.deepEqual((await vitalsRow('CLS').locator('td').allInnerTexts()).slice(2, 4), ['0.010', '0.200']);
    assert.equal(await vitalsRow('INP').locator('svg[role=img]').count(), 1, 'each with a trend line');
    assert.equal(await vitalsRow('FCP').count(), 0, 'a measurement no run has is left out');
    await screenshot(tab, 'dashboard-monitor-checkpoints.png');

    // ---- the checkpoint filter: runs, charts and figures of dmz only, kept by the range links ----
    await tab.getByLabel('Checkpoint', { exact: true }).selectOption('dmz');
    await Promise.all([tab.waitForURL(/checkpoint=dmz/), tab.getByRole('button', { name: 'Filter' }).click()]);
    const runRows = tab.locator('table.runs tbody tr');
    assert.equal(await runRows.count(), 2, 'only the runs on dmz');
    for (const runRow of await runRows.all()) assert.equal(await runRow.locator('td').nth(3).innerText(), 'dmz');
    assert.match(await tab.locator('.range-tiles').innerText(), /Availability, last 24 h on dmz\s+50\.00 %\s+1 of 2 checks/);
    assert.equal(await tab.locator('svg.chart:not(.steps-chart) circle[data-status=passed]').count(), 1, 'the chart draws dmz`s runs only');
    assert.equal(await tab.locator('svg.chart:not(.steps-chart) g.failure').count(), 1);
    assert.equal(await tab.locator('table.vitals').count(), 0, 'dmz`s passing run has no vitals: no trend rows');
    assert.equal(new URL((await tab.getByRole('link', { name: '7 d' }).getAttribute('href')) ?? '', p.cp.url).searchParams.get('checkpoint'), 'dmz', 'range links keep the filter');
    assert.equal(await row('dmz').getByRole('link', { name: 'dmz' }).getAttribute('aria-current'), 'true');
    await Promise.all([tab.waitForURL(/\/monitors\/home\?range=24h$/), tab.getByRole('link', { name: 'show all checkpoints' }).click()]);
    assert.equal(await runRows.count(), 4);

    // A checkpoint the monitor does not run on is a 400 naming it.
    const bad = await tab.goto(`${p.cp.url}/monitors/home?range=7d&checkpoint=spare`);
    assert.equal(bad?.status(), 400);
    assert.match(await tab.locator('main').innerText(), /does not run on "spare"; it runs on "dmz", "internal"/);

    // Run now on a checkpoint the monitor does not run on (a hand-made POST with the session's token): refused, nothing sent.
    await tab.goto(`${p.cp.url}/monitors/home`);
    const csrf = (await tab.locator('form.run-now input[name=csrf]').getAttribute('value')) ?? '';
    const runsBefore = ((await p.call('GET', '/api/v1/monitors/home/runs')).body['runs'] as unknown[]).length;
    const session = (await tab.context().cookies()).find((cookie) => cookie.name === 'checkpoint_session');
    const response = await fetch(`${p.cp.url}/monitors/home/run`, {
      method: 'POST',
      redirect: 'manual',
      headers: { Cookie: `checkpoint_session=${session?.value ?? ''}`, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf, checkpoint: 'spare' }).toString(),
    });
    const refused = { status: response.status, text: await response.text() };
    assert.equal(refused.status, 400);
    assert.match(refused.text, /does not run on checkpoint &quot;spare&quot;/);
    assert.equal(((await p.call('GET', '/api/v1/monitors/home/runs')).body['runs'] as unknown[]).length, runsBefore, 'no run was dispatched');
  });

  it('shows "checkpoint down" for a monitor whose checkpoint is down, on the overview and on its page, not a failure', async (t) => {
    const p = await plane(t);
    const edgeToken = String((await p.call('POST', '/api/v1/checkpoints', { name: 'edge' })).body['token']);
    const internalToken = String((await p.call('POST', '/api/v1/checkpoints', { name: 'internal' })).body['token']);
    assert.equal((await p.call('PUT', '/api/v1/monitors/edge-home', { name: 'Edge home', checkpoint: 'edge', intervalSeconds: 3600, script: homeScript })).status, 201);
    assert.equal((await p.call('PUT', '/api/v1/monitors/both', { name: 'Both sites', checkpoints: ['internal', 'edge'], intervalSeconds: 3600, enabled: false, script: homeScript })).status, 201);
    const internal = await FakeAgent.connect({ baseUrl: p.cp.url, token: internalToken, instanceId: 'internal-1' });
    t.after(() => internal.kill());
    // Edge's only instance goes away; after the down delay the checkpoint is down.
    const edge = await FakeAgent.connect({ baseUrl: p.cp.url, token: edgeToken, instanceId: 'edge-1' });
    await edge.kill();
    for (let tries = 0; (await p.call('GET', '/api/v1/checkpoints/edge')).body['online'] !== 0; tries++) {
      assert.ok(tries < 200, 'edge-1 is seen gone');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    p.clock.advance(61_000);
    await p.cp.tick();
    assert.equal((await p.call('GET', '/api/v1/checkpoints/edge')).body['health'], 'down');
    assert.equal((await p.call('GET', '/api/v1/monitors/edge-home')).body['status'], 'checkpoint-down', 'the API says the same');

    const tab = await signIn(t, p);
    const listed = tab.locator('tr', { has: tab.getByRole('link', { name: 'Edge home' }) });
    assert.equal(await listed.locator('.pill[data-status]').innerText(), 'checkpoint down');
    assert.match(await tab.locator('.tile', { hasText: 'Monitors failing' }).innerText(), /0\s+of 1 enabled/, 'not counted as failing');
    await tab.goto(`${p.cp.url}/monitors/edge-home`);
    assert.equal(await tab.locator('.title-row .pill').innerText(), 'checkpoint down');
    assert.equal(await tab.locator('table.checkpoints tr[data-checkpoint=edge] .pill[data-status]').innerText(), 'checkpoint down');

    // On a monitor of two checkpoints, only the one that is down says so.
    await tab.goto(`${p.cp.url}/monitors/both`);
    assert.equal(await tab.locator('table.checkpoints tr[data-checkpoint=edge] .pill[data-status]').innerText(), 'checkpoint down');
    assert.equal(await tab.locator('table.checkpoints tr[data-checkpoint=internal] .pill[data-status]').innerText(), 'ok');
    assert.equal(await tab.locator('.title-row .pill').innerText(), 'disabled');
  });

  it('warns about a browser older than two weeks: a newer one has been seen on an instance for more than 14 days', async (t) => {
    // Wall time from now: the agents report their real start time.
    const clock = new FakeClock(Date.now());
    const p = await plane(t, clock);
    const token = String((await p.call('POST', '/api/v1/checkpoints', { name: 'intranet' })).body['token']);
    const connect = async (instanceId: string, browserVersion: string) => {
      const agent = await FakeAgent.connect({ baseUrl: p.cp.url, token, instanceId, browserVersion });
      t.after(() => agent.kill());
    };
    await connect('updated', 'Chromium 156.0.7389.12');
    clock.advance(10 * 86_400_000);
    await connect('newest', 'Chromium 157.0.7400.1');
    clock.advance(5 * 86_400_000);
    await connect('old', 'Chromium 140.0.7000.1');
    const tab = await signIn(t, p);
    const row = (id: string) => tab.locator('tr', { has: tab.locator('.mono', { hasText: new RegExp(`^${id}$`) }) });
    const old = await row('old').innerText();
    assert.match(old, /browser older than two weeks/);
    assert.match(old, /A newer browser, Chromium 156\.0\.7389\.12, has been seen on an instance since .* \(more than 14 days\) and this instance still runs Chromium 140\.0\.7000\.1/, 'names the newest version seen for 14 days, not the one of 5 days ago');
    const updated = await row('updated').innerText();
    assert.match(updated, /browser behind/, 'behind the newest, seen only 5 days ago');
    assert.doesNotMatch(updated, /older than two weeks/);
    assert.doesNotMatch(await row('newest').innerText(), /behind|older than/);
    await screenshot(tab, 'dashboard-browser-stale.png');
  });
});
