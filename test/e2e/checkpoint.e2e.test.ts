// End to end, issue "agent and control plane": the control plane and the checkpoint agents run as real
// processes (`checkpoint control-plane`, `checkpoint agent`), each agent behind a recording TCP proxy; the
// monitored sites run in this process. Runs, retries on the other instance, alerts, an agent SIGKILLed or
// frozen (SIGSTOP) mid-run.
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { RunRecord } from '../../control-plane/store.ts';
import { findImageSignatures } from '../helpers/fake-control-plane.ts';
import { assertNoProcessLeft, ChromiumWatch } from '../helpers/e2e/leaks.ts';
import { E2eWorld, loginScript, monitor, statusScript } from '../helpers/e2e/world.ts';

const watch = new ChromiumWatch();

after(async () => {
  await assertNoProcessLeft(watch);
});

/** A monitor's runs in the order they were dispatched. */
function inDispatchOrder(runs: readonly RunRecord[]): RunRecord[] {
  return [...runs].sort((a, b) => a.dispatchedAt.localeCompare(b.dispatchedAt) || a.attempt - b.attempt);
}

describe('checkpoint agents and the control plane as processes', () => {
  it('stores a run the control plane commanded as a result whose artifacts can be fetched by SHA-256', { timeout: 120_000 }, async (t) => {
    const world = await E2eWorld.create(t, watch);
    const cp = await world.controlPlane();
    const token = await cp.api.createCheckpoint('intranet');
    const agent = await world.agent({ instanceId: 'solo', token });
    await agent.waitReady();
    await cp.api.createMonitor(monitor('login', 'intranet', loginScript(world.demo.url), { enabled: false, capture: { screenshots: 'all', har: true } }));

    const { runId, instance } = await cp.api.runNow('login');
    assert.equal(instance, 'solo');
    const view = await world.waitUntil(
      'the manual run to be stored',
      async () => {
        const current = await cp.api.run(runId);
        return current.result === null ? undefined : current;
      },
      { timeoutMs: 90_000 },
    );

    assert.ok(view.result !== null);
    assert.equal(view.result.result.status, 'passed', JSON.stringify(view.result.result.steps.map((step) => step.error ?? step.status)));
    assert.equal(view.run.status, 'passed');
    assert.equal(view.run.reason, 'manual');
    assert.equal(view.run.instance, 'solo');
    assert.equal(view.result.runId, runId);
    assert.equal(view.result.instanceId, 'solo');
    assert.equal(view.result.result.checkpoint?.name, 'intranet');
    assert.equal(view.duplicates, 0);
    assert.deepEqual(
      (await cp.api.runs('login')).map((run) => run.runId),
      [runId],
      'one run, the commanded one',
    );

    const artifacts = view.result.artifacts;
    assert.ok(artifacts.some((artifact) => artifact.contentType.startsWith('image/')), `screenshots: all produced images: ${JSON.stringify(artifacts)}`);
    assert.ok(artifacts.some((artifact) => /har/i.test(artifact.path)), `a HAR was kept: ${JSON.stringify(artifacts.map((a) => a.path))}`);
    for (const artifact of artifacts) {
      const fetched = await cp.api.artifact(artifact.sha256);
      assert.equal(fetched.status, 200, `${artifact.path} is served`);
      assert.equal(fetched.sha256, artifact.sha256, `${artifact.path}: the bytes served hash to the SHA-256 in the result`);
      assert.equal(fetched.bytes.byteLength, artifact.sizeBytes);
      if (artifact.contentType.startsWith('image/')) {
        assert.equal(fetched.contentType, artifact.contentType);
        assert.notDeepEqual(findImageSignatures([fetched.bytes]), [], `${artifact.path} is an image`);
      }
    }
    // What the agent sent: every artifact before the result, the result keyed by its run id.
    const requests = (await world.proxy('solo')).requests();
    const post = requests.findIndex((request) => request.method === 'POST' && request.path === '/api/v1/results');
    assert.ok(post >= 0, 'the result was POSTed');
    assert.equal(requests[post]?.headers['idempotency-key'], runId);
    for (const artifact of artifacts) {
      const put = requests.findIndex((request) => request.method === 'PUT' && request.path === `/api/v1/artifacts/${artifact.sha256}`);
      assert.ok(put >= 0 && put < post, `${artifact.path} was uploaded before the result`);
    }
  });

  it('retries a failing monitor on the other instance, alerts once, and raises one recovery notice when it passes again', { timeout: 150_000 }, async (t) => {
    const world = await E2eWorld.create(t, watch);
    const cp = await world.controlPlane();
    const token = await cp.api.createCheckpoint('intranet');
    const agents = await Promise.all(['left', 'right'].map((instanceId) => world.agent({ instanceId, token })));
    await Promise.all(agents.map((agent) => agent.waitReady()));
    await world.waitOnline('intranet', 2);

    world.site.healthy = false;
    await cp.api.createMonitor(monitor('status', 'intranet', statusScript(world.site.url)));
    const failed = await world.waitUntil(
      'the monitor-failed alert',
      async () => {
        const alerts = await cp.api.alerts();
        return alerts.find((alert) => alert.kind === 'monitor-failed' && alert.monitorId === 'status');
      },
      { timeoutMs: 90_000 },
    );
    const [first, second, ...more] = inDispatchOrder(await cp.api.runs('status'));
    assert.ok(first !== undefined && second !== undefined, 'two runs');
    assert.deepEqual(more, [], 'no third run');
    assert.deepEqual([first.attempt, first.reason, first.status], [1, 'schedule', 'failed']);
    assert.deepEqual([second.attempt, second.reason, second.status], [2, 'retry', 'failed']);
    assert.notEqual(second.instance, first.instance, 'the confirmation ran on the other instance');
    assert.equal(failed.runId, second.runId, 'the alert names the confirming run');

    world.site.healthy = true;
    const recovery = await cp.api.runNow('status');
    const recovered = await world.waitUntil(
      'the monitor-recovered alert',
      async () => (await cp.api.alerts()).find((alert) => alert.kind === 'monitor-recovered' && alert.monitorId === 'status'),
      { timeoutMs: 60_000 },
    );
    assert.equal(recovered.runId, recovery.runId);
    // A second pass must not announce the recovery again.
    const again = await cp.api.runNow('status');
    await world.waitUntil('the second passing run to be stored', async () => ((await cp.api.run(again.runId)).result === null ? undefined : true), { timeoutMs: 60_000 });

    const alerts = (await cp.api.alerts()).filter((alert) => alert.monitorId === 'status');
    assert.deepEqual(alerts.map((alert) => alert.kind).sort(), ['monitor-failed', 'monitor-recovered'], 'one failure alert and one recovery notice');
    const runs = await cp.api.runs('status');
    assert.deepEqual(
      inDispatchOrder(runs).map((run) => `${run.reason}/${run.attempt}/${run.status}`),
      ['schedule/1/failed', 'retry/2/failed', 'manual/1/passed', 'manual/1/passed'],
    );
    assert.equal(cp.count(/ALERT monitor-failed/), 1, 'one monitor-failed line in the control-plane log');
    assert.equal(cp.count(/ALERT monitor-recovered/), 1, 'one monitor-recovered line in the control-plane log');
  });

  it('re-dispatches the run of an agent SIGKILLed mid-run to the other instance, keeps its result and alerts once', { timeout: 150_000 }, async (t) => {
    const world = await E2eWorld.create(t, watch);
    const cp = await world.controlPlane();
    const token = await cp.api.createCheckpoint('intranet');
    const agents = await Promise.all(['north', 'south'].map((instanceId) => world.agent({ instanceId, token })));
    await Promise.all(agents.map((agent) => agent.waitReady()));
    await world.waitOnline('intranet', 2);

    // The page is held 8 s: long enough to kill the agent while its browser waits for it.
    world.site.healthy = false;
    await cp.api.createMonitor(monitor('slow-status', 'intranet', statusScript(world.site.url, 8_000)));
    const running = await world.waitUntil(
      'the run to be under way (started, its page requested)',
      async () => {
        const run = (await cp.api.runs('slow-status')).find((candidate) => candidate.status === 'running');
        return run !== undefined && world.site.held > 0 ? run : undefined;
      },
      { timeoutMs: 60_000 },
    );
    const victim = world.agentNamed(running.instance ?? '');
    const survivor = agents.find((agent) => agent !== victim);
    assert.ok(survivor !== undefined);
    world.site.delays = false;
    const killed = await victim.kill();
    assert.equal(killed.signal, 'SIGKILL');

    await world.waitUntil('the monitor-failed alert', async () => (await cp.api.alerts()).find((alert) => alert.kind === 'monitor-failed' && alert.monitorId === 'slow-status'), {
      timeoutMs: 90_000,
    });
    const runs = inDispatchOrder(await cp.api.runs('slow-status'));
    const lost = runs.find((run) => run.runId === running.runId);
    assert.equal(lost?.status, 'lost', 'the killed instance`s run was written off');
    assert.match(lost.lostReason ?? '', /went away/);
    assert.equal((await cp.api.run(running.runId)).result, null, 'the killed run has no result (it never finished)');
    const redispatched = runs.find((run) => run.reason === 'redispatch');
    assert.ok(redispatched !== undefined, `the run was re-dispatched: ${JSON.stringify(runs)}`);
    assert.equal(redispatched.instance, survivor.instanceId, 'on the other instance');
    assert.equal(redispatched.attempt, 1, 'as the same attempt');
    assert.equal(redispatched.status, 'failed');
    const redispatchedResult = await cp.api.run(redispatched.runId);
    assert.equal(redispatchedResult.result?.result.status, 'failed', 'its result was stored');
    assert.deepEqual(
      runs.map((run) => `${run.reason}/${run.attempt}/${run.status}`),
      ['schedule/1/lost', 'redispatch/1/failed', 'retry/2/failed'],
    );

    // The killed instance comes back with its data directory: nothing was left in its outbox, nothing is re-alerted.
    const back = await world.agent({ instanceId: victim.instanceId, token });
    await back.waitReady();
    await back.process.waitForOutput(/\(0 undelivered\)/);
    await world.waitOnline('intranet', 2);
    const alerts = (await cp.api.alerts()).filter((alert) => alert.monitorId === 'slow-status');
    assert.deepEqual(alerts.map((alert) => alert.kind), ['monitor-failed'], 'exactly one alert');
    assert.equal((await cp.api.runs('slow-status')).length, 3, 'no further run');
  });

  it('re-dispatches the run of a frozen agent once its link is declared dead, and records its late result without alerting again', { timeout: 150_000 }, async (t) => {
    const world = await E2eWorld.create(t, watch);
    // A link silent for 3 heartbeat intervals (3 s here) is dropped by the control plane.
    const cp = await world.controlPlane({ heartbeatIntervalMs: 1_000 });
    const token = await cp.api.createCheckpoint('intranet');
    const agents = await Promise.all(['frozen', 'awake'].map((instanceId) => world.agent({ instanceId, token })));
    await Promise.all(agents.map((agent) => agent.waitReady()));
    await world.waitOnline('intranet', 2);

    world.site.healthy = false;
    await cp.api.createMonitor(monitor('slow-status', 'intranet', statusScript(world.site.url, 3_000)));
    const running = await world.waitUntil(
      'the run to be under way (started, its page requested)',
      async () => {
        const run = (await cp.api.runs('slow-status')).find((candidate) => candidate.status === 'running');
        return run !== undefined && world.site.held > 0 ? run : undefined;
      },
      { timeoutMs: 60_000 },
    );
    const victim = world.agentNamed(running.instance ?? '');
    world.site.delays = false;
    victim.process.signal('SIGSTOP');
    try {
      await world.waitUntil('the monitor-failed alert', async () => (await cp.api.alerts()).find((alert) => alert.kind === 'monitor-failed' && alert.monitorId === 'slow-status'), {
        timeoutMs: 90_000,
      });
    } finally {
      victim.process.signal('SIGCONT');
    }
    const lost = (await cp.api.run(running.runId)).run;
    assert.equal(lost.status, 'lost');
    assert.match(lost.lostReason ?? '', /went away/);

    // Thawed, the agent finishes its run, reconnects and delivers the result: stored as late, not alerted on.
    const late = await world.waitUntil(
      'the frozen agent`s late result',
      async () => {
        const view = await cp.api.run(running.runId);
        return view.result === null ? undefined : view;
      },
      { timeoutMs: 60_000 },
    );
    assert.equal(late.run.late, true);
    assert.equal(late.result?.instanceId, victim.instanceId);
    assert.equal(late.result.result.status, 'failed');
    assert.match(cp.log, new RegExp(`late result for run ${running.runId}`));
    await victim.waitOutboxDepth(0);
    const alerts = (await cp.api.alerts()).filter((alert) => alert.monitorId === 'slow-status');
    assert.deepEqual(alerts.map((alert) => alert.kind), ['monitor-failed'], 'exactly one alert');
    assert.deepEqual(
      inDispatchOrder(await cp.api.runs('slow-status')).map((run) => `${run.reason}/${run.attempt}/${run.status}`),
      ['schedule/1/lost', 'redispatch/1/failed', 'retry/2/failed'],
    );
  });

  it(
    'removes, once restarted after a SIGKILL, the browser profiles and scratch directories its killed run left behind',
    {
      timeout: 90_000,
    },
    async (t) => {
      const world = await E2eWorld.create(t, watch);
      const cp = await world.controlPlane();
      const token = await cp.api.createCheckpoint('intranet');
      const agent = await world.agent({ instanceId: 'phoenix', token });
      await agent.waitReady();
      // A standalone agent keeps its browsers' temporary files under <dataDir>/tmp/<pid>.
      const tmpRoot = join(world.dataDirOf('phoenix'), 'tmp');
      const before = await readdir(tmpRoot);
      assert.equal(before.length, 1, `one folder per live agent process: ${before.join(', ')}`);
      const scratch = await readdir(join(tmpRoot, before[0] ?? ''));
      assert.ok(scratch.some((name) => name.startsWith('checkpoint-browser-')), `the browser's scratch directory is in the agent's own temp folder: ${scratch.join(', ')}`);
      assert.ok(scratch.some((name) => name.startsWith('playwright')), `so is the browser profile: ${scratch.join(', ')}`);
      assert.equal((await agent.kill()).signal, 'SIGKILL');

      const back = await world.agent({ instanceId: 'phoenix', token });
      await back.waitReady();
      const left = (await readdir(tmpRoot)).filter((name) => before.includes(name));
      assert.equal((await back.stop()).code, 0);
      assert.deepEqual(left, [], 'the killed agent`s browser directories are gone once its successor started');
    },
  );
});
