import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Clock } from '../../engine/index.ts';
import type { Hub, InstanceLink } from '../hub.ts';
import type { Log } from '../log.ts';
import { connectError, createPool } from '../store-postgres-connection.ts';
import type { ControlPlaneStore } from '../store.ts';
import { ClusterBus } from './bus.ts';
import { LeaderLease } from './lease.ts';
import { Replica, type LeaderScheduler } from './replica.ts';

/** The lease whose holder schedules, dispatches and alerts for the whole cluster (and that fences its writes). */
export const schedulerLease = 'scheduler';
export const defaultLeaderLeaseMs = 15_000;

/** A replica id when none is given: the host name (a pod's name on Kubernetes) and a random suffix. */
export function defaultReplicaId(): string {
  return `${hostname()}-${randomBytes(3).toString('hex')}`.slice(0, 100);
}

export interface ClusterOptions {
  database: string;
  replicaId: string;
  leaderLeaseMs: number;
  store: ControlPlaneStore;
  hub: Hub;
  clock: Clock;
  log: Log;
  heartbeatIntervalMs: number;
  createScheduler(link: InstanceLink): LeaderScheduler;
}

export interface Cluster {
  replica: Replica;
  close(): Promise<void>;
}

/**
 * Join the cluster of replicas sharing `database`: a small pool of its own for the lease and the bus (so a busy
 * store never delays a lease renewal), the bus's LISTEN connection, and the lease, tried at once and then every
 * third of its duration. Resolves once this replica knows whether it leads.
 */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const { database, replicaId, leaderLeaseMs, clock, log } = options;
  const pool = createPool(database, { poolSize: 2, applicationName: `checkpoint-cluster-${replicaId}`.slice(0, 63), onIdleError: (error) => log(`cluster: a database connection failed: ${error.message}`) });
  const leading = { now: (): boolean => false };
  const bus = new ClusterBus({ pool, listenConfig: { connectionString: database, connectionTimeoutMillis: 10_000 }, replicaId, leads: () => leading.now(), log });
  const replica = new Replica({
    replicaId,
    store: options.store,
    hub: options.hub,
    bus,
    clock,
    log,
    heartbeatIntervalMs: options.heartbeatIntervalMs,
    // An agent whose replica died reconnects with a backoff (1 s, doubling): three heartbeats and a margin.
    reconnectGraceMs: Math.max(3 * options.heartbeatIntervalMs, 10_000),
    createScheduler: (link) => options.createScheduler(link),
  });
  leading.now = () => replica.leads();
  const joined = replica;
  const lease = new LeaderLease({
    pool,
    name: schedulerLease,
    holder: replicaId,
    ttlMs: leaderLeaseMs,
    renewEveryMs: leaderLeaseMs / 3,
    // Real time, whatever clock the scheduler runs on: the lease is about other processes.
    nowMs: () => performance.now(),
    log,
    gained: () => joined.gained(),
    lost: () => joined.lost(),
  });
  joined.useLease(lease);
  try {
    await bus.start();
    await lease.start();
  } catch (error) {
    await bus.close();
    await pool.end().catch(() => undefined);
    // The store's connection error: names the URL without its password, and scrubs any echo of it.
    throw connectError(database, 'connect', error);
  }
  log(`cluster: replica ${replicaId} joined (${lease.held ? 'leading' : 'following'})`);
  return {
    replica: joined,
    async close() {
      await lease.stop();
      await bus.close();
      await pool.end().catch(() => undefined);
    },
  };
}
