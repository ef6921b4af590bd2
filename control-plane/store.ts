import type { CheckpointHealth, MonitorHealth } from './dispatch-policy.ts';
import type { MonitorDefinition, ResultEnvelope } from '../engine/index.ts';
import type { Channel, MaintenanceWindow, MonitorAlerting, RunsQuery, Severity } from './api-schemas.ts';

export type RunState = 'dispatched' | 'running' | 'passed' | 'warning' | 'failed' | 'error' | 'lost';
export type RunReason = 'schedule' | 'retry' | 'manual' | 'redispatch' | 'unsolicited';
export type AlertKind = 'monitor-failed' | 'monitor-warning' | 'monitor-reminder' | 'monitor-recovered' | 'monitor-resolved' | 'checkpoint-down' | 'checkpoint-up';

export interface CheckpointRecord {
  name: string;
  createdAt: string;
  health: CheckpointHealth;
}

export interface InstanceRecord {
  checkpoint: string;
  id: string;
  version: string;
  browserVersion?: string;
  capacity: number;
  privacyLock: boolean;
  connected: boolean;
  draining: boolean;
  startedAt?: string;
  firstSeen: string;
  lastSeen: string;
  running: number;
  load: number;
  outboxDepth: number;
}

export interface MonitorRecord extends MonitorDefinition {
  alerting?: MonitorAlerting;
  /** The worst of `checkpointHealth`: failing, then warning, then ok. */
  health: MonitorHealth;
  /** Its health on each of its checkpoints (every one listed, `ok` until a result says otherwise). */
  checkpointHealth: Record<string, MonitorHealth>;
  createdAt: string;
  updatedAt: string;
}

export interface RunRecord {
  runId: string;
  monitorId: string;
  checkpoint: string;
  attempt: number;
  instance?: string;
  reason: RunReason;
  status: RunState;
  dispatchedAt: string;
  leaseDeadline?: string;
  finishedAt?: string;
  durationMs?: number;
  late: boolean;
  resultStatus?: string;
  lostReason?: string;
}

export interface StoredResult {
  runId: string;
  envelope: ResultEnvelope;
  receivedAt: string;
  duplicates: number;
}

export interface ArtifactRecord {
  sha256: string;
  sizeBytes: number;
  contentType: string;
  file: string;
  createdAt: string;
}

export interface WebhookDelivery {
  /** A webhook URL (--webhook), or `channel:<id>` (a channel's URL may itself be a secret). */
  url: string;
  channel?: string;
  delivered: boolean;
  attempts: number;
  status?: number;
  error?: string;
}

export interface AlertRecord {
  id: number;
  kind: AlertKind;
  monitorId?: string;
  checkpoint?: string;
  runId?: string;
  createdAt: string;
  message: string;
  severity: Severity;
  deliveries: WebhookDelivery[];
}

/** What "N failures in a row" and reminders need to survive a restart. */
export interface MonitorAlertState {
  consecutiveFailures: number;
  /** Last failure alert or reminder (wall time, ISO). */
  lastNotifiedAt?: string;
}

/** A channel or maintenance window as stored: its definition exactly as PUT, and bookkeeping. */
export interface StoredDefinition<T> {
  definition: T;
  createdAt: string;
  updatedAt: string;
}

export type RunFilter = Omit<RunsQuery, 'limit'> & { limit: number };

export class ConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConflictError';
  }
}

/**
 * What the control plane keeps, behind one interface: SQLite in one file (the default, `store-sqlite.ts`) or
 * PostgreSQL shared by several replicas (`store-postgres.ts`). Every method is one atomic operation of the
 * database; callers never hold a transaction across awaits.
 */
