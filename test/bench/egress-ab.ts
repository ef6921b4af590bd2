/**
 * The egress guard's cost, measured side by side in one process: the bench transaction (login and order
 * search on the demo site) through one warm pool, alternating guard on and off (ABBA order, so drift and
 * warm-up hit both arms alike). Reports per arm the transaction time, the Node CPU per transaction and the
 * navigation timings the product reports, and the on/off ratios.
 *
 *   ./node_modules/.bin/node test/bench/egress-ab.ts [transactions per arm, default 40] [concurrency, default 1]
 */
import { BrowserPool } from '../../engine/browser/pool.ts';
import { runTransaction } from '../../engine/runner/run-transaction.ts';
import type { RunResult } from '../../engine/schema/result.ts';
import { startDemoSite } from '../../scripts/demo-site/server.ts';
import { loadBenchScript } from './arms.ts';

const perArm = Number(process.argv[2] ?? 40);
const concurrency = Number(process.argv[3] ?? 1);

interface Sample {
  durationMs: number;
  /** Sum of the steps' timed regions: what the report shows per step. */
  stepsMs: number;
  cpuMs: number;
  ttfbMs: number[];
  connectMs: number[];
  requests: number;
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
};
const mean = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);

function sampleOf(result: RunResult, cpuMs: number): Sample {
  if (result.status !== 'passed') throw new Error(`bench transaction ${result.status}: ${result.steps.find((s) => s.error)?.error?.message ?? ''}`);
  const navigations = result.steps.flatMap((step) => (step.navigation === undefined ? [] : [step.navigation]));
  return {
    durationMs: result.durationMs,
    stepsMs: result.steps.reduce((sum, step) => sum + step.durationMs, 0),
    cpuMs,
    ttfbMs: navigations.map((n) => n.ttfbMs),
    connectMs: navigations.map((n) => n.connectMs),
    requests: result.steps.reduce((sum, step) => sum + (step.requests?.count ?? 0), 0),
  };
}

const site = await startDemoSite({ port: 0 });
const pool = new BrowserPool({ browsers: 1, contextsPerBrowser: concurrency + 1, recycleAfterLeases: 1_000_000, launchStaggerMs: 0 });
await pool.warm();
const script = await loadBenchScript();
const samples: Record<'on' | 'off', Sample[]> = { on: [], off: [] };

async function batch(arm: 'on' | 'off'): Promise<void> {
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      const cpu = process.cpuUsage();
      const { result } = await runTransaction({ script, browser: pool, variables: { baseUrl: site.url }, secret: () => 'demo-password', ...(arm === 'off' ? { egress: 'off' as const } : {}) });
      const used = process.cpuUsage(cpu);
      // With concurrency > 1 the process CPU is shared: each sample gets its share.
      samples[arm].push(sampleOf(result, (used.user + used.system) / 1000 / concurrency));
    }),
  );
}

try {
  // Warm-up of both arms, not recorded.
  await batch('on');
  await batch('off');
  samples.on.length = 0;
  samples.off.length = 0;
  for (let round = 0; samples.on.length < perArm; round++) {
    const order: ('on' | 'off')[] = round % 2 === 0 ? ['on', 'off', 'off', 'on'] : ['off', 'on', 'on', 'off'];
    for (const arm of order) await batch(arm);
  }
  const row = (arm: 'on' | 'off') => {
    const s = samples[arm];
    return {
      arm: `guard ${arm}`,
      transactions: s.length,
      'median transaction ms': median(s.map((x) => x.durationMs)).toFixed(1),
      'mean transaction ms': mean(s.map((x) => x.durationMs)).toFixed(1),
      'median steps ms': median(s.map((x) => x.stepsMs)).toFixed(1),
      'median Node CPU ms/tx': median(s.map((x) => x.cpuMs)).toFixed(1),
      'median TTFB ms': median(s.flatMap((x) => x.ttfbMs)).toFixed(2),
      'median connect ms': median(s.flatMap((x) => x.connectMs)).toFixed(2),
      'requests/tx': mean(s.map((x) => x.requests)).toFixed(1),
    };
  };
  console.table([row('on'), row('off')]);
  const ratio = (pick: (s: Sample) => number) => median(samples.on.map(pick)) / median(samples.off.map(pick));
  console.log(`on/off ratios (concurrency ${concurrency}, ${perArm} transactions per arm): transaction time ${ratio((s) => s.durationMs).toFixed(3)}, steps' timed regions ${ratio((s) => s.stepsMs).toFixed(3)}, Node CPU ${ratio((s) => s.cpuMs).toFixed(3)}`);
} finally {
  await pool.close();
  await site.close();
}
