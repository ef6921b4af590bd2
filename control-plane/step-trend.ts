import { html, raw, type SafeHtml } from '../engine/index.ts';

export interface StepDurations {
  runId: string;
  dispatchedAt: string;
  steps: readonly { name: string; durationMs: number }[];
}

/** Distinct in light and dark mode; a step beyond the palette reuses it (its legend entry says which). */
const palette = ['#2f6690', '#e07a2f', '#3a9a6a', '#9b59b6', '#c0392b', '#d4a017', '#16a2b8', '#7f8c8d'];

/**
 * Per-step durations of recent runs (oldest left) as stacked bars: one bar per run, one segment per step (by
 * position; the legend names them as the newest run does), so a step that got slower stands out. Only runs that
 * passed or warned should be given: a failed run's steps stop early and would read as a fast run.
 */
export function stepDurationChart(runs: readonly StepDurations[]): SafeHtml {
  const points = runs.filter((run) => run.steps.length > 0);
  if (points.length === 0) return html`<p class="muted small">No step durations yet.</p>`;
  const width = 1080;
  const height = 150;
  const left = 64;
  const right = 12;
  const top = 12;
  const bottom = 22;
  const totals = points.map((run) => run.steps.reduce((sum, step) => sum + step.durationMs, 0));
  const max = Math.max(...totals, 1);
  const slot = (width - left - right) / points.length;
  const barWidth = Math.max(2, Math.min(28, slot * 0.7));
  const scale = (height - top - bottom) / max;
  const bars = points.map((run, index) => {
    const x = left + index * slot + (slot - barWidth) / 2;
    let y = height - bottom;
    return html`<g class="step-bar" data-run="${run.runId}">${run.steps.map((step, stepIndex) => {
      const segment = step.durationMs * scale;
      y -= segment;
      return html`<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${barWidth.toFixed(1)}" height="${segment.toFixed(1)}" fill="${palette[stepIndex % palette.length] ?? '#888'}"><title>${stepIndex + 1}. ${step.name} · ${Math.round(step.durationMs)} ms · ${run.dispatchedAt}</title></rect>`;
    })}</g>`;
  });
  const newest = points[points.length - 1]?.steps ?? [];
  const maxLabel = max >= 1000 ? `${(max / 1000).toFixed(max >= 10_000 ? 1 : 2)} s` : `${Math.round(max)} ms`;
  const axis = raw(
    `<line x1="${left}" x2="${width - right}" y1="${height - bottom}" y2="${height - bottom}" stroke="var(--border)"/><line x1="${left}" x2="${width - right}" y1="${top}" y2="${top}" stroke="var(--border)" stroke-dasharray="3 4"/>`,
  );
  const labels = html`<text x="${left - 10}" y="${top + 4}" text-anchor="end" font-size="12" fill="var(--muted)">${maxLabel}</text><text x="${left - 10}" y="${height - bottom + 4}" text-anchor="end" font-size="12" fill="var(--muted)">0</text>`;
  const label = `Step durations of the last ${points.length} passing runs, stacked; longest ${maxLabel}`;
  const legend = html`<ul class="legend">${newest.map(
    (step, index) => html`<li><span class="swatch" style="background:${palette[index % palette.length] ?? '#888'}"></span>${index + 1}. ${step.name}</li>`,
  )}</ul>`;
  return html`<svg class="chart steps-chart" viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="${label}"><title>${label}</title>${axis}${labels}${bars}</svg>${legend}`;
}
