import { formatDurationMs, html, kindOf, raw, type ResultEnvelope, type SafeHtml, type StepResult, stepNamesOf } from '../engine/index.ts';
import { dashboardCss } from './dashboard-style.ts';
import type { InstanceStatus } from './scheduler.ts';
import type { AlertRecord, CheckpointRecord, MonitorRecord, RunRecord } from './store.ts';
import { instanceKey, isBehind, newestVersion, type StaleBrowser } from './dashboard-versions.ts';
import { checkpointsOf, placementOf } from './monitor-definition.ts';
import type { MonitorStatus } from './monitor-status.ts';
import { durationChart, durationTrend } from './trend.ts';

// ---- formatting ----

/** A dashboard-internal link built from path segments, each URL-encoded. */
function href(...segments: readonly string[]): string {
  return `/${segments.map(encodeURIComponent).join('/')}`;
}

export function formatInterval(seconds: number): string {
  if (seconds % 3600 === 0) return `every ${seconds / 3600} h`;
  if (seconds % 60 === 0) return `every ${seconds / 60} min`;
  return `every ${seconds} s`;
}

/** `2025-05-14 09:30:12 UTC` (no locale, no local time zone: the same for every reader). */
export function formatTime(iso: string | undefined): string {
  if (iso === undefined) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

export function formatAgo(iso: string | undefined, now: Date): string {
  if (iso === undefined) return '—';
  const seconds = Math.round((now.getTime() - new Date(iso).getTime()) / 1000);
  if (!Number.isFinite(seconds)) return '—';
  if (seconds < 5) return 'just now';
  if (seconds < 90) return `${seconds} s ago`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 36 * 3600) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86_400)} d ago`;
}

/** The status a run shows: its result when it has one, else where it is. */
export function runOutcome(run: RunRecord): string {
  return run.status === 'lost' ? 'lost' : (run.resultStatus ?? run.status);
}

export function pill(kind: string, label: string = kind): SafeHtml {
  return html`<span class="pill ${kind}">${label}</span>`;
}

export function when(iso: string | undefined, now: Date): SafeHtml {
  return html`<span title="${formatTime(iso)}">${formatAgo(iso, now)}</span>`;
}

/** A monitor's status (monitor-status.ts) as a pill: a checkpoint down is grey, not red: nothing is known there. */
const statusLooks: Record<MonitorStatus, { kind: string; label: string }> = {
  ok: { kind: 'passed', label: 'ok' },
  warning: { kind: 'warning', label: 'warning' },
  failing: { kind: 'failed', label: 'failing' },
  'checkpoint-down': { kind: 'lost', label: 'checkpoint down' },
  disabled: { kind: 'disabled', label: 'disabled' },
};

export function statusPill(status: MonitorStatus): SafeHtml {
  const look = statusLooks[status];
  return html`<span class="pill ${look.kind}" data-status="${status}">${look.label}</span>`;
}

/** `internal, dmz · round-robin`: where a monitor runs (the placement only with several). */
export function whereText(monitor: Pick<MonitorRecord, 'checkpoint' | 'checkpoints' | 'placement'>): string {
  const names = checkpointsOf(monitor);
  return names.length < 2 ? names.join('') : `${names.join(', ')} · ${placementOf(monitor)}`;
}

// ---- layout ----

const logo = raw(
  '<svg width="22" height="22" viewBox="0 0 24 24" aria-hidden="true"><rect x="1.5" y="1.5" width="21" height="21" rx="6" fill="var(--accent)"/><path d="M7 12.5l3.2 3.2L17 8.8" fill="none" stroke="#fff" stroke-width="2.2" stroke-linecap="round" stroke-linejoin="round"/></svg>',
);

const favicon =
  "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 24 24'%3E%3Crect x='1.5' y='1.5' width='21' height='21' rx='6' fill='%232f6690'/%3E%3Cpath d='M7 12.5l3.2 3.2L17 8.8' fill='none' stroke='white' stroke-width='2.2' stroke-linecap='round' stroke-linejoin='round'/%3E%3C/svg%3E";

export type Section = 'overview' | 'alerts' | 'none';

export function page(input: { title: string; section: Section; now: Date; body: SafeHtml; refreshSeconds?: number }): string {
  const link = (section: Section, path: string, label: string) => html`<a href="${path}" class="${input.section === section ? 'current' : ''}">${label}</a>`;
  return `<!doctype html>${html`<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${input.refreshSeconds === undefined ? '' : raw(`<meta http-equiv="refresh" content="${Math.round(input.refreshSeconds)}">`)}
<title>${input.title} · Checkpoint control plane</title>
<link rel="icon" href="${favicon}">
<style>${raw(dashboardCss)}</style>
</head>
<body>
<header class="top"><div class="bar">
<a class="brand" href="/">${logo}<span>Checkpoint control plane</span></a>
<nav>${link('overview', '/', 'Overview')}${link('alerts', '/alerts', 'Alerts')}</nav>
<span class="stamp">${formatTime(input.now.toISOString())}</span>
</div></header>
<main>
${input.body}
</main>
</body>
</html>`.value}`;
}

// ---- overview ----

export interface CheckpointPanel extends CheckpointRecord {
  instances: InstanceStatus[];
}

export interface MonitorRow {
  monitor: MonitorRecord;
  /** Newest first. */
  runs: RunRecord[];
  /** Its status over its checkpoints (monitor-status.ts): `checkpoint-down` rather than a stale `failing`. */
  status: MonitorStatus;
}

function loadBar(instance: InstanceStatus): SafeHtml {
  const percent = Math.round(instance.load * 100);
  return html`<span class="load" title="${instance.running} of ${instance.capacity} slots busy"><span class="bar"><span style="width:${percent}%"></span></span>${instance.running}/${instance.capacity}</span>`;
}

/** The newest agent and browser versions among all instances: an instance behind them is flagged. */
export interface NewestVersions {
  agent: string | undefined;
  browser: string | undefined;
}

function versionCell(instance: InstanceStatus, newest: NewestVersions, stale: StaleBrowser | undefined): SafeHtml {
  const agentBehind = isBehind(instance.version, newest.agent);
  const browserBehind = isBehind(instance.browserVersion, newest.browser);
  return html`<td class="small">${instance.version}${agentBehind ? html` ${pill('warning', 'agent behind')}` : ''}${instance.privacyLock ? html` <span class="muted" title="privacy lock: never captures images">· locked</span>` : ''}${
    instance.browserVersion === undefined
      ? ''
      : html`<div class="muted">${instance.browserVersion}${browserBehind && stale === undefined ? html` <span class="pill warning" title="${`Newest browser seen on an instance: ${newest.browser ?? ''}. Update checkpoints at least every two weeks.`}">browser behind</span>` : ''}</div>`
  }${
    stale === undefined
      ? ''
      : html`<div class="stale-note"><span class="pill warning">browser older than two weeks</span> A newer browser, ${stale.newer}, has been seen on an instance since ${formatTime(stale.seenSince)} (more than 14 days) and this instance still runs ${instance.browserVersion ?? 'an older one'}.</div>`
  }</td>`;
}

function instanceRows(checkpoint: string, instances: readonly InstanceStatus[], now: Date, newest: NewestVersions, stale: ReadonlyMap<string, StaleBrowser>): SafeHtml {
  return html`${instances.map(
    (instance) => html`<tr>
<td class="nowrap"><span class="dot ${instance.online ? 'on' : 'off'}"></span><span class="mono">${instance.id}</span>${instance.draining ? html` ${pill('draining')}` : ''}</td>
${versionCell(instance, newest, stale.get(instanceKey(checkpoint, instance.id)))}
<td>${instance.online ? loadBar(instance) : html`<span class="muted small">offline</span>`}</td>
<td class="num small muted nowrap">${instance.online ? 'now' : when(instance.lastSeen, now)}</td>
</tr>`,
  )}`;
}

function checkpointCard(checkpoint: CheckpointPanel, now: Date, newest: NewestVersions, stale: ReadonlyMap<string, StaleBrowser>): SafeHtml {
  const online = checkpoint.instances.filter((instance) => instance.online).length;
  const instances =
    checkpoint.instances.length === 0
      ? html`<div class="empty">No instance has connected yet. Start one with <span class="mono">checkpoint agent --control-plane URL --token TOKEN</span>.</div>`
      : html`<table><thead><tr><th>Instance</th><th>Agent / browser</th><th>Load</th><th class="num">Seen</th></tr></thead><tbody>${instanceRows(checkpoint.name, checkpoint.instances, now, newest, stale)}</tbody></table>`;
  return html`<section class="card" aria-label="Checkpoint ${checkpoint.name}">
