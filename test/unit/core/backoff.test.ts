import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Backoff, backoffCeilingMs, fullJitterDelayMs, linkIsSilent, retryAfterMs } from '../../../engine/core/backoff.ts';

/** A clock the test moves by hand. */
function fakeClock(start = 1_000) {
  let now = start;
  return {
    nowMs: () => now,
    advance(ms: number) {
      now += ms;
    },
  };
}

/** A random source that returns the given values in turn, then repeats the last. */
function sequence(...values: number[]): () => number {
  let index = 0;
  return () => values[Math.min(index++, values.length - 1)] ?? 0;
}

describe('capped exponential backoff with full jitter', () => {
  it('doubles the ceiling from 500 ms per attempt and stops at the 30 s cap', () => {
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 6, 7, 40, 5000].map((attempt) => backoffCeilingMs(attempt, 500, 30_000)),
      [500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000, 30_000],
    );
  });

  it('draws each delay uniformly below the ceiling: random 0 gives 0, random just under 1 gives just under the ceiling', () => {
    assert.equal(fullJitterDelayMs(3, 500, 30_000, () => 0), 0);
    assert.equal(fullJitterDelayMs(3, 500, 30_000, () => 0.5), 2000);
    assert.equal(fullJitterDelayMs(3, 500, 30_000, () => 0.999_999), 3999);
    assert.equal(fullJitterDelayMs(20, 500, 30_000, () => 0.999_999), 29_999);
  });

  it('never leaves [0, ceiling) even when the random source misbehaves', () => {
    assert.equal(fullJitterDelayMs(0, 500, 30_000, () => -3), 0);
    assert.ok(fullJitterDelayMs(0, 500, 30_000, () => 7) <= 500);
  });

  it('climbs one step per failure with the defaults (base 500 ms, cap 30 s)', () => {
    const backoff = new Backoff(fakeClock(), { random: () => 0.999_999 });
    const delays = Array.from({ length: 9 }, () => backoff.nextDelayMs());
    assert.deepEqual(delays, [499, 999, 1999, 3999, 7999, 15_999, 29_999, 29_999, 29_999]);
  });

  it('spreads many clients that failed together across the whole window', () => {
    let seed = 42;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const delays = Array.from({ length: 200 }, () => {
      const backoff = new Backoff(fakeClock(), { random });
      for (let i = 0; i < 4; i++) backoff.nextDelayMs();
      return backoff.nextDelayMs();
    });
    assert.ok(delays.every((d) => d >= 0 && d < 8000));
    assert.ok(delays.some((d) => d < 2000) && delays.some((d) => d > 6000), 'jitter covers the low and the high end');
  });

  it('keeps climbing when the link comes up and fails again quickly (flapping)', () => {
    const clock = fakeClock();
    const backoff = new Backoff(clock, { random: () => 0.999_999, healthyAfterMs: 30_000 });
    backoff.nextDelayMs();
    backoff.nextDelayMs();
    backoff.linkUp();
    clock.advance(29_999);
    backoff.linkDown();
    assert.equal(backoff.attempt, 2);
    assert.equal(backoff.nextDelayMs(), 1999);
  });

  it('starts again from the base after the link stayed healthy long enough', () => {
    const clock = fakeClock();
    const backoff = new Backoff(clock, { random: () => 0.999_999, healthyAfterMs: 30_000 });
    for (let i = 0; i < 5; i++) backoff.nextDelayMs();
    backoff.linkUp();
    clock.advance(30_000);
    backoff.linkDown();
    assert.equal(backoff.attempt, 0);
    assert.equal(backoff.nextDelayMs(), 499);
  });

  it('measures health from the first linkUp, not from repeated ones', () => {
    const clock = fakeClock();
    const backoff = new Backoff(clock, { random: () => 0.5, healthyAfterMs: 1000 });
    backoff.nextDelayMs();
    backoff.linkUp();
    clock.advance(600);
    backoff.linkUp();
    clock.advance(600);
    backoff.linkDown();
    assert.equal(backoff.attempt, 0);
  });

  it('restarts at once after a request succeeded', () => {
    const backoff = new Backoff(fakeClock(), { random: sequence(0.5) });
    for (let i = 0; i < 4; i++) backoff.nextDelayMs();
    backoff.succeeded();
    assert.equal(backoff.attempt, 0);
    assert.equal(backoff.nextDelayMs(), 250);
  });

  it('honours custom base and cap, and never lets the cap go below the base', () => {
    const backoff = new Backoff(fakeClock(), { baseMs: 100, capMs: 50, random: () => 0.999_999 });
    assert.equal(backoff.nextDelayMs(), 99);
    assert.equal(backoff.nextDelayMs(), 99);
  });
});

describe('Retry-After', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');

  it('reads seconds and HTTP dates, bounded by the cap', () => {
    assert.equal(retryAfterMs('5', now, 30_000), 5000);
    assert.equal(retryAfterMs('0.5', now, 30_000), 500);
    assert.equal(retryAfterMs('3600', now, 30_000), 30_000);
    assert.equal(retryAfterMs('Wed, 01 Jan 2025 00:00:10 GMT', now, 30_000), 10_000);
    assert.equal(retryAfterMs('Tue, 31 Dec 2024 23:00:00 GMT', now, 30_000), 0);
  });

  it('ignores a missing or unreadable header', () => {
    assert.equal(retryAfterMs(undefined, now, 30_000), undefined);
    assert.equal(retryAfterMs('', now, 30_000), undefined);
    assert.equal(retryAfterMs('soon', now, 30_000), undefined);
  });
});

describe('silent link detection', () => {
  it('declares the link dead only after more than three heartbeat intervals without a message or pong', () => {
    assert.equal(linkIsSilent(0, 3000, 1000), false);
    assert.equal(linkIsSilent(0, 3001, 1000), true);
    assert.equal(linkIsSilent(5000, 7000, 1000), false);
    assert.equal(linkIsSilent(0, 2001, 1000, 2), true);
  });
});
