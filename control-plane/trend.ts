import { html, raw, type SafeHtml } from '../engine/index.ts';
import type { RunRecord } from './store.ts';

const colors: Record<string, string> = { passed: 'var(--pass)', warning: 'var(--warn)', failed: 'var(--fail)', error: 'var(--fail)', lost: 'var(--muted)' };

/**
 * A small inline SVG of a monitor's recent durations (oldest left): a line through the runs that reported a
 * duration, one dot per run coloured by outcome. Runs still in flight are left out.
 */
export function durationTrend(runs: readonly RunRecord[], options: { width?: number; height?: number } = {}): SafeHtml {
  const width = options.width ?? 132;
  const height = options.height ?? 30;
  const points = [...runs]
    .reverse()
    .filter((run) => run.durationMs !== undefined)
    .slice(-20);
  if (points.length === 0) return html`<span class="muted small">no runs yet</span>`;
  const max = Math.max(...points.map((run) => run.durationMs ?? 0), 1);
  const pad = 3;
  const step = points.length > 1 ? (width - 2 * pad) / (points.length - 1) : 0;
  const coords = points.map((run, index) => {
    const x = points.length > 1 ? pad + index * step : width / 2;
    const y = height - pad - ((run.durationMs ?? 0) / max) * (height - 2 * pad);
    return { x: Number(x.toFixed(1)), y: Number(y.toFixed(1)), run };
  });
  const line = coords.map((point) => `${point.x},${point.y}`).join(' ');
  const dots = coords
    .map((point) => {
      const status = point.run.status === 'lost' ? 'lost' : (point.run.resultStatus ?? point.run.status);
      const fill = colors[status] ?? 'var(--muted)';
      return `<circle cx="${point.x}" cy="${point.y}" r="2.2" fill="${fill}"/>`;
    })
    .join('');
  const label = `Duration of the last ${points.length} runs, longest ${Math.round(max)} ms`;
  return html`<svg class="trend" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${label}"><title>${label}</title>${raw(
    `<polyline points="${line}" fill="none" stroke="var(--accent)" stroke-width="1.4" stroke-linejoin="round" stroke-linecap="round" opacity="0.75"/>${dots}`,
  )}</svg>`;
}

/**
 * The larger chart of the monitor page: durations of up to `maxPoints` runs (oldest left) with a zero line, the
 * longest duration as the scale, and one dot per run (hover for its duration and outcome). Scales to its container.
 */
export function durationChart(runs: readonly RunRecord[], maxPoints = 50): SafeHtml {
  const points = [...runs]
    .reverse()
    .filter((run) => run.durationMs !== undefined)
    .slice(-maxPoints);
  if (points.length === 0) return html`<p class="muted small">No durations yet.</p>`;
  const width = 1080;
  const height = 130;
  const left = 64;
  const right = 12;
  const top = 14;
  const bottom = 22;
  const max = Math.max(...points.map((run) => run.durationMs ?? 0), 1);
  const step = points.length > 1 ? (width - left - right) / (points.length - 1) : 0;
  const coords = points.map((run, index) => ({
    x: Number((points.length > 1 ? left + index * step : (left + width - right) / 2).toFixed(1)),
    y: Number((height - bottom - ((run.durationMs ?? 0) / max) * (height - top - bottom)).toFixed(1)),
    run,
  }));
  const maxLabel = max >= 1000 ? `${(max / 1000).toFixed(max >= 10_000 ? 1 : 2)} s` : `${Math.round(max)} ms`;
  const grid = [0, 0.5, 1]
    .map((fraction) => {
      const y = (height - bottom - fraction * (height - top - bottom)).toFixed(1);
      return `<line x1="${left}" x2="${width - right}" y1="${y}" y2="${y}" stroke="var(--border)" stroke-width="1"${fraction === 0 ? '' : ' stroke-dasharray="3 4"'}/>`;
    })
    .join('');
  const line = `<polyline points="${coords.map((point) => `${point.x},${point.y}`).join(' ')}" fill="none" stroke="var(--accent)" stroke-width="1.6" stroke-linejoin="round" stroke-linecap="round" opacity="0.8"/>`;
  const dots = coords.map((point) => {
    const status = point.run.status === 'lost' ? 'lost' : (point.run.resultStatus ?? point.run.status);
    const fill = colors[status] ?? 'var(--muted)';
    return html`<circle cx="${point.x}" cy="${point.y}" r="3.4" fill="${fill}"><title>${status} · ${Math.round(point.run.durationMs ?? 0)} ms · ${point.run.dispatchedAt}</title></circle>`;
  });
  const labels = html`<text x="${left - 10}" y="${top + 4}" text-anchor="end" font-size="12" fill="var(--muted)">${maxLabel}</text><text x="${left - 10}" y="${height - bottom + 4}" text-anchor="end" font-size="12" fill="var(--muted)">0</text><text x="${left}" y="${height - 4}" font-size="12" fill="var(--muted)">oldest</text><text x="${width - right}" y="${height - 4}" text-anchor="end" font-size="12" fill="var(--muted)">latest</text>`;
  const label = `Duration of the last ${points.length} runs, longest ${maxLabel}`;
  return html`<svg class="chart" viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="${label}"><title>${label}</title>${raw(grid)}${labels}${raw(line)}${dots}</svg>`;
}
