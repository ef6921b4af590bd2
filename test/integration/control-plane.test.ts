import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Locator } from 'playwright-core';
import { PNG } from 'pngjs';
import WebSocket from 'ws';
import { launchBrowser } from '../../engine/browser/launch.ts';
import { controlMessageSchema, type RunCommand } from '../../engine/schema/protocol.ts';
import { runControlPlaneCommand } from '../../control-plane/control-plane-command.ts';
import { startControlPlane } from '../../control-plane/server.ts';
import type { MonitorRecord, RunRecord } from '../../control-plane/store.ts';
import { FakeAgent, FakeClock, sha256, tryUpgrade, type Answer } from '../helpers/fake-agent.ts';
import { adminToken, eventually, harness, instanceOf, monitor, script, type CheckpointBody, type RunBody } from '../helpers/control-plane-harness.ts';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '../..');

describe('control plane: REST API', () => {
  it('creates checkpoints and monitors, and answers invalid input with 400 naming the path', async (t) => {
    const h = await harness(t);
    const created = await h.call<{ token: string }>('POST', '/api/v1/checkpoints', { name: 'intranet-eu' });
    assert.equal(created.status, 201);
    assert.match(created.body.token, /^cpt_[A-Za-z0-9_-]{43}$/);
    assert.equal((await h.call('POST', '/api/v1/checkpoints', { name: 'intranet-eu' })).status, 409);
    const badName = await h.call('POST', '/api/v1/checkpoints', { name: 'no spaces please' });
    assert.equal(badName.status, 400);
    assert.equal(badName.body.error.path, 'name');
    const unknownField = await h.call('POST', '/api/v1/checkpoints', { name: 'x', colour: 'red' });
    assert.equal(unknownField.status, 400);
    assert.match(unknownField.body.error.message, /unknown field "colour"/);
    const notJson = await h.call('POST', '/api/v1/checkpoints', '{ name: ');
    assert.equal(notJson.status, 400);
    assert.equal(notJson.body.error.code, 'invalid-json');

    const checkpoint = await h.call<CheckpointBody>('GET', '/api/v1/checkpoints/intranet-eu');
    assert.equal(checkpoint.status, 200);
    assert.deepEqual(checkpoint.body.instances, []);
    assert.equal(checkpoint.body.token, undefined, 'the token is shown once, at creation');
    assert.equal((await h.call('GET', '/api/v1/checkpoints/nowhere')).status, 404);

    const tooOften = await h.call('POST', '/api/v1/monitors', monitor('Login', 'intranet-eu', { intervalSeconds: 5 }));
    assert.equal(tooOften.status, 400);
    assert.equal(tooOften.body.error.path, 'intervalSeconds');
    const badAction = await h.call('POST', '/api/v1/monitors', {
      ...monitor('Login', 'intranet-eu'),
      script: { name: 'Login', steps: [{ name: 'Open', actions: [{ type: 'navigate' }] }] },
    });
    assert.equal(badAction.status, 400);
    assert.equal(badAction.body.error.path, 'script.steps[0].actions[0].url');
    const unknownCheckpoint = await h.call('POST', '/api/v1/monitors', monitor('Login', 'mars'));
    assert.equal(unknownCheckpoint.status, 400);
    assert.equal(unknownCheckpoint.body.error.path, 'checkpoint');

    const login = await h.call<MonitorRecord>('POST', '/api/v1/monitors', monitor('Login', 'intranet-eu', { id: 'login' }));
    assert.equal(login.status, 201);
    assert.equal(login.body.id, 'login');
    assert.equal(login.body.enabled, true);
    assert.equal((await h.call('POST', '/api/v1/monitors', monitor('Login again', 'intranet-eu', { id: 'login' }))).status, 409);
    const generated = await h.createMonitor(monitor('Search', 'intranet-eu'));
    assert.match(generated.id, /^m-[0-9a-f]{12}$/);

    const updated = await h.call<MonitorRecord>('PUT', '/api/v1/monitors/login', monitor('Login', 'intranet-eu', { intervalSeconds: 300, enabled: false }));
    assert.equal(updated.status, 200);
    assert.equal(updated.body.intervalSeconds, 300);
    assert.equal(updated.body.enabled, false);
    const mismatch = await h.call('PUT', '/api/v1/monitors/login', monitor('Login', 'intranet-eu', { id: 'other' }));
    assert.equal(mismatch.status, 400);
    assert.equal(mismatch.body.error.path, 'id');
    assert.equal((await h.call('PUT', '/api/v1/monitors/nope', monitor('Nope', 'intranet-eu'))).status, 201, 'PUT creates');
    assert.equal((await h.call('DELETE', '/api/v1/monitors/nope')).status, 204);

    const list = await h.call<{ monitors: MonitorRecord[] }>('GET', '/api/v1/monitors');
    assert.deepEqual(
      list.body.monitors.map((m) => m.name),
      ['Login', 'Search'],
    );
    assert.equal((await h.call<MonitorRecord>('GET', '/api/v1/monitors/login')).body.intervalSeconds, 300);
    assert.equal((await h.call('DELETE', '/api/v1/monitors/login')).status, 204);
    assert.equal((await h.call('GET', '/api/v1/monitors/login')).status, 404);
    assert.equal((await h.call('GET', '/api/v1/monitors/login/runs')).status, 404);
    assert.equal((await h.call('GET', '/api/v1/runs/unknown-run')).status, 404);
    assert.equal((await h.call('GET', '/api/v1/alerts?limit=0')).body.error.path, 'limit');
    assert.equal((await h.call('POST', `/api/v1/monitors/${generated.id}/run`)).body.error.code, 'no-instance');
    assert.equal((await h.call('PATCH', '/api/v1/checkpoints/intranet-eu')).status, 405);
  });

  it('requires the admin token for the admin API, and never stores an agent token in clear', async (t) => {
    const h = await harness(t);
    const token = await h.createCheckpoint('intranet-eu');
    const anonymous = await h.call('GET', '/api/v1/checkpoints', undefined, {});
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.body.error.code, 'unauthorized');
    assert.equal((await h.call('GET', '/api/v1/checkpoints', undefined, { Authorization: 'Bearer wrong' })).status, 401);
    assert.equal((await h.call('GET', '/api/v1/checkpoints', undefined, { Authorization: `Bearer ${token}` })).status, 401, 'an agent token is not an admin token');
    const db = new DatabaseSync(join(h.dataDir, 'control-plane.db'), { readOnly: true });
    try {
      const row = db.prepare('SELECT token_hash FROM checkpoints').get() as { token_hash: string };
      assert.match(row.token_hash, /^[0-9a-f]{64}$/);
      assert.notEqual(row.token_hash, token);
    } finally {
      db.close();
    }
  });
});

