import PQueue from 'p-queue';
import type { LeaseProvider } from '../browser/lease.ts';
import { systemClock, type Clock } from '../core/clock.ts';
import { EngineError } from '../core/errors.ts';
import { isBrowserScript, type MonitorScript } from '../schema/script.ts';
import { runCheck, type RunCheckOptions } from './run-check.ts';
import { runTransaction, type RunTransactionOptions, type RunTransactionOutcome } from './run-transaction.ts';

export type Job = Omit<RunTransactionOptions, 'browser' | 'signal' | 'queueWaitMs' | 'clock' | 'script'> & {
  /** A browser transaction, or a non-browser check (API, HTTP, infrastructure) that runs in the check lane. */
  script: MonitorScript;
  /** Cancels this job (a control-plane `cancel`): queued, it is dropped; running, it is aborted. */
  signal?: AbortSignal;
  /**
   * Lighthouse runs alone (its own lane, concurrency 1, nothing else running): CPU contention skews its scores.
   * A non-browser script always runs in the check lane, whatever this says.
   */
  lane?: 'default' | 'lighthouse';
} & Pick<RunCheckOptions, 'lookup' | 'caCertificates'>;

/** Checks at once when nothing says otherwise: they wait on the network, not the CPU. */
export const defaultCheckConcurrency = 16;

/** `CHECKPOINT_CHECK_CONCURRENCY` (a whole number from 1 to 1000), or the default. */
export function checkConcurrencyFromEnv(env: Readonly<Record<string, string | undefined>>): number {
  const text = env['CHECKPOINT_CHECK_CONCURRENCY'];
  if (text === undefined || text.trim() === '') return defaultCheckConcurrency;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > 1000) {
    throw new EngineError('USAGE', `CHECKPOINT_CHECK_CONCURRENCY: expected a whole number from 1 to 1000, got ${JSON.stringify(text)}`, 'script');
  }
  return value;
}

export interface SchedulerOptions {
  leases: LeaseProvider;
  /** Transactions at once in the default lane. */
  concurrency: number;
  /**
   * Non-browser checks at once in their own lane: they never wait behind browser transactions, and a Lighthouse
   * run does not pause them (they use no browser). Default: CHECKPOINT_CHECK_CONCURRENCY, else 16.
   */
  checkConcurrency?: number;
  /** Jobs allowed to wait; one more is rejected with QUEUE_FULL. Default: 10 × concurrency. */
  maxQueued?: number;
  /** A job still waiting after this long is dropped with QUEUE_EXPIRED. Default: 5 minutes. */
  maxQueueWaitMs?: number;
  clock?: Clock;
}

export interface SchedulerStats {
  queued: number;
  running: number;
  completed: number;
  rejected: number;
  expired: number;
}

/**
 * Runs transactions through p-queue lanes: a default lane sized to the machine, a Lighthouse lane that
 * waits for the default lane to empty and holds it paused while it runs, and a check lane for non-browser
 * checks with its own concurrency (I/O-bound work: many at once, never behind a browser). The queue is bounded and ages
 * out; queue wait is measured and reported next to (not inside) the transaction's duration.
 */
export class Scheduler {
  readonly #options: Required<Omit<SchedulerOptions, 'clock'>>;
  readonly #clock: Clock;
  readonly #lane: PQueue;
  readonly #checkLane: PQueue;
  readonly #lighthouseLane = new PQueue({ concurrency: 1 });
  readonly #drain = new AbortController();
  #accepting = true;
  readonly #stats: SchedulerStats = { queued: 0, running: 0, completed: 0, rejected: 0, expired: 0 };

