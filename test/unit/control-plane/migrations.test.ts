import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, it } from 'node:test';
import { migrations } from '../../../control-plane/migrations.ts';
import { SqliteStore } from '../../../control-plane/store-sqlite.ts';

describe('control-plane migrations', () => {
  it('upgrades a database of the first schema: rows kept, and the `warning` verdict, health and alert accepted', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'checkpoint-migrations-'));
    try {
      const old = new DatabaseSync(join(dir, 'control-plane.db'));
      old.exec(migrations[0] ?? '');
      old.exec('PRAGMA user_version = 1');
      old.exec(`INSERT INTO monitors (id, name, checkpoint, interval_seconds, enabled, script, health, created_at, updated_at)
        VALUES ('m1', 'Orders', 'intranet', 60, 1, '{"name":"x","steps":[]}', 'failing', '2026-01-01', '2026-01-01')`);
      old.exec(`INSERT INTO runs (run_id, monitor_id, checkpoint, attempt, reason, status, dispatched_at)
        VALUES ('r1', 'm1', 'intranet', 1, 'schedule', 'failed', '2026-01-01')`);
      old.exec(`INSERT INTO alerts (kind, monitor_id, created_at, message) VALUES ('monitor-failed', 'm1', '2026-01-01', 'Orders failed')`);
      old.close();

      const store = new SqliteStore(dir);
      assert.equal((await store.getMonitor('m1'))?.health, 'failing', 'the monitor survived');
      assert.equal((await store.getRun('r1'))?.status, 'failed', 'the run survived');
      assert.equal((await store.listAlerts(10))[0]?.kind, 'monitor-failed', 'the alert survived');
      await store.setMonitorHealth('m1', 'warning');
      assert.equal((await store.getMonitor('m1'))?.health, 'warning');
      await store.insertAlert({ kind: 'monitor-warning', monitorId: 'm1', createdAt: '2026-01-02', message: 'Orders passed with warnings' });
      assert.equal((await store.listAlerts(10)).length, 2);
      await store.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
