import { randomUUID } from 'node:crypto';
import PQueue from 'p-queue';
import { breachSentences, type Clock, defaultTimeouts, isBrowserScript, type ResultEnvelope } from '../engine/index.ts';
import {
  chooseInstance,
  confirmingAttempts,
  decideAfterResult,
  evaluateCheckpoint,
  failuresInARow,
  instanceLoad,
  leaseDeadlineMs,
  nextDueMs,
  runLostReason,
  type CheckpointHealth,
  type InstanceView,
  type MonitorHealth,
} from './dispatch-policy.ts';
import type { Alerts } from './alerts.ts';
import { activeWindow } from './maintenance.ts';
import { checkpointsOf, definitionFromRecord, placementOf } from './monitor-definition.ts';
import { instanceKey, type InstanceLink, type LiveInstance, type RunStatusMessage } from './hub.ts';
import type { Log } from './log.ts';
import type { MonitorRecord, RunReason, RunRecord, ControlPlaneStore } from './store.ts';

type DispatchReason = Exclude<RunReason, 'unsolicited'>;

interface InFlight {
  runId: string;
  monitorId: string;
  checkpoint: string;
  instanceKey: string;
  attempt: number;
  leaseDeadlineMs: number;
  /** A non-browser check: it counts against the instance's check capacity, not its browser capacity. */
  check: boolean;
  reason: DispatchReason;
  /** The instance said something about the run (accepted, started, finished…) or listed it as running. */
  acknowledged: boolean;
  /** When the run command was last sent (monotonic ms). */
  sentAtMs: number;
}

/** Browser transactions and non-browser checks have separate capacities on an instance (hello `checkCapacity`). */
type Lane = 'browser' | 'check';

interface PendingRun {
  monitorId: string;
  /**
   * Where it may run, in order of preference: one checkpoint (a monitor on one, each of an `all` monitor's, a
   * retry, which confirms a failure where it was seen), or a round-robin monitor's list from its turn on, so a
   * checkpoint with no instance connected is passed over for the next.
   */
  checkpoints: readonly string[];
  attempt: number;
  reason: DispatchReason;
  /** Prefer any other instance (the one whose result is being confirmed, or that lost the run). */
  avoid?: string;
}

/** What the API and the dashboard show about an instance. */
export interface InstanceStatus {
  id: string;
  online: boolean;
  version: string;
  browserVersion?: string;
  capacity: number;
  running: number;
  /** running / capacity, 0..1 (1 when capacity is 0). */
  load: number;
  draining: boolean;
  privacyLock: boolean;
  outboxDepth: number;
  lastSeen: string;
}

/** What the API and the dashboard ask of the scheduler: this process's, or the cluster's leader through any replica. */
export type SchedulerControl = Pick<Scheduler, 'runNow' | 'instanceStatus' | 'monitorChanged' | 'resultStored'>;

export interface SchedulerOptions {
  store: ControlPlaneStore;
  /** The instances to dispatch to: this process's hub, or the cluster's view of every replica's (cluster/link.ts). */
  hub: InstanceLink;
  alerts: Alerts;
  clock: Clock;
  log: Log;
  /** Added to a script's time budget to get its lease. */
  leaseMarginMs: number;
  checkpointDownAfterMs: number;
  /** After a control-plane restart, how long instances have to come back before their runs count as lost. */
  startupGraceMs: number;
  /**
   * A run command the instance has not acknowledged this long after it was sent (the link it went over died: a
   * replica killed as it passed the command on) is sent again; the agent ignores a command for a run it has, and
   * answers `finished` for one it already ran. Default 10 s.
   */
  resendAfterMs?: number;
}

/**
 * Interval scheduling and dispatch. Each enabled monitor is due once per interval and runs on ONE instance of
 * its checkpoint, the least loaded. A failure is re-run at once on another instance; a run whose instance
 * vanished or whose lease expired is written off as lost and re-dispatched. All decisions come from
 * control-plane/dispatch-policy.ts; this class holds the state and does the I/O. `tick()` is driven by a timer
 * and by hub events; it reads time only from the injected Clock.
 *
 * Serialised: the store is asynchronous, so between two of its calls anything may happen. Every piece of work
 * that reads or changes the scheduler's state (start, each event, each tick, run-now) goes through ONE queue
 * (p-queue, concurrency 1) that runs one task at a time, in arrival order; a task finishes all its awaits
 * before the next begins. So `#inFlight` and `#pending` only change inside a task, and no task sees another's
 * half-done: a run being dispatched across an await cannot be enqueued a second time, and a result cannot be
 * decided twice. An event's tick runs inside the event's own task. Tick requests coalesce: while a tick waits
 * in the queue, further requests join it; a request made while a tick runs queues exactly one more, so none
 * is lost. A task's failure (the store unreachable) is logged and the queue goes on: the promises these methods
 * return never reject, except `start`'s and `runNow`'s, whose callers answer with an error.
 */
