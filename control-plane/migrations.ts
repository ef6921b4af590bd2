/**
 * The control plane's SQLite schema, as an ordered list of migrations. Each runs once, in a transaction, and
 * `PRAGMA user_version` records how many have run. Never edit a shipped migration: append a new one.
 */
export const migrations: readonly string[] = [
  `
  CREATE TABLE checkpoints (
    name TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,   -- sha256 (hex) of the agent token; the token itself is never stored
    created_at TEXT NOT NULL,
    health TEXT NOT NULL DEFAULT 'unknown' CHECK (health IN ('unknown', 'up', 'down'))
  );

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
    load REAL NOT NULL DEFAULT 0,      -- running / capacity, 0..1
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
    health TEXT NOT NULL DEFAULT 'ok' CHECK (health IN ('ok', 'failing')),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );
  CREATE INDEX monitors_by_checkpoint ON monitors(checkpoint);

  CREATE TABLE runs (
    run_id TEXT PRIMARY KEY,
    monitor_id TEXT NOT NULL,          -- no foreign key: runs and results outlive a deleted monitor
    checkpoint TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    instance TEXT,
    reason TEXT NOT NULL,              -- schedule | retry | manual | redispatch | unsolicited
    status TEXT NOT NULL CHECK (status IN ('dispatched', 'running', 'passed', 'failed', 'error', 'lost')),
    dispatched_at TEXT NOT NULL,
    lease_deadline TEXT,
    finished_at TEXT,
    duration_ms REAL,
    late INTEGER NOT NULL DEFAULT 0,   -- the result arrived after the run was written off (or was never awaited)
    result_status TEXT,                -- the status the result reported (also for late results of lost runs)
    lost_reason TEXT
  );
  CREATE INDEX runs_by_monitor ON runs(monitor_id, dispatched_at);
  CREATE INDEX runs_in_flight ON runs(status) WHERE status IN ('dispatched', 'running');

  CREATE TABLE results (
    run_id TEXT PRIMARY KEY,
    envelope TEXT NOT NULL,            -- JSON resultEnvelope, stored once
    received_at TEXT NOT NULL,
    duplicates INTEGER NOT NULL DEFAULT 0
  );

  CREATE TABLE artifacts (
    sha256 TEXT PRIMARY KEY,
    size_bytes INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    file TEXT NOT NULL,                -- relative to <dataDir>/artifacts
    created_at TEXT NOT NULL
  );

  CREATE TABLE alerts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('monitor-failed', 'monitor-recovered', 'checkpoint-down', 'checkpoint-up')),
    monitor_id TEXT,
    checkpoint TEXT,
    run_id TEXT,
    created_at TEXT NOT NULL,
    message TEXT NOT NULL,
    deliveries TEXT NOT NULL DEFAULT '[]'  -- JSON [{url, delivered, attempts, status?, error?}]
  );
  `,
  // 2: the `warning` verdict (error conditions). SQLite cannot alter a CHECK constraint, so the tables whose
  // checks change are rebuilt and their rows copied.
  `
  CREATE TABLE runs_v2 (
    run_id TEXT PRIMARY KEY,
    monitor_id TEXT NOT NULL,
    checkpoint TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    instance TEXT,
    reason TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('dispatched', 'running', 'passed', 'warning', 'failed', 'error', 'lost')),
    dispatched_at TEXT NOT NULL,
    lease_deadline TEXT,
    finished_at TEXT,
    duration_ms REAL,
    late INTEGER NOT NULL DEFAULT 0,
    result_status TEXT,
    lost_reason TEXT
  );
  INSERT INTO runs_v2 SELECT run_id, monitor_id, checkpoint, attempt, instance, reason, status, dispatched_at, lease_deadline,
    finished_at, duration_ms, late, result_status, lost_reason FROM runs;
  DROP TABLE runs;
  ALTER TABLE runs_v2 RENAME TO runs;
  CREATE INDEX runs_by_monitor ON runs(monitor_id, dispatched_at);
  CREATE INDEX runs_in_flight ON runs(status) WHERE status IN ('dispatched', 'running');

  CREATE TABLE monitors_v2 (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    checkpoint TEXT NOT NULL,
    interval_seconds INTEGER NOT NULL,
    enabled INTEGER NOT NULL,
    script TEXT NOT NULL,
    variables TEXT,
    capture TEXT,
    health TEXT NOT NULL DEFAULT 'ok' CHECK (health IN ('ok', 'warning', 'failing')),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    alert_on_warning INTEGER NOT NULL DEFAULT 0
  );
  INSERT INTO monitors_v2 (id, name, checkpoint, interval_seconds, enabled, script, variables, capture, health, created_at, updated_at)
    SELECT id, name, checkpoint, interval_seconds, enabled, script, variables, capture, health, created_at, updated_at FROM monitors;
  DROP TABLE monitors;
  ALTER TABLE monitors_v2 RENAME TO monitors;
  CREATE INDEX monitors_by_checkpoint ON monitors(checkpoint);

  CREATE TABLE alerts_v2 (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('monitor-failed', 'monitor-warning', 'monitor-recovered', 'checkpoint-down', 'checkpoint-up')),
    monitor_id TEXT,
    checkpoint TEXT,
    run_id TEXT,
    created_at TEXT NOT NULL,
    message TEXT NOT NULL,
    deliveries TEXT NOT NULL DEFAULT '[]'
  );
  INSERT INTO alerts_v2 SELECT id, kind, monitor_id, checkpoint, run_id, created_at, message, deliveries FROM alerts;
  DROP TABLE alerts;
  ALTER TABLE alerts_v2 RENAME TO alerts;
  `,
  // 3: alerting that fits real tools (docs/alerting.md): channels and maintenance windows, kept as their
  // validated JSON definitions (control-plane/api-schemas.ts) so GET returns exactly what was PUT; per-monitor
  // alerting settings and the state behind "N failures in a row" and reminders; two more alert kinds and a
  // severity (the alerts table is rebuilt: SQLite cannot alter a CHECK constraint).
  `
  CREATE TABLE channels (
    id TEXT PRIMARY KEY,
    definition TEXT NOT NULL,          -- JSON channelSchema; secrets as {{env.NAME}} references where the user chose so
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );

  CREATE TABLE maintenance_windows (
    id TEXT PRIMARY KEY,
    definition TEXT NOT NULL,          -- JSON maintenanceWindowSchema
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );

  ALTER TABLE monitors ADD COLUMN alerting TEXT;                                  -- JSON monitorAlertingSchema or NULL
  ALTER TABLE monitors ADD COLUMN consecutive_failures INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE monitors ADD COLUMN last_notified_at TEXT;                          -- last failure alert or reminder

  CREATE TABLE alerts_v3 (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('monitor-failed', 'monitor-warning', 'monitor-reminder', 'monitor-recovered', 'monitor-resolved', 'checkpoint-down', 'checkpoint-up')),
    monitor_id TEXT,
    checkpoint TEXT,
    run_id TEXT,
    created_at TEXT NOT NULL,
    message TEXT NOT NULL,
    deliveries TEXT NOT NULL DEFAULT '[]',
    severity TEXT NOT NULL DEFAULT 'info' CHECK (severity IN ('critical', 'error', 'warning', 'info'))
  );
  INSERT INTO alerts_v3 (id, kind, monitor_id, checkpoint, run_id, created_at, message, deliveries, severity)
    SELECT id, kind, monitor_id, checkpoint, run_id, created_at, message, deliveries,
      CASE kind WHEN 'monitor-failed' THEN 'critical' WHEN 'checkpoint-down' THEN 'error' WHEN 'monitor-warning' THEN 'warning' ELSE 'info' END
    FROM alerts;
  DROP TABLE alerts;
  ALTER TABLE alerts_v3 RENAME TO alerts;
  CREATE INDEX alerts_by_monitor ON alerts(monitor_id, id);
  CREATE INDEX runs_by_status ON runs(status, dispatched_at);
  `,
  // 4: security and lifecycle (issue 12): token rotation with a grace period, artifact use for retention, the
  // indexes the pruning job needs, and a repair of run times an agent could once set (a forged result dated in
  // the future held its monitor back after a restart).
  `
  ALTER TABLE checkpoints ADD COLUMN previous_token_hash TEXT;        -- sha256 of the token before the last rotation
  ALTER TABLE checkpoints ADD COLUMN previous_token_expires_at TEXT;  -- ISO time; the previous token is refused from then
  CREATE INDEX checkpoints_by_previous_token ON checkpoints(previous_token_hash) WHERE previous_token_hash IS NOT NULL;
  ALTER TABLE artifacts ADD COLUMN last_used_at TEXT;                -- last result that referred to it (content is shared)
  CREATE INDEX runs_by_dispatch_time ON runs(dispatched_at);
  CREATE INDEX alerts_by_time ON alerts(created_at);
  CREATE INDEX results_by_time ON results(received_at);
  UPDATE runs SET dispatched_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE dispatched_at > strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '+1 day');
  UPDATE runs SET finished_at = dispatched_at WHERE finished_at > strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '+1 day');
  `,
  // 5: scale-out (issue 15): a stored result waits for the scheduler's decision (retry, alert, recover) until
  // `decided` is set, so a scheduler that starts (a restart, or another replica taking over) decides what the
  // previous one stored but never got to. Runs before this migration were decided.
  `
  ALTER TABLE runs ADD COLUMN decided INTEGER NOT NULL DEFAULT 1;
  CREATE INDEX runs_undecided ON runs(decided) WHERE decided = 0;
  `,
  // 6: monitors on several checkpoints (issue 14): the list and how runs are spread over it, and the health and
  // alert state per checkpoint (a monitor can fail from one site and pass from another). monitors.health stays
  // as the worst of them; its consecutive_failures and last_notified_at move here.
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