describe('control plane: agent links', () => {
  it('refuses an agent with a wrong or missing token with a bare 401', async (t) => {
    const h = await harness(t);
    const token = await h.createCheckpoint('intranet-eu');
    assert.equal(await tryUpgrade(h.cp.url, { Authorization: 'Bearer cpt_wrong', 'X-Checkpoint-Instance': 'a' }), 401);
    assert.equal(await tryUpgrade(h.cp.url, { 'X-Checkpoint-Instance': 'a' }), 401);
    assert.equal(await tryUpgrade(h.cp.url, { Authorization: `Bearer ${token}` }), 400, 'the instance header is required');
    assert.equal(await tryUpgrade(h.cp.url, { Authorization: `Bearer ${token}`, 'X-Checkpoint-Instance': 'a' }), 101);
    const post = await h.call('POST', '/api/v1/results', {}, { Authorization: 'Bearer cpt_wrong' });
    assert.equal(post.status, 401);
    assert.equal(post.body.error.message, 'missing or invalid token');
    assert.equal((await h.call('PUT', `/api/v1/artifacts/${'0'.repeat(64)}`, 'x', { Authorization: 'Bearer cpt_wrong' })).status, 401);
  });

  it('welcomes an instance with its checkpoint`s monitors and pushes the full set when they change', async (t) => {
    const h = await harness(t, { heartbeatIntervalMs: 5000 });
    const token = await h.createCheckpoint('intranet-eu');
    await h.createCheckpoint('other');
    await h.createMonitor(monitor('Login', 'intranet-eu', { id: 'login', enabled: false }));
    await h.createMonitor(monitor('Elsewhere', 'other', { id: 'elsewhere' }));
    const agent = await h.agent(token, 'a');
    const welcome = agent.received[0];
    assert.ok(welcome?.type === 'welcome');
    assert.equal(welcome.checkpoint, 'intranet-eu');
    assert.equal(welcome.heartbeatIntervalMs, 5000);
    assert.deepEqual(
      welcome.monitors.map((m) => m.id),
      ['login'],
    );
    await h.createMonitor(monitor('Search', 'intranet-eu', { id: 'search', enabled: false }));
    const pushed = await agent.next('monitors');
    assert.deepEqual(pushed.monitors.map((m) => m.id).sort(), ['login', 'search']);
    await h.call('DELETE', '/api/v1/monitors/login');
    assert.deepEqual(
      (await agent.next('monitors')).monitors.map((m) => m.id),
      ['search'],
    );
    const status = await h.checkpoint('intranet-eu');
    assert.deepEqual(
      status.instances.map((i) => [i.id, i.online, i.version]),
      [['a', true, '0.1.0-test']],
    );
    const drain = await h.call<{ drained: string[] }>('POST', '/api/v1/checkpoints/intranet-eu/drain', { instance: 'a', reason: 'image update' });
    assert.equal(drain.status, 202);
    assert.deepEqual(drain.body.drained, ['a']);
    assert.equal((await agent.next('drain')).reason, 'image update');
    assert.equal((await h.call('POST', '/api/v1/checkpoints/intranet-eu/drain', { instance: 'zz' })).status, 404);
  });

  it('terminates a link that stays silent for three heartbeat intervals and re-dispatches its run', async (t) => {
    const h = await harness(t, { heartbeatIntervalMs: 1000 });
    const token = await h.createCheckpoint('intranet-eu');
    const agents = { a: await h.agent(token, 'a'), b: await h.agent(token, 'b') };
    const { id } = await h.createMonitor(monitor('Login', 'intranet-eu'));
    const first = await instanceOf(h, id, 0);
    const silent = first === 'a' ? agents.a : agents.b;
    const alive = first === 'a' ? agents.b : agents.a;
    const lost = await silent.next('run');
    // Stop reading: no pong, no heartbeat — a dead link that never closed.
    (silent.socket as unknown as { _socket: Socket })._socket.pause();
    h.clock.advance(2500);
    alive.heartbeat();
    await eventually(async () => {
      const { instances } = await h.checkpoint('intranet-eu');
      assert.equal(instances.find((i) => i.id === alive.instanceId)?.lastSeen, h.clock.wallNow().toISOString());
    }, 'heartbeat recorded');
    await h.cp.tick();
    assert.equal((await h.checkpoint('intranet-eu')).online, 2, 'not dead before three intervals');
    h.clock.advance(500);
    await h.cp.tick();
    const again = await alive.next('run');
    assert.equal(again.reason, 'redispatch');
    assert.equal(again.attempt, 1);
    assert.notEqual(again.runId, lost.runId);
    assert.ok(h.logs.some((line) => line.includes(`${silent.instanceId}: no heartbeat for 3000 ms`)));
    const lostRun = (await h.run(lost.runId)).run;
    assert.equal(lostRun.status, 'lost');
  });
});