export class Scheduler {
  readonly #store: ControlPlaneStore;
  readonly #hub: InstanceLink;
  readonly #alerts: Alerts;
  readonly #clock: Clock;
  readonly #log: Log;
  readonly #options: Pick<SchedulerOptions, 'leaseMarginMs' | 'checkpointDownAfterMs' | 'startupGraceMs' | 'resendAfterMs'>;
  readonly #inFlight = new Map<string, InFlight>();
  /** Instance key → ids of its runs in `#inFlight` (kept with it by #track / #untrack). */
  readonly #inFlightByInstance = new Map<string, Set<string>>();
  /** Instance key → the time from which its runs count as lost (set when it goes away). */
  readonly #goneAt = new Map<string, number>();
  readonly #due = new Map<string, number>();
  /** The earliest due time in `#due` (monotonic ms): until then, and with nothing changed or waiting, a tick reads no monitor. */
  #nextDueMs = 0;
  /** The scheduler started: the monitors must be read. */
  #monitorsDirty = true;
  /** Monitors changed since the last pass; `#monitors` already has them (a change reads that one monitor, not all). */
  #monitorsChanged = false;
  /** Something that can let a waiting run go happened since the last pass (an instance arrived, reported, finished a run…). */
  #capacityChanged = true;
  #lastRemindMs = Number.NEGATIVE_INFINITY;
  /** The monitors as last read; reused while none changed and none is due (placing waiting runs needs no fresh read). */
  #monitors: readonly MonitorRecord[] | undefined;
  #pending: PendingRun[] = [];
  /** Round-robin monitors: the index in their list of the checkpoint whose turn is next. */
  readonly #turn = new Map<string, number>();
  /** Checkpoint health as last evaluated by a tick (reminders are not sent for a checkpoint that is down). */
  #checkpointHealth = new Map<string, CheckpointHealth>();
  readonly #lastDispatchMs = new Map<string, number>();
  /** Instances that rejected a run: not offered another until their next heartbeat. */
  readonly #cooling = new Set<string>();
  /** Checkpoint → since when it has had no instance connected. */
  readonly #offlineSince = new Map<string, number>();
  /** Checkpoints whose `down` fell in a maintenance window: their `up` is not announced either. */
  readonly #silencedDown = new Set<string>();
  /** One task at a time: see the class comment. */
  readonly #queue = new PQueue({ concurrency: 1 });
  /** The tick waiting in the queue (not started yet), which further tick requests join. */
  #queuedTick: { request: { started: boolean }; done: Promise<void> } | undefined;
  #started = false;
  /** Bumped by every start and stop: a start that a stop overtook does not switch the scheduler on. */
  #generation = 0;

  constructor(options: SchedulerOptions) {
    this.#store = options.store;
    this.#hub = options.hub;
    this.#alerts = options.alerts;
    this.#clock = options.clock;
    this.#log = options.log;
    this.#options = options;
  }

  /**
   * Pick up what a previous process (or the previous leader) left: runs in flight keep their leases, their
   * instances get a grace period to return, monitors stay on their interval, and results it stored but never
   * decided get their retry, alert or recovery now. Rejects when the store cannot be read: a scheduler that
   * does not know what is in flight must not dispatch.
   */
  async start(): Promise<void> {
    const generation = ++this.#generation;
    await this.#queue.add(async () => {
      if (generation !== this.#generation) return;
      this.#reset();
      const now = this.#clock.nowMs();
      const wall = this.#clock.wallNow().getTime();
      for (const run of await this.#store.inFlightRuns()) {
        const key = instanceKey(run.checkpoint, run.instance ?? '');
        const remaining = run.leaseDeadline === undefined ? 0 : Math.max(0, Date.parse(run.leaseDeadline) - wall);
        const check = this.#laneOf(await this.#store.getMonitor(run.monitorId)) === 'check';
        const reason: DispatchReason = run.reason === 'unsolicited' ? 'redispatch' : run.reason;
        // Whether the command reached the instance is unknown: its heartbeats say, or it is sent again.
        this.#track({ runId: run.runId, monitorId: run.monitorId, checkpoint: run.checkpoint, instanceKey: key, attempt: run.attempt, leaseDeadlineMs: now + remaining, check, reason, acknowledged: false, sentAtMs: now });
        this.#goneAt.set(key, now + this.#options.startupGraceMs);
      }
      for (const checkpoint of await this.#store.listCheckpoints()) this.#offlineSince.set(checkpoint.name, now);
      // A restart keeps each monitor's rhythm instead of running everything at once. What the previous scheduler
      // had queued in memory is rebuilt from the last run: a run it wrote off is dispatched again, and a first
      // failure it decided to confirm is re-run (an undecided result is decided below, which queues its own).
      const undecided = new Set((await this.#store.undecidedRuns()).map((run) => run.runId));
      for (const monitor of await this.#store.listMonitors()) {
        const newest = (await this.#store.listRuns(monitor.id, 1))[0];
        if (newest === undefined) continue;
        const dueInMs = Date.parse(newest.dispatchedAt) + monitor.intervalSeconds * 1000 - wall;
        if (dueInMs > 0) this.#due.set(monitor.id, now + dueInMs);
        const names = checkpointsOf(monitor);
        if (placementOf(monitor) === 'round-robin' && names.length > 1) this.#turn.set(monitor.id, (names.indexOf(newest.checkpoint) + 1) % names.length);
        // Each checkpoint of an `all` monitor has its own last run; a round-robin monitor's newest is the one that counts.
        const lasts = names.length === 1 || placementOf(monitor) === 'round-robin' ? [newest] : await this.#lastRunPerCheckpoint(monitor.id, names);
        for (const last of lasts) {
          if (last.late || undecided.has(last.runId) || !monitor.enabled || !names.includes(last.checkpoint)) continue;
          const avoid = last.instance === undefined ? {} : { avoid: instanceKey(last.checkpoint, last.instance) };
          if (last.status === 'lost') this.#pending.push({ monitorId: monitor.id, checkpoints: this.#redispatchTo(monitor, last.checkpoint, last.attempt), attempt: last.attempt, reason: 'redispatch', ...avoid });
          else if ((last.status === 'failed' || last.status === 'error') && last.attempt < confirmingAttempts && monitor.checkpointHealth[last.checkpoint] !== 'failing') {
            this.#pending.push({ monitorId: monitor.id, checkpoints: [last.checkpoint], attempt: last.attempt + 1, reason: 'retry', ...avoid });
          }
        }
      }
      // Results stored by a process that died (or lost leadership) before deciding them: each is decided once.
      for (const run of await this.#store.undecidedRuns()) {
        const stored = await this.#store.getResult(run.runId);
        if (stored === undefined) await this.#store.markRunDecided(run.runId);
        else await this.#decide(run, stored.envelope, { tick: false });
      }
      this.#started = generation === this.#generation;
    });
  }

  /**
   * Stop taking work (events and ticks after this are ignored) and wait until the task running now is done.
   * `start()` may be called again afterwards: it reloads everything from the store.
   */
  async stop(): Promise<void> {
    this.#generation++;
    this.#started = false;
    await this.#queue.onIdle();
  }

  async #lastRunPerCheckpoint(monitorId: string, checkpoints: readonly string[]): Promise<RunRecord[]> {
    const lasts: RunRecord[] = [];
    for (const checkpoint of checkpoints) {
      const last = (await this.#store.queryRuns({ monitor: monitorId, checkpoint, limit: 1 }))[0];
      if (last !== undefined) lasts.push(last);
    }
    return lasts;
  }

  /**
   * Where a lost run goes again: where it was, except a round-robin monitor's scheduled run, which may move on
   * to the next checkpoint (the one it was on may be down: its run is not held up waiting for it).
   */
  #redispatchTo(monitor: MonitorRecord, checkpoint: string, attempt: number): string[] {
    const names = checkpointsOf(monitor);
    if (attempt > 1 || placementOf(monitor) !== 'round-robin' || !names.includes(checkpoint)) return [checkpoint];
    const from = names.indexOf(checkpoint);
    return [...names.slice(from), ...names.slice(0, from)];
  }

  #reset(): void {
    this.#inFlight.clear();
    this.#turn.clear();
    this.#checkpointHealth.clear();
    this.#inFlightByInstance.clear();
    this.#goneAt.clear();
    this.#due.clear();
    this.#nextDueMs = 0;
    this.#monitorsDirty = true;
    this.#monitorsChanged = false;
    this.#capacityChanged = true;
    this.#lastRemindMs = Number.NEGATIVE_INFINITY;
    this.#monitors = undefined;
    this.#pending = [];
    this.#lastDispatchMs.clear();
    this.#cooling.clear();
    this.#offlineSince.clear();
    this.#silencedDown.clear();
    this.#queuedTick = undefined;
  }

  /** Queue `work` behind everything queued before; a failure is logged, never thrown. Ignored when not started. */
  #serial(what: string, work: () => Promise<void>): Promise<void> {
    if (!this.#started) return Promise.resolve();
    return this.#queue.add(async () => {
      // Queued before a stop: whoever queued it is no longer in charge.
      if (!this.#started) return;
      // Every event can free a slot or add a run to place; a tick on its own cannot.
      if (what !== 'tick') this.#capacityChanged = true;
      try {
        await work();
      } catch (error) {
        this.#log(`scheduler: handling ${what} failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    });
  }

  // ---- events ----

  instanceReady(instance: LiveInstance): Promise<void> {
    return this.#serial('ready', async () => {
      this.#goneAt.delete(instance.key);
      this.#offlineSince.delete(instance.checkpoint);
      await this.#tick();
    });
  }

  /**
   * The instance's link is gone. Its runs are written off once `graceMs` passed without it coming back (0: at
   * once; a cluster gives an agent whose replica died the time to reconnect to another).
   */
  instanceGone(instance: LiveInstance, graceMs = 0): Promise<void> {
    return this.#serial('gone', async () => {
      const now = this.#clock.nowMs();
      this.#goneAt.set(instance.key, now + graceMs);
      this.#cooling.delete(instance.key);
      if (this.#hub.instances(instance.checkpoint).length === 0) this.#offlineSince.set(instance.checkpoint, now);
      await this.#tick();
    });
  }

