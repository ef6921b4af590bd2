import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, it, type TestContext } from 'node:test';
import { migrations } from '../../../control-plane/migrations.ts';
import { SqliteStore } from '../../../control-plane/store-sqlite.ts';
import { minimalResult } from '../../helpers/fake-agent.ts';

async function dataDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cp-store-lifecycle-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function envelope(runId: string, artifacts: string[] = []) {
  return {
    runId,
    monitorId: 'm1',
    attempt: 1,
    instanceId: 'a',
    finishedAt: '2026-01-01T00:00:10.000Z',
    result: minimalResult({ runId, status: 'passed' }),
    artifacts: artifacts.map((sha256) => ({ path: `${sha256}.png`, sha256, contentType: 'image/png', sizeBytes: 1 })),
  };
}

describe('control-plane store: lifecycle', () => {
  it('migration 3 repairs run times set in the future by a forged result, keeping the rest', async (t) => {
    const dir = await dataDir(t);
    const old = new DatabaseSync(join(dir, 'control-plane.db'));
    old.exec(migrations[0] ?? '');
    old.exec(migrations[1] ?? '');
    old.exec('PRAGMA user_version = 2');
    old.exec(`INSERT INTO runs (run_id, monitor_id, checkpoint, attempt, reason, status, dispatched_at, finished_at)
      VALUES ('forged', 'm1', 'cp', 1, 'unsolicited', 'passed', '2099-01-01T00:00:00.000Z', '2099-01-01T00:00:01.000Z'),
             ('honest', 'm1', 'cp', 1, 'schedule', 'passed', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:02.000Z')`);
    old.close();
    const store = new SqliteStore(dir);
    t.after(() => store.close());
    const forged = await store.getRun('forged');
    assert.ok(forged !== undefined && Date.parse(forged.dispatchedAt) <= Date.now() && Date.parse(forged.finishedAt ?? '') <= Date.now() + 86_400_000);
    assert.equal((await store.getRun('honest'))?.dispatchedAt, '2026-01-01T00:00:00.000Z');
  });

  it('accepts the previous token until its grace ends, none after a revocation, and gives a revoked token no grace', async (t) => {
    const store = new SqliteStore(await dataDir(t));
    t.after(() => store.close());
    await store.createCheckpoint('cp', 'h1', '2026-01-01T00:00:00.000Z');
    await store.rotateCheckpointToken('cp', 'h2', '2026-01-01T01:00:00.000Z');
    assert.equal((await store.checkpointByTokenHash('h1', '2026-01-01T00:59:59.000Z'))?.name, 'cp');
    assert.equal(await store.checkpointByTokenHash('h1', '2026-01-01T01:00:00.000Z'), undefined);
    assert.equal((await store.checkpointByTokenHash('h2', '2026-01-01T05:00:00.000Z'))?.name, 'cp');
    await store.revokeCheckpointTokens('cp', 'x');
    assert.equal(await store.checkpointByTokenHash('h2', '2026-01-01T05:00:00.000Z'), undefined);
    await store.rotateCheckpointToken('cp', 'h3', '2026-01-02T00:00:00.000Z');
    assert.equal((await store.checkpointByTokenHash('h3', '2026-01-01T05:00:00.000Z'))?.name, 'cp');
    assert.equal(await store.checkpointByTokenHash('h2', '2026-01-01T05:00:00.000Z'), undefined, 'the rotation after a revocation gives the revoked token no grace');
  });

  it('prunes old finished runs but never runs in flight, and keeps an old artifact a recent result still uses', async (t) => {
    const store = new SqliteStore(await dataDir(t));
    t.after(() => store.close());
    await store.createCheckpoint('cp', 'h', '2026-01-01T00:00:00.000Z');
    const dispatch = (runId: string, at: string) =>
      store.insertRun({ runId, monitorId: 'm1', checkpoint: 'cp', attempt: 1, instance: 'a', reason: 'schedule', dispatchedAt: at, leaseDeadline: at });
    const shared = 'a'.repeat(64);
    const unused = 'b'.repeat(64);
    for (const sha256 of [shared, unused]) await store.insertArtifact({ sha256, sizeBytes: 1, contentType: 'image/png', file: `${sha256.slice(0, 2)}/${sha256}`, createdAt: '2026-01-01T00:00:00.000Z' });
    await dispatch('old', '2026-01-01T00:00:00.000Z');
    await store.storeResult(envelope('old', [shared]), 'cp', '2026-01-01T00:00:10.000Z');
    await dispatch('stuck', '2026-01-01T00:00:00.000Z');
    await dispatch('recent', '2026-03-01T00:00:00.000Z');
    await store.storeResult(envelope('recent', [shared]), 'cp', '2026-03-01T00:00:10.000Z');
    const pruned = await store.prune({ runsBefore: '2026-02-01T00:00:00.000Z', artifactsBefore: '2026-02-01T00:00:00.000Z' });
    assert.deepEqual([pruned.runs, pruned.results], [1, 1]);
    assert.deepEqual(pruned.artifactFiles, [`bb/${unused}`]);
    assert.equal(await store.getRun('old'), undefined);
    assert.equal((await store.getRun('stuck'))?.status, 'dispatched', 'a run in flight is never pruned');
    assert.ok(await store.getArtifact(shared) !== undefined, 'used by a recent result');
  });
});
