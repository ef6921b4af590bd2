import { formatDurationMs, html, raw, type SafeHtml } from '../engine/index.ts';
import { availabilityText, type MonitorView, type RangeStats, viewQuery } from './dashboard-ranges.ts';
import { pill, runOutcome, statusPill, when } from './dashboard-views.ts';
import type { CheckpointMonitorStatus } from './monitor-status.ts';
import type { RunRecord } from './store.ts';

/** One checkpoint of a monitor, over the range shown. */
export interface CheckpointRow {
  name: string;
  status: CheckpointMonitorStatus;
  stats: RangeStats;
  /** Runs dispatched there in the range (as read: see the range note when capped). */
  runs: number;
  /** Its newest run, in the range or not. */
  lastRun: RunRecord | undefined;
}

/**
 * Where a monitor runs, one row per checkpoint: its status there (`checkpoint down` when that checkpoint is,
 * rather than a stale failure), the range's availability, p50/p95 and runs, and the newest run. Each name is a
 * link that filters the page to it (the current filter is marked); "all" clears it.
 */
export function checkpointTable(input: { monitorId: string; view: MonitorView; rows: readonly CheckpointRow[]; now: Date }): SafeHtml {
  const { view, now } = input;
  const base = `/monitors/${encodeURIComponent(input.monitorId)}`;
  const filterLink = (name: string | undefined, label: string) => {
    const current = view.checkpoint === name;
    const { checkpoint: _dropped, ...rest } = view;
    const query = viewQuery(name === undefined ? rest : { ...view, checkpoint: name });
    return html`<a href="${base}?${query}"${current ? raw(' aria-current="true"') : ''}>${label}</a>`;
  };
  return html`<div class="table-card"><table class="checkpoints" aria-label="Per checkpoint">
<thead><tr><th>Checkpoint</th><th>Status</th><th class="num">Availability</th><th class="num">p50</th><th class="num">p95</th><th class="num">Runs</th><th>Last run</th></tr></thead>
<tbody>${input.rows.map(
    (row) => html`<tr data-checkpoint="${row.name}"${view.checkpoint === row.name ? raw(' class="current"') : ''}>
<td>${filterLink(row.name, row.name)}</td>
<td>${statusPill(row.status)}</td>
<td class="num">${availabilityText(row.stats)}<div class="small muted">${row.stats.available} of ${row.stats.checks} checks</div></td>
<td class="num">${formatDurationMs(row.stats.p50Ms)}</td>
<td class="num">${formatDurationMs(row.stats.p95Ms)}</td>
<td class="num">${row.runs}</td>
<td class="small">${row.lastRun === undefined ? html`<span class="muted">—</span>` : html`${pill(runOutcome(row.lastRun))} <a href="/runs/${encodeURIComponent(row.lastRun.runId)}">${when(row.lastRun.dispatchedAt, now)}</a>`}</td>
</tr>`,
  )}</tbody></table>
${view.checkpoint === undefined ? '' : html`<p class="small">Showing ${view.checkpoint} only: ${filterLink(undefined, 'show all checkpoints')}</p>`}
</div>`;
}
