import type { NavigationTiming, StepResult } from '../../schema/result.ts';
import { formatBytes, formatMs, formatTick, niceTicks, shortUrl } from './format.ts';
import { html, raw, type SafeHtml } from './template.ts';

type WaterfallEntry = NonNullable<StepResult['waterfall']>[number];
type FilmstripFrame = NonNullable<StepResult['filmstrip']>[number];

/** A percentage for inline styles, clamped and short. */
function pct(value: number, of: number): string {
  if (!(of > 0)) return '0%';
  const ratio = Math.min(100, Math.max(0, (value / of) * 100));
  return `${Number(ratio.toFixed(3))}%`;
}

/** The time axis under (or above) a chart: tick labels at their positions. */
function axis(ticks: readonly number[], end: number): SafeHtml {
  return html`<div class="axis" aria-hidden="true">${ticks.map((tick, i) => {
    const edge = i === 0 ? ' first' : i === ticks.length - 1 ? ' last' : '';
    return html`<span class="${`tick${edge}`}" style="${`left:${pct(tick, end)}`}">${formatTick(tick, end)}</span>`;
  })}</div>`;
}

export const navigationPhases = [
  { key: 'redirect', label: 'Redirect' },
  { key: 'dns', label: 'DNS' },
  { key: 'connect', label: 'Connect' },
  { key: 'tls', label: 'TLS' },
  { key: 'wait', label: 'Wait (TTFB)' },
  { key: 'download', label: 'Download' },
] as const;

/** The navigation phases in order, as durations. `connect` is the TCP part only (the schema's connectMs includes TLS). */
export function navigationSegments(nav: NavigationTiming): { key: (typeof navigationPhases)[number]['key']; label: string; ms: number; note?: string }[] {
  const values: Record<(typeof navigationPhases)[number]['key'], number> = {
    redirect: nav.redirectMs ?? 0,
    dns: nav.dnsMs,
    connect: Math.max(0, nav.connectMs - nav.tlsMs),
    tls: nav.tlsMs,
    wait: nav.ttfbMs,
    download: nav.downloadMs,
  };
  return navigationPhases
    .filter((phase) => phase.key !== 'redirect' || values.redirect > 0 || (nav.redirectCount ?? 0) > 0)
    .map((phase) => ({ key: phase.key, label: phase.label, ms: values[phase.key], ...(phase.key === 'connect' && nav.tlsMs > 0 ? { note: `${formatMs(nav.connectMs)} incl. TLS` } : {}) }));
}

/**
 * The stacked timing bar of a document navigation: redirect, DNS, connect, TLS, wait, download laid end to end
 * from the navigation start, the time until DOMContentLoaded and load shaded after them, and both milestones
 * as markers. A legend doubles as the breakdown table.
 */
