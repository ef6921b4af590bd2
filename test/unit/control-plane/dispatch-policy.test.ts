import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  canTakeRun,
  chooseInstance,
  decideAfterResult,
  evaluateCheckpoint,
  instanceLoad,
  leaseDeadlineMs,
  nextDueMs,
  runLostReason,
  type CheckpointHealth,
  type InstanceView,
} from '../../../control-plane/dispatch-policy.ts';
import { FakeClock } from '../../helpers/fake-agent.ts';

function instance(key: string, overrides: Partial<InstanceView> = {}): InstanceView {
  return { key, connected: true, ready: true, draining: false, capacity: 2, running: 0, ...overrides };
}

describe('dispatch policy: choosing an instance', () => {
  it('picks the least loaded instance, as a fraction of its capacity', () => {
    const busySmall = instance('a', { capacity: 2, running: 1 });
    const idleBig = instance('b', { capacity: 8, running: 2 });
    assert.equal(instanceLoad(busySmall), 0.5);
    assert.equal(instanceLoad(idleBig), 0.25);
    assert.equal(chooseInstance([busySmall, idleBig]), 'b');
  });

  it('skips instances that are disconnected, not greeted yet, draining, full or without capacity', () => {
    const candidates = [
      instance('gone', { connected: false }),
      instance('new', { ready: false }),
      instance('draining', { draining: true }),
      instance('full', { capacity: 2, running: 2 }),
      instance('zero', { capacity: 0 }),
    ];
    assert.deepEqual(candidates.filter(canTakeRun), []);
    assert.equal(chooseInstance(candidates), undefined);
    assert.equal(chooseInstance([...candidates, instance('ok', { running: 1 })]), 'ok');
  });

  it('avoids the instance being confirmed when another can take the run', () => {
    const a = instance('a');
    const b = instance('b', { running: 1 });
    assert.equal(chooseInstance([a, b]), 'a');
    assert.equal(chooseInstance([a, b], { avoid: 'a' }), 'b');
  });

  it('falls back to the same instance when it is the only one that can take the run', () => {
    assert.equal(chooseInstance([instance('a')], { avoid: 'a' }), 'a');
    assert.equal(chooseInstance([instance('a'), instance('b', { running: 2 })], { avoid: 'a' }), 'a');
  });

  it('shares work between equal instances: the one dispatched to least recently goes first, then the lowest key', () => {
    const clock = new FakeClock();
    const a = instance('a', { lastDispatchedAtMs: clock.nowMs() });
    clock.advance(1000);
    const b = instance('b', { lastDispatchedAtMs: clock.nowMs() });
    assert.equal(chooseInstance([b, a]), 'a');
    assert.equal(chooseInstance([instance('b'), instance('a')]), 'a');
    assert.equal(chooseInstance([a, instance('c')]), 'c', 'never dispatched to beats dispatched to');
  });
});

describe('dispatch policy: retry, alert and recovery', () => {
  it('re-runs a first failure at once instead of alerting', () => {
    assert.deepEqual(decideAfterResult({ outcome: 'failed', attempt: 1, health: 'ok', late: false }), { retry: true, health: 'ok' });
  });

  it('raises monitor-failed on the second consecutive failure', () => {
    assert.deepEqual(decideAfterResult({ outcome: 'failed', attempt: 2, health: 'ok', late: false }), { retry: false, alert: 'monitor-failed', health: 'failing' });
  });

  it('counts an error (the run could not complete) as a failure', () => {
    assert.deepEqual(decideAfterResult({ outcome: 'error', attempt: 1, health: 'ok', late: false }), { retry: true, health: 'ok' });
    assert.equal(decideAfterResult({ outcome: 'error', attempt: 2, health: 'ok', late: false }).alert, 'monitor-failed');
  });

  it('does not alert again while the monitor keeps failing', () => {
    assert.deepEqual(decideAfterResult({ outcome: 'failed', attempt: 1, health: 'failing', late: false }), { retry: true, health: 'failing' });
    assert.deepEqual(decideAfterResult({ outcome: 'failed', attempt: 2, health: 'failing', late: false }), { retry: false, health: 'failing' });
  });

  it('raises monitor-recovered once when a failing monitor passes', () => {
    assert.deepEqual(decideAfterResult({ outcome: 'passed', attempt: 1, health: 'failing', late: false }), { retry: false, alert: 'monitor-recovered', health: 'ok' });
    assert.deepEqual(decideAfterResult({ outcome: 'passed', attempt: 1, health: 'ok', late: false }), { retry: false, health: 'ok' });
  });

  it('treats a pass on the confirming attempt as no failure at all', () => {
    assert.deepEqual(decideAfterResult({ outcome: 'passed', attempt: 2, health: 'ok', late: false }), { retry: false, health: 'ok' });
  });

  it('does not retry a warning, and alerts on it only when the monitor asks (once, then recovers on a clean pass)', () => {
    assert.deepEqual(decideAfterResult({ outcome: 'warning', attempt: 1, health: 'ok', late: false }), { retry: false, health: 'ok' });
    assert.deepEqual(decideAfterResult({ outcome: 'warning', attempt: 1, health: 'ok', late: false, alertOnWarning: true }), { retry: false, alert: 'monitor-warning', health: 'warning' });
    assert.deepEqual(decideAfterResult({ outcome: 'warning', attempt: 1, health: 'warning', late: false, alertOnWarning: true }), { retry: false, health: 'warning' });
    assert.deepEqual(decideAfterResult({ outcome: 'passed', attempt: 1, health: 'warning', late: false, alertOnWarning: true }), { retry: false, alert: 'monitor-recovered', health: 'ok' });
  });

  it('with alertOnWarning, a warning after a failure closes the failure and keeps the warning open', () => {
    assert.deepEqual(decideAfterResult({ outcome: 'warning', attempt: 1, health: 'failing', late: false, alertOnWarning: true }), { retry: false, alert: 'monitor-recovered', health: 'warning' });
  });

  it('a warning ends a failure: the transaction works again, if slowly', () => {
    assert.deepEqual(decideAfterResult({ outcome: 'warning', attempt: 1, health: 'failing', late: false }), { retry: false, alert: 'monitor-recovered', health: 'ok' });
    assert.deepEqual(decideAfterResult({ outcome: 'failed', attempt: 2, health: 'warning', late: false }), { retry: false, alert: 'monitor-failed', health: 'failing' });
  });

  it('ignores a late result: no retry, no alert, health unchanged', () => {
    for (const health of ['ok', 'failing'] as const) {
      for (const outcome of ['passed', 'failed', 'error'] as const) {
        for (const attempt of [1, 2]) assert.deepEqual(decideAfterResult({ outcome, attempt, health, late: true }), { retry: false, health });
      }
    }
  });
});

