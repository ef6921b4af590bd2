import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emptyResult, type ArmResult } from '../../../test/bench/dispatch-arm.ts';
import { parseDispatchArgs } from '../../../test/bench/dispatch-bench.ts';
import { formatRatios, formatSummary, ratio } from '../../../test/bench/dispatch-format.ts';

const done = (arm: ArmResult['arm'], runsPerS: number, cpuMsPerRun: number): ArmResult => ({
  ...emptyResult({ arm, monitors: 100, agents: 2, capacity: 5, checkpoints: 1, replicas: arm === 'postgres-2' ? 2 : 1 }),
  status: 'done',
  runsPerS,
  resultsPerS: runsPerS / 2,
  cpuMsPerRun,
});

describe('bench: dispatch command line and report', () => {
  it('takes the defaults and the flags', () => {
    assert.deepEqual(parseDispatchArgs([]), {
      options: { monitors: 10_000, agents: 8, capacity: 50, checkpoints: 1, createInFlight: 16, timeoutS: 1800 },
      arms: ['sqlite-1', 'postgres-1', 'postgres-2'],
      json: false,
    });
    const parsed = parseDispatchArgs(['--monitors', '50', '--agents', '2', '--capacity', '5', '--arms', 'sqlite-1', '--json']);
    assert.ok('options' in parsed);
    assert.equal(parsed.options.monitors, 50);
    assert.deepEqual(parsed.arms, ['sqlite-1']);
    assert.deepEqual(parseDispatchArgs(['--help']), { help: true });
  });

  it('names the bad option', () => {
    assert.deepEqual(parseDispatchArgs(['--monitors', '0']), { error: '--monitors "0": expected a whole number of at least 1' });
    assert.deepEqual(parseDispatchArgs(['--agents', '2.5']), { error: '--agents "2.5": expected a whole number of at least 1' });
    assert.match((parseDispatchArgs(['--arms', 'sqlite-1,mysql-3']) as { error: string }).error, /--arms "sqlite-1,mysql-3": expected a comma-separated list of sqlite-1, postgres-1, postgres-2/);
    assert.match((parseDispatchArgs(['--checkpoints', '9']) as { error: string }).error, /--checkpoints 9: expected at most --agents \(8\)/);
    assert.match((parseDispatchArgs(['--monitor', '5']) as { error: string }).error, /Unknown option '--monitor'/);
  });

  it('divides throughput and CPU per run between completed arms, and leaves the others pending', () => {
    const results = [done('sqlite-1', 400, 2), done('postgres-1', 200, 5), done('postgres-2', 300, 6)];
    const r = ratio(results, 'postgres-2', 'sqlite-1');
    assert.equal(r.runsPerS, 0.75);
    assert.equal(r.cpuPerRun, 3);
    assert.match(formatRatios(results), /\| postgres-2 ÷ postgres-1 \| 1\.50 \| 1\.50 \| 1\.20 \|/);
    const pending = [done('sqlite-1', 400, 2), { ...done('postgres-2', 300, 6), status: 'pending' as const }];
    assert.match(formatRatios(pending), /\| postgres-2 ÷ sqlite-1 \| pending \| pending \| pending \|/);
    assert.match(formatSummary(pending), /\| postgres-2 \| pending \| 2 \|/);
  });
});