export function navigationChart(nav: NavigationTiming): SafeHtml {
  const segments = navigationSegments(nav);
  const responseEnd = segments.reduce((sum, segment) => sum + segment.ms, 0);
  const total = Math.max(responseEnd, nav.domContentLoadedMs, nav.loadMs);
  const { ticks, end } = niceTicks(total, 5);
  let at = 0;
  const bars = segments.map((segment) => {
    const left = at;
    at += segment.ms;
    if (segment.ms <= 0) return html``;
    return html`<span class="nav-seg phase-${segment.key}" style="${`left:${pct(left, end)};width:${pct(segment.ms, end)}`}" title="${`${segment.label}: ${formatMs(segment.ms)}`}"></span>`;
  });
  const dcl = nav.domContentLoadedMs;
  const load = nav.loadMs;
  const after: SafeHtml[] = [];
  if (dcl > responseEnd) after.push(html`<span class="nav-seg phase-dom" style="${`left:${pct(responseEnd, end)};width:${pct(dcl - responseEnd, end)}`}" title="${`Response end → DOMContentLoaded: ${formatMs(dcl - responseEnd)}`}"></span>`);
  const loadFrom = Math.max(responseEnd, dcl);
  if (load > loadFrom) after.push(html`<span class="nav-seg phase-load" style="${`left:${pct(loadFrom, end)};width:${pct(load - loadFrom, end)}`}" title="${`→ load: ${formatMs(load - loadFrom)}`}"></span>`);
  const markers = [
    dcl > 0 ? html`<span class="marker marker-dcl" style="${`left:${pct(dcl, end)}`}" title="${`DOMContentLoaded at ${formatMs(dcl)}`}"></span>` : html``,
    load > 0 ? html`<span class="marker marker-load" style="${`left:${pct(load, end)}`}" title="${`Load at ${formatMs(load)}`}"></span>` : html``,
  ];
  const legend = [
    ...segments.map(
      (segment) => html`<li><span class="swatch phase-${segment.key}"></span><span class="legend-label">${segment.label}</span><span class="legend-value">${formatMs(segment.ms)}</span>${segment.note === undefined ? '' : html`<span class="legend-note">${segment.note}</span>`}</li>`,
    ),
    html`<li><span class="swatch swatch-marker marker-dcl"></span><span class="legend-label">DOMContentLoaded</span><span class="legend-value">${dcl > 0 ? formatMs(dcl) : '—'}</span></li>`,
    html`<li><span class="swatch swatch-marker marker-load"></span><span class="legend-label">Load</span><span class="legend-value">${load > 0 ? formatMs(load) : '—'}</span></li>`,
  ];
  return html`<div class="nav-chart" role="img" aria-label="${`Navigation timing: ${segments.map((s) => `${s.label} ${formatMs(s.ms)}`).join(', ')}, DOMContentLoaded ${formatMs(dcl)}, load ${formatMs(load)}`}">
<div class="nav-track"><span class="grid" style="${`--ticks:${Math.max(1, ticks.length - 1)}`}"></span>${bars}${after}${markers}</div>
${axis(ticks, end)}
</div>
<ul class="legend nav-legend">${legend}</ul>`;
}

/** Resource types grouped into the colours of the waterfall. */
export function resourceGroup(resourceType: string): 'document' | 'stylesheet' | 'script' | 'image' | 'font' | 'fetch' | 'media' | 'other' {
  switch (resourceType.toLowerCase()) {
    case 'document':
    case 'iframe':
      return 'document';
    case 'stylesheet':
      return 'stylesheet';
    case 'script':
      return 'script';
    case 'image':
    case 'imageset':
      return 'image';
    case 'font':
      return 'font';
    case 'xhr':
    case 'fetch':
    case 'eventsource':
    case 'websocket':
      return 'fetch';
    case 'media':
    case 'texttrack':
      return 'media';
    default:
      return 'other';
  }
}

const groupLabels: Record<ReturnType<typeof resourceGroup>, string> = {
  document: 'Document',
  stylesheet: 'CSS',
  script: 'Script',
  image: 'Image',
  font: 'Font',
  fetch: 'XHR / fetch',
  media: 'Media',
  other: 'Other',
};

function statusCell(entry: WaterfallEntry): SafeHtml {
  if (entry.failure !== undefined || entry.status === 0) {
    return html`<span class="wf-status bad" title="${entry.failure ?? 'failed'}">failed</span>`;
  }
  const tone = entry.status >= 500 ? 'bad' : entry.status >= 400 ? 'warn' : entry.status >= 300 ? 'muted' : '';
  return html`<span class="${`wf-status ${tone}`.trim()}">${entry.status}${entry.fromCache === true ? html`<span class="tag">cache</span>` : ''}</span>`;
}

/** Split a request bar into connection setup, waiting and receiving when the phases are known. */
function barSegments(entry: WaterfallEntry): SafeHtml {
  const p = entry.phases;
  if (p === undefined) return html`<span class="wf-part part-receive" style="flex:1"></span>`;
  const setup = (p.blockedMs ?? 0) + (p.dnsMs ?? 0) + (p.connectMs ?? 0) + (p.sendMs ?? 0);
  const wait = p.waitMs ?? 0;
  const receive = p.receiveMs ?? 0;
  const sum = setup + wait + receive;
  if (!(sum > 0)) return html`<span class="wf-part part-receive" style="flex:1"></span>`;
  const part = (name: string, ms: number) => (ms > 0 ? html`<span class="${`wf-part part-${name}`}" style="${`flex:${Number((ms / sum).toFixed(4))}`}"></span>` : html``);
  return html`${part('setup', setup)}${part('wait', wait)}${part('receive', receive)}`;
}