describe('control plane: dispatch, retry and alerts', () => {
  it('dispatches each run to the least-loaded connected instance', async (t) => {
    const h = await harness(t);
    const token = await h.createCheckpoint('intranet-eu');
    const a = await h.agent(token, 'a', { capacity: 4 });
    const b = await h.agent(token, 'b', { capacity: 4 });
    a.heartbeat(['x1', 'x2', 'x3']);
    b.heartbeat([]);
    await eventually(async () => {
      const { instances } = await h.checkpoint('intranet-eu');
      assert.deepEqual(
        instances.map((i) => [i.id, i.running]),
        [
          ['a', 3],
          ['b', 0],
        ],
      );
    }, 'heartbeats recorded');
    const { id } = await h.createMonitor(monitor('Login', 'intranet-eu'));
    const scheduled = await b.next('run');
    assert.equal(scheduled.reason, 'schedule');
    assert.equal(scheduled.attempt, 1);
    assert.equal(scheduled.monitor.id, id);
    assert.equal(await instanceOf(h, id, 0), 'b');

    a.heartbeat(['x1']);
    b.heartbeat([scheduled.runId, 'y1', 'y2']);
    await eventually(async () => {
      const { instances } = await h.checkpoint('intranet-eu');
      assert.deepEqual(
        instances.map((i) => [i.id, i.running, i.load]),
        [
          ['a', 1, 0.25],
          ['b', 3, 0.75],
        ],
      );
    }, 'new loads recorded');
    const manual = await h.call<{ runId: string; instance: string }>('POST', `/api/v1/monitors/${id}/run`);
    assert.equal(manual.status, 202);
    assert.equal(manual.body.instance, 'a');
    const command = await a.next('run');
    assert.equal(command.reason, 'manual');
    assert.equal(command.runId, manual.body.runId);
    assert.equal(a.unread('run').length + b.unread('run').length, 0);
  });

  it('re-runs a failure at once on the other instance, alerts exactly once, and raises exactly one recovery', async (t) => {
    const h = await harness(t);
    const token = await h.createCheckpoint('intranet-eu');
    let outcome: Answer['status'] = 'failed';
    const autoAnswer = (): Answer => ({ status: outcome, durationMs: 800 });
    const a = await h.agent(token, 'a', { autoAnswer });
    const b = await h.agent(token, 'b', { autoAnswer });
    const settled = async (count: number) => {
      await eventually(async () => {
        await a.answered();
        await b.answered();
        const runs = await h.runs(id);
        assert.equal(runs.length, count);
        assert.ok(runs.every((run) => run.status !== 'dispatched' && run.status !== 'running'));
      }, `${count} runs settled`);
      return h.runs(id);
    };
    const { id } = await h.createMonitor(monitor('Login', 'intranet-eu'));

    let runs = await settled(2);
    const [retry, first] = runs as [RunRecord, RunRecord];
    assert.deepEqual([first.attempt, first.reason, first.status], [1, 'schedule', 'failed']);
    assert.deepEqual([retry.attempt, retry.reason, retry.status], [2, 'retry', 'failed']);
    assert.notEqual(retry.instance, first.instance, 'the retry runs on the other instance');
    let alerts = await h.alerts();
    assert.deepEqual(
      alerts.map((alert) => [alert.kind, alert.monitorId, alert.runId]),
      [['monitor-failed', id, retry.runId]],
    );
    assert.match(alerts[0]?.message ?? '', /Login failed 2 times in a row .*ASSERTION_FAILED/);

    h.clock.advance(60_000);
    await h.cp.tick();
    runs = await settled(4);
    assert.deepEqual(
      runs.slice(0, 2).map((run) => [run.attempt, run.status]),
      [
        [2, 'failed'],
        [1, 'failed'],
      ],
    );
    assert.notEqual(runs[0]?.instance, runs[1]?.instance);
    assert.equal((await h.alerts()).length, 1, 'a monitor that keeps failing does not alert again');

    outcome = 'passed';
    h.clock.advance(60_000);
    await h.cp.tick();
    runs = await settled(5);
    assert.equal(runs[0]?.status, 'passed');
    alerts = await h.alerts();
    assert.deepEqual(
      alerts.map((alert) => alert.kind),
      ['monitor-recovered', 'monitor-failed'],
    );
    h.clock.advance(60_000);
    await h.cp.tick();
    await settled(6);
    assert.equal((await h.alerts()).length, 2, 'passing again raises nothing');
    assert.equal((await h.call<MonitorRecord>('GET', `/api/v1/monitors/${id}`)).body.health, 'ok');
  });

  it('does not alert when the re-run on the other instance passes', async (t) => {
    const h = await harness(t);
    const token = await h.createCheckpoint('intranet-eu');
    const a = await h.agent(token, 'a');
    const b = await h.agent(token, 'b');
    const { id } = await h.createMonitor(monitor('Login', 'intranet-eu'));
    const firstOn = (await instanceOf(h, id, 0)) === 'a' ? a : b;
    const otherOn = firstOn === a ? b : a;
    await firstOn.answer(await firstOn.next('run'), { status: 'failed' });
    const retry = await otherOn.next('run');
    assert.equal(retry.reason, 'retry');
    await otherOn.answer(retry, { status: 'passed' });
    assert.deepEqual(await h.alerts(), []);
  });

  it('stores a result delivered several times exactly once and acknowledges the copies as duplicates', async (t) => {
    const h = await harness(t);
    const token = await h.createCheckpoint('intranet-eu');
    const a = await h.agent(token, 'a');
    const { id } = await h.createMonitor(monitor('Login', 'intranet-eu'));
    const run = await a.next('run');
    const envelope = a.envelope(run, { status: 'passed' });

    const concurrent = await Promise.all([a.postResult(envelope), a.postResult(envelope), a.postResult(envelope)]);
    const again = await a.postResult(envelope);
    const acks = [...concurrent, again].map((reply) => reply.ack?.stored);
    assert.equal(acks.filter((stored) => stored === 'new').length, 1);
    assert.equal(acks.filter((stored) => stored === 'duplicate').length, 3);
    assert.ok([...concurrent, again].every((reply) => reply.status === 200 && reply.ack?.runId === run.runId));

    const stored = await h.run(run.runId);
    assert.equal(stored.duplicates, 3);
    assert.equal(stored.result?.runId, run.runId);
    assert.equal((await h.runs(id)).filter((r) => r.runId === run.runId).length, 1);
    const db = new DatabaseSync(join(h.dataDir, 'control-plane.db'), { readOnly: true });
    try {
      const count = db.prepare('SELECT COUNT(*) AS n FROM results WHERE run_id = ?').get(run.runId) as { n: number };
      assert.equal(count.n, 1);
    } finally {
      db.close();
    }
    assert.deepEqual(await h.alerts(), []);

    const wrongKey = await a.postResult(envelope, 'another-run');
    assert.equal(wrongKey.status, 400);
    assert.equal((wrongKey.body as { error: { path: string } }).error.path, 'runId');
    const withMissingArtifact = { ...a.envelope(run, { status: 'passed' }), artifacts: [{ path: 'x.png', sha256: 'a'.repeat(64), contentType: 'image/png', sizeBytes: 1 }] };
    const missing = await a.postResult(withMissingArtifact);
    assert.equal(missing.status, 409);
    assert.equal((missing.body as { error: { path: string } }).error.path, 'artifacts[0].sha256');
    const invalid = await a.postResult({ ...envelope, result: { ...envelope.result, status: 'maybe' } } as unknown as typeof envelope);
    assert.equal(invalid.status, 400);
    assert.equal((invalid.body as { error: { path: string } }).error.path, 'result.status');
  });

  it('stores artifacts by content hash: verifies the hash, and answers 200 for one already stored', async (t) => {
    const h = await harness(t);
    const token = await h.createCheckpoint('intranet-eu');
    const a = await h.agent(token, 'a');
    const bytes = new TextEncoder().encode('not really a png');
    const head = () => fetch(`${h.cp.url}/api/v1/artifacts/${sha256(bytes)}`, { method: 'HEAD', headers: { Authorization: `Bearer ${token}` } });
    assert.equal((await head()).status, 404, 'an agent asks before uploading');
    assert.equal((await a.putArtifact(bytes)).status, 201);
    assert.equal((await head()).status, 200);
    assert.equal((await a.putArtifact(bytes)).status, 200);
    const wrong = await a.putArtifact(bytes, 'image/png', 'b'.repeat(64));
    assert.equal(wrong.status, 400);
    assert.equal((wrong.body as { error: { code: string } }).error.code, 'hash-mismatch');
    const fetched = await fetch(`${h.cp.url}/api/v1/artifacts/${sha256(bytes)}`, { headers: { Authorization: `Bearer ${adminToken}` } });
    assert.equal(fetched.status, 200);
    assert.equal(await fetched.text(), 'not really a png');
    assert.equal((await fetch(`${h.cp.url}/api/v1/artifacts/${sha256(bytes)}`)).status, 401, 'artifacts are for admins');
  });

  it('re-dispatches the run of a vanished instance to its sibling, and stores its late result without a second alert', async (t) => {
    const h = await harness(t);
    const token = await h.createCheckpoint('intranet-eu');
    const agents = { a: await h.agent(token, 'a'), b: await h.agent(token, 'b') };
    const { id } = await h.createMonitor(monitor('Login', 'intranet-eu'));
    const vanishing = (await instanceOf(h, id, 0)) === 'a' ? agents.a : agents.b;
    const sibling = vanishing === agents.a ? agents.b : agents.a;
    const lostRun = await vanishing.next('run');
    await vanishing.kill();

    const redispatched = await sibling.next('run');
    assert.deepEqual([redispatched.reason, redispatched.attempt], ['redispatch', 1]);
    await sibling.answer(redispatched, { status: 'failed' });
    const retry = await sibling.next('run');
    assert.deepEqual([retry.reason, retry.attempt], ['retry', 2], 'with one instance left, the retry runs on it');
    await sibling.answer(retry, { status: 'failed' });
    assert.deepEqual(
      (await h.alerts()).map((alert) => alert.kind),
      ['monitor-failed'],
    );

    // The vanished instance comes back with the result from its outbox.
    const late = await vanishing.postResult(vanishing.envelope(lostRun, { status: 'failed' }));
    assert.deepEqual(late.ack, { runId: lostRun.runId, stored: 'new' });
    const stored = await h.run(lostRun.runId);
    assert.equal(stored.run.status, 'lost');
    assert.equal(stored.run.late, true);
    assert.equal(stored.run.resultStatus, 'failed');
    assert.equal(stored.result?.runId, lostRun.runId);
    assert.equal((await vanishing.postResult(vanishing.envelope(lostRun, { status: 'failed' }))).ack?.stored, 'duplicate');
    assert.equal((await h.alerts()).length, 1, 'the late failure raises no second alert');
    assert.equal((await h.runs(id)).length, 3, 'and is not re-run');
  });

  it('writes off a run whose lease expired, cancels it, and re-dispatches it to another instance', async (t) => {
    const h = await harness(t, { leaseMarginMs: 1000, heartbeatIntervalMs: 600_000 });
    const token = await h.createCheckpoint('intranet-eu');
    const agents = { a: await h.agent(token, 'a'), b: await h.agent(token, 'b') };
    const { id } = await h.createMonitor({ ...monitor('Login', 'intranet-eu'), script: script('Login', 10_000) });
    const slow = (await instanceOf(h, id, 0)) === 'a' ? agents.a : agents.b;
    const other = slow === agents.a ? agents.b : agents.a;
    const run = await slow.next('run');
    h.clock.advance(10_999);
    await h.cp.tick();
    assert.equal((await h.runs(id)).length, 1, 'still within the lease');
    h.clock.advance(1);
    await h.cp.tick();
    assert.equal((await slow.next('cancel')).runId, run.runId);
    assert.equal((await other.next('run')).reason, 'redispatch');
    assert.equal((await h.run(run.runId)).run.lostReason, 'lease expired');
  });
});