<div class="head"><span class="name">${checkpoint.name}</span><span class="small muted">${online} of ${checkpoint.instances.length} online ${pill(checkpoint.health)}</span></div>
${instances}
</section>`;
}

/** The outcome of the newest finished run, for the status cell's second line. */
function lastOutcome(row: MonitorRow): SafeHtml {
  const finished = row.runs.find((run) => run.resultStatus !== undefined && run.status !== 'lost');
  const latest = row.runs[0];
  if (finished === undefined) return latest === undefined ? html`<span class="small muted">no runs</span>` : html`<span class="small muted">last run ${runOutcome(latest)}</span>`;
  return html`<span class="small muted">last run ${runOutcome(finished)}</span>`;
}

function monitorTable(rows: readonly MonitorRow[], now: Date): SafeHtml {
  if (rows.length === 0) return html`<div class="table-card"><div class="card empty" style="border:none">No monitors yet. <a href="/monitors/new">Create one</a>, or use <span class="mono">POST /api/v1/monitors</span>.</div></div>`;
  return html`<div class="table-card"><table>
<thead><tr><th>Status</th><th>Monitor</th><th class="hide-narrow">Checkpoints</th><th class="hide-narrow">Interval</th><th>Last run</th><th class="num">Duration</th><th>Last 20 runs</th></tr></thead>
<tbody>${rows.map((row) => {
    const latest = row.runs.find((run) => run.durationMs !== undefined);
    return html`<tr>
<td>${statusPill(row.status)}<div>${lastOutcome(row)}</div></td>
<td><a href="${href('monitors', row.monitor.id)}">${row.monitor.name}</a></td>
<td class="hide-narrow small">${whereText(row.monitor)}</td>
<td class="hide-narrow small muted">${formatInterval(row.monitor.intervalSeconds)}</td>
<td class="small">${row.runs[0] === undefined ? html`<span class="muted">—</span>` : html`<a href="${href('runs', row.runs[0].runId)}">${formatAgo(row.runs[0].dispatchedAt, now)}</a>`}</td>
<td class="num">${formatDurationMs(latest?.durationMs)}</td>
<td>${durationTrend(row.runs)}</td>
</tr>`;
  })}</tbody></table></div>`;
}

function alertList(alerts: readonly AlertRecord[], monitorNames: ReadonlyMap<string, string>, now: Date): SafeHtml {
  if (alerts.length === 0) return html`<div class="table-card"><div class="card empty" style="border:none">No alerts. Quiet is good.</div></div>`;
  return html`<div class="table-card"><ul class="alerts">${alerts.map((alert) => {
    const monitorName = alert.monitorId === undefined ? undefined : (monitorNames.get(alert.monitorId) ?? alert.monitorId);
    const delivered = alert.deliveries.filter((delivery) => delivery.delivered).length;
    return html`<li>
<span class="when" title="${formatTime(alert.createdAt)}">${formatAgo(alert.createdAt, now)}</span>
<span class="msg">${pill(alert.kind)} ${alert.message}${alert.runId === undefined ? '' : html` · <a href="${href('runs', alert.runId)}">run</a>`}${
      monitorName === undefined || alert.monitorId === undefined ? '' : html` · <a href="${href('monitors', alert.monitorId)}">${monitorName}</a>`
    }</span>
<span class="small muted">${alert.deliveries.length === 0 ? '' : `webhooks ${delivered}/${alert.deliveries.length}`}</span>
</li>`;
  })}</ul></div>`;
}

export function overviewPage(input: {
  now: Date;
  checkpoints: CheckpointPanel[];
  monitors: MonitorRow[];
  alerts: AlertRecord[];
  alertsLast24h: number;
  /** Instances (by `instanceKey`) whose browser is older than two weeks (dashboard-versions.ts). */
  staleBrowsers?: ReadonlyMap<string, StaleBrowser>;
  notice?: string;
  done?: SafeHtml;
}): string {
  const { now } = input;
  const up = input.checkpoints.filter((checkpoint) => checkpoint.health === 'up').length;
  const down = input.checkpoints.filter((checkpoint) => checkpoint.health === 'down').length;
  const instances = input.checkpoints.flatMap((checkpoint) => checkpoint.instances);
  const onlineInstances = instances.filter((instance) => instance.online).length;
  const enabled = input.monitors.filter((row) => row.monitor.enabled);
  const failing = enabled.filter((row) => row.status === 'failing').length;
  const names = new Map(input.monitors.map((row) => [row.monitor.id, row.monitor.name]));
  const newest = { agent: newestVersion(instances.map((instance) => instance.version)), browser: newestVersion(instances.map((instance) => instance.browserVersion)) };
  const body = html`
