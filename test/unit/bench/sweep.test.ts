import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConcurrencyList } from '../../../cli/bench-command.ts';
import { transactionsPerRun } from '../../../test/bench/pool-bench.ts';
import { formatSoak, formatSweep, soakTrend } from '../../../test/bench/sweep-format.ts';
import { armOrder, bestOf, headlineRatios, leastSquares, memoryPerLane, percentile, saturationConcurrency, summarise, type ArmPoint, type RunRecord } from '../../../test/bench/sweep.ts';

const MiB = 1024 ** 2;

function record(arm: string, concurrency: number, round: number, over: Partial<RunRecord> = {}): RunRecord {
  return {
    arm,
    concurrency,
    round,
    transactionMs: [1000, 1000, 1000, 1000],
    leaseWaitMs: [1, 1, 1, 1],
    failures: [],
    wallMs: 4000,
    armCpuS: 2,
    armRunCpuS: 1.6,
    machineBusyS: 3,
    harnessCpuS: 0.2,
    peakBytes: 300 * MiB,
    treeRssPeakBytes: 900 * MiB,
    cgroupMaxUsageBytes: 400 * MiB,
    leftovers: 0,
    ...over,
  };
}

function point(arm: string, concurrency: number, transactionsPerMin: number, over: Partial<ArmPoint> = {}): ArmPoint {
  return {
    arm,
    concurrency,
    runs: 1,
    transactions: 16,
    failures: 0,
    transactionsPerMin,
    p50Ms: 1000,
    p95Ms: 1500,
    leaseWaitP50Ms: 1,
    cpuSecondsPerTx: 0.5,
    runCpuSecondsPerTx: 0.4,
    machineBusySecondsPerTx: 0.8,
    harnessCpuSecondsPerTx: 0.05,
    peakMiB: 200 + 50 * concurrency,
    mibPerTx: Math.round((200 + 50 * concurrency) / concurrency),
    treeRssPeakMiB: 900,
    cgroupMaxUsageMiB: 400,
    leftovers: 0,
    firstFailure: undefined,
    ...over,
  };
}

describe('bench: sweep analysis', () => {
  it('pools rounds: throughput is all transactions over all measured wall time, CPU and memory per transaction', () => {
    const [p] = summarise([record('ours', 2, 0), record('ours', 2, 1, { wallMs: 2000, armCpuS: 4, peakBytes: 500 * MiB })]);
    assert.ok(p !== undefined);
    assert.equal(p.transactions, 8);
    assert.equal(p.transactionsPerMin, 80); // 8 tx in 6 s
    assert.equal(p.cpuSecondsPerTx, 0.75); // 6 CPU-s / 8 tx
    assert.equal(p.machineBusySecondsPerTx, 0.75);
    assert.equal(p.peakMiB, 500); // the highest round
    assert.equal(p.mibPerTx, 250); // per concurrent transaction
    assert.equal(p.cgroupMaxUsageMiB, 400);
  });

  it('keeps arms and concurrencies apart and counts failures and leftovers', () => {
    const points = summarise([record('ours', 1, 0), record('ours', 2, 0, { failures: ['boom'], leftovers: 2 }), record('playwright-hand', 1, 0)]);
    assert.equal(points.length, 3);
    const failed = points.find((p) => p.arm === 'ours' && p.concurrency === 2);
    assert.equal(failed?.failures, 1);
    assert.equal(failed?.leftovers, 2);
    assert.equal(failed?.firstFailure, 'boom');
  });

  it('picks each arm`s best throughput, the lower concurrency on a tie', () => {
    const best = bestOf([point('ours', 1, 50), point('ours', 4, 90), point('ours', 8, 90), point('ours', 12, 85), point('puppeteer-cluster', 2, 70)]);
    assert.equal(best.get('ours')?.concurrency, 4);
    assert.equal(best.get('puppeteer-cluster')?.concurrency, 2);
  });

  it('finds where throughput saturates: the lowest concurrency within 90 % of the best', () => {
    const points = [point('ours', 1, 40), point('ours', 2, 70), point('ours', 4, 84), point('ours', 8, 90), point('ours', 12, 88)];
    assert.equal(saturationConcurrency(points, 'ours'), 4);
    assert.equal(saturationConcurrency(points, 'ours', 1), 8);
    assert.equal(saturationConcurrency(points, 'nobody'), undefined);
  });

  it('builds the ratio table: ours ÷ best peer at each one`s best, CPU ÷ puppeteer-cluster, wall time ÷ playwright-hand at 2', () => {
    const points = [
      point('ours', 2, 60, { p50Ms: 1300, cpuSecondsPerTx: 0.9 }),
      point('ours', 4, 80, { cpuSecondsPerTx: 0.8 }),
      point('puppeteer-cluster', 2, 100, { cpuSecondsPerTx: 0.4 }),
      point('puppeteer-cluster', 4, 90),
      point('playwright-hand', 2, 70, { p50Ms: 1000 }),
      point('browser-per-tx', 4, 50),
    ];
    const rows = headlineRatios(points);
    assert.deepEqual(rows[0], { label: 'tx/min ours (c=4) ÷ best peer puppeteer-cluster (c=2)', ours: 80, other: 100, ratio: 0.8 });
    assert.deepEqual(
      rows.filter((r) => r.label.startsWith('tx/min ours ÷')).map((r) => r.ratio),
      [0.8, 1.14, 1.6],
    );
    assert.deepEqual(rows.find((r) => r.label.startsWith('CPU'))?.ratio, 2);
    assert.deepEqual(rows.find((r) => r.label.startsWith('p50'))?.ratio, 1.3);
    assert.deepEqual(headlineRatios([point('playwright-hand', 2, 70)]), []);
  });

  it('fits a least-squares line, and a flat one when x does not vary', () => {
    const fit = leastSquares([0, 100, 200, 300], [800, 810, 790, 830]);
    assert.ok(Math.abs(fit.slope - 0.07) < 1e-9);
    assert.ok(Math.abs(fit.intercept - 797) < 1e-9);
    assert.deepEqual(leastSquares([5, 5], [1, 3]), { slope: 0, intercept: 2, samples: 2 });
    assert.deepEqual(leastSquares([], []), { slope: 0, intercept: 0, samples: 0 });
  });

  it('splits an arm`s memory into a fixed part and MiB per extra concurrent transaction', () => {
    const fit = memoryPerLane([point('ours', 1, 1), point('ours', 2, 1), point('ours', 4, 1), point('ours', 8, 1)], 'ours');
    assert.ok(Math.abs(fit.slope - 50) < 1e-9);
    assert.ok(Math.abs(fit.intercept - 200) < 1e-9);
  });

  it('alternates the arm order so each arm runs early and late', () => {
    const arms = ['a', 'b', 'c', 'd'];
    assert.deepEqual(armOrder(arms, 0, 0), ['a', 'b', 'c', 'd']);
    assert.deepEqual(armOrder(arms, 1, 0), ['d', 'c', 'b', 'a']);
    assert.deepEqual(armOrder(arms, 0, 1), ['b', 'c', 'd', 'a']);
    assert.deepEqual(armOrder(arms, 2, 0), ['b', 'c', 'd', 'a']);
    // Over two rounds at one concurrency every arm's mean position is the same.
    const positions = new Map<string, number>();
    for (const r of [0, 1]) armOrder(arms, r, 2).forEach((a, i) => positions.set(a, (positions.get(a) ?? 0) + i));
    assert.deepEqual(new Set(positions.values()).size, 1);
  });

  it('takes the nearest-rank percentile', () => {
    assert.equal(percentile([5, 1, 4, 2, 3], 50), 3);
    assert.equal(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 100], 95), 19);
    assert.equal(percentile([], 95), 0);
  });

  it('runs at least two waves per arm run', () => {
    assert.equal(transactionsPerRun(16, 4), 16);
    assert.equal(transactionsPerRun(16, 12), 24);
  });
});

