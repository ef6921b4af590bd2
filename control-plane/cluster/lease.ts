import type pg from 'pg';
import type { Log } from '../log.ts';

export interface LeaderLeaseOptions {
  /** Its queries must time out (`query_timeout`) well under `renewEveryMs`: a hung connection must not stall the lease. */
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
  /** This replica became the leader for grant `term` (the fencing token: it grows with every grant). */
  gained(term: number): Promise<void> | void;
  /** This replica no longer leads (lost, expired, or stopping). It must stop acting as the leader. */
  lost(reason: string): Promise<void> | void;
}

/**
 * A leader lease in PostgreSQL. One row per role; a replica holds it while `expires_at` (the database's clock) is
 * ahead, renews it every `renewEveryMs`, and another replica takes it only once it expired. Every new grant — to
 * another replica, or to the same one after its grant ran out — gets a higher `term`, and the scheduler started
 * for a grant writes through a store fenced at that term, so a leader that stalled past its lease (a GC pause, a
 * frozen VM, a hung connection) cannot act on stale authority. The holder keeps the deadline by its own monotonic
 * clock from the moment it SENT the renewal, minus half a renewal period, so it steps down before the database
 * would let a successor in (clocks of different machines are never compared).
 *
 * Renewals run on their own timer and never wait for `gained` / `lost`, which run one after the other in order
 * (a new grant's `gained` waits for the previous `lost` to finish): a scheduler start that takes long cannot make
 * the lease lapse.
 */
export class LeaderLease {
  readonly #options: LeaderLeaseOptions;
  #timer: NodeJS.Timeout | undefined;
  #deadline: NodeJS.Timeout | undefined;
  #term: number | undefined;
  #validUntilMs = 0;
  #stopped = true;
  #round: Promise<void> | undefined;
  #transitions: Promise<void> = Promise.resolve();

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

  /** Try at once (resolves when that try and any `gained` it caused are done), then every `renewEveryMs`. */
  async start(): Promise<void> {
    this.#stopped = false;
    this.#timer = setInterval(() => this.#tick(), this.#options.renewEveryMs);
    this.#timer.unref();
    this.#tick();
    await this.#round;
    await this.#transitions;
  }

  /** Stop renewing; when held, step down and give the lease up so a successor need not wait for it to expire. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#round;
    const held = this.#term !== undefined;
    this.#stepDown('this replica is stopping');
    await this.#transitions;
    if (!held) return;
    await this.#release().catch((error: unknown) => {
      this.#options.log(`cluster: could not release the ${this.#options.name} lease (it expires by itself): ${messageOf(error)}`);
    });
  }

  /** One renewal at a time: a round still running when the next is due is not doubled (its query times out). */
  #tick(): void {
    if (this.#round !== undefined || this.#stopped) return;
    this.#round = this.#renew().finally(() => {
      this.#round = undefined;
    });
  }

  async #renew(): Promise<void> {
    const { pool, name, holder, ttlMs, nowMs, log } = this.#options;
    const sentAtMs = nowMs();
    let term: number | undefined;
    try {
      // Take the row when it is free or expired, extend it while ours and live. The term grows with every new
      // grant (another holder, or this one again after its grant expired), never on a renewal.
      const result = await withinMs(this.#options.renewEveryMs * 0.9, pool.query<{ term: string }>(
        `INSERT INTO cluster_leases AS lease (name, holder, expires_at, term)
           VALUES ($1, $2, clock_timestamp() + make_interval(secs => $3::double precision / 1000), 1)
         ON CONFLICT (name) DO UPDATE
           SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at,
               term = CASE WHEN lease.holder = EXCLUDED.holder AND lease.expires_at >= clock_timestamp() THEN lease.term ELSE lease.term + 1 END
           WHERE lease.holder = EXCLUDED.holder OR lease.expires_at < clock_timestamp()
         RETURNING term`,
        [name, holder, ttlMs],
      ));
      const row = result.rows[0];
      term = row === undefined ? undefined : Number(row.term);
    } catch (error) {
      // The deadline timer steps down when the grant runs out; until then a failed renewal is only reported.
      log(`cluster: renewing the ${name} lease failed: ${messageOf(error)}`);
      return;
    }
    if (this.#stopped) {
      // stop() raced this renewal: it releases whatever this round obtained.
      if (term !== undefined && this.#term === undefined) this.#term = term;
      return;
    }
    if (term === undefined) {
      this.#stepDown(`another replica holds the ${name} lease`);
      return;
    }
    if (this.#term !== undefined && this.#term !== term) this.#stepDown(`the ${name} lease was granted anew (term ${this.#term} → ${term})`);
    // A margin of half a renewal period: the old leader has stopped before the database lets a successor in.
    this.#validUntilMs = sentAtMs + ttlMs - this.#options.renewEveryMs / 2;
    this.#armDeadline();
    if (this.#term === term) return;
    this.#term = term;
    log(`cluster: ${holder} leads (${name} lease, term ${term})`);
    this.#transition(async () => {
      if (this.#term !== term) return;
      try {
        await this.#options.gained(term);
      } catch (error) {
        log(`cluster: taking the lead failed: ${messageOf(error)}; giving the ${name} lease up`);
        this.#stepDown('taking the lead failed');
        await this.#release().catch(() => undefined);
      }
    });
  }

  #armDeadline(): void {
    if (this.#deadline !== undefined) clearTimeout(this.#deadline);
    this.#deadline = setTimeout(
      () => {
        this.#deadline = undefined;
        if (this.#term === undefined) return;
        // Timers may fire a little early by the monotonic clock: then wait for the rest.
        if (this.#options.nowMs() < this.#validUntilMs) this.#armDeadline();
        else this.#stepDown(`the ${this.#options.name} lease ran out before it could be renewed`);
      },
      Math.max(1, Math.ceil(this.#validUntilMs - this.#options.nowMs())),
    );
    this.#deadline.unref();
  }

  /** Expire the grant now, keeping the row: the term only ever grows, so fencing tokens are never reused. */
  async #release(): Promise<void> {
    await this.#options.pool.query(`UPDATE cluster_leases SET expires_at = '-infinity' WHERE name = $1 AND holder = $2`, [this.#options.name, this.#options.holder]);
  }

  /** Stop leading at once (`held` is false from here on); `lost` runs after whatever transition is under way. */
  #stepDown(reason: string): void {
    if (this.#deadline !== undefined) clearTimeout(this.#deadline);
    this.#deadline = undefined;
    if (this.#term === undefined) return;
    this.#term = undefined;
    this.#validUntilMs = 0;
    this.#options.log(`cluster: ${this.#options.holder} no longer leads: ${reason}`);
    this.#transition(async () => {
      await this.#options.lost(reason);
    });
  }

  #transition(work: () => Promise<void>): void {
    this.#transitions = this.#transitions.then(work).catch((error: unknown) => {
      this.#options.log(`cluster: changing leadership failed: ${messageOf(error)}`);
    });
  }
}

/** `work`, or a rejection after `ms` (the pool's own query timeout should come first; this bounds a pool without one). */
function withinMs<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${Math.round(ms)} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
