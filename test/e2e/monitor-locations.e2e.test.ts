// End to end, issue 14 "where monitors run": one monitor on two checkpoints (inside the network and in the DMZ),
// each with a real `checkpoint agent` running Chromium, under a real `checkpoint control-plane`. Every interval
// runs on both; when the DMZ's only instance is SIGKILLed, the monitor shows `checkpoint-down` there (not a
// failure), keeps passing inside, and the only alert is the checkpoint's own.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { MonitorView } from '../../control-plane/api-monitors.ts';
import type { RunRecord } from '../../control-plane/store.ts';
import { assertNoProcessLeft, ChromiumWatch } from '../helpers/e2e/leaks.ts';
import { E2eWorld, monitor, statusScript } from '../helpers/e2e/world.ts';

const watch = new ChromiumWatch();

after(async () => {
  await assertNoProcessLeft(watch);
});

describe('a monitor on two checkpoints, with real agents', () => {
  it('runs on both each interval, and shows the checkpoint that went down as down while the other keeps passing', { timeout: 180_000 }, async (t) => {
    const world = await E2eWorld.create(t, watch);
    const cp = await world.controlPlane({ checkpointDownAfterMs: 3_000, heartbeatIntervalMs: 1_000 });
    const inside = await world.agent({ instanceId: 'inside-1', token: await cp.api.createCheckpoint('intranet'), direct: true });
    const outside = await world.agent({ instanceId: 'dmz-1', token: await cp.api.createCheckpoint('dmz'), direct: true });
    await Promise.all([inside.waitReady(), outside.waitReady()]);
    await cp.api.createMonitor(monitor('status', 'intranet', statusScript(world.site.url), { checkpoints: ['intranet', 'dmz'], placement: 'all', intervalSeconds: 10 }));

    const passedOn = (runs: RunRecord[], checkpoint: string) => runs.filter((run) => run.checkpoint === checkpoint && run.status === 'passed');
    const both = await world.waitUntil(
      'a passed run on each checkpoint',
      async () => {
        const runs = await cp.api.runs('status');
        return passedOn(runs, 'intranet').length > 0 && passedOn(runs, 'dmz').length > 0 ? runs : undefined;
      },
      { timeoutMs: 60_000 },
    );
    assert.equal(passedOn(both, 'intranet')[0]?.instance, 'inside-1', 'the intranet run ran on the intranet instance');
    assert.equal(passedOn(both, 'dmz')[0]?.instance, 'dmz-1', 'the DMZ run ran on the DMZ instance');
    const monitorView = async () => (await cp.api.call<MonitorView>('GET', '/api/v1/monitors/status')).body;
    assert.deepEqual((await monitorView()).checkpointStatus, { intranet: 'ok', dmz: 'ok' });

    await outside.kill();
    const down = await world.waitUntil(
      'the DMZ shown as down for the monitor',
      async () => {
        const view = await monitorView();
        return view.checkpointStatus['dmz'] === 'checkpoint-down' ? view : undefined;
      },
      { timeoutMs: 30_000 },
    );
    assert.deepEqual([down.status, down.checkpointStatus['intranet'], down.health], ['checkpoint-down', 'ok', 'ok']);

    // Inside keeps running and passing on its interval while the DMZ is down.
    const killedAt = new Date().toISOString();
    await world.waitUntil(
      'two more passed intranet runs after the DMZ went down',
      async () => (passedOn(await cp.api.runs('status'), 'intranet').filter((run) => run.dispatchedAt > killedAt).length >= 2 ? true : undefined),
      { timeoutMs: 60_000 },
    );
    const runs = await cp.api.runs('status');
    assert.ok(
      runs.every((run) => run.status === 'passed' || run.status === 'lost' || run.status === 'running' || run.status === 'dispatched'),
      `no run failed: ${runs.map((run) => `${run.checkpoint}/${run.status}`).join(', ')}`,
    );
    assert.deepEqual(
      (await cp.api.alerts()).map((alert) => [alert.kind, alert.checkpoint]),
      [['checkpoint-down', 'dmz']],
      'the checkpoint alert only: nothing about the monitor',
    );
  });
});
