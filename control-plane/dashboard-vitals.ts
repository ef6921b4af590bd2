import { formatDurationMs, html, raw, type RunResult, type SafeHtml } from '../engine/index.ts';
import { percentile } from './dashboard-ranges.ts';

/** What the navigation and vitals trends read of one step of one run. */
export interface StepVitals {
  name: string;
  ttfbMs?: number;
  fcpMs?: number;
  lcpMs?: number;
  cls?: number;
  inpMs?: number;
}

export interface RunVitals {
  runId: string;
  dispatchedAt: string;
  steps: readonly StepVitals[];
}

type MetricKey = Exclude<keyof StepVitals, 'name'>;

const metrics: readonly { key: MetricKey; label: string; title: string }[] = [
  { key: 'ttfbMs', label: 'TTFB', title: 'Time to first byte of the step`s page load (navigation timing)' },
  { key: 'fcpMs', label: 'FCP', title: 'First Contentful Paint' },
  { key: 'lcpMs', label: 'LCP', title: 'Largest Contentful Paint' },
  { key: 'cls', label: 'CLS', title: 'Cumulative Layout Shift (no unit)' },
  { key: 'inpMs', label: 'INP', title: 'Interaction to Next Paint' },
];

/** The navigation timing and web vitals of each step of a result (by position; a step without them has none). */
export function vitalsOf(result: Pick<RunResult, 'steps'>): StepVitals[] {
  return result.steps.map((step) => {
    const vitals: StepVitals = { name: step.name };
    if (step.navigation !== undefined) vitals.ttfbMs = step.navigation.ttfbMs;
    if (step.vitals?.fcpMs !== undefined) vitals.fcpMs = step.vitals.fcpMs;
    if (step.vitals?.lcpMs !== undefined) vitals.lcpMs = step.vitals.lcpMs;
    if (step.vitals?.cls !== undefined) vitals.cls = step.vitals.cls;
    if (step.vitals?.inpMs !== undefined) vitals.inpMs = step.vitals.inpMs;
    return vitals;
  });
}

function formatValue(key: MetricKey, value: number | undefined): string {
  if (value === undefined) return '—';
  return key === 'cls' ? value.toFixed(3) : formatDurationMs(value);
}

/** A small line of values, oldest left, scaled from 0 to the largest. */
function sparkline(values: readonly number[], label: string): SafeHtml {
  const width = 120;
  const height = 24;
  const pad = 2;
  const max = Math.max(...values, Number.MIN_VALUE);
  const step = values.length > 1 ? (width - 2 * pad) / (values.length - 1) : 0;
  const points = values.map((value, index) => `${(values.length > 1 ? pad + index * step : width / 2).toFixed(1)},${(height - pad - (value / max) * (height - 2 * pad)).toFixed(1)}`);
  const last = points[points.length - 1]?.split(',') ?? ['0', '0'];
  return html`<svg class="trend" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${label}"><title>${label}</title>${raw(
    `<polyline points="${points.join(' ')}" fill="none" stroke="var(--accent)" stroke-width="1.4" stroke-linejoin="round" stroke-linecap="round"/><circle cx="${last[0] ?? '0'}" cy="${last[1] ?? '0'}" r="2.2" fill="var(--accent)"/>`,
  )}</svg>`;
}

/**
 * Navigation timing (TTFB) and web vitals (FCP, LCP, CLS, INP) of each step over the runs given (oldest first):
 * one row per step and measurement that any run has, with the median, the newest value and a small trend line.
 * Steps are matched by position and named as the newest run names them (like the step chart).
 */
export function vitalsTable(runs: readonly RunVitals[]): SafeHtml {
  const stepCount = Math.max(0, ...runs.map((run) => run.steps.length));
  const rows: SafeHtml[] = [];
  for (let index = 0; index < stepCount; index++) {
    const name = [...runs].reverse().find((run) => run.steps[index] !== undefined)?.steps[index]?.name ?? `step ${index + 1}`;
    for (const metric of metrics) {
      const values = runs.map((run) => run.steps[index]?.[metric.key]).filter((value): value is number => value !== undefined);
      if (values.length === 0) continue;
      const sorted = [...values].sort((a, b) => a - b);
      const median = percentile(sorted, 0.5);
      const newest = values[values.length - 1];
      const label = `${metric.label} of step ${index + 1} over ${values.length} runs: median ${formatValue(metric.key, median)}, newest ${formatValue(metric.key, newest)}, highest ${formatValue(metric.key, sorted[sorted.length - 1])}`;
      rows.push(html`<tr data-step="${index + 1}" data-metric="${metric.label}">
<td>${index + 1}. ${name}</td>
<td><abbr title="${metric.title}">${metric.label}</abbr></td>
<td class="num">${formatValue(metric.key, median)}</td>
<td class="num">${formatValue(metric.key, newest)}</td>
<td class="num small muted">${values.length}</td>
<td class="spark">${sparkline(values, label)}</td>
</tr>`);
    }
  }
  if (rows.length === 0) return html`<div class="table-card"><div class="card empty" style="border:none">No navigation timings or web vitals in the runs of this range.</div></div>`;
  return html`<div class="table-card"><table class="vitals">
<thead><tr><th>Step</th><th>Measure</th><th class="num">Median</th><th class="num">Newest</th><th class="num">Runs</th><th>Trend</th></tr></thead>
<tbody>${rows}</tbody></table></div>`;
}
