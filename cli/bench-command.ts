import { InvalidArgumentError } from 'commander';

export interface BenchCliOptions {
  transactions: number;
  concurrency: number;
  rounds: number;
  arms: string;
  soak?: number;
  collectors?: boolean;
}

/**
 * `checkpoint bench`: the side-by-side benchmark. Its code lives in test/bench (it drives puppeteer-cluster
 * and hand-written baselines, which the product does not need), so it is loaded only when asked for.
 */
export async function runBenchCommand(options: BenchCliOptions, io: { stdout: (t: string) => void; stderr: (t: string) => void }): Promise<number> {
  const bench = await import('../test/bench/pool-bench.ts');
  const log = (line: string) => io.stderr(`${line}\n`);
  if (options.collectors === true) {
    const { runCollectorBench } = await import('../test/bench/collector-bench.ts');
    io.stdout(`${await runCollectorBench({ rounds: options.rounds, log })}\n`);
    return 0;
  }
  if (options.soak !== undefined) {
    const soak = await bench.runSoak(options.soak, options.concurrency, log);
    const drift = soak.start.rssMiB === 0 ? 0 : ((soak.end.rssMiB - soak.start.rssMiB) / soak.start.rssMiB) * 100;
    io.stdout(`${JSON.stringify({ transactions: options.soak, ...soak, rssDriftPercent: Math.round(drift * 10) / 10 }, null, 2)}\n`);
    return soak.failures === 0 && soak.afterClose.processes === 0 ? 0 : 1;
  }
  const arms = options.arms.split(',').map((a) => a.trim());
  for (const arm of arms) {
    if (!(bench.armNames as readonly string[]).includes(arm)) throw new InvalidArgumentError(`--arms: unknown arm "${arm}" (expected some of ${bench.armNames.join(', ')})`);
  }
  const summaries = await bench.runPoolBench({ ...options, arms: arms as (typeof bench.armNames)[number][], log });
  io.stdout(`${bench.formatPoolBench(summaries, options)}\n`);
  return summaries.every((s) => s.failures === 0) ? 0 : 1;
}
