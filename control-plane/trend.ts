import { html, raw, type SafeHtml } from '../engine/index.ts';
import type { RunRecord } from './store.ts';

const colors: Record<string, string> = { passed: 'var(--pass)', warning: 'var(--warn)', failed: 'var(--fail)', error: 'var(--fail)', lost: 'var(--muted)' };

/** Runs that failed (or were lost) are drawn as failures at the bottom of a chart, never as slow runs. */
function isFailure(status: string): boolean {
  return status === 'failed' || status === 'error' || status === 'lost';
}

function statusOf(run: RunRecord): string {
  return run.status === 'lost' ? 'lost' : (run.resultStatus ?? run.status);
}

/**
 * A small inline SVG of a monitor's recent durations (oldest left): a line through the runs that passed or
 * warned, one dot per run coloured by outcome; failed and lost runs sit on the zero line (a failure, not a slow
 * run). Runs still in flight are left out.
 */
export function durationTrend(runs: readonly RunRecord[], options: { width?: number; height?: number } = {}): SafeHtml {
  const width = options.width ?? 132;
  const height = options.height ?? 30;
  const points = [...runs]
    .reverse()
    .filter((run) => run.durationMs !== undefined || isFailure(statusOf(run)))
    .slice(-20);
  if (points.length === 0) return html`<span class="muted small">no runs yet</span>`;
  const max = Math.max(...points.filter((run) => !isFailure(statusOf(run))).map((run) => run.durationMs ?? 0), 1);
  const pad = 3;
  const step = points.length > 1 ? (width - 2 * pad) / (points.length - 1) : 0;
  const coords = points.map((run, index) => {
    const status = statusOf(run);
    const x = points.length > 1 ? pad + index * step : width / 2;
    const y = isFailure(status) ? height - pad : height - pad - ((run.durationMs ?? 0) / max) * (height - 2 * pad);
    return { x: Number(x.toFixed(1)), y: Number(y.toFixed(1)), status };
  });
  const line = coords
    .filter((point) => !isFailure(point.status))
    .map((point) => `${point.x},${point.y}`)
    .join(' ');
  const dots = coords.map((point) => `<circle cx="${point.x}" cy="${point.y}" r="${isFailure(point.status) ? 2.8 : 2.2}" fill="${colors[point.status] ?? 'var(--muted)'}"/>`).join('');
  const failures = coords.filter((point) => isFailure(point.status)).length;
  const label = `Duration of the last ${points.length} runs, longest passing ${Math.round(max)} ms${failures === 0 ? '' : `, ${failures} failed or lost`}`;
  return html`<svg class="trend" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${label}"><title>${label}</title>${raw(
    `<polyline points="${line}" fill="none" stroke="var(--accent)" stroke-width="1.4" stroke-linejoin="round" stroke-linecap="round" opacity="0.75"/>${dots}`,
  )}</svg>`;
}

/** `09:30` within a day of `now`'s range, else `05-14 09:30` (UTC, like every time on the dashboard). */
function axisTime(iso: string, spanMs: number): string {
  const text = new Date(iso).toISOString();
  return spanMs <= 86_400_000 ? text.slice(11, 16) : `${text.slice(5, 10)} ${text.slice(11, 16)}`;
}

/**
 * The larger chart of the monitor page: durations of up to `maxPoints` runs (oldest left, dispatch times on the
 * axis) with a zero line and the longest passing duration as the scale. Runs that passed or warned are dots on a
 * line; failed, errored and lost runs are drawn as failures — a red (grey when lost) band down the chart and a
 * mark on the zero line — not at the duration they took to fail, which would read as slowness. Runs still in
 * flight are left out. Scales to its container.
 */
