import type pg from 'pg';
import type { ResultEnvelope } from '../engine/index.ts';
import { text, toRun, type Row } from './store-rows.ts';
import type { RunRecord } from './store.ts';

/**
 * storeResult's statements, inside the caller's transaction. Exactly once across replicas: the results table's
 * key decides. `ON CONFLICT DO NOTHING` makes a second transaction inserting the same run id wait until the
 * first commits (or rolls back), then insert nothing, so of two replicas storing one result at once one stores
 * it and the other counts a duplicate. The run row is locked before it is read, so a concurrent
 * `markRunLost` either happened before (the result is late) or waits and then finds the run finished.
 */
export async function storeResultRows(client: pg.ClientBase, envelope: ResultEnvelope, checkpoint: string, now: string, finishedAt: string): Promise<{ stored: 'new' | 'duplicate'; run: RunRecord }> {
  const runId = envelope.runId;
  const inserted = await client.query('INSERT INTO results (run_id, envelope, received_at) VALUES ($1, $2, $3) ON CONFLICT (run_id) DO NOTHING', [runId, JSON.stringify(envelope), now]);
  const existingRow = (await client.query<Row>('SELECT * FROM runs WHERE run_id = $1 FOR UPDATE', [runId])).rows[0];
  const existing = existingRow === undefined ? undefined : toRun(existingRow);
  if (inserted.rowCount === 0) {
    await client.query('UPDATE results SET duplicates = duplicates + 1 WHERE run_id = $1', [runId]);
    if (existing === undefined) throw new Error(`result ${runId} is stored but has no run`);
    return { stored: 'duplicate', run: existing };
  }
  const status = envelope.result.status;
  const duration = envelope.result.durationMs;
  const artifacts = envelope.artifacts.map((artifact) => artifact.sha256);
  if (artifacts.length > 0) await client.query('UPDATE artifacts SET last_used_at = $1 WHERE sha256 = ANY($2::text[])', [now, artifacts]);
  let row: Row | undefined;
  if (existing === undefined) {
    row = (
      await client.query<Row>(
        `INSERT INTO runs (run_id, monitor_id, checkpoint, attempt, instance, reason, status, dispatched_at, finished_at, duration_ms, late, result_status)
         VALUES ($1, $2, $3, $4, $5, 'unsolicited', $6, $7, $8, $9, 1, $6) RETURNING *`,
        [runId, envelope.monitorId, checkpoint, envelope.attempt, envelope.instanceId, status, envelope.result.startedAt, finishedAt, duration],
      )
    ).rows[0];
  } else if (existing.status === 'lost') {
    row = (await client.query<Row>('UPDATE runs SET late = 1, finished_at = $1, duration_ms = $2, result_status = $3 WHERE run_id = $4 RETURNING *', [finishedAt, duration, status, runId])).rows[0];
  } else {
    row = (
      await client.query<Row>('UPDATE runs SET status = $1, finished_at = $2, duration_ms = $3, result_status = $1, decided = 0 WHERE run_id = $4 RETURNING *', [status, finishedAt, duration, runId])
    ).rows[0];
  }
  if (row === undefined) throw new Error(`run ${runId} vanished`);
  return { stored: 'new', run: toRun(row) };
}

/** prune's statements, inside the caller's transaction (the same deletions as the SQLite store's). */
export async function pruneRows(
  client: pg.ClientBase,
  cutoffs: { runsBefore?: string; resultsBefore?: string; alertsBefore?: string; artifactsBefore?: string; instancesBefore?: string },
): Promise<{ runs: number; results: number; alerts: number; instances: number; artifactFiles: string[] }> {
  const changed = async (sql: string, cutoff: string) => (await client.query(sql, [cutoff])).rowCount ?? 0;
  let results = 0;
  let runs = 0;
  if (cutoffs.runsBefore !== undefined) {
    const finished = "status NOT IN ('dispatched', 'running') AND dispatched_at < $1";
    results += await changed(`DELETE FROM results WHERE run_id IN (SELECT run_id FROM runs WHERE ${finished})`, cutoffs.runsBefore);
    runs = await changed(`DELETE FROM runs WHERE ${finished}`, cutoffs.runsBefore);
  }
  if (cutoffs.resultsBefore !== undefined) results += await changed('DELETE FROM results WHERE received_at < $1', cutoffs.resultsBefore);
  const alerts = cutoffs.alertsBefore === undefined ? 0 : await changed('DELETE FROM alerts WHERE created_at < $1', cutoffs.alertsBefore);
  const instances = cutoffs.instancesBefore === undefined ? 0 : await changed('DELETE FROM instances WHERE connected = 0 AND last_seen < $1', cutoffs.instancesBefore);
  let artifactFiles: string[] = [];
  if (cutoffs.artifactsBefore !== undefined) {
    // RETURNING names exactly the rows deleted: no window for a result to start using one in between.
    const { rows } = await client.query<Row>('DELETE FROM artifacts WHERE COALESCE(last_used_at, created_at) < $1 RETURNING file', [cutoffs.artifactsBefore]);
    artifactFiles = rows.map((row) => text(row, 'file')).sort();
  }
  return { runs, results, alerts, instances, artifactFiles };
}