function requestTitle(entry: WaterfallEntry): string {
  const lines = [`${entry.method} ${entry.url}`, `starts at ${formatMs(entry.startMs)}, takes ${formatMs(entry.durationMs)}`];
  const p = entry.phases;
  if (p !== undefined) {
    const parts = (
      [
        ['blocked', p.blockedMs],
        ['DNS', p.dnsMs],
        ['connect', p.connectMs],
        ['TLS', p.tlsMs],
        ['send', p.sendMs],
        ['wait', p.waitMs],
        ['receive', p.receiveMs],
      ] as const
    ).filter(([, ms]) => ms !== undefined && ms > 0);
    if (parts.length > 0) lines.push(parts.map(([name, ms]) => `${name} ${formatMs(ms ?? 0)}`).join(' · '));
  }
  if (entry.failure !== undefined) lines.push(`failed: ${entry.failure}`);
  return lines.join('\n');
}

/**
 * The request waterfall: one row per request, its bar placed by start time and duration relative to the step
 * start and coloured by resource type; failed requests are struck through in red.
 */
export function waterfallChart(entries: readonly WaterfallEntry[], pageHost: string | undefined): SafeHtml {
  const sorted = entries.map((entry, order) => ({ entry, order })).sort((a, b) => a.entry.startMs - b.entry.startMs || a.order - b.order);
  const last = Math.max(0, ...entries.map((entry) => entry.startMs + entry.durationMs));
  const { ticks, end } = niceTicks(last, 6);
  const groups = new Map<string, number>();
  for (const { entry } of sorted) groups.set(resourceGroup(entry.resourceType), (groups.get(resourceGroup(entry.resourceType)) ?? 0) + 1);
  const rows = sorted.map(({ entry }) => {
    const group = resourceGroup(entry.resourceType);
    const failed = entry.failure !== undefined || entry.status === 0;
    const classes = ['wf-row', `type-${group}`, failed ? 'failed' : '', entry.fromCache === true ? 'cached' : ''].filter((c) => c !== '').join(' ');
    const title = requestTitle(entry);
    return html`<div class="${classes}" data-request="${entry.url}" title="${title}">
<span class="wf-url"><span class="wf-dot"></span><span class="wf-method">${entry.method === 'GET' ? '' : entry.method}</span><span class="wf-path">${shortUrl(entry.url, pageHost)}</span></span>
${statusCell(entry)}<span class="wf-type">${entry.resourceType}</span><span class="wf-size">${entry.fromCache === true && entry.transferBytes === 0 ? '—' : formatBytes(entry.transferBytes)}</span><span class="wf-time">${formatMs(entry.durationMs)}</span>
<span class="wf-track"><span class="wf-bar" style="${`left:${pct(entry.startMs, end)};width:${pct(entry.durationMs, end)}`}">${barSegments(entry)}</span></span>
</div>`;
  });
  const legend = [...groups.entries()].map(([group, count]) => html`<li><span class="${`swatch type-${group}`}"></span><span class="legend-label">${groupLabels[group as keyof typeof groupLabels]}</span><span class="legend-value">${count}</span></li>`);
  return html`<div class="wf" style="${`--ticks:${Math.max(1, ticks.length - 1)}`}">
<div class="wf-row wf-head" aria-hidden="true"><span class="wf-url">Request</span><span class="wf-status">Status</span><span class="wf-type">Type</span><span class="wf-size">Size</span><span class="wf-time">Time</span><span class="wf-track">${axis(ticks, end)}</span></div>
${rows}
</div>
<ul class="legend wf-legend">${legend}<li class="legend-phases"><span class="swatch part-demo part-setup"></span>connect <span class="swatch part-demo part-wait"></span>wait <span class="swatch part-demo part-receive"></span>receive</li><li><span class="swatch failed-swatch"></span><span class="legend-label">Failed</span></li></ul>`;
}