  constructor(options: SchedulerOptions) {
    this.#options = {
      leases: options.leases,
      concurrency: options.concurrency,
      checkConcurrency: options.checkConcurrency ?? checkConcurrencyFromEnv(process.env),
      maxQueued: options.maxQueued ?? options.concurrency * 10,
      maxQueueWaitMs: options.maxQueueWaitMs ?? 5 * 60_000,
    };
    this.#clock = options.clock ?? systemClock;
    this.#lane = new PQueue({ concurrency: options.concurrency });
    this.#checkLane = new PQueue({ concurrency: this.#options.checkConcurrency });
  }

  /** Non-browser checks at once (their own lane). */
  get checkConcurrency(): number {
    return this.#options.checkConcurrency;
  }

  get stats(): SchedulerStats {
    return {
      ...this.#stats,
      queued: this.#lane.size + this.#lighthouseLane.size + this.#checkLane.size,
      running: this.#lane.pending + this.#lighthouseLane.pending + this.#checkLane.pending,
    };
  }

  /** Queue a transaction. Rejects at once with QUEUE_FULL or DRAINING-style RUN_ABORTED when it cannot be taken. */
  submit(job: Job): Promise<RunTransactionOutcome> {
    if (!this.#accepting) {
      this.#stats.rejected++;
      return Promise.reject(new EngineError('RUN_ABORTED', 'the checkpoint is draining and takes no new runs', 'engine'));
    }
    const check = !isBrowserScript(job.script);
    // Each kind of lane has its own queue bound, so a backlog of transactions never turns checks away.
    const waiting = check ? this.#checkLane.size : this.#lane.size + this.#lighthouseLane.size;
    const maxQueued = check ? this.#options.checkConcurrency * 10 : this.#options.maxQueued;
    if (waiting >= maxQueued) {
      this.#stats.rejected++;
      return Promise.reject(new EngineError('QUEUE_FULL', `the ${check ? 'check' : 'run'} queue is full (${maxQueued} waiting); the run was not started`, 'engine'));
    }
    const queuedAtMs = this.#clock.nowMs();
    let started = false;
    let expired = false;
    const expire = () => {
      expired = true;
      this.#stats.expired++;
      return new EngineError('QUEUE_EXPIRED', `the run waited ${Math.round(this.#clock.nowMs() - queuedAtMs)} ms in the queue (limit ${this.#options.maxQueueWaitMs} ms) and was dropped`, 'engine');
    };
    // Expire a job that is still waiting when its time is up, not only when it reaches a slot.
    let rejectExpired: ((error: EngineError) => void) | undefined;
    const expiry = new Promise<never>((_resolve, reject) => (rejectExpired = reject));
    expiry.catch(() => undefined);
    const timer = setTimeout(() => {
      if (!started) rejectExpired?.(expire());
    }, this.#options.maxQueueWaitMs);
    timer.unref();
    const run = async (): Promise<RunTransactionOutcome> => {
      started = true;
      clearTimeout(timer);
      if (expired) throw new EngineError('QUEUE_EXPIRED', 'the run expired in the queue', 'engine');
      const queueWaitMs = this.#clock.nowMs() - queuedAtMs;
      if (queueWaitMs > this.#options.maxQueueWaitMs) throw expire();
      if (!this.#accepting) throw new EngineError('RUN_ABORTED', 'the checkpoint is draining; this queued run was not started', 'engine');
      const { lane: _lane, signal: jobSignal, script, lookup, caCertificates, ...runOptions } = job;
      if (jobSignal?.aborted === true) throw new EngineError('RUN_ABORTED', 'the run was cancelled before it started', 'engine');
      const signal = jobSignal === undefined ? this.#drain.signal : AbortSignal.any([this.#drain.signal, jobSignal]);
      try {
        if (isBrowserScript(script)) return await runTransaction({ ...runOptions, script, browser: this.#options.leases, signal, queueWaitMs, clock: this.#clock });
        // A check takes what applies to it; capture options (screenshots, HAR) have nothing to act on.
        const { variables, secret, privacyLock, listener, runId } = runOptions;
        return await runCheck({ script, variables, secret, privacyLock, listener, runId, lookup, caCertificates, signal, queueWaitMs, clock: this.#clock });
      } finally {
        this.#stats.completed++;
      }
    };
    if (check) return this.#raceExpiry(this.#checkLane.add<RunTransactionOutcome>(run), expiry);
    if (job.lane === 'lighthouse') {
      return this.#raceExpiry(this.#lighthouseLane.add<RunTransactionOutcome>(async () => {
        this.#lane.pause();
        try {
          await this.#lane.onPendingZero();
          return await run();
        } finally {
          this.#lane.start();
        }
      }), expiry);
    }
    return this.#raceExpiry(this.#lane.add<RunTransactionOutcome>(run), expiry);
  }

  #raceExpiry(work: Promise<RunTransactionOutcome>, expiry: Promise<never>): Promise<RunTransactionOutcome> {
    work.catch(() => undefined);
    return Promise.race([work, expiry]);
  }

  /**
   * Stop taking work; let running transactions finish within `graceMs`, then abort them (their results say
   * RUN_ABORTED). Waiting jobs are dropped with RUN_ABORTED.
   */
  async drain(graceMs: number): Promise<void> {
    this.#accepting = false;
    const timer = setTimeout(() => this.#drain.abort(new EngineError('RUN_ABORTED', `the run was aborted: the checkpoint drained and the ${graceMs} ms grace period ended`, 'engine')), graceMs);
    try {
      this.#lane.start();
      await Promise.all([this.#lane.onIdle(), this.#lighthouseLane.onIdle(), this.#checkLane.onIdle()]);
    } finally {
      clearTimeout(timer);
    }
  }
}
