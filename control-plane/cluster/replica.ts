import { randomUUID } from 'node:crypto';
import type { Clock, ResultEnvelope } from '../../engine/index.ts';
import { missedHeartbeatsAllowed, type Hub, type InstanceLink, type LiveInstance, type RunStatusMessage } from '../hub.ts';
import type { Log } from '../log.ts';
import type { InstanceStatus } from '../scheduler.ts';
import type { ControlPlaneStore, InstanceRecord, MonitorRecord, RunRecord } from '../store.ts';
import { everyReplica, leaderTarget, type ClusterBus } from './bus.ts';
import { messageOf, type LeaderLease } from './lease.ts';
import { ClusterLink } from './link.ts';
import { clusterMessageSchema, isLeaderMessage, type ClusterMessage, type LeaderMessage, type RemoteInstanceReport } from './messages.ts';

type MonitorChange = 'created' | 'updated' | 'deleted';

/** How often the leader decides stored results nobody reported to it. */
const sweepEveryMs = 10_000;

/** The scheduler as the cluster drives it: one runs, on the replica that holds the lease. */
export interface LeaderScheduler {
  start(): Promise<void>;
  stop(): Promise<void>;
  tick(): Promise<void>;
  instanceReady(instance: LiveInstance): Promise<void>;
  instanceGone(instance: LiveInstance, graceMs?: number): Promise<void>;
  heartbeat(instance: LiveInstance): Promise<void>;
  runStatus(instance: LiveInstance, message: RunStatusMessage): Promise<void>;
  resultStored(run: RunRecord, envelope: ResultEnvelope): Promise<void>;
  decideStored(runId?: string): Promise<void>;
  monitorChanged(monitorId: string, change: MonitorChange, previous?: MonitorRecord): Promise<void>;
  runNow(monitorId: string, checkpoint?: string): Promise<{ runId: string; instance: string; checkpoint: string } | undefined>;
  instanceStatus(checkpoint: string): Promise<InstanceStatus[]>;
  inFlightCount(): number;
}

export interface ReplicaOptions {
  replicaId: string;
  store: ControlPlaneStore;
  hub: Hub;
  bus: ClusterBus;
  clock: Clock;
  log: Log;
  heartbeatIntervalMs: number;
  /** How long a run survives its instance's link dropping (the agent reconnects, maybe to another replica). */
  reconnectGraceMs: number;
  /** How long a follower waits for the leader to answer a "run now". */
  requestTimeoutMs?: number;
  /** Builds the scheduler this replica runs while it leads grant `term`, on the given view of the cluster's instances. */
  createScheduler(link: InstanceLink, term: number): LeaderScheduler;
}

/**
 * One control-plane replica in a cluster on PostgreSQL. Every replica serves the API, the dashboard and its own
 * agents' links; the one holding the `scheduler` lease also schedules, dispatches and alerts, for all agents:
 * other replicas report their agents' events to it and carry its commands to their agents (control-plane/
 * cluster/bus.ts). The scheduler a replica starts when it gains the lease rebuilds everything from the database
 * (runs in flight keep their leases; results stored but not decided are decided), exactly as after a restart.
 */
export class Replica {
  readonly #options: ReplicaOptions;
  #lease: LeaderLease | undefined;
  #scheduler: LeaderScheduler | undefined;
  #link: ClusterLink | undefined;
  readonly #replies = new Map<string, (reply: { runId?: string; instance?: string; checkpoint?: string }) => void>();
  #lastSweepMs = 0;