describe('control plane: non-browser checks', () => {
  it('accepts a check monitor and dispatches it against the instance`s check capacity while its browser slots are full', async (t) => {
    const h = await harness(t);
    const token = await h.createCheckpoint('intranet-checks');
    const agent = await h.agent(token, 'a', { capacity: 1, checkCapacity: 4 });
    const browser = await h.createMonitor(monitor('Login', 'intranet-checks'));
    const first = await agent.next('run');
    assert.equal(first.monitor.id, browser.id);
    // The one browser slot is busy; a check still goes out at once, with its script as it was given.
    const http = { kind: 'http', name: 'Status', url: 'http://intranet.example/api/status', assertions: [{ type: 'status', operator: 'equals', value: 200 }] };
    const check = await h.createMonitor({ name: 'Status', checkpoint: 'intranet-checks', intervalSeconds: 60, script: http });
    const dispatched = await agent.next('run');
    assert.equal(dispatched.monitor.id, check.id);
    assert.deepEqual(dispatched.monitor.script, http);
    const bad = await h.call('POST', '/api/v1/monitors', { name: 'Bad', checkpoint: 'intranet-checks', intervalSeconds: 60, script: { kind: 'http', name: 'Bad', url: 'ftp://x' } });
    assert.equal(bad.status, 400);
    assert.match(JSON.stringify(bad.body), /script\.url/);
  });

  it('sends no check to an instance that has no check capacity (an older agent)', async (t) => {
    const h = await harness(t);
    const token = await h.createCheckpoint('old-agents');
    const agent = await h.agent(token, 'old', { capacity: 2 });
    await h.createMonitor({ name: 'Status', checkpoint: 'old-agents', intervalSeconds: 60, script: { kind: 'http', name: 'Status', url: 'http://intranet.example/' } });
    const browser = await h.createMonitor(monitor('Login', 'old-agents'));
    const run = await agent.next('run');
    assert.equal(run.monitor.id, browser.id, 'only the browser monitor reaches the old agent');
    assert.equal(agent.unread('run').length, 0);
  });
});