export function durationChart(runs: readonly RunRecord[], maxPoints = 50): SafeHtml {
  const points = [...runs]
    .reverse()
    .filter((run) => run.durationMs !== undefined || isFailure(statusOf(run)))
    .slice(-maxPoints);
  if (points.length === 0) return html`<p class="muted small">No durations yet.</p>`;
  const width = 1080;
  const height = 130;
  const left = 64;
  const right = 12;
  const top = 14;
  const bottom = 22;
  const fine = points.filter((run) => !isFailure(statusOf(run)));
  const max = Math.max(...fine.map((run) => run.durationMs ?? 0), 1);
  const step = points.length > 1 ? (width - left - right) / (points.length - 1) : 0;
  const coords = points.map((run, index) => ({
    x: Number((points.length > 1 ? left + index * step : (left + width - right) / 2).toFixed(1)),
    y: Number((height - bottom - ((run.durationMs ?? 0) / max) * (height - top - bottom)).toFixed(1)),
    run,
    status: statusOf(run),
  }));
  const maxLabel = max >= 1000 ? `${(max / 1000).toFixed(max >= 10_000 ? 1 : 2)} s` : `${Math.round(max)} ms`;
  const grid = [0, 0.5, 1]
    .map((fraction) => {
      const y = (height - bottom - fraction * (height - top - bottom)).toFixed(1);
      return `<line x1="${left}" x2="${width - right}" y1="${y}" y2="${y}" stroke="var(--border)" stroke-width="1"${fraction === 0 ? '' : ' stroke-dasharray="3 4"'}/>`;
    })
    .join('');
  const okCoords = coords.filter((point) => !isFailure(point.status));
  const line = `<polyline points="${okCoords.map((point) => `${point.x},${point.y}`).join(' ')}" fill="none" stroke="var(--accent)" stroke-width="1.6" stroke-linejoin="round" stroke-linecap="round" opacity="0.8"/>`;
  const band = Math.max(3, Math.min(14, step * 0.7));
  const marks = coords.map((point) => {
    const when = `${point.status} · ${point.run.durationMs === undefined ? 'no duration' : `${Math.round(point.run.durationMs)} ms`} · ${point.run.dispatchedAt}`;
    if (!isFailure(point.status)) {
      return html`<circle cx="${point.x}" cy="${point.y}" r="3.4" fill="${colors[point.status] ?? 'var(--muted)'}" data-status="${point.status}"><title>${when}</title></circle>`;
    }
    const color = point.status === 'lost' ? 'var(--muted)' : 'var(--fail)';
    const base = height - bottom;
    return html`<g class="failure" data-status="${point.status}"><title>${when}</title><rect x="${(point.x - band / 2).toFixed(1)}" y="${top}" width="${band.toFixed(1)}" height="${base - top}" fill="${color}" opacity="0.13"/><path d="M${(point.x - 4).toFixed(1)} ${base - 4}l8 8M${(point.x + 4).toFixed(1)} ${base - 4}l-8 8" stroke="${color}" stroke-width="2.2" stroke-linecap="round"/></g>`;
  });
  const first = points[0]?.dispatchedAt ?? '';
  const last = points[points.length - 1]?.dispatchedAt ?? '';
  const spanMs = Date.parse(last) - Date.parse(first);
  const labels = html`<text x="${left - 10}" y="${top + 4}" text-anchor="end" font-size="12" fill="var(--muted)">${maxLabel}</text><text x="${left - 10}" y="${height - bottom + 4}" text-anchor="end" font-size="12" fill="var(--muted)">0</text><text x="${left}" y="${height - 4}" font-size="12" fill="var(--muted)">${axisTime(first, spanMs)}</text><text x="${width - right}" y="${height - 4}" text-anchor="end" font-size="12" fill="var(--muted)">${axisTime(last, spanMs)} UTC</text>`;
  const failures = coords.length - okCoords.length;
  const label = `Duration of the last ${points.length} runs, longest passing ${maxLabel}${failures === 0 ? '' : `; ${failures} failed or lost, marked with a cross`}`;
  return html`<svg class="chart" viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="${label}"><title>${label}</title>${raw(grid)}${labels}${raw(line)}${marks}</svg>`;
}