  constructor(options: ReplicaOptions) {
    this.#options = options;
    options.bus.onMessage((message, from) => this.#receive(message, from));
    options.bus.onReconnected(() => this.#caughtUp());
  }

  /** Attach the lease (created with this replica's `gained` / `lost`). */
  useLease(lease: LeaderLease): void {
    this.#lease = lease;
  }

  leads(): boolean {
    return this.#scheduler !== undefined && this.#lease?.held === true;
  }

  // ---- leadership ----

  async gained(term: number): Promise<void> {
    const { hub, bus, clock, log } = this.#options;
    const link = new ClusterLink({ hub, publish: (replica, message) => bus.publish(replica, message), nowMs: () => clock.nowMs(), log });
    const scheduler = this.#options.createScheduler(link, term);
    await scheduler.start();
    this.#link = link;
    this.#scheduler = scheduler;
    // Results other replicas stored while the scheduler started were reported to no one: decide them now.
    await scheduler.decideStored();
    for (const instance of hub.instances()) if (instance.hello !== undefined) await scheduler.instanceReady(instance);
    // Followers report their agents again: the new leader knows nothing of them yet.
    await bus.publish(everyReplica, { type: 'announce' } satisfies ClusterMessage);
  }

  async lost(): Promise<void> {
    const scheduler = this.#scheduler;
    this.#scheduler = undefined;
    this.#link = undefined;
    await scheduler?.stop();
  }

  /** The maintenance tick: the leader forgets remote instances no replica reports any more, then schedules. */
  async tick(): Promise<void> {
    const scheduler = this.#scheduler;
    const link = this.#link;
    if (scheduler === undefined || link === undefined || !this.leads()) return;
    for (const instance of link.expire(missedHeartbeatsAllowed * this.#options.heartbeatIntervalMs)) {
      this.#options.log(`cluster: no replica reports ${instance.key} any more`);
      await scheduler.instanceGone(instance, this.#options.reconnectGraceMs);
    }
    // A report of a stored result can be lost (a failed publish, a failed decision): the leader looks for
    // undecided results itself now and then.
    const now = this.#options.clock.nowMs();
    if (now - this.#lastSweepMs >= sweepEveryMs) {
      this.#lastSweepMs = now;
      await scheduler.decideStored();
    }
    await scheduler.tick();
  }

  // ---- this replica's agents (hub events) ----

  async instanceReady(instance: LiveInstance): Promise<void> {
    if (this.leads()) {
      this.#link?.forget(instance.key);
      await this.#scheduler?.instanceReady(instance);
    } else {
      await this.#toLeader({ type: 'instance-ready', instance: report(instance) });
    }
  }

  async instanceGone(instance: LiveInstance): Promise<void> {
    // The agent reconnects, maybe to another replica: its runs get the reconnection grace.
    if (this.leads()) await this.#scheduler?.instanceGone(instance, this.#options.reconnectGraceMs);
    else await this.#toLeader({ type: 'instance-gone', key: instance.key, reason: 'link closed' });
  }

  async heartbeat(instance: LiveInstance): Promise<void> {
    if (this.leads()) await this.#scheduler?.heartbeat(instance);
    else if (instance.hello !== undefined) await this.#toLeader({ type: 'instance-heartbeat', instance: report(instance) });
  }

  async runStatus(instance: LiveInstance, message: RunStatusMessage): Promise<void> {
    if (this.leads()) await this.#scheduler?.runStatus(instance, message);
    else await this.#toLeader({ type: 'run-status', key: instance.key, message });
  }

  // ---- the API's side (the scheduler's facade) ----

  async resultStored(run: RunRecord, _envelope: ResultEnvelope): Promise<void> {
    // Through the check inside the scheduler's queue: a new leader's sweep may be deciding it right now.
    if (this.leads()) await this.#scheduler?.decideStored(run.runId);
    else await this.#toLeader({ type: 'result-stored', runId: run.runId });
  }

  async monitorChanged(monitorId: string, change: MonitorChange, previous?: MonitorRecord): Promise<void> {
    if (this.leads()) await this.#scheduler?.monitorChanged(monitorId, change, previous);
    else await this.#toLeader({ type: 'monitor-changed', monitorId, change, ...(previous === undefined ? {} : { previousJson: JSON.stringify(previous) }) });
  }

  async runNow(monitorId: string, checkpoint?: string): Promise<{ runId: string; instance: string; checkpoint: string } | undefined> {
    if (this.leads()) return this.#scheduler?.runNow(monitorId, checkpoint);
    const requestId = randomUUID();
    const reply = new Promise<{ runId?: string; instance?: string; checkpoint?: string }>((resolve) => {
      this.#replies.set(requestId, resolve);
      setTimeout(() => resolve({}), this.#options.requestTimeoutMs ?? 5000).unref();
    });
    await this.#toLeader({ type: 'run-now', monitorId, requestId, ...(checkpoint === undefined ? {} : { checkpoint }) });
    const answer = await reply;
    this.#replies.delete(requestId);
    return answer.runId === undefined || answer.instance === undefined || answer.checkpoint === undefined ? undefined : { runId: answer.runId, instance: answer.instance, checkpoint: answer.checkpoint };
  }

  /** The leader knows live loads; another replica answers from what replicas wrote to the database. */
  async instanceStatus(checkpoint: string): Promise<InstanceStatus[]> {
    if (this.leads() && this.#scheduler !== undefined) return this.#scheduler.instanceStatus(checkpoint);
    const records = await this.#options.store.listInstances(checkpoint);
    return records.map((record) => statusFromRecord(record, this.#options.clock.wallNow().getTime(), missedHeartbeatsAllowed * this.#options.heartbeatIntervalMs));
  }

  inFlightCount(): number {
    return this.leads() ? (this.#scheduler?.inFlightCount() ?? 0) : 0;
  }

  // ---- the hub's side for the API: commands for agents anywhere in the cluster ----

  async pushMonitors(checkpoint: string): Promise<void> {
    await this.#options.hub.pushMonitors(checkpoint);
    await this.#options.bus.publish(everyReplica, { type: 'push-monitors', checkpoint } satisfies ClusterMessage);
  }

  async drain(checkpoint: string, reason: string, instanceId?: string): Promise<string[]> {
    await this.#options.bus.publish(everyReplica, { type: 'drain', checkpoint, reason, ...(instanceId === undefined ? {} : { instanceId }) } satisfies ClusterMessage);
    return (await this.#connectedIds(checkpoint)).filter((id) => instanceId === undefined || id === instanceId);
  }

  async disconnect(checkpoint: string, reason: string, instanceId?: string): Promise<string[]> {
    const ids = (await this.#connectedIds(checkpoint)).filter((id) => instanceId === undefined || id === instanceId);
    await this.#options.bus.publish(everyReplica, { type: 'disconnect', checkpoint, reason, ...(instanceId === undefined ? {} : { instanceId }) } satisfies ClusterMessage);
    return ids;
  }

  async checkLiveness(): Promise<void> {
    await this.#options.hub.checkLiveness();
    await this.#options.bus.publish(everyReplica, { type: 'check-liveness' } satisfies ClusterMessage);
  }

  async #connectedIds(checkpoint: string): Promise<string[]> {
    const records = await this.#options.store.listInstances(checkpoint);
    return records.filter((record) => record.connected).map((record) => record.id);
  }

  // ---- the bus ----

  async #toLeader(message: ClusterMessage): Promise<void> {
    await this.#options.bus.publish(leaderTarget, message);
  }

  async #receive(raw: unknown, from: string): Promise<void> {
    const parsed = clusterMessageSchema.safeParse(raw);
    if (!parsed.success) {
      this.#options.log(`cluster: dropped a message from replica ${from} this version does not understand`);
      return;
    }
    const message = parsed.data;
    if (isLeaderMessage(message)) await this.#forLeader(message, from);
    else await this.#forReplica(message, from);
  }

  /** Commands and replies every replica carries out for its own agents. */
  async #forReplica(message: Exclude<ClusterMessage, LeaderMessage>, from: string): Promise<void> {
    const { hub, replicaId } = this.#options;
    switch (message.type) {
      case 'send':
        hub.send(message.key, message.message);
        return;
      case 'reply':
        this.#replies.get(message.requestId)?.({
          ...(message.runId === undefined ? {} : { runId: message.runId }),
          ...(message.instance === undefined ? {} : { instance: message.instance }),
          ...(message.checkpoint === undefined ? {} : { checkpoint: message.checkpoint }),
        });
        return;
      case 'announce':
        if (from === replicaId) return;
        for (const instance of hub.instances()) if (instance.hello !== undefined) await this.#toLeader({ type: 'instance-ready', instance: report(instance) });
        return;
      case 'push-monitors':
        if (from !== replicaId) await hub.pushMonitors(message.checkpoint);
        return;
      case 'drain':
        hub.drain(message.checkpoint, message.reason, message.instanceId);
        return;
      case 'disconnect':
        hub.disconnect(message.checkpoint, message.reason, message.instanceId);
        return;
      case 'check-liveness':
        if (from !== replicaId) await hub.checkLiveness();
        return;
    }
  }

  /**
   * Other replicas' reports and requests (the bus hands `leader` messages only to the replica that leads). They
   * are queued on the scheduler without waiting for each (its queue keeps their order and logs its failures), so
   * a burst of reports is handled as a burst, as the leader's own agents' are: one shared tick, not one each.
   */
  async #forLeader(message: LeaderMessage, from: string): Promise<void> {
    const scheduler = this.#scheduler;
    const link = this.#link;
    if (scheduler === undefined || link === undefined) return;
    switch (message.type) {
      case 'instance-ready':
      case 'instance-heartbeat': {
        const { instance, isNew } = link.report(from, message.instance);
        if (message.type === 'instance-ready' || isNew) void scheduler.instanceReady(instance);
        else void scheduler.heartbeat(instance);
        return;
      }
      case 'instance-gone': {
        const instance = link.forget(message.key, from);
        if (instance !== undefined) void scheduler.instanceGone(instance, this.#options.reconnectGraceMs);
        return;
      }
      case 'run-status': {
        const instance = link.get(message.key);
        if (instance !== undefined) void scheduler.runStatus(instance, message.message);
        return;
      }
      case 'result-stored':
        void scheduler.decideStored(message.runId);
        return;
      case 'monitor-changed':
        void scheduler.monitorChanged(message.monitorId, message.change, message.previousJson === undefined ? undefined : (JSON.parse(message.previousJson) as MonitorRecord));
        return;
      case 'run-now': {
        const dispatched = await scheduler.runNow(message.monitorId, message.checkpoint);
        await this.#options.bus.publish(from, { type: 'reply', requestId: message.requestId, ...(dispatched ?? {}) } satisfies ClusterMessage);
        return;
      }
    }
  }

  /** The bus was down a while: the leader decides what was stored meanwhile; followers report their agents again. */
  async #caughtUp(): Promise<void> {
    const scheduler = this.#scheduler;
    if (scheduler !== undefined) {
      await scheduler.decideStored();
      return;
    }
    for (const instance of this.#options.hub.instances()) {
      if (instance.hello !== undefined) await this.#toLeader({ type: 'instance-ready', instance: report(instance) }).catch((error: unknown) => this.#options.log(`cluster: ${messageOf(error)}`));
    }
  }
}

function report(instance: LiveInstance): RemoteInstanceReport {
  if (instance.hello === undefined) throw new Error(`${instance.key} has not said hello`);
  return {
    key: instance.key,
    checkpoint: instance.checkpoint,
    id: instance.id,
    hello: instance.hello,
    ...(instance.lastHeartbeat === undefined ? {} : { lastHeartbeat: instance.lastHeartbeat }),
  };
}

/** An instance's status from its row: online while connected and heard from within the liveness window. */
export function statusFromRecord(record: InstanceRecord, nowMs: number, deadAfterMs: number): InstanceStatus {
  const online = record.connected && nowMs - Date.parse(record.lastSeen) < deadAfterMs;
  const status: InstanceStatus = {
    id: record.id,
    online,
    version: record.version,
    capacity: record.capacity,
    running: online ? record.running : 0,
    load: online ? record.load : 0,
    draining: online && record.draining,
    privacyLock: record.privacyLock,
    outboxDepth: record.outboxDepth,
    lastSeen: record.lastSeen,
  };
  if (record.browserVersion !== undefined) status.browserVersion = record.browserVersion;
  return status;
}