${input.notice === undefined ? '' : html`<div class="notice">${input.notice}</div>`}
${input.done ?? ''}
<h1>Overview</h1>
<div class="tiles">
<div class="tile${down > 0 ? ' bad' : ''}"><div class="label">Checkpoints up</div><div class="value">${up} <small>of ${input.checkpoints.length}</small></div></div>
<div class="tile"><div class="label">Instances online</div><div class="value">${onlineInstances} <small>of ${instances.length}</small></div></div>
<div class="tile${failing > 0 ? ' bad' : ''}"><div class="label">Monitors failing</div><div class="value">${failing} <small>of ${enabled.length} enabled</small></div></div>
<div class="tile"><div class="label">Alerts, last 24 h</div><div class="value">${input.alertsLast24h}</div></div>
</div>
<h2>Checkpoints <span class="count">${input.checkpoints.length}</span></h2>
${input.checkpoints.length === 0 ? html`<div class="table-card"><div class="card empty" style="border:none">No checkpoints yet. Create one with <span class="mono">POST /api/v1/checkpoints</span>.</div></div>` : html`<div class="grid">${input.checkpoints.map((checkpoint) => checkpointCard(checkpoint, now, newest, input.staleBrowsers ?? new Map()))}</div>`}
<h2>Monitors <span class="count">${input.monitors.length}</span> <a class="button small" href="/monitors/new">New monitor</a></h2>
${monitorTable(input.monitors, now)}
<h2>Recent alerts <span class="count"><a href="/alerts">all alerts</a></span></h2>
${alertList(input.alerts, names, now)}
`;
  return page({ title: 'Overview', section: 'overview', now, body, refreshSeconds: 30 });
}

// ---- monitor ----

function runTable(runs: readonly RunRecord[], now: Date): SafeHtml {
  if (runs.length === 0) return html`<div class="table-card"><div class="card empty" style="border:none">No runs yet.</div></div>`;
  return html`<div class="table-card"><table class="runs">
