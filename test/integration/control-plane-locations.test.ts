import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RunCommand } from '../../engine/schema/protocol.ts';
import type { MonitorView } from '../../control-plane/api-monitors.ts';
import type { RunRecord } from '../../control-plane/store.ts';
import type { Answer, FakeAgent } from '../helpers/fake-agent.ts';
import { eventually, harness, monitor, type Harness } from '../helpers/control-plane-harness.ts';

/** The outcome each checkpoint's agents answer with, changed by the test as it goes. */
type Outcomes = Record<string, Answer['status']>;

/** Checkpoints with `perCheckpoint` agents each, answering every run at once with their checkpoint's outcome. */
async function sites(h: Harness, names: readonly string[], outcomes: Outcomes, perCheckpoint = 1, tokens = new Map<string, string>()): Promise<Map<string, FakeAgent[]>> {
  const agents = new Map<string, FakeAgent[]>();
  for (const name of names) {
    outcomes[name] ??= 'passed';
    const token = await h.createCheckpoint(name);
    tokens.set(name, token);
    const list: FakeAgent[] = [];
    for (let index = 0; index < perCheckpoint; index++) {
      list.push(await h.agent(token, `${name}-${index + 1}`, { autoAnswer: (): Answer => ({ status: outcomes[name] ?? 'passed', durationMs: 300 }) }));
    }
    agents.set(name, list);
  }
  return agents;
}

/** Wait until the monitor has `count` runs, none in flight; newest first. */
async function settled(h: Harness, agents: Map<string, FakeAgent[]>, monitorId: string, count: number): Promise<RunRecord[]> {
  await eventually(async () => {
    for (const list of agents.values()) for (const agent of list) await agent.answered();
    const runs = await h.runs(monitorId);
    assert.equal(runs.length, count, `runs: ${runs.map((run) => `${run.checkpoint}/${run.status}`).join(', ')}`);
    assert.ok(runs.every((run) => run.status !== 'dispatched' && run.status !== 'running'));
  }, `${count} runs of ${monitorId} settled`);
  await h.cp.alertsSettled();
  return h.runs(monitorId);
}

async function nextInterval(h: Harness): Promise<void> {
  h.clock.advance(60_000);
  await h.cp.tick();
}

const view = async (h: Harness, id: string): Promise<MonitorView> => (await h.call<MonitorView>('GET', `/api/v1/monitors/${id}`)).body;

