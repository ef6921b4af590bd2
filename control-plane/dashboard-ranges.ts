import { formatDurationMs, html, raw, type SafeHtml } from '../engine/index.ts';
import { availability } from './metrics.ts';
import type { RunRecord } from './store.ts';

/** The time ranges the monitor page offers (`?range=`). */
export const ranges = [
  { key: '1h', label: '1 h', ms: 3_600_000 },
  { key: '24h', label: '24 h', ms: 86_400_000 },
  { key: '7d', label: '7 d', ms: 7 * 86_400_000 },
  { key: '30d', label: '30 d', ms: 30 * 86_400_000 },
] as const;
export type RangeKey = (typeof ranges)[number]['key'];

/** The run outcomes the monitor page filters on (`?status=`). */
export const statusFilters = ['all', 'passed', 'warning', 'failed', 'error', 'lost'] as const;
export type StatusFilter = (typeof statusFilters)[number];

export interface MonitorView {
  range: RangeKey;
  status: StatusFilter;
  /** Only the runs on this one of the monitor's checkpoints (`?checkpoint=`); absent: all of them. */
  checkpoint?: string;
}

/** The view a monitor page URL asks for; unknown values fall back to the defaults (24 h, every status). */
export function monitorViewOf(url: URL): MonitorView {
  const range = ranges.find((candidate) => candidate.key === url.searchParams.get('range'))?.key ?? '24h';
  const status = statusFilters.find((candidate) => candidate === url.searchParams.get('status')) ?? 'all';
  return { range, status };
}

/**
 * The checkpoint filter of a monitor page URL: absent or empty is every checkpoint; a name the monitor does not
 * run on is refused (a page of other checkpoints' figures under the name typed would mislead).
 */
export function checkpointFilterOf(url: URL, names: readonly string[]): { ok: true; checkpoint: string | undefined } | { ok: false; message: string } {
  const value = url.searchParams.get('checkpoint') ?? '';
  if (value === '') return { ok: true, checkpoint: undefined };
  if (names.includes(value)) return { ok: true, checkpoint: value };
  return { ok: false, message: `checkpoint: this monitor does not run on "${value}"; it runs on ${names.map((name) => `"${name}"`).join(', ')}.` };
}

/** The query of a monitor page showing `view` (defaults left out), for links that keep the filters. */
export function viewQuery(view: MonitorView, change: Partial<MonitorView> = {}): string {
  const next = { ...view, ...change };
  const query = new URLSearchParams({
    range: next.range,
    ...(next.status === 'all' ? {} : { status: next.status }),
    ...(next.checkpoint === undefined ? {} : { checkpoint: next.checkpoint }),
  });
  return query.toString();
}

export function rangeStart(view: MonitorView, now: Date): Date {
  const ms = ranges.find((candidate) => candidate.key === view.range)?.ms ?? 86_400_000;
  return new Date(now.getTime() - ms);
}

function outcomeOf(run: RunRecord): string {
  return run.status === 'lost' ? 'lost' : (run.resultStatus ?? run.status);
}

export function matchesStatus(run: RunRecord, status: StatusFilter): boolean {
  return status === 'all' || outcomeOf(run) === status;
}

/** The value at quantile q (0..1) of sorted numbers, nearest rank; undefined when there are none. */
export function percentile(sorted: readonly number[], q: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1];
}

export interface RangeStats {
  checks: number;
  available: number;
  /** Durations of the runs that passed or warned: a failed run's duration is how long it took to fail. */
  p50Ms: number | undefined;
  p95Ms: number | undefined;
  failedRuns: number;
}

/** Availability (as the metrics count it) and duration percentiles of a range's runs, oldest first. */
export function rangeStats(runs: readonly RunRecord[]): RangeStats {
  const { checks, available } = availability(runs);
  const durations = runs
    .filter((run) => run.status === 'passed' || run.status === 'warning')
    .map((run) => run.durationMs)
    .filter((value): value is number => value !== undefined)
    .sort((a, b) => a - b);
  return {
    checks,
    available,
    p50Ms: percentile(durations, 0.5),
    p95Ms: percentile(durations, 0.95),
    failedRuns: runs.filter((run) => run.status === 'failed' || run.status === 'error').length,
  };
}

export function availabilityText(stats: RangeStats): string {
  if (stats.checks === 0) return '—';
  const percent = (100 * stats.available) / stats.checks;
  return `${percent === 100 || percent === 0 ? percent.toFixed(0) : percent.toFixed(2)} %`;
}

/**
 * The range tabs (links), the status filter (a GET form: works without JavaScript) and the range's figures.
 */
export function rangeControls(input: {
  monitorId: string;
  view: MonitorView;
  stats: RangeStats;
  /** The monitor's checkpoints: with two or more, the filter offers them. */
  checkpoints?: readonly string[];
  /** Only the latest runs of the range were read (dashboard-monitor-page.ts): what the figures cover instead. */
  capped?: { runs: number; note: SafeHtml };
}): SafeHtml {
  const { view, stats } = input;
  const checkpoints = input.checkpoints ?? [];
  const base = `/monitors/${encodeURIComponent(input.monitorId)}`;
  const link = (key: RangeKey, label: string) => html`<a href="${base}?${viewQuery(view, { range: key })}"${key === view.range ? raw(' aria-current="page" class="current"') : ''}>${label}</a>`;
  const where = view.checkpoint === undefined ? '' : ` on ${view.checkpoint}`;
  const rangeLabel = ranges.find((candidate) => candidate.key === view.range)?.label ?? view.range;
  const range = input.capped === undefined ? `last ${rangeLabel}` : `latest ${input.capped.runs.toLocaleString('en-US')} runs`;
  return html`<div class="range-bar">
<nav class="ranges" aria-label="Time range">${ranges.map((candidate) => link(candidate.key, candidate.label))}</nav>
<form method="get" action="${base}" class="filter">
<input type="hidden" name="range" value="${view.range}">
${
  checkpoints.length < 2
    ? view.checkpoint === undefined
      ? ''
      : html`<input type="hidden" name="checkpoint" value="${view.checkpoint}">`
    : html`<label for="checkpoint-filter">Checkpoint</label>
<select id="checkpoint-filter" name="checkpoint"><option value=""${view.checkpoint === undefined ? raw(' selected') : ''}>all checkpoints</option>${checkpoints.map((name) => html`<option value="${name}"${name === view.checkpoint ? raw(' selected') : ''}>${name}</option>`)}</select>`
}
<label for="status-filter">Status</label>
<select id="status-filter" name="status">${statusFilters.map((status) => html`<option value="${status}"${status === view.status ? raw(' selected') : ''}>${status === 'all' ? 'all runs' : status}</option>`)}</select>
<button type="submit">Filter</button>
</form>
</div>
${input.capped?.note ?? ''}
<div class="tiles range-tiles" aria-label="Figures, ${range}${where}">
<div class="tile${stats.checks > 0 && stats.available < stats.checks ? ' bad' : ''}"><div class="label">Availability, ${range}${where}</div><div class="value">${availabilityText(stats)} <small>${stats.available} of ${stats.checks} checks</small></div></div>
<div class="tile"><div class="label">p50 duration (passed)</div><div class="value">${formatDurationMs(stats.p50Ms)}</div></div>
<div class="tile"><div class="label">p95 duration (passed)</div><div class="value">${formatDurationMs(stats.p95Ms)}</div></div>
<div class="tile${stats.failedRuns > 0 ? ' bad' : ''}"><div class="label">Failed runs</div><div class="value">${stats.failedRuns}</div></div>
</div>`;
}