<thead><tr><th>Status</th><th>Run</th><th>When</th><th>Checkpoint</th><th class="hide-narrow">Attempt</th><th class="hide-narrow">Reason</th><th>Instance</th><th class="num">Duration</th></tr></thead>
<tbody>${runs.map(
    (run) => html`<tr>
<td>${pill(runOutcome(run))}${run.late ? html` ${pill('late')}` : ''}</td>
<td><a class="mono" href="${href('runs', run.runId)}">${run.runId.slice(0, 8)}</a></td>
<td class="small">${when(run.dispatchedAt, now)}</td>
<td class="small">${run.checkpoint}</td>
<td class="hide-narrow small">${run.attempt}</td>
<td class="hide-narrow small muted">${run.reason}</td>
<td class="small mono">${run.instance ?? '—'}</td>
<td class="num">${formatDurationMs(run.durationMs)}</td>
</tr>`,
  )}</tbody></table></div>`;
}

export function monitorPage(input: {
  now: Date;
  monitor: MonitorRecord;
  /** Its status over its checkpoints (monitor-status.ts). */
  status?: MonitorStatus;
  /** One row per checkpoint (dashboard-checkpoint-table.ts). */
  checkpointTable?: SafeHtml;
  /** Navigation timings and web vitals per step (dashboard-vitals.ts): browser monitors. */
  vitals?: SafeHtml;
  /** Newest first: the table. */
  runs: RunRecord[];
  /** Newest first: the chart (default: `runs`). */
  chartRuns?: RunRecord[];
  /** Time range tabs, status filter and the range's availability and percentiles (dashboard-ranges.ts). */
  ranges?: SafeHtml;
  /** Per-step durations of the range's passing runs (step-trend.ts). */
  stepChart?: SafeHtml;
  alerts: AlertRecord[];
  /** Edit, run now, enable/disable and delete (dashboard-forms-views.ts). */
  actions?: SafeHtml;
  /** What the last form did (after its redirect). */
  notice?: SafeHtml;
}): string {
  const { monitor, now } = input;
  const names = new Map([[monitor.id, monitor.name]]);
  const body = html`
