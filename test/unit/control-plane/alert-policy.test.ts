import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, it } from 'node:test';
import { severityFor } from '../../../control-plane/alerts.ts';
import { decideAfterResult, failuresInARow } from '../../../control-plane/dispatch-policy.ts';
import { migrations } from '../../../control-plane/migrations.ts';
import { SqliteStore } from '../../../control-plane/store-sqlite.ts';

describe('alert policy: N failed checks in a row', () => {
  it('alerts on the Nth failure in a row, retrying only a first attempt', () => {
    const decide = (failuresBefore: number, attempt: number, alertAfter?: number) =>
      decideAfterResult({ outcome: 'failed', attempt, health: 'ok', late: false, failuresBefore, ...(alertAfter === undefined ? {} : { alertAfter }) });
    assert.deepEqual(decide(0, 1), { retry: true, health: 'ok' }, 'default: a first failure is re-run');
    assert.deepEqual(decide(1, 2), { retry: false, alert: 'monitor-failed', health: 'failing' }, 'default: the retry`s failure alerts');
    assert.deepEqual(decide(0, 1, 1), { retry: false, alert: 'monitor-failed', health: 'failing' }, 'afterFailures 1 alerts at once');
    assert.deepEqual(decide(1, 2, 3), { retry: false, health: 'ok' });
    assert.deepEqual(decide(2, 1, 3), { retry: false, alert: 'monitor-failed', health: 'failing' });
    assert.deepEqual(decideAfterResult({ outcome: 'error', attempt: 1, health: 'failing', late: false, failuresBefore: 5, alertAfter: 3 }), { retry: true, health: 'failing' }, 'no second alert');
  });

  it('counts failures in a row: a pass or warning resets, a late result changes nothing', () => {
    assert.equal(failuresInARow({ outcome: 'failed', attempt: 1, late: false, failuresBefore: 2 }), 3);
    assert.equal(failuresInARow({ outcome: 'error', attempt: 2, late: false }), 2, 'without a stored count: the retry chain');
    assert.equal(failuresInARow({ outcome: 'warning', attempt: 1, late: false, failuresBefore: 2 }), 0);
    assert.equal(failuresInARow({ outcome: 'passed', attempt: 1, late: true, failuresBefore: 2 }), 2);
  });

  it('gives failures the monitor`s severity (critical by default) and the rest theirs by kind', () => {
    assert.equal(severityFor('monitor-failed', undefined), 'critical');
    assert.equal(severityFor('monitor-reminder', { severity: 'error' }), 'error');
    assert.equal(severityFor('monitor-warning', { severity: 'critical' }), 'warning');
    assert.equal(severityFor('checkpoint-down', undefined), 'error');
    assert.equal(severityFor('monitor-resolved', { severity: 'critical' }), 'info');
  });
});

describe('control-plane migrations: alerting', () => {
  it('upgrades a database of the second schema: alerts keep their rows and get a severity by kind, monitors an empty alert state', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'checkpoint-migrations-alerting-'));
    try {
      const old = new DatabaseSync(join(dir, 'control-plane.db'));
      old.exec(migrations[0] ?? '');
      old.exec(migrations[1] ?? '');
      old.exec('PRAGMA user_version = 2');
      old.exec(`INSERT INTO monitors (id, name, checkpoint, interval_seconds, enabled, script, health, created_at, updated_at)
        VALUES ('m1', 'Orders', 'intranet', 60, 1, '{"name":"x","steps":[]}', 'failing', '2026-01-01', '2026-01-01')`);
      old.exec(`INSERT INTO alerts (kind, monitor_id, created_at, message) VALUES ('monitor-failed', 'm1', '2026-01-01', 'Orders failed')`);
      old.exec(`INSERT INTO alerts (kind, checkpoint, created_at, message) VALUES ('checkpoint-down', 'intranet', '2026-01-02', 'down')`);
      old.close();

      const store = new SqliteStore(dir);
      assert.deepEqual(
        (await store.listAlerts(10)).map((alert) => [alert.id, alert.kind, alert.severity]),
        [
          [2, 'checkpoint-down', 'error'],
          [1, 'monitor-failed', 'critical'],
        ],
      );
      assert.deepEqual(await store.getMonitorAlertState('m1'), { consecutiveFailures: 0 });
      assert.equal((await store.getMonitor('m1'))?.alerting, undefined);
      await store.insertAlert({ kind: 'monitor-resolved', monitorId: 'm1', createdAt: '2026-01-03', message: 'resolved' });
      assert.equal((await store.listAlerts(1))[0]?.id, 3, 'ids continue');
      await store.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
