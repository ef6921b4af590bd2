// One behavioural contract for every ControlPlaneStore (control-plane/store.ts): the same tests run against the
// SQLite store in a temp dir and the PostgreSQL store on a real PostgreSQL 15 (a fresh database per test).
import assert from 'node:assert/strict';
import { after, before, describe, test, type TestContext } from 'node:test';
import type { Channel, MaintenanceWindow, MonitorAlerting } from '../../control-plane/api-schemas.ts';
import { ConflictError, type ControlPlaneStore, type RunReason } from '../../control-plane/store.ts';
import type { MonitorDefinition, ResultEnvelope } from '../../engine/index.ts';
import { minimalResult } from '../helpers/fake-agent.ts';
import { makeTestPki } from '../helpers/servers/certificates.ts';
import { postgresMissing, startPostgres, type PostgresServer } from '../helpers/servers/postgres.ts';
import { makeTempDir } from '../helpers/servers/temp-dir.ts';
import { openPostgresTestStore, openSqliteStore, type OpenedStore } from '../helpers/store-backends.ts';

interface Backend {
  name: string;
  skip: string | false;
  start(): Promise<void>;
  open(): Promise<OpenedStore>;
  stop(): Promise<void>;
}

const sqlite: Backend = { name: 'SQLite', skip: false, start: async () => {}, open: () => Promise.resolve(openSqliteStore()), stop: async () => {} };

let postgresServer: PostgresServer | undefined;
const pkiDir = makeTempDir('store-contract-pki');
const postgres: Backend = {
  name: 'PostgreSQL',
  skip: postgresMissing(),
  async start() {
    postgresServer = await startPostgres(makeTestPki(pkiDir.path).server, { maxConnections: 20 });
  },
  open() {
    if (postgresServer === undefined) throw new Error('PostgreSQL did not start');
    return openPostgresTestStore(postgresServer);
  },
  async stop() {
    await postgresServer?.stop();
  },
};
after(() => pkiDir.remove());

/** `n` minutes after 2026-01-01T00:00Z, as the ISO text the control plane writes. */
const at = (minutes: number) => new Date(Date.UTC(2026, 0, 1) + minutes * 60_000).toISOString();

const script = { name: 'Intranet login', steps: [{ name: 'Open', actions: [{ type: 'navigate', url: 'https://intranet.example/' }] }] } as unknown as MonitorDefinition['script'];

function monitor(id: string, extra: Partial<MonitorDefinition & { alerting: MonitorAlerting }> = {}): MonitorDefinition & { alerting?: MonitorAlerting } {
  return { id, name: `Monitor ${id}`, checkpoint: 'cp', intervalSeconds: 60, enabled: true, script, ...extra };
}

function envelope(runId: string, status: 'passed' | 'failed' = 'passed', artifacts: string[] = []): ResultEnvelope {
  return {
    runId,
    monitorId: 'm1',
    attempt: 1,
    instanceId: 'i1',
    finishedAt: at(1),
    result: minimalResult({ runId, status, durationMs: 2500 }),
    artifacts: artifacts.map((sha256) => ({ path: `${sha256}.png`, sha256, contentType: 'image/png', sizeBytes: 1 })),
  };
}

function dispatch(store: ControlPlaneStore, runId: string, options: { minute?: number; monitorId?: string; checkpoint?: string; instance?: string; reason?: RunReason } = {}) {
  const dispatchedAt = at(options.minute ?? 0);
  return store.insertRun({
    runId,
    monitorId: options.monitorId ?? 'm1',
    checkpoint: options.checkpoint ?? 'cp',
    attempt: 1,
    instance: options.instance ?? 'i1',
    reason: options.reason ?? 'schedule',
    dispatchedAt,
    leaseDeadline: at((options.minute ?? 0) + 5),
  });
}

const hello = (store: ControlPlaneStore, id: string, checkpoint = 'cp', now = at(0)) =>
  store.instanceHello({ checkpoint, id, version: '1.0.0', browserVersion: '156.0', capacity: 4, privacyLock: false, startedAt: at(-1), now });