  heartbeat(instance: LiveInstance): Promise<void> {
    return this.#serial('heartbeat', async () => {
      this.#cooling.delete(instance.key);
      await this.#resendUnacknowledged(instance);
      // Heartbeats come all the time: they ask for a tick, which many of them share.
      this.#requestTick();
    });
  }

  /** Runs of this instance it never acknowledged and does not list as running: their command is sent again. */
  async #resendUnacknowledged(instance: LiveInstance): Promise<void> {
    const running = new Set(instance.lastHeartbeat?.running ?? []);
    const now = this.#clock.nowMs();
    for (const runId of [...(this.#inFlightByInstance.get(instance.key) ?? [])]) {
      const flight = this.#inFlight.get(runId);
      if (flight === undefined || flight.acknowledged) continue;
      if (running.has(flight.runId)) {
        flight.acknowledged = true;
        continue;
      }
      if (now - flight.sentAtMs < (this.#options.resendAfterMs ?? 10_000)) continue;
      const monitor = await this.#store.getMonitor(flight.monitorId);
      if (monitor === undefined) continue;
      flight.sentAtMs = now;
      this.#log(`scheduler: run ${flight.runId} (${monitor.name}) not acknowledged by ${instance.key}; sending it again`);
      this.#hub.send(instance.key, { type: 'run', runId: flight.runId, monitorId: monitor.id, attempt: flight.attempt, reason: flight.reason, monitor: definitionFromRecord(monitor) });
    }
  }

  runStatus(instance: LiveInstance, message: RunStatusMessage): Promise<void> {
    return this.#serial('run-status', async () => {
      const flight = this.#inFlight.get(message.runId);
      if (flight === undefined || flight.instanceKey !== instance.key) return;
      flight.acknowledged = true;
      switch (message.status) {
        case 'accepted':
          return;
        case 'finished':
          // The result is in the instance's outbox: give its upload a margin before the run counts as lost.
          flight.leaseDeadlineMs = Math.max(flight.leaseDeadlineMs, this.#clock.nowMs() + this.#options.leaseMarginMs);
          return;
        case 'started':
          await this.#store.markRunStarted(message.runId);
          return;
        case 'rejected':
        case 'aborted': {
          if (message.status === 'rejected') this.#cooling.add(instance.key);
          const why = `${message.status} by ${instance.key}${message.reason === undefined ? '' : `: ${message.reason}`}`;
          await this.#writeOff(flight, why, false);
          await this.#tick();
          return;
        }
      }
    });
  }

  /** The maintenance window silencing a monitor (or, without one, checkpoint alerts) now. */
  async #maintenance(monitorId?: string): Promise<string | undefined> {
    const windows = (await this.#store.listMaintenanceWindows()).map((stored) => stored.definition);
    const window = windows.length === 0 ? undefined : activeWindow(windows, this.#clock.wallNow(), monitorId);
    return window === undefined ? undefined : (window.name ?? window.id);
  }

  /**
   * A result was stored for the first time: settle the run, then retry, alert or recover as the policy says.
   * In a maintenance window the result is kept but the monitor's alert state stands still: no retry, no alert,
   * and nothing to resolve afterwards.
   */
  resultStored(run: RunRecord, envelope: ResultEnvelope): Promise<void> {
    return this.#serial('result', () => this.#decide(run, envelope, { tick: true }));
  }

  /**
   * Decide the stored results still waiting for a decision (all of them, or the one of `runId`), checked inside
   * the scheduler's queue: another replica's report of a result and a start's own sweep never decide it twice.
   */
  decideStored(runId?: string): Promise<void> {
    return this.#serial('stored results', async () => {
      for (const run of await this.#store.undecidedRuns(runId)) {
        const stored = await this.#store.getResult(run.runId);
        if (stored === undefined) await this.#store.markRunDecided(run.runId);
        else await this.#decide(run, stored.envelope, { tick: false });
      }
      // A finished run frees a slot: a tick soon, shared with the other results arriving now.
      this.#requestTick();
    });
  }

  /**
   * Take the decision for a stored result, then record it as taken, so that a successor does not take it again
   * (one that dies in between leaves it to its successor: an alert may then come twice, but never not at all).
   */
  async #decide(run: RunRecord, envelope: ResultEnvelope, options: { tick: boolean }): Promise<void> {
    this.#untrack(run.runId);
    const retry = await this.#consequences(run, envelope);
    await this.#store.markRunDecided(run.runId);
    if (retry && options.tick) await this.#tick();
  }

  /** Health, alert state and alert of a result; true when the run is to be retried (queued in `#pending`). */
  async #consequences(run: RunRecord, envelope: ResultEnvelope): Promise<boolean> {
    const monitor = await this.#store.getMonitor(run.monitorId);
    if (monitor === undefined) return false;
    const names = checkpointsOf(monitor);
    if (!names.includes(run.checkpoint)) {
      this.#log(`scheduler: ${monitor.name} no longer runs on ${run.checkpoint}; its result of run ${run.runId} is stored, no alert`);
      return false;
    }
    // Disabled (its alerts were resolved then): a run that was under way, or run by hand, changes nothing.
    if (!monitor.enabled) {
      this.#log(`scheduler: ${monitor.name} is disabled; its result of run ${run.runId} is stored, no alert`);
      return false;
    }
    // Each checkpoint has its own health and failures in a row: a failure seen from one site is not another's.
    const health = monitor.checkpointHealth[run.checkpoint] ?? 'ok';
    const from = names.length > 1 ? ` from ${run.checkpoint}` : '';
    const instance = run.instance ?? envelope.instanceId;
    const window = run.late ? undefined : await this.#maintenance(monitor.id);
    if (window !== undefined) {
      this.#log(`scheduler: ${monitor.name} ${envelope.result.status} on ${instance} during maintenance "${window}"; stored, no alert`);
      return false;
    }
    const state = await this.#store.getMonitorAlertState(monitor.id, run.checkpoint);
    const policyInput = {
      outcome: envelope.result.status,
      attempt: run.attempt,
      health,
      late: run.late,
      alertOnWarning: monitor.alertOnWarning === true,
      failuresBefore: state.consecutiveFailures,
      ...(monitor.alerting?.afterFailures === undefined ? {} : { alertAfter: monitor.alerting.afterFailures }),
    };
    const decision = decideAfterResult(policyInput);
    const failures = failuresInARow(policyInput);
    if (run.late) this.#log(`scheduler: late result for run ${run.runId} (${monitor.name}, ${envelope.result.status}); stored, no alert`);
    // The alert first, then the state that says it was sent: a leader that dies (or is fenced) in between leaves
    // the state as it was, so its successor decides again and alerts (perhaps twice, never not at all).
    if (decision.alert === 'monitor-failed') {
      await this.#alerts.raise({
        kind: 'monitor-failed',
        checkpoint: run.checkpoint,
        monitorId: monitor.id,
        runId: run.runId,
        message: `${monitor.name} failed ${failures} times in a row${from} (last on ${instance}): ${failureSummary(envelope)}`,
      });
    } else if (decision.alert === 'monitor-warning') {
      await this.#alerts.raise({
        kind: 'monitor-warning',
        checkpoint: run.checkpoint,
        monitorId: monitor.id,
        runId: run.runId,
        message: `${monitor.name} passed with warnings${from} (on ${instance}): ${failureSummary(envelope)}`,
      });
    } else if (decision.alert === 'monitor-recovered') {
      await this.#alerts.raise({ kind: 'monitor-recovered', checkpoint: run.checkpoint, monitorId: monitor.id, runId: run.runId, message: `${monitor.name} passes again${from} (on ${instance})` });
    }
    if (decision.health !== health) await this.#store.setMonitorHealth(monitor.id, decision.health, run.checkpoint);
    const nowIso = this.#clock.wallNow().toISOString();
    const notified = decision.alert === 'monitor-failed' ? nowIso : decision.health === 'failing' ? state.lastNotifiedAt : undefined;
    if (failures !== state.consecutiveFailures || notified !== state.lastNotifiedAt) {
      await this.#store.setMonitorAlertState(monitor.id, { consecutiveFailures: failures, ...(notified === undefined ? {} : { lastNotifiedAt: notified }) }, run.checkpoint);
    }
    if (decision.retry) {
      this.#log(`scheduler: ${monitor.name} ${envelope.result.status} on ${instance}; re-running at once on another instance of ${run.checkpoint}`);
      this.#pending.push({ monitorId: monitor.id, checkpoints: [run.checkpoint], attempt: run.attempt + 1, reason: 'retry', avoid: instanceKey(run.checkpoint, instance) });
    }
    return decision.retry;
  }

  /**
   * Definitions changed: new or re-enabled monitors are due now; a deleted monitor's runs are cancelled. A
   * monitor that was alerting (failing or warning) and is now deleted or disabled gets a `monitor-resolved`,
   * so no incident stays open in the tools that received the alert.
   */
  monitorChanged(monitorId: string, change: 'created' | 'updated' | 'deleted', previous?: MonitorRecord): Promise<void> {
    return this.#serial('monitor change', () => this.#monitorChanged(monitorId, change, previous));
  }

  async #monitorChanged(monitorId: string, change: 'created' | 'updated' | 'deleted', previous?: MonitorRecord): Promise<void> {
    if (change === 'deleted') {
      this.#due.delete(monitorId);
      this.#pending = this.#pending.filter((pending) => pending.monitorId !== monitorId);
      for (const flight of [...this.#inFlight.values()]) {
        if (flight.monitorId !== monitorId) continue;
        this.#hub.send(flight.instanceKey, { type: 'cancel', runId: flight.runId });
        await this.#store.markRunLost(flight.runId, 'monitor deleted');
        this.#untrack(flight.runId);
      }
    }
    const current = change === 'deleted' ? undefined : await this.#store.getMonitor(monitorId);
    this.#patchMonitors(monitorId, current);
    const stopped = change === 'deleted' || (previous?.enabled === true && current?.enabled === false);
    const kept = current === undefined ? [] : checkpointsOf(current);
    if (current !== undefined) {
      // Runs on a checkpoint it no longer names are cancelled (a round-robin turn past its new end starts over).
      for (const flight of [...this.#inFlight.values()]) {
        if (flight.monitorId !== monitorId || kept.includes(flight.checkpoint)) continue;
        this.#hub.send(flight.instanceKey, { type: 'cancel', runId: flight.runId });
        await this.#store.markRunLost(flight.runId, `monitor no longer runs on ${flight.checkpoint}`);
        this.#untrack(flight.runId);
      }
      if ((this.#turn.get(monitorId) ?? 0) >= kept.length) this.#turn.set(monitorId, 0);
    }
    if (previous !== undefined) {
      // Every checkpoint it was alerting on gets its resolve: the monitor stopped, or no longer runs there.
      const healths: Record<string, MonitorHealth> = previous.checkpointHealth ?? { [previous.checkpoint]: previous.health };
      for (const [checkpoint, health] of Object.entries(healths)) {
        if (health === 'ok' || (!stopped && kept.includes(checkpoint))) continue;
        const why = change === 'deleted' ? 'was deleted' : stopped ? 'was disabled' : `no longer runs on ${checkpoint}`;
        const from = Object.keys(healths).length > 1 && stopped ? ` from ${checkpoint}` : '';
        await this.#alerts.raise({
          kind: 'monitor-resolved',
          checkpoint,
          monitorId,
          monitor: previous,
          message: `${previous.name} ${why} while ${health === 'failing' ? 'failing' : 'warning'}${from}; its alert is resolved`,
        });
      }
      // The first checkpoint's incidents carry the monitor's own key (alerts.ts `incidentKey`): when another one
      // becomes the first, both keys change hands. What the two had open is resolved under its old key, and raised
      // again under the new one if the failure goes on (their state starts over).
      if (current !== undefined && !stopped && previous.checkpoint !== current.checkpoint) {
        for (const checkpoint of new Set([previous.checkpoint, current.checkpoint])) {
          const health = healths[checkpoint];
          if (health === undefined || health === 'ok' || !kept.includes(checkpoint)) continue;
          await this.#alerts.raise({
            kind: 'monitor-resolved',
            checkpoint,
            monitorId,
            monitor: previous,
            message: `${previous.name} now runs first on ${current.checkpoint}: its alert from ${checkpoint} is resolved, and raised again if it still fails there`,
          });
          await this.#store.setMonitorHealth(monitorId, 'ok', checkpoint);
          await this.#store.setMonitorAlertState(monitorId, { consecutiveFailures: 0 }, checkpoint);
        }
      }
      if (stopped && current !== undefined && previous.health !== 'ok') {
        await this.#store.setMonitorHealth(monitorId, 'ok');
        for (const checkpoint of kept) await this.#store.setMonitorAlertState(monitorId, { consecutiveFailures: 0 }, checkpoint);
      }
    }
    // Monitors are often changed in bulk (an apply, an import): one tick after them all.
    this.#requestTick();
  }

  /**
   * Run a monitor now on the least-loaded instance of `checkpoint`, or (none given) of the first of its checkpoints
   * that has a free one; undefined when none can take it (or not started). Rejects when the store fails.
   */
  async runNow(monitorId: string, checkpoint?: string): Promise<{ runId: string; instance: string; checkpoint: string } | undefined> {
    if (!this.#started) return undefined;
    const outcome = await this.#queue.add(async () => {
      if (!this.#started) return undefined;
      const monitor = await this.#store.getMonitor(monitorId);
      if (monitor === undefined) return undefined;
      // Checked by the caller, but the monitor may have changed since.
      if (checkpoint !== undefined && !checkpointsOf(monitor).includes(checkpoint)) return undefined;
      for (const candidate of checkpoint === undefined ? checkpointsOf(monitor) : [checkpoint]) {
        const key = chooseInstance(this.#views(candidate, this.#laneOf(monitor)));
        if (key === undefined) continue;
        const runId = await this.#dispatch(monitor, candidate, key, 1, 'manual');
        return runId === undefined ? undefined : { runId, instance: this.#hub.get(key)?.id ?? key, checkpoint: candidate };
      }
      return undefined;
    });
    return outcome ?? undefined;
  }

  // ---- the tick ----

  /**
   * Write off lost runs, update checkpoint health, enqueue due monitors and dispatch what can be dispatched.
   * Resolves when a tick that started after this call has finished (requests coalesce: see the class comment).
   */
  tick(): Promise<void> {
    if (!this.#started) return Promise.resolve();
    if (this.#queuedTick !== undefined) return this.#queuedTick.done;
    const request = { started: false };
    const done = this.#serial('tick', () => {
      // Started: requests from now on need a tick of their own, which sees what this one did.
      request.started = true;
      if (this.#queuedTick?.request === request) this.#queuedTick = undefined;
      return this.#tick();
    });
    // (p-queue may start a task inside `add` when the queue is idle.)
    if (!request.started) this.#queuedTick = { request, done };
    return done;
  }

  /** The tick itself; only ever called inside a queued task. */
  /** A tick after the task running now, shared by every request made until it starts (never awaited from a task: it would wait for itself). */
  #requestTick(): void {
    void this.tick();
  }

  /** One pass; the monitors are read once for all of it (with thousands of monitors, a read is the cost of a tick). */
  async #tick(): Promise<void> {
    await this.#reapLostRuns();
    await this.#checkCheckpoints();
    // Nothing due, waiting or changed: an idle tick reads no monitor (with thousands, a read is most of a tick's cost).
    const now = this.#clock.nowMs();
    const remind = now - this.#lastRemindMs >= remindEveryMs;
    // Runs waiting for a free instance wait until something changes: a heartbeat, an instance, a finished run.
    const waitingCanMove = this.#pending.length > 0 && this.#capacityChanged;
    const read = this.#monitorsDirty || now >= this.#nextDueMs || remind || this.#monitors === undefined;
    if (!read && !waitingCanMove && !this.#monitorsChanged) return;
    this.#monitorsDirty = false;
    this.#monitorsChanged = false;
    this.#capacityChanged = false;
    const monitors = read ? await this.#store.listMonitors() : (this.#monitors ?? []);
    this.#monitors = monitors;
    if (remind) {
      this.#lastRemindMs = now;
      await this.#remind(monitors);
    }
    this.#enqueueDue(monitors);
    await this.#dispatchPending(new Map(monitors.map((monitor) => [monitor.id, monitor])));
  }

  /**
   * Put a changed monitor (undefined: deleted) into the monitors as last read, so the next pass sees it without
   * reading them all: with thousands of monitors, a bulk import (`checkpoint apply`, the API) otherwise re-read
   * every monitor for each one it created. Health in this list may be stale; what needs it reads it fresh.
   */
  #patchMonitors(monitorId: string, current: MonitorRecord | undefined): void {
    if (this.#monitors === undefined) {
      this.#monitorsDirty = true;
      return;
    }
    const rest = this.#monitors.filter((monitor) => monitor.id !== monitorId);
    this.#monitors = current === undefined ? rest : [...rest, current];
    this.#monitorsChanged = true;
  }

  async #reapLostRuns(): Promise<void> {
    const now = this.#clock.nowMs();
    for (const flight of [...this.#inFlight.values()]) {
      const goneAt = this.#goneAt.get(flight.instanceKey);
      const input = { nowMs: now, leaseDeadlineMs: flight.leaseDeadlineMs, instanceConnected: this.#hub.get(flight.instanceKey) !== undefined };
      const reason = runLostReason(goneAt === undefined ? input : { ...input, instanceGoneAtMs: goneAt });
      if (reason === undefined) continue;
      await this.#writeOff(flight, reason === 'instance-gone' ? `instance ${flight.instanceKey} went away` : 'lease expired', reason === 'lease-expired');
    }
  }

  /** Mark a run lost and queue it again (same attempt, reason `redispatch`), preferring another instance. */
  async #writeOff(flight: InFlight, why: string, cancel: boolean): Promise<void> {
    this.#untrack(flight.runId);
    await this.#store.markRunLost(flight.runId, why);
    // Its result may have been stored a moment ago, its decision queued behind this task: that one decides it.
    if ((await this.#store.getRun(flight.runId))?.status !== 'lost') return;
    if (cancel) this.#hub.send(flight.instanceKey, { type: 'cancel', runId: flight.runId });
    const monitor = await this.#store.getMonitor(flight.monitorId);
    this.#log(`scheduler: run ${flight.runId} (${monitor?.name ?? flight.monitorId}) lost: ${why}${monitor === undefined ? '' : '; re-dispatching'}`);
    if (monitor !== undefined) {
      this.#pending.push({ monitorId: flight.monitorId, checkpoints: this.#redispatchTo(monitor, flight.checkpoint, flight.attempt), attempt: flight.attempt, reason: 'redispatch', avoid: flight.instanceKey });
      this.#capacityChanged = true;
    }
  }

  async #checkCheckpoints(): Promise<void> {
    const now = this.#clock.nowMs();
    const checkpoints = await this.#store.listCheckpoints();
    this.#checkpointHealth = new Map(checkpoints.map((checkpoint) => [checkpoint.name, checkpoint.health]));
    for (const checkpoint of checkpoints) {
      const connected = this.#hub.instances(checkpoint.name).length;
      if (connected > 0) this.#offlineSince.delete(checkpoint.name);
      else if (!this.#offlineSince.has(checkpoint.name)) this.#offlineSince.set(checkpoint.name, now);
      const outcome = evaluateCheckpoint({
        health: checkpoint.health,
        connectedInstances: connected,
        offlineSinceMs: this.#offlineSince.get(checkpoint.name),
        nowMs: now,
        downAfterMs: this.#options.checkpointDownAfterMs,
      });
      if (outcome.health !== checkpoint.health) {
        await this.#store.setCheckpointHealth(checkpoint.name, outcome.health);
        this.#checkpointHealth.set(checkpoint.name, outcome.health);
      }
      if (outcome.alert === 'checkpoint-down') {
        const window = await this.#maintenance();
        if (window !== undefined) {
          this.#silencedDown.add(checkpoint.name);
          this.#log(`scheduler: checkpoint ${checkpoint.name} is down during maintenance "${window}"; no alert`);
          continue;
        }
        const offlineMs = now - (this.#offlineSince.get(checkpoint.name) ?? now);
        await this.#alerts.raise({ kind: 'checkpoint-down', checkpoint: checkpoint.name, message: `checkpoint ${checkpoint.name} has had no instance connected for ${formatSpan(offlineMs)}` });
      } else if (outcome.alert === 'checkpoint-up') {
        if (this.#silencedDown.delete(checkpoint.name)) {
          this.#log(`scheduler: checkpoint ${checkpoint.name} is back; its down was not announced, so neither is this`);
          continue;
        }
        const instances = this.#hub.instances(checkpoint.name).map((instance) => instance.id);
        await this.#alerts.raise({ kind: 'checkpoint-up', checkpoint: checkpoint.name, message: `checkpoint ${checkpoint.name} is back (${instances.join(', ')})` });
      }
    }
  }

  /**
   * Failing monitors that ask for reminders get one every `reminderMinutes` per checkpoint they fail from (not in
   * maintenance). None while that checkpoint is down: its own `checkpoint-down` alert says why nothing is known.
   */
  async #remind(monitors: readonly MonitorRecord[]): Promise<void> {
    const now = this.#clock.wallNow();
    for (const monitor of monitors) {
      const everyMinutes = monitor.alerting?.reminderMinutes;
      if (monitor.health !== 'failing' || everyMinutes === undefined || !monitor.enabled) continue;
      const names = checkpointsOf(monitor);
      for (const checkpoint of names) {
        if (monitor.checkpointHealth[checkpoint] !== 'failing' || this.#checkpointHealth.get(checkpoint) === 'down') continue;
        const state = await this.#store.getMonitorAlertState(monitor.id, checkpoint);
        const last = state.lastNotifiedAt === undefined ? undefined : Date.parse(state.lastNotifiedAt);
        if (last !== undefined && now.getTime() - last < everyMinutes * 60_000) continue;
        // "Still failing" needs a run that says so since the last word (none came while its checkpoint was down).
        const lastRun = await this.#store.lastFinishedRun(monitor.id, checkpoint);
        if (last !== undefined && (lastRun === undefined || Date.parse(lastRun.finishedAt ?? lastRun.dispatchedAt) <= last)) continue;
        await this.#store.setMonitorAlertState(monitor.id, { ...state, lastNotifiedAt: now.toISOString() }, checkpoint);
        if (last === undefined || (await this.#maintenance(monitor.id)) !== undefined) continue;
        const stored = lastRun === undefined ? undefined : await this.#store.getResult(lastRun.runId);
        const from = names.length > 1 ? ` from ${checkpoint}` : '';
        await this.#alerts.raise({
          kind: 'monitor-reminder',
          checkpoint,
          monitorId: monitor.id,
          ...(lastRun === undefined ? {} : { runId: lastRun.runId }),
          message: `${monitor.name} is still failing${from} (${state.consecutiveFailures} failed checks in a row; last notified ${formatSpan(now.getTime() - last)} ago)${stored === undefined ? '' : `: ${failureSummary(stored.envelope)}`}`,
        });
      }
    }
  }

  #enqueueDue(monitors: readonly MonitorRecord[]): void {
    const now = this.#clock.nowMs();
    // Runs queued or going, by monitor and by monitor + checkpoint.
    const busy = new Set<string>();
    for (const pending of this.#pending) {
      busy.add(pending.monitorId);
      for (const checkpoint of pending.checkpoints) busy.add(`${pending.monitorId}\n${checkpoint}`);
    }
    for (const flight of this.#inFlight.values()) busy.add(flight.monitorId).add(`${flight.monitorId}\n${flight.checkpoint}`);
    for (const monitor of monitors) {
      if (!monitor.enabled) {
        this.#due.delete(monitor.id);
        continue;
      }
      const due = this.#due.get(monitor.id) ?? now;
      if (now < due) continue;
      // One run of a monitor at a time (on each checkpoint, with `all`): an occurrence that finds the previous
      // run still going (or waiting for an instance) is skipped.
      const names = checkpointsOf(monitor);
      if (names.length > 1 && placementOf(monitor) === 'round-robin') {
        const turn = (this.#turn.get(monitor.id) ?? 0) % names.length;
        if (!busy.has(monitor.id)) {
          this.#pending.push({ monitorId: monitor.id, checkpoints: [...names.slice(turn), ...names.slice(0, turn)], attempt: 1, reason: 'schedule' });
          this.#turn.set(monitor.id, (turn + 1) % names.length);
        }
      } else {
        for (const checkpoint of names) {
          if (!busy.has(`${monitor.id}\n${checkpoint}`)) this.#pending.push({ monitorId: monitor.id, checkpoints: [checkpoint], attempt: 1, reason: 'schedule' });
        }
      }
      this.#due.set(monitor.id, nextDueMs(now, monitor.intervalSeconds));
    }
    let next = Number.POSITIVE_INFINITY;
    for (const due of this.#due.values()) next = Math.min(next, due);
    this.#nextDueMs = next;
  }

  async #dispatchPending(monitors: ReadonlyMap<string, MonitorRecord>): Promise<void> {
    const waiting: PendingRun[] = [];
    /** Checkpoint lanes found with no free instance in this pass: the rest of their queue waits without asking again. */
    const full = new Set<string>();
    for (const pending of this.#pending) {
      const monitor = monitors.get(pending.monitorId);
      if (monitor === undefined || !monitor.enabled) continue;
      // The monitor may have been changed since: only checkpoints it still names.
      const names = checkpointsOf(monitor);
      let candidates = pending.checkpoints.filter((name) => names.includes(name));
      if (names.length > 1 && placementOf(monitor) === 'round-robin') {
        // A round-robin run does not wait for a checkpoint that is down (a retry or a lost run is tied to one):
        // waiting would hold back every turn of the monitor, on the checkpoints that are up too. Its failures in a
        // row are kept, so the failure is confirmed by the next run there once the checkpoint is back.
        const up = candidates.filter((name) => this.#checkpointHealth.get(name) !== 'down');
        if (up.length === 0) {
          this.#log(`scheduler: ${monitor.name} ${pending.reason} (attempt ${pending.attempt}) passed over: ${candidates.join(', ')} down`);
          continue;
        }
        candidates = up;
      }
      const checkpoint = this.#placeOn(candidates, this.#laneOf(monitor));
      if (checkpoint === undefined) continue;
      const lane = `${checkpoint}\n${this.#laneOf(monitor)}`;
      if (pending.avoid === undefined && full.has(lane)) {
        waiting.push(pending);
        continue;
      }
      const key = chooseInstance(this.#views(checkpoint, this.#laneOf(monitor)), pending.avoid === undefined ? {} : { avoid: pending.avoid });
      if (key === undefined && pending.avoid === undefined) full.add(lane);
      if (key === undefined || (await this.#dispatch(monitor, checkpoint, key, pending.attempt, pending.reason)) === undefined) waiting.push(pending);
    }
    this.#pending = waiting;
  }

  /**
   * The first candidate checkpoint with an instance that takes work (connected, greeted, not draining), whether
   * or not it has a free slot now: a busy one is waited for, one with no instance is passed over. None has one:
   * the first (the run waits for it). Undefined when no candidate is left.
   */
  #placeOn(candidates: readonly string[], lane: Lane): string | undefined {
    if (candidates.length <= 1) return candidates[0];
    const takes = (instance: LiveInstance) => {
      const hello = instance.hello;
      if (hello === undefined || instance.lastHeartbeat?.draining === true) return false;
      return (lane === 'check' ? (hello.checkCapacity ?? 0) : hello.capacity) > 0;
    };
    return candidates.find((name) => this.#hub.instances(name).some(takes)) ?? candidates[0];
  }

  async #dispatch(monitor: MonitorRecord, checkpoint: string, key: string, attempt: number, reason: DispatchReason): Promise<string | undefined> {
    const instance = this.#hub.get(key);
    if (instance === undefined) return undefined;
    const now = this.#clock.nowMs();
    const runId = randomUUID();
    const budgetMs = monitor.script.timeoutMs ?? defaultTimeouts.scriptTimeoutMs;
    const deadline = leaseDeadlineMs(now, budgetMs, this.#options.leaseMarginMs);
    const wall = this.#clock.wallNow();
    await this.#store.insertRun({
      runId,
      monitorId: monitor.id,
      checkpoint,
      attempt,
      instance: instance.id,
      reason,
      dispatchedAt: wall.toISOString(),
      leaseDeadline: new Date(wall.getTime() + (deadline - now)).toISOString(),
    });
    const sent = this.#hub.send(key, { type: 'run', runId, monitorId: monitor.id, attempt, reason, monitor: definitionFromRecord(monitor) });
    if (!sent) {
      await this.#store.markRunLost(runId, 'could not be sent');
      return undefined;
    }
    this.#track({ runId, monitorId: monitor.id, checkpoint, instanceKey: key, attempt, leaseDeadlineMs: deadline, check: this.#laneOf(monitor) === 'check', reason, acknowledged: false, sentAtMs: now });
    this.#lastDispatchMs.set(key, now);
    this.#log(`scheduler: run ${runId} ${monitor.name} → ${key} (attempt ${attempt}, ${reason})`);
    return runId;
  }

  // ---- views ----

  #laneOf(monitor: MonitorRecord | undefined): Lane {
    return monitor === undefined || isBrowserScript(monitor.script) ? 'browser' : 'check';
  }

  /** Runs in progress on an instance, of one lane or (no lane) all; a run the heartbeat names but we did not dispatch counts as browser. */
  #track(flight: InFlight): void {
    this.#inFlight.set(flight.runId, flight);
    let ids = this.#inFlightByInstance.get(flight.instanceKey);
    if (ids === undefined) this.#inFlightByInstance.set(flight.instanceKey, (ids = new Set()));
    ids.add(flight.runId);
  }

  #untrack(runId: string): void {
    const flight = this.#inFlight.get(runId);
    if (flight === undefined) return;
    this.#inFlight.delete(runId);
    this.#inFlightByInstance.get(flight.instanceKey)?.delete(runId);
  }

  #running(instance: LiveInstance, lane?: Lane): number {
    const ids = new Set(instance.lastHeartbeat?.running ?? []);
    for (const id of this.#inFlightByInstance.get(instance.key) ?? []) ids.add(id);
    if (lane === undefined) return ids.size;
    return [...ids].filter((id) => (this.#inFlight.get(id)?.check === true ? 'check' : 'browser') === lane).length;
  }

  #views(checkpoint: string, lane: Lane = 'browser'): InstanceView[] {
    return this.#hub.instances(checkpoint).map((instance) => {
      const view: InstanceView = {
        key: instance.key,
        connected: true,
        ready: instance.hello !== undefined,
        draining: (instance.lastHeartbeat?.draining ?? false) || this.#cooling.has(instance.key),
        // Checks have their own capacity, so they never wait for a browser slot (an older agent has none: it runs no checks).
        capacity: lane === 'check' ? (instance.hello?.checkCapacity ?? 0) : (instance.hello?.capacity ?? 0),
        running: this.#running(instance, lane),
      };
      const last = this.#lastDispatchMs.get(instance.key);
      if (last !== undefined) view.lastDispatchedAtMs = last;
      return view;
    });
  }

  /** Every instance a checkpoint has had, with live load for the connected ones. */
  async instanceStatus(checkpoint: string): Promise<InstanceStatus[]> {
    return (await this.#store.listInstances(checkpoint)).map((record) => {
      const live = this.#hub.get(instanceKey(checkpoint, record.id));
      const online = live?.hello !== undefined;
      const running = live === undefined ? 0 : this.#running(live);
      const status: InstanceStatus = {
        id: record.id,
        online,
        version: record.version,
        capacity: record.capacity,
        running,
        load: online ? Math.min(1, instanceLoad({ capacity: record.capacity, running })) : 0,
        draining: online && (live.lastHeartbeat?.draining ?? false),
        privacyLock: record.privacyLock,
        outboxDepth: live?.lastHeartbeat?.outboxDepth ?? record.outboxDepth,
        lastSeen: record.lastSeen,
      };
      if (record.browserVersion !== undefined) status.browserVersion = record.browserVersion;
      return status;
    });
  }

  /** Runs currently in flight (for tests and the dashboard). */
  inFlightCount(): number {
    return this.#inFlight.size;
  }
}

/** How often failing monitors are checked for a due reminder (reminders are minutes apart). */
const remindEveryMs = 15_000;

/** `300 ms`, `45 s`, `12 min`. */
function formatSpan(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  return `${Math.round(ms / 60_000)} min`;
}

/** The first failing step and its error (status and URL for HTTP_ERROR), then any other breached conditions, in one line. */
export function failureSummary(envelope: ResultEnvelope): string {
  const result = envelope.result;
  const step = result.steps.find((candidate) => candidate.status === 'failed');
  const error = step?.error ?? result.error;
  const where = step === undefined ? '' : `step "${step.name}": `;
  const breaches = breachSentences(result).filter((sentence) => error?.message.toLowerCase() !== sentence.toLowerCase());
  const head = error === undefined ? (breaches.length > 0 ? '' : `${where}${result.status}`) : `${where}${error.code}: ${error.message}`;
  return [head, ...breaches].filter((part) => part !== '').join('; ');
}