describe('bench: output', () => {
  it('parses --concurrency lists and rejects bad ones with the option named', () => {
    assert.deepEqual(parseConcurrencyList('1,2, 4,8,4'), [1, 2, 4, 8]);
    assert.deepEqual(parseConcurrencyList('3'), [3]);
    for (const bad of ['0', '1,,2', 'two', '1.5', '-2']) assert.throws(() => parseConcurrencyList(bad), /--concurrency: expected a positive integer/);
  });

  it('prints the best-point table, the ratios and one table per concurrency', () => {
    const points = [point('ours', 1, 50), point('ours', 2, 80), point('playwright-hand', 1, 60), point('playwright-hand', 2, 70)];
    const text = formatSweep({ method: 'cgroup-v1', points, arms: ['ours', 'playwright-hand'], concurrencies: [1, 2], rounds: 2, transactionsPerRun: (c) => 16 * c, capacity: { cpus: 2, transactionsPerCpu: 2, defaultConcurrency: 4 } });
    assert.match(text, /ours saturated at concurrency 2 on 2 CPU\(s\) = 1 per CPU; engine\/core\/capacity.ts uses 2 per CPU, so the default here is 4/);
    assert.match(text, /cgroup v1/);
    assert.match(text, /\| ours \| 80 \| 2 \| 2 \| 1500 \| 0\.5 \| 150 \| 300 \| 50 \|/);
    assert.match(text, /tx\/min ours \(c=2\) ÷ best peer playwright-hand \(c=2\) \| 80 \| 70 \| 1\.14/);
    assert.match(text, /Concurrency 1 \(16 transactions/);
    assert.match(text, /Concurrency 2 \(32 transactions/);
  });

  it('reports a soak trend as a slope over same-point-of-cycle samples, not first vs last', () => {
    const s = (done: number, memoryMiB: number) => ({ memoryMiB, sharedMiB: 20, nodeRssMiB: 150, nodeHeapUsedMiB: 40, treeRssMiB: 900, processes: 8, zombies: 0, openFiles: 190, done });
    // Saw-tooth within cycles, flat across them: slope ≈ 0 even though end > start.
    const cycle = [s(50, 700), s(150, 705), s(250, 705), s(350, 700)];
    assert.equal(soakTrend(cycle).mibPer100Tx, 0);
    assert.equal(soakTrend([s(50, 700), s(150, 710), s(250, 720)]).mibPer100Tx, 10);
    const text = formatSoak({ method: 'cgroup-v1', transactions: 400, concurrency: 2, recycleAfterLeases: 100, failures: 0, recycled: 3, leftovers: 0, start: s(0, 650), cycle, end: s(400, 800), afterClose: { ...s(400, 60), processes: 0 } });
    assert.match(text, /0 MiB per 100 transactions/);
    assert.match(text, /\| cycle 4 \| 350 \| 700 \|/);
    assert.match(text, /\| after close \| 400 \| 60 \| 20 \| 150 \| 40 \| 900 \| 0 \|/);
  });
});