/**
 * The visual-progress curve of a filmstrip as an inline SVG: a step line from 0 to 100 % over the frames'
 * times, with the frames as dots.
 */
export function visualProgressChart(frames: readonly FilmstripFrame[]): SafeHtml | undefined {
  const points = frames.filter((frame): frame is FilmstripFrame & { visualProgress: number } => frame.visualProgress !== undefined).sort((a, b) => a.timeMs - b.timeMs);
  if (points.length === 0) return undefined;
  const width = 640;
  const height = 168;
  const left = 40;
  const right = 12;
  const top = 12;
  const bottom = 26;
  const plotWidth = width - left - right;
  const plotHeight = height - top - bottom;
  const { ticks, end } = niceTicks(points[points.length - 1]?.timeMs ?? 0, 6);
  const x = (ms: number): number => Number((left + (Math.min(ms, end) / end) * plotWidth).toFixed(2));
  const y = (progress: number): number => Number((top + (1 - Math.min(100, Math.max(0, progress)) / 100) * plotHeight).toFixed(2));
  const coordinates: string[] = [`${x(0)},${y(0)}`];
  let previous = 0;
  for (const point of points) {
    coordinates.push(`${x(point.timeMs)},${y(previous)}`, `${x(point.timeMs)},${y(point.visualProgress)}`);
    previous = point.visualProgress;
  }
  coordinates.push(`${x(end)},${y(previous)}`);
  const area = `${coordinates.join(' ')} ${x(end)},${y(0)} ${x(0)},${y(0)}`;
  const grid = [0, 25, 50, 75, 100].map(
    (p) => `<line class="gridline" x1="${left}" x2="${width - right}" y1="${y(p)}" y2="${y(p)}"/>${p % 50 === 0 ? `<text class="label" x="${left - 6}" y="${y(p) + 3.5}" text-anchor="end">${p}%</text>` : ''}`,
  );
  const xTicks = ticks.map((tick, i) => `<line class="gridline vertical" x1="${x(tick)}" x2="${x(tick)}" y1="${top}" y2="${top + plotHeight}"/><text class="label" x="${x(tick)}" y="${height - 8}" text-anchor="${i === 0 ? 'start' : i === ticks.length - 1 ? 'end' : 'middle'}">${formatTick(tick, end)}</text>`);
  const dots = points.map((point) => `<circle class="dot" cx="${x(point.timeMs)}" cy="${y(point.visualProgress)}" r="3"><title>${formatMs(point.timeMs)}: ${Math.round(point.visualProgress)}%</title></circle>`);
  return html`<svg class="progress-chart" viewBox="${`0 0 ${width} ${height}`}" role="img" aria-label="Visual progress over time" xmlns="http://www.w3.org/2000/svg">${raw(grid.join(''))}${raw(xTicks.join(''))}<polygon class="area" points="${area}"/><polyline class="curve" points="${coordinates.join(' ')}"/>${raw(dots.join(''))}</svg>`;
}

/** A Lighthouse-style score ring (0–100). */
export function scoreGauge(score: number | null, rating: string | undefined): SafeHtml {
  const radius = 20;
  const circumference = 2 * Math.PI * radius;
  const value = score === null ? 0 : Math.round(score * 100);
  const dash = `${((value / 100) * circumference).toFixed(2)} ${circumference.toFixed(2)}`;
  return html`<span class="${`gauge ${rating ?? 'unrated'}`}"><svg viewBox="0 0 48 48" aria-hidden="true"><circle class="gauge-track" cx="24" cy="24" r="${radius}"/><circle class="gauge-value" cx="24" cy="24" r="${radius}" stroke-dasharray="${dash}" transform="rotate(-90 24 24)"/></svg><span class="gauge-number">${score === null ? '–' : value}</span></span>`;
}