<div class="crumbs"><a href="/">Overview</a> / monitor</div>
${input.notice ?? ''}
<div class="title-row"><h1>${monitor.name}</h1>${
    input.status === undefined
      ? html`${monitor.enabled ? '' : pill('disabled')}${monitor.health === 'failing' ? pill('failed', 'alerting') : monitor.health === 'warning' ? pill('warning', 'warning alert open') : ''}`
      : statusPill(input.status)
  }</div>
${input.actions ?? ''}
${input.ranges ?? ''}
<section class="card">
<dl class="facts">
<div><dt>${checkpointsOf(monitor).length > 1 ? 'Checkpoints' : 'Checkpoint'}</dt><dd>${whereText(monitor)}</dd></div>
<div><dt>Interval</dt><dd>${formatInterval(monitor.intervalSeconds)}</dd></div>
<div><dt>Kind</dt><dd>${kindOf(monitor.script)}</dd></div>
<div><dt>Steps</dt><dd>${stepNamesOf(monitor.script).length}</dd></div>
<div><dt>Id</dt><dd class="mono">${monitor.id}</dd></div>
<div><dt>Updated</dt><dd>${formatTime(monitor.updatedAt)}</dd></div>
</dl>
<div class="chart-box">${durationChart(input.chartRuns ?? input.runs, 300)}</div>
</section>
${input.checkpointTable === undefined ? '' : html`<h2>Checkpoints <span class="count">${checkpointsOf(monitor).length}</span></h2>${input.checkpointTable}`}
${input.stepChart === undefined ? '' : html`<h2>Steps <span class="count">per passing run</span></h2><section class="card"><div class="chart-box">${input.stepChart}</div></section>`}
${input.vitals === undefined ? '' : html`<h2>Navigation and vitals <span class="count">per step, passing runs</span></h2>${input.vitals}`}
<h2>Runs <span class="count">${input.ranges === undefined ? `latest ${input.runs.length}` : `latest ${input.runs.length} in the range`}</span></h2>
${runTable(input.runs, now)}
<h2>Alerts <span class="count">${input.alerts.length}</span></h2>
${alertList(input.alerts, names, now)}
`;
  return page({ title: monitor.name, section: 'none', now, body });
}

// ---- run ----

/** A check step's timed phases, e.g. `dns 1 ms · connect 2 ms · ttfb 40 ms`; empty for a browser step. */
function phasesText(step: StepResult): string {
  const phases = step.check?.phases ?? {};
  return Object.entries(phases)
    .map(([name, value]) => `${name.replace(/Ms$/, '')} ${formatDurationMs(value)}`)
    .join(' · ');
}

/** The result without the report renderer: steps, errors and screenshots. */
function fallbackReport(envelope: ResultEnvelope, artifactHref: (path: string) => string | undefined): SafeHtml {
  const result = envelope.result;
  const shots = result.steps
    .map((step, index) => ({ step, index, url: step.screenshot === undefined ? undefined : artifactHref(step.screenshot) }))
    .filter((shot) => shot.url !== undefined);
  return html`
${result.error === undefined ? '' : html`<p class="error-text">${result.error.code}: ${result.error.message}</p>`}
<div class="table-card"><table>
<thead><tr><th>#</th><th>Step</th><th>Status</th><th class="num">Duration</th><th>Error</th></tr></thead>
<tbody>${result.steps.map(
    (step, index) => html`<tr>
<td class="small muted">${index + 1}</td><td>${step.name}${step.check === undefined ? '' : html`<div class="small muted">${phasesText(step)}</div>`}</td><td>${pill(step.status)}</td><td class="num">${formatDurationMs(step.durationMs)}</td>
<td class="small">${step.error === undefined ? '' : html`<span class="error-text">${step.error.code}: ${step.error.message}</span>`}</td>
</tr>`,
  )}</tbody></table></div>
