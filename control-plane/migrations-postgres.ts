import type pg from 'pg';
import { num, type Row } from './store-rows.ts';

/**
 * The control plane's PostgreSQL schema, as an ordered list of migrations (its own list: a fresh PostgreSQL
 * database gets the shape SQLite reached after its migrations 1..5 directly, then follows). Each runs once, and the
 * `schema_migrations` table records which ran. Never edit a shipped migration: append a new one.
 *
 * The columns keep SQLite's shapes so one set of row mappers (store-rows.ts) reads both databases: times are
 * ISO-8601 TEXT (all written by `toISOString()`, so they compare correctly as text), flags INTEGER 0/1, JSON
 * TEXT (a definition is returned exactly as it was PUT; `jsonb` would reorder its keys), numbers INTEGER or
 * DOUBLE PRECISION (node-postgres returns both as JS numbers, but BIGINT and NUMERIC as strings).
 */
export const postgresMigrations: readonly string[] = [
  `
  CREATE TABLE checkpoints (
    name TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,   -- sha256 (hex) of the agent token, or 'revoked:<marker>'
    created_at TEXT NOT NULL,
    health TEXT NOT NULL DEFAULT 'unknown' CHECK (health IN ('unknown', 'up', 'down')),
    previous_token_hash TEXT,          -- sha256 of the token before the last rotation
    previous_token_expires_at TEXT     -- ISO time; the previous token is refused from then
  );
  CREATE INDEX checkpoints_by_previous_token ON checkpoints(previous_token_hash) WHERE previous_token_hash IS NOT NULL;

  CREATE TABLE instances (
    checkpoint TEXT NOT NULL REFERENCES checkpoints(name) ON DELETE CASCADE,
    id TEXT NOT NULL,
    version TEXT NOT NULL,
    browser_version TEXT,
    capacity INTEGER NOT NULL,
    privacy_lock INTEGER NOT NULL,
    connected INTEGER NOT NULL,
    draining INTEGER NOT NULL DEFAULT 0,
    started_at TEXT,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    running INTEGER NOT NULL DEFAULT 0,
    load DOUBLE PRECISION NOT NULL DEFAULT 0,   -- running / capacity, 0..1
    outbox_depth INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (checkpoint, id)
  );

  CREATE TABLE monitors (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    checkpoint TEXT NOT NULL,
    interval_seconds INTEGER NOT NULL,
    enabled INTEGER NOT NULL,
    script TEXT NOT NULL,              -- JSON (engine/schema/script.ts)
    variables TEXT,                    -- JSON object or NULL
    capture TEXT,                      -- JSON object or NULL
    health TEXT NOT NULL DEFAULT 'ok' CHECK (health IN ('ok', 'warning', 'failing')),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    alert_on_warning INTEGER NOT NULL DEFAULT 0,
    alerting TEXT,                     -- JSON monitorAlertingSchema or NULL
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    last_notified_at TEXT              -- last failure alert or reminder
  );
  CREATE INDEX monitors_by_checkpoint ON monitors(checkpoint);

  CREATE TABLE runs (
    run_id TEXT PRIMARY KEY,
    -- Insertion order, where SQLite orders by rowid: the tie-break between runs dispatched at the same time.
    seq BIGINT GENERATED ALWAYS AS IDENTITY,
    monitor_id TEXT NOT NULL,          -- no foreign key: runs and results outlive a deleted monitor
    checkpoint TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    instance TEXT,
    reason TEXT NOT NULL,              -- schedule | retry | manual | redispatch | unsolicited
    status TEXT NOT NULL CHECK (status IN ('dispatched', 'running', 'passed', 'warning', 'failed', 'error', 'lost')),
    dispatched_at TEXT NOT NULL,
    lease_deadline TEXT,
    finished_at TEXT,
    duration_ms DOUBLE PRECISION,
    late INTEGER NOT NULL DEFAULT 0,   -- the result arrived after the run was written off (or was never awaited)
    result_status TEXT,                -- the status the result reported (also for late results of lost runs)
    lost_reason TEXT,
    decided INTEGER NOT NULL DEFAULT 1 -- 0 while a stored result waits for the scheduler's decision
  );
  CREATE INDEX runs_by_monitor ON runs(monitor_id, dispatched_at, seq);
  CREATE INDEX runs_in_flight ON runs(status) WHERE status IN ('dispatched', 'running');
  CREATE INDEX runs_by_status ON runs(status, dispatched_at);
  CREATE INDEX runs_by_dispatch_time ON runs(dispatched_at, seq);
  CREATE INDEX runs_undecided ON runs(decided) WHERE decided = 0;

  CREATE TABLE results (
    run_id TEXT PRIMARY KEY,
    envelope TEXT NOT NULL,            -- JSON resultEnvelope, stored once
    received_at TEXT NOT NULL,
    duplicates INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX results_by_time ON results(received_at);

  CREATE TABLE artifacts (
    sha256 TEXT PRIMARY KEY,
    size_bytes INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    file TEXT NOT NULL,                -- relative to <dataDir>/artifacts
    created_at TEXT NOT NULL,
    last_used_at TEXT                  -- last result that referred to it (content is shared)
  );

  CREATE TABLE alerts (
    id INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('monitor-failed', 'monitor-warning', 'monitor-reminder', 'monitor-recovered', 'monitor-resolved', 'checkpoint-down', 'checkpoint-up')),
    monitor_id TEXT,
    checkpoint TEXT,
    run_id TEXT,
    created_at TEXT NOT NULL,
    message TEXT NOT NULL,
    deliveries TEXT NOT NULL DEFAULT '[]',  -- JSON [{url, delivered, attempts, status?, error?}]
    severity TEXT NOT NULL DEFAULT 'info' CHECK (severity IN ('critical', 'error', 'warning', 'info'))
  );
  CREATE INDEX alerts_by_monitor ON alerts(monitor_id, id);
  CREATE INDEX alerts_by_time ON alerts(created_at);

  CREATE TABLE channels (
    id TEXT PRIMARY KEY,
    definition TEXT NOT NULL,          -- JSON channelSchema, exactly as PUT
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );

  CREATE TABLE maintenance_windows (
    id TEXT PRIMARY KEY,
    definition TEXT NOT NULL,          -- JSON maintenanceWindowSchema, exactly as PUT
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );
  `,
  // 2: the scale-out layer (control-plane/cluster/): a leader lease whose term is a fencing token (it grows on
  // every change of holder), the replicas that share the database, and the bus's large messages. Times are TIMESTAMPTZ here: they are
  // compared with the database's own clock (clock_timestamp()), never with a replica's.
  `
  CREATE TABLE cluster_leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    term BIGINT NOT NULL
  );

  CREATE TABLE cluster_replicas (
    id TEXT PRIMARY KEY,
    started_at TEXT NOT NULL,
    last_seen TIMESTAMPTZ NOT NULL,
    url TEXT
  );

  -- Bus messages too large for a NOTIFY payload (8000 bytes): the notification carries the id (cluster/bus.ts).
  CREATE TABLE cluster_messages (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    target TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp()
  );
  CREATE INDEX cluster_messages_by_time ON cluster_messages(created_at);
  `,
  // 2: monitors on several checkpoints (issue 14; SQLite's migration 6): the list, how runs are spread over it,
  // and the health and alert state per checkpoint. monitors.health stays as the worst of them.
  `
  ALTER TABLE monitors ADD COLUMN checkpoints TEXT;                    -- JSON array when more than one, else NULL
  ALTER TABLE monitors ADD COLUMN placement TEXT;                      -- 'all' | 'round-robin' | NULL (all)
  CREATE TABLE monitor_states (
    monitor_id TEXT NOT NULL REFERENCES monitors(id) ON DELETE CASCADE,
    checkpoint TEXT NOT NULL,
    health TEXT NOT NULL DEFAULT 'ok' CHECK (health IN ('ok', 'warning', 'failing')),
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    last_notified_at TEXT,
    PRIMARY KEY (monitor_id, checkpoint)
  );
  INSERT INTO monitor_states (monitor_id, checkpoint, health, consecutive_failures, last_notified_at)
    SELECT id, checkpoint, health, consecutive_failures, last_notified_at FROM monitors
    WHERE health <> 'ok' OR consecutive_failures > 0 OR last_notified_at IS NOT NULL;
  CREATE INDEX runs_by_monitor_checkpoint ON runs(monitor_id, checkpoint, dispatched_at);
  `,
];

/** Any number, the same in every replica: the key of the advisory lock that serialises migrations. */
const migrationLockKey = 0x63_70_6d_67; // 'cpmg'

/**
 * Bring the database to the newest schema. Everything runs in one transaction under a transaction-scoped
 * advisory lock, so replicas starting at once migrate one after the other: the later ones find the work done.
 * PostgreSQL's DDL is transactional, so a failed migration leaves the schema as it was.
 */
export async function migratePostgres(client: pg.ClientBase, migrations: readonly string[] = postgresMigrations): Promise<{ applied: number[] }> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [migrationLockKey]);
    await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())');
    const { rows } = await client.query<Row>('SELECT COALESCE(MAX(version), 0)::int AS version FROM schema_migrations');
    const current = rows[0] === undefined ? 0 : num(rows[0], 'version');
    if (current > migrations.length) throw new Error(`the database's schema (version ${current}) is newer than this control plane knows (${migrations.length}): upgrade the control plane`);
    const applied: number[] = [];
    for (let index = current; index < migrations.length; index++) {
      await client.query(migrations[index] ?? '');
      await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [index + 1]);
      applied.push(index + 1);
    }
    await client.query('COMMIT');
    return { applied };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}
