import { createHash } from 'node:crypto';
import { chmod, mkdir, open, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { ArtifactSink } from '../collectors/collector.ts';
import { systemClock, type Clock } from '../core/clock.ts';
import { EngineError } from '../core/errors.ts';
import { planOutboxDrops, type OutboxRowSize } from '../core/outbox-policy.ts';
import type { ResultEnvelope } from '../schema/protocol.ts';
import type { Artifact } from '../schema/result.ts';
import { tempSuffix, writeFileDurably } from './durable-file.ts';
import { isImageArtifact } from './privacy-guard.ts';

/** Default byte cap of the outbox (results + artifact files). */
export const defaultOutboxCapBytes = 512 * 1024 ** 2;

export interface OutboxOptions {
  /** The agent's data directory: `outbox.db` and `artifacts/` live in it. */
  dataDir: string;
  /** Past this many bytes, artifacts of the oldest runs are dropped (results never). */
  capBytes?: number;
  clock?: Clock;
}

export interface ArtifactRef {
  path: string;
  sha256: string;
  contentType: string;
  sizeBytes: number;
}

/** The envelope without what the outbox itself manages (artifact list, drop count). */
export type EnvelopeCore = Omit<ResultEnvelope, 'artifacts' | 'artifactsDropped'>;

export interface OutboxRow {
  runId: string;
  monitorId: string;
  attempt: number;
  /** Exactly what is POSTed: the artifact list and drop count are the outbox's current ones. */
  envelope: ResultEnvelope;
  artifacts: ArtifactRef[];
  /** Envelope bytes + artifact bytes (shared files counted per row here). */
  bytes: number;
  /** Wall-clock epoch ms of the commit. */
  createdAtMs: number;
  /** Failed delivery attempts. */
  attempts: number;
  lastError: string | undefined;
  /** Why the control plane refused it (HTTP 400); undefined while deliverable. */
  poisoned: string | undefined;
}

export interface OutboxStats {
  /** Rows not yet acknowledged (poisoned included). */
  depth: number;
  poisoned: number;
  /** Results + distinct artifact files. */
  bytes: number;
  capBytes: number;
  oldestCreatedAtMs: number | undefined;
  /** Artifact references dropped to respect the cap since this outbox was opened. */
  artifactsDroppedTotal: number;
  /** Results alone exceed the cap: the agent should take no more runs until some are delivered. */
  full: boolean;
}

const folders: Record<Artifact['kind'], string> = {
  screenshot: 'screenshots',
  'filmstrip-frame': 'filmstrip',
  har: '',
  report: '',
  lighthouse: 'lighthouse',
  log: '',
};

const schema = `
CREATE TABLE IF NOT EXISTS outbox (
  run_id TEXT PRIMARY KEY,
  monitor_id TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  envelope TEXT NOT NULL,
  envelope_bytes INTEGER NOT NULL,
  artifacts_dropped INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  poisoned TEXT
) STRICT;
CREATE TABLE IF NOT EXISTS outbox_artifact (
  run_id TEXT NOT NULL REFERENCES outbox(run_id) ON DELETE CASCADE,
  path TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  content_type TEXT NOT NULL,
  size_bytes INTEGER NOT NULL,
  PRIMARY KEY (run_id, path)
) STRICT;
CREATE INDEX IF NOT EXISTS outbox_artifact_sha ON outbox_artifact(sha256);
CREATE INDEX IF NOT EXISTS outbox_created ON outbox(created_at);
`;

interface RowRecord {
  run_id: string;
  monitor_id: string;
  attempt: number;
  envelope: string;
  envelope_bytes: number;
  artifacts_dropped: number;
  created_at: number;
  attempts: number;
  last_error: string | null;
  poisoned: string | null;
}

interface ArtifactRecord {
  run_id: string;
  path: string;
  sha256: string;
  content_type: string;
  size_bytes: number;
}

/**
 * Artifacts of one run on their way into the outbox. Files land in `artifacts/<sha256>` (temp → fsync →
 * rename) as the run writes them, before the run's row exists; the startup sweep removes files whose row
 * never came.
 */
export class ArtifactStaging implements ArtifactSink {
  readonly #outbox: Outbox;
  readonly #refuseImages: boolean;
  readonly #refs = new Map<string, ArtifactRef>();
  #closed = false;

  constructor(outbox: Outbox, refuseImages: boolean) {
    this.#outbox = outbox;
    this.#refuseImages = refuseImages;
  }

  get refs(): ArtifactRef[] {
    return [...this.#refs.values()];
  }

  async write(input: { kind: Artifact['kind']; name: string; bytes: Uint8Array; contentType: string; step?: number }): Promise<Artifact> {
    if (this.#closed) throw new EngineError('INTERNAL', 'artifact written after its run was committed', 'engine');
    if (this.#refuseImages && isImageArtifact(input.contentType, input.bytes)) {
      throw new EngineError('INTERNAL', `the privacy lock is on: refused to keep ${input.name} (${input.contentType})`, 'engine');
    }
    const folder = folders[input.kind];
    const path = (folder === '' ? input.name : `${folder}/${input.name}`).replace(/\\/g, '/');
    const sha256 = createHash('sha256').update(input.bytes).digest('hex');
    await this.#outbox.storeFile(sha256, input.bytes);
    const previous = this.#refs.get(path);
    if (previous !== undefined) this.#outbox.unprotect([previous.sha256]);
    this.#refs.set(path, { path, sha256, contentType: input.contentType, sizeBytes: input.bytes.byteLength });
    const artifact: Artifact = { kind: input.kind, path, contentType: input.contentType, sizeBytes: input.bytes.byteLength };
    if (input.step !== undefined) artifact.step = input.step;
    return artifact;
  }

  /** Called by the outbox when the row committed (or the run was abandoned). */
  close(): ArtifactRef[] {
    this.#closed = true;
    return this.refs;
  }

  /** The run produced no result to keep: let its files go. */
  async discard(): Promise<void> {
    const refs = this.close();
    this.#outbox.unprotect(refs.map((ref) => ref.sha256));
    await this.#outbox.removeUnreferenced(refs.map((ref) => ref.sha256));
  }
}

/**
 * The durable outbox: one SQLite row per finished run (WAL, synchronous=FULL, exclusive lock so that one
 * data directory serves one agent), artifact files beside it, content-addressed. A row leaves only when the
 * control plane acknowledged it. Past the byte cap, artifacts of the oldest rows are dropped (and counted)
 * before any result.
 */
export class Outbox {
  readonly dataDir: string;
  readonly artifactsDir: string;
  readonly capBytes: number;
  readonly #db: DatabaseSync;
  readonly #clock: Clock;
  /** Files written by runs not yet committed: never swept. sha256 → writers. */
  readonly #protected = new Map<string, number>();
  #droppedTotal = 0;
  #closed = false;

  private constructor(db: DatabaseSync, options: OutboxOptions) {
    this.#db = db;
    this.dataDir = options.dataDir;
    this.artifactsDir = join(options.dataDir, 'artifacts');
    this.capBytes = options.capBytes ?? defaultOutboxCapBytes;
    this.#clock = options.clock ?? systemClock;
  }

  /** Open (or create) the outbox in `dataDir`, then remove temp files and files no row refers to. */
  static async open(options: OutboxOptions): Promise<Outbox> {
    // Results hold what monitored pages showed (texts, screenshots): the outbox is the agent user's alone.
    for (const dir of [options.dataDir, join(options.dataDir, 'artifacts')]) {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await chmod(dir, 0o700);
    }
    const file = join(options.dataDir, 'outbox.db');
    // SQLite gives its -wal and -shm files the database file's mode: creating that one 0600 covers all three.
    await (await open(file, 'a', 0o600)).close();
    for (const path of [file, `${file}-wal`, `${file}-shm`]) await chmod(path, 0o600).catch(() => undefined);
    let db: DatabaseSync;
    try {
      db = new DatabaseSync(file);
    } catch (error) {
      throw new EngineError('INTERNAL', `cannot open the outbox in ${options.dataDir}: ${error instanceof Error ? error.message : String(error)}`, 'engine', { cause: error });
    }
    try {
      // Exclusive locking: a second agent on the same data directory fails at once instead of double-sending.
      db.exec('PRAGMA busy_timeout = 0; PRAGMA locking_mode = EXCLUSIVE; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;');
      db.exec('BEGIN IMMEDIATE');
      db.exec(schema);
      db.exec('COMMIT');
    } catch (error) {
      db.close();
      const message = error instanceof Error ? error.message : String(error);
      const locked = /locked|busy/i.test(message);
      throw new EngineError(
        'INTERNAL',
        locked ? `the data directory ${options.dataDir} is in use by another checkpoint agent (outbox.db is locked)` : `cannot open the outbox in ${options.dataDir}: ${message}`,
        locked ? 'script' : 'engine',
        { cause: error },
      );
    }
    const outbox = new Outbox(db, options);
    await outbox.#sweep();
    return outbox;
  }

  /** Where the file of `sha256` lives. */
  artifactPath(sha256: string): string {
    return join(this.artifactsDir, sha256);
  }

  /** A sink for one run's artifacts. With `refuseImages` (privacy lock) every image is refused. */
  stage(options: { refuseImages?: boolean } = {}): ArtifactStaging {
    return new ArtifactStaging(this, options.refuseImages ?? false);
  }

  /** @internal Write a content-addressed file durably and protect it from sweeps until its run commits. */
  async storeFile(sha256: string, bytes: Uint8Array): Promise<void> {
    this.#protected.set(sha256, (this.#protected.get(sha256) ?? 0) + 1);
    try {
      await writeFileDurably(this.artifactsDir, sha256, bytes);
    } catch (error) {
      this.unprotect([sha256]);
      throw error;
    }
  }

  /** @internal */
  unprotect(shas: readonly string[]): void {
    for (const sha of shas) {
      const left = (this.#protected.get(sha) ?? 1) - 1;
      if (left <= 0) this.#protected.delete(sha);
      else this.#protected.set(sha, left);
    }
  }

  has(runId: string): boolean {
    return this.#db.prepare('SELECT 1 FROM outbox WHERE run_id = ?').get(runId) !== undefined;
  }

  /**
   * Store a finished run (its artifact files are already on disk). Idempotent by run id: committing a run
   * id that is already there changes nothing. Applies the byte cap afterwards, in the same transaction.
   */
  async commit(envelope: EnvelopeCore, staging?: ArtifactStaging): Promise<{ committed: boolean; artifactsDropped: number }> {
    this.#assertOpen();
    const refs = staging?.close() ?? [];
    const body = JSON.stringify(envelope);
    const db = this.#db;
    let committed = false;
    let dropped: Record<string, number> = {};
    db.exec('BEGIN IMMEDIATE');
    try {
      if (!this.has(envelope.runId)) {
        db.prepare('INSERT INTO outbox (run_id, monitor_id, attempt, envelope, envelope_bytes, created_at) VALUES (?, ?, ?, ?, ?, ?)').run(
          envelope.runId,
          envelope.monitorId,
          envelope.attempt,
          body,
          Buffer.byteLength(body),
          this.#clock.wallNow().getTime(),
        );
        const insert = db.prepare('INSERT INTO outbox_artifact (run_id, path, sha256, content_type, size_bytes) VALUES (?, ?, ?, ?, ?)');
        for (const ref of refs) insert.run(envelope.runId, ref.path, ref.sha256, ref.contentType, ref.sizeBytes);
        committed = true;
        dropped = this.#applyCap();
      }
      db.exec('COMMIT');
    } catch (error) {
      db.exec('ROLLBACK');
      this.unprotect(refs.map((ref) => ref.sha256));
      throw error;
    }
    this.unprotect(refs.map((ref) => ref.sha256));
    // Files of a duplicate commit, and files the cap dropped, go now (a crash here leaves them to the sweep).
    await this.removeUnreferenced(refs.map((ref) => ref.sha256));
    const droppedHere = Object.values(dropped).reduce((a, b) => a + b, 0);
    return { committed, artifactsDropped: droppedHere };
  }

  /** Inside a transaction: drop artifacts of the oldest rows until the outbox fits the cap. */
  #applyCap(): Record<string, number> {
    if (this.#totalBytes() <= this.capBytes) return {};
    const plan = planOutboxDrops(this.#sizes(), this.capBytes);
    const removeArtifacts = this.#db.prepare('DELETE FROM outbox_artifact WHERE run_id = ?');
    const count = this.#db.prepare('UPDATE outbox SET artifacts_dropped = artifacts_dropped + ? WHERE run_id = ?');
    const shas: string[] = [];
    for (const runId of plan.dropArtifactsOf) {
      for (const ref of this.#artifactsOf(runId)) shas.push(ref.sha256);
      removeArtifacts.run(runId);
      count.run(plan.droppedPerRun[runId] ?? 0, runId);
      this.#droppedTotal += plan.droppedPerRun[runId] ?? 0;
    }
    this.#pendingRemovals.push(...shas);
    return plan.droppedPerRun;
  }

  /** Files whose last reference a cap pass removed; deleted after the transaction commits. */
  readonly #pendingRemovals: string[] = [];

  #sizes(): OutboxRowSize[] {
    const rows = this.#db.prepare('SELECT run_id, created_at, envelope_bytes FROM outbox ORDER BY created_at, rowid').all() as unknown as Pick<RowRecord, 'run_id' | 'created_at' | 'envelope_bytes'>[];
    const artifacts = this.#db.prepare('SELECT run_id, sha256, size_bytes FROM outbox_artifact').all() as unknown as Pick<ArtifactRecord, 'run_id' | 'sha256' | 'size_bytes'>[];
    const byRun = new Map<string, { sha256: string; sizeBytes: number }[]>();
    for (const a of artifacts) byRun.set(a.run_id, [...(byRun.get(a.run_id) ?? []), { sha256: a.sha256, sizeBytes: a.size_bytes }]);
    return rows.map((row) => ({ runId: row.run_id, createdAtMs: row.created_at, resultBytes: row.envelope_bytes, artifacts: byRun.get(row.run_id) ?? [] }));
  }

  #totalBytes(): number {
    const results = this.#db.prepare('SELECT COALESCE(SUM(envelope_bytes), 0) AS n FROM outbox').get() as { n: number };
    const files = this.#db.prepare('SELECT COALESCE(SUM(size), 0) AS n FROM (SELECT MAX(size_bytes) AS size FROM outbox_artifact GROUP BY sha256)').get() as { n: number };
    return results.n + files.n;
  }

  #artifactsOf(runId: string): ArtifactRef[] {
    const records = this.#db.prepare('SELECT run_id, path, sha256, content_type, size_bytes FROM outbox_artifact WHERE run_id = ? ORDER BY path').all(runId) as unknown as ArtifactRecord[];
    return records.map((a) => ({ path: a.path, sha256: a.sha256, contentType: a.content_type, sizeBytes: a.size_bytes }));
  }

  #toRow(record: RowRecord): OutboxRow {
    const artifacts = this.#artifactsOf(record.run_id);
    const core = JSON.parse(record.envelope) as EnvelopeCore;
    const envelope: ResultEnvelope = { ...core, artifacts, ...(record.artifacts_dropped > 0 ? { artifactsDropped: record.artifacts_dropped } : {}) };
    return {
      runId: record.run_id,
      monitorId: record.monitor_id,
      attempt: record.attempt,
      envelope,
      artifacts,
      bytes: record.envelope_bytes + artifacts.reduce((sum, a) => sum + a.sizeBytes, 0),
      createdAtMs: record.created_at,
      attempts: record.attempts,
      lastError: record.last_error ?? undefined,
      poisoned: record.poisoned ?? undefined,
    };
  }

  /** The oldest row still worth sending (not poisoned), skipping `exclude`. */
  next(exclude: ReadonlySet<string> = new Set()): OutboxRow | undefined {
    this.#assertOpen();
    const records = this.#db.prepare(`SELECT * FROM outbox WHERE poisoned IS NULL ORDER BY created_at, rowid LIMIT ?`).all(exclude.size + 1) as unknown as RowRecord[];
    const record = records.find((r) => !exclude.has(r.run_id));
    return record === undefined ? undefined : this.#toRow(record);
  }

  get(runId: string): OutboxRow | undefined {
    const record = this.#db.prepare('SELECT * FROM outbox WHERE run_id = ?').get(runId) as unknown as RowRecord | undefined;
    return record === undefined ? undefined : this.#toRow(record);
  }

  /** Every row, oldest first. */
  list(): OutboxRow[] {
    const records = this.#db.prepare('SELECT * FROM outbox ORDER BY created_at, rowid').all() as unknown as RowRecord[];
    return records.map((record) => this.#toRow(record));
  }

  /** A delivery attempt failed (network, 5xx, 429…): count it and keep the reason. */
  recordFailure(runId: string, message: string): void {
    this.#db.prepare('UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE run_id = ?').run(message.slice(0, 2000), runId);
  }

  /** The control plane refused the row (HTTP 400): keep it, stop sending it. */
  poison(runId: string, reason: string): void {
    this.#db.prepare('UPDATE outbox SET attempts = attempts + 1, last_error = ?, poisoned = ? WHERE run_id = ?').run(reason.slice(0, 2000), reason.slice(0, 2000), runId);
  }

  /** Make poisoned rows deliverable again (at startup: a new version on either side may accept them). */
  requeuePoisoned(): number {
    return Number(this.#db.prepare('UPDATE outbox SET poisoned = NULL WHERE poisoned IS NOT NULL').run().changes);
  }

  /** An artifact file is missing or damaged: drop the reference (counted like a cap drop). */
  async dropArtifact(runId: string, path: string): Promise<void> {
    const record = this.#db.prepare('SELECT sha256 FROM outbox_artifact WHERE run_id = ? AND path = ?').get(runId, path) as { sha256: string } | undefined;
    if (record === undefined) return;
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      this.#db.prepare('DELETE FROM outbox_artifact WHERE run_id = ? AND path = ?').run(runId, path);
      this.#db.prepare('UPDATE outbox SET artifacts_dropped = artifacts_dropped + 1 WHERE run_id = ?').run(runId);
      this.#db.exec('COMMIT');
    } catch (error) {
      this.#db.exec('ROLLBACK');
      throw error;
    }
    this.#droppedTotal++;
    await this.removeUnreferenced([record.sha256]);
  }

  /** The control plane stored the run: delete the row, then its files unless another row shares them. */
  async ack(runId: string): Promise<void> {
    this.#assertOpen();
    const shas = this.#artifactsOf(runId).map((ref) => ref.sha256);
    this.#db.prepare('DELETE FROM outbox WHERE run_id = ?').run(runId);
    await this.removeUnreferenced(shas);
  }

  /** @internal Delete the files of `shas` (and of earlier cap passes) that no row and no running run uses. */
  async removeUnreferenced(shas: readonly string[]): Promise<void> {
    const candidates = new Set([...shas, ...this.#pendingRemovals.splice(0)]);
    if (this.#closed) return;
    const stillUsed = this.#db.prepare('SELECT 1 FROM outbox_artifact WHERE sha256 = ? LIMIT 1');
    for (const sha of candidates) {
      if (this.#protected.has(sha) || stillUsed.get(sha) !== undefined) continue;
      await rm(this.artifactPath(sha), { force: true });
    }
  }

  /** At open: remove temp files and files without a row (a crash between file and row, or after an ack). */
  async #sweep(): Promise<void> {
    const referenced = new Set((this.#db.prepare('SELECT DISTINCT sha256 FROM outbox_artifact').all() as unknown as { sha256: string }[]).map((r) => r.sha256));
    for (const name of await readdir(this.artifactsDir)) {
      if (name.endsWith(tempSuffix) || (!referenced.has(name) && !this.#protected.has(name))) await rm(join(this.artifactsDir, name), { force: true, recursive: true });
    }
  }

  stats(): OutboxStats {
    this.#assertOpen();
    const counts = this.#db.prepare('SELECT COUNT(*) AS depth, COALESCE(SUM(poisoned IS NOT NULL), 0) AS poisoned, MIN(created_at) AS oldest FROM outbox').get() as { depth: number; poisoned: number; oldest: number | null };
    const bytes = this.#totalBytes();
    const results = this.#db.prepare('SELECT COALESCE(SUM(envelope_bytes), 0) AS n FROM outbox').get() as { n: number };
    return {
      depth: counts.depth,
      poisoned: counts.poisoned,
      bytes,
      capBytes: this.capBytes,
      oldestCreatedAtMs: counts.oldest ?? undefined,
      artifactsDroppedTotal: this.#droppedTotal,
      full: results.n >= this.capBytes,
    };
  }

  #assertOpen(): void {
    if (this.#closed) throw new EngineError('INTERNAL', 'the outbox is closed', 'engine');
  }

  get closed(): boolean {
    return this.#closed;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }
}
