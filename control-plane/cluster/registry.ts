import type pg from 'pg';
import type { Log } from '../log.ts';
import { messageOf } from './lease.ts';

/** What `GET /api/v1/cluster` answers: the replicas sharing the database and which one leads. */
export interface ClusterStatus {
  mode: 'single' | 'cluster';
  /** This replica (the one that answered). */
  replica?: string;
  /** The replica holding the scheduler lease now; absent while none does (a takeover in progress). */
  leader?: string;
  replicas: { id: string; startedAt: string; lastSeen: string; alive: boolean; leading: boolean; url?: string }[];
}

/** Another running replica has this replica's id. */
export class DuplicateReplicaError extends Error {
  readonly code = 'DUPLICATE_REPLICA';
  constructor(message: string) {
    super(message);
    this.name = 'DuplicateReplicaError';
  }
}

/** Rows of replicas unseen this long are deleted (a replica that is gone for good, e.g. a deleted pod). */
const forgetAfterMs = 24 * 3600_000;

/**
 * Each replica's row in `cluster_replicas`, refreshed every `everyMs` (the database's clock), so operators see
 * which replicas share the database and which one leads. Informational only: nothing decides on it.
 */
export class ReplicaRegistry {
  readonly #pool: pg.Pool;
  readonly #id: string;
  readonly #everyMs: number;
  readonly #log: Log;
  readonly #startedAt = new Date().toISOString();
  #url: string | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: { pool: pg.Pool; replicaId: string; everyMs: number; log: Log }) {
    this.#pool = options.pool;
    this.#id = options.replicaId;
    this.#everyMs = options.everyMs;
    this.#log = options.log;
  }

  /** The URL this replica listens on, once known. */
  listening(url: string): void {
    this.#url = url;
    void this.#beat();
  }

  /** Refuses an id a live replica already uses: two holders with one id would both pass the lease's fence. */
  async start(): Promise<void> {
    const { rows } = await this.#pool.query<{ started_at: string; alive: boolean }>(
      'SELECT started_at, last_seen > clock_timestamp() - make_interval(secs => $2::double precision / 1000) AS alive FROM cluster_replicas WHERE id = $1',
      [this.#id, 3 * this.#everyMs],
    );
    const live = rows[0];
    if (live?.alive === true) {
      throw new DuplicateReplicaError(`replica id "${this.#id}" is in use by a running replica (started ${live.started_at}): give each replica its own --replica-id, or wait ${Math.ceil((3 * this.#everyMs) / 1000)} s after one stopped`);
    }
    await this.#beat();
    this.#timer = setInterval(() => void this.#beat(), this.#everyMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    await this.#pool.query('DELETE FROM cluster_replicas WHERE id = $1', [this.#id]).catch(() => undefined);
  }

  async #beat(): Promise<void> {
    try {
      await this.#pool.query(
        `INSERT INTO cluster_replicas (id, started_at, last_seen, url) VALUES ($1, $2, clock_timestamp(), $3)
         ON CONFLICT (id) DO UPDATE SET last_seen = EXCLUDED.last_seen, url = COALESCE(EXCLUDED.url, cluster_replicas.url), started_at = EXCLUDED.started_at`,
        [this.#id, this.#startedAt, this.#url ?? null],
      );
      await this.#pool.query('DELETE FROM cluster_replicas WHERE last_seen < clock_timestamp() - make_interval(secs => $1::double precision / 1000)', [forgetAfterMs]);
    } catch (error) {
      this.#log(`cluster: could not record this replica: ${messageOf(error)}`);
    }
  }

  /** Replicas seen within three refresh periods are alive; the leader is the lease's holder while it is valid. */
  async status(lease: string): Promise<ClusterStatus> {
    const replicas = await this.#pool.query<{ id: string; started_at: string; last_seen: Date; url: string | null; alive: boolean }>(
      `SELECT id, started_at, last_seen, url, last_seen > clock_timestamp() - make_interval(secs => $1::double precision / 1000) AS alive
       FROM cluster_replicas ORDER BY id`,
      [3 * this.#everyMs],
    );
    const holder = await this.#pool.query<{ holder: string }>('SELECT holder FROM cluster_leases WHERE name = $1 AND expires_at > clock_timestamp()', [lease]);
    const leader = holder.rows[0]?.holder;
    return {
      mode: 'cluster',
      replica: this.#id,
      ...(leader === undefined ? {} : { leader }),
      replicas: replicas.rows.map((row) => ({
        id: row.id,
        startedAt: row.started_at,
        lastSeen: row.last_seen.toISOString(),
        alive: row.alive,
        leading: row.id === leader,
        ...(row.url === null ? {} : { url: row.url }),
      })),
    };
  }
}
