// End to end, issue "agent and control plane": results survive a control plane that is down for a minute,
// an agent SIGKILLed with unacknowledged results in its outbox, and a SIGTERM in the middle of a run.
// Real `checkpoint control-plane` and `checkpoint agent` processes, each agent behind a recording proxy.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Outbox } from '../../engine/agent/outbox.ts';
import { assertNoProcessLeft, ChromiumWatch } from '../helpers/e2e/leaks.ts';
import { sleep } from '../helpers/e2e/wait.ts';
import { E2eWorld, monitor, slowScript, statusScript } from '../helpers/e2e/world.ts';

const watch = new ChromiumWatch();

after(async () => {
  await assertNoProcessLeft(watch);
});

/** How long the control plane stays down in the outage scenario. */
const outageMs = 60_000;

describe('results on their way from the agents to the control plane', () => {
  it('delivers every result that finished while the control plane was stopped for 60 s, each stored once', { timeout: 240_000 }, async (t) => {
    const world = await E2eWorld.create(t, watch);
    const cp = await world.controlPlane();
    const token = await cp.api.createCheckpoint('intranet');
    const agent = await world.agent({ instanceId: 'keeper', token, concurrency: 3 });
    await agent.waitReady();
    const monitorIds = ['slow-1', 'slow-2', 'slow-3'];
    for (const id of monitorIds) await cp.api.createMonitor(monitor(id, 'intranet', slowScript(world.demo.url, 3_000)));
    const runIds = await world.waitUntil(
      'a run of every monitor to be under way',
      async () => {
        const runs = await Promise.all(monitorIds.map(async (id) => (await cp.api.runs(id)).find((run) => run.status === 'running')));
        return runs.every((run) => run !== undefined) ? runs.map((run) => run.runId) : undefined;
      },
      { timeoutMs: 60_000 },
    );

    const stoppedAt = performance.now();
    const stopped = await cp.stop();
    assert.deepEqual([stopped.code, stopped.forced], [0, false], 'the control plane stopped cleanly on SIGTERM');
    await agent.waitOutboxDepth(3, outageMs - 5_000);
    assert.deepEqual((await agent.readiness()).body, { ready: false, reason: 'not connected to the control plane' });
    await sleep(outageMs - (performance.now() - stoppedAt));
    assert.equal(await agent.metric('checkpoint_outbox_depth'), 3, 'the three results waited in the outbox for the whole outage');

    await cp.start();
    // The agent reconnects on its own backoff (capped at 30 s), then empties its outbox.
    const views = await world.waitUntil(
      'every result after the outage',
      async () => {
        const current = await Promise.all(runIds.map((runId) => cp.api.run(runId)));
        return current.every((view) => view.result !== null) ? current : undefined;
      },
      { timeoutMs: 90_000 },
    );
    for (const [index, view] of views.entries()) {
      assert.ok(view.result !== null);
      assert.equal(view.result.runId, runIds[index]);
      assert.equal(view.result.result.status, 'passed');
      assert.equal(view.run.status, 'passed', `${view.run.runId} settled as dispatched, not written off (late: ${String(view.run.late)})`);
    }
    for (const [index, id] of monitorIds.entries()) {
      assert.deepEqual(
        (await cp.api.runs(id)).map((run) => run.runId),
        [runIds[index]],
        `${id}: its one run, stored once, and not re-run after the restart`,
      );
    }
    await agent.waitOutboxDepth(0);
    const posts = (await world.proxy('keeper')).requests().filter((request) => request.method === 'POST' && request.path === '/api/v1/results');
    for (const runId of runIds) assert.ok(posts.some((post) => post.headers['idempotency-key'] === runId), `${runId} was POSTed`);
  });

  it('delivers, once each, the results an agent held unacknowledged in its outbox when it was SIGKILLed', { timeout: 180_000 }, async (t) => {
    const world = await E2eWorld.create(t, watch);
    const cp = await world.controlPlane();
    const token = await cp.api.createCheckpoint('intranet');
    const agent = await world.agent({ instanceId: 'holder', token, concurrency: 2 });
    await agent.waitReady();
    const monitorIds = ['held-1', 'held-2'];
    for (const id of monitorIds) await cp.api.createMonitor(monitor(id, 'intranet', slowScript(world.demo.url, 2_000)));
    const runIds = await world.waitUntil(
      'a run of every monitor to be under way',
      async () => {
        const runs = await Promise.all(monitorIds.map(async (id) => (await cp.api.runs(id)).find((run) => run.status === 'running')));
        return runs.every((run) => run !== undefined) ? runs.map((run) => run.runId) : undefined;
      },
      { timeoutMs: 60_000 },
    );

    // Nothing can be acknowledged while the control plane is down: the results sit in the outbox.
    assert.equal((await cp.stop()).code, 0);
    await agent.waitOutboxDepth(2);
    const killed = await agent.kill();
    assert.equal(killed.signal, 'SIGKILL');

    await cp.start();
    const back = await world.agent({ instanceId: 'holder', token, concurrency: 2 });
    await back.process.waitForOutput(/\(2 undelivered\)/);
    const views = await world.waitUntil(
      'both results from the restarted agent',
      async () => {
        const current = await Promise.all(runIds.map((runId) => cp.api.run(runId)));
        return current.every((view) => view.result !== null) ? current : undefined;
      },
      { timeoutMs: 60_000 },
    );
    for (const [index, view] of views.entries()) {
      assert.ok(view.result !== null);
      assert.equal(view.result.runId, runIds[index]);
      assert.equal(view.result.result.status, 'passed');
      assert.equal(view.result.instanceId, 'holder');
    }
    for (const [index, id] of monitorIds.entries()) {
      assert.deepEqual(
        (await cp.api.runs(id)).map((run) => run.runId),
        [runIds[index]],
        `${id}: one run, one stored result`,
      );
    }
    await back.waitOutboxDepth(0);
    assert.equal((await back.stop()).code, 0);
  });

  it('on SIGTERM during a run, finishes or aborts it, delivers its result before exiting, and exits 0', { timeout: 120_000 }, async (t) => {
    const world = await E2eWorld.create(t, watch);
    const cp = await world.controlPlane();
    const token = await cp.api.createCheckpoint('intranet');
    const agent = await world.agent({ instanceId: 'leaver', token });
    await agent.waitReady();
    await cp.api.createMonitor(monitor('held', 'intranet', statusScript(world.site.url, 5_000), { enabled: false }));
    const { runId } = await cp.api.runNow('held');
    await world.waitUntil('the run to be under way (started, its page requested)', async () => ((await cp.api.run(runId)).run.status === 'running' && world.site.held > 0 ? true : undefined), {
      timeoutMs: 60_000,
    });

    agent.process.signal('SIGTERM');
    const exit = await agent.process.exited;
    assert.equal(exit.code, 0, agent.tail());

    // Already there when the process is gone: the outbox was flushed before the exit.
    const view = await cp.api.run(runId);
    assert.ok(view.result !== null, `the result was delivered before the agent exited\n${world.details()}`);
    const outcome = view.result.result;
    const code = outcome.error?.code ?? outcome.steps.find((step) => step.error !== undefined)?.error?.code;
    assert.ok(outcome.status === 'passed' || code === 'RUN_ABORTED', `finished or reported aborted, got ${outcome.status} ${code ?? ''}`);
    assert.match(agent.log, /draining \(SIGTERM\)/);
    assert.match(agent.log, /drained: every result delivered/);

    const proxy = await world.proxy('leaver');
    assert.ok(
      proxy.wsJson().some((message) => message['type'] === 'heartbeat' && message['draining'] === true),
      'a heartbeat told the control plane the instance was draining',
    );
    assert.deepEqual(proxy.closeCodes(), [1000], 'the agent closed its WebSocket cleanly');
    const outbox = await Outbox.open({ dataDir: world.dataDirOf('leaver') });
    try {
      assert.equal(outbox.stats().depth, 0, 'nothing was left in the outbox');
    } finally {
      outbox.close();
    }
  });

  it(
    'after a control-plane restart, neither writes off nor re-runs a run whose agent is back later than three heartbeat intervals',
    {
      timeout: 120_000,
    },
    async (t) => {
      const world = await E2eWorld.create(t, watch);
      const cp = await world.controlPlane({ heartbeatIntervalMs: 1_000 });
      const token = await cp.api.createCheckpoint('intranet');
      const agent = await world.agent({ instanceId: 'patient', token });
      await agent.waitReady();
      await cp.api.createMonitor(monitor('patient-slow', 'intranet', slowScript(world.demo.url, 2_000)));
      const running = await world.waitUntil('the run to be under way', async () => (await cp.api.runs('patient-slow')).find((run) => run.status === 'running'), { timeoutMs: 60_000 });
      assert.equal((await cp.stop()).code, 0);
      await agent.waitOutboxDepth(1);

      // The agent's next reconnect attempt comes 5 s after the restart (its backoff alone can put it up to 30 s later).
      const proxy = await world.proxy('patient');
      proxy.block();
      await cp.start();
      await sleep(5_000);
      proxy.unblock();

      const view = await world.waitUntil(
        'the result after the restart',
        async () => {
          const current = await cp.api.run(running.runId);
          return current.result === null ? undefined : current;
        },
        { timeoutMs: 60_000 },
      );
      await agent.waitOutboxDepth(0);
      assert.deepEqual(
        { status: view.run.status, late: view.run.late, lostReason: view.run.lostReason },
        { status: 'passed', late: false, lostReason: undefined },
        'the run the agent finished is settled by its result, not written off as lost',
      );
      assert.deepEqual(
        (await cp.api.runs('patient-slow')).map((run) => `${run.reason}/${run.status}`),
        ['schedule/passed'],
        'and not run a second time',
      );
    },
  );
});
