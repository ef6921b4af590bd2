// Collector overhead and timing accuracy (issue: measurements). Every configuration runs the same example
// transaction on the same warm pool, interleaved round by round so machine drift cancels; overhead is the
// ratio of wall time per transaction (runner + collectors, as a caller sees it) to timings-only. The sum of the
// steps' durationMs is reported beside it: capture must stay outside the steps' timed regions.
// Run: `npm run checkpoint -- bench --collectors` (see docs/benchmarks.md).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrowserPool } from '../../engine/browser/pool.ts';
import { ArtifactDirectory } from '../../engine/report/artifact-dir.ts';
import { runTransaction, type RunTransactionOptions } from '../../engine/runner/run-transaction.ts';
import { scriptSchema } from '../../engine/schema/script.ts';
import { startDemoSite } from '../../scripts/demo-site/server.ts';
import type { Collector } from '../../engine/collectors/collector.ts';
import { startPaintTimelineSite, type RecordedPaint } from '../fixtures/paint-timeline.ts';
import { startTimingServer } from '../fixtures/timing-server.ts';
import { loadBenchScript } from './arms.ts';

const configs = {
  'timings-only': { har: false, filmstrip: false, screenshots: 'off' },
  har: { har: true, filmstrip: false, screenshots: 'off' },
  filmstrip: { har: false, filmstrip: true, screenshots: 'off' },
  screenshots: { har: false, filmstrip: false, screenshots: 'all' },
  'all on': { har: true, filmstrip: true, screenshots: 'all' },
} as const satisfies Record<string, Pick<RunTransactionOptions, 'har' | 'filmstrip' | 'screenshots'>>;
type ConfigName = keyof typeof configs;

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0;
}

