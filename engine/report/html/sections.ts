import { rateLighthouseScore, rateVital, vitalNames, vitalThresholds, type VitalRating } from '../../core/vitals-thresholds.ts';
import type { Artifact, RunResult, StepResult } from '../../schema/result.ts';
import { formatDurationMs } from '../format.ts';
import { artifactUrl, isWebLink, type Embed } from './artifacts.ts';
import { checkPanel } from './check-panel.ts';
import { navigationChart, scoreGauge, visualProgressChart, waterfallChart } from './charts.ts';
import { formatBytes, formatMs, formatThreshold, formatTimestamp, formatVital, hostOf, plural, truncateMiddle } from './format.ts';
import { html, join, type HtmlValue, type SafeHtml } from './template.ts';

type Step = StepResult;
type Status = RunResult['status'] | Step['status'];

const statusLabels: Record<Status, string> = { passed: 'Passed', warning: 'Warning', failed: 'Failed', skipped: 'Skipped', error: 'Error' };
const ratingLabels: Record<VitalRating, string> = { good: 'Good', 'needs-improvement': 'Needs improvement', poor: 'Poor' };
const blameSentences: Record<NonNullable<Step['error']>['blame'], string> = {
  site: 'The site misbehaved',
  script: 'The script needs attention',
  engine: 'The checkpoint itself failed',
};

function badge(status: Status): SafeHtml {
  return html`<span class="${`badge status-${status}`}">${statusLabels[status]}</span>`;
}

/** A URL as text, a link only when it is a plain http(s) URL. */
function urlText(url: string, max = 110): SafeHtml {
  const shown = truncateMiddle(url, max);
  return isWebLink(url) ? html`<a class="url" href="${url}" title="${url}" rel="noreferrer noopener">${shown}</a>` : html`<span class="url" title="${url}">${shown}</span>`;
}

function panel(title: string, body: HtmlValue, options: { hint?: HtmlValue; className?: string } = {}): SafeHtml {
  return html`<section class="${`panel ${options.className ?? ''}`.trim()}"><header class="panel-head"><h3>${title}</h3>${options.hint === undefined ? '' : html`<span class="hint">${options.hint}</span>`}</header>${body}</section>`;
}

/** The run header: name, verdict, when, how long, where, and anything the reader must know first. */
export function runHeader(result: RunResult): SafeHtml {
  const counts = { passed: 0, warning: 0, failed: 0, skipped: 0 };
  for (const step of result.steps) counts[step.status] += 1;
  const stepSummary = join(
    [
      counts.passed > 0 ? html`<span class="count status-passed">${counts.passed} passed</span>` : '',
      counts.warning > 0 ? html`<span class="count status-warning">${counts.warning} warning</span>` : '',
      counts.failed > 0 ? html`<span class="count status-failed">${counts.failed} failed</span>` : '',
      counts.skipped > 0 ? html`<span class="count status-skipped">${counts.skipped} skipped</span>` : '',
    ],
    html`<span class="sep">·</span>`,
  );
  const checkpoint = result.checkpoint;
  const facts: [string, HtmlValue][] = [
    ['Started', html`<time datetime="${result.startedAt}">${formatTimestamp(result.startedAt)}</time>`],
    ['Duration', formatDurationMs(result.durationMs)],
    ['Steps', result.steps.length === 0 ? 'none' : stepSummary],
  ];
  if (result.kind !== undefined) facts.push(['Kind', result.kind]);
  if (result.browser !== undefined) facts.push(['Browser', `${result.browser.name} ${result.browser.version}`]);
  if (checkpoint !== undefined) {
    const where = [checkpoint.name, checkpoint.instanceId === undefined ? undefined : `instance ${checkpoint.instanceId}`].filter((part): part is string => part !== undefined);
    facts.push(['Checkpoint', `${where.length > 0 ? `${where.join(' · ')} · ` : ''}v${checkpoint.version}`]);
  }
  if (result.queueWaitMs !== undefined) facts.push(['Queued', formatMs(result.queueWaitMs)]);
  if (result.leaseWaitMs !== undefined) facts.push(['Browser lease', formatMs(result.leaseWaitMs)]);
  const notes: SafeHtml[] = [];
  if (result.error !== undefined) notes.push(errorBox(result.error, 'The run could not complete'));
  const transaction = conditionsPanel(result.conditions, 'Transaction conditions');
  if (transaction !== undefined) notes.push(transaction);
  if (result.privacyLock === true) {
    notes.push(html`<div class="callout info" data-privacy-lock><strong>Privacy lock on.</strong> This checkpoint keeps image capture off: no screenshots or filmstrips were taken, whatever the script asked for.</div>`);
  }
  const warnings = result.warnings ?? [];
  if (warnings.length > 0) {
    notes.push(
      html`<div class="callout warn" data-warnings><strong>${plural(warnings.length, 'measurement')} could not be taken.</strong> The run itself is unaffected.<ul>${warnings.map((w) => html`<li><span class="collector">${w.collector}</span> ${w.message}</li>`)}</ul></div>`,
    );
  }
  return html`<header class="run card ${`run-${result.status}`}">
<div class="run-title"><div><p class="eyebrow">${result.kind === undefined ? 'Transaction report' : result.kind === 'api' ? 'API monitor report' : 'Check report'}</p><h1>${result.script}</h1></div>${badge(result.status)}</div>
<dl class="facts">${facts.map(([term, value]) => html`<div><dt>${term}</dt><dd>${value}</dd></div>`)}</dl>
${notes}
</header>`;
}

