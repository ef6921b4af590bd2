import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { outboxBytes, planOutboxDrops, resultBytes, type OutboxRowSize } from '../../../engine/core/outbox-policy.ts';

const sha = (n: number) => n.toString(16).padStart(64, '0');

function row(runId: string, createdAtMs: number, result: number, artifacts: [number, number][] = []): OutboxRowSize {
  return { runId, createdAtMs, resultBytes: result, artifacts: artifacts.map(([id, size]) => ({ sha256: sha(id), sizeBytes: size })) };
}

describe('outbox byte accounting', () => {
  it('counts every result and every distinct artifact file once', () => {
    const rows = [row('a', 1, 100, [[1, 1000], [2, 500]]), row('b', 2, 200, [[1, 1000]])];
    assert.equal(outboxBytes(rows), 100 + 200 + 1000 + 500);
    assert.equal(resultBytes(rows), 300);
    assert.equal(outboxBytes([]), 0);
  });
});

describe('what the outbox drops past its cap', () => {
  it('drops nothing while under or at the cap', () => {
    const rows = [row('a', 1, 100, [[1, 900]])];
    const plan = planOutboxDrops(rows, 1000);
    assert.deepEqual(plan.dropArtifactsOf, []);
    assert.equal(plan.bytesAfter, 1000);
    assert.equal(plan.overCap, false);
  });

  it('drops artifacts of the oldest runs first, only as many runs as needed, and counts each drop', () => {
    const rows = [row('new', 30, 10, [[3, 100]]), row('old', 10, 10, [[1, 100], [2, 100]]), row('mid', 20, 10, [[4, 100]])];
    const plan = planOutboxDrops(rows, 250);
    assert.deepEqual(plan.dropArtifactsOf, ['old']);
    assert.deepEqual(plan.droppedPerRun, { old: 2 });
    assert.equal(plan.bytesBefore, 430);
    assert.equal(plan.bytesAfter, 230);
    assert.equal(plan.overCap, false);
  });

  it('never drops a result: with every artifact gone and still too big, it says overCap', () => {
    const rows = [row('a', 1, 600, [[1, 100]]), row('b', 2, 600)];
    const plan = planOutboxDrops(rows, 1000);
    assert.deepEqual(plan.dropArtifactsOf, ['a']);
    assert.equal(plan.bytesAfter, 1200);
    assert.equal(plan.overCap, true);
  });

  it('passes over runs without artifacts', () => {
    const rows = [row('bare', 1, 50), row('pics', 2, 50, [[1, 500]])];
    const plan = planOutboxDrops(rows, 200);
    assert.deepEqual(plan.dropArtifactsOf, ['pics']);
    assert.deepEqual(plan.droppedPerRun, { pics: 1 });
  });

  it('frees a shared file only when no kept run refers to it any more', () => {
    // Runs a and b share file 1; dropping a frees nothing, dropping b too frees it.
    const rows = [row('a', 1, 10, [[1, 1000]]), row('b', 2, 10, [[1, 1000]]), row('c', 3, 10, [[2, 100]])];
    const plan = planOutboxDrops(rows, 500);
    assert.deepEqual(plan.dropArtifactsOf, ['a', 'b']);
    assert.equal(plan.bytesAfter, 130);
  });

  it('keeps the given order for runs committed in the same millisecond', () => {
    const rows = [row('first', 5, 10, [[1, 100]]), row('second', 5, 10, [[2, 100]])];
    assert.deepEqual(planOutboxDrops(rows, 150).dropArtifactsOf, ['first']);
  });
});