describe('control plane: command', () => {
  it('runs `checkpoint control-plane` until stopped, loopback-only without an admin token, and exits 2 on bad options', async (t) => {
    const dataDir = await mkdtemp(join(tmpdir(), 'control-plane-command-'));
    t.after(() => rm(dataDir, { recursive: true, force: true }));
    let stdout = '';
    let stderr = '';
    const io = { stdout: (text: string) => void (stdout += text), stderr: (text: string) => void (stderr += text) };
    assert.equal(await runControlPlaneCommand({ tlsCert: 'cert.pem' }, io, Promise.resolve()), 2);
    assert.match(stderr, /--tls-cert and --tls-key go together/);
    assert.equal(await runControlPlaneCommand({ webhook: ['ftp://example'] }, io, Promise.resolve()), 2);
    assert.equal(await runControlPlaneCommand({ heartbeatIntervalMs: 50 }, io, Promise.resolve()), 2);
    assert.match(stderr, /--heartbeat-interval: expected milliseconds from 100 to 600000, got 50/);

    let stop: () => void = () => undefined;
    const stopped = new Promise<void>((resolve) => (stop = resolve));
    const running = runControlPlaneCommand({ port: 0, data: dataDir }, io, stopped);
    await eventually(() => assert.match(stdout, /Control plane at http:\/\/127\.0\.0\.1:\d+\//), 'started');
    const url = /Control plane at (http:\/\/127\.0\.0\.1:\d+)\//.exec(stdout)?.[1] ?? '';
    assert.match(stderr, /no admin token configured: the API and dashboard listen on loopback only/);
    const overview = await fetch(`${url}/`);
    assert.equal(overview.status, 200);
    assert.match(overview.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    assert.equal((await fetch(`${url}/api/v1/checkpoints`)).status, 200, 'a loopback client is the admin');
    stop();
    assert.equal(await running, 0);
    assert.match(stderr, /control plane stopped/);
  });
});

describe('control plane: TLS', () => {
  it('serves the API over HTTPS and the agent link over WSS when given a certificate', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'control-plane-tls-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const certFile = join(dir, 'cert.pem');
    const keyFile = join(dir, 'key.pem');
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyFile, '-out', certFile], { stdio: 'ignore' });
    } catch {
      t.skip('openssl is not available to make a test certificate');
      return;
    }
    const ca = await readFile(certFile);
    const cp = await startControlPlane({ dataDir: join(dir, 'data'), adminToken, tls: { certFile, keyFile }, log: () => undefined, tickIntervalMs: 3_600_000 });
    t.after(() => cp.close());
    assert.match(cp.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const created = await new Promise<{ status: number; body: { token: string } }>((resolve, reject) => {
      const req = httpsRequest(`${cp.url}/api/v1/checkpoints`, { method: 'POST', ca, headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as { token: string } }));
      });
      req.on('error', reject);
      req.end(JSON.stringify({ name: 'intranet-eu' }));
    });
    assert.equal(created.status, 201);
    const socket = new WebSocket(`${cp.url.replace(/^https/, 'wss')}/api/v1/agent`, { ca, headers: { Authorization: `Bearer ${created.body.token}`, 'X-Checkpoint-Instance': 'a' } });
    t.after(() => socket.terminate());
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    socket.send(JSON.stringify({ type: 'hello', protocolVersion: 1, instanceId: 'a', version: '0.1.0-test', capacity: 1, privacyLock: true, startedAt: new Date().toISOString() }));
    const welcome = await new Promise<unknown>((resolve) => socket.once('message', (data: Buffer) => resolve(JSON.parse(data.toString('utf8')))));
    assert.equal(controlMessageSchema.parse(welcome).type, 'welcome');
  });
});

