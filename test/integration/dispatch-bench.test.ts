// A tiny run of the dispatch benchmark's SQLite arm: a real `checkpoint control-plane`, monitors created through
// the API, fake agents answering. It checks the counting, never the speed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runDispatchBench } from '../bench/dispatch-bench.ts';

describe('dispatch benchmark (smoke)', () => {
  it('runs every monitor once on SQLite, stores each result once, and charges the control plane`s CPU to the arm', { timeout: 120_000 }, async () => {
    const lines: string[] = [];
    // 2 agents × 3 slots for 40 monitors: the runs go out over several dispatch rounds.
    const [result] = await runDispatchBench(['sqlite-1'], { monitors: 40, agents: 2, capacity: 3, checkpoints: 1, createInFlight: 4, timeoutS: 90 }, (line) => lines.push(line));
    assert.ok(result !== undefined);
    assert.equal(result.status, 'done', result.note);
    assert.equal(result.resultsStored, 40);
    assert.equal(result.runsReceived, 40, 'one run per monitor: nothing re-dispatched');
    assert.equal(result.duplicates, 0);
    assert.equal(result.answerErrors, 0);
    assert.deepEqual(result.runsPerReplica, [40]);
    const [controlPlane] = result.processes;
    assert.equal(controlPlane?.name, 'control plane 1');
    assert.ok((controlPlane?.cpuS ?? 0) > 0, 'the control plane did work in the window');
    assert.ok((controlPlane?.vmHwmBytes ?? controlPlane?.peakRssBytes ?? 0) > 0);
    assert.equal(result.overCounted, false, `arm ${result.armCpuS} s + harness ${result.harnessCpuS} s ≤ machine ${result.machineBusyS} s`);
    assert.ok(lines.some((line) => /40 monitors created/.test(line)), lines.join('\n'));
  });
});
