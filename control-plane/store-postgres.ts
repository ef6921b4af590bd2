import type pg from 'pg';
import type { CheckpointHealth, MonitorHealth } from './dispatch-policy.ts';
import type { MonitorDefinition, ResultEnvelope } from '../engine/index.ts';
import { migratePostgres } from './migrations-postgres.ts';
import { checkpointsOf } from './monitor-definition.ts';
import type { Channel, MaintenanceWindow, MonitorAlerting, Severity } from './api-schemas.ts';
import { monitorColumnValues, num, optionalText, setDefined, text, toAlert, toCheckpoint, toInstance, toMonitor, toMonitors, toRun, type Row } from './store-rows.ts';
import { connectError, createPool, type PostgresStoreOptions } from './store-postgres-connection.ts';
import { assertLeaseHeld, type Fence } from './store-postgres-fence.ts';
import { pruneRows, storeResultRows } from './store-postgres-results.ts';
import {
  ConflictError,
  type AlertKind,
  type AlertRecord,
  type ArtifactRecord,
  type CheckpointRecord,
  type ControlPlaneStore,
  type InstanceRecord,
  type MonitorAlertState,
  type MonitorRecord,
  type RunFilter,
  type RunReason,
  type RunRecord,
  type RunState,
  type StoredDefinition,
  type StoredResult,
  type WebhookDelivery,
} from './store.ts';

export { FencedError } from './store-postgres-fence.ts';
export { PostgresConnectError, redactPostgresUrl, type PostgresStoreOptions } from './store-postgres-connection.ts';

type Params = readonly unknown[];
type Definitions = 'channels' | 'maintenance_windows';

/** A monitor row that runs on checkpoint $1: its only one, or among its `checkpoints` (JSON text). */
const onCheckpoint = '(checkpoint = $1 OR (checkpoints IS NOT NULL AND checkpoints::jsonb @> jsonb_build_array($1::text)))';

/** monitors.health ($1) as the worst of its checkpoints' states. */
const refreshHealth = `UPDATE monitors SET health = COALESCE((
    SELECT CASE MAX(CASE health WHEN 'failing' THEN 2 WHEN 'warning' THEN 1 ELSE 0 END) WHEN 2 THEN 'failing' WHEN 1 THEN 'warning' ELSE 'ok' END
    FROM monitor_states WHERE monitor_id = $1), 'ok') WHERE id = $1`;

/** The run states that have a result (the `lastFinishedRun` filter). */
const finishedStates = ['passed', 'warning', 'failed', 'error'];

/**
 * Open the PostgreSQL store at `url`: connect, migrate (one replica at a time), and return the store. Fails
 * with a {@link PostgresConnectError} naming the URL without its password when the server is unreachable,
 * refuses the login, or the schema cannot be brought up to date.
 */
export async function openPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
  let pool: pg.Pool;
  try {
    pool = createPool(url, options);
  } catch (error) {
    throw connectError(url, 'connect', error);
  }
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    await pool.end().catch(() => {});
    throw connectError(url, 'connect', error);
  }
  try {
    await migratePostgres(client);
  } catch (error) {
    client.release(true);
    await pool.end().catch(() => {});
    throw connectError(url, 'migrate', error);
  }
  client.release();
  return new PostgresStore(pool, options.fence);
}

/**
 * Everything the control plane keeps, in PostgreSQL, shared by several control-plane replicas. The SQL mirrors
 * the SQLite store's (store-sqlite.ts, the reference semantics); where SQLite relies on one writer at a time,
 * this one takes row locks or lets a unique key decide (see storeResult). With a `fence`, the scheduler's
 * decisions are refused with `FencedError` unless this replica holds the leader lease.
 */
export class PostgresStore implements ControlPlaneStore {
  readonly #pool: pg.Pool;
  readonly #fence: Fence | undefined;
  /** A view made by {@link fencedAt} shares its parent's pool and leaves closing it to the parent. */
  readonly #ownsPool: boolean;
  #closed = false;