export interface ControlPlaneStore {
  /**
   * PostgreSQL with a fence only: a view of this store whose scheduler decisions succeed only in lease term
   * `term` (store-postgres-fence.ts). A scheduler started for one grant of the lease must not act in the next.
   */
  fencedAt?(term: number): ControlPlaneStore;
  /** Throws when the database cannot be read (the liveness probe's check). */
  ping(): Promise<void>;
  close(): Promise<void>;
  createCheckpoint(name: string, tokenHash: string, now: string): Promise<CheckpointRecord>;
  getCheckpoint(name: string): Promise<CheckpointRecord | undefined>;
  /** The checkpoint of a token: its current one, or the previous one until `previous_token_expires_at` (after `now`). */
  checkpointByTokenHash(tokenHash: string, now: string): Promise<CheckpointRecord | undefined>;
  /**
   * Replace a checkpoint's token. The current one stays valid until `previousValidUntil` (a grace period for
   * rolling the new one out), or is refused at once when that is undefined. A token that was revoked gets no grace.
   */
  rotateCheckpointToken(name: string, tokenHash: string, previousValidUntil: string | undefined): Promise<boolean>;
  /** Refuse every token of a checkpoint (current and previous) until the next rotation. */
  revokeCheckpointTokens(name: string, marker: string): Promise<boolean>;
  /**
   * Delete a checkpoint and its instances. Monitors that ran only there are deleted (`monitors`); monitors that
   * also run elsewhere lose it from their `checkpoints` (`updated`). Runs, results and alerts stay until retention
   * prunes them.
   */
  deleteCheckpoint(name: string): Promise<{ monitors: string[]; updated: string[] } | undefined>;
  listCheckpoints(): Promise<CheckpointRecord[]>;
  setCheckpointHealth(name: string, health: CheckpointHealth): Promise<void>;
  /** Record a hello: creates the instance or refreshes what it reports about itself, and marks it connected. */
  instanceHello(input: { checkpoint: string; id: string; version: string; browserVersion?: string; capacity: number; privacyLock: boolean; startedAt: string; now: string }): Promise<void>;
  /** A heartbeat: the instance is connected (again: with replicas, a late disconnect from a link it left may have said otherwise). */
  instanceHeartbeat(input: { checkpoint: string; id: string; running: number; load: number; draining: boolean; outboxDepth: number; now: string }): Promise<void>;
  instanceDisconnected(checkpoint: string, id: string, now: string): Promise<void>;
  /** At start-up nothing is connected yet, whatever the file says. */
  markAllInstancesDisconnected(): Promise<void>;
  deleteInstance(checkpoint: string, id: string): Promise<boolean>;
  countInstances(checkpoint: string): Promise<number>;
  instanceExists(checkpoint: string, id: string): Promise<boolean>;
  listInstances(checkpoint?: string): Promise<InstanceRecord[]>;
  insertMonitor(definition: MonitorDefinition & { alerting?: MonitorAlerting }, now: string): Promise<MonitorRecord>;
  /** Replace a monitor's definition (the state of checkpoints it no longer names is dropped); undefined when there is no such monitor. */
  updateMonitor(definition: MonitorDefinition & { alerting?: MonitorAlerting }, now: string): Promise<MonitorRecord | undefined>;
  deleteMonitor(id: string): Promise<boolean>;
  getMonitor(id: string): Promise<MonitorRecord | undefined>;
  /** Every monitor, or those that run on `checkpoint` (as their only one or among their `checkpoints`). */
  listMonitors(checkpoint?: string): Promise<MonitorRecord[]>;
  /** A monitor's health on one of its checkpoints, or (no checkpoint) on all of them; `health` follows. */
  setMonitorHealth(id: string, health: MonitorHealth, checkpoint?: string): Promise<void>;
  /** The alert state on one checkpoint; default: its first (`checkpoint`). */
  getMonitorAlertState(id: string, checkpoint?: string): Promise<MonitorAlertState>;
  setMonitorAlertState(id: string, state: MonitorAlertState, checkpoint?: string): Promise<void>;
  listChannels(): Promise<StoredDefinition<Channel>[]>;
  getChannel(id: string): Promise<StoredDefinition<Channel> | undefined>;
  putChannel(channel: Channel, now: string): Promise<boolean>;
  deleteChannel(id: string): Promise<boolean>;
  listMaintenanceWindows(): Promise<StoredDefinition<MaintenanceWindow>[]>;
  getMaintenanceWindow(id: string): Promise<StoredDefinition<MaintenanceWindow> | undefined>;
  putMaintenanceWindow(window: MaintenanceWindow, now: string): Promise<boolean>;
  deleteMaintenanceWindow(id: string): Promise<boolean>;
  insertRun(run: { runId: string; monitorId: string; checkpoint: string; attempt: number; instance: string; reason: RunReason; dispatchedAt: string; leaseDeadline: string }): Promise<void>;
  getRun(runId: string): Promise<RunRecord | undefined>;
  /** dispatched → running (only from dispatched; a late `started` never revives a lost run). */
  markRunStarted(runId: string): Promise<void>;
  markRunLost(runId: string, reason: string): Promise<void>;
  listRuns(monitorId: string, limit: number): Promise<RunRecord[]>;
  /** Runs matching every given filter, newest first. */
  queryRuns(filter: RunFilter): Promise<RunRecord[]>;
  /** Runs of one monitor (on one checkpoint, when given) dispatched at or after `sinceIso`, oldest first (availability). */
  runsSince(monitorId: string, sinceIso: string, checkpoint?: string): Promise<RunRecord[]>;
  /** The newest run of a monitor (on one checkpoint, when given) that has a result. */
  lastFinishedRun(monitorId: string, checkpoint?: string): Promise<RunRecord | undefined>;
  /** Runs per monitor, checkpoint and status since the database began: Prometheus counters. */
  runCounts(): Promise<{ monitorId: string; checkpoint: string; status: RunState; count: number }[]>;
  inFlightRuns(): Promise<RunRecord[]>;
  /** Runs whose result is stored but whose consequences (retry, alert, recovery) the scheduler has not settled. */
  undecidedRuns(runId?: string): Promise<RunRecord[]>;
  markRunDecided(runId: string): Promise<void>;
  /**
   * Store a result envelope exactly once, keyed by run id, and settle its run in the same transaction.
   * Returns `duplicate` (and counts it) when the run id is already stored. A result for a run already written
   * off as lost, or for a run this control plane never dispatched, is stored with `late` set. A new result of
   * a run in flight leaves the run undecided until {@link markRunDecided}.
   */
  storeResult(envelope: ResultEnvelope, checkpoint: string, now: string, options?: { finishedAt?: string }): Promise<{ stored: 'new' | 'duplicate'; run: RunRecord }>;
  getResult(runId: string): Promise<StoredResult | undefined>;
  getArtifact(sha256: string): Promise<ArtifactRecord | undefined>;
  /** Returns false when the artifact was already recorded (content-addressed: same bytes). */
  insertArtifact(artifact: ArtifactRecord): Promise<boolean>;
  insertAlert(alert: { kind: AlertKind; monitorId?: string; checkpoint?: string; runId?: string; createdAt: string; message: string; severity?: Severity }): Promise<AlertRecord>;
  setAlertDeliveries(id: number, deliveries: readonly WebhookDelivery[]): Promise<void>;
  listAlerts(limit: number, filter?: { monitorId?: string; checkpoint?: string; kinds?: readonly AlertKind[]; since?: string }): Promise<AlertRecord[]>;
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
  }>;
  /** Row counts (for the retention log line and tests). */
  counts(): Promise<{ runs: number; results: number; alerts: number; artifacts: number; instances: number }>;
}