describe('dispatch policy: leases and lost runs', () => {
  it('gives a run a lease of its script budget plus the margin', () => {
    const clock = new FakeClock();
    clock.advance(5000);
    assert.equal(leaseDeadlineMs(clock.nowMs(), 300_000, 60_000), 365_000);
  });

  it('writes a run off when its instance is gone', () => {
    const clock = new FakeClock();
    const lease = leaseDeadlineMs(clock.nowMs(), 60_000, 10_000);
    assert.equal(runLostReason({ nowMs: clock.nowMs(), leaseDeadlineMs: lease, instanceConnected: false }), 'instance-gone');
    assert.equal(runLostReason({ nowMs: clock.nowMs(), leaseDeadlineMs: lease, instanceConnected: true }), undefined);
  });

  it('gives instances a grace period to come back after a control-plane restart', () => {
    const clock = new FakeClock();
    const lease = leaseDeadlineMs(clock.nowMs(), 60_000, 10_000);
    const goneAt = clock.nowMs() + 30_000;
    assert.equal(runLostReason({ nowMs: clock.nowMs(), leaseDeadlineMs: lease, instanceConnected: false, instanceGoneAtMs: goneAt }), undefined);
    clock.advance(30_000);
    assert.equal(runLostReason({ nowMs: clock.nowMs(), leaseDeadlineMs: lease, instanceConnected: false, instanceGoneAtMs: goneAt }), 'instance-gone');
  });

  it('writes a run off when its lease expires, even on a connected instance', () => {
    const clock = new FakeClock();
    const lease = leaseDeadlineMs(clock.nowMs(), 60_000, 10_000);
    clock.advance(69_999);
    assert.equal(runLostReason({ nowMs: clock.nowMs(), leaseDeadlineMs: lease, instanceConnected: true }), undefined);
    clock.advance(1);
    assert.equal(runLostReason({ nowMs: clock.nowMs(), leaseDeadlineMs: lease, instanceConnected: true }), 'lease-expired');
  });

  it('makes a monitor due again one interval after a dispatch', () => {
    const clock = new FakeClock();
    clock.advance(1500);
    assert.equal(nextDueMs(clock.nowMs(), 60), 61_500);
  });
});

describe('dispatch policy: checkpoint down and up', () => {
  const downAfterMs = 60_000;

  function evaluate(health: CheckpointHealth, connectedInstances: number, offlineSinceMs: number | undefined, clock: FakeClock) {
    return evaluateCheckpoint({ health, connectedInstances, offlineSinceMs, nowMs: clock.nowMs(), downAfterMs });
  }

  it('raises checkpoint-down once no instance has been connected for the configured time', () => {
    const clock = new FakeClock();
    const since = clock.nowMs();
    clock.advance(downAfterMs - 1);
    assert.deepEqual(evaluate('up', 0, since, clock), { health: 'up' });
    clock.advance(1);
    assert.deepEqual(evaluate('up', 0, since, clock), { health: 'down', alert: 'checkpoint-down' });
  });

  it('raises checkpoint-down only once while the checkpoint stays down', () => {
    const clock = new FakeClock();
    clock.advance(10 * downAfterMs);
    assert.deepEqual(evaluate('down', 0, 0, clock), { health: 'down' });
  });

  it('raises checkpoint-up when an instance returns to a down checkpoint, and not otherwise', () => {
    const clock = new FakeClock();
    assert.deepEqual(evaluate('down', 1, undefined, clock), { health: 'up', alert: 'checkpoint-up' });
    assert.deepEqual(evaluate('up', 2, undefined, clock), { health: 'up' });
    assert.deepEqual(evaluate('unknown', 1, undefined, clock), { health: 'up' });
  });

  it('does not call a checkpoint that never had an instance down', () => {
    const clock = new FakeClock();
    clock.advance(10 * downAfterMs);
    assert.deepEqual(evaluate('unknown', 0, 0, clock), { health: 'unknown' });
  });
});
