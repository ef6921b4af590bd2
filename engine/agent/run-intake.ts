import { EngineError } from '../core/errors.ts';
import type { Scheduler } from '../runner/scheduler.ts';
import type { AgentMessage, RunCommand } from '../schema/protocol.ts';
import type { AgentEvent } from './events.ts';
import type { Outbox } from './outbox.ts';
import type { ActiveRun, RunExecutor } from './run-executor.ts';

/** Runs whose result was delivered recently, to answer a re-sent run command without running it twice. */
const recentlyDeliveredLimit = 2000;

export interface RunIntakeOptions {
  executor: RunExecutor;
  outbox: Outbox;
  scheduler: Scheduler;
  /** Runs waiting for a slot before new ones are refused. */
  maxQueued: number;
  /** Why no run is taken now (draining, credential rejected), or undefined. */
  refusal(): string | undefined;
  send(message: AgentMessage): void;
  onEvent(event: AgentEvent): void;
  /** A run was refused before running (for the run counters). */
  onRejected(): void;
  /** A result may be waiting in the outbox: time to deliver. */
  deliver(): void;
}

/**
 * The control plane's run and cancel commands: which runs are taken (each at most once, even when the command
 * is re-sent or its result is already on its way), which are refused and why, and the runs in progress.
 */
export class RunIntake {
  readonly #options: RunIntakeOptions;
  readonly #runs = new Map<string, ActiveRun>();
  readonly #work = new Set<Promise<void>>();
  readonly #recentlyDelivered = new Set<string>();

  constructor(options: RunIntakeOptions) {
    this.#options = options;
  }

  /** Run ids accepted and not yet in the outbox. */
  get runIds(): string[] {
    return [...this.#runs.keys()];
  }

  /** The accepted runs' work, settled once each result is stored (or lost). */
  get work(): Promise<void>[] {
    return [...this.#work];
  }

  /** The control plane acknowledged this run's result. */
  delivered(runId: string): void {
    this.#recentlyDelivered.add(runId);
    if (this.#recentlyDelivered.size > recentlyDeliveredLimit) {
      const oldest = this.#recentlyDelivered.values().next().value;
      if (oldest !== undefined) this.#recentlyDelivered.delete(oldest);
    }
  }

  #reject(runId: string, reason: string): void {
    this.#options.onRejected();
    this.#options.send({ type: 'run-status', runId, status: 'rejected', reason });
    this.#options.onEvent({ type: 'run-rejected', runId, reason });
  }

  run(command: RunCommand): void {
    const { outbox, scheduler, maxQueued } = this.#options;
    const { runId } = command;
    if (this.#runs.has(runId)) return; // A re-sent command for a run in progress.
    if (this.#recentlyDelivered.has(runId) || (!outbox.closed && outbox.has(runId))) {
      // Already ran: its result is (or was) on its way; running it twice would measure twice.
      this.#options.send({ type: 'run-status', runId, status: 'finished', reason: 'already ran; the result is in the outbox or delivered' });
      this.#options.deliver();
      return;
    }
    const refusal = this.#options.refusal();
    if (refusal !== undefined) return this.#reject(runId, refusal);
    if (outbox.stats().full) return this.#reject(runId, 'the outbox is full (the control plane has not taken results for a while)');
    if (scheduler.stats.queued >= maxQueued) return this.#reject(runId, `the run queue is full (${maxQueued} waiting)`);
    const active: ActiveRun = { command, controller: new AbortController(), cancelReason: undefined };
    this.#runs.set(runId, active);
    this.#options.send({ type: 'run-status', runId, status: 'accepted' });
    this.#options.onEvent({ type: 'run-accepted', runId, monitorId: command.monitorId, attempt: command.attempt });
    const work = this.#options.executor.execute(active).finally(() => {
      this.#runs.delete(runId);
      this.#work.delete(work);
    });
    this.#work.add(work);
  }

  cancel(runId: string, reason: string): void {
    const active = this.#runs.get(runId);
    this.#options.onEvent({ type: 'run-cancel', runId, known: active !== undefined });
    if (active === undefined) return;
    active.cancelReason ??= reason;
    active.controller.abort(new EngineError('RUN_ABORTED', reason, 'engine'));
  }

  /** Abort every run in progress now. Their results still go to the outbox. */
  abortAll(reason: string): void {
    for (const runId of this.#runs.keys()) this.cancel(runId, reason);
  }
}
