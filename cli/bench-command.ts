import { InvalidArgumentError } from 'commander';
import { defaultConcurrency, readResourceLimits, transactionsPerCpu } from '../engine/index.ts';
import { exitCodes } from './exit-codes.ts';

export interface BenchCliOptions {
  transactions: number;
  /** One concurrency or a sweep, e.g. [1, 2, 4, 8]. */
  concurrency: number[];
  rounds: number;
  arms: string;
  soak?: number;
  collectors?: boolean;
  json?: boolean;
  /** false (from --no-cgroups): sample /proc even where cgroups are writable. */
  cgroups?: boolean;
}

/** Parse `--concurrency 1,2,4,8` (or one number) into distinct positive integers, in the order given. */
export function parseConcurrencyList(value: string): number[] {
  const parts = value.split(',').map((p) => p.trim());
  const numbers = parts.map(Number);
  if (parts.some((p) => !/^\d+$/.test(p)) || numbers.some((n) => n < 1)) {
    throw new InvalidArgumentError(`--concurrency: expected a positive integer or a comma-separated list of them (e.g. 1,2,4,8), got "${value}"`);
  }
  return [...new Set(numbers)];
}

/** An option combination commander cannot check by itself: say so and exit 2 (an error thrown from an action would be swallowed). */
function badInput(io: { stderr: (t: string) => void }, message: string): number {
  io.stderr(`error: ${message}\n(run with --help for usage)\n`);
  return exitCodes.badInput;
}

/**
 * `checkpoint bench`: the side-by-side benchmark. Its code lives in test/bench (it drives puppeteer-cluster
 * and hand-written baselines, which the product does not need), so it is loaded only when asked for.
 */
export async function runBenchCommand(options: BenchCliOptions, io: { stdout: (t: string) => void; stderr: (t: string) => void }): Promise<number> {
  try {
    await import('puppeteer-cluster');
  } catch {
    io.stderr('error: checkpoint bench runs from a checkout of the repository after `npm ci`: it lives in test/bench and drives puppeteer-cluster, a development dependency that an installed package does not have\n');
    return exitCodes.badInput;
  }
  const log = (line: string) => io.stderr(`${line}\n`);
  if (options.collectors === true) {
    const { runCollectorBench } = await import('../test/bench/collector-bench.ts');
    io.stdout(`${await runCollectorBench({ rounds: options.rounds, log })}\n`);
    return 0;
  }
  const bench = await import('../test/bench/pool-bench.ts');
  const { formatSoak, formatSweep, soakTrend } = await import('../test/bench/sweep-format.ts');
  if (options.soak !== undefined) {
    if (options.concurrency.length !== 1) return badInput(io, '--soak runs at one concurrency: give --concurrency a single number');
    const soak = await bench.runSoak(options.soak, options.concurrency[0] ?? 2, log, options.cgroups !== false);
    io.stdout(options.json === true ? `${JSON.stringify({ ...soak, trend: soakTrend(soak.cycle) }, null, 2)}\n` : `${formatSoak(soak)}\n`);
    return soak.failures === 0 && soak.afterClose.processes === 0 && soak.leftovers === 0 ? 0 : 1;
  }
  const arms = options.arms.split(',').map((a) => a.trim());
  for (const arm of arms) {
    if (!(bench.armNames as readonly string[]).includes(arm)) return badInput(io, `--arms: unknown arm "${arm}" (expected some of ${bench.armNames.join(', ')})`);
  }
  const typedArms = arms as (typeof bench.armNames)[number][];
  const result = await bench.runPoolSweep({ transactions: options.transactions, concurrencies: options.concurrency, rounds: options.rounds, arms: typedArms, cgroups: options.cgroups !== false, log });
  if (options.json === true) {
    const { bestOf, headlineRatios, memoryPerLane, saturationConcurrency } = await import('../test/bench/sweep.ts');
    const best = bestOf(result.points);
    io.stdout(
      `${JSON.stringify(
        {
          method: result.method,
          options: { transactions: options.transactions, concurrency: options.concurrency, rounds: options.rounds, arms },
          best: arms.map((arm) => ({ arm, point: best.get(arm), saturatesAt: saturationConcurrency(result.points, arm), memoryPerLane: memoryPerLane(result.points, arm) })),
          ratios: headlineRatios(result.points),
          points: result.points,
          records: result.records,
        },
        null,
        2,
      )}\n`,
    );
  } else {
    const limits = readResourceLimits();
    io.stdout(
      `${formatSweep({
        method: result.method,
        points: result.points,
        arms,
        concurrencies: options.concurrency,
        rounds: options.rounds,
        transactionsPerRun: result.transactionsPerRun,
        capacity: { cpus: limits.cpus, transactionsPerCpu, defaultConcurrency: defaultConcurrency(limits) },
      })}\n`,
    );
  }
  return result.points.every((p) => p.failures === 0 && p.leftovers === 0) ? 0 : 1;
}
