import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { Alerts } from '../../control-plane/alerts.ts';
import type { Channel } from '../../control-plane/api-schemas.ts';
import { startControlPlane, type ControlPlane, type ControlPlaneOptions } from '../../control-plane/server.ts';
import { SqliteStore } from '../../control-plane/store-sqlite.ts';
import type { AlertRecord, RunRecord } from '../../control-plane/store.ts';
import { FakeAgent, FakeClock, minimalResult, type Answer } from '../helpers/fake-agent.ts';

const adminToken = 'admin-secret-for-alert-tests';
const publicUrl = 'https://checkpoint.example.com/ops';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  text: string;
  body: Record<string, unknown>;
}

/** One HTTP receiver on loopback that records every POST by path and answers 2xx (PagerDuty's 202 on /pagerduty). */
async function receiver(t: TestContext): Promise<{ url: string; received: Received[]; on: (path: string) => Received[] }> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (text += chunk));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, text, body: JSON.parse(text) as Record<string, unknown> });
      res.writeHead(req.url === '/pagerduty' ? 202 : 200, { 'Content-Type': 'application/json' }).end('{"status":"success"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received, on: (path) => received.filter((entry) => entry.path === path) };
}

interface Mail {
  from: string;
  to: string[];
  raw: string;
}

/** An SMTP server on loopback that accepts every message without TLS or authentication and records it. */
async function smtp(t: TestContext): Promise<{ port: number; mails: Mail[] }> {
  const mails: Mail[] = [];
  const server = new SMTPServer({
    secure: false,
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      let raw = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => (raw += chunk));
      stream.on('end', () => {
        const from = session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address;
        mails.push({ from, to: session.envelope.rcptTo.map((rcpt) => rcpt.address), raw });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { port: (server.server.address() as AddressInfo).port, mails };
}

/** The text of a MIME message with quoted-printable soft breaks and escapes undone (enough to search it). */
function decodeMail(raw: string): string {
  return raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_all, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

interface Harness {
  cp: ControlPlane;
  clock: FakeClock;
  call<T = { error: { code: string; message: string; path?: string } }>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  agent(token: string, id: string, autoAnswer: () => Answer): Promise<FakeAgent>;
  settle(monitorId: string, count: number, agents: FakeAgent[]): Promise<RunRecord[]>;
  alerts(): Promise<AlertRecord[]>;
}

async function harness(t: TestContext, options: Partial<ControlPlaneOptions> = {}): Promise<Harness> {
  const dataDir = await mkdtemp(join(tmpdir(), 'alert-channels-'));
  const clock = new FakeClock(Date.parse('2026-12-05T09:00:00.000Z'));
  const cp = await startControlPlane({ dataDir, clock, adminToken, log: () => undefined, tickIntervalMs: 3_600_000, heartbeatIntervalMs: 600_000, webhookRetryDelaysMs: [10], publicUrl, ...options });
  const agents: FakeAgent[] = [];
  t.after(async () => {
    await cp.close();
    await Promise.all(agents.map((agent) => agent.kill()));
    await rm(dataDir, { recursive: true, force: true });
  });
  const call = async <T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const response = await fetch(`${cp.url}${path}`, {
      method,
      headers: { Authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: (text === '' ? undefined : JSON.parse(text)) as T };
  };
  const runs = async (monitorId: string) => (await call<{ runs: RunRecord[] }>('GET', `/api/v1/monitors/${monitorId}/runs?limit=1000`)).body.runs;
  return {
    cp,
    clock,
    call,
    agent: async (token, id, autoAnswer) => {
      const agent = await FakeAgent.connect({ baseUrl: cp.url, token, instanceId: id, autoAnswer });
      agents.push(agent);
      return agent;
    },
    settle: async (monitorId, count, waitFor) => {
      const giveUpAt = Date.now() + 10_000;
      for (;;) {
        await Promise.all(waitFor.map((agent) => agent.answered()));
        const list = await runs(monitorId);
        if (list.length === count && list.every((run) => run.status !== 'dispatched' && run.status !== 'running')) {
          await cp.alertsSettled();
          return list;
        }
        if (Date.now() > giveUpAt) throw new Error(`expected ${count} settled runs, have ${list.map((run) => `${run.attempt}:${run.status}`).join(' ')}`);
        await new Promise((resolve) => setTimeout(resolve, 15));
      }
    },
    alerts: async () => (await call<{ alerts: AlertRecord[] }>('GET', '/api/v1/alerts')).body.alerts,
  };
}

function monitor(id: string, extra: Record<string, unknown> = {}) {
  return {
    id,
    name: 'Login',
    checkpoint: 'intranet-eu',
    intervalSeconds: 60,
    script: { name: 'Login', timeoutMs: 10_000, steps: [{ name: 'Open the intranet', actions: [{ type: 'navigate', url: 'http://intranet.example/' }] }] },
    ...extra,
  };
}

async function checkpointWithTwoAgents(h: Harness, outcome: { status: Answer['status'] }): Promise<FakeAgent[]> {
  const created = await h.call<{ token: string }>('POST', '/api/v1/checkpoints', { name: 'intranet-eu' });
  assert.equal(created.status, 201);
  const answer = (): Answer => ({ status: outcome.status, durationMs: 900 });
  return [await h.agent(created.body.token, 'a', answer), await h.agent(created.body.token, 'b', answer)];
}

describe('alert channels', () => {
  it('delivers a failure and its recovery to a signed webhook, Slack, Teams, PagerDuty and email, each with the run link, step, error and severity', async (t) => {
    const http = await receiver(t);
    const mail = await smtp(t);
    const env = { HOOK_SECRET: 'whsec-test-1234', SLACK_WEBHOOK: `${http.url}/slack`, PD_KEY: 'pd-routing-key-0123456789' };
    const h = await harness(t, { env });

    const channels = [
      { id: 'ops-hook', type: 'webhook', url: `${http.url}/hook`, secret: '{{env.HOOK_SECRET}}' },
      { id: 'ops-slack', type: 'slack', url: '{{env.SLACK_WEBHOOK}}' },
      { id: 'ops-teams', type: 'teams', url: `${http.url}/teams` },
      { id: 'ops-pager', type: 'pagerduty', routingKey: '{{env.PD_KEY}}', url: `${http.url}/pagerduty` },
      { id: 'ops-mail', type: 'email', smtp: { host: '127.0.0.1', port: mail.port }, from: 'checkpoint@example.com', to: ['oncall@example.com'] },
    ];
    for (const channel of channels) assert.equal((await h.call('PUT', `/api/v1/channels/${channel.id}`, channel)).status, 201, channel.id);

    // Secrets: references are shown as given, a plain-text secret is hidden, and what GET gives can be PUT back.
    const teams = await h.call<Record<string, unknown>>('GET', '/api/v1/channels/ops-teams');
    assert.equal(teams.body['url'], '(redacted)');
    const slack = await h.call<Record<string, unknown>>('GET', '/api/v1/channels/ops-slack');
    assert.equal(slack.body['url'], '{{env.SLACK_WEBHOOK}}');
    const again = await fetch(`${h.cp.url}/api/v1/channels/ops-teams`, { method: 'PUT', headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' }, body: JSON.stringify(teams.body) });
    assert.equal(again.status, 200);
    assert.equal(again.headers.get('x-checkpoint-outcome'), 'unchanged');
    // A stored secret never follows a changed destination: "(redacted)" is refused once the URL changes.
    const hookView = await h.call<Record<string, unknown>>('GET', '/api/v1/channels/ops-hook');
    const pagerWithSecret = { id: 'pager-plain', type: 'pagerduty', routingKey: 'plain-routing-key-000', url: `${http.url}/pagerduty` };
    assert.equal((await h.call('PUT', '/api/v1/channels/pager-plain', pagerWithSecret)).status, 201);
    const moved = await h.call('PUT', '/api/v1/channels/pager-plain', { ...pagerWithSecret, routingKey: '(redacted)', url: `${http.url}/elsewhere` });
    assert.equal(moved.status, 400, JSON.stringify(moved.body));
    assert.equal(moved.body.error.path, 'routingKey');
    assert.equal((await h.call('PUT', '/api/v1/channels/pager-plain', { ...pagerWithSecret, routingKey: '(redacted)' })).status, 200, 'same destination: kept');
    assert.equal((await h.call('DELETE', '/api/v1/channels/pager-plain')).status, 204);
    assert.equal(hookView.body['secret'], '{{env.HOOK_SECRET}}');
    // The control plane's own credentials are not channel values.
    const own = await h.call('PUT', '/api/v1/channels/leak', { id: 'leak', type: 'webhook', url: `${http.url}/x?t={{env.CHECKPOINT_ADMIN_TOKEN}}` });
    assert.equal(own.status, 400);
    const unset = await h.call('PUT', '/api/v1/channels/broken', { id: 'broken', type: 'slack', url: '{{env.NOT_SET_ANYWHERE}}' });
    assert.equal(unset.status, 400);
    assert.equal(unset.body.error.path, 'url');
    assert.match(unset.body.error.message, /NOT_SET_ANYWHERE is not set/);
    assert.equal((await h.call('PUT', '/api/v1/channels/bad-url', { id: 'bad-url', type: 'teams', url: 'ftp://example' })).status, 400);

    const outcome = { status: 'failed' as Answer['status'] };
    const agents = await checkpointWithTwoAgents(h, outcome);
    assert.equal((await h.call('PUT', '/api/v1/monitors/login', monitor('login', { alerting: { severity: 'critical' } }))).status, 201);
    const runs = await h.settle('login', 2, agents);
    const failedRun = runs[0];
    assert.ok(failedRun !== undefined);
    const runUrl = `${publicUrl}/runs/${failedRun.runId}`;
    const monitorUrl = `${publicUrl}/monitors/login`;

    // Generic webhook: JSON with everything, signed over timestamp + body (the check docs/alerting.md shows).
    const [hook] = http.on('/hook');
    assert.ok(hook !== undefined, 'the webhook was called');
    const timestamp = String(hook.headers['x-checkpoint-timestamp']);
    const expected = `sha256=${createHmac('sha256', env.HOOK_SECRET).update(`${timestamp}.${hook.text}`).digest('hex')}`;
    assert.equal(hook.headers['x-checkpoint-signature'], expected);
    assert.equal(hook.headers['x-checkpoint-event'], 'monitor-failed');
    assert.equal(Number(timestamp), Math.floor(h.clock.wallNow().getTime() / 1000));
    assert.deepEqual(
      { ...hook.body, id: undefined, createdAt: undefined, message: undefined },
      {
        version: 2,
        id: undefined,
        kind: 'monitor-failed',
        severity: 'critical',
        status: 'firing',
        title: 'Login failed on intranet-eu',
        message: undefined,
        createdAt: undefined,
        checkpoint: 'intranet-eu',
        monitor: { id: 'login', name: 'Login', url: monitorUrl },
        run: { id: failedRun.runId, url: runUrl, attempt: 2, instance: failedRun.instance },
        step: { index: 0, name: 'Open the intranet' },
        error: { code: 'ASSERTION_FAILED', blame: 'site', message: 'expected the page to contain "Welcome"' },
        incidentKey: 'checkpoint/monitor/login',
        baseUrl: publicUrl,
      },
    );

    // Slack: Block Kit with a header, the facts, the error and a button to the run.
    const [slackMessage] = http.on('/slack');
    assert.ok(slackMessage !== undefined);
    assert.equal(slackMessage.body['text'], '[CRITICAL] Login failed on intranet-eu');
    const blocks = slackMessage.body['blocks'] as { type: string; text?: { text: string }; fields?: { text: string }[]; elements?: { url?: string }[] }[];
    assert.deepEqual(
      blocks.map((block) => block.type),
      ['header', 'section', 'section', 'section', 'actions', 'context'],
    );
    assert.equal(blocks[0]?.text?.text, 'Login failed on intranet-eu');
    const fields = blocks[2]?.fields?.map((field) => field.text) ?? [];
    assert.ok(fields.includes('*Severity*\ncritical'), fields.join(' | '));
    assert.ok(fields.includes(`*Monitor*\n<${monitorUrl}|Login>`));
    assert.ok(fields.includes('*Failed step*\n1. Open the intranet'));
    assert.match(blocks[3]?.text?.text ?? '', /\*ASSERTION_FAILED\* \(blame: site\)\n```expected the page to contain "Welcome"```/);
    assert.equal(blocks[4]?.elements?.[0]?.url, runUrl);

    // Teams: one Adaptive Card with the title, the facts and a link to the run.
    const [teamsMessage] = http.on('/teams');
    assert.ok(teamsMessage !== undefined);
    assert.equal(teamsMessage.body['type'], 'message');
    const [attachment] = teamsMessage.body['attachments'] as { contentType: string; content: { type: string; version: string; body: { type: string; text?: string; facts?: { title: string; value: string }[] }[]; actions: { type: string; url: string }[] } }[];
    assert.equal(attachment?.contentType, 'application/vnd.microsoft.card.adaptive');
    assert.equal(attachment.content.type, 'AdaptiveCard');
    assert.equal(attachment.content.body[0]?.text, 'Login failed on intranet-eu');
    const facts = Object.fromEntries((attachment.content.body.find((element) => element.type === 'FactSet')?.facts ?? []).map((fact) => [fact.title, fact.value]));
    assert.deepEqual([facts['Severity'], facts['Failed step'], facts['Error']], ['critical', '1. Open the intranet', 'ASSERTION_FAILED (site): expected the page to contain "Welcome"']);
    assert.deepEqual(attachment.content.actions[0], { type: 'Action.OpenUrl', title: 'Open the run', url: runUrl });

    // PagerDuty Events v2: a trigger with the routing key, one dedup_key per monitor, severity and links.
    const [trigger] = http.on('/pagerduty');
    assert.ok(trigger !== undefined);
    assert.equal(trigger.body['routing_key'], env.PD_KEY);
    assert.equal(trigger.body['event_action'], 'trigger');
    assert.equal(trigger.body['dedup_key'], 'checkpoint/monitor/login');
    const payload = trigger.body['payload'] as Record<string, unknown>;
    assert.equal(payload['severity'], 'critical');
    assert.equal(payload['source'], failedRun.instance);
    assert.equal(payload['component'], 'Login');
    assert.equal(payload['group'], 'intranet-eu');
    assert.match(String(payload['summary']), /^Login failed on intranet-eu: Login failed 2 times in a row/);
    assert.deepEqual(trigger.body['links'], [
      { href: runUrl, text: 'The run' },
      { href: monitorUrl, text: 'The monitor' },
    ]);

    // Email over SMTP: severity in the subject, the facts and the links in the body.
    assert.equal(mail.mails.length, 1);
    const [email] = mail.mails;
    assert.equal(email?.from, 'checkpoint@example.com');
    assert.deepEqual(email?.to, ['oncall@example.com']);
    const text = decodeMail(email?.raw ?? '');
    assert.match(text, /^Subject: \[CRITICAL\] Login failed on intranet-eu$/m);
    assert.match(text, /Failed step: 1\. Open the intranet/);
    assert.match(text, /Error: ASSERTION_FAILED \(site\): expected the page to contain "Welcome"/);
    assert.ok(text.includes(`The run: ${runUrl}`), 'the run link is in the text part');

    const [failedAlert] = await h.alerts();
    assert.deepEqual(
      failedAlert?.deliveries.map((delivery) => [delivery.channel, delivery.delivered]),
      channels.map((channel) => [channel.id, true]).sort(),
    );
    assert.ok(failedAlert.deliveries.every((delivery) => !JSON.stringify(delivery).includes(env.SLACK_WEBHOOK)), 'a channel URL (a secret) is not recorded');

    // Recovery: resolved everywhere, PagerDuty with the same dedup_key.
    outcome.status = 'passed';
    h.clock.advance(60_000);
    await h.cp.tick();
    await h.settle('login', 3, agents);
    const resolve = http.on('/pagerduty')[1];
    assert.deepEqual(resolve?.body, { routing_key: env.PD_KEY, dedup_key: 'checkpoint/monitor/login', event_action: 'resolve' });
    assert.equal(http.on('/slack')[1]?.body['text'], '[RESOLVED] Login recovered on intranet-eu');
    assert.equal(http.on('/hook')[1]?.body['status'], 'resolved');
    assert.match(decodeMail(mail.mails[1]?.raw ?? ''), /^Subject: \[RESOLVED\] Login recovered on intranet-eu$/m);
  });

  it('routes a monitor to its own channels only, and records a channel whose secret is missing as undelivered', async (t) => {
    const http = await receiver(t);
    const env: Record<string, string> = { SLACK_WEBHOOK: `${http.url}/slack` };
    const h = await harness(t, { env });
    assert.equal((await h.call('PUT', '/api/v1/channels/team-a', { id: 'team-a', type: 'webhook', url: `${http.url}/a` })).status, 201);
    assert.equal((await h.call('PUT', '/api/v1/channels/team-b', { id: 'team-b', type: 'slack', url: '{{env.SLACK_WEBHOOK}}' })).status, 201);
    const outcome = { status: 'failed' as Answer['status'] };
    const agents = await checkpointWithTwoAgents(h, outcome);
    const unknown = await h.call('PUT', '/api/v1/monitors/login', monitor('login', { alerting: { channels: ['team-c'] } }));
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.error.path, 'alerting.channels[0]');
    assert.equal((await h.call('PUT', '/api/v1/monitors/login', monitor('login', { alerting: { channels: ['team-b'] } }))).status, 201);
    assert.equal((await h.call('DELETE', '/api/v1/channels/team-b')).status, 409, 'a channel in use is not deleted');
    delete env['SLACK_WEBHOOK'];
    await h.settle('login', 2, agents);
    assert.equal(http.received.length, 0, 'team-a is not this monitor`s channel; team-b cannot resolve its URL');
    const [alert] = await h.alerts();
    assert.deepEqual(alert?.deliveries, [{ url: 'channel:team-b', channel: 'team-b', delivered: false, attempts: 1, error: 'environment variable SLACK_WEBHOOK is not set on the control plane' }]);
  });
});

describe('alert policy', () => {
  it('alerts after N failed checks in a row, reminds every M minutes, and resolves when an alerting monitor is disabled or deleted', async (t) => {
    const http = await receiver(t);
    const h = await harness(t);
    assert.equal((await h.call('PUT', '/api/v1/channels/hook', { id: 'hook', type: 'webhook', url: `${http.url}/hook` })).status, 201);
    const outcome = { status: 'failed' as Answer['status'] };
    const agents = await checkpointWithTwoAgents(h, outcome);
    const kinds = () => http.received.map((entry) => entry.body['kind']);
    const nextCheck = async () => {
      h.clock.advance(60_000);
      await h.cp.tick();
    };

    assert.equal((await h.call('PUT', '/api/v1/monitors/login', monitor('login', { alerting: { afterFailures: 3, reminderMinutes: 5, severity: 'error' } }))).status, 201);
    await h.settle('login', 2, agents);
    assert.deepEqual(kinds(), [], 'a failure confirmed by the retry is 2 in a row: not yet 3');
    await nextCheck();
    await h.settle('login', 3, agents);
    assert.deepEqual(kinds(), ['monitor-failed'], 'the third failure in a row alerts at once');
    assert.equal(http.received[0]?.body['severity'], 'error');
    assert.match(String(http.received[0]?.body['message']), /failed 3 times in a row/);

    for (let minute = 1; minute <= 4; minute++) {
      await nextCheck();
      // While failing, each first failure is still re-run on the other instance: two runs a check.
      await h.settle('login', 3 + 2 * minute, agents);
    }
    assert.deepEqual(kinds(), ['monitor-failed'], 'no reminder before 5 minutes');
    await nextCheck();
    await h.settle('login', 13, agents);
    assert.deepEqual(kinds(), ['monitor-failed', 'monitor-reminder']);
    assert.match(String(http.received[1]?.body['message']), /Login is still failing \(\d+ failed checks in a row; last notified 5 min ago\)/);
    assert.equal(http.received[1]?.body['title'], 'Login is still failing on intranet-eu');

    const disabled = await h.call<{ enabled: boolean; health: string }>('PATCH', '/api/v1/monitors/login', { enabled: false });
    assert.equal(disabled.status, 200);
    await h.cp.alertsSettled();
    assert.deepEqual(kinds(), ['monitor-failed', 'monitor-reminder', 'monitor-resolved']);
    assert.equal(http.received[2]?.body['status'], 'resolved');
    assert.equal((await h.call<{ health: string }>('GET', '/api/v1/monitors/login')).body.health, 'ok');

    // Deleting an alerting monitor resolves too (by default a failure alerts on the retry's failure, as before).
    assert.equal((await h.call('PUT', '/api/v1/monitors/search', { ...monitor('search'), name: 'Search' })).status, 201);
    await h.settle('search', 2, agents);
    assert.deepEqual(kinds().slice(3), ['monitor-failed']);
    assert.equal((await h.call('DELETE', '/api/v1/monitors/search')).status, 204);
    await h.cp.alertsSettled();
    assert.deepEqual(kinds().slice(3), ['monitor-failed', 'monitor-resolved']);
    assert.equal(http.received.at(-1)?.body['title'], 'Search on intranet-eu: alert resolved');
    assert.match(String(http.received.at(-1)?.body['message']), /Search was deleted while failing/);
  });

  it('keeps runs but raises nothing during a maintenance window, and sends no resolve after it', async (t) => {
    const http = await receiver(t);
    const h = await harness(t);
    assert.equal((await h.call('PUT', '/api/v1/channels/hook', { id: 'hook', type: 'webhook', url: `${http.url}/hook` })).status, 201);
    const outcome = { status: 'failed' as Answer['status'] };
    const agents = await checkpointWithTwoAgents(h, outcome);
    const start = h.clock.wallNow();
    const window = { id: 'release', name: 'Release 4.2', monitors: ['login'], startsAt: start.toISOString(), endsAt: new Date(start.getTime() + 150_000).toISOString() };
    const unknownMonitor = await h.call('PUT', '/api/v1/maintenance-windows/release', window);
    assert.equal(unknownMonitor.status, 400, 'the window names a monitor that does not exist yet');
    assert.equal(unknownMonitor.body.error.path, 'monitors[0]');
    assert.equal((await h.call('PUT', '/api/v1/monitors/login', monitor('login', { enabled: false }))).status, 201);
    assert.equal((await h.call('PUT', '/api/v1/maintenance-windows/release', window)).status, 201);
    const listed = await h.call<{ maintenanceWindows: { id: string; active: boolean }[] }>('GET', '/api/v1/maintenance-windows');
    assert.deepEqual(listed.body.maintenanceWindows.map((w) => [w.id, w.active]), [['release', true]]);

    assert.equal((await h.call('PATCH', '/api/v1/monitors/login', { enabled: true })).status, 200);
    await h.settle('login', 1, agents);
    h.clock.advance(60_000);
    await h.cp.tick();
    await h.settle('login', 2, agents);
    const runs = await h.call<{ runs: RunRecord[] }>('GET', '/api/v1/runs?monitor=login&status=failed');
    assert.equal(runs.body.runs.length, 2, 'the failed runs are kept');
    assert.ok(runs.body.runs.every((run) => run.attempt === 1), 'no retry: nothing would be confirmed');
    assert.deepEqual(http.received, [], 'no alert in the window');

    // After the window the site works again: nothing was announced, so nothing is resolved.
    outcome.status = 'passed';
    h.clock.advance(60_000);
    await h.cp.tick();
    await h.settle('login', 3, agents);
    assert.equal((await h.call<{ health: string }>('GET', '/api/v1/monitors/login')).body.health, 'ok');
    assert.deepEqual(await h.alerts(), []);
    assert.deepEqual(http.received, []);

    // A global weekly window silences every monitor and checkpoint alerts; its time zone decides the day.
    const weekly = { id: 'sunday-night', weekly: { days: ['sat'], from: '23:00', to: '02:00', timeZone: 'Europe/Paris' } };
    assert.equal((await h.call('PUT', '/api/v1/maintenance-windows/sunday-night', weekly)).status, 201);
    const inactive = await h.call<{ active: boolean }>('GET', '/api/v1/maintenance-windows/sunday-night');
    assert.equal(inactive.body.active, false, 'Saturday 2026-12-05 ~10:03 in Paris is not in Sat 23:00–02:00');
    const bad = await h.call('PUT', '/api/v1/maintenance-windows/bad', { id: 'bad', weekly: { days: ['sat'], from: '25:00', to: '02:00' } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.path, 'weekly.from');
  });

  it('silences checkpoint down and its up in a global window, and announces them outside one', async (t) => {
    const http = await receiver(t);
    const h = await harness(t, { checkpointDownAfterMs: 1000 });
    assert.equal((await h.call('PUT', '/api/v1/channels/hook', { id: 'hook', type: 'webhook', url: `${http.url}/hook` })).status, 201);
    const created = await h.call<{ token: string }>('POST', '/api/v1/checkpoints', { name: 'intranet-eu' });
    const token = created.body.token;
    const goDown = async () => {
      const agent = await h.agent(token, 'a', () => ({ status: 'passed' }));
      await h.cp.tick();
      await agent.kill();
      for (let tries = 0; ; tries++) {
        const online = (await h.call<{ online: number }>('GET', '/api/v1/checkpoints/intranet-eu')).body.online;
        if (online === 0) break;
        assert.ok(tries < 500, 'the killed instance is still online');
        await new Promise((resolve) => setTimeout(resolve, 15));
      }
      h.clock.advance(1000);
      await h.cp.tick();
      await h.cp.alertsSettled();
    };
    const now = h.clock.wallNow();
    const global = { id: 'network-work', startsAt: now.toISOString(), endsAt: new Date(now.getTime() + 60_000).toISOString() };
    assert.equal((await h.call('PUT', '/api/v1/maintenance-windows/network-work', global)).status, 201);
    await goDown();
    assert.equal((await h.call<{ health: string }>('GET', '/api/v1/checkpoints/intranet-eu')).body.health, 'down', 'the state is kept');
    h.clock.advance(60_000);
    const back = await h.agent(token, 'b', () => ({ status: 'passed' }));
    await h.cp.tick();
    await h.cp.alertsSettled();
    assert.deepEqual(await h.alerts(), [], 'neither the down in the window nor the up after it');

    await back.kill();
    await goDown();
    assert.deepEqual(
      http.received.map((entry) => [entry.body['kind'], entry.body['severity'], entry.body['title'], entry.body['incidentKey']]),
      [['checkpoint-down', 'error', 'Checkpoint intranet-eu is down', 'checkpoint/checkpoint/intranet-eu']],
    );
  });
});

describe('alerts per checkpoint', () => {
  it('keeps one incident per monitor and checkpoint, the first checkpoint with the key it always had, and names the checkpoint in every channel', async (t) => {
    const http = await receiver(t);
    const mail = await smtp(t);
    const dataDir = await mkdtemp(join(tmpdir(), 'alerts-per-checkpoint-'));
    const store = new SqliteStore(dataDir);
    t.after(async () => {
      await store.close();
      await rm(dataDir, { recursive: true, force: true });
    });
    const clock = new FakeClock(Date.parse('2026-12-05T09:00:00.000Z'));
    const now = () => clock.wallNow().toISOString();
    const channels: Channel[] = [
      { id: 'hook', type: 'webhook', url: `${http.url}/hook` },
      { id: 'slack', type: 'slack', url: `${http.url}/slack` },
      { id: 'teams', type: 'teams', url: `${http.url}/teams` },
      { id: 'pager', type: 'pagerduty', routingKey: 'pd-routing-key-0123456789', url: `${http.url}/pagerduty` },
      { id: 'mail', type: 'email', smtp: { host: '127.0.0.1', port: mail.port }, from: 'checkpoint@example.com', to: ['oncall@example.com'] },
    ];
    for (const channel of channels) await store.putChannel(channel, now());
    for (const name of ['intranet-eu', 'dmz-us']) await store.createCheckpoint(name, `hash-${name}`, now());
    const script = { name: 'Login', timeoutMs: 10_000, steps: [{ name: 'Open the intranet', actions: [{ type: 'navigate' as const, url: 'http://intranet.example/' }] }] };
    const definition = { name: 'Login', intervalSeconds: 60, enabled: true, script, alerting: { channels: channels.map((channel) => channel.id) } };
    const login = await store.insertMonitor({ ...definition, id: 'login', checkpoint: 'intranet-eu', checkpoints: ['intranet-eu', 'dmz-us'] }, now());
    await store.insertMonitor({ ...definition, id: 'solo', name: 'Solo', checkpoint: 'dmz-us' }, now());
    const failedOn = async (runId: string, monitorId: string, checkpoint: string, status: 'failed' | 'passed' = 'failed') => {
      await store.insertRun({ runId, monitorId, checkpoint, attempt: 2, instance: `${checkpoint}-b`, reason: 'retry', dispatchedAt: now(), leaseDeadline: now() });
      await store.storeResult({ runId, monitorId, attempt: 2, instanceId: `${checkpoint}-b`, finishedAt: now(), result: minimalResult({ runId, status }), artifacts: [] }, checkpoint, now());
    };
    const alerts = new Alerts({ store, log: () => undefined, clock, retryDelaysMs: [10], baseUrl: publicUrl });
    t.after(() => alerts.close());

    await failedOn('r-eu', 'login', 'intranet-eu');
    await failedOn('r-us', 'login', 'dmz-us');
    await failedOn('r-solo', 'solo', 'dmz-us');
    await alerts.raise({ kind: 'monitor-failed', checkpoint: 'intranet-eu', monitorId: 'login', runId: 'r-eu', message: 'Login failed 2 times in a row' });
    await alerts.raise({ kind: 'monitor-failed', checkpoint: 'dmz-us', monitorId: 'login', runId: 'r-us', message: 'Login failed 2 times in a row' });
    await alerts.raise({ kind: 'monitor-failed', checkpoint: 'dmz-us', monitorId: 'solo', runId: 'r-solo', message: 'Solo failed 2 times in a row' });
    await alerts.settled();

    // PagerDuty: three incidents; the first checkpoint and a monitor on one checkpoint keep `checkpoint/monitor/<id>`.
    const triggers = http.on('/pagerduty');
    assert.deepEqual(
      triggers.map((entry) => [entry.body['event_action'], entry.body['dedup_key'], (entry.body['payload'] as Record<string, unknown>)['group']]),
      [
        ['trigger', 'checkpoint/monitor/login', 'intranet-eu'],
        ['trigger', 'checkpoint/monitor/login/dmz-us', 'dmz-us'],
        ['trigger', 'checkpoint/monitor/solo', 'dmz-us'],
      ],
    );
    const usTrigger = triggers[1]?.body['payload'] as { summary: string; custom_details: Record<string, unknown> };
    assert.match(usTrigger.summary, /^Login failed on dmz-us: /);
    assert.equal(usTrigger.custom_details['checkpoint'], 'dmz-us');

    // Every other channel names the checkpoint the failure was seen from.
    const [, usHook] = http.on('/hook');
    assert.deepEqual([usHook?.body['checkpoint'], usHook?.body['title'], usHook?.body['incidentKey']], ['dmz-us', 'Login failed on dmz-us', 'checkpoint/monitor/login/dmz-us']);
    const [, usSlack] = http.on('/slack');
    assert.equal(usSlack?.body['text'], '[CRITICAL] Login failed on dmz-us');
    const slackFields = (usSlack?.body['blocks'] as { fields?: { text: string }[] }[]).flatMap((block) => block.fields ?? []).map((field) => field.text);
    assert.ok(slackFields.includes('*Checkpoint*\ndmz-us'), slackFields.join(' | '));
    assert.ok(slackFields.includes('*Instance*\ndmz-us-b'), slackFields.join(' | '));
    const [, usTeams] = http.on('/teams');
    const card = (usTeams?.body['attachments'] as { content: { body: { type: string; text?: string; facts?: { title: string; value: string }[] }[] } }[])[0]?.content;
    assert.equal(card?.body[0]?.text, 'Login failed on dmz-us');
    assert.deepEqual(card?.body.find((element) => element.type === 'FactSet')?.facts?.find((fact) => fact.title === 'Checkpoint'), { title: 'Checkpoint', value: 'dmz-us' });
    const usMail = decodeMail(mail.mails[1]?.raw ?? '');
    assert.match(usMail, /^Subject: \[CRITICAL\] Login failed on dmz-us$/m);
    assert.match(usMail, /^Checkpoint: dmz-us$/m);

    // It passes again from dmz-us only: that incident resolves, the one from intranet-eu stays open.
    await failedOn('r-us-2', 'login', 'dmz-us', 'passed');
    await alerts.raise({ kind: 'monitor-recovered', checkpoint: 'dmz-us', monitorId: 'login', runId: 'r-us-2', message: 'Login passes again' });
    await alerts.settled();
    assert.deepEqual(http.on('/pagerduty')[3]?.body, { routing_key: 'pd-routing-key-0123456789', dedup_key: 'checkpoint/monitor/login/dmz-us', event_action: 'resolve' });
    assert.equal(http.on('/slack')[3]?.body['text'], '[RESOLVED] Login recovered on dmz-us');

    // Deleted while failing on intranet-eu: resolved with the key of that incident (from the monitor as it was).
    await store.deleteMonitor('login');
    await alerts.raise({ kind: 'monitor-resolved', checkpoint: 'intranet-eu', monitorId: 'login', monitor: login, message: 'Login was deleted while failing; its alert is resolved' });
    await alerts.raise({ kind: 'monitor-resolved', checkpoint: 'dmz-us', monitorId: 'login', monitor: login, message: 'Login was deleted while failing; its alert is resolved' });
    await alerts.settled();
    assert.deepEqual(
      http.on('/pagerduty').slice(4).map((entry) => [entry.body['event_action'], entry.body['dedup_key']]),
      [
        ['resolve', 'checkpoint/monitor/login'],
        ['resolve', 'checkpoint/monitor/login/dmz-us'],
      ],
    );
    assert.deepEqual(http.on('/hook').slice(-2).map((entry) => entry.body['title']), ['Login on intranet-eu: alert resolved', 'Login on dmz-us: alert resolved']);
  });
});