export async function runCollectorBench(options: { rounds: number; log: (line: string) => void }): Promise<string> {
  const site = await startDemoSite({ port: 0 });
  const timing = await startTimingServer();
  const paints = await startPaintTimelineSite();
  const script = await loadBenchScript();
  const pool = new BrowserPool({ browsers: 1, contextsPerBrowser: 6 });
  const dir = await mkdtemp(join(tmpdir(), 'checkpoint-collector-bench-'));
  const wallMs = new Map<ConfigName, number[]>();
  const bytes = new Map<ConfigName, number[]>();
  const stepMs = new Map<ConfigName, number[]>();
  const lines: string[] = [];
  try {
    await pool.warm();
    const names = Object.keys(configs) as ConfigName[];
    for (let round = 0; round < options.rounds; round++) {
      for (const name of names.map((_, i) => names[(i + round) % names.length] as ConfigName)) {
        const out = join(dir, `${name.replace(' ', '-')}-${round}`);
        const started = performance.now();
        const { result } = await runTransaction({ script, browser: pool, variables: { baseUrl: site.url }, secret: () => 'demo-password', artifacts: new ArtifactDirectory(out), ...configs[name] });
        const elapsedMs = performance.now() - started;
        if (result.status !== 'passed') options.log(`${name}: run ${round + 1} ${result.status}`);
        wallMs.set(name, [...(wallMs.get(name) ?? []), elapsedMs]);
        bytes.set(name, [...(bytes.get(name) ?? []), result.artifacts.reduce((sum, a) => sum + a.sizeBytes, 0)]);
        stepMs.set(name, [...(stepMs.get(name) ?? []), result.steps.reduce((sum, s) => sum + s.durationMs, 0)]);
      }
      options.log(`collectors: round ${round + 1}/${options.rounds}`);
    }
    const base = percentile(wallMs.get('timings-only') ?? [], 50);
    const baseSteps = percentile(stepMs.get('timings-only') ?? [], 50);
    lines.push(
      '| configuration | median wall ms per transaction | ratio to timings-only | median Σ step durationMs (ratio) | median artifact KB per transaction |',
      '| --- | --- | --- | --- | --- |',
    );
    for (const name of names) {
      const median = percentile(wallMs.get(name) ?? [], 50);
      const steps = percentile(stepMs.get(name) ?? [], 50);
      lines.push(`| ${name} | ${Math.round(median)} | ${(median / base).toFixed(2)} | ${Math.round(steps)} (${(steps / baseSteps).toFixed(2)}) | ${Math.round(percentile(bytes.get(name) ?? [], 50) / 1024)} |`);
    }

    // TTFB error against a known 200 ms server wait, alone and with the pool full.
    const ttfbScript = scriptSchema.parse({ name: 'TTFB', settings: { har: false }, steps: [{ name: 'Open', actions: [{ type: 'navigate', url: `${timing.url}/ttfb?ms=200` }] }] });
    const errors = async (concurrency: number, count: number) => {
      const out: number[] = [];
      for (let done = 0; done < count; done += concurrency) {
        const batch = await Promise.all(Array.from({ length: concurrency }, () => runTransaction({ script: ttfbScript, browser: pool, secret: () => undefined })));
        for (const { result } of batch) {
          const ttfb = result.steps[0]?.navigation?.ttfbMs;
          if (ttfb !== undefined) out.push(ttfb - 200);
        }
      }
      return out;
    };
    lines.push('', '| TTFB vs a 200 ms server wait | runs | median error ms | p95 abs error ms |', '| --- | --- | --- | --- |');
    for (const concurrency of [1, 4]) {
      const values = await errors(concurrency, 40);
      lines.push(`| concurrency ${concurrency} | ${values.length} | ${percentile(values, 50).toFixed(1)} | ${percentile(values.map(Math.abs), 95).toFixed(1)} |`);
    }

    // Filmstrip accuracy against painted ground truth (the tests only hold it to the frames Chromium delivered):
    // blocks enter the DOM 100, 400 and 900 ms after navigation start; the page records when.
    const truths: RecordedPaint[][] = [];
    const truth: Collector = {
      name: 'paint-truth',
      async afterStep(ctx) {
        truths.push(await ctx.currentPage().evaluate(() => (window as unknown as { __paints?: RecordedPaint[] }).__paints ?? []));
        return undefined;
      },
    };
    const paintScript = scriptSchema.parse({
      name: 'Paint timeline',
      settings: { har: false, filmstrip: true },
      steps: [{ name: 'Load', actions: [{ type: 'navigate', url: `${paints.url}/timeline?at=100,400,900` }, { type: 'waitForElement', selector: '#block-3' }] }],
    });
    const firstChange: number[] = [];
    const complete: number[] = [];
    for (let run = 0; run < 20; run++) {
      truths.length = 0;
      const { result } = await runTransaction({ script: paintScript, browser: pool, secret: () => undefined, filmstrip: true, collectors: [truth] });
      const metrics = result.steps[0]?.visualMetrics;
      const red = truths[0]?.find((p) => p.name === 'red')?.domMs;
      const blue = truths[0]?.find((p) => p.name === 'blue')?.domMs;
      if (metrics === undefined || red === undefined || blue === undefined) continue;
      firstChange.push(metrics.firstVisualChangeMs - red);
      complete.push(metrics.visuallyComplete95Ms - blue);
    }
    lines.push('', '| filmstrip vs painted truth (ms after the DOM change) | runs | median | p95 | max |', '| --- | --- | --- | --- | --- |');
    for (const [label, values] of [
      ['first visual change', firstChange],
      ['visually complete 95 %', complete],
    ] as const) {
      lines.push(`| ${label} | ${values.length} | ${percentile(values, 50).toFixed(1)} | ${percentile(values, 95).toFixed(1)} | ${Math.max(...values).toFixed(1)} |`);
    }
    return lines.join('\n');
  } finally {
    await pool.close();
    await site.close();
    await timing.close();
    await paints.close();
    await rm(dir, { recursive: true, force: true });
  }
}