${shots.length === 0 ? '' : html`<h2>Screenshots</h2><section class="card"><div class="shots">${shots.map((shot) => html`<figure><img src="${shot.url ?? ''}" alt="Screenshot of step ${shot.step.name}" loading="lazy"><figcaption>${shot.index + 1}. ${shot.step.name}</figcaption></figure>`)}</div></section>`}`;
}

export function runPage(input: {
  now: Date;
  run: RunRecord;
  monitorName: string | undefined;
  envelope: ResultEnvelope | undefined;
  duplicates: number;
  /** Where the rendered report is (an iframe), when the report renderer is available. */
  reportHref: string | undefined;
  artifactHref: (path: string) => string | undefined;
  notice?: SafeHtml;
}): string {
  const { run, now, envelope } = input;
  // Until its result arrives the page reloads itself (no script needed), so "Run now" shows the result live.
  const waiting = envelope === undefined && (run.status === 'dispatched' || run.status === 'running');
  const title = `${input.monitorName ?? run.monitorId} · run ${run.runId.slice(0, 8)}`;
  const report =
    envelope === undefined
      ? html`<div class="table-card"><div class="card empty" style="border:none">${run.status === 'dispatched' || run.status === 'running' ? 'The run is in progress; its result has not arrived yet. This page reloads every 2 seconds until it does.' : 'No result was received for this run.'}</div></div>`
      : input.reportHref === undefined
        ? fallbackReport(envelope, input.artifactHref)
        : html`<iframe class="report" src="${input.reportHref}" title="Report of run ${run.runId}"></iframe>`;
  const body = html`
<div class="crumbs"><a href="/">Overview</a> / <a href="${href('monitors', run.monitorId)}">${input.monitorName ?? run.monitorId}</a> / run</div>
${input.notice ?? ''}
<div class="title-row"><h1>${input.monitorName ?? run.monitorId}</h1>${pill(runOutcome(run))}${run.late ? pill('late') : ''}</div>
<section class="card">
<dl class="facts">
<div><dt>Run</dt><dd class="mono">${run.runId}</dd></div>
<div><dt>Checkpoint</dt><dd>${run.checkpoint}</dd></div>
<div><dt>Instance</dt><dd class="mono">${run.instance ?? '—'}</dd></div>
<div><dt>Attempt</dt><dd>${run.attempt} (${run.reason})</dd></div>
<div><dt>Dispatched</dt><dd>${formatTime(run.dispatchedAt)}</dd></div>
<div><dt>Finished</dt><dd>${formatTime(run.finishedAt)}</dd></div>
<div><dt>Duration</dt><dd>${formatDurationMs(run.durationMs)}</dd></div>
${run.lostReason === undefined ? '' : html`<div><dt>Lost</dt><dd>${run.lostReason}${run.late ? ` — its result arrived late (${run.resultStatus ?? 'unknown'})` : ''}</dd></div>`}
${input.duplicates > 0 ? html`<div><dt>Duplicate deliveries</dt><dd>${input.duplicates} (stored once)</dd></div>` : ''}
${envelope?.artifactsDropped === undefined || envelope.artifactsDropped === 0 ? '' : html`<div><dt>Artifacts dropped</dt><dd>${envelope.artifactsDropped}</dd></div>`}
</dl>
</section>
<h2>Result</h2>
${report}
`;
  return page({ title, section: 'none', now, body, ...(waiting ? { refreshSeconds: 2 } : {}) });
}

// ---- alerts, login, errors ----

export function alertsPage(input: { now: Date; alerts: AlertRecord[]; monitorNames: ReadonlyMap<string, string> }): string {
  const body = html`<h1>Alerts</h1>
<p class="muted small">A monitor alerts after failing on two instances in a row, and once more when it passes again. A checkpoint alerts when none of its instances has been connected for a while, and when one is back.</p>
${alertList(input.alerts, input.monitorNames, input.now)}`;
  return page({ title: 'Alerts', section: 'alerts', now: input.now, body });
}

export function messagePage(now: Date, title: string, message: string): string {
  return page({ title, section: 'none', now, body: html`<h1>${title}</h1><p class="muted">${message}</p><p><a href="/">Back to the overview</a></p>` });
}