  constructor(pool: pg.Pool, fence?: Fence, ownsPool = true) {
    this.#pool = pool;
    this.#fence = fence;
    this.#ownsPool = ownsPool;
  }

  /** The same store whose decisions hold only in lease term `term` (a scheduler started for that grant uses it). */
  fencedAt(term: number): ControlPlaneStore {
    if (this.#fence === undefined) return this;
    return new PostgresStore(this.#pool, { ...this.#fence, term }, false);
  }

  async #rows(sql: string, params: Params = [], client?: pg.ClientBase): Promise<Row[]> {
    return (await (client ?? this.#pool).query<Row>(sql, [...params])).rows;
  }

  async #row(sql: string, params: Params = [], client?: pg.ClientBase): Promise<Row | undefined> {
    return (await this.#rows(sql, params, client))[0];
  }

  /** Rows changed. */
  async #run(sql: string, params: Params = [], client?: pg.ClientBase): Promise<number> {
    return (await (client ?? this.#pool).query(sql, [...params])).rowCount ?? 0;
  }

  /** Run `work` in one transaction on one connection (READ COMMITTED, PostgreSQL's default). */
  async #transaction<T>(work: (client: pg.ClientBase) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const value = await work(client);
      await client.query('COMMIT');
      return value;
    } catch (error) {
      await client.query('ROLLBACK').catch((rollbackError: unknown) => {
        // A connection that cannot even roll back is not given back to the pool.
        broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
      });
      throw error;
    } finally {
      client.release(broken);
    }
  }

  /** A scheduler decision: checked against the lease in the same transaction when fenced, else a plain statement. */
  async #decide<T>(work: (client?: pg.ClientBase) => Promise<T>): Promise<T> {
    const fence = this.#fence;
    if (fence === undefined) return work();
    return this.#transaction(async (client) => {
      await assertLeaseHeld(client, fence);
      return work(client);
    });
  }

  async ping(): Promise<void> {
    await this.#pool.query('SELECT 1');
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#ownsPool) await this.#pool.end();
  }

  // ---- checkpoints ----

  async createCheckpoint(name: string, tokenHash: string, now: string): Promise<CheckpointRecord> {
    // Only a name conflict is a ConflictError; a token hash that collides fails on its own unique key, as in SQLite.
    const inserted = await this.#run('INSERT INTO checkpoints (name, token_hash, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING', [name, tokenHash, now]);
    if (inserted === 0) throw new ConflictError(`a checkpoint named "${name}" already exists`);
    return { name, createdAt: now, health: 'unknown' };
  }

  async getCheckpoint(name: string): Promise<CheckpointRecord | undefined> {
    const row = await this.#row('SELECT name, created_at, health FROM checkpoints WHERE name = $1', [name]);
    return row === undefined ? undefined : toCheckpoint(row);
  }

  async checkpointByTokenHash(tokenHash: string, now: string): Promise<CheckpointRecord | undefined> {
    const row =
      (await this.#row('SELECT name, created_at, health FROM checkpoints WHERE token_hash = $1', [tokenHash])) ??
      (await this.#row('SELECT name, created_at, health FROM checkpoints WHERE previous_token_hash = $1 AND previous_token_expires_at > $2', [tokenHash, now]));
    return row === undefined ? undefined : toCheckpoint(row);
  }

  async rotateCheckpointToken(name: string, tokenHash: string, previousValidUntil: string | undefined): Promise<boolean> {
    const changed = await this.#run(
      `UPDATE checkpoints SET previous_token_hash = CASE WHEN $1::text IS NULL OR token_hash LIKE 'revoked:%' THEN NULL ELSE token_hash END,
         previous_token_expires_at = CASE WHEN $1::text IS NULL OR token_hash LIKE 'revoked:%' THEN NULL ELSE $1::text END, token_hash = $2
       WHERE name = $3`,
      [previousValidUntil ?? null, tokenHash, name],
    );
    return changed > 0;
  }

  async revokeCheckpointTokens(name: string, marker: string): Promise<boolean> {
    return (await this.#run('UPDATE checkpoints SET token_hash = $1, previous_token_hash = NULL, previous_token_expires_at = NULL WHERE name = $2', [`revoked:${marker}`, name])) > 0;
  }

  async deleteCheckpoint(name: string): Promise<{ monitors: string[]; updated: string[] } | undefined> {
    return this.#transaction(async (client) => {
      // The row lock orders this after (or before) a concurrent instance hello, which references the checkpoint.
      if ((await this.#row('SELECT name FROM checkpoints WHERE name = $1 FOR UPDATE', [name], client)) === undefined) return undefined;
      const monitors: string[] = [];
      const updated: string[] = [];
      for (const row of await this.#rows(`SELECT * FROM monitors WHERE ${onCheckpoint} FOR UPDATE`, [name], client)) {
        const monitor = toMonitor(row);
        const rest = checkpointsOf(monitor).filter((other) => other !== name);
        if (rest.length === 0) {
          await this.#run('DELETE FROM monitors WHERE id = $1', [monitor.id], client);
          monitors.push(monitor.id);
          continue;
        }
        await this.#run('UPDATE monitors SET checkpoint = $2, checkpoints = $3 WHERE id = $1', [monitor.id, rest[0] ?? '', rest.length > 1 ? JSON.stringify(rest) : null], client);
        await this.#run('DELETE FROM monitor_states WHERE monitor_id = $1 AND checkpoint = $2', [monitor.id, name], client);
        await this.#run(refreshHealth, [monitor.id], client);
        updated.push(monitor.id);
      }
      await this.#run('DELETE FROM instances WHERE checkpoint = $1', [name], client);
      await this.#run('DELETE FROM checkpoints WHERE name = $1', [name], client);
      return { monitors: monitors.sort(), updated: updated.sort() };
    });
  }

  async listCheckpoints(): Promise<CheckpointRecord[]> {
    return (await this.#rows('SELECT name, created_at, health FROM checkpoints ORDER BY name')).map(toCheckpoint);
  }

  async setCheckpointHealth(name: string, health: CheckpointHealth): Promise<void> {
    await this.#decide((client) => this.#run('UPDATE checkpoints SET health = $1 WHERE name = $2', [health, name], client));
  }

  // ---- instances ----

  async instanceHello(input: { checkpoint: string; id: string; version: string; browserVersion?: string; capacity: number; privacyLock: boolean; startedAt: string; now: string }): Promise<void> {
    await this.#run(
      `INSERT INTO instances (checkpoint, id, version, browser_version, capacity, privacy_lock, connected, draining, started_at, first_seen, last_seen)
       VALUES ($1, $2, $3, $4, $5, $6, 1, 0, $7, $8, $8)
       ON CONFLICT (checkpoint, id) DO UPDATE SET version = excluded.version, browser_version = excluded.browser_version,
         capacity = excluded.capacity, privacy_lock = excluded.privacy_lock, connected = 1, draining = 0,
         started_at = excluded.started_at, last_seen = excluded.last_seen, running = 0, load = 0`,
      [input.checkpoint, input.id, input.version, input.browserVersion ?? null, input.capacity, input.privacyLock ? 1 : 0, input.startedAt, input.now],
    );
  }

  async instanceHeartbeat(input: { checkpoint: string; id: string; running: number; load: number; draining: boolean; outboxDepth: number; now: string }): Promise<void> {
    await this.#run('UPDATE instances SET connected = 1, running = $1, load = $2, draining = $3, outbox_depth = $4, last_seen = $5 WHERE checkpoint = $6 AND id = $7', [
      input.running,
      input.load,
      input.draining ? 1 : 0,
      input.outboxDepth,
      input.now,
      input.checkpoint,
      input.id,
    ]);
  }

  async instanceDisconnected(checkpoint: string, id: string, now: string): Promise<void> {
    await this.#run('UPDATE instances SET connected = 0, last_seen = $1 WHERE checkpoint = $2 AND id = $3', [now, checkpoint, id]);
  }

  async markAllInstancesDisconnected(): Promise<void> {
    await this.#run('UPDATE instances SET connected = 0');
  }

  async deleteInstance(checkpoint: string, id: string): Promise<boolean> {
    return (await this.#run('DELETE FROM instances WHERE checkpoint = $1 AND id = $2', [checkpoint, id])) > 0;
  }

  async countInstances(checkpoint: string): Promise<number> {
    const row = await this.#row('SELECT COUNT(*)::int AS n FROM instances WHERE checkpoint = $1', [checkpoint]);
    return row === undefined ? 0 : num(row, 'n');
  }

  async instanceExists(checkpoint: string, id: string): Promise<boolean> {
    return (await this.#row('SELECT 1 AS x FROM instances WHERE checkpoint = $1 AND id = $2', [checkpoint, id])) !== undefined;
  }

  async listInstances(checkpoint?: string): Promise<InstanceRecord[]> {
    const rows =
      checkpoint === undefined
        ? await this.#rows('SELECT * FROM instances ORDER BY checkpoint, id')
        : await this.#rows('SELECT * FROM instances WHERE checkpoint = $1 ORDER BY id', [checkpoint]);
    return rows.map(toInstance);
  }

  // ---- monitors ----

  async insertMonitor(definition: MonitorDefinition & { alerting?: MonitorAlerting }, now: string): Promise<MonitorRecord> {
    const row = await this.#row(
      `INSERT INTO monitors (id, name, checkpoint, checkpoints, placement, interval_seconds, enabled, script, variables, capture, alert_on_warning, alerting, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) ON CONFLICT (id) DO NOTHING RETURNING *`,
      [definition.id, ...monitorColumnValues(definition), now],
    );
    if (row === undefined) throw new ConflictError(`a monitor with id "${definition.id}" already exists`);
    return toMonitor(row);
  }

  async updateMonitor(definition: MonitorDefinition & { alerting?: MonitorAlerting }, now: string): Promise<MonitorRecord | undefined> {
    const found = await this.#transaction(async (client) => {
      const row = await this.#row(
        `UPDATE monitors SET name = $2, checkpoint = $3, checkpoints = $4, placement = $5, interval_seconds = $6, enabled = $7, script = $8, variables = $9,
           capture = $10, alert_on_warning = $11, alerting = $12, updated_at = $13
         WHERE id = $1 RETURNING id`,
        [definition.id, ...monitorColumnValues(definition), now],
        client,
      );
      if (row === undefined) return false;
      // A checkpoint it no longer runs on keeps no state (and no part in its health).
      await this.#run('DELETE FROM monitor_states WHERE monitor_id = $1 AND NOT (checkpoint = ANY($2::text[]))', [definition.id, checkpointsOf(definition)], client);
      await this.#run(refreshHealth, [definition.id], client);
      return true;
    });
    return found ? this.getMonitor(definition.id) : undefined;
  }

  async deleteMonitor(id: string): Promise<boolean> {
    return (await this.#run('DELETE FROM monitors WHERE id = $1', [id])) > 0;
  }

  async getMonitor(id: string): Promise<MonitorRecord | undefined> {
    const row = await this.#row('SELECT * FROM monitors WHERE id = $1', [id]);
    return row === undefined ? undefined : toMonitor(row, await this.#rows('SELECT * FROM monitor_states WHERE monitor_id = $1', [id]));
  }

  async listMonitors(checkpoint?: string): Promise<MonitorRecord[]> {
    const rows =
      checkpoint === undefined
        ? await this.#rows('SELECT * FROM monitors ORDER BY name, id')
        : await this.#rows(`SELECT * FROM monitors WHERE ${onCheckpoint} ORDER BY name, id`, [checkpoint]);
    if (rows.length === 0) return [];
    // The states of every monitor in one more query, however many there are.
    return toMonitors(rows, await this.#rows('SELECT * FROM monitor_states'));
  }

  /** A scheduler decision of several statements: one transaction, fenced when this store is. */
  async #decideTogether<T>(work: (client: pg.ClientBase) => Promise<T>): Promise<T> {
    const fence = this.#fence;
    return this.#transaction(async (client) => {
      if (fence !== undefined) await assertLeaseHeld(client, fence);
      return work(client);
    });
  }

  async setMonitorHealth(id: string, health: MonitorHealth, checkpoint?: string): Promise<void> {
    await this.#decideTogether(async (client) => {
      const row = await this.#row('SELECT * FROM monitors WHERE id = $1 FOR UPDATE', [id], client);
      if (row === undefined) return;
      // Only checkpoints it still names: a decision taken as one was removed leaves no stray state.
      for (const name of checkpointsOf(toMonitor(row)).filter((named) => checkpoint === undefined || named === checkpoint)) {
        await this.#run(
          'INSERT INTO monitor_states (monitor_id, checkpoint, health) VALUES ($1, $2, $3) ON CONFLICT (monitor_id, checkpoint) DO UPDATE SET health = excluded.health',
          [id, name, health],
          client,
        );
      }
      await this.#run(refreshHealth, [id], client);
    });
  }

  /** The checkpoint a state call means: the one given, or the monitor's first. */
  async #stateCheckpoint(id: string, checkpoint: string | undefined): Promise<string | undefined> {
    if (checkpoint !== undefined) return checkpoint;
    const row = await this.#row('SELECT checkpoint FROM monitors WHERE id = $1', [id]);
    return row === undefined ? undefined : text(row, 'checkpoint');
  }

  async getMonitorAlertState(id: string, checkpoint?: string): Promise<MonitorAlertState> {
    const name = await this.#stateCheckpoint(id, checkpoint);
    const row = name === undefined ? undefined : await this.#row('SELECT consecutive_failures, last_notified_at FROM monitor_states WHERE monitor_id = $1 AND checkpoint = $2', [id, name]);
    const state: MonitorAlertState = { consecutiveFailures: row === undefined ? 0 : num(row, 'consecutive_failures') };
    if (row !== undefined) setDefined(state, 'lastNotifiedAt', optionalText(row, 'last_notified_at'));
    return state;
  }

  async setMonitorAlertState(id: string, state: MonitorAlertState, checkpoint?: string): Promise<void> {
    const name = await this.#stateCheckpoint(id, checkpoint);
    if (name === undefined) return;
    await this.#decide((client) =>
      this.#run(
        `INSERT INTO monitor_states (monitor_id, checkpoint, consecutive_failures, last_notified_at)
         SELECT $1, $2::text, $3, $4 WHERE EXISTS (SELECT 1 FROM monitors WHERE id = $1 AND (checkpoint = $2 OR (checkpoints IS NOT NULL AND checkpoints::jsonb @> jsonb_build_array($2::text))))
         ON CONFLICT (monitor_id, checkpoint) DO UPDATE SET consecutive_failures = excluded.consecutive_failures, last_notified_at = excluded.last_notified_at`,
        [id, name, state.consecutiveFailures, state.lastNotifiedAt ?? null],
        client,
      ),
    );
  }

  // ---- channels and maintenance windows: definitions stored as given ----

  async #listDefinitions<T>(table: Definitions): Promise<StoredDefinition<T>[]> {
    return (await this.#rows(`SELECT * FROM ${table} ORDER BY id`)).map((row) => toDefinition<T>(row));
  }

  async #getDefinition<T>(table: Definitions, id: string): Promise<StoredDefinition<T> | undefined> {
    const row = await this.#row(`SELECT * FROM ${table} WHERE id = $1`, [id]);
    return row === undefined ? undefined : toDefinition<T>(row);
  }

  /** Insert or replace; true when it was created. Two statements in one transaction: a concurrent PUT of the same id waits on the key. */
  async #putDefinition(table: Definitions, id: string, definition: unknown, now: string): Promise<boolean> {
    const json = JSON.stringify(definition);
    return this.#transaction(async (client) => {
      const created = await this.#run(`INSERT INTO ${table} (id, definition, created_at, updated_at) VALUES ($1, $2, $3, $3) ON CONFLICT (id) DO NOTHING`, [id, json, now], client);
      if (created > 0) return true;
      await this.#run(`UPDATE ${table} SET definition = $2, updated_at = $3 WHERE id = $1`, [id, json, now], client);
      return false;
    });
  }

  listChannels(): Promise<StoredDefinition<Channel>[]> {
    return this.#listDefinitions('channels');
  }

  getChannel(id: string): Promise<StoredDefinition<Channel> | undefined> {
    return this.#getDefinition('channels', id);
  }

  putChannel(channel: Channel, now: string): Promise<boolean> {
    return this.#putDefinition('channels', channel.id, channel, now);
  }

  async deleteChannel(id: string): Promise<boolean> {
    return (await this.#run('DELETE FROM channels WHERE id = $1', [id])) > 0;
  }

  listMaintenanceWindows(): Promise<StoredDefinition<MaintenanceWindow>[]> {
    return this.#listDefinitions('maintenance_windows');
  }

  getMaintenanceWindow(id: string): Promise<StoredDefinition<MaintenanceWindow> | undefined> {
    return this.#getDefinition('maintenance_windows', id);
  }

  putMaintenanceWindow(window: MaintenanceWindow, now: string): Promise<boolean> {
    return this.#putDefinition('maintenance_windows', window.id, window, now);
  }

  async deleteMaintenanceWindow(id: string): Promise<boolean> {
    return (await this.#run('DELETE FROM maintenance_windows WHERE id = $1', [id])) > 0;
  }

  // ---- runs ----

  async insertRun(run: { runId: string; monitorId: string; checkpoint: string; attempt: number; instance: string; reason: RunReason; dispatchedAt: string; leaseDeadline: string }): Promise<void> {
    await this.#decide((client) =>
      this.#run(
        `INSERT INTO runs (run_id, monitor_id, checkpoint, attempt, instance, reason, status, dispatched_at, lease_deadline)
         VALUES ($1, $2, $3, $4, $5, $6, 'dispatched', $7, $8)`,
        [run.runId, run.monitorId, run.checkpoint, run.attempt, run.instance, run.reason, run.dispatchedAt, run.leaseDeadline],
        client,
      ),
    );
  }

  async getRun(runId: string): Promise<RunRecord | undefined> {
    const row = await this.#row('SELECT * FROM runs WHERE run_id = $1', [runId]);
    return row === undefined ? undefined : toRun(row);
  }

  async markRunStarted(runId: string): Promise<void> {
    await this.#run("UPDATE runs SET status = 'running' WHERE run_id = $1 AND status = 'dispatched'", [runId]);
  }

  async markRunLost(runId: string, reason: string): Promise<void> {
    await this.#decide((client) => this.#run("UPDATE runs SET status = 'lost', lost_reason = $1 WHERE run_id = $2 AND status IN ('dispatched', 'running')", [reason, runId], client));
  }

  async listRuns(monitorId: string, limit: number): Promise<RunRecord[]> {
    return (await this.#rows('SELECT * FROM runs WHERE monitor_id = $1 ORDER BY dispatched_at DESC, seq DESC LIMIT $2', [monitorId, limit])).map(toRun);
  }

  async queryRuns(filter: RunFilter): Promise<RunRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const bind = (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    };
    if (filter.status !== undefined) where.push(`status = ANY(${bind(filter.status)}::text[])`);
    if (filter.reason !== undefined) where.push(`reason = ANY(${bind(filter.reason)}::text[])`);
    if (filter.monitor !== undefined) where.push(`monitor_id = ${bind(filter.monitor)}`);
    if (filter.checkpoint !== undefined) where.push(`checkpoint = ${bind(filter.checkpoint)}`);
    if (filter.instance !== undefined) where.push(`instance = ${bind(filter.instance)}`);
    // Stored times are ISO UTC strings, so they compare as text once the bound is normalised the same way.
    if (filter.since !== undefined) where.push(`dispatched_at >= ${bind(new Date(filter.since).toISOString())}`);
    if (filter.until !== undefined) where.push(`dispatched_at < ${bind(new Date(filter.until).toISOString())}`);
    const sql = `SELECT * FROM runs ${where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`} ORDER BY dispatched_at DESC, seq DESC LIMIT ${bind(filter.limit)}`;
    return (await this.#rows(sql, params)).map(toRun);
  }

  async runsSince(monitorId: string, sinceIso: string, checkpoint?: string): Promise<RunRecord[]> {
    return (
      await this.#rows('SELECT * FROM runs WHERE monitor_id = $1 AND dispatched_at >= $2 AND ($3::text IS NULL OR checkpoint = $3) ORDER BY dispatched_at, seq', [monitorId, sinceIso, checkpoint ?? null])
    ).map(toRun);
  }

  async lastFinishedRun(monitorId: string, checkpoint?: string): Promise<RunRecord | undefined> {
    const row = await this.#row(
      'SELECT * FROM runs WHERE monitor_id = $1 AND status = ANY($2::text[]) AND ($3::text IS NULL OR checkpoint = $3) ORDER BY dispatched_at DESC, seq DESC LIMIT 1',
      [monitorId, finishedStates, checkpoint ?? null],
    );
    return row === undefined ? undefined : toRun(row);
  }

  async runCounts(): Promise<{ monitorId: string; checkpoint: string; status: RunState; count: number }[]> {
    return (await this.#rows('SELECT monitor_id, checkpoint, status, COUNT(*)::int AS n FROM runs GROUP BY monitor_id, checkpoint, status')).map((row) => ({
      monitorId: text(row, 'monitor_id'),
      checkpoint: text(row, 'checkpoint'),
      status: text(row, 'status') as RunState,
      count: num(row, 'n'),
    }));
  }

  async inFlightRuns(): Promise<RunRecord[]> {
    return (await this.#rows("SELECT * FROM runs WHERE status IN ('dispatched', 'running') ORDER BY dispatched_at, seq")).map(toRun);
  }

  async undecidedRuns(runId?: string): Promise<RunRecord[]> {
    if (runId !== undefined) return (await this.#rows('SELECT * FROM runs WHERE decided = 0 AND run_id = $1', [runId])).map(toRun);
    return (await this.#rows('SELECT * FROM runs WHERE decided = 0 ORDER BY finished_at, seq')).map(toRun);
  }

  async markRunDecided(runId: string): Promise<void> {
    await this.#run('UPDATE runs SET decided = 1 WHERE run_id = $1', [runId]);
  }

  // ---- results ----

  storeResult(envelope: ResultEnvelope, checkpoint: string, now: string, options: { finishedAt?: string } = {}): Promise<{ stored: 'new' | 'duplicate'; run: RunRecord }> {
    return this.#transaction((client) => storeResultRows(client, envelope, checkpoint, now, options.finishedAt ?? envelope.finishedAt));
  }

  async getResult(runId: string): Promise<StoredResult | undefined> {
    const row = await this.#row('SELECT * FROM results WHERE run_id = $1', [runId]);
    if (row === undefined) return undefined;
    return { runId: text(row, 'run_id'), envelope: JSON.parse(text(row, 'envelope')) as ResultEnvelope, receivedAt: text(row, 'received_at'), duplicates: num(row, 'duplicates') };
  }

  // ---- artifacts ----

  async getArtifact(sha256: string): Promise<ArtifactRecord | undefined> {
    const row = await this.#row('SELECT * FROM artifacts WHERE sha256 = $1', [sha256]);
    if (row === undefined) return undefined;
    return { sha256: text(row, 'sha256'), sizeBytes: num(row, 'size_bytes'), contentType: text(row, 'content_type'), file: text(row, 'file'), createdAt: text(row, 'created_at') };
  }

  async insertArtifact(artifact: ArtifactRecord): Promise<boolean> {
    const inserted = await this.#run('INSERT INTO artifacts (sha256, size_bytes, content_type, file, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (sha256) DO NOTHING', [
      artifact.sha256,
      artifact.sizeBytes,
      artifact.contentType,
      artifact.file,
      artifact.createdAt,
    ]);
    return inserted > 0;
  }

  // ---- alerts ----

  async insertAlert(alert: { kind: AlertKind; monitorId?: string; checkpoint?: string; runId?: string; createdAt: string; message: string; severity?: Severity }): Promise<AlertRecord> {
    const row = await this.#decide((client) =>
      this.#row(
        'INSERT INTO alerts (kind, monitor_id, checkpoint, run_id, created_at, message, severity) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *',
        [alert.kind, alert.monitorId ?? null, alert.checkpoint ?? null, alert.runId ?? null, alert.createdAt, alert.message, alert.severity ?? 'info'],
        client,
      ),
    );
    if (row === undefined) throw new Error('alert vanished after insert');
    return toAlert(row);
  }

  async setAlertDeliveries(id: number, deliveries: readonly WebhookDelivery[]): Promise<void> {
    await this.#run('UPDATE alerts SET deliveries = $1 WHERE id = $2', [JSON.stringify(deliveries), id]);
  }

  async listAlerts(limit: number, filter: { monitorId?: string; checkpoint?: string; kinds?: readonly AlertKind[]; since?: string } = {}): Promise<AlertRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const bind = (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    };
    if (filter.monitorId !== undefined) where.push(`monitor_id = ${bind(filter.monitorId)}`);
    if (filter.checkpoint !== undefined) where.push(`checkpoint = ${bind(filter.checkpoint)}`);
    if (filter.kinds !== undefined) where.push(`kind = ANY(${bind([...filter.kinds])}::text[])`);
    if (filter.since !== undefined) where.push(`created_at >= ${bind(new Date(filter.since).toISOString())}`);
    const sql = `SELECT * FROM alerts ${where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`} ORDER BY id DESC LIMIT ${bind(limit)}`;
    return (await this.#rows(sql, params)).map(toAlert);
  }

  // ---- retention ----

  prune(cutoffs: { runsBefore?: string; resultsBefore?: string; alertsBefore?: string; artifactsBefore?: string; instancesBefore?: string }): Promise<{
    runs: number;
    results: number;
    alerts: number;
    instances: number;
    artifactFiles: string[];
  }> {
    return this.#transaction((client) => pruneRows(client, cutoffs));
  }

  async counts(): Promise<{ runs: number; results: number; alerts: number; artifacts: number; instances: number }> {
    const row = await this.#row(
      `SELECT (SELECT COUNT(*)::int FROM runs) AS runs, (SELECT COUNT(*)::int FROM results) AS results, (SELECT COUNT(*)::int FROM alerts) AS alerts,
         (SELECT COUNT(*)::int FROM artifacts) AS artifacts, (SELECT COUNT(*)::int FROM instances) AS instances`,
    );
    if (row === undefined) throw new Error('counts returned no row');
    return { runs: num(row, 'runs'), results: num(row, 'results'), alerts: num(row, 'alerts'), artifacts: num(row, 'artifacts'), instances: num(row, 'instances') };
  }
}

function toDefinition<T>(row: Row): StoredDefinition<T> {
  return { definition: JSON.parse(text(row, 'definition')) as T, createdAt: text(row, 'created_at'), updatedAt: text(row, 'updated_at') };
}