for (const backend of [sqlite, postgres]) {
  describe(`store contract: ${backend.name}`, { skip: backend.skip }, () => {
    before(() => backend.start());
    after(() => backend.stop());

    async function open(t: TestContext): Promise<ControlPlaneStore> {
      const opened = await backend.open();
      t.after(() => opened.close());
      return opened.store;
    }

    test('ping answers while open; close is final', async () => {
      const opened = await backend.open();
      await opened.store.ping();
      await opened.close();
      await assert.rejects(opened.store.ping());
    });

    test('checkpoints: create, get, list by name, health, and a second create of a name conflicts', async (t) => {
      const store = await open(t);
      assert.deepEqual(await store.createCheckpoint('zeta', 'hz', at(0)), { name: 'zeta', createdAt: at(0), health: 'unknown' });
      await store.createCheckpoint('alpha', 'ha', at(1));
      await assert.rejects(store.createCheckpoint('alpha', 'other', at(2)), ConflictError);
      assert.deepEqual(await store.getCheckpoint('alpha'), { name: 'alpha', createdAt: at(1), health: 'unknown' });
      assert.equal(await store.getCheckpoint('missing'), undefined);
      await store.setCheckpointHealth('alpha', 'down');
      assert.deepEqual(
        (await store.listCheckpoints()).map((checkpoint) => [checkpoint.name, checkpoint.health]),
        [
          ['alpha', 'down'],
          ['zeta', 'unknown'],
        ],
      );
    });

    test('tokens: the previous one works until its grace ends; revocation refuses all and leaves no grace', async (t) => {
      const store = await open(t);
      await store.createCheckpoint('cp', 'h1', at(0));
      assert.equal((await store.checkpointByTokenHash('h1', at(0)))?.name, 'cp');
      assert.equal(await store.rotateCheckpointToken('cp', 'h2', at(60)), true);
      assert.equal((await store.checkpointByTokenHash('h1', at(59)))?.name, 'cp', 'the previous token within its grace');
      assert.equal(await store.checkpointByTokenHash('h1', at(60)), undefined, 'refused from the end of the grace');
      assert.equal((await store.checkpointByTokenHash('h2', at(300)))?.name, 'cp');
      assert.equal(await store.rotateCheckpointToken('cp', 'h3', undefined), true);
      assert.equal(await store.checkpointByTokenHash('h2', at(1)), undefined, 'no grace given: refused at once');
      assert.equal(await store.revokeCheckpointTokens('cp', 'x'), true);
      assert.equal(await store.checkpointByTokenHash('h3', at(1)), undefined);
      await store.rotateCheckpointToken('cp', 'h4', at(600));
      assert.equal((await store.checkpointByTokenHash('h4', at(1)))?.name, 'cp');
      assert.equal(await store.checkpointByTokenHash('h3', at(1)), undefined, 'a revoked token gets no grace from the next rotation');
      assert.equal(await store.checkpointByTokenHash('revoked:x', at(1)), undefined, 'the revocation marker is no token');
      assert.equal(await store.rotateCheckpointToken('missing', 'h5', at(600)), false);
      assert.equal(await store.revokeCheckpointTokens('missing', 'y'), false);
    });

    test('deleteCheckpoint removes its instances and monitors and keeps runs, results and alerts', async (t) => {
      const store = await open(t);
      await store.createCheckpoint('cp', 'h', at(0));
      await store.createCheckpoint('other', 'h-other', at(0));
      await hello(store, 'i1');
      await hello(store, 'i9', 'other');
      await store.insertMonitor(monitor('m2'), at(0));
      await store.insertMonitor(monitor('m1'), at(0));
      await store.insertMonitor(monitor('m3', { checkpoint: 'other' }), at(0));
      await dispatch(store, 'r1');
      await store.storeResult(envelope('r1'), 'cp', at(1));
      await store.insertAlert({ kind: 'checkpoint-down', checkpoint: 'cp', createdAt: at(2), message: 'cp is down' });
      const deleted = await store.deleteCheckpoint('cp');
      assert.deepEqual(deleted?.monitors.toSorted(), ['m1', 'm2']);
      assert.deepEqual(deleted?.updated, []);
      assert.equal(await store.getCheckpoint('cp'), undefined);
      assert.deepEqual(
        (await store.listMonitors()).map((m) => m.id),
        ['m3'],
      );
      assert.deepEqual(
        (await store.listInstances()).map((i) => i.id),
        ['i9'],
      );
      assert.equal((await store.getRun('r1'))?.status, 'passed');
      assert.ok((await store.getResult('r1')) !== undefined);
      assert.equal((await store.listAlerts(10)).length, 1);
      assert.equal(await store.deleteCheckpoint('cp'), undefined, 'a second delete finds nothing');
    });

    test('instances: hello creates and refreshes, heartbeat and disconnect update, list, count, exists, delete', async (t) => {
      const store = await open(t);
      await store.createCheckpoint('cp', 'h', at(0));
      await store.createCheckpoint('b', 'hb', at(0));
      await hello(store, 'i2');
      await store.instanceHello({ checkpoint: 'cp', id: 'i1', version: '1.0.0', capacity: 2, privacyLock: true, startedAt: at(-5), now: at(0) });
      await hello(store, 'i0', 'b');
      const [first] = await store.listInstances('cp');
      assert.deepEqual(first, {
        checkpoint: 'cp',
        id: 'i1',
        version: '1.0.0',
        capacity: 2,
        privacyLock: true,
        connected: true,
        draining: false,
        startedAt: at(-5),
        firstSeen: at(0),
        lastSeen: at(0),
        running: 0,
        load: 0,
        outboxDepth: 0,
      });
      await store.instanceHeartbeat({ checkpoint: 'cp', id: 'i1', running: 1, load: 0.5, draining: true, outboxDepth: 3, now: at(1) });
      let i1 = (await store.listInstances('cp')).find((instance) => instance.id === 'i1');
      assert.deepEqual([i1?.running, i1?.load, i1?.draining, i1?.outboxDepth, i1?.lastSeen], [1, 0.5, true, 3, at(1)]);
      await store.instanceHello({ checkpoint: 'cp', id: 'i1', version: '1.1.0', browserVersion: '157.0', capacity: 8, privacyLock: false, startedAt: at(2), now: at(2) });
      i1 = (await store.listInstances('cp')).find((instance) => instance.id === 'i1');
      assert.deepEqual(
        [i1?.version, i1?.browserVersion, i1?.capacity, i1?.privacyLock, i1?.running, i1?.load, i1?.draining, i1?.firstSeen, i1?.lastSeen, i1?.startedAt, i1?.outboxDepth],
        ['1.1.0', '157.0', 8, false, 0, 0, false, at(0), at(2), at(2), 3],
        'a new hello refreshes what the instance reports and resets its load, keeping when it was first seen',
      );
      await store.instanceDisconnected('cp', 'i1', at(3));
      i1 = (await store.listInstances('cp')).find((instance) => instance.id === 'i1');
      assert.deepEqual([i1?.connected, i1?.lastSeen], [false, at(3)]);
      assert.deepEqual(
        (await store.listInstances()).map((instance) => `${instance.checkpoint}/${instance.id}`),
        ['b/i0', 'cp/i1', 'cp/i2'],
      );
      assert.equal(await store.countInstances('cp'), 2);
      assert.equal(await store.countInstances('none'), 0);
      assert.equal(await store.instanceExists('cp', 'i2'), true);
      assert.equal(await store.instanceExists('b', 'i2'), false);
      await store.markAllInstancesDisconnected();
      assert.ok((await store.listInstances()).every((instance) => !instance.connected));
      assert.equal(await store.deleteInstance('cp', 'i2'), true);
      assert.equal(await store.deleteInstance('cp', 'i2'), false);
      assert.equal(await store.countInstances('cp'), 1);
    });

    test('monitors: insert (a duplicate id conflicts), optional fields round-trip, update, list order, delete', async (t) => {
      const store = await open(t);
      const alerting: MonitorAlerting = { afterFailures: 3, reminderMinutes: 30, severity: 'error', channels: ['ops'] };
      const full = monitor('m1', { name: 'Orders', variables: { user: 'alice' }, capture: { screenshots: 'failure', har: true }, alertOnWarning: true, alerting, enabled: false });
      const inserted = await store.insertMonitor(full, at(0));
      assert.deepEqual(inserted, { ...full, health: 'ok', checkpointHealth: { cp: 'ok' }, createdAt: at(0), updatedAt: at(0) });
      assert.deepEqual(await store.getMonitor('m1'), inserted);
      await assert.rejects(store.insertMonitor(monitor('m1'), at(1)), ConflictError);
      const bare = await store.insertMonitor(monitor('m0', { name: 'Orders' }), at(0));
      assert.deepEqual(bare, { ...monitor('m0', { name: 'Orders' }), health: 'ok', checkpointHealth: { cp: 'ok' }, createdAt: at(0), updatedAt: at(0) }, 'no optional field appears unset');
      await store.insertMonitor(monitor('m2', { name: 'Accounts', checkpoint: 'other' }), at(0));
      assert.deepEqual(
        (await store.listMonitors()).map((m) => m.id),
        ['m2', 'm0', 'm1'],
        'by name, then id',
      );
      assert.deepEqual(
        (await store.listMonitors('cp')).map((m) => m.id),
        ['m0', 'm1'],
      );
      const updated = await store.updateMonitor(monitor('m1', { name: 'Orders v2', intervalSeconds: 300 }), at(5));
      assert.deepEqual(updated, { ...monitor('m1', { name: 'Orders v2', intervalSeconds: 300 }), health: 'ok', checkpointHealth: { cp: 'ok' }, createdAt: at(0), updatedAt: at(5) }, 'optional fields dropped on replace');
      assert.equal(await store.updateMonitor(monitor('missing'), at(5)), undefined);
      assert.equal(await store.getMonitor('missing'), undefined);
      assert.equal(await store.deleteMonitor('m1'), true);
      assert.equal(await store.deleteMonitor('m1'), false);
      assert.equal(await store.getMonitor('m1'), undefined);
    });

    test('monitor health and alert state survive, and an update keeps them', async (t) => {
      const store = await open(t);
      await store.insertMonitor(monitor('m1'), at(0));
      assert.deepEqual(await store.getMonitorAlertState('m1'), { consecutiveFailures: 0 });
      assert.deepEqual(await store.getMonitorAlertState('missing'), { consecutiveFailures: 0 });
      await store.setMonitorHealth('m1', 'failing');
      await store.setMonitorAlertState('m1', { consecutiveFailures: 3, lastNotifiedAt: at(4) });
      await store.updateMonitor(monitor('m1', { name: 'Renamed' }), at(5));
      assert.equal((await store.getMonitor('m1'))?.health, 'failing');
      assert.deepEqual(await store.getMonitorAlertState('m1'), { consecutiveFailures: 3, lastNotifiedAt: at(4) });
      await store.setMonitorAlertState('m1', { consecutiveFailures: 0 });
      assert.deepEqual(await store.getMonitorAlertState('m1'), { consecutiveFailures: 0 }, 'lastNotifiedAt cleared');
      await store.setMonitorHealth('m1', 'warning');
      assert.equal((await store.getMonitor('m1'))?.health, 'warning');
    });

    test('a monitor on several checkpoints: listed under each, health and alert state per checkpoint, the worst as its health', async (t) => {
      const store = await open(t);
      const several = monitor('m1', { checkpoints: ['cp', 'dmz', 'branch'], placement: 'round-robin' });
      const inserted = await store.insertMonitor(several, at(0));
      assert.deepEqual(inserted, { ...several, health: 'ok', checkpointHealth: { cp: 'ok', dmz: 'ok', branch: 'ok' }, createdAt: at(0), updatedAt: at(0) }, 'the list keeps its order');
      await store.insertMonitor(monitor('m2', { checkpoint: 'dmz' }), at(0));
      await store.insertMonitor(monitor('m3', { checkpoint: 'dmzz' }), at(0));
      assert.deepEqual((await store.listMonitors('dmz')).map((m) => m.id), ['m1', 'm2'], 'a name that only starts like one in the list does not match');
      assert.deepEqual((await store.listMonitors('branch')).map((m) => m.id), ['m1']);
      assert.deepEqual((await store.listMonitors('cp')).map((m) => m.id), ['m1']);

      await store.setMonitorHealth('m1', 'warning', 'branch');
      await store.setMonitorHealth('m1', 'failing', 'dmz');
      await store.setMonitorAlertState('m1', { consecutiveFailures: 2, lastNotifiedAt: at(3) }, 'dmz');
      let stored = await store.getMonitor('m1');
      assert.deepEqual(stored?.checkpointHealth, { cp: 'ok', dmz: 'failing', branch: 'warning' });
      assert.equal(stored?.health, 'failing', 'the worst of its checkpoints');
      assert.deepEqual(await store.getMonitorAlertState('m1', 'dmz'), { consecutiveFailures: 2, lastNotifiedAt: at(3) });
      assert.deepEqual(await store.getMonitorAlertState('m1', 'cp'), { consecutiveFailures: 0 });
      assert.deepEqual(await store.getMonitorAlertState('m1'), { consecutiveFailures: 0 }, 'default: its first checkpoint');
      assert.equal((await store.listMonitors()).find((m) => m.id === 'm1')?.checkpointHealth['dmz'], 'failing', 'listed with its states');

      // Dropping the failing checkpoint from the list drops its state and its part in the monitor's health.
      await store.updateMonitor(monitor('m1', { checkpoints: ['cp', 'branch'] }), at(4));
      stored = await store.getMonitor('m1');
      assert.deepEqual([stored?.checkpointHealth, stored?.health], [{ cp: 'ok', branch: 'warning' }, 'warning']);
      assert.equal(stored?.placement, undefined);
      await store.setMonitorHealth('m1', 'ok');
      assert.deepEqual((await store.getMonitor('m1'))?.checkpointHealth, { cp: 'ok', branch: 'ok' }, 'no checkpoint given: all of them');

      // A decision about a checkpoint it no longer names (taken as it was removed), or about a deleted monitor, writes nothing.
      await store.setMonitorHealth('m1', 'failing', 'dmz');
      await store.setMonitorAlertState('m1', { consecutiveFailures: 5 }, 'dmz');
      assert.deepEqual([(await store.getMonitor('m1'))?.health, await store.getMonitorAlertState('m1', 'dmz')], ['ok', { consecutiveFailures: 0 }]);
      await store.updateMonitor(monitor('m1', { checkpoints: ['cp', 'branch', 'dmz'] }), at(6));
      assert.deepEqual((await store.getMonitor('m1'))?.checkpointHealth, { cp: 'ok', branch: 'ok', dmz: 'ok' }, 'added back, it starts clean');
      assert.equal(await store.deleteMonitor('m2'), true);
      await store.setMonitorAlertState('m2', { consecutiveFailures: 1 });
      await store.setMonitorHealth('m2', 'failing');
      assert.deepEqual(await store.getMonitorAlertState('m2'), { consecutiveFailures: 0 });
    });

    test('deleting one of a monitor\'s several checkpoints keeps the monitor on the others', async (t) => {
      const store = await open(t);
      for (const name of ['cp', 'dmz', 'branch']) await store.createCheckpoint(name, `h-${name}`, at(0));
      await store.insertMonitor(monitor('three', { checkpoints: ['cp', 'dmz', 'branch'] }), at(0));
      await store.insertMonitor(monitor('two', { checkpoints: ['dmz', 'cp'], placement: 'all' }), at(0));
      await store.insertMonitor(monitor('alone', { checkpoint: 'cp' }), at(0));
      await store.setMonitorHealth('two', 'failing', 'cp');
      const deleted = await store.deleteCheckpoint('cp');
      assert.deepEqual(deleted, { monitors: ['alone'], updated: ['three', 'two'] });
      const three = await store.getMonitor('three');
      assert.deepEqual([three?.checkpoint, three?.checkpoints], ['dmz', ['dmz', 'branch']]);
      const two = await store.getMonitor('two');
      assert.deepEqual([two?.checkpoint, two?.checkpoints, two?.health, two?.checkpointHealth], ['dmz', undefined, 'ok', { dmz: 'ok' }], 'one left: a plain single-checkpoint monitor');
      assert.equal(await store.getMonitor('alone'), undefined);
    });

    test('channels and maintenance windows: stored exactly as PUT, created once, replaced after, listed by id, deleted', async (t) => {
      const store = await open(t);
      const slack: Channel = { id: 'slack', type: 'slack', url: '{{env.SLACK_URL}}' };
      // Key order and nesting must come back as given (the API returns exactly what was PUT).
      const email: Channel = { type: 'email', id: 'email', to: ['ops@example.com'], from: 'cp@example.com', smtp: { port: 587, host: 'smtp.example.com' } };
      assert.equal(await store.putChannel(slack, at(0)), true);
      assert.equal(await store.putChannel(email, at(0)), true);
      const renamed: Channel = { ...slack, name: 'Ops Slack' };
      assert.equal(await store.putChannel(renamed, at(5)), false);
      assert.deepEqual(await store.getChannel('slack'), { definition: renamed, createdAt: at(0), updatedAt: at(5) });
      assert.equal(JSON.stringify((await store.getChannel('email'))?.definition), JSON.stringify(email));
      assert.deepEqual(
        (await store.listChannels()).map((channel) => channel.definition.id),
        ['email', 'slack'],
      );
      assert.equal(await store.deleteChannel('slack'), true);
      assert.equal(await store.deleteChannel('slack'), false);
      assert.equal(await store.getChannel('slack'), undefined);

      const weekly: MaintenanceWindow = { id: 'sunday', weekly: { days: ['sun'], from: '02:00', to: '04:00', timeZone: 'Europe/Paris' } };
      const once: MaintenanceWindow = { id: 'migration', monitors: ['m1'], startsAt: at(0), endsAt: at(60) };
      assert.equal(await store.putMaintenanceWindow(weekly, at(0)), true);
      assert.equal(await store.putMaintenanceWindow(once, at(1)), true);
      assert.equal(await store.putMaintenanceWindow({ ...once, endsAt: at(120) }, at(2)), false);
      assert.deepEqual(await store.getMaintenanceWindow('migration'), { definition: { ...once, endsAt: at(120) }, createdAt: at(1), updatedAt: at(2) });
      assert.deepEqual(
        (await store.listMaintenanceWindows()).map((window) => window.definition.id),
        ['migration', 'sunday'],
      );
      assert.equal(await store.deleteMaintenanceWindow('sunday'), true);
      assert.equal(await store.deleteMaintenanceWindow('sunday'), false);
      assert.equal(await store.getMaintenanceWindow('sunday'), undefined);
    });

    test('runs: insert, started only from dispatched, lost only from in flight', async (t) => {
      const store = await open(t);
      await dispatch(store, 'r1', { reason: 'manual' });
      assert.deepEqual(await store.getRun('r1'), {
        runId: 'r1',
        monitorId: 'm1',
        checkpoint: 'cp',
        attempt: 1,
        instance: 'i1',
        reason: 'manual',
        status: 'dispatched',
        dispatchedAt: at(0),
        leaseDeadline: at(5),
        late: false,
      });
      assert.equal(await store.getRun('missing'), undefined);
      await store.markRunStarted('r1');
      assert.equal((await store.getRun('r1'))?.status, 'running');
      await store.markRunLost('r1', 'instance disconnected');
      const lost = await store.getRun('r1');
      assert.deepEqual([lost?.status, lost?.lostReason], ['lost', 'instance disconnected']);
      await store.markRunStarted('r1');
      assert.equal((await store.getRun('r1'))?.status, 'lost', 'a late `started` never revives a lost run');
      await dispatch(store, 'r2');
      await store.storeResult(envelope('r2'), 'cp', at(1));
      await store.markRunLost('r2', 'too late');
      const finished = await store.getRun('r2');
      assert.deepEqual([finished?.status, finished?.lostReason], ['passed', undefined], 'a finished run is never written off');
    });

    test('runs: listRuns, runsSince, lastFinishedRun, inFlightRuns, runCounts (ties in insertion order)', async (t) => {
      const store = await open(t);
      await dispatch(store, 'b', { minute: 1 });
      await dispatch(store, 'a', { minute: 1 });
      await dispatch(store, 'c', { minute: 0 });
      await dispatch(store, 'd', { minute: 2 });
      await dispatch(store, 'x', { minute: 3, monitorId: 'm2' });
      await dispatch(store, 'y', { minute: 3, checkpoint: 'cp-2' });
      await store.storeResult(envelope('a'), 'cp', at(2));
      await store.storeResult({ ...envelope('c', 'failed') }, 'cp', at(2));
      await store.markRunStarted('d');
      const ids = (runs: { runId: string }[]) => runs.map((run) => run.runId);
      assert.deepEqual(ids(await store.listRuns('m1', 10)), ['y', 'd', 'a', 'b', 'c'], 'newest first; equal times newest inserted first');
      assert.deepEqual(ids(await store.listRuns('m1', 2)), ['y', 'd']);
      assert.deepEqual(ids(await store.runsSince('m1', at(1))), ['b', 'a', 'd', 'y'], 'oldest first from the bound (inclusive)');
      assert.equal((await store.lastFinishedRun('m1'))?.runId, 'a');
      assert.equal(await store.lastFinishedRun('m2'), undefined);
      assert.deepEqual(ids(await store.inFlightRuns()), ['b', 'd', 'x', 'y']);
      assert.deepEqual(
        (await store.runCounts()).toSorted((p, q) => `${p.monitorId} ${p.checkpoint} ${p.status}`.localeCompare(`${q.monitorId} ${q.checkpoint} ${q.status}`)),
        [
          { monitorId: 'm1', checkpoint: 'cp', status: 'dispatched', count: 1 },
          { monitorId: 'm1', checkpoint: 'cp', status: 'failed', count: 1 },
          { monitorId: 'm1', checkpoint: 'cp', status: 'passed', count: 1 },
          { monitorId: 'm1', checkpoint: 'cp', status: 'running', count: 1 },
          { monitorId: 'm1', checkpoint: 'cp-2', status: 'dispatched', count: 1 },
          { monitorId: 'm2', checkpoint: 'cp', status: 'dispatched', count: 1 },
        ],
      );
    });

    test('queryRuns: every filter alone and together, newest first, limited', async (t) => {
      const store = await open(t);
      await dispatch(store, 'r1', { minute: 0, monitorId: 'm1', checkpoint: 'a', instance: 'i1', reason: 'schedule' });
      await dispatch(store, 'r2', { minute: 10, monitorId: 'm1', checkpoint: 'a', instance: 'i2', reason: 'retry' });
      await dispatch(store, 'r3', { minute: 20, monitorId: 'm2', checkpoint: 'b', instance: 'i3', reason: 'manual' });
      await dispatch(store, 'r4', { minute: 30, monitorId: 'm2', checkpoint: 'b', instance: 'i3', reason: 'schedule' });
      await store.storeResult(envelope('r1', 'failed'), 'a', at(1));
      await store.markRunLost('r2', 'gone');
      const query = async (filter: Omit<Parameters<ControlPlaneStore['queryRuns']>[0], 'limit'>, limit = 50) => (await store.queryRuns({ ...filter, limit })).map((run) => run.runId);
      assert.deepEqual(await query({}), ['r4', 'r3', 'r2', 'r1']);
      assert.deepEqual(await query({}, 2), ['r4', 'r3']);
      assert.deepEqual(await query({ status: ['failed', 'lost'] }), ['r2', 'r1']);
      assert.deepEqual(await query({ reason: ['schedule'] }), ['r4', 'r1']);
      assert.deepEqual(await query({ monitor: 'm1' }), ['r2', 'r1']);
      assert.deepEqual(await query({ checkpoint: 'b' }), ['r4', 'r3']);
      assert.deepEqual(await query({ instance: 'i3' }), ['r4', 'r3']);
      // Bounds in another ISO spelling are normalised: since inclusive, until exclusive.
      assert.deepEqual(await query({ since: '2026-01-01T00:10:00Z', until: '2026-01-01T01:30:00+01:00' }), ['r3', 'r2']);
      assert.deepEqual(await query({ status: ['dispatched'], reason: ['schedule', 'manual'], checkpoint: 'b', since: at(25) }), ['r4']);
      assert.deepEqual(await query({ monitor: 'none' }), []);
    });

    test('storeResult: a new result settles its run and leaves it undecided until markRunDecided', async (t) => {
      const store = await open(t);
      await store.insertArtifact({ sha256: 'a'.repeat(64), sizeBytes: 10, contentType: 'image/png', file: 'aa/x', createdAt: at(0) });
      await dispatch(store, 'r1');
      await store.markRunStarted('r1');
      const sent = envelope('r1', 'failed', ['a'.repeat(64)]);
      const stored = await store.storeResult(sent, 'cp', at(2), { finishedAt: at(1.5) });
      assert.equal(stored.stored, 'new');
      assert.deepEqual(stored.run, {
        runId: 'r1',
        monitorId: 'm1',
        checkpoint: 'cp',
        attempt: 1,
        instance: 'i1',
        reason: 'schedule',
        status: 'failed',
        dispatchedAt: at(0),
        leaseDeadline: at(5),
        finishedAt: at(1.5),
        durationMs: 2500,
        late: false,
        resultStatus: 'failed',
      });
      assert.deepEqual(await store.getRun('r1'), stored.run);
      assert.deepEqual(await store.getResult('r1'), { runId: 'r1', envelope: sent, receivedAt: at(2), duplicates: 0 });
      assert.equal(await store.getResult('missing'), undefined);
      assert.deepEqual(
        (await store.undecidedRuns()).map((run) => run.runId),
        ['r1'],
      );
      assert.deepEqual((await store.undecidedRuns('r1')).map((run) => run.runId), ['r1'], 'one run by its id');
      assert.deepEqual(await store.undecidedRuns('r0'), [], 'not one that waits for no decision');
      await store.markRunDecided('r1');
      assert.deepEqual(await store.undecidedRuns(), []);
      // The artifact the result used counts as used now: retention keeps it past its creation cut-off.
      assert.deepEqual((await store.prune({ artifactsBefore: at(1) })).artifactFiles, []);
    });

    test('storeResult: a second copy is a duplicate, counted, and changes nothing', async (t) => {
      const store = await open(t);
      await dispatch(store, 'r1');
      const first = await store.storeResult(envelope('r1', 'passed'), 'cp', at(2));
      await store.markRunDecided('r1');
      const again = await store.storeResult(envelope('r1', 'failed'), 'cp', at(3));
      assert.equal(again.stored, 'duplicate');
      assert.deepEqual(again.run, first.run);
      const third = await store.storeResult(envelope('r1', 'failed'), 'cp', at(4));
      assert.equal(third.stored, 'duplicate');
      const result = await store.getResult('r1');
      assert.deepEqual([result?.duplicates, result?.envelope.result.status, result?.receivedAt], [2, 'passed', at(2)]);
      assert.deepEqual(await store.undecidedRuns(), [], 'a duplicate does not reopen the decision');
    });

    test('storeResult: a result of a lost run is late (the run stays lost); one never dispatched is unsolicited and late', async (t) => {
      const store = await open(t);
      await dispatch(store, 'r1');
      await store.markRunLost('r1', 'lease expired');
      const late = await store.storeResult(envelope('r1', 'failed'), 'cp', at(9));
      assert.equal(late.stored, 'new');
      assert.deepEqual(
        [late.run.status, late.run.late, late.run.resultStatus, late.run.finishedAt, late.run.durationMs, late.run.lostReason],
        ['lost', true, 'failed', at(1), 2500, 'lease expired'],
      );
      const unsolicited = await store.storeResult({ ...envelope('u1'), monitorId: 'm7', attempt: 2, instanceId: 'i4' }, 'cp2', at(9));
      assert.equal(unsolicited.stored, 'new');
      assert.deepEqual(unsolicited.run, {
        runId: 'u1',
        monitorId: 'm7',
        checkpoint: 'cp2',
        attempt: 2,
        instance: 'i4',
        reason: 'unsolicited',
        status: 'passed',
        dispatchedAt: '2025-05-14T09:00:00.000Z',
        finishedAt: at(1),
        durationMs: 2500,
        late: true,
        resultStatus: 'passed',
      });
      assert.deepEqual(await store.undecidedRuns(), [], 'late and unsolicited results wait for no decision');
      assert.equal((await store.storeResult(envelope('u1'), 'cp2', at(10))).stored, 'duplicate');
    });

    test('undecidedRuns lists runs oldest finished first', async (t) => {
      const store = await open(t);
      for (const id of ['r1', 'r2', 'r3']) await dispatch(store, id);
      await store.storeResult(envelope('r2'), 'cp', at(5), { finishedAt: at(3) });
      await store.storeResult(envelope('r1'), 'cp', at(5), { finishedAt: at(4) });
      await store.storeResult(envelope('r3'), 'cp', at(5), { finishedAt: at(2) });
      await store.markRunDecided('r3');
      assert.deepEqual(
        (await store.undecidedRuns()).map((run) => run.runId),
        ['r2', 'r1'],
      );
    });

    test('artifacts: recorded once by content, read back', async (t) => {
      const store = await open(t);
      const artifact = { sha256: 'c'.repeat(64), sizeBytes: 12_345, contentType: 'image/png', file: `cc/${'c'.repeat(64)}`, createdAt: at(0) };
      assert.equal(await store.insertArtifact(artifact), true);
      assert.equal(await store.insertArtifact({ ...artifact, file: 'elsewhere', createdAt: at(9) }), false);
      assert.deepEqual(await store.getArtifact(artifact.sha256), artifact);
      assert.equal(await store.getArtifact('d'.repeat(64)), undefined);
    });

    test('alerts: ids grow, severity defaults to info, deliveries are kept, listed newest first with filters', async (t) => {
      const store = await open(t);
      const first = await store.insertAlert({ kind: 'monitor-failed', monitorId: 'm1', checkpoint: 'cp', runId: 'r1', createdAt: at(0), message: 'Orders failed', severity: 'critical' });
      assert.deepEqual(first, { id: first.id, kind: 'monitor-failed', monitorId: 'm1', checkpoint: 'cp', runId: 'r1', createdAt: at(0), message: 'Orders failed', severity: 'critical', deliveries: [] });
      assert.equal(typeof first.id, 'number');
      const second = await store.insertAlert({ kind: 'checkpoint-down', checkpoint: 'cp', createdAt: at(5), message: 'cp down' });
      assert.deepEqual([second.severity, second.monitorId, second.runId], ['info', undefined, undefined]);
      assert.ok(second.id > first.id);
      const third = await store.insertAlert({ kind: 'monitor-recovered', monitorId: 'm2', checkpoint: 'other', createdAt: at(10), message: 'Accounts recovered' });
      const deliveries = [
        { url: 'channel:slack', channel: 'slack', delivered: true, attempts: 1, status: 200 },
        { url: 'https://hooks.example/x', delivered: false, attempts: 3, error: 'timed out' },
      ];
      await store.setAlertDeliveries(first.id, deliveries);
      const ids = (alerts: { id: number }[]) => alerts.map((alert) => alert.id);
      const all = await store.listAlerts(10);
      assert.deepEqual(ids(all), [third.id, second.id, first.id]);
      assert.deepEqual(all[2]?.deliveries, deliveries);
      assert.deepEqual(ids(await store.listAlerts(2)), [third.id, second.id]);
      assert.deepEqual(ids(await store.listAlerts(10, { monitorId: 'm1' })), [first.id]);
      assert.deepEqual(ids(await store.listAlerts(10, { checkpoint: 'cp' })), [second.id, first.id]);
      assert.deepEqual(ids(await store.listAlerts(10, { kinds: ['monitor-failed', 'monitor-recovered'] })), [third.id, first.id]);
      assert.deepEqual(ids(await store.listAlerts(10, { since: '2026-01-01T00:05:00Z' })), [third.id, second.id], 'since is inclusive and normalised');
      assert.deepEqual(ids(await store.listAlerts(10, { checkpoint: 'cp', kinds: ['checkpoint-up'] })), []);
    });

    test('prune deletes what is older than each cut-off, never runs in flight nor connected instances; counts agree', async (t) => {
      const store = await open(t);
      await store.createCheckpoint('cp', 'h', at(0));
      const shared = 'a'.repeat(64);
      const unused = 'b'.repeat(64);
      const fresh = 'e'.repeat(64);
      for (const sha256 of [shared, unused]) await store.insertArtifact({ sha256, sizeBytes: 1, contentType: 'image/png', file: `${sha256.slice(0, 2)}/${sha256}`, createdAt: at(0) });
      await store.insertArtifact({ sha256: fresh, sizeBytes: 1, contentType: 'image/png', file: 'ee/fresh', createdAt: at(500) });
      await dispatch(store, 'old', { minute: 0 });
      await store.storeResult(envelope('old', 'passed', [shared]), 'cp', at(1));
      await dispatch(store, 'stuck', { minute: 0 });
      await dispatch(store, 'recent', { minute: 400 });
      await store.storeResult(envelope('recent', 'passed', [shared]), 'cp', at(401));
      await store.storeResult(envelope('orphan'), 'cp', at(2));
      await store.insertAlert({ kind: 'checkpoint-down', checkpoint: 'cp', createdAt: at(0), message: 'old' });
      await store.insertAlert({ kind: 'checkpoint-up', checkpoint: 'cp', createdAt: at(400), message: 'new' });
      await hello(store, 'gone', 'cp', at(0));
      await store.instanceDisconnected('cp', 'gone', at(0));
      await hello(store, 'quiet', 'cp', at(0));
      await hello(store, 'later', 'cp', at(0));
      await store.instanceDisconnected('cp', 'later', at(400));
      assert.deepEqual(await store.counts(), { runs: 4, results: 3, alerts: 2, artifacts: 3, instances: 3 });

      assert.deepEqual(await store.prune({}), { runs: 0, results: 0, alerts: 0, instances: 0, artifactFiles: [] }, 'no cut-off keeps everything');
      const pruned = await store.prune({ runsBefore: at(300), alertsBefore: at(300), artifactsBefore: at(300), instancesBefore: at(300) });
      assert.deepEqual(pruned, { runs: 2, results: 2, alerts: 1, instances: 1, artifactFiles: [`bb/${unused}`] });
      assert.equal(await store.getRun('old'), undefined);
      assert.equal(await store.getRun('orphan'), undefined, 'the unsolicited run is a finished run too');
      assert.equal((await store.getRun('stuck'))?.status, 'dispatched', 'a run in flight is never pruned');
      assert.ok((await store.getArtifact(shared)) !== undefined, 'an old artifact a recent result used stays');
      assert.deepEqual(
        (await store.listInstances('cp')).map((instance) => instance.id),
        ['later', 'quiet'],
        'connected instances stay whatever their age',
      );
      assert.deepEqual(await store.counts(), { runs: 2, results: 1, alerts: 1, artifacts: 2, instances: 2 });

      const resultsOnly = await store.prune({ resultsBefore: at(1000) });
      assert.deepEqual([resultsOnly.runs, resultsOnly.results], [0, 1]);
      assert.equal(await store.getResult('recent'), undefined);
      assert.equal((await store.getRun('recent'))?.status, 'passed', 'pruning results alone keeps their runs');
    });
  });
}
