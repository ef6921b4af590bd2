import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { validate } from '../../cli/validate-command.ts';
import { startControlPlane, type ControlPlane, type ControlPlaneOptions } from '../../control-plane/server.ts';
import type { MonitorRecord, RunRecord } from '../../control-plane/store.ts';
import { FakeAgent, FakeClock, type Answer } from '../helpers/fake-agent.ts';

const adminToken = 'admin-secret-for-api-tests';
const metricsToken = 'metrics-reader-token';

type Json = Record<string, unknown>;

interface Reply {
  status: number;
  headers: Headers;
  text: string;
  body: Json;
}

interface Harness {
  cp: ControlPlane;
  clock: FakeClock;
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Reply>;
  agents: FakeAgent[];
  settle(monitorId: string, count: number): Promise<RunRecord[]>;
}

async function harness(t: TestContext, outcome: { status: Answer['status'] }, options: Partial<ControlPlaneOptions> = {}): Promise<Harness> {
  const dataDir = await mkdtemp(join(tmpdir(), 'control-plane-api-'));
  const clock = new FakeClock(Date.parse('2026-12-05T09:00:00.000Z'));
  const cp = await startControlPlane({ dataDir, clock, adminToken, metricsToken, log: () => undefined, tickIntervalMs: 3_600_000, heartbeatIntervalMs: 600_000, ...options });
  const agents: FakeAgent[] = [];
  t.after(async () => {
    await cp.close();
    await Promise.all(agents.map((agent) => agent.kill()));
    await rm(dataDir, { recursive: true, force: true });
  });
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = { Authorization: `Bearer ${adminToken}` }): Promise<Reply> => {
    const response = await fetch(`${cp.url}${path}`, {
      method,
      headers: { ...headers, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    const parsed = response.headers.get('content-type')?.startsWith('application/json') === true ? (JSON.parse(text) as Json) : {};
    return { status: response.status, headers: response.headers, text, body: parsed };
  };
  const created = await call('POST', '/api/v1/checkpoints', { name: 'intranet-eu' });
  assert.equal(created.status, 201);
  const answer = (): Answer => ({ status: outcome.status, durationMs: 1500 });
  for (const id of ['a', 'b']) agents.push(await FakeAgent.connect({ baseUrl: cp.url, token: String(created.body['token']), instanceId: id, autoAnswer: answer }));
  return {
    cp,
    clock,
    call,
    agents,
    settle: async (monitorId, count) => {
      const giveUpAt = Date.now() + 10_000;
      for (;;) {
        await Promise.all(agents.map((agent) => agent.answered()));
        const runs = (await call('GET', `/api/v1/monitors/${monitorId}/runs?limit=1000`)).body['runs'] as RunRecord[];
        if (runs.length === count && runs.every((run) => run.status !== 'dispatched' && run.status !== 'running')) {
          await cp.alertsSettled();
          return runs;
        }
        if (Date.now() > giveUpAt) throw new Error(`expected ${count} settled runs of ${monitorId}, have ${runs.length}`);
        await new Promise((resolve) => setTimeout(resolve, 15));
      }
    },
  };
}

const loginScript = { name: 'Login', timeoutMs: 10_000, steps: [{ name: 'Open the intranet', actions: [{ type: 'navigate', url: '{{baseUrl}}/login' }] }] };

function monitor(extra: Json = {}): Json {
  return { name: 'Login', checkpoint: 'intranet-eu', intervalSeconds: 60, script: loginScript, variables: { baseUrl: 'http://intranet.example' }, ...extra };
}

describe('control plane API: config round trip', () => {
  it('GET → PUT round-trips, PUT creates and is idempotent, PATCH merges, ?dryRun says what would change', async (t) => {
    const h = await harness(t, { status: 'passed' });
    const created = await h.call('PUT', '/api/v1/monitors/login', monitor({ alerting: { afterFailures: 3 } }));
    assert.equal(created.status, 201);
    assert.equal(created.headers.get('location'), '/api/v1/monitors/login');
    assert.equal(created.headers.get('x-checkpoint-outcome'), 'created');
    await h.settle('login', 1);

    const fetched = await h.call('GET', '/api/v1/monitors/login');
    assert.ok(fetched.body['lastRun'] !== undefined, 'GET shows the last run');
    const back = await h.call('PUT', '/api/v1/monitors/login', fetched.body);
    assert.equal(back.status, 200, back.text);
    assert.equal(back.headers.get('x-checkpoint-outcome'), 'unchanged');
    assert.equal(back.body['updatedAt'], created.body['updatedAt'], 'an unchanged PUT writes nothing');
    const again = await h.call('PUT', '/api/v1/monitors/login', monitor({ alerting: { afterFailures: 3 } }));
    assert.equal(again.headers.get('x-checkpoint-outcome'), 'unchanged', 'PUT is idempotent');

    const dryRun = await h.call('PUT', '/api/v1/monitors/login?dryRun=true', monitor({ intervalSeconds: 300 }));
    assert.deepEqual([dryRun.status, dryRun.body['outcome'], dryRun.body['changes']], [200, 'changed', ['alerting', 'intervalSeconds']]);
    assert.equal((await h.call('GET', '/api/v1/monitors/login')).body['intervalSeconds'], 60, 'a dry run stores nothing');
    const newOne = await h.call('PUT', '/api/v1/monitors/search?dryRun=true', monitor({ name: 'Search' }));
    assert.equal(newOne.body['outcome'], 'created');
    assert.equal((await h.call('GET', '/api/v1/monitors/search')).status, 404);

    const patched = await h.call('PATCH', '/api/v1/monitors/login', { intervalSeconds: 120, alerting: { reminderMinutes: 30 }, variables: null });
    assert.equal(patched.status, 400, 'removing the variables leaves {{baseUrl}} without a value');
    assert.equal(patched.body['error'] !== undefined && (patched.body['error'] as Json)['code'], 'unknown-variable');
    const merged = await h.call('PATCH', '/api/v1/monitors/login', { intervalSeconds: 120, alerting: { reminderMinutes: 30 } });
    assert.equal(merged.status, 200, merged.text);
    assert.deepEqual([merged.body['intervalSeconds'], merged.body['alerting'], merged.body['name']], [120, { afterFailures: 3, reminderMinutes: 30 }, 'Login']);
    const dropped = await h.call('PATCH', '/api/v1/monitors/login', { alerting: { afterFailures: null } });
    assert.deepEqual(dropped.body['alerting'], { reminderMinutes: 30 }, 'null removes a field');
    assert.equal((await h.call('PATCH', '/api/v1/monitors/login', [1, 2])).status, 400);
    assert.equal((await h.call('PATCH', '/api/v1/monitors/nobody', { intervalSeconds: 120 })).status, 404);
    const mismatch = await h.call('PATCH', '/api/v1/monitors/login', { id: 'other' });
    assert.equal((mismatch.body['error'] as Json)['path'], 'id');
  });

  it('refuses a monitor whose script uses an undefined {{variable}} with the message `checkpoint validate` prints', async (t) => {
    const h = await harness(t, { status: 'passed' });
    const dir = await mkdtemp(join(tmpdir(), 'api-validate-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'login.json');
    await writeFile(file, JSON.stringify(loginScript));
    const lines: string[] = [];
    await validate([file], { stdout: () => undefined, stderr: (text) => lines.push(text) });
    const validateMessage = /: steps\[0\]\.actions\[0\]\.url: warning: (.*)\n$/.exec(lines.join(''))?.[1];
    assert.ok(validateMessage !== undefined, lines.join(''));

    const refused = await h.call('POST', '/api/v1/monitors', monitor({ variables: { other: 'x' } }));
    assert.equal(refused.status, 400);
    const error = refused.body['error'] as Json;
    assert.equal(error['code'], 'unknown-variable');
    assert.equal(error['path'], 'script.steps[0].actions[0].url');
    assert.equal(error['message'], `script.steps[0].actions[0].url: ${validateMessage}`);
    assert.equal((await h.call('PUT', '/api/v1/monitors/login', monitor({ variables: {} }))).status, 400);
    const withDefault = await h.call('PUT', '/api/v1/monitors/login', monitor({ enabled: false, variables: undefined, script: { ...loginScript, variables: { baseUrl: 'http://intranet.example' } } }));
    assert.equal(withDefault.status, 201, 'a default in the script is a value');
  });

  it('applies every query filter, and rejects an unknown parameter with a 400 naming it', async (t) => {
    const outcome = { status: 'failed' as Answer['status'] };
    const h = await harness(t, outcome);
    assert.equal((await h.call('PUT', '/api/v1/monitors/login', monitor())).status, 201);
    await h.settle('login', 2);
    h.clock.advance(60_000);
    outcome.status = 'passed';
    await h.cp.tick();
    const runs = await h.settle('login', 3);
    assert.deepEqual(
      runs.map((run) => [run.status, run.reason]),
      [
        ['passed', 'schedule'],
        ['failed', 'retry'],
        ['failed', 'schedule'],
      ],
    );
    assert.equal((await h.call('PUT', '/api/v1/monitors/search', monitor({ name: 'Search', enabled: false }))).status, 201);

    const query = async (path: string) => {
      const reply = await h.call('GET', path);
      assert.equal(reply.status, 200, `${path}: ${reply.text}`);
      return reply.body;
    };
    const failed = (await query('/api/v1/runs?status=failed&monitor=login')).runs as RunRecord[];
    assert.ok(failed.length >= 2 && failed.every((run) => run.status === 'failed' && run.monitorId === 'login'));
    const both = (await query('/api/v1/runs?status=failed,passed')).runs as RunRecord[];
    assert.equal(both.length, runs.filter((run) => run.status === 'failed' || run.status === 'passed').length);
    const repeated = (await query('/api/v1/runs?status=failed&status=passed')).runs as RunRecord[];
    assert.equal(repeated.length, both.length, 'a repeated parameter is a list');
    const later = (await query(`/api/v1/runs?since=${encodeURIComponent('2026-12-05T09:00:30Z')}`)).runs as RunRecord[];
    assert.ok(later.length > 0 && later.every((run) => run.dispatchedAt >= '2026-12-05T09:00:30'));
    const earlier = (await query('/api/v1/runs?until=2026-12-05T09:00:30%2B00:00')).runs as RunRecord[];
    assert.equal(earlier.length + later.length, runs.length);
    assert.equal(((await query('/api/v1/runs?reason=retry')).runs as RunRecord[]).every((run) => run.reason === 'retry'), true);
    assert.equal(((await query('/api/v1/runs?limit=1')).runs as RunRecord[]).length, 1);
    assert.equal(((await query('/api/v1/monitors/login/runs?status=passed')).runs as RunRecord[]).length, runs.filter((run) => run.status === 'passed').length);
    assert.deepEqual(((await query('/api/v1/runs?checkpoint=elsewhere')).runs as RunRecord[]).length, 0);
    assert.deepEqual(((await query('/api/v1/monitors?enabled=false')).monitors as MonitorRecord[]).map((m) => m.id), ['search']);
    assert.deepEqual(((await query('/api/v1/monitors?checkpoint=intranet-eu&health=ok')).monitors as MonitorRecord[]).map((m) => m.id).sort(), ['login', 'search']);
    assert.deepEqual(((await query('/api/v1/alerts?kind=monitor-recovered&monitor=login')).alerts as { kind: string }[]).map((a) => a.kind), ['monitor-recovered']);

    for (const [path, parameter] of [
      ['/api/v1/runs?state=failed', 'state'],
      ['/api/v1/monitors/login/runs?monitor=other', 'monitor'],
      ['/api/v1/monitors?state=failing', 'state'],
      ['/api/v1/alerts?severity=critical', 'severity'],
      ['/api/v1/monitors/login?verbose=1', 'verbose'],
      ['/api/v1/channels?type=slack', 'type'],
    ] as const) {
      const reply = await h.call('GET', path);
      assert.equal(reply.status, 400, path);
      const error = reply.body['error'] as Json;
      assert.equal(error['code'], 'unknown-parameter', path);
      assert.equal(error['path'], parameter);
      assert.match(String(error['message']), new RegExp(`unknown query parameter "${parameter}"`));
    }
    const badStatus = await h.call('GET', '/api/v1/runs?status=broken');
    assert.equal(badStatus.status, 400);
    assert.equal((badStatus.body['error'] as Json)['path'], 'status[0]');
    assert.equal((await h.call('GET', '/api/v1/runs?since=yesterday')).status, 400);
  });
});

describe('control plane API: OpenAPI', () => {
  it('serves an OpenAPI 3.1 description that the real answers validate against', async (t) => {
    const outcome = { status: 'failed' as Answer['status'] };
    const h = await harness(t, outcome);
    const served = await h.call('GET', '/api/openapi.json', undefined, {});
    assert.equal(served.status, 200, 'served without a token: it holds no secrets');
    const document = served.body;
    assert.equal(document['openapi'], '3.1.0');
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats.default(ajv);
    ajv.addSchema({ ...document, $id: 'https://checkpoint.invalid/openapi.json' });
    const paths = document['paths'] as Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: { $ref?: string } }> }> }>>;
    let checked = 0;
    const conforms = async (method: string, url: string, template: string, body?: unknown) => {
      const reply = await h.call(method, url, body);
      const operation = paths[template]?.[method.toLowerCase()];
      assert.ok(operation !== undefined, `${method} ${template} is described`);
      const response = operation.responses[String(reply.status)];
      assert.ok(response !== undefined, `${method} ${template}: status ${reply.status} is described (${reply.text.slice(0, 200)})`);
      const reference = response.content?.['application/json']?.schema.$ref;
      if (reference !== undefined) {
        const check = ajv.getSchema(`https://checkpoint.invalid/openapi.json${reference}`);
        assert.ok(check !== undefined, reference);
        assert.ok(check(reply.body), `${method} ${url} → ${reply.status} does not match ${reference}: ${ajv.errorsText(check.errors)}`);
        checked++;
      }
      return reply;
    };
    await conforms('GET', '/api/v1/checkpoints', '/api/v1/checkpoints');
    await conforms('GET', '/api/v1/checkpoints/intranet-eu', '/api/v1/checkpoints/{name}');
    await conforms('POST', '/api/v1/checkpoints', '/api/v1/checkpoints', { name: 'branch' });
    await conforms('PUT', '/api/v1/channels/hook', '/api/v1/channels/{id}', { id: 'hook', type: 'webhook', url: 'http://127.0.0.1:9/hook', secret: 'plain' });
    await conforms('GET', '/api/v1/channels', '/api/v1/channels');
    await conforms('POST', '/api/v1/monitors', '/api/v1/monitors', monitor({ id: 'login', alerting: { channels: ['hook'], severity: 'error' }, capture: { screenshots: 'failure' } }));
    await h.settle('login', 2);
    await conforms('GET', '/api/v1/monitors', '/api/v1/monitors');
    const one = await conforms('GET', '/api/v1/monitors/login', '/api/v1/monitors/{id}');
    await conforms('PUT', '/api/v1/monitors/login', '/api/v1/monitors/{id}', one.body);
    await conforms('PUT', '/api/v1/monitors/login?dryRun=true', '/api/v1/monitors/{id}', monitor({ intervalSeconds: 90 }));
    await conforms('PATCH', '/api/v1/monitors/login', '/api/v1/monitors/{id}', { intervalSeconds: 90 });
    await conforms('PATCH', '/api/v1/monitors/login', '/api/v1/monitors/{id}', { intervalSeconds: 1 });
    const runs = await conforms('GET', '/api/v1/monitors/login/runs', '/api/v1/monitors/{id}/runs');
    await conforms('GET', '/api/v1/runs?status=failed', '/api/v1/runs');
    await conforms('GET', '/api/v1/runs?nope=1', '/api/v1/runs');
    const runId = (runs.body['runs'] as RunRecord[])[0]?.runId ?? '';
    await conforms('GET', `/api/v1/runs/${runId}`, '/api/v1/runs/{runId}');
    await conforms('GET', '/api/v1/alerts', '/api/v1/alerts');
    await conforms('PUT', '/api/v1/maintenance-windows/weekly', '/api/v1/maintenance-windows/{id}', { id: 'weekly', weekly: { days: ['sun'], from: '02:00', to: '04:00' } });
    await conforms('GET', '/api/v1/maintenance-windows', '/api/v1/maintenance-windows');
    await conforms('GET', '/api/v1/maintenance-windows/nothing', '/api/v1/maintenance-windows/{id}');
    assert.ok(checked >= 20, `${checked} answers checked`);
    for (const [path, methods] of Object.entries(paths)) {
      for (const [method, operation] of Object.entries(methods)) assert.ok(Object.keys(operation.responses).length > 0, `${method} ${path}`);
    }
  });
});

describe('control plane API: Prometheus metrics', () => {
  it('serves per-monitor and per-checkpoint metrics to the admin or metrics token, with label values escaped', async (t) => {
    const outcome = { status: 'failed' as Answer['status'] };
    const h = await harness(t, outcome);
    const name = 'Login "EU" \\ intranet';
    assert.equal((await h.call('PUT', '/api/v1/monitors/login', monitor({ name }))).status, 201);
    await h.settle('login', 2);
    outcome.status = 'passed';
    h.clock.advance(60_000);
    await h.cp.tick();
    await h.settle('login', 3);

    assert.equal((await h.call('GET', '/metrics', undefined, {})).status, 401);
    assert.equal((await h.call('GET', '/metrics', undefined, { Authorization: 'Bearer wrong' })).status, 401);
    assert.equal((await h.call('GET', '/api/v1/monitors', undefined, { Authorization: `Bearer ${metricsToken}` })).status, 401, 'the metrics token reads /metrics only');
    const byAdmin = await h.call('GET', '/metrics');
    assert.equal(byAdmin.status, 200);
    const reply = await h.call('GET', '/metrics', undefined, { Authorization: `Bearer ${metricsToken}` });
    assert.equal(reply.status, 200);
    assert.match(reply.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const lines = reply.text.split('\n');
    const labels = 'monitor_id="login",monitor="Login \\"EU\\" \\\\ intranet",checkpoint="intranet-eu"';
    const sample = (metric: string, extra = '') => {
      const prefix = `${metric}{${labels}${extra}} `;
      const line = lines.find((candidate) => candidate.startsWith(prefix));
      assert.ok(line !== undefined, `${prefix} in\n${reply.text}`);
      return Number(line.slice(prefix.length));
    };
    assert.equal(sample('checkpoint_monitor_up'), 1);
    assert.equal(sample('checkpoint_monitor_status', ',status="passed"'), 1);
    assert.equal(sample('checkpoint_monitor_status', ',status="failed"'), 0);
    assert.equal(sample('checkpoint_monitor_health', ',health="ok"'), 1);
    assert.equal(sample('checkpoint_monitor_last_duration_seconds'), 1.5);
    assert.equal(sample('checkpoint_monitor_step_duration_seconds', ',step_index="1",step="Open the intranet"'), 1.5);
    assert.equal(sample('checkpoint_monitor_runs_total', ',status="failed"'), 2);
    assert.equal(sample('checkpoint_monitor_runs_total', ',status="passed"'), 1);
    // Two checks: the first failed on both instances, the second passed.
    assert.equal(sample('checkpoint_monitor_checks', ',window="24h"'), 2);
    assert.equal(sample('checkpoint_monitor_availability_ratio', ',window="1h"'), 0.5);
    assert.equal(sample('checkpoint_monitor_in_maintenance'), 0);
    assert.equal(sample('checkpoint_monitor_last_run_timestamp_seconds'), Date.parse('2026-12-05T09:01:00.000Z') / 1000);
    assert.ok(lines.includes('checkpoint_up{checkpoint="intranet-eu"} 1'));
    assert.ok(lines.includes('checkpoint_instances_connected{checkpoint="intranet-eu"} 2'));
    assert.ok(lines.includes('# TYPE checkpoint_monitor_runs_total counter'));
    // Every sample line is `name{labels} value` with a number: what a Prometheus scrape parses.
    for (const line of lines.filter((candidate) => candidate !== '' && !candidate.startsWith('#'))) {
      assert.match(line, /^[a-z_]+(\{([a-z_]+="([^"\\\n]|\\["\\n])*",?)*\})? -?[0-9.e+-]+$/, line);
    }
    const typed = new Set(lines.filter((line) => line.startsWith('# TYPE ')).map((line) => line.split(' ')[2]));
    for (const line of lines.filter((candidate) => candidate !== '' && !candidate.startsWith('#'))) assert.ok(typed.has(/^[a-z_]+/.exec(line)?.[0]), line);
  });
});
