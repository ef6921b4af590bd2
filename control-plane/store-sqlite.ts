import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import type { CheckpointHealth, MonitorHealth } from './dispatch-policy.ts';
import type { MonitorDefinition, ResultEnvelope } from '../engine/index.ts';
import { migrations } from './migrations.ts';
import { checkpointsOf } from './monitor-definition.ts';
import type { Channel, MaintenanceWindow, MonitorAlerting, Severity } from './api-schemas.ts';
import { monitorColumnValues, num, optionalText, setDefined, text, toAlert, toCheckpoint, toInstance, toMonitor, toMonitors, toRun, type Row } from './store-rows.ts';
import {
  ConflictError,
  type AlertKind,
  type ControlPlaneStore,
  type AlertRecord,
  type ArtifactRecord,
  type CheckpointRecord,
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
/**
 * Everything the control plane keeps, in one SQLite file (`<dataDir>/control-plane.db`, WAL, synchronous=FULL:
 * one fsync per stored result is cheap at monitoring rates and a stored result must survive a power cut).
 * Synchronous inside (node:sqlite), asynchronous outside ({@link ControlPlaneStore}): each method does its work
 * in one go and returns a settled promise, so every operation is atomic; callers must not rely on more than
 * that (a PostgreSQL store interleaves).
 */

/** A monitor row that runs on checkpoint `?` (two parameters: its only one, or among its `checkpoints`). */
const onCheckpoint = 'checkpoint = ? OR EXISTS (SELECT 1 FROM json_each(monitors.checkpoints) WHERE json_each.value = ?)';

export class SqliteStore implements ControlPlaneStore {
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();

  constructor(dataDir: string) {
    // Results hold what monitored pages showed: the data directory is the owner's alone (0700, files 0600).
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    chmodSync(dataDir, 0o700);
    const file = join(dataDir, 'control-plane.db');
    // SQLite gives its -wal and -shm files the mode of the database file, so creating that one 0600 covers all.
    closeSync(openSync(file, 'a', 0o600));
    for (const path of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(path)) chmodSync(path, 0o600);
    this.#db = new DatabaseSync(file);
    this.#db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;');
    this.#migrate();
  }

  #migrate(): void {
    const row = this.#db.prepare('PRAGMA user_version').get() as Row | undefined;
    const current = row === undefined ? 0 : num(row, 'user_version');
    for (let index = current; index < migrations.length; index++) {
      this.#transaction(() => {
        this.#db.exec(migrations[index] ?? '');
        this.#db.exec(`PRAGMA user_version = ${index + 1}`);
      });
    }
  }

  /** Throws when the database cannot be read (the liveness probe's check). */
  ping(): Promise<void> {
    return this.#op(() => {
      this.#statement('SELECT 1').get();
    });
  }

  #statement(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  #get(sql: string, ...params: SQLInputValue[]): Row | undefined {
    return this.#statement(sql).get(...params);
  }

  #all(sql: string, ...params: SQLInputValue[]): Row[] {
    return this.#statement(sql).all(...params);
  }

  #run(sql: string, ...params: SQLInputValue[]): number {
    return Number(this.#statement(sql).run(...params).changes);
  }

  /**
   * The async face of a synchronous operation: node:sqlite does the work at once, so each method stays atomic;
   * a throw becomes a rejection, as callers of an asynchronous store expect.
   */
  #op<T>(work: () => T): Promise<T> {
    try {
      return Promise.resolve(work());
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** Run `work` in one transaction (nested calls join the outer one). */
  #transaction<T>(work: () => T): T {
    if (this.#db.isTransaction) return work();
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      const value = work();
      this.#db.exec('COMMIT');
      return value;
    } catch (error) {
      this.#db.exec('ROLLBACK');
      throw error;
    }
  }

  close(): Promise<void> {
    return this.#op(() => {
      this.#statements.clear();
      if (this.#db.isOpen) this.#db.close();
    });
  }

  #checkpoint(name: string): CheckpointRecord | undefined {
    const row = this.#get('SELECT name, created_at, health FROM checkpoints WHERE name = ?', name);
    return row === undefined ? undefined : toCheckpoint(row);
  }

  #monitor(id: string): MonitorRecord | undefined {
    const row = this.#get('SELECT * FROM monitors WHERE id = ?', id);
    return row === undefined ? undefined : toMonitor(row, this.#all('SELECT * FROM monitor_states WHERE monitor_id = ?', id));
  }

  /** Monitors with their per-checkpoint states, read in two queries however many there are. */
  #monitorsOf(rows: readonly Row[]): MonitorRecord[] {
    return rows.length === 0 ? [] : toMonitors(rows, this.#all('SELECT * FROM monitor_states'));
  }

  /** monitors.health is the worst of the monitor's checkpoints' (kept for filters and older readers). */
  #refreshHealth(id: string): void {
    const monitor = this.#monitor(id);
    if (monitor !== undefined) this.#run('UPDATE monitors SET health = ? WHERE id = ?', monitor.health, id);
  }

  #runRecord(runId: string): RunRecord | undefined {
    const row = this.#get('SELECT * FROM runs WHERE run_id = ?', runId);
    return row === undefined ? undefined : toRun(row);
  }

  // ---- checkpoints ----

  createCheckpoint(name: string, tokenHash: string, now: string): Promise<CheckpointRecord> {
    return this.#op(() => {
      if (this.#checkpoint(name) !== undefined) throw new ConflictError(`a checkpoint named "${name}" already exists`);
      this.#run('INSERT INTO checkpoints (name, token_hash, created_at) VALUES (?, ?, ?)', name, tokenHash, now);
      return { name, createdAt: now, health: 'unknown' };
    });
  }

  getCheckpoint(name: string): Promise<CheckpointRecord | undefined> {
    return this.#op(() => this.#checkpoint(name));
  }

  /** The checkpoint of a token: its current one, or the previous one until `previous_token_expires_at` (after `now`). */
  checkpointByTokenHash(tokenHash: string, now: string): Promise<CheckpointRecord | undefined> {
    return this.#op(() => {
      const row =
        this.#get('SELECT name, created_at, health FROM checkpoints WHERE token_hash = ?', tokenHash) ??
        this.#get('SELECT name, created_at, health FROM checkpoints WHERE previous_token_hash = ? AND previous_token_expires_at > ?', tokenHash, now);
      return row === undefined ? undefined : toCheckpoint(row);
    });
  }

  /**
   * Replace a checkpoint's token. The current one stays valid until `previousValidUntil` (a grace period for
   * rolling the new one out), or is refused at once when that is undefined. A token that was revoked gets no grace.
   */
  rotateCheckpointToken(name: string, tokenHash: string, previousValidUntil: string | undefined): Promise<boolean> {
    return this.#op(() => {
      return (
        this.#run(
          `UPDATE checkpoints SET previous_token_hash = CASE WHEN ? IS NULL OR token_hash LIKE 'revoked:%' THEN NULL ELSE token_hash END,
             previous_token_expires_at = CASE WHEN ? IS NULL OR token_hash LIKE 'revoked:%' THEN NULL ELSE ? END, token_hash = ?
           WHERE name = ?`,
          previousValidUntil ?? null,
          previousValidUntil ?? null,
          previousValidUntil ?? null,
          tokenHash,
          name,
        ) > 0
      );
    });
  }

  /** Refuse every token of a checkpoint (current and previous) until the next rotation. */
  revokeCheckpointTokens(name: string, marker: string): Promise<boolean> {
    return this.#op(() => {
      return this.#run('UPDATE checkpoints SET token_hash = ?, previous_token_hash = NULL, previous_token_expires_at = NULL WHERE name = ?', `revoked:${marker}`, name) > 0;
    });
  }

  deleteCheckpoint(name: string): Promise<{ monitors: string[]; updated: string[] } | undefined> {
    return this.#op(() => {
      return this.#transaction(() => {
        if (this.#checkpoint(name) === undefined) return undefined;
        const monitors: string[] = [];
        const updated: string[] = [];
        for (const monitor of this.#monitorsOf(this.#all(`SELECT * FROM monitors WHERE ${onCheckpoint}`, name, name))) {
          const rest = checkpointsOf(monitor).filter((other) => other !== name);
          if (rest.length === 0) {
            this.#run('DELETE FROM monitors WHERE id = ?', monitor.id);
            monitors.push(monitor.id);
            continue;
          }
          this.#run('UPDATE monitors SET checkpoint = ?, checkpoints = ? WHERE id = ?', rest[0] ?? '', rest.length > 1 ? JSON.stringify(rest) : null, monitor.id);
          this.#run('DELETE FROM monitor_states WHERE monitor_id = ? AND checkpoint = ?', monitor.id, name);
          this.#refreshHealth(monitor.id);
          updated.push(monitor.id);
        }
        this.#run('DELETE FROM instances WHERE checkpoint = ?', name);
        this.#run('DELETE FROM checkpoints WHERE name = ?', name);
        return { monitors: monitors.sort(), updated: updated.sort() };
      });
    });
  }

  listCheckpoints(): Promise<CheckpointRecord[]> {
    return this.#op(() => {
      return this.#all('SELECT name, created_at, health FROM checkpoints ORDER BY name').map(toCheckpoint);
    });
  }

  setCheckpointHealth(name: string, health: CheckpointHealth): Promise<void> {
    return this.#op(() => {
      this.#run('UPDATE checkpoints SET health = ? WHERE name = ?', health, name);
    });
  }

  // ---- instances ----

  /** Record a hello: creates the instance or refreshes what it reports about itself, and marks it connected. */
  instanceHello(input: { checkpoint: string; id: string; version: string; browserVersion?: string; capacity: number; privacyLock: boolean; startedAt: string; now: string }): Promise<void> {
    return this.#op(() => {
      this.#run(
        `INSERT INTO instances (checkpoint, id, version, browser_version, capacity, privacy_lock, connected, draining, started_at, first_seen, last_seen)
         VALUES (?, ?, ?, ?, ?, ?, 1, 0, ?, ?, ?)
         ON CONFLICT (checkpoint, id) DO UPDATE SET version = excluded.version, browser_version = excluded.browser_version,
           capacity = excluded.capacity, privacy_lock = excluded.privacy_lock, connected = 1, draining = 0,
           started_at = excluded.started_at, last_seen = excluded.last_seen, running = 0, load = 0`,
        input.checkpoint,
        input.id,
        input.version,
        input.browserVersion ?? null,
        input.capacity,
        input.privacyLock ? 1 : 0,
        input.startedAt,
        input.now,
        input.now,
      );
    });
  }

  instanceHeartbeat(input: { checkpoint: string; id: string; running: number; load: number; draining: boolean; outboxDepth: number; now: string }): Promise<void> {
    return this.#op(() => {
      this.#run(
        'UPDATE instances SET connected = 1, running = ?, load = ?, draining = ?, outbox_depth = ?, last_seen = ? WHERE checkpoint = ? AND id = ?',
        input.running,
        input.load,
        input.draining ? 1 : 0,
        input.outboxDepth,
        input.now,
        input.checkpoint,
        input.id,
      );
    });
  }

  instanceDisconnected(checkpoint: string, id: string, now: string): Promise<void> {
    return this.#op(() => {
      this.#run('UPDATE instances SET connected = 0, last_seen = ? WHERE checkpoint = ? AND id = ?', now, checkpoint, id);
    });
  }

  /** At start-up nothing is connected yet, whatever the file says. */
  markAllInstancesDisconnected(): Promise<void> {
    return this.#op(() => {
      this.#run('UPDATE instances SET connected = 0');
    });
  }

  deleteInstance(checkpoint: string, id: string): Promise<boolean> {
    return this.#op(() => {
      return this.#run('DELETE FROM instances WHERE checkpoint = ? AND id = ?', checkpoint, id) > 0;
    });
  }

  countInstances(checkpoint: string): Promise<number> {
    return this.#op(() => {
      const row = this.#get('SELECT COUNT(*) AS n FROM instances WHERE checkpoint = ?', checkpoint);
      return row === undefined ? 0 : num(row, 'n');
    });
  }

  instanceExists(checkpoint: string, id: string): Promise<boolean> {
    return this.#op(() => {
      return this.#get('SELECT 1 AS x FROM instances WHERE checkpoint = ? AND id = ?', checkpoint, id) !== undefined;
    });
  }

  listInstances(checkpoint?: string): Promise<InstanceRecord[]> {
    return this.#op(() => {
      const rows =
        checkpoint === undefined
          ? this.#all('SELECT * FROM instances ORDER BY checkpoint, id')
          : this.#all('SELECT * FROM instances WHERE checkpoint = ? ORDER BY id', checkpoint);
      return rows.map(toInstance);
    });
  }

  // ---- monitors ----

  insertMonitor(definition: MonitorDefinition & { alerting?: MonitorAlerting }, now: string): Promise<MonitorRecord> {
    return this.#op(() => {
      if (this.#monitor(definition.id) !== undefined) throw new ConflictError(`a monitor with id "${definition.id}" already exists`);
      this.#run(
        `INSERT INTO monitors (id, name, checkpoint, checkpoints, placement, interval_seconds, enabled, script, variables, capture, alert_on_warning, alerting, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        definition.id,
        ...monitorColumnValues(definition),
        now,
        now,
      );
      const stored = this.#monitor(definition.id);
      if (stored === undefined) throw new Error(`monitor ${definition.id} vanished after insert`);
      return stored;
    });
  }

  /** Replace a monitor's definition; returns undefined when there is no such monitor. */
  updateMonitor(definition: MonitorDefinition & { alerting?: MonitorAlerting }, now: string): Promise<MonitorRecord | undefined> {
    return this.#op(() => this.#transaction(() => {
      const changes = this.#run(
        `UPDATE monitors SET name = ?, checkpoint = ?, checkpoints = ?, placement = ?, interval_seconds = ?, enabled = ?, script = ?, variables = ?, capture = ?, alert_on_warning = ?, alerting = ?, updated_at = ?
         WHERE id = ?`,
        ...monitorColumnValues(definition),
        now,
        definition.id,
      );
      if (changes === 0) return undefined;
      // A checkpoint it no longer runs on keeps no state (and no part in its health).
      const names = checkpointsOf(definition);
      this.#run(`DELETE FROM monitor_states WHERE monitor_id = ? AND checkpoint NOT IN (${names.map(() => '?').join(', ')})`, definition.id, ...names);
      this.#refreshHealth(definition.id);
      return this.#monitor(definition.id);
    }));
  }

  deleteMonitor(id: string): Promise<boolean> {
    return this.#op(() => {
      return this.#run('DELETE FROM monitors WHERE id = ?', id) > 0;
    });
  }

  getMonitor(id: string): Promise<MonitorRecord | undefined> {
    return this.#op(() => this.#monitor(id));
  }

  listMonitors(checkpoint?: string): Promise<MonitorRecord[]> {
    return this.#op(() => {
      const rows =
        checkpoint === undefined
          ? this.#all('SELECT * FROM monitors ORDER BY name, id')
          : this.#all(`SELECT * FROM monitors WHERE ${onCheckpoint} ORDER BY name, id`, checkpoint, checkpoint);
      return this.#monitorsOf(rows);
    });
  }

  /**
   * The checkpoint a state call means: the one given, or the monitor's first. Undefined when there is no such
   * monitor, or it no longer runs there (a decision taken as the checkpoint was removed leaves no stray state).
   */
  #stateCheckpoint(id: string, checkpoint: string | undefined): string | undefined {
    const row = this.#get('SELECT checkpoint, checkpoints FROM monitors WHERE id = ?', id);
    if (row === undefined) return undefined;
    const list = optionalText(row, 'checkpoints');
    const names = list === undefined ? [text(row, 'checkpoint')] : (JSON.parse(list) as string[]);
    if (checkpoint === undefined) return names[0];
    return names.includes(checkpoint) ? checkpoint : undefined;
  }

  setMonitorHealth(id: string, health: MonitorHealth, checkpoint?: string): Promise<void> {
    return this.#op(() => this.#transaction(() => {
      const monitor = this.#monitor(id);
      if (monitor === undefined) return;
      for (const name of checkpointsOf(monitor).filter((named) => checkpoint === undefined || named === checkpoint)) {
        this.#run('INSERT INTO monitor_states (monitor_id, checkpoint, health) VALUES (?, ?, ?) ON CONFLICT (monitor_id, checkpoint) DO UPDATE SET health = excluded.health', id, name, health);
      }
      this.#refreshHealth(id);
    }));
  }

  getMonitorAlertState(id: string, checkpoint?: string): Promise<MonitorAlertState> {
    return this.#op(() => {
      const name = this.#stateCheckpoint(id, checkpoint);
      const row = name === undefined ? undefined : this.#get('SELECT consecutive_failures, last_notified_at FROM monitor_states WHERE monitor_id = ? AND checkpoint = ?', id, name);
      const state: MonitorAlertState = { consecutiveFailures: row === undefined ? 0 : num(row, 'consecutive_failures') };
      if (row !== undefined) setDefined(state, 'lastNotifiedAt', optionalText(row, 'last_notified_at'));
      return state;
    });
  }

  setMonitorAlertState(id: string, state: MonitorAlertState, checkpoint?: string): Promise<void> {
    return this.#op(() => {
      const name = this.#stateCheckpoint(id, checkpoint);
      if (name === undefined) return;
      this.#run(
        `INSERT INTO monitor_states (monitor_id, checkpoint, consecutive_failures, last_notified_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (monitor_id, checkpoint) DO UPDATE SET consecutive_failures = excluded.consecutive_failures, last_notified_at = excluded.last_notified_at`,
        id,
        name,
        state.consecutiveFailures,
        state.lastNotifiedAt ?? null,
      );
    });
  }

  // ---- channels and maintenance windows: definitions stored as given ----

  #listDefinitions<T>(table: 'channels' | 'maintenance_windows'): StoredDefinition<T>[] {
    return this.#all(`SELECT * FROM ${table} ORDER BY id`).map((row) => ({
      definition: JSON.parse(text(row, 'definition')) as T,
      createdAt: text(row, 'created_at'),
      updatedAt: text(row, 'updated_at'),
    }));
  }

  #getDefinition<T>(table: 'channels' | 'maintenance_windows', id: string): StoredDefinition<T> | undefined {
    const row = this.#get(`SELECT * FROM ${table} WHERE id = ?`, id);
    return row === undefined ? undefined : { definition: JSON.parse(text(row, 'definition')) as T, createdAt: text(row, 'created_at'), updatedAt: text(row, 'updated_at') };
  }

  /** Insert or replace; true when it was created. */
  #putDefinition(table: 'channels' | 'maintenance_windows', id: string, definition: unknown, now: string): boolean {
    const created = this.#get(`SELECT id FROM ${table} WHERE id = ?`, id) === undefined;
    this.#run(
      `INSERT INTO ${table} (id, definition, created_at, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET definition = excluded.definition, updated_at = excluded.updated_at`,
      id,
      JSON.stringify(definition),
      now,
      now,
    );
    return created;
  }

  listChannels(): Promise<StoredDefinition<Channel>[]> {
    return this.#op(() => {
      return this.#listDefinitions('channels');
    });
  }

  getChannel(id: string): Promise<StoredDefinition<Channel> | undefined> {
    return this.#op(() => {
      return this.#getDefinition('channels', id);
    });
  }

  putChannel(channel: Channel, now: string): Promise<boolean> {
    return this.#op(() => {
      return this.#putDefinition('channels', channel.id, channel, now);
    });
  }

  deleteChannel(id: string): Promise<boolean> {
    return this.#op(() => {
      return this.#run('DELETE FROM channels WHERE id = ?', id) > 0;
    });
  }

  listMaintenanceWindows(): Promise<StoredDefinition<MaintenanceWindow>[]> {
    return this.#op(() => {
      return this.#listDefinitions('maintenance_windows');
    });
  }

  getMaintenanceWindow(id: string): Promise<StoredDefinition<MaintenanceWindow> | undefined> {
    return this.#op(() => {
      return this.#getDefinition('maintenance_windows', id);
    });
  }

  putMaintenanceWindow(window: MaintenanceWindow, now: string): Promise<boolean> {
    return this.#op(() => {
      return this.#putDefinition('maintenance_windows', window.id, window, now);
    });
  }

  deleteMaintenanceWindow(id: string): Promise<boolean> {
    return this.#op(() => {
      return this.#run('DELETE FROM maintenance_windows WHERE id = ?', id) > 0;
    });
  }

  // ---- runs ----

  insertRun(run: { runId: string; monitorId: string; checkpoint: string; attempt: number; instance: string; reason: RunReason; dispatchedAt: string; leaseDeadline: string }): Promise<void> {
    return this.#op(() => {
      this.#run(
        `INSERT INTO runs (run_id, monitor_id, checkpoint, attempt, instance, reason, status, dispatched_at, lease_deadline)
         VALUES (?, ?, ?, ?, ?, ?, 'dispatched', ?, ?)`,
        run.runId,
        run.monitorId,
        run.checkpoint,
        run.attempt,
        run.instance,
        run.reason,
        run.dispatchedAt,
        run.leaseDeadline,
      );
    });
  }

  getRun(runId: string): Promise<RunRecord | undefined> {
    return this.#op(() => this.#runRecord(runId));
  }

  /** dispatched → running (only from dispatched; a late `started` never revives a lost run). */
  markRunStarted(runId: string): Promise<void> {
    return this.#op(() => {
      this.#run("UPDATE runs SET status = 'running' WHERE run_id = ? AND status = 'dispatched'", runId);
    });
  }

  markRunLost(runId: string, reason: string): Promise<void> {
    return this.#op(() => {
      this.#run("UPDATE runs SET status = 'lost', lost_reason = ? WHERE run_id = ? AND status IN ('dispatched', 'running')", reason, runId);
    });
  }

  listRuns(monitorId: string, limit: number): Promise<RunRecord[]> {
    return this.#op(() => {
      return this.#all('SELECT * FROM runs WHERE monitor_id = ? ORDER BY dispatched_at DESC, rowid DESC LIMIT ?', monitorId, limit).map(toRun);
    });
  }

  /** Runs matching every given filter, newest first. */
  queryRuns(filter: RunFilter): Promise<RunRecord[]> {
    return this.#op(() => {
      const where: string[] = [];
      const params: SQLInputValue[] = [];
      const inList = (column: string, values: readonly string[]) => {
        where.push(`${column} IN (${values.map(() => '?').join(', ')})`);
        params.push(...values);
      };
      if (filter.status !== undefined) inList('status', filter.status);
      if (filter.reason !== undefined) inList('reason', filter.reason);
      if (filter.monitor !== undefined) inList('monitor_id', [filter.monitor]);
      if (filter.checkpoint !== undefined) inList('checkpoint', [filter.checkpoint]);
      if (filter.instance !== undefined) inList('instance', [filter.instance]);
      // Stored times are ISO UTC strings, so they compare as text once the bound is normalised the same way.
      if (filter.since !== undefined) {
        where.push('dispatched_at >= ?');
        params.push(new Date(filter.since).toISOString());
      }
      if (filter.until !== undefined) {
        where.push('dispatched_at < ?');
        params.push(new Date(filter.until).toISOString());
      }
      const sql = `SELECT * FROM runs ${where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`} ORDER BY dispatched_at DESC, rowid DESC LIMIT ?`;
      // Dynamic SQL: not cached (the filter combinations are many and each statement is cheap to prepare).
      return this.#db
        .prepare(sql)
        .all(...params, filter.limit)
        .map(toRun);
    });
  }

  /** Runs of one monitor dispatched at or after `sinceIso`, oldest first (availability). */
  runsSince(monitorId: string, sinceIso: string, checkpoint?: string): Promise<RunRecord[]> {
    return this.#op(() => {
      const rows =
        checkpoint === undefined
          ? this.#all('SELECT * FROM runs WHERE monitor_id = ? AND dispatched_at >= ? ORDER BY dispatched_at, rowid', monitorId, sinceIso)
          : this.#all('SELECT * FROM runs WHERE monitor_id = ? AND checkpoint = ? AND dispatched_at >= ? ORDER BY dispatched_at, rowid', monitorId, checkpoint, sinceIso);
      return rows.map(toRun);
    });
  }

  /** The newest run of a monitor that has a result. */
  lastFinishedRun(monitorId: string, checkpoint?: string): Promise<RunRecord | undefined> {
    return this.#op(() => {
      const finished = "status IN ('passed', 'warning', 'failed', 'error') ORDER BY dispatched_at DESC, rowid DESC LIMIT 1";
      const row =
        checkpoint === undefined
          ? this.#get(`SELECT * FROM runs WHERE monitor_id = ? AND ${finished}`, monitorId)
          : this.#get(`SELECT * FROM runs WHERE monitor_id = ? AND checkpoint = ? AND ${finished}`, monitorId, checkpoint);
      return row === undefined ? undefined : toRun(row);
    });
  }

  /** Runs per monitor and status since the database began: Prometheus counters. */
  runCounts(): Promise<{ monitorId: string; checkpoint: string; status: RunState; count: number }[]> {
    return this.#op(() => {
      return this.#all('SELECT monitor_id, checkpoint, status, COUNT(*) AS n FROM runs GROUP BY monitor_id, checkpoint, status').map((row) => ({
        monitorId: text(row, 'monitor_id'),
        checkpoint: text(row, 'checkpoint'),
        status: text(row, 'status') as RunState,
        count: num(row, 'n'),
      }));
    });
  }

  inFlightRuns(): Promise<RunRecord[]> {
    return this.#op(() => {
      return this.#all("SELECT * FROM runs WHERE status IN ('dispatched', 'running') ORDER BY dispatched_at, rowid").map(toRun);
    });
  }

  /** Runs whose result is stored but whose consequences (retry, alert, recovery) the scheduler has not settled. */
  undecidedRuns(runId?: string): Promise<RunRecord[]> {
    return this.#op(() => {
      if (runId !== undefined) return this.#all('SELECT * FROM runs WHERE decided = 0 AND run_id = ?', runId).map(toRun);
      return this.#all('SELECT * FROM runs WHERE decided = 0 ORDER BY finished_at, rowid').map(toRun);
    });
  }

  markRunDecided(runId: string): Promise<void> {
    return this.#op(() => {
      this.#run('UPDATE runs SET decided = 1 WHERE run_id = ?', runId);
    });
  }

  // ---- results ----

  /**
   * Store a result envelope exactly once, keyed by run id, and settle its run in the same transaction.
   * Returns `duplicate` (and counts it) when the run id is already stored. A result for a run already written
   * off as lost, or for a run this control plane never dispatched, is stored with `late` set.
   */
  storeResult(envelope: ResultEnvelope, checkpoint: string, now: string, options: { finishedAt?: string } = {}): Promise<{ stored: 'new' | 'duplicate'; run: RunRecord }> {
    return this.#op(() => {
      const finishedAt = options.finishedAt ?? envelope.finishedAt;
      return this.#transaction(() => {
        const inserted = this.#run('INSERT OR IGNORE INTO results (run_id, envelope, received_at) VALUES (?, ?, ?)', envelope.runId, JSON.stringify(envelope), now);
        const existing = this.#runRecord(envelope.runId);
        if (inserted === 0) {
          this.#run('UPDATE results SET duplicates = duplicates + 1 WHERE run_id = ?', envelope.runId);
          if (existing === undefined) throw new Error(`result ${envelope.runId} is stored but has no run`);
          return { stored: 'duplicate' as const, run: existing };
        }
        const status = envelope.result.status;
        const duration = envelope.result.durationMs;
        for (const artifact of envelope.artifacts) this.#run('UPDATE artifacts SET last_used_at = ? WHERE sha256 = ?', now, artifact.sha256);
        if (existing === undefined) {
          this.#run(
            `INSERT INTO runs (run_id, monitor_id, checkpoint, attempt, instance, reason, status, dispatched_at, finished_at, duration_ms, late, result_status)
             VALUES (?, ?, ?, ?, ?, 'unsolicited', ?, ?, ?, ?, 1, ?)`,
            envelope.runId,
            envelope.monitorId,
            checkpoint,
            envelope.attempt,
            envelope.instanceId,
            status,
            envelope.result.startedAt,
            finishedAt,
            duration,
            status,
          );
        } else if (existing.status === 'lost') {
          this.#run('UPDATE runs SET late = 1, finished_at = ?, duration_ms = ?, result_status = ? WHERE run_id = ?', finishedAt, duration, status, envelope.runId);
        } else {
          this.#run('UPDATE runs SET status = ?, finished_at = ?, duration_ms = ?, result_status = ?, decided = 0 WHERE run_id = ?', status, finishedAt, duration, status, envelope.runId);
        }
        const run = this.#runRecord(envelope.runId);
        if (run === undefined) throw new Error(`run ${envelope.runId} vanished`);
        return { stored: 'new' as const, run };
      });
    });
  }

  getResult(runId: string): Promise<StoredResult | undefined> {
    return this.#op(() => {
      const row = this.#get('SELECT * FROM results WHERE run_id = ?', runId);
      if (row === undefined) return undefined;
      return { runId: text(row, 'run_id'), envelope: JSON.parse(text(row, 'envelope')) as ResultEnvelope, receivedAt: text(row, 'received_at'), duplicates: num(row, 'duplicates') };
    });
  }

  // ---- artifacts ----

  getArtifact(sha256: string): Promise<ArtifactRecord | undefined> {
    return this.#op(() => {
      const row = this.#get('SELECT * FROM artifacts WHERE sha256 = ?', sha256);
      if (row === undefined) return undefined;
      return { sha256: text(row, 'sha256'), sizeBytes: num(row, 'size_bytes'), contentType: text(row, 'content_type'), file: text(row, 'file'), createdAt: text(row, 'created_at') };
    });
  }

  /** Returns false when the artifact was already recorded (content-addressed: same bytes). */
  insertArtifact(artifact: ArtifactRecord): Promise<boolean> {
    return this.#op(() => {
      return (
        this.#run(
          'INSERT OR IGNORE INTO artifacts (sha256, size_bytes, content_type, file, created_at) VALUES (?, ?, ?, ?, ?)',
          artifact.sha256,
          artifact.sizeBytes,
          artifact.contentType,
          artifact.file,
          artifact.createdAt,
        ) > 0
      );
    });
  }

  // ---- alerts ----

  insertAlert(alert: { kind: AlertKind; monitorId?: string; checkpoint?: string; runId?: string; createdAt: string; message: string; severity?: Severity }): Promise<AlertRecord> {
    return this.#op(() => {
      const info = this.#statement('INSERT INTO alerts (kind, monitor_id, checkpoint, run_id, created_at, message, severity) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
        alert.kind,
        alert.monitorId ?? null,
        alert.checkpoint ?? null,
        alert.runId ?? null,
        alert.createdAt,
        alert.message,
        alert.severity ?? 'info',
      );
      const row = this.#get('SELECT * FROM alerts WHERE id = ?', Number(info.lastInsertRowid));
      if (row === undefined) throw new Error('alert vanished after insert');
      return toAlert(row);
    });
  }

  setAlertDeliveries(id: number, deliveries: readonly WebhookDelivery[]): Promise<void> {
    return this.#op(() => {
      this.#run('UPDATE alerts SET deliveries = ? WHERE id = ?', JSON.stringify(deliveries), id);
    });
  }

  listAlerts(limit: number, filter: { monitorId?: string; checkpoint?: string; kinds?: readonly AlertKind[]; since?: string } = {}): Promise<AlertRecord[]> {
    return this.#op(() => {
      const where: string[] = [];
      const params: SQLInputValue[] = [];
      if (filter.monitorId !== undefined) {
        where.push('monitor_id = ?');
        params.push(filter.monitorId);
      }
      if (filter.checkpoint !== undefined) {
        where.push('checkpoint = ?');
        params.push(filter.checkpoint);
      }
      if (filter.kinds !== undefined) {
        where.push(`kind IN (${filter.kinds.map(() => '?').join(', ')})`);
        params.push(...filter.kinds);
      }
      if (filter.since !== undefined) {
        where.push('created_at >= ?');
        params.push(new Date(filter.since).toISOString());
      }
      const sql = `SELECT * FROM alerts ${where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`} ORDER BY id DESC LIMIT ?`;
      return (where.length === 0 ? this.#all(sql, limit) : this.#db.prepare(sql).all(...params, limit)).map(toAlert);
    });
  }

  // ---- retention ----

  /**
   * Delete what is older than the cut-offs (ISO times; undefined keeps everything of that kind): finished runs
   * (with their results), results alone, alerts, instances disconnected and unseen since, and artifacts no result
   * has referred to since. Returns the counts and the artifact files to remove (the caller deletes the files
   * after the rows, so a crash in between leaves an orphan file, never a row without its file).
   */
  prune(cutoffs: { runsBefore?: string; resultsBefore?: string; alertsBefore?: string; artifactsBefore?: string; instancesBefore?: string }): Promise<{
    runs: number;
    results: number;
    alerts: number;
    instances: number;
    artifactFiles: string[];
  }> {
    return this.#op(() => this.#transaction(() => {
      let results = 0;
      let runs = 0;
      if (cutoffs.runsBefore !== undefined) {
        const finished = "status NOT IN ('dispatched', 'running') AND dispatched_at < ?";
        results += this.#run(`DELETE FROM results WHERE run_id IN (SELECT run_id FROM runs WHERE ${finished})`, cutoffs.runsBefore);
        runs = this.#run(`DELETE FROM runs WHERE ${finished}`, cutoffs.runsBefore);
      }
      if (cutoffs.resultsBefore !== undefined) results += this.#run('DELETE FROM results WHERE received_at < ?', cutoffs.resultsBefore);
      const alerts = cutoffs.alertsBefore === undefined ? 0 : this.#run('DELETE FROM alerts WHERE created_at < ?', cutoffs.alertsBefore);
      const instances = cutoffs.instancesBefore === undefined ? 0 : this.#run('DELETE FROM instances WHERE connected = 0 AND last_seen < ?', cutoffs.instancesBefore);
      let artifactFiles: string[] = [];
      if (cutoffs.artifactsBefore !== undefined) {
        const old = 'COALESCE(last_used_at, created_at) < ?';
        artifactFiles = this.#all(`SELECT file FROM artifacts WHERE ${old}`, cutoffs.artifactsBefore).map((row) => text(row, 'file'));
        this.#run(`DELETE FROM artifacts WHERE ${old}`, cutoffs.artifactsBefore);
      }
      return { runs, results, alerts, instances, artifactFiles };
    }));
  }

  /** Row counts (for the retention log line and tests). */
  counts(): Promise<{ runs: number; results: number; alerts: number; artifacts: number; instances: number }> {
    return this.#op(() => {
      const count = (table: string) => num(this.#get(`SELECT COUNT(*) AS n FROM ${table}`) ?? { n: 0 }, 'n');
      return { runs: count('runs'), results: count('results'), alerts: count('alerts'), artifacts: count('artifacts'), instances: count('instances') };
    });
  }
}
