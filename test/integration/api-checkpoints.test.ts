import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { metricsText } from '../../control-plane/metrics.ts';
import { startControlPlane, type ControlPlane } from '../../control-plane/server.ts';
import { SqliteStore } from '../../control-plane/store-sqlite.ts';
import type { RunRecord } from '../../control-plane/store.ts';
import { FakeAgent, FakeClock, type Answer } from '../helpers/fake-agent.ts';

// Monitors on several checkpoints through the REST API, /metrics and the OpenAPI description (issue 14 item 1).

const adminToken = 'admin-secret-for-checkpoints-tests';
const downAfterMs = 1000;

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
  call(method: string, path: string, body?: unknown): Promise<Reply>;
  /** Connect an instance of `checkpoint` that answers every run with `answer(checkpoint)`. */
  connect(checkpoint: string, id: string): Promise<FakeAgent>;
  /** Wait until no run of `monitorId` is in flight, `ready` says its runs are there, and alerts are delivered; its runs, newest first. */
  settle(monitorId: string, ready?: (runs: RunRecord[]) => boolean): Promise<RunRecord[]>;
  /** Kill the instances of `checkpoint` and let it be declared down. */
  down(checkpoint: string): Promise<void>;
  error(reply: Reply): Json;
}

async function harness(t: TestContext, checkpoints: readonly string[], answer: (checkpoint: string) => Answer['status'] = () => 'passed'): Promise<Harness> {
  const dataDir = await mkdtemp(join(tmpdir(), 'api-checkpoints-'));
  const clock = new FakeClock(Date.parse('2026-12-05T09:00:00.000Z'));
  const cp = await startControlPlane({ dataDir, clock, adminToken, log: () => undefined, tickIntervalMs: 3_600_000, heartbeatIntervalMs: 600_000, checkpointDownAfterMs: downAfterMs });
  const agents = new Map<string, FakeAgent[]>();
  t.after(async () => {
    await cp.close();
    await Promise.all([...agents.values()].flat().map((agent) => agent.kill()));
    await rm(dataDir, { recursive: true, force: true });
  });
  const call = async (method: string, path: string, body?: unknown): Promise<Reply> => {
    const response = await fetch(`${cp.url}${path}`, {
      method,
      headers: { Authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    const parsed = response.headers.get('content-type')?.startsWith('application/json') === true ? (JSON.parse(text) as Json) : {};
    return { status: response.status, headers: response.headers, text, body: parsed };
  };
  const tokens = new Map<string, string>();
  for (const name of checkpoints) {
    const created = await call('POST', '/api/v1/checkpoints', { name });
    assert.equal(created.status, 201, created.text);
    tokens.set(name, String(created.body['token']));
  }
  const connect = async (checkpoint: string, id: string): Promise<FakeAgent> => {
    const agent = await FakeAgent.connect({ baseUrl: cp.url, token: tokens.get(checkpoint) ?? '', instanceId: id, autoAnswer: () => ({ status: answer(checkpoint), durationMs: checkpoint.length * 100 }) });
    agents.set(checkpoint, [...(agents.get(checkpoint) ?? []), agent]);
    return agent;
  };
  const online = async (checkpoint: string) => Number((await call('GET', `/api/v1/checkpoints/${checkpoint}`)).body['online']);
  return {
    cp,
    clock,
    call,
    connect,
    settle: async (monitorId, ready = () => true) => {
      const giveUpAt = Date.now() + 10_000;
      for (;;) {
        await Promise.all([...agents.values()].flat().map((agent) => agent.answered()));
        const runs = (await call('GET', `/api/v1/monitors/${monitorId}/runs?limit=1000`)).body['runs'] as RunRecord[];
        if (ready(runs) && runs.every((run) => run.status !== 'dispatched' && run.status !== 'running')) {
          await cp.alertsSettled();
          return runs;
        }
        if (Date.now() > giveUpAt) throw new Error(`runs of ${monitorId} still in flight: ${runs.map((run) => `${run.checkpoint}:${run.status}`).join(' ')}`);
        await new Promise((resolve) => setTimeout(resolve, 15));
      }
    },
    down: async (checkpoint) => {
      await Promise.all((agents.get(checkpoint) ?? []).map((agent) => agent.kill()));
      agents.delete(checkpoint);
      for (let tries = 0; (await online(checkpoint)) > 0; tries++) {
        assert.ok(tries < 500, `${checkpoint}: a killed instance is still online`);
        await new Promise((resolve) => setTimeout(resolve, 15));
      }
      clock.advance(downAfterMs);
      await cp.tick();
      await cp.alertsSettled();
      assert.equal((await call('GET', `/api/v1/checkpoints/${checkpoint}`)).body['health'], 'down');
    },
    error: (reply) => (reply.body['error'] ?? {}) as Json,
  };
}

const script = { name: 'Login', timeoutMs: 10_000, steps: [{ name: 'Open the intranet', actions: [{ type: 'navigate', url: 'http://intranet.example/login' }] }] };

function monitor(extra: Json = {}): Json {
  return { name: 'Login', intervalSeconds: 60, script, ...extra };
}

describe('monitors on several checkpoints: REST API', () => {
  it('creates with `checkpoints`, round-trips GET → PUT unchanged, and refuses inconsistent, repeated or unknown checkpoints naming them', async (t) => {
    const h = await harness(t, ['intranet-eu', 'dmz-us']);
    const created = await h.call('POST', '/api/v1/monitors', monitor({ id: 'login', enabled: false, checkpoints: ['intranet-eu', 'dmz-us'], placement: 'round-robin' }));
    assert.equal(created.status, 201, created.text);
    assert.deepEqual([created.body['checkpoint'], created.body['checkpoints'], created.body['placement']], ['intranet-eu', ['intranet-eu', 'dmz-us'], 'round-robin']);
    assert.deepEqual(created.body['checkpointHealth'], { 'intranet-eu': 'ok', 'dmz-us': 'ok' });

    const fetched = await h.call('GET', '/api/v1/monitors/login');
    assert.deepEqual([fetched.body['status'], fetched.body['checkpointStatus']], ['disabled', { 'intranet-eu': 'ok', 'dmz-us': 'ok' }]);
    const back = await h.call('PUT', '/api/v1/monitors/login', fetched.body);
    assert.equal(back.status, 200, back.text);
    assert.equal(back.headers.get('x-checkpoint-outcome'), 'unchanged', 'GET → PUT with `checkpoint` and `checkpoints` both given');
    assert.equal(back.body['updatedAt'], created.body['updatedAt']);
    const onlyList = await h.call('PUT', '/api/v1/monitors/login', monitor({ enabled: false, checkpoints: ['intranet-eu', 'dmz-us'], placement: 'round-robin' }));
    assert.equal(onlyList.headers.get('x-checkpoint-outcome'), 'unchanged', 'without `checkpoint`: the same monitor');

    const inconsistent = await h.call('PUT', '/api/v1/monitors/login', monitor({ checkpoint: 'dmz-us', checkpoints: ['intranet-eu', 'dmz-us'] }));
    assert.equal(inconsistent.status, 400);
    assert.equal(h.error(inconsistent)['path'], 'checkpoint');
    assert.match(String(h.error(inconsistent)['message']), /intranet-eu/);
    const neither = await h.call('PUT', '/api/v1/monitors/login', monitor());
    assert.deepEqual([neither.status, h.error(neither)['path']], [400, 'checkpoint']);
    const twice = await h.call('PUT', '/api/v1/monitors/login', monitor({ checkpoints: ['intranet-eu', 'dmz-us', 'intranet-eu'] }));
    assert.equal(twice.status, 400);
    assert.equal(h.error(twice)['path'], 'checkpoints[2]');
    assert.match(String(h.error(twice)['message']), /"intranet-eu" is listed twice/);
    const unknown = await h.call('PUT', '/api/v1/monitors/login', monitor({ checkpoints: ['intranet-eu', 'nowhere'] }));
    assert.equal(unknown.status, 400);
    assert.deepEqual([h.error(unknown)['code'], h.error(unknown)['path']], ['unknown-checkpoint', 'checkpoints[1]']);
    const badPlacement = await h.call('PUT', '/api/v1/monitors/login', monitor({ checkpoints: ['intranet-eu', 'dmz-us'], placement: 'random' }));
    assert.deepEqual([badPlacement.status, h.error(badPlacement)['path']], [400, 'placement']);
    assert.deepEqual((await h.call('GET', '/api/v1/monitors/login')).body['checkpoints'], ['intranet-eu', 'dmz-us'], 'nothing refused was stored');

    // One checkpoint given as a list of one is the same monitor as one given as `checkpoint`.
    const single = await h.call('PUT', '/api/v1/monitors/solo', monitor({ name: 'Solo', enabled: false, checkpoints: ['dmz-us'] }));
    assert.equal(single.status, 201, single.text);
    assert.deepEqual([single.body['checkpoint'], single.body['checkpoints']], ['dmz-us', undefined]);
    assert.equal((await h.call('PUT', '/api/v1/monitors/solo', monitor({ name: 'Solo', enabled: false, checkpoint: 'dmz-us' }))).headers.get('x-checkpoint-outcome'), 'unchanged');
  });

  it('PATCH with `checkpoints` moves a monitor to several, PATCH with `checkpoint` makes it single again', async (t) => {
    const h = await harness(t, ['intranet-eu', 'dmz-us', 'branch-fr']);
    assert.equal((await h.call('PUT', '/api/v1/monitors/login', monitor({ enabled: false, checkpoint: 'branch-fr' }))).status, 201);
    const dryRun = await h.call('PATCH', '/api/v1/monitors/login?dryRun=true', { checkpoints: ['intranet-eu', 'dmz-us'] });
    assert.deepEqual([dryRun.status, dryRun.body['outcome'], dryRun.body['changes']], [200, 'changed', ['checkpoint', 'checkpoints']]);
    const moved = await h.call('PATCH', '/api/v1/monitors/login', { checkpoints: ['intranet-eu', 'dmz-us'], placement: 'round-robin' });
    assert.equal(moved.status, 200, moved.text);
    assert.deepEqual([moved.body['checkpoint'], moved.body['checkpoints'], moved.body['placement']], ['intranet-eu', ['intranet-eu', 'dmz-us'], 'round-robin']);
    const reordered = await h.call('PATCH', '/api/v1/monitors/login', { checkpoints: ['dmz-us', 'intranet-eu'] });
    assert.deepEqual([reordered.body['checkpoint'], reordered.body['checkpoints']], ['dmz-us', ['dmz-us', 'intranet-eu']], 'the first of the list is `checkpoint`');
    const unknown = await h.call('PATCH', '/api/v1/monitors/login', { checkpoints: ['dmz-us', 'nowhere'] });
    assert.deepEqual([unknown.status, h.error(unknown)['code'], h.error(unknown)['path']], [400, 'unknown-checkpoint', 'checkpoints[1]']);

    const dropped = await h.call('PATCH', '/api/v1/monitors/login?dryRun=true', { checkpoints: null });
    assert.equal(dropped.status, 200, `null removes the list and keeps its first checkpoint: ${dropped.text}`);
    assert.deepEqual([dropped.body['changes'], (dropped.body['monitor'] as Json)['checkpoint']], [['checkpoints'], 'dmz-us']);
    const back = await h.call('PATCH', '/api/v1/monitors/login', { checkpoint: 'branch-fr' });
    assert.equal(back.status, 200, back.text);
    assert.deepEqual([back.body['checkpoint'], back.body['checkpoints'], back.body['checkpointHealth']], ['branch-fr', undefined, { 'branch-fr': 'ok' }]);
    const listed = await h.call('GET', '/api/v1/monitors?checkpoint=dmz-us');
    assert.deepEqual(listed.body['monitors'], [], 'it no longer runs on dmz-us');
  });

  it('lists the monitors of a checkpoint among several, filters by status (checkpoint-down), and refuses an unknown status', async (t) => {
    const h = await harness(t, ['intranet-eu', 'dmz-us', 'branch-fr']);
    await h.connect('intranet-eu', 'eu-a');
    await h.connect('branch-fr', 'fr-a');
    assert.equal((await h.call('PUT', '/api/v1/monitors/login', monitor({ checkpoints: ['intranet-eu', 'branch-fr'] }))).status, 201);
    assert.equal((await h.call('PUT', '/api/v1/monitors/search', monitor({ name: 'Search', checkpoint: 'intranet-eu' }))).status, 201);
    assert.equal((await h.call('PUT', '/api/v1/monitors/report', monitor({ name: 'Report', enabled: false, checkpoints: ['dmz-us', 'intranet-eu'] }))).status, 201);
    await h.settle('login', (runs) => runs.length > 0);
    await h.settle('search', (runs) => runs.length > 0);
    const ids = async (query: string) => {
      const reply = await h.call('GET', `/api/v1/monitors${query}`);
      assert.equal(reply.status, 200, `${query}: ${reply.text}`);
      return (reply.body['monitors'] as { id: string }[]).map((entry) => entry.id).sort();
    };
    assert.deepEqual(await ids('?checkpoint=branch-fr'), ['login'], 'named second of two');
    assert.deepEqual(await ids('?checkpoint=intranet-eu'), ['login', 'report', 'search']);
    assert.deepEqual(await ids('?checkpoint=dmz-us'), ['report']);
    assert.deepEqual(await ids('?status=ok'), ['login', 'search']);
    assert.deepEqual(await ids('?status=disabled'), ['report']);
    assert.deepEqual(await ids('?status=checkpoint-down'), []);

    await h.down('branch-fr');
    assert.deepEqual(await ids('?status=checkpoint-down'), ['login']);
    assert.deepEqual(await ids('?status=checkpoint-down,disabled'), ['login', 'report']);
    assert.deepEqual(await ids('?status=ok&checkpoint=intranet-eu'), ['search']);
    const login = (await h.call('GET', '/api/v1/monitors/login')).body;
    assert.deepEqual([login['status'], login['checkpointStatus']], ['checkpoint-down', { 'intranet-eu': 'ok', 'branch-fr': 'checkpoint-down' }]);

    const bad = await h.call('GET', '/api/v1/monitors?status=down');
    assert.equal(bad.status, 400);
    assert.deepEqual([h.error(bad)['code'], h.error(bad)['path']], ['invalid-query', 'status[0]']);
  });

  it('runs now on a chosen checkpoint: 400 for one it does not use, 409 naming the checkpoints without an instance', async (t) => {
    const h = await harness(t, ['intranet-eu', 'dmz-us', 'branch-fr']);
    await h.connect('dmz-us', 'us-a');
    assert.equal((await h.call('PUT', '/api/v1/monitors/login', monitor({ enabled: false, checkpoints: ['intranet-eu', 'dmz-us'] }))).status, 201);

    const there = await h.call('POST', '/api/v1/monitors/login/run?checkpoint=dmz-us');
    assert.equal(there.status, 202, there.text);
    assert.deepEqual([there.body['checkpoint'], there.body['instance'], there.body['reason']], ['dmz-us', 'us-a', 'manual']);
    const anywhere = await h.call('POST', '/api/v1/monitors/login/run');
    assert.deepEqual([anywhere.status, anywhere.body['checkpoint']], [202, 'dmz-us'], 'the first of its checkpoints with a free instance');
    const runs = await h.settle('login');
    assert.deepEqual(runs.map((run) => [run.checkpoint, run.instance, run.status]), [
      ['dmz-us', 'us-a', 'passed'],
      ['dmz-us', 'us-a', 'passed'],
    ]);

    const elsewhere = await h.call('POST', '/api/v1/monitors/login/run?checkpoint=branch-fr');
    assert.equal(elsewhere.status, 400);
    assert.deepEqual([h.error(elsewhere)['code'], h.error(elsewhere)['path']], ['invalid-query', 'checkpoint']);
    assert.match(String(h.error(elsewhere)['message']), /does not run on "branch-fr"; it runs on "intranet-eu", "dmz-us"/);
    const noInstance = await h.call('POST', '/api/v1/monitors/login/run?checkpoint=intranet-eu');
    assert.equal(noInstance.status, 409);
    assert.equal(h.error(noInstance)['code'], 'no-instance');
    assert.match(String(h.error(noInstance)['message']), /"intranet-eu"/);
    assert.equal((await h.call('PUT', '/api/v1/monitors/lonely', monitor({ enabled: false, checkpoints: ['intranet-eu', 'branch-fr'] }))).status, 201);
    const none = await h.call('POST', '/api/v1/monitors/lonely/run');
    assert.equal(none.status, 409);
    assert.match(String(h.error(none)['message']), /"intranet-eu" or "branch-fr"/);
    assert.equal((await h.call('POST', '/api/v1/monitors/nobody/run?checkpoint=dmz-us')).status, 404);
  });

  it('DELETE of a checkpoint keeps the monitors that also run elsewhere, without it, and deletes those that ran only there', async (t) => {
    const h = await harness(t, ['intranet-eu', 'dmz-us', 'branch-fr'], (checkpoint) => (checkpoint === 'dmz-us' ? 'failed' : 'passed'));
    await h.connect('dmz-us', 'us-a');
    assert.equal((await h.call('PUT', '/api/v1/monitors/alerting', monitor({ name: 'Alerting', checkpoint: 'dmz-us', alerting: { afterFailures: 1 } }))).status, 201);
    await h.settle('alerting', (runs) => runs.length > 0);
    assert.equal((await h.call('GET', '/api/v1/monitors/alerting')).body['health'], 'failing');
    assert.equal((await h.call('PUT', '/api/v1/monitors/login', monitor({ enabled: false, checkpoints: ['dmz-us', 'intranet-eu', 'branch-fr'], placement: 'round-robin' }))).status, 201);
    assert.equal((await h.call('PUT', '/api/v1/monitors/pair', monitor({ name: 'Pair', enabled: false, checkpoints: ['intranet-eu', 'dmz-us'] }))).status, 201);
    assert.equal((await h.call('PUT', '/api/v1/monitors/solo', monitor({ name: 'Solo', enabled: false, checkpoint: 'dmz-us' }))).status, 201);

    assert.equal((await h.call('DELETE', '/api/v1/checkpoints/dmz-us')).status, 204);
    const login = (await h.call('GET', '/api/v1/monitors/login')).body;
    assert.deepEqual([login['checkpoint'], login['checkpoints'], login['placement'], login['checkpointStatus']], ['intranet-eu', ['intranet-eu', 'branch-fr'], 'round-robin', { 'intranet-eu': 'ok', 'branch-fr': 'ok' }]);
    const pair = (await h.call('GET', '/api/v1/monitors/pair')).body;
    assert.deepEqual([pair['checkpoint'], pair['checkpoints'], pair['checkpointHealth']], ['intranet-eu', undefined, { 'intranet-eu': 'ok' }], 'down to one: single again');
    assert.equal((await h.call('GET', '/api/v1/monitors/solo')).status, 404);
    await h.cp.alertsSettled();
    const alerts = (await h.call('GET', '/api/v1/alerts?monitor=alerting')).body['alerts'] as { kind: string; checkpoint: string }[];
    assert.deepEqual(alerts.map((alert) => [alert.kind, alert.checkpoint]), [['monitor-resolved', 'dmz-us'], ['monitor-failed', 'dmz-us']], 'deleted with its checkpoint while failing: resolved');
    // What GET shows is still a valid monitor: it can be PUT back unchanged.
    assert.equal((await h.call('PUT', '/api/v1/monitors/login', login)).headers.get('x-checkpoint-outcome'), 'unchanged');
    assert.equal((await h.call('PUT', '/api/v1/monitors/pair', pair)).headers.get('x-checkpoint-outcome'), 'unchanged');
  });

  it('describes the new fields and parameters in the OpenAPI document, which the real answers validate against', async (t) => {
    const h = await harness(t, ['intranet-eu', 'dmz-us']);
    await h.connect('dmz-us', 'us-a');
    const document = (await h.call('GET', '/api/openapi.json')).body;
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats.default(ajv);
    ajv.addSchema({ ...document, $id: 'https://checkpoint.invalid/openapi.json' });
    type Operation = { parameters: { name: string; in: string; schema: Json }[]; responses: Record<string, { content?: Record<string, { schema: { $ref?: string } }> }> };
    const paths = document['paths'] as Record<string, Record<string, Operation>>;
    const schemas = (document['components'] as { schemas: Record<string, { properties?: Record<string, unknown> }> }).schemas;
    for (const field of ['checkpoints', 'placement']) assert.ok(schemas['MonitorInput']?.properties?.[field] !== undefined, `MonitorInput.${field}`);
    for (const field of ['checkpoints', 'placement', 'checkpointHealth']) assert.ok(schemas['Monitor']?.properties?.[field] !== undefined, `Monitor.${field}`);
    for (const field of ['status', 'checkpointStatus']) assert.ok(schemas['MonitorView']?.properties?.[field] !== undefined, `MonitorView.${field}`);
    const names = (path: string, method: string) => paths[path]?.[method]?.parameters.filter((parameter) => parameter.in === 'query').map((parameter) => parameter.name) ?? [];
    assert.ok(names('/api/v1/monitors', 'get').includes('status'));
    assert.deepEqual(names('/api/v1/monitors/{id}/run', 'post'), ['checkpoint']);

    let checked = 0;
    const conforms = async (method: string, url: string, template: string, body?: unknown): Promise<Reply> => {
      const reply = await h.call(method, url, body);
      const response = paths[template]?.[method.toLowerCase()]?.responses[String(reply.status)];
      assert.ok(response !== undefined, `${method} ${template}: status ${reply.status} is described (${reply.text.slice(0, 200)})`);
      const reference = response.content?.['application/json']?.schema.$ref;
      assert.ok(reference !== undefined, `${method} ${template} ${reply.status} has a JSON schema`);
      const check = ajv.getSchema(`https://checkpoint.invalid/openapi.json${reference}`);
      assert.ok(check !== undefined, reference);
      assert.ok(check(reply.body), `${method} ${url} → ${reply.status} does not match ${reference}: ${ajv.errorsText(check.errors)}`);
      checked++;
      return reply;
    };
    await conforms('POST', '/api/v1/monitors', '/api/v1/monitors', monitor({ id: 'login', enabled: false, checkpoints: ['intranet-eu', 'dmz-us'], placement: 'round-robin' }));
    await conforms('POST', '/api/v1/monitors/login/run?checkpoint=dmz-us', '/api/v1/monitors/{id}/run');
    await h.settle('login');
    await conforms('POST', '/api/v1/monitors/login/run?checkpoint=nowhere', '/api/v1/monitors/{id}/run');
    await conforms('POST', '/api/v1/monitors/login/run?checkpoint=intranet-eu', '/api/v1/monitors/{id}/run');
    const one = await conforms('GET', '/api/v1/monitors/login', '/api/v1/monitors/{id}');
    assert.equal((one.body['lastRun'] as RunRecord | undefined)?.checkpoint, 'dmz-us');
    await conforms('PUT', '/api/v1/monitors/login', '/api/v1/monitors/{id}', one.body);
    await conforms('PUT', '/api/v1/monitors/login?dryRun=true', '/api/v1/monitors/{id}', monitor({ checkpoints: ['dmz-us', 'intranet-eu'] }));
    await conforms('PATCH', '/api/v1/monitors/login', '/api/v1/monitors/{id}', { checkpoints: ['dmz-us', 'intranet-eu'], placement: 'all' });
    await conforms('PATCH', '/api/v1/monitors/login', '/api/v1/monitors/{id}', { checkpoints: ['dmz-us', 'dmz-us'] });
    await conforms('GET', '/api/v1/monitors?status=ok,disabled,checkpoint-down&checkpoint=intranet-eu', '/api/v1/monitors');
    await conforms('GET', '/api/v1/monitors/login/runs', '/api/v1/monitors/{id}/runs');
    assert.equal(checked, 11);
  });
});

describe('monitors on several checkpoints: Prometheus metrics', () => {
  it('gives every per-monitor series per monitor and checkpoint, from that checkpoint`s runs, and a state that says checkpoint-down', async (t) => {
    // intranet-eu sees the site fail, dmz-us sees it work: whatever the scheduler sends where, the runs say so.
    const h = await harness(t, ['intranet-eu', 'dmz-us'], (checkpoint) => (checkpoint === 'intranet-eu' ? 'failed' : 'passed'));
    for (const id of ['eu-a', 'eu-b']) await h.connect('intranet-eu', id);
    await h.connect('dmz-us', 'us-a');
    assert.equal((await h.call('PUT', '/api/v1/monitors/login', monitor({ checkpoints: ['intranet-eu', 'dmz-us'] }))).status, 201);
    assert.equal((await h.call('PUT', '/api/v1/monitors/solo', monitor({ name: 'Solo', checkpoint: 'dmz-us' }))).status, 201);
    // The first check fails on intranet-eu and its retry there confirms it.
    await h.settle('login', (runs) => runs.filter((run) => run.checkpoint === 'intranet-eu').length >= 2);
    assert.equal((await h.call('POST', '/api/v1/monitors/login/run?checkpoint=dmz-us')).status, 202);
    const runs = await h.settle('login', (list) => list.some((run) => run.checkpoint === 'dmz-us'));
    await h.settle('solo', (list) => list.length > 0);
    const on = (checkpoint: string) => runs.filter((run) => run.checkpoint === checkpoint);
    assert.ok(on('intranet-eu').length > 0 && on('dmz-us').length > 0, runs.map((run) => `${run.checkpoint}:${run.status}`).join(' '));

    const scrape = async () => {
      const reply = await h.call('GET', '/metrics');
      assert.equal(reply.status, 200);
      const lines = reply.text.split('\n');
      return (metric: string, monitorId: string, checkpoint: string, extra = ''): number | undefined => {
        const name = monitorId === 'solo' ? 'Solo' : 'Login';
        const prefix = `${metric}{monitor_id="${monitorId}",monitor="${name}",checkpoint="${checkpoint}"${extra}} `;
        const line = lines.find((candidate) => candidate.startsWith(prefix));
        return line === undefined ? undefined : Number(line.slice(prefix.length));
      };
    };
    let sample = await scrape();
    assert.equal(sample('checkpoint_monitor_up', 'login', 'intranet-eu'), 0);
    assert.equal(sample('checkpoint_monitor_up', 'login', 'dmz-us'), 1);
    assert.equal(sample('checkpoint_monitor_status', 'login', 'intranet-eu', ',status="failed"'), 1);
    assert.equal(sample('checkpoint_monitor_status', 'login', 'dmz-us', ',status="passed"'), 1);
    assert.equal(sample('checkpoint_monitor_last_duration_seconds', 'login', 'intranet-eu'), 1.1, 'intranet-eu answers in 1.1 s');
    assert.equal(sample('checkpoint_monitor_last_duration_seconds', 'login', 'dmz-us'), 0.6, 'dmz-us in 0.6 s');
    assert.equal(sample('checkpoint_monitor_step_duration_seconds', 'login', 'dmz-us', ',step_index="1",step="Open the intranet"'), 0.6);
    assert.equal(sample('checkpoint_monitor_runs_total', 'login', 'intranet-eu', ',status="failed"'), on('intranet-eu').length);
    assert.equal(sample('checkpoint_monitor_runs_total', 'login', 'dmz-us', ',status="passed"'), on('dmz-us').length);
    assert.equal(sample('checkpoint_monitor_runs_total', 'login', 'dmz-us', ',status="failed"'), undefined, 'no failure was seen from dmz-us');
    assert.equal(sample('checkpoint_monitor_availability_ratio', 'login', 'intranet-eu', ',window="1h"'), 0);
    assert.equal(sample('checkpoint_monitor_availability_ratio', 'login', 'dmz-us', ',window="1h"'), 1);
    // Health and state per checkpoint are what the API says (the scheduler decides them from each checkpoint's runs).
    const shown = async () => (await h.call('GET', '/api/v1/monitors/login')).body as { checkpointHealth: Record<string, string>; checkpointStatus: Record<string, string> };
    let view = await shown();
    for (const checkpoint of ['intranet-eu', 'dmz-us']) {
      for (const health of ['ok', 'warning', 'failing']) assert.equal(sample('checkpoint_monitor_health', 'login', checkpoint, `,health="${health}"`), view.checkpointHealth[checkpoint] === health ? 1 : 0, `${checkpoint} ${health}`);
      assert.equal(sample('checkpoint_monitor_state', 'login', checkpoint, `,state="${view.checkpointStatus[checkpoint] ?? ''}"`), 1, checkpoint);
    }
    assert.equal(sample('checkpoint_monitor_state', 'login', 'dmz-us', ',state="checkpoint-down"'), 0);
    assert.equal(sample('checkpoint_monitor_enabled', 'login', 'dmz-us'), 1);
    // A monitor on one checkpoint: one set of series, labelled as before.
    assert.equal(sample('checkpoint_monitor_up', 'solo', 'dmz-us'), 1);
    assert.equal(sample('checkpoint_monitor_state', 'solo', 'dmz-us', ',state="ok"'), 1);
    assert.equal(sample('checkpoint_monitor_up', 'solo', 'intranet-eu'), undefined);

    await h.down('dmz-us');
    sample = await scrape();
    for (const [monitorId, state] of [
      ['login', 'checkpoint-down'],
      ['solo', 'checkpoint-down'],
    ] as const) {
      for (const value of ['ok', 'warning', 'failing', 'checkpoint-down', 'disabled']) assert.equal(sample('checkpoint_monitor_state', monitorId, 'dmz-us', `,state="${value}"`), value === state ? 1 : 0, `${monitorId} ${value}`);
    }
    view = await shown();
    assert.notEqual(view.checkpointStatus['intranet-eu'], 'checkpoint-down');
    assert.equal(sample('checkpoint_monitor_state', 'login', 'intranet-eu', `,state="${view.checkpointStatus['intranet-eu'] ?? ''}"`), 1, 'the other checkpoint is not down');
    assert.equal(sample('checkpoint_monitor_up', 'login', 'dmz-us'), 1, 'the last run there passed: up keeps saying so');
    const reply = await h.call('GET', '/metrics');
    assert.ok(reply.text.split('\n').includes('checkpoint_up{checkpoint="dmz-us"} 0'));

    assert.equal((await h.call('PATCH', '/api/v1/monitors/login', { enabled: false })).status, 200);
    sample = await scrape();
    assert.equal(sample('checkpoint_monitor_state', 'login', 'intranet-eu', ',state="disabled"'), 1);
    assert.equal(sample('checkpoint_monitor_state', 'login', 'dmz-us', ',state="disabled"'), 1);
  });

  it('reads the health and the failures in a row of each checkpoint from the store', async (t) => {
    const dataDir = await mkdtemp(join(tmpdir(), 'metrics-checkpoints-'));
    const store = new SqliteStore(dataDir);
    t.after(async () => {
      await store.close();
      await rm(dataDir, { recursive: true, force: true });
    });
    const clock = new FakeClock(Date.parse('2026-12-05T09:00:00.000Z'));
    const now = clock.wallNow().toISOString();
    for (const name of ['intranet-eu', 'dmz-us', 'branch-fr']) await store.createCheckpoint(name, `hash-${name}`, now);
    await store.insertMonitor({ id: 'login', name: 'Login', checkpoint: 'intranet-eu', checkpoints: ['intranet-eu', 'dmz-us', 'branch-fr'], intervalSeconds: 60, enabled: true, script: { ...script, steps: [] } }, now);
    await store.setMonitorHealth('login', 'failing', 'dmz-us');
    await store.setMonitorHealth('login', 'warning', 'branch-fr');
    await store.setMonitorAlertState('login', { consecutiveFailures: 3 }, 'dmz-us');
    await store.setCheckpointHealth('branch-fr', 'down');
    const lines = (await metricsText({ store, clock, instancesOnline: () => Promise.resolve(0) })).split('\n');
    const value = (metric: string, checkpoint: string, extra = '') => lines.find((line) => line.startsWith(`${metric}{monitor_id="login",monitor="Login",checkpoint="${checkpoint}"${extra}} `))?.split(' ')[1];
    assert.deepEqual(
      ['intranet-eu', 'dmz-us', 'branch-fr'].map((checkpoint) => [
        checkpoint,
        ['ok', 'warning', 'failing'].find((health) => value('checkpoint_monitor_health', checkpoint, `,health="${health}"`) === '1'),
        ['ok', 'warning', 'failing', 'checkpoint-down', 'disabled'].find((state) => value('checkpoint_monitor_state', checkpoint, `,state="${state}"`) === '1'),
        value('checkpoint_monitor_consecutive_failures', checkpoint),
        value('checkpoint_monitor_checks', checkpoint, ',window="24h"'),
      ]),
      [
        ['intranet-eu', 'ok', 'ok', '0', '0'],
        ['dmz-us', 'failing', 'failing', '3', '0'],
        ['branch-fr', 'warning', 'checkpoint-down', '0', '0'],
      ],
    );
    assert.ok(lines.includes('checkpoint_up{checkpoint="branch-fr"} 0'));
  });
});
