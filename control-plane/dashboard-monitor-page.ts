import { kindOf, html, type SafeHtml } from '../engine/index.ts';
import { checkpointTable, type CheckpointRow } from './dashboard-checkpoint-table.ts';
import { checkpointFilterOf, matchesStatus, monitorViewOf, rangeControls, rangeStart, rangeStats, type MonitorView } from './dashboard-ranges.ts';
import { vitalsOf, vitalsTable, type RunVitals } from './dashboard-vitals.ts';
import { checkpointsOf } from './monitor-definition.ts';
import { checkpointHealthMap, checkpointStatuses, monitorStatus, type MonitorStatus } from './monitor-status.ts';
import { stepDurationChart, type StepDurations } from './step-trend.ts';
import type { ControlPlaneStore, MonitorRecord, RunRecord } from './store.ts';

/**
 * The most runs a monitor page reads for a range. A monitor every 10 s has 260 000 runs in 30 days; the page
 * reads the newest this many (one bounded query) and says so when the range holds more, so it stays fast
 * whatever the interval.
 */
export const maxRangeRuns = 5000;
/** Runs whose results the step chart and the vitals trends read (the newest passing ones of the range). */
export const maxResultRuns = 30;

/** A range's runs, oldest first, at most `maxRangeRuns` (the newest), and whether there were more. */
async function rangeRuns(store: ControlPlaneStore, monitorId: string, sinceIso: string, checkpoint: string | undefined): Promise<{ runs: RunRecord[]; capped: boolean }> {
  const newestFirst = await store.queryRuns({ monitor: monitorId, since: sinceIso, ...(checkpoint === undefined ? {} : { checkpoint }), limit: maxRangeRuns + 1 });
  return { runs: newestFirst.slice(0, maxRangeRuns).reverse(), capped: newestFirst.length > maxRangeRuns };
}

export interface MonitorPageData {
  status: MonitorStatus;
  view: MonitorView;
  /** Newest first, the run list (up to 50). */
  runs: RunRecord[];
  /** Newest first, the duration chart (up to 300). */
  chartRuns: RunRecord[];
  ranges: SafeHtml;
  checkpointTable: SafeHtml | undefined;
  stepChart: SafeHtml;
  /** Browser monitors only. */
  vitals: SafeHtml | undefined;
}

/**
 * What the monitor page shows for the range, status and checkpoint its URL asks for, or the message of a 400
 * when the checkpoint filter names a checkpoint the monitor does not run on.
 */
export async function monitorPageData(store: ControlPlaneStore, monitor: MonitorRecord, url: URL, now: Date): Promise<{ ok: true; data: MonitorPageData } | { ok: false; message: string }> {
  const names = checkpointsOf(monitor);
  const filter = checkpointFilterOf(url, names);
  if (!filter.ok) return filter;
  const view: MonitorView = { ...monitorViewOf(url), ...(filter.checkpoint === undefined ? {} : { checkpoint: filter.checkpoint }) };
  const sinceIso = rangeStart(view, now).toISOString();
  const everywhere = await rangeRuns(store, monitor.id, sinceIso, undefined);
  // Filtered by checkpoint: read on its own, so a busy other checkpoint does not crowd it out of the cap.
  const shownRange = view.checkpoint === undefined ? everywhere : await rangeRuns(store, monitor.id, sinceIso, view.checkpoint);
  const inRange = shownRange.runs;
  const shown = inRange.filter((run) => matchesStatus(run, view.status)).reverse();

  const passing = inRange.filter((run) => run.status === 'passed' || run.status === 'warning').slice(-maxResultRuns);
  const results = await Promise.all(passing.map(async (run) => ({ run, result: (await store.getResult(run.runId))?.envelope.result })));
  const steps: StepDurations[] = results.map(({ run, result }) => ({
    runId: run.runId,
    dispatchedAt: run.dispatchedAt,
    steps: (result?.steps ?? []).filter((step) => step.status !== 'skipped').map((step) => ({ name: step.name, durationMs: step.durationMs })),
  }));
  const vitals: RunVitals[] = results.map(({ run, result }) => ({ runId: run.runId, dispatchedAt: run.dispatchedAt, steps: result === undefined ? [] : vitalsOf(result) }));

  const health = checkpointHealthMap(await store.listCheckpoints());
  const statuses = checkpointStatuses(monitor, health);
  const rows: CheckpointRow[] = await Promise.all(
    names.map(async (name) => {
      const runs = everywhere.runs.filter((run) => run.checkpoint === name);
      const [lastRun] = await store.queryRuns({ monitor: monitor.id, checkpoint: name, limit: 1 });
      return { name, status: statuses[name] ?? 'ok', stats: rangeStats(runs), runs: runs.length, lastRun };
    }),
  );

  const capped = everywhere.capped || shownRange.capped;
  const oldest = inRange[0]?.dispatchedAt;
  const note = capped
    ? html`<p class="range-note small muted" role="note">This range holds more than ${maxRangeRuns.toLocaleString('en-US')} runs: the figures, charts and list are of the latest ${maxRangeRuns.toLocaleString('en-US')}${oldest === undefined ? '' : html` (since ${oldest.slice(0, 19).replace('T', ' ')} UTC)`}.</p>`
    : undefined;
  return {
    ok: true,
    data: {
      status: monitorStatus(monitor, health),
      view,
      runs: shown.slice(0, 50),
      chartRuns: shown.slice(0, 300),
      ranges: rangeControls({ monitorId: monitor.id, view, stats: rangeStats(inRange), checkpoints: names, ...(note === undefined ? {} : { capped: { runs: maxRangeRuns, note } }) }),
      checkpointTable: checkpointTable({ monitorId: monitor.id, view, rows, now }),
      stepChart: stepDurationChart(steps),
      vitals: kindOf(monitor.script) === 'browser' ? vitalsTable(vitals) : undefined,
    },
  };
}