describe('control plane: restart', () => {
  it('keeps runs, results and health across a restart: a result for a run dispatched before it is stored once, and a run whose instance never returns is re-dispatched', async (t) => {
    const dataDir = await mkdtemp(join(tmpdir(), 'control-plane-restart-'));
    t.after(() => rm(dataDir, { recursive: true, force: true }));
    const logs: string[] = [];
    const options = { dataDir, adminToken, log: (line: string) => logs.push(line), tickIntervalMs: 3_600_000, heartbeatIntervalMs: 1000, startupGraceMs: 3000 };
    const before = await startControlPlane({ ...options, clock: new FakeClock() });
    const admin = { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' };
    const created = (await (await fetch(`${before.url}/api/v1/checkpoints`, { method: 'POST', headers: admin, body: JSON.stringify({ name: 'intranet-eu' }) })).json()) as { token: string };
    for (const id of ['login', 'search']) {
      const reply = await fetch(`${before.url}/api/v1/monitors`, { method: 'POST', headers: admin, body: JSON.stringify({ ...monitor(id, 'intranet-eu'), id }) });
      assert.equal(reply.status, 201);
    }
    const a = await FakeAgent.connect({ baseUrl: before.url, token: created.token, instanceId: 'a', capacity: 4 });
    const runs = [await a.next('run'), await a.next('run')];
    const first = await a.answer(runs[0] as RunCommand, { status: 'passed' });
    assert.equal(first.stored, 'new');
    await before.close();
    await a.closed;

    const clock = new FakeClock();
    const after = await startControlPlane({ ...options, clock });
    t.after(() => after.close());
    const b = await FakeAgent.connect({ baseUrl: after.url, token: created.token, instanceId: 'b' });
    t.after(() => b.kill());
    // The instance that had the second run gets the startup grace (3 s here) to come back; it does not.
    clock.advance(2999);
    b.heartbeat();
    await eventually(async () => {
      const status = (await (await fetch(`${after.url}/api/v1/checkpoints/intranet-eu`, { headers: admin })).json()) as CheckpointBody;
      assert.equal(status.instances.find((i) => i.id === 'b')?.lastSeen, clock.wallNow().toISOString());
    }, 'heartbeat of b recorded');
    await after.tick();
    assert.equal(b.unread('run').length, 0);
    clock.advance(1);
    await after.tick();
    const redispatched = await b.next('run');
    assert.deepEqual([redispatched.monitorId, redispatched.reason], [runs[1]?.monitorId, 'redispatch']);

    // Meanwhile the first instance's outbox delivers again (it never saw the ack) and then the late second run.
    a.baseUrl = after.url;
    const again = await a.postResult(a.envelope(runs[0] as RunCommand, { status: 'passed' }));
    assert.equal(again.ack?.stored, 'duplicate');
    const late = await a.postResult(a.envelope(runs[1] as RunCommand, { status: 'passed' }));
    assert.deepEqual(late.ack, { runId: runs[1]?.runId, stored: 'new' });
    const stored = (await (await fetch(`${after.url}/api/v1/runs/${runs[1]?.runId ?? ''}`, { headers: admin })).json()) as RunBody;
    assert.deepEqual([stored.run.status, stored.run.late], ['lost', true]);
    const checkpoint = (await (await fetch(`${after.url}/api/v1/checkpoints/intranet-eu`, { headers: admin })).json()) as CheckpointBody;
    assert.deepEqual(
      checkpoint.instances.map((i) => [i.id, i.online]),
      [
        ['a', false],
        ['b', true],
      ],
    );
  });
});

describe('control plane: checkpoint liveness and webhooks', () => {
  it('raises checkpoint-down once when no instance has been connected for the configured time, and checkpoint-up when one returns', async (t) => {
    const h = await harness(t, { checkpointDownAfterMs: 300 });
    const token = await h.createCheckpoint('intranet-eu');
    const a = await h.agent(token, 'a');
    const b = await h.agent(token, 'b');
    assert.equal((await h.checkpoint('intranet-eu')).health, 'up');
    await a.close();
    await b.kill();
    await eventually(async () => assert.equal((await h.checkpoint('intranet-eu')).online, 0), 'both gone');
    h.clock.advance(299);
    await h.cp.tick();
    assert.deepEqual(await h.alerts(), []);
    h.clock.advance(1);
    await h.cp.tick();
    h.clock.advance(5000);
    await h.cp.tick();
    assert.deepEqual(
      (await h.alerts()).map((alert) => [alert.kind, alert.checkpoint]),
      [['checkpoint-down', 'intranet-eu']],
    );
    assert.equal((await h.checkpoint('intranet-eu')).health, 'down');

    await h.agent(token, 'a');
    await eventually(async () => assert.equal((await h.alerts()).length, 2), 'checkpoint-up raised');
    await h.agent(token, 'b');
    await h.cp.tick();
    assert.deepEqual(
      (await h.alerts()).map((alert) => alert.kind),
      ['checkpoint-up', 'checkpoint-down'],
    );
    assert.equal((await h.checkpoint('intranet-eu')).health, 'up');
  });

  it('POSTs each alert as signed JSON to the webhooks, retrying a failed delivery, and survives a webhook that never answers', async (t) => {
    const received: { body: unknown; contentType: string | undefined; text: string; timestamp: string | undefined; signature: string | undefined }[] = [];
    const hook: Server = createServer((req: IncomingMessage, res) => {
      let text = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (text += chunk));
      req.on('end', () => {
        const header = (name: string) => (typeof req.headers[name] === 'string' ? req.headers[name] : undefined);
        received.push({ body: JSON.parse(text), contentType: req.headers['content-type'], text, timestamp: header('x-checkpoint-timestamp'), signature: header('x-checkpoint-signature') });
        res.writeHead(received.length === 1 ? 503 : 204).end();
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise<void>((resolve) => hook.close(() => resolve())));
    const closed: Server = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/alerts`;
    const deadUrl = `http://127.0.0.1:${closedPort}/nobody-home`;

    const secret = 'webhook-secret-of-the-test';
    const h = await harness(t, { checkpointDownAfterMs: 300, webhooks: [hookUrl, deadUrl], webhookSecret: secret, webhookRetryDelaysMs: [10, 10] });
    const token = await h.createCheckpoint('intranet-eu');
    const a = await h.agent(token, 'a');
    await a.kill();
    await eventually(async () => assert.equal((await h.checkpoint('intranet-eu')).online, 0), 'instance gone');
    h.clock.advance(300);
    await h.cp.tick();
    await h.cp.alertsSettled();

    assert.equal(received.length, 2, 'one failed attempt, one delivery');
    for (const delivery of received) {
      assert.equal(delivery.contentType, 'application/json');
      // A receiver verifies the body with the shared secret (docs/alerting.md): HMAC-SHA256 of "<timestamp>.<body>".
      assert.match(delivery.timestamp ?? '', /^\d+$/);
      assert.equal(delivery.signature, `sha256=${createHmac('sha256', secret).update(`${delivery.timestamp ?? ''}.${delivery.text}`).digest('hex')}`);
      assert.deepEqual(delivery.body, {
        id: 1,
        kind: 'checkpoint-down',
        checkpoint: 'intranet-eu',
        createdAt: h.clock.wallNow().toISOString(),
        message: 'checkpoint intranet-eu has had no instance connected for 300 ms',
      });
    }
    const [alert] = await h.alerts();
    assert.deepEqual(
      alert?.deliveries.map((d) => [d.url, d.delivered, d.attempts]),
      [
        // Records show a webhook's origin only: a chat webhook's secret is in its path.
        [`${new URL(hookUrl).origin}/…`, true, 2],
        [`${new URL(deadUrl).origin}/…`, false, 3],
      ],
    );
    assert.ok(h.logs.some((line) => line.startsWith('ALERT checkpoint-down checkpoint=intranet-eu')));
    assert.ok(h.logs.some((line) => line.includes(`webhook ${new URL(deadUrl).origin}/… did not take alert 1 after 3 attempt(s)`)));
    assert.ok(!JSON.stringify(await h.alerts()).includes('/nobody-home') && !h.logs.some((line) => line.includes('/nobody-home')), 'no webhook path in records or logs');
    assert.equal((await h.call('GET', '/api/v1/checkpoints/intranet-eu')).status, 200, 'still serving');
  });
});

/** A 640×360 PNG that looks like a page: a header bar, a heading and a few content blocks. */
function fakeScreenshot(): Buffer {
  const png = new PNG({ width: 640, height: 360 });
  const paint = (x0: number, y0: number, w: number, h: number, [r, g, b]: [number, number, number]) => {
    for (let y = y0; y < y0 + h; y++) {
      for (let x = x0; x < x0 + w; x++) {
        const i = (y * 640 + x) * 4;
        png.data[i] = r;
        png.data[i + 1] = g;
        png.data[i + 2] = b;
        png.data[i + 3] = 255;
      }
    }
  };
  paint(0, 0, 640, 360, [250, 250, 252]);
  paint(0, 0, 640, 44, [40, 62, 90]);
  paint(24, 70, 260, 22, [60, 64, 72]);
  paint(24, 110, 592, 12, [214, 218, 224]);
  paint(24, 132, 540, 12, [214, 218, 224]);
  paint(24, 170, 280, 150, [236, 239, 243]);
  paint(336, 170, 280, 150, [253, 232, 230]);
  paint(356, 200, 240, 18, [192, 57, 43]);
  return PNG.sync.write(png);
}

describe('control plane: dashboard', () => {
  it('renders the overview, monitor, run and alert pages in Chromium without console errors', async (t) => {
    const interval = 300;
    const cycles = 20;
    const clock = new FakeClock(Date.now() - (cycles + 1) * interval * 1000);
    const h = await harness(t, { clock });
    const eu = await h.createCheckpoint('intranet-eu');
    const branch = await h.createCheckpoint('branch-office');
    await h.createCheckpoint('lab');
    let cycle = 0;
    const shot = fakeScreenshot();
    const autoAnswer = (run: RunCommand): Answer => {
      const wave = Math.sin(cycle / 2.5);
      switch (run.monitorId) {
        case 'intranet-login':
          return { status: 'passed', durationMs: 1250 + 260 * wave + (cycle % 3) * 40 };
        case 'order-search':
          return cycle >= 17 ? { status: 'failed', durationMs: 10_400, screenshot: shot } : { status: 'passed', durationMs: 2300 + 420 * Math.cos(cycle / 3) };
        default:
          return { status: 'passed', durationMs: 640 + 90 * wave };
      }
    };
    const agents = [
      await h.agent(eu, 'cp-eu-1', { capacity: 4, autoAnswer }),
      await h.agent(eu, 'cp-eu-2', { capacity: 4, autoAnswer }),
      await h.agent(branch, 'cp-branch-1', { capacity: 2, autoAnswer }),
    ];
    await h.createMonitor({ ...monitor('Intranet login', 'intranet-eu'), id: 'intranet-login', intervalSeconds: interval });
    await h.createMonitor({ ...monitor('Order search', 'intranet-eu'), id: 'order-search', intervalSeconds: interval });
    await h.createMonitor({ ...monitor('Expense report', 'branch-office'), id: 'expense-report', intervalSeconds: interval });
    await h.createMonitor({ ...monitor('Quarterly reports (SPA)', 'intranet-eu'), id: 'quarterly', intervalSeconds: 3600, enabled: false });
    const settle = () =>
      eventually(async () => {
        for (const agent of agents) await agent.answered();
        for (const id of ['intranet-login', 'order-search', 'expense-report']) {
          const runs = await h.runs(id);
          // The branch office's only instance leaves after cycle 15; its monitor then waits for it.
          assert.ok(id === 'expense-report' ? runs.length >= Math.min(cycle, 16) : runs.length > cycle);
          assert.ok(runs.every((run) => run.status !== 'dispatched' && run.status !== 'running'));
        }
      }, `cycle ${cycle} settled`);
    await settle();
    const heartbeat = async () => {
      const live = agents.filter((agent) => agent.socket.readyState === agent.socket.OPEN);
      for (const agent of live) agent.heartbeat();
      await eventually(async () => {
        const { checkpoints } = (await h.call<{ checkpoints: CheckpointBody[] }>('GET', '/api/v1/checkpoints')).body;
        const seen = new Map(checkpoints.flatMap((c) => c.instances).map((i) => [i.id, i.lastSeen]));
        for (const agent of live) assert.equal(seen.get(agent.instanceId), clock.wallNow().toISOString());
      }, 'heartbeats recorded');
    };
    for (cycle = 1; cycle < cycles; cycle++) {
      clock.advance(interval * 1000);
      await heartbeat();
      await h.cp.tick();
      await settle();
      if (cycle === 15) {
        await agents[2]?.close();
        await agents[2]?.closed;
      }
    }
    clock.advance(120_000);
    await h.cp.tick();
    const alerts = await h.alerts();
    assert.deepEqual(alerts.map((alert) => alert.kind).sort(), ['checkpoint-down', 'monitor-failed']);

    const [failedRun] = await h.runs('order-search');
    assert.equal(failedRun?.status, 'failed');

    const browser = await launchBrowser();
    t.after(() => browser.close());
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(`console ${message.type()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('response', (response) => {
      if (response.status() >= 400) problems.push(`HTTP ${response.status()} for ${response.url()}`);
    });

    await page.goto(`${h.cp.url}/`);
    assert.match(page.url(), /\/login$/, 'without the session cookie the dashboard asks for the token');
    await page.fill('#token', adminToken);
    await Promise.all([page.waitForURL(`${h.cp.url}/`), page.click('button[type=submit]')]);
    assert.equal(new URL(page.url()).pathname, '/');
    assert.equal(await page.title(), 'Overview · Checkpoint control plane');
    assert.equal(await page.locator('table tbody tr', { hasText: 'Order search' }).locator('.pill.failed').count(), 1);
    assert.equal(await page.locator('svg.trend').count(), 3);
    const artifactsDir = join(repoRoot, 'test-artifacts');
    await mkdir(artifactsDir, { recursive: true });
    await page.screenshot({ path: join(artifactsDir, 'dashboard.png'), fullPage: true });

    await page.click('a:text("Order search")');
    await page.waitForURL('**/monitors/order-search');
    assert.ok((await page.locator('tbody tr').count()) >= 20);
    await page.screenshot({ path: join(artifactsDir, 'dashboard-monitor.png'), fullPage: true });

    await page.goto(`${h.cp.url}/runs/${failedRun?.runId ?? ''}`);
    const report = page.frameLocator('iframe.report');
    const iframeCount = await page.locator('iframe.report').count();
    if (iframeCount === 1) {
      await report.locator('body').waitFor();
      assert.ok((await report.locator('body').innerText()).includes('Open the intranet'));
      const image = report.locator('img').first();
      await image.waitFor();
      await assertImageLoaded(image);
    } else {
      // The HTML report renderer is not available: the plain table of steps with the screenshot.
      assert.ok((await page.locator('main').innerText()).includes('Open the intranet'));
      await assertImageLoaded(page.locator('.shots img').first());
    }
    await page.screenshot({ path: join(artifactsDir, 'dashboard-run.png'), fullPage: false });

    await page.goto(`${h.cp.url}/alerts`);
    assert.equal(await page.locator('.alerts li').count(), 2);
    await page.screenshot({ path: join(artifactsDir, 'dashboard-alerts.png'), fullPage: true });
    assert.deepEqual(problems, []);

    // Everything shown is escaped: a monitor name cannot inject markup.
    await h.createMonitor({ ...monitor('<img src=x onerror=alert(1)>', 'lab'), id: 'hostile', enabled: false });
    const htmlText = await (await fetch(`${h.cp.url}/monitors/hostile`, { headers: { Authorization: `Bearer ${adminToken}` } })).text();
    assert.ok(htmlText.includes('&lt;img src=x onerror=alert(1)&gt;'));
    assert.ok(!htmlText.includes('<img src=x'));
  });
});

async function assertImageLoaded(image: Locator): Promise<void> {
  const width = await image.evaluate((element: HTMLImageElement) => (element.complete ? element.naturalWidth : new Promise<number>((resolve) => element.addEventListener('load', () => resolve(element.naturalWidth)))));
  assert.ok(width > 0, 'the screenshot artifact loads through the dashboard session');
}