describe('control plane: monitors on several checkpoints', () => {
  it('runs an `all` monitor on every checkpoint each interval, and keeps health, alerts and recovery per checkpoint', async (t) => {
    const h = await harness(t);
    const outcomes: Outcomes = { eu: 'passed', us: 'passed' };
    const agents = await sites(h, ['eu', 'us'], outcomes, 2);
    const { id } = await h.createMonitor(monitor('Login', 'eu', { checkpoint: undefined, checkpoints: ['eu', 'us'] }));

    let runs = await settled(h, agents, id, 2);
    assert.deepEqual(runs.map((run) => run.checkpoint).toSorted(), ['eu', 'us'], 'one run on each checkpoint');
    assert.ok(runs.every((run) => run.reason === 'schedule' && run.instance?.startsWith(`${run.checkpoint}-`) === true), 'each on an instance of its own checkpoint');

    // eu fails; us passes. The failure is confirmed on eu's other instance and alerted for eu only.
    outcomes['eu'] = 'failed';
    await nextInterval(h);
    runs = await settled(h, agents, id, 5);
    const euRuns = runs.slice(0, 3).filter((run) => run.checkpoint === 'eu');
    assert.deepEqual(euRuns.map((run) => [run.attempt, run.reason, run.status]).toSorted(), [
      [1, 'schedule', 'failed'],
      [2, 'retry', 'failed'],
    ]);
    assert.notEqual(euRuns[0]?.instance, euRuns[1]?.instance, 'the retry runs on the other instance of the same checkpoint');
    let alerts = await h.alerts();
    assert.deepEqual(
      alerts.map((alert) => [alert.kind, alert.checkpoint]),
      [['monitor-failed', 'eu']],
    );
    assert.match(alerts[0]?.message ?? '', /Login failed 2 times in a row from eu \(last on eu-\d\)/);
    let monitorNow = await view(h, id);
    assert.deepEqual([monitorNow.health, monitorNow.status, monitorNow.checkpointHealth, monitorNow.checkpointStatus], [
      'failing',
      'failing',
      { eu: 'failing', us: 'ok' },
      { eu: 'failing', us: 'ok' },
    ]);

    // us keeps passing: that is no recovery of eu. eu passing again is.
    await nextInterval(h);
    await settled(h, agents, id, 8);
    assert.equal((await h.alerts()).length, 1, 'a pass from us does not recover the failure seen from eu');
    outcomes['eu'] = 'passed';
    await nextInterval(h);
    await settled(h, agents, id, 10);
    alerts = await h.alerts();
    assert.deepEqual(
      alerts.map((alert) => [alert.kind, alert.checkpoint]),
      [
        ['monitor-recovered', 'eu'],
        ['monitor-failed', 'eu'],
      ],
    );
    monitorNow = await view(h, id);
    assert.deepEqual([monitorNow.health, monitorNow.checkpointHealth], ['ok', { eu: 'ok', us: 'ok' }]);

    // Run now on a chosen checkpoint.
    const manual = await h.call<{ runId: string; checkpoint: string; instance: string }>('POST', `/api/v1/monitors/${id}/run?checkpoint=us`);
    assert.equal(manual.status, 202, JSON.stringify(manual.body));
    assert.deepEqual([manual.body.checkpoint, manual.body.instance.startsWith('us-')], ['us', true]);
    const unknown = await h.call('POST', `/api/v1/monitors/${id}/run?checkpoint=asia`);
    assert.equal(unknown.status, 400);
  });

  it('runs a round-robin monitor on one checkpoint per interval in turn, passing over a checkpoint with no instance', async (t) => {
    const h = await harness(t);
    const outcomes: Outcomes = {};
    const agents = await sites(h, ['eu', 'us', 'asia'], outcomes);
    const { id } = await h.createMonitor({ ...monitor('Login', 'eu'), checkpoint: undefined, checkpoints: ['eu', 'us', 'asia'], placement: 'round-robin' });
    await settled(h, agents, id, 1);
    for (let count = 2; count <= 4; count++) {
      await nextInterval(h);
      await settled(h, agents, id, count);
    }
    let order = (await h.runs(id)).map((run) => run.checkpoint).reverse();
    assert.deepEqual(order, ['eu', 'us', 'asia', 'eu']);

    // us loses its only instance: its turn goes to the next checkpoint instead of waiting for it.
    const [usAgent] = agents.get('us') ?? [];
    assert.ok(usAgent !== undefined);
    await usAgent.close();
    await eventually(async () => assert.equal((await h.checkpoint('us')).online, 0), 'us has no instance');
    agents.delete('us');
    await nextInterval(h);
    await settled(h, agents, id, 5);
    await nextInterval(h);
    await settled(h, agents, id, 6);
    order = (await h.runs(id)).map((run) => run.checkpoint).reverse();
    assert.deepEqual(order.slice(4), ['asia', 'asia'], 'us\'s turn passed on to asia, then asia\'s own turn');
    assert.ok((await h.runs(id)).every((run) => run.status === 'passed'));
  });

  it('does not hold a round-robin monitor back for a retry on a checkpoint that went down', async (t) => {
    const h = await harness(t, { checkpointDownAfterMs: 1000 });
    const euToken = await h.createCheckpoint('eu');
    const usToken = await h.createCheckpoint('us');
    // eu fails its first attempt and never answers the retry: its site goes away meanwhile.
    const eu = await h.agent(euToken, 'eu-1', { autoAnswer: (run: RunCommand): Answer | undefined => (run.attempt === 1 ? { status: 'failed', durationMs: 10 } : undefined) });
    const us = await h.agent(usToken, 'us-1', { autoAnswer: (): Answer => ({ status: 'passed', durationMs: 10 }) });
    const { id } = await h.createMonitor({ ...monitor('Login', 'eu'), checkpoint: undefined, checkpoints: ['eu', 'us'], placement: 'round-robin' });
    await eventually(async () => assert.ok((await h.runs(id)).some((run) => run.attempt === 2 && run.checkpoint === 'eu')), 'the retry on eu dispatched');
    await eu.kill();
    await eventually(async () => assert.equal((await h.checkpoint('eu')).online, 0), 'eu has no instance');
    // The first interval finds the lost retry and eu down: it is passed over. Then us runs at every turn, eu's included.
    const usPassed = async () => (await h.runs(id)).filter((run) => run.checkpoint === 'us' && run.status === 'passed').length;
    for (let interval = 1; interval <= 4; interval++) {
      await nextInterval(h);
      await us.answered();
      await eventually(async () => assert.equal(await usPassed(), Math.max(0, interval - 1)), `us run ${interval - 1}`);
    }
    await h.cp.alertsSettled();
    assert.deepEqual(
      (await h.alerts()).map((alert) => alert.kind),
      ['checkpoint-down'],
      'the lost retry is not a failure; only the checkpoint alert',
    );
  });

  it('shows "checkpoint down" instead of failing while the checkpoint is down, and sends no reminder meanwhile', async (t) => {
    const h = await harness(t, { checkpointDownAfterMs: 1000 });
    const outcomes: Outcomes = { eu: 'failed' };
    const tokens = new Map<string, string>();
    const agents = await sites(h, ['eu'], outcomes, 2, tokens);
    const { id } = await h.createMonitor(monitor('Login', 'eu', { alerting: { reminderMinutes: 1 } }));
    await settled(h, agents, id, 2);
    assert.deepEqual((await h.alerts()).map((alert) => alert.kind), ['monitor-failed']);
    // A reminder a minute later (at the next reminder pass after a failed run) proves reminders are on.
    await nextInterval(h);
    await settled(h, agents, id, 4);
    h.clock.advance(16_000);
    await h.cp.tick();
    await eventually(async () => assert.deepEqual((await h.alerts()).map((alert) => alert.kind), ['monitor-reminder', 'monitor-failed']), 'a reminder');

    for (const agent of agents.get('eu') ?? []) await agent.close();
    await eventually(async () => assert.equal((await h.checkpoint('eu')).online, 0), 'eu has no instance');
    h.clock.advance(2000);
    await h.cp.tick();
    await h.cp.alertsSettled();
    const down = await view(h, id);
    assert.deepEqual([down.health, down.status, down.checkpointStatus], ['failing', 'checkpoint-down', { eu: 'checkpoint-down' }], 'still failing underneath, shown as its checkpoint being down');
    const listed = (await h.call<{ monitors: MonitorView[] }>('GET', '/api/v1/monitors?status=checkpoint-down')).body.monitors;
    assert.deepEqual(listed.map((entry) => entry.id), [id]);

    for (let minute = 0; minute < 5; minute++) await nextInterval(h);
    await h.cp.alertsSettled();
    assert.deepEqual(
      (await h.alerts()).map((alert) => alert.kind),
      ['checkpoint-down', 'monitor-reminder', 'monitor-failed'],
      'five minutes down: the checkpoint alert only, no monitor reminder and no run',
    );
    assert.equal((await h.runs(id)).length, 4);

    // Back, but nothing ran yet: no "still failing" without a run that says so.
    const back = await h.agent(tokens.get('eu') ?? '', 'eu-1');
    await eventually(async () => assert.equal((await h.checkpoint('eu')).online, 1), 'eu back');
    h.clock.advance(16_000);
    await h.cp.tick();
    await h.cp.alertsSettled();
    assert.deepEqual((await h.alerts()).map((alert) => alert.kind), ['checkpoint-up', 'checkpoint-down', 'monitor-reminder', 'monitor-failed']);
    await back.answer(await back.next('run'), { status: 'failed' });
    h.clock.advance(16_000);
    await h.cp.tick();
    await h.cp.alertsSettled();
    assert.equal((await h.alerts())[0]?.kind, 'monitor-reminder', 'a failed run since: the reminder is due');
  });

  it('resolves the alert of a checkpoint taken off a monitor, and of each failing checkpoint when it is disabled', async (t) => {
    const h = await harness(t);
    const outcomes: Outcomes = { eu: 'failed', us: 'failed', asia: 'passed' };
    const agents = await sites(h, ['eu', 'us', 'asia'], outcomes, 2);
    const { id } = await h.createMonitor({ ...monitor('Login', 'eu'), checkpoint: undefined, checkpoints: ['eu', 'us', 'asia'] });
    await settled(h, agents, id, 5);
    assert.deepEqual((await h.alerts()).map((alert) => `${alert.kind}@${alert.checkpoint ?? ''}`).toSorted(), ['monitor-failed@eu', 'monitor-failed@us']);

    const patched = await h.call<MonitorView>('PATCH', `/api/v1/monitors/${id}`, { checkpoints: ['eu', 'asia'] });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.deepEqual([patched.body.checkpoint, patched.body.checkpoints, patched.body.checkpointHealth], ['eu', ['eu', 'asia'], { eu: 'failing', asia: 'ok' }]);
    await h.cp.alertsSettled();
    const resolved = (await h.alerts())[0];
    assert.deepEqual([resolved?.kind, resolved?.checkpoint], ['monitor-resolved', 'us']);
    assert.match(resolved?.message ?? '', /Login no longer runs on us while failing; its alert is resolved/);

    assert.equal((await h.call('PATCH', `/api/v1/monitors/${id}`, { enabled: false })).status, 200);
    await h.cp.alertsSettled();
    const last = (await h.alerts())[0];
    assert.deepEqual([last?.kind, last?.checkpoint], ['monitor-resolved', 'eu']);
    assert.equal((await h.alerts()).filter((alert) => alert.kind === 'monitor-resolved').length, 2, 'asia was not alerting: nothing to resolve there');
    assert.equal((await view(h, id)).status, 'disabled');
  });

  it('resolves what the old and new first checkpoints had open when the order changes, and alerts again if they still fail', async (t) => {
    const h = await harness(t);
    const outcomes: Outcomes = { eu: 'failed', us: 'failed', asia: 'passed' };
    const agents = await sites(h, ['eu', 'us', 'asia'], outcomes, 2);
    const { id } = await h.createMonitor({ ...monitor('Login', 'eu'), checkpoint: undefined, checkpoints: ['eu', 'us', 'asia'] });
    await settled(h, agents, id, 5);
    assert.equal((await h.alerts()).length, 2);

    assert.equal((await h.call('PATCH', `/api/v1/monitors/${id}`, { checkpoints: ['us', 'asia', 'eu'] })).status, 200);
    await h.cp.alertsSettled();
    const resolved = (await h.alerts()).filter((alert) => alert.kind === 'monitor-resolved');
    assert.deepEqual(resolved.map((alert) => alert.checkpoint).toSorted(), ['eu', 'us'], 'the incidents keyed by the old and the new first checkpoint');
    assert.match(resolved[0]?.message ?? '', /Login now runs first on us: its alert from (eu|us) is resolved, and raised again if it still fails there/);
    assert.deepEqual((await view(h, id)).checkpointHealth, { us: 'ok', asia: 'ok', eu: 'ok' });

    await nextInterval(h);
    await settled(h, agents, id, 10);
    const failedAgain = (await h.alerts()).filter((alert) => alert.kind === 'monitor-failed');
    assert.deepEqual(failedAgain.map((alert) => alert.checkpoint).toSorted(), ['eu', 'eu', 'us', 'us'], 'raised again under the new keys');
  });

  it('retries on the checkpoint that failed even when another has a free instance', async (t) => {
    const h = await harness(t);
    const outcomes: Outcomes = { eu: 'failed', us: 'passed' };
    const agents = await sites(h, ['eu', 'us'], outcomes, 2);
    const seen: { checkpoint: string; run: RunCommand }[] = [];
    for (const [checkpoint, list] of agents) {
      for (const agent of list) {
        const answer = agent.autoAnswer;
        agent.autoAnswer = (run) => {
          seen.push({ checkpoint, run });
          return answer?.(run);
        };
      }
    }
    const { id } = await h.createMonitor({ ...monitor('Login', 'eu'), checkpoint: undefined, checkpoints: ['eu', 'us'], placement: 'round-robin' });
    await settled(h, agents, id, 2);
    assert.deepEqual(
      seen.map((entry) => [entry.checkpoint, entry.run.reason]),
      [
        ['eu', 'schedule'],
        ['eu', 'retry'],
      ],
    );
  });
});
