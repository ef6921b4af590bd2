// End to end, issue "agent and control plane": a refused credential, checkpoint down and up, and the privacy
// lock checked on every byte an agent sent. Real `checkpoint control-plane` and `checkpoint agent` processes,
// each agent behind a recording proxy that decodes its HTTP requests and (unmasked) WebSocket frames.
import assert from 'node:assert/strict';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { findImageEvidence } from '../helpers/e2e/images.ts';
import { assertNoProcessLeft, ChromiumWatch } from '../helpers/e2e/leaks.ts';
import { sleep } from '../helpers/e2e/wait.ts';
import { E2eWorld, loginScript, monitor } from '../helpers/e2e/world.ts';

const watch = new ChromiumWatch();

after(async () => {
  await assertNoProcessLeft(watch);
});

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

describe('credentials, liveness and privacy between the agents and the control plane', () => {
  it('keeps a real agent working through a token rotation, cuts it off when the token is revoked, and keeps its data files private', { timeout: 90_000 }, async (t) => {
    const world = await E2eWorld.create(t, watch);
    const cp = await world.controlPlane();
    const token = await cp.api.createCheckpoint('intranet');
    const agent = await world.agent({ instanceId: 'east', token });
    await agent.waitReady();
    assert.equal((await world.waitOnline('intranet', 1)).online, 1);

    const rotated = await cp.api.call<{ token: string; previousTokenValidUntil: string }>('POST', '/api/v1/checkpoints/intranet/token', { graceSeconds: 600 });
    assert.equal(rotated.status, 200);
    assert.notEqual(rotated.body.token, token);
    // The old token stays good during the grace period: the link is not touched.
    await sleep(1_500);
    assert.equal((await cp.api.checkpoint('intranet')).online, 1);
    assert.deepEqual((await agent.readiness()).status, 200);

    const revoked = await cp.api.call<{ disconnected: string[] }>('DELETE', '/api/v1/checkpoints/intranet/token');
    assert.deepEqual(revoked.body.disconnected, ['east']);
    await agent.process.waitForOutput(/credential rejected by the control plane \(HTTP 401\); not retrying/);
    assert.deepEqual(await agent.readiness(), { status: 503, body: { ready: false, reason: 'credential rejected' } });
    assert.equal((await cp.api.checkpoint('intranet')).online, 0);

    const mode = async (path: string) => (await stat(path)).mode & 0o777;
    assert.equal(await mode(cp.options.dataDir), 0o700);
    assert.equal(await mode(join(cp.options.dataDir, 'control-plane.db')), 0o600);
    assert.equal((await agent.stop()).code, 0);
  });


  it('refuses a wrong token, which the agent does not retry, and /readyz answers 503', { timeout: 90_000 }, async (t) => {
    const world = await E2eWorld.create(t, watch);
    const cp = await world.controlPlane();
    await cp.api.createCheckpoint('intranet');
    const agent = await world.agent({ instanceId: 'intruder', token: 'cpt-this-is-not-the-token' });
    await agent.process.waitForOutput(/credential rejected by the control plane \(HTTP 401\); not retrying/);
    assert.deepEqual(await agent.readiness(), { status: 503, body: { ready: false, reason: 'credential rejected' } });

    // The reconnect backoff starts below 0.5 s and doubles: a retry would have happened several times in 5 s.
    await sleep(5_000);
    const proxy = await world.proxy('intruder');
    const upgrades = proxy.upgrades();
    assert.equal(upgrades.length, 1, 'exactly one upgrade attempt');
    assert.equal(upgrades[0]?.upgradeStatus, 401);
    assert.deepEqual(
      proxy.requests().map((request) => `${request.method} ${request.path}`),
      ['GET /api/v1/agent'],
      'and nothing else was sent',
    );
    assert.equal(cp.count(/hub: refused a connection .*bad or missing token/), 1, 'the control plane saw one attempt');
    assert.deepEqual(await agent.readiness(), { status: 503, body: { ready: false, reason: 'credential rejected' } });
    assert.equal((await cp.api.checkpoint('intranet')).instances.length, 0, 'the instance never registered');
    assert.equal((await agent.stop()).code, 0);
  });

  it('raises checkpoint-down when both instances are gone and checkpoint-up when one comes back', { timeout: 120_000 }, async (t) => {
    const world = await E2eWorld.create(t, watch);
    const cp = await world.controlPlane({ checkpointDownAfterMs: 1_500 });
    const token = await cp.api.createCheckpoint('intranet');
    const agents = await Promise.all(['east', 'west'].map((instanceId) => world.agent({ instanceId, token })));
    await Promise.all(agents.map((agent) => agent.waitReady()));
    assert.equal((await world.waitOnline('intranet', 2)).health, 'up');

    const exits = await Promise.all(agents.map((agent) => agent.stop()));
    assert.deepEqual(
      exits.map((exit) => exit.code),
      [0, 0],
    );
    const down = await world.waitUntil('the checkpoint-down alert', async () => (await cp.api.alerts()).find((alert) => alert.kind === 'checkpoint-down' && alert.checkpoint === 'intranet'), {
      timeoutMs: 30_000,
    });
    assert.match(down.message, /no instance connected/);
    const offline = await cp.api.checkpoint('intranet');
    assert.deepEqual([offline.health, offline.online], ['down', 0]);

    const back = await world.agent({ instanceId: 'east', token });
    await back.waitReady();
    const up = await world.waitUntil('the checkpoint-up alert', async () => (await cp.api.alerts()).find((alert) => alert.kind === 'checkpoint-up' && alert.checkpoint === 'intranet'), {
      timeoutMs: 30_000,
    });
    assert.match(up.message, /east/);
    const online = await world.waitOnline('intranet', 1);
    assert.equal(online.health, 'up');
    assert.deepEqual(
      (await cp.api.alerts()).filter((alert) => alert.checkpoint === 'intranet').map((alert) => alert.kind),
      ['checkpoint-up', 'checkpoint-down'],
      'one down, then one up (newest first)',
    );
  });

  it('with the privacy lock on, sends no image in any byte, HTTP or WebSocket, though the monitor asks for every screenshot and a filmstrip', { timeout: 150_000 }, async (t) => {
    const world = await E2eWorld.create(t, watch);
    const cp = await world.controlPlane();
    // The same monitor on a second checkpoint whose agent has no lock shows the scan does see images on this path.
    const lockedToken = await cp.api.createCheckpoint('private');
    const openToken = await cp.api.createCheckpoint('open');
    const [locked, open] = await Promise.all([world.agent({ instanceId: 'locked', token: lockedToken, privacyLock: true }), world.agent({ instanceId: 'unlocked', token: openToken })]);
    await Promise.all([locked.waitReady(), open.waitReady()]);
    assert.match(locked.log, /privacy lock ON/);
    const capture = { screenshots: 'all' as const, filmstrip: true };
    await cp.api.createMonitor(monitor('private-login', 'private', loginScript(world.demo.url), { enabled: false, capture }));
    await cp.api.createMonitor(monitor('open-login', 'open', loginScript(world.demo.url), { enabled: false, capture }));

    const runs = await Promise.all([cp.api.runNow('private-login'), cp.api.runNow('open-login')]);
    const [lockedView, openView] = await world.waitUntil(
      'both results',
      async () => {
        const views = await Promise.all(runs.map((run) => cp.api.run(run.runId)));
        return views.every((view) => view.result !== null) ? views : undefined;
      },
      { timeoutMs: 90_000 },
    );
    assert.ok(lockedView?.result && openView?.result);
    assert.equal(lockedView.result.result.status, 'passed', JSON.stringify(lockedView.result.result.steps.map((step) => step.error ?? step.status)));
    assert.equal(lockedView.result.result.privacyLock, true);
    assert.deepEqual(lockedView.result.artifacts.filter((artifact) => artifact.contentType.startsWith('image/')), [], 'no image artifact');
    assert.deepEqual(
      lockedView.result.result.steps.map((step) => [step.screenshot, step.filmstrip]),
      lockedView.result.result.steps.map(() => [undefined, undefined]),
      'no step has a screenshot or a filmstrip',
    );
    assert.ok(openView.result.artifacts.some((artifact) => artifact.contentType.startsWith('image/')), 'the unlocked agent did capture images');

    await Promise.all([locked.stop(), open.stop()]);
    const lockedProxy = await world.proxy('locked');
    const openProxy = await world.proxy('unlocked');
    const sent = (proxy: typeof lockedProxy) => [
      ...proxy.agentChunks().map((bytes, index) => ({ label: `TCP connection ${index + 1}`, bytes })),
      ...proxy.wsMessages().map((message, index) => ({ label: `WebSocket message ${index + 1} (connection ${message.connection})`, bytes: message.payload })),
    ];
    assert.ok(
      lockedProxy.wsJson().some((message) => message['type'] === 'hello' && message['privacyLock'] === true),
      'the WebSocket frames were unmasked and read (the hello announces the lock)',
    );
    assert.ok(
      lockedProxy.requests().some((request) => request.method === 'POST' && request.path === '/api/v1/results'),
      'the locked agent sent its result through the proxy',
    );
    assert.deepEqual(findImageEvidence(sent(lockedProxy)), [], 'no PNG, JPEG or WebP, raw or base64, in any byte the locked agent sent');
    assert.notDeepEqual(findImageEvidence(sent(openProxy)), [], 'the same scan finds the unlocked agent`s screenshots');

    const outboxFiles = await filesUnder(world.dataDirOf('locked'));
    const onDisk = await Promise.all(outboxFiles.map(async (file) => ({ label: file, bytes: await readFile(file) })));
    assert.deepEqual(findImageEvidence(onDisk), [], 'and none in the locked agent`s data directory');
  });
});
