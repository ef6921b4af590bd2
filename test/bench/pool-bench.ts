// Side-by-side benchmark of the worker pool (issue: the worker pool). Every arm runs the same 5-step
// transaction against the same local demo site at the same concurrency; rounds alternate the arm order so
// machine drift cancels. Run: `npm run checkpoint -- bench` (see docs/benchmarks.md).
import { startDemoSite } from '../../scripts/demo-site/server.ts';
import { BrowserPool } from '../../engine/browser/pool.ts';
import { Scheduler } from '../../engine/runner/scheduler.ts';
import { armNames, loadBenchScript, startArm, type ArmName, type ArmRun } from './arms.ts';
import { cpuSeconds, openFiles, RssSampler, tempBytes, treeProcessCount, treeRssBytes } from './resources.ts';

export interface BenchOptions {
  transactions: number;
  concurrency: number;
  rounds: number;
  arms: readonly ArmName[];
  log: (line: string) => void;
}

export interface ArmSummary {
  arm: ArmName;
  transactions: number;
  failures: number;
  transactionsPerMin: number;
  p50Ms: number;
  p95Ms: number;
  leaseWaitP50Ms: number;
  cpuSecondsPerTx: number;
  peakRssMiB: number;
}

const demoPassword = 'demo-password';

function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0;
}

const round1 = (n: number) => Math.round(n * 10) / 10;

export async function runPoolBench(options: BenchOptions): Promise<ArmSummary[]> {
  const site = await startDemoSite({ port: 0 });
  const script = await loadBenchScript();
  const totals = new Map<ArmName, { runs: ArmRun[]; wallMs: number; cpuS: number; peakRss: number }>();
  try {
    for (let round = 0; round < options.rounds; round++) {
      // Rotate so each arm runs first, second, … equally often.
      const order = options.arms.map((_, i) => options.arms[(i + round) % options.arms.length] as ArmName);
      for (const name of order) {
        const ctx = { baseUrl: site.url, password: demoPassword, transactions: options.transactions, concurrency: options.concurrency };
        const sampler = new RssSampler();
        sampler.start();
        const cpuBefore = cpuSeconds();
        const arm = await startArm(name, ctx, script);
        const started = performance.now();
        const run = await arm.run();
        const wallMs = performance.now() - started;
        await arm.close();
        const cpuS = cpuSeconds() - cpuBefore;
        const peakRss = sampler.stop();
        const entry = totals.get(name) ?? { runs: [], wallMs: 0, cpuS: 0, peakRss: 0 };
        entry.runs.push(run);
        entry.wallMs += wallMs;
        entry.cpuS += cpuS;
        entry.peakRss = Math.max(entry.peakRss, peakRss);
        totals.set(name, entry);
        options.log(`round ${round + 1}/${options.rounds} ${name.padEnd(18)} ${(options.transactions / (wallMs / 60_000)).toFixed(1).padStart(6)} tx/min  ${run.failures.length} failed${run.failures[0] === undefined ? '' : ` (${run.failures[0]})`}`);
      }
    }
  } finally {
    await site.close();
  }
  return options.arms.map((arm) => {
    const entry = totals.get(arm);
    const runs = entry?.runs ?? [];
    const txMs = runs.flatMap((r) => r.transactionMs);
    const count = txMs.length;
    return {
      arm,
      transactions: count,
      failures: runs.reduce((n, r) => n + r.failures.length, 0),
      transactionsPerMin: round1(count / ((entry?.wallMs ?? 1) / 60_000)),
      p50Ms: Math.round(percentile(txMs, 50)),
      p95Ms: Math.round(percentile(txMs, 95)),
      leaseWaitP50Ms: round1(percentile(runs.flatMap((r) => r.leaseWaitMs), 50)),
      cpuSecondsPerTx: Math.round(((entry?.cpuS ?? 0) / Math.max(1, count)) * 1000) / 1000,
      peakRssMiB: Math.round((entry?.peakRss ?? 0) / 1024 ** 2),
    };
  });
}

