import type pg from 'pg';
import type { Row } from './store-rows.ts';

/**
 * A scheduler decision refused because this replica does not hold the leader lease (any more): another replica
 * took over, or the lease expired while this one was paused. Nothing was changed; the caller stops deciding.
 */
export class FencedError extends Error {
  readonly code = 'NOT_LEADER';
  readonly lease: string;
  readonly holder: string;

  /** `why`: what the lease row said, e.g. `held by replica-b`. */
  constructor(lease: string, holder: string, why: string) {
    super(`${holder} is not the leader: lease "${lease}" is ${why}`);
    this.name = 'FencedError';
    this.lease = lease;
    this.holder = holder;
  }
}

export interface Fence {
  lease: string;
  holder: string;
  /** The grant the decisions belong to: a holder that lost the lease and took it again has a new term. */
  term?: number;
}

/**
 * Throw {@link FencedError} unless `fence.holder` holds the lease, unexpired by the database's clock, inside the
 * caller's transaction. `FOR SHARE` keeps the lease row from changing hands (a takeover updates it) until that
 * transaction ends, so the decision commits under the lease it was checked against.
 */
export async function assertLeaseHeld(client: pg.ClientBase, fence: Fence): Promise<void> {
  const { rows } = await client.query<Row>('SELECT holder, term, expires_at > clock_timestamp() AS live FROM cluster_leases WHERE name = $1 FOR SHARE', [fence.lease]);
  const row = rows[0];
  if (row === undefined) throw new FencedError(fence.lease, fence.holder, 'not held by anyone');
  const holder = String(row['holder']);
  if (holder !== fence.holder) throw new FencedError(fence.lease, fence.holder, `held by ${holder}`);
  if (row['live'] !== true) throw new FencedError(fence.lease, fence.holder, 'expired');
  if (fence.term !== undefined && Number(row['term']) !== fence.term) throw new FencedError(fence.lease, fence.holder, `in term ${String(row['term'])}, not ${fence.term}`);
}