function vitalCell(step: Step): SafeHtml {
  const lcp = step.vitals?.lcpMs;
  if (lcp === undefined) return html`<span class="none">—</span>`;
  const rating = rateVital('lcpMs', lcp);
  return html`<span class="${`rated ${rating}`}">${formatVital('lcpMs', lcp)}</span>`;
}

/** The step table: one row per step with the figures a reader scans first. */
export function stepTable(result: RunResult): SafeHtml {
  const longest = Math.max(0, ...result.steps.map((step) => (step.status === 'skipped' ? 0 : step.durationMs)));
  const rows = result.steps.map((step, index) => {
    const skipped = step.status === 'skipped';
    const nav = step.navigation;
    // A check step has no page load, but its request's (or connection's) time to first byte is the same figure.
    const ttfbMs = nav?.ttfbMs ?? step.check?.phases['ttfbMs'];
    const requests = step.requests;
    const width = longest > 0 && !skipped ? `${Number(((step.durationMs / longest) * 100).toFixed(2))}%` : '0%';
    return html`<tr class="${`status-${step.status}`}" data-step-row="${index + 1}">
<td class="idx">${index + 1}</td>
<td class="name"><a href="${`#step-${index + 1}`}">${step.name}</a>${step.error === undefined ? '' : html`<div class="sub">${step.error.code} · ${truncateMiddle(step.error.message, 90)}</div>`}</td>
<td>${badge(step.status)}</td>
<td class="num duration">${skipped ? html`<span class="none">—</span>` : html`<span class="dur-value">${formatDurationMs(step.durationMs)}</span><span class="minibar"><span style="${`width:${width}`}"></span></span>`}</td>
<td class="num">${ttfbMs === undefined ? html`<span class="none">—</span>` : formatMs(ttfbMs)}</td>
<td class="num">${nav === undefined || nav.loadMs <= 0 ? html`<span class="none">—</span>` : formatMs(nav.loadMs)}</td>
<td class="num">${vitalCell(step)}</td>
<td class="num">${requests === undefined ? html`<span class="none">—</span>` : requests.count}</td>
<td class="num">${requests === undefined ? html`<span class="none">—</span>` : formatBytes(requests.bytes)}</td>
<td class="num">${requests === undefined ? html`<span class="none">—</span>` : requests.failed > 0 ? html`<span class="rated poor">${requests.failed}</span>` : html`<span class="zero">0</span>`}</td>
</tr>`;
  });
  return html`<section class="card steps-card"><h2 class="card-title">Steps</h2><div class="table-wrap"><table class="steps">
<thead><tr><th class="idx">#</th><th>Step</th><th>Status</th><th class="num">Duration</th><th class="num">TTFB</th><th class="num">Load</th><th class="num">LCP</th><th class="num">Requests</th><th class="num">Bytes</th><th class="num">Failed</th></tr></thead>
<tbody>${rows}</tbody></table></div></section>`;
}

/** What went wrong, in the order a reader needs it: code and who is to blame, the sentence, the selector. */
export function errorBox(error: NonNullable<Step['error']>, heading: string): SafeHtml {
  return html`<div class="error-box" role="alert" data-error-code="${error.code}">
<div class="error-head"><span class="error-title">${heading}</span><code class="error-code">${error.code}</code><span class="${`blame blame-${error.blame}`}" title="${blameSentences[error.blame]}">blame: ${error.blame}</span>${error.action === undefined ? '' : html`<span class="error-action">action ${error.action + 1}</span>`}</div>
<p class="error-message">${error.message}</p>
${error.selector === undefined ? '' : html`<p class="error-selector"><span>Selector</span><code>${error.selector}</code></p>`}
</div>`;
}

function vitalsPanel(vitals: NonNullable<Step['vitals']>): SafeHtml | undefined {
  if (vitalNames.every((name) => vitals[name] === undefined)) return undefined;
  const chips = vitalNames.map((name) => {
    const value = vitals[name];
    const threshold = vitalThresholds[name];
    const bounds = `good ≤ ${formatThreshold(name, threshold.good)}, poor > ${formatThreshold(name, threshold.poor)}`;
    if (value === undefined) {
      return html`<li class="vital unmeasured" data-vital="${name}" title="${`${threshold.title}: not measured in this step`}"><span class="vital-label">${threshold.label}</span><span class="vital-value">—</span><span class="vital-rating">not measured</span><span class="vital-title">${threshold.title}</span></li>`;
    }
    const rating = rateVital(name, value);
    const tip = `${threshold.title}: ${ratingLabels[rating].toLowerCase()} (${bounds})`;
    return html`<li class="${`vital ${rating}`}" data-vital="${name}" data-rating="${rating}" title="${tip}"><span class="vital-label">${threshold.label}</span><span class="vital-value">${formatVital(name, value)}</span><span class="vital-rating"><span class="dot"></span>${ratingLabels[rating]}</span><span class="vital-title">${threshold.title}</span></li>`;
  });
  return panel('Web vitals', html`<ul class="vitals">${chips}</ul>`, { hint: 'coloured by the web.dev thresholds', className: 'vitals-panel' });
}

function navigationPanel(nav: NonNullable<Step['navigation']>, stepUrl: string | undefined): SafeHtml {
  const meta: HtmlValue[] = [
    nav.httpStatus === undefined ? '' : html`<span class="${nav.httpStatus >= 400 ? 'rated poor' : ''}">HTTP ${nav.httpStatus}</span>`,
    nav.transferSizeBytes === undefined ? '' : html`<span>${formatBytes(nav.transferSizeBytes)} transferred</span>`,
    (nav.redirectCount ?? 0) > 0 ? html`<span>${plural(nav.redirectCount ?? 0, 'redirect')}</span>` : '',
  ];
  return panel('Navigation', html`${nav.url === stepUrl ? '' : html`<p class="nav-url">${urlText(nav.url)}</p>`}${navigationChart(nav)}<p class="meta">${join(meta, html`<span class="sep">·</span>`)}</p>`, { hint: 'from navigation start', className: 'nav-panel' });
}

function softNavigationsPanel(soft: NonNullable<Step['softNavigations']>): SafeHtml {
  return panel(
    'Soft navigations',
    html`<ol class="soft-navs">${soft.map((item, i) => html`<li><span class="soft-idx">${i + 1}</span><span class="soft-url">${urlText(item.url, 140)}</span><span class="soft-dur">${formatMs(item.durationMs)}</span></li>`)}</ol>`,
    { hint: 'client-side route changes · time until the DOM settled', className: 'soft-panel' },
  );
}

function imageFor(path: string, alt: string, embed: Embed | undefined, className: string): SafeHtml {
  const src = artifactUrl(path, embed);
  if (src === undefined) return html`<span class="${`${className} missing`}" title="${path}">image unavailable</span>`;
  return html`<img class="${className}" src="${src}" alt="${alt}" decoding="async">`;
}

function filmstripPanel(step: Step, stepNumber: number, embed: Embed | undefined): SafeHtml | undefined {
  const frames = step.filmstrip ?? [];
  if (frames.length === 0) return undefined;
  let previous: number | undefined;
  const items = frames.map((frame) => {
    const changed = frame.visualProgress !== undefined && frame.visualProgress !== (previous ?? 0);
    if (frame.visualProgress !== undefined) previous = frame.visualProgress;
    const done = frame.visualProgress === 100;
    return html`<figure class="${`frame${changed ? ' changed' : ''}${done ? ' complete' : ''}`}">${imageFor(frame.path, `Step ${stepNumber} at ${formatMs(frame.timeMs)}`, embed, 'thumb')}<figcaption><span class="frame-time">${formatMs(frame.timeMs)}</span>${frame.visualProgress === undefined ? '' : html`<span class="frame-progress">${Math.round(frame.visualProgress)}%</span>`}</figcaption></figure>`;
  });
  const curve = visualProgressChart(frames);
  const metrics = step.visualMetrics;
  const metricList =
    metrics === undefined
      ? ''
      : html`<dl class="visual-metrics">${(
          [
            ['First visual change', metrics.firstVisualChangeMs],
            ['Speed Index', metrics.speedIndex],
            ['Visually complete 85%', metrics.visuallyComplete85Ms],
            ['Visually complete 95%', metrics.visuallyComplete95Ms],
            ['Last visual change', metrics.lastVisualChangeMs],
          ] as const
        ).map(([term, value]) => html`<div><dt>${term}</dt><dd>${term === 'Speed Index' ? String(Math.round(value)) : formatMs(value)}</dd></div>`)}</dl>`;
  const analysis = curve === undefined && metrics === undefined ? '' : html`<div class="visual">${curve === undefined ? '' : html`<div class="curve-wrap">${curve}</div>`}${metricList}</div>`;
  return panel('Filmstrip', html`<div class="filmstrip">${items}</div>${analysis}`, { hint: `${plural(frames.length, 'frame')} · highlighted when the page changed`, className: 'filmstrip-panel' });
}

const conditionMarks = { ok: '✓', warning: '!', error: '✕' } as const;

/** Error conditions as judged: breaches first, then those that held, then those not measured. */
function conditionsPanel(outcomes: Step['conditions'], title = 'Error conditions'): SafeHtml | undefined {
  if (outcomes === undefined || outcomes.length === 0) return undefined;
  const rank = (o: NonNullable<Step['conditions']>[number]) => (o.breached ? (o.level === 'error' ? 0 : 1) : o.actual === undefined && o.metric !== 'pageText' ? 3 : 2);
  const items = [...outcomes]
    .sort((a, b) => rank(a) - rank(b))
    .map((outcome) => {
      const state = outcome.breached ? `breach-${outcome.level}` : rank(outcome) === 3 ? 'unchecked' : 'ok';
      const mark = outcome.breached ? conditionMarks[outcome.level] : rank(outcome) === 3 ? '–' : conditionMarks.ok;
      return html`<li class="${state}" data-condition="${outcome.metric}" data-breached="${String(outcome.breached)}"><span class="cond-mark">${mark}</span><span class="cond-level">${outcome.level}</span><span class="cond-text">${outcome.message}</span></li>`;
    });
  const breaches = outcomes.filter((o) => o.breached).length;
  return panel(title, html`<ul class="conditions">${items}</ul>`, { hint: breaches === 0 ? `${plural(outcomes.length, 'condition')}, none breached` : `${plural(breaches, 'breach', 'breaches')} of ${outcomes.length}`, className: 'conditions-panel' });
}

function waterfallPanel(step: Step): SafeHtml | undefined {
  const requests = step.requests;
  const entries = step.waterfall ?? [];
  if (entries.length === 0 && requests === undefined) return undefined;
  const hint = requests === undefined ? plural(entries.length, 'request') : html`${plural(requests.count, 'request')} · ${formatBytes(requests.bytes)}${requests.failed > 0 ? html` · <span class="rated poor">${requests.failed} failed</span>` : ''}${entries.length < requests.count && entries.length > 0 ? html` · first ${entries.length} shown` : ''}`;
  const body = entries.length === 0 ? html`<p class="empty">No request details were recorded for this step.</p>` : waterfallChart(entries, hostOf(step.navigation?.url ?? step.url));
  return panel('Requests', body, { hint, className: 'waterfall-panel' });
}

function screenshotPanel(step: Step, stepNumber: number, embed: Embed | undefined): SafeHtml | undefined {
  if (step.screenshot === undefined) return undefined;
  const src = artifactUrl(step.screenshot, embed);
  const title = step.status === 'failed' ? 'Screenshot at the failure' : 'Screenshot';
  const image = imageFor(step.screenshot, `${title}, step ${stepNumber}`, embed, 'shot');
  return panel(title, html`<figure class="screenshot">${src === undefined ? image : html`<a href="${src}" title="Open full size">${image}</a>`}<figcaption>${step.screenshot}</figcaption></figure>`, { className: 'screenshot-panel' });
}

const actionSymbols: Record<Step['actions'][number]['status'], string> = { passed: '✓', failed: '✕', skipped: '–' };

function actionsPanel(step: Step): SafeHtml | undefined {
  if (step.actions.length === 0) return undefined;
  const items = step.actions.map((action) => {
    const alternative = action.matchedSelectorIndex !== undefined && action.matchedSelectorIndex > 0;
    const isErrorAction = step.error?.action === action.index;
    return html`<li class="${`action status-${action.status}${isErrorAction ? ' at-error' : ''}`}" data-action="${action.index}">
<span class="action-status" title="${action.status}">${actionSymbols[action.status]}</span>
<span class="action-idx">${action.index + 1}</span>
<span class="action-body"><span class="action-type">${action.type}</span>${action.matchedSelector === undefined ? '' : html`<code class="selector" title="${action.matchedSelector}">${truncateMiddle(action.matchedSelector, 80)}</code>`}${alternative ? html`<span class="flag" data-alternative title="The first selector alternative did not match; the script may need updating.">alternative ${(action.matchedSelectorIndex ?? 0) + 1} matched</span>` : ''}</span>
<span class="action-dur">${action.status === 'skipped' ? '' : formatMs(action.durationMs)}</span>
</li>`;
  });
  return panel('Actions', html`<ol class="actions">${items}</ol>`, { hint: plural(step.actions.length, 'action'), className: 'actions-panel' });
}

const categoryLabels: Record<string, string> = { performance: 'Performance', accessibility: 'Accessibility', 'best-practices': 'Best practices', seo: 'SEO', pwa: 'PWA' };
const metricLabels: Record<string, string> = {
  fcpMs: 'First Contentful Paint',
  lcpMs: 'Largest Contentful Paint',
  tbtMs: 'Total Blocking Time',
  cls: 'Cumulative Layout Shift',
  speedIndexMs: 'Speed Index',
  inpMs: 'Interaction to Next Paint',
  serverResponseMs: 'Server response time',
};

function lighthousePanel(step: Step, embed: Embed | undefined): SafeHtml | undefined {
  const lh = step.lighthouse;
  if (lh === undefined) return undefined;
  const scores = Object.entries(lh.scores).map(
    ([id, score]) => html`<li class="score" data-category="${id}">${scoreGauge(score, rateLighthouseScore(score))}<span class="score-label">${categoryLabels[id] ?? id}</span></li>`,
  );
  const metrics = Object.entries(lh.metrics).map(([name, value]) => html`<div><dt>${metricLabels[name] ?? name}</dt><dd>${name === 'cls' ? String(Number(value.toFixed(3))) : formatMs(value)}</dd></div>`);
  const report = lh.reportHtml === undefined ? undefined : artifactUrl(lh.reportHtml, embed);
  const link = report === undefined ? '' : html`<p class="lh-link"><a href="${report}">Open the full Lighthouse report</a></p>`;
  return panel('Lighthouse', html`<div class="lh-body"><ul class="scores">${scores}</ul>${metrics.length === 0 ? '' : html`<dl class="lh-metrics">${metrics}</dl>`}</div>${link}`, { hint: `${lh.mode} mode`, className: 'lighthouse-panel' });
}

/** One step in full: error, conditions, the check's request and phases, navigation, vitals, filmstrip, waterfall, screenshot, actions, Lighthouse. */
export function stepSection(step: Step, index: number, result: RunResult, embed: Embed | undefined): SafeHtml {
  const number = index + 1;
  const head = html`<header class="step-head"><span class="${`step-num status-${step.status}`}">${number}</span><h2>${step.name}</h2>${badge(step.status)}<span class="step-dur">${step.status === 'skipped' ? '' : formatDurationMs(step.durationMs)}</span>${step.url === undefined ? '' : html`<p class="step-url">${urlText(step.url)}</p>`}</header>`;
  if (step.status === 'skipped') {
    return html`<section class="card step skipped" id="${`step-${number}`}" data-step="${number}">${head}<p class="empty">This step did not run.</p></section>`;
  }
  const top = [
    step.vitals === undefined ? undefined : vitalsPanel(step.vitals),
    step.navigation === undefined ? undefined : navigationPanel(step.navigation, step.url),
    step.softNavigations === undefined || step.softNavigations.length === 0 ? undefined : softNavigationsPanel(step.softNavigations),
  ];
  const bottom = [screenshotPanel(step, number, embed), actionsPanel(step)].filter((part): part is SafeHtml => part !== undefined);
  const privacy = result.privacyLock === true && step.screenshot === undefined && (step.filmstrip ?? []).length === 0 ? html`<p class="privacy-note">Images withheld by the privacy lock.</p>` : '';
  return html`<section class="${`card step status-${step.status}`}" id="${`step-${number}`}" data-step="${number}">
${head}
${step.error === undefined ? '' : errorBox(step.error, 'Step failed')}
${conditionsPanel(step.conditions)}
${step.check === undefined ? '' : checkPanel(step.check)}
${top}
${filmstripPanel(step, number, embed)}
${waterfallPanel(step)}
${bottom.length === 0 ? '' : html`<div class="${`panels bottom n${bottom.length}`}">${bottom}</div>`}
${lighthousePanel(step, embed)}
${privacy}
</section>`;
}

const kindLabels: Record<Artifact['kind'], string> = { screenshot: 'Screenshot', 'filmstrip-frame': 'Filmstrip frames', har: 'HAR', report: 'Report', lighthouse: 'Lighthouse', log: 'Log' };

/** The files of the run; filmstrip frames are summed up rather than listed one by one. */
export function artifactsSection(result: RunResult, embed: Embed | undefined): SafeHtml {
  if (result.artifacts.length === 0) return html``;
  const frames = result.artifacts.filter((artifact) => artifact.kind === 'filmstrip-frame');
  const listed = result.artifacts.filter((artifact) => artifact.kind !== 'filmstrip-frame');
  const rows = listed.map((artifact) => {
    const href = artifactUrl(artifact.path, embed);
    return html`<li><span class="kind">${kindLabels[artifact.kind]}</span>${href === undefined ? html`<span class="path">${artifact.path}</span>` : html`<a class="path" href="${href}">${artifact.path}</a>`}<span class="step-ref">${artifact.step === undefined ? '' : `step ${artifact.step + 1}`}</span><span class="size">${formatBytes(artifact.sizeBytes)}</span></li>`;
  });
  if (frames.length > 0) {
    const bytes = frames.reduce((sum, frame) => sum + frame.sizeBytes, 0);
    rows.push(html`<li><span class="kind">${kindLabels['filmstrip-frame']}</span><span class="path">${plural(frames.length, 'frame')}</span><span class="step-ref"></span><span class="size">${formatBytes(bytes)}</span></li>`);
  }
  return html`<section class="card files"><h2 class="card-title">Files</h2><ul class="artifacts">${rows}</ul></section>`;
}