export function formatPoolBench(summaries: readonly ArmSummary[], options: Pick<BenchOptions, 'transactions' | 'concurrency' | 'rounds'>): string {
  const header = ['arm', 'tx', 'failed', 'tx/min', 'p50 ms', 'p95 ms', 'lease wait p50 ms', 'CPU s/tx', 'peak RSS MiB'];
  const rows = summaries.map((s) => [s.arm, s.transactions, s.failures, s.transactionsPerMin, s.p50Ms, s.p95Ms, s.leaseWaitP50Ms, s.cpuSecondsPerTx, s.peakRssMiB].map(String));
  const lines = [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
  const ours = summaries.find((s) => s.arm === 'ours');
  if (ours !== undefined) {
    lines.push('', `Ratios, ours ÷ arm (${options.rounds} rounds × ${options.transactions} transactions, concurrency ${options.concurrency}):`, '');
    lines.push('| arm | tx/min ratio | p50 time ratio | CPU/tx ratio |', '| --- | --- | --- | --- |');
    for (const other of summaries) {
      if (other.arm === 'ours') continue;
      const ratio = (a: number, b: number) => (b === 0 ? 'n/a' : (a / b).toFixed(2));
      lines.push(`| ${other.arm} | ${ratio(ours.transactionsPerMin, other.transactionsPerMin)} | ${ratio(ours.p50Ms, other.p50Ms)} | ${ratio(ours.cpuSecondsPerTx, other.cpuSecondsPerTx)} |`);
    }
  }
  return lines.join('\n');
}

export interface SoakSnapshot {
  rssMiB: number;
  processes: number;
  zombies: number;
  openFiles: number;
  tempKiB: number;
}

function snapshot(): SoakSnapshot {
  const { processes, zombies } = treeProcessCount();
  return { rssMiB: Math.round(treeRssBytes() / 1024 ** 2), processes, zombies, openFiles: openFiles(), tempKiB: Math.round(tempBytes() / 1024) };
}

/** `--soak N`: N transactions through our pool; resources at start (warm), end (still warm) and after close. */
export async function runSoak(transactions: number, concurrency: number, log: (line: string) => void): Promise<{ start: SoakSnapshot; end: SoakSnapshot; afterClose: SoakSnapshot; failures: number; recycled: number }> {
  const site = await startDemoSite({ port: 0 });
  const script = await loadBenchScript();
  const pool = new BrowserPool({ browsers: 1, contextsPerBrowser: concurrency + 1 });
  const scheduler = new Scheduler({ leases: pool, concurrency, maxQueued: concurrency * 4 });
  let failures = 0;
  try {
    await pool.warm();
    // A short warm-up so the first snapshot is of a warm process, not of an idle one.
    for (let i = 0; i < concurrency * 2; i++) await scheduler.submit({ script, variables: { baseUrl: site.url }, secret: () => demoPassword });
    const start = snapshot();
    log(`soak start: ${JSON.stringify(start)}`);
    let done = 0;
    const inFlight = new Set<Promise<void>>();
    for (let i = 0; i < transactions; i++) {
      while (inFlight.size >= concurrency * 2) await Promise.race(inFlight);
      const job: Promise<void> = scheduler
        .submit({ script, variables: { baseUrl: site.url }, secret: () => demoPassword })
        .then(({ result }) => {
          if (result.status !== 'passed') failures++;
        }, () => void failures++)
        .finally(() => {
          inFlight.delete(job);
          done++;
          if (done % 100 === 0) log(`soak: ${done}/${transactions} (${failures} failed, RSS ${Math.round(treeRssBytes() / 1024 ** 2)} MiB)`);
        });
      inFlight.add(job);
    }
    await Promise.all(inFlight);
    const end = snapshot();
    const recycled = Object.values(pool.stats.browsersRetired).reduce((a, b) => a + b, 0);
    await pool.close();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const afterClose = snapshot();
    return { start, end, afterClose, failures, recycled };
  } finally {
    await pool.close();
    await site.close();
  }
}

export { armNames };
