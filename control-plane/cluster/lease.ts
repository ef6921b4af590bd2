import type pg from 'pg';
import type { Log } from '../log.ts';

export interface LeaderLeaseOptions {
  pool: pg.Pool;
  /** The lease's row in `cluster_leases` (one per role, e.g. `scheduler`). */
  name: string;
  /** This replica's id: the holder while it leads. */
  holder: string;
  /** How long a grant lasts without renewal. A dead leader is replaced within about this long. */
  ttlMs: number;
  /** How often the lease is renewed (or, by a follower, tried). Well under `ttlMs`: three renewals may fail in a row. */
  renewEveryMs: number;
  /** Local monotonic time: the leader steps down by its own clock before the database could give the lease away. */
  nowMs: () => number;
  log: Log;
  /** This replica became the leader (`term` is the fencing token, higher on every change of holder). */
  gained(term: number): Promise<void> | void;
  /** This replica is no longer the leader (lost, expired, or stopping). It must stop acting as one at once. */
  lost(reason: string): Promise<void> | void;
}

/**
 * A leader lease in PostgreSQL. One row per role; a replica holds it while `expires_at` (the database's clock) is
 * ahead, renews it every `renewEveryMs`, and another replica takes it only once it expired. The holder also
 * keeps the deadline by its own monotonic clock, from the moment it SENT the renewal, so it stops leading no
 * later than the database would let another replica start (clocks of different machines are never compared).
 * Writes that only the leader may make are fenced in the store (`FencedError`), so even a leader that stalls
 * past its lease (a long GC pause, a frozen VM) cannot act on stale authority.
 */
export class LeaderLease {
  readonly #options: LeaderLeaseOptions;
  #timer: NodeJS.Timeout | undefined;
  #term: number | undefined;
  #validUntilMs = 0;
  #stopped = false;
  #running: Promise<void> = Promise.resolve();
  /** Steps down when the grant runs out by this replica's clock, whether or not a renewal is under way. */
  #deadline: NodeJS.Timeout | undefined;

  constructor(options: LeaderLeaseOptions) {
    if (!(options.renewEveryMs > 0 && options.renewEveryMs * 2 < options.ttlMs)) {
      throw new RangeError(`lease ${options.name}: renewEveryMs (${options.renewEveryMs}) must be positive and under half of ttlMs (${options.ttlMs})`);
    }
    this.#options = options;
  }

  /** True while this replica leads and its own clock says the grant has not run out. */
  get held(): boolean {
    return this.#term !== undefined && this.#options.nowMs() < this.#validUntilMs;
  }

  /** The fencing token of the current grant, while held. */
  get term(): number | undefined {
    return this.held ? this.#term : undefined;
  }

  /** Try at once, then every `renewEveryMs`. */
  start(): Promise<void> {
    this.#stopped = false;
    return this.#round();
  }

  /** Stop renewing; when held, step down and give the lease up so a successor need not wait for it to expire. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
    if (this.#term === undefined) return;
    await this.#stepDown('this replica is stopping');
    await this.#release().catch((error: unknown) => {
      this.#options.log(`cluster: could not release the ${this.#options.name} lease (it expires by itself): ${messageOf(error)}`);
    });
  }

  #round(): Promise<void> {
    this.#running = this.#renew().finally(() => {
      if (!this.#stopped) {
        this.#timer = setTimeout(() => void this.#round(), this.#options.renewEveryMs);
        this.#timer.unref();
      }
    });
    return this.#running;
  }

  async #renew(): Promise<void> {
    const { pool, name, holder, ttlMs, nowMs, log } = this.#options;
    const sentAtMs = nowMs();
    let term: number | undefined;
    try {
      // Take the row when it is free or expired, keep it when it is ours; the term changes only with the holder.
      const result = await pool.query<{ term: string }>(
        `INSERT INTO cluster_leases AS lease (name, holder, expires_at, term)
           VALUES ($1, $2, clock_timestamp() + make_interval(secs => $3::double precision / 1000), 1)
         ON CONFLICT (name) DO UPDATE
           SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at,
               term = CASE WHEN lease.holder = EXCLUDED.holder THEN lease.term ELSE lease.term + 1 END
           WHERE lease.holder = EXCLUDED.holder OR lease.expires_at < clock_timestamp()
         RETURNING term`,
        [name, holder, ttlMs],
      );
      const row = result.rows[0];
      term = row === undefined ? undefined : Number(row.term);
    } catch (error) {
      // The database is unreachable: a leader keeps leading only until its own deadline passes.
      if (this.#term !== undefined && nowMs() >= this.#validUntilMs) await this.#stepDown(`the ${name} lease could not be renewed: ${messageOf(error)}`);
      else log(`cluster: renewing the ${name} lease failed: ${messageOf(error)}`);
      return;
    }
    if (this.#stopped) {
      // stop() raced this renewal: it releases whatever this round obtained.
      if (term !== undefined) this.#term = term;
      return;
    }
    if (term === undefined) {
      if (this.#term !== undefined) await this.#stepDown(`another replica holds the ${name} lease`);
      return;
    }
    // A margin of half a renewal period: the old leader has stopped before the database lets a successor in.
    this.#validUntilMs = sentAtMs + ttlMs - this.#options.renewEveryMs / 2;
    this.#armDeadline();
    if (this.#term === term) return;
    if (this.#term !== undefined) await this.#stepDown(`the ${name} lease changed hands (term ${this.#term} → ${term})`);
    this.#term = term;
    log(`cluster: ${holder} leads (${name} lease, term ${term})`);
    try {
      await this.#options.gained(term);
    } catch (error) {
      log(`cluster: taking the lead failed: ${messageOf(error)}; giving the ${name} lease up`);
      await this.#stepDown('taking the lead failed');
      await this.#release().catch(() => undefined);
    }
  }

  #armDeadline(): void {
    if (this.#deadline !== undefined) clearTimeout(this.#deadline);
    this.#deadline = setTimeout(() => {
      this.#deadline = undefined;
      if (this.#term !== undefined && this.#options.nowMs() >= this.#validUntilMs) void this.#stepDown(`the ${this.#options.name} lease ran out before it could be renewed`);
    }, Math.max(0, this.#validUntilMs - this.#options.nowMs()));
    this.#deadline.unref();
  }

  /** Expire the grant now, keeping the row: the term only ever grows, so fencing tokens are never reused. */
  async #release(): Promise<void> {
    await this.#options.pool.query(`UPDATE cluster_leases SET expires_at = '-infinity' WHERE name = $1 AND holder = $2`, [this.#options.name, this.#options.holder]);
  }

  async #stepDown(reason: string): Promise<void> {
    if (this.#deadline !== undefined) clearTimeout(this.#deadline);
    this.#deadline = undefined;
    if (this.#term === undefined) return;
    this.#term = undefined;
    this.#validUntilMs = 0;
    this.#options.log(`cluster: ${this.#options.holder} no longer leads: ${reason}`);
    try {
      await this.#options.lost(reason);
    } catch (error) {
      this.#options.log(`cluster: stepping down failed: ${messageOf(error)}`);
    }
  }
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
