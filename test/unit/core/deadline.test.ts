import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Clock } from '../../../engine/core/clock.ts';
import { Deadline, type Timers } from '../../../engine/core/deadline.ts';
import { EngineError } from '../../../engine/core/errors.ts';

/** A clock and timers that move only when told to: no test here sleeps. */
class FakeTime implements Clock, Timers {
  #nowMs = 0;
  #timers = new Map<number, { atMs: number; callback: () => void }>();
  #next = 1;

  nowMs(): number {
    return this.#nowMs;
  }

  wallNow(): Date {
    return new Date(this.#nowMs);
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.#next++;
    this.#timers.set(id, { atMs: this.#nowMs + ms, callback });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }

  get pending(): number {
    return this.#timers.size;
  }

  /** Move time forward, firing due timers in order. */
  advance(ms: number): void {
    const endMs = this.#nowMs + ms;
    for (;;) {
      const due = [...this.#timers.entries()].filter(([, t]) => t.atMs <= endMs).sort((a, b) => a[1].atMs - b[1].atMs)[0];
      if (due === undefined) break;
      this.#timers.delete(due[0]);
      this.#nowMs = due[1].atMs;
      due[1].callback();
    }
    this.#nowMs = endMs;
  }
}

const timeout = (code: 'ACTION_TIMEOUT' | 'STEP_TIMEOUT' | 'SCRIPT_TIMEOUT') => () => new EngineError(code, code.toLowerCase(), 'site');

function root(time: FakeTime, budgetMs: number, signal?: AbortSignal): Deadline {
  return Deadline.start({ clock: time, timers: time, budgetMs, onExpire: timeout('SCRIPT_TIMEOUT'), signal });
}

describe('Deadline', () => {
  it('ends when its time runs out, with its own reason, and counts down to zero', () => {
    const time = new FakeTime();
    const deadline = root(time, 1000);
    time.advance(400);
    assert.equal(deadline.remainingMs(), 600);
    assert.equal(deadline.ended, false);
    time.advance(600);
    assert.equal(deadline.ended, true);
    assert.equal(deadline.expired, true);
    assert.equal((deadline.reason as EngineError).code, 'SCRIPT_TIMEOUT');
    assert.equal(deadline.remainingMs(), 0);
  });

  it('narrows: a child ends at its own time when that is sooner, with its own reason', () => {
    const time = new FakeTime();
    const script = root(time, 10_000);
    const action = script.narrow(500, timeout('ACTION_TIMEOUT'));
    time.advance(500);
    assert.equal((action.reason as EngineError).code, 'ACTION_TIMEOUT');
    assert.equal(script.ended, false, 'the parent goes on');
  });

  it('narrows: when the parent ends first the child carries the parent`s reason (a step timeout is not an action timeout)', () => {
    const time = new FakeTime();
    const step = Deadline.start({ clock: time, timers: time, budgetMs: 300, onExpire: timeout('STEP_TIMEOUT') });
    const action = step.narrow(10_000, timeout('ACTION_TIMEOUT'));
    assert.equal(action.endsAtMs, 300, 'the child knows the effective end');
    time.advance(300);
    assert.equal((action.reason as EngineError).code, 'STEP_TIMEOUT');
    assert.equal(action.expired, true, 'time ran out around it: still a timeout');
  });

  it('abort ends the deadline and every child with that reason, and is not an expiry', () => {
    const time = new FakeTime();
    const run = root(time, Number.POSITIVE_INFINITY);
    const step = run.child();
    const action = step.narrow(1000, timeout('ACTION_TIMEOUT'));
    step.abort(new EngineError('HTTP_ERROR', 'the server answered HTTP 500', 'site'));
    assert.equal((action.reason as EngineError).code, 'HTTP_ERROR');
    assert.equal(action.expired, false);
    assert.equal(run.ended, false, 'aborting a child leaves the parent running');
    assert.equal(time.pending, 0, 'the action timer was cleared');
  });

  it('follows an outside signal (cancel, crash), also one aborted before it started', () => {
    const time = new FakeTime();
    const controller = new AbortController();
    const deadline = root(time, 1000, controller.signal);
    controller.abort(new EngineError('RUN_ABORTED', 'cancelled', 'engine'));
    assert.equal((deadline.reason as EngineError).code, 'RUN_ABORTED');
    const late = root(time, 1000, controller.signal);
    assert.equal((late.reason as EngineError).code, 'RUN_ABORTED');
  });

  it('race settles with the work, or rejects with the reason as soon as the deadline ends', async () => {
    const time = new FakeTime();
    const deadline = root(time, 1000);
    assert.equal(await deadline.race(Promise.resolve(42)), 42);
    const hung = new Promise<never>(() => undefined);
    const raced = deadline.race(hung);
    time.advance(1000);
    await assert.rejects(raced, (error: EngineError) => error.code === 'SCRIPT_TIMEOUT');
    await assert.rejects(deadline.race(Promise.resolve(1)), (error: EngineError) => error.code === 'SCRIPT_TIMEOUT', 'an ended deadline rejects at once');
  });

  it('poll returns true when the condition holds, false when time runs out, and rethrows an abort', async () => {
    const time = new FakeTime();
    let checks = 0;
    const holds = root(time, 1000);
    assert.equal(await holds.poll(() => ++checks === 1), true);

    const never = root(time, 0);
    assert.equal(await never.poll(() => false), false, 'a zero budget still looks once, then gives up');

    const aborted = root(time, 1000);
    const polling = aborted.poll(() => false);
    aborted.abort(new EngineError('BROWSER_CRASHED', 'crashed', 'engine'));
    await assert.rejects(polling, (error: EngineError) => error.code === 'BROWSER_CRASHED');
  });

  it('dispose clears its timer and stops following the parent', () => {
    const time = new FakeTime();
    const parent = root(time, 5000);
    const child = parent.narrow(1000, timeout('ACTION_TIMEOUT'));
    child.dispose();
    parent.abort(new EngineError('RUN_ABORTED', 'cancelled', 'engine'));
    assert.equal(child.ended, false);
    assert.equal(time.pending, 0);
  });
});
