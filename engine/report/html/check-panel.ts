import type { CheckStep } from '../../schema/result.ts';
import { formatBytes, formatMs, plural, truncateMiddle } from './format.ts';
import { html, join, type SafeHtml } from './template.ts';

/** Human names of the phases a check times, in the order they happen. */
const phaseLabels: Record<string, string> = {
  dnsMs: 'DNS',
  connectMs: 'Connect',
  tlsMs: 'TLS',
  bannerMs: 'Banner',
  authMs: 'Auth',
  queryMs: 'Query',
  ttfbMs: 'Time to first byte',
  downloadMs: 'Download',
  transferMs: 'Transfer',
};
const phaseOrder = Object.keys(phaseLabels);

/** Details worth a human label; others show under their own name. */
const detailLabels: Record<string, string> = {
  status: 'HTTP status',
  remoteAddress: 'Address',
  tlsProtocol: 'TLS protocol',
  tlsCipher: 'Cipher',
  certificateSubject: 'Certificate subject',
  certificateIssuer: 'Certificate issuer',
  certificateValidTo: 'Valid to',
  certificateDaysLeft: 'Days to expiry',
  certificateTrusted: 'Certificate trusted',
  certificateProblem: 'Certificate problem',
  redirects: 'Redirects',
  redirectMs: 'Redirect time',
  authTokenMs: 'OAuth2 token time',
};

function detailValue(name: string, value: string | number | boolean): string {
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'number' && name.endsWith('Ms')) return formatMs(value);
  if (typeof value === 'number' && name.endsWith('Bytes')) return formatBytes(value);
  return truncateMiddle(String(value), 160);
}

/** The phases as one stacked bar, each segment as wide as its share, with a legend of the figures. */
function phaseBar(phases: Readonly<Record<string, number>>): SafeHtml {
  const entries = Object.entries(phases).sort(([a], [b]) => (phaseOrder.indexOf(a) === -1 ? 99 : phaseOrder.indexOf(a)) - (phaseOrder.indexOf(b) === -1 ? 99 : phaseOrder.indexOf(b)));
  const total = entries.reduce((sum, [, value]) => sum + value, 0);
  const segments = entries.map(([name, value], index) => {
    const width = total > 0 ? Number(((value / total) * 100).toFixed(2)) : 0;
    return html`<span class="${`phase-seg seg-${index % 6}`}" style="${`width:${width}%`}" title="${`${phaseLabels[name] ?? name}: ${formatMs(value)}`}"></span>`;
  });
  const legend = entries.map(([name, value], index) => html`<li data-phase="${name}"><span class="${`phase-key seg-${index % 6}`}"></span>${phaseLabels[name] ?? name}<strong>${formatMs(value)}</strong></li>`);
  return html`<div class="phase-bar" role="img" aria-label="Timed phases">${segments}</div><ul class="phase-legend">${legend}</ul>`;
}

/**
 * A non-browser step in full: the request (method, URL, status, size, redirects), the timed phases, what the
 * check found (TLS, certificate, banner, rows...), its assertions and warnings. The same panel for every kind.
 */
export function checkPanel(check: CheckStep): SafeHtml {
  const http = check.http;
  const request =
    http === undefined
      ? ''
      : html`<p class="check-request"><code>${http.method}</code> <span class="url" title="${http.url}">${truncateMiddle(http.url, 110)}</span>${join(
          [
            http.status === undefined ? '' : html`<span class="${http.status >= 400 ? 'rated poor' : ''}">HTTP ${http.status}</span>`,
            http.sizeBytes === undefined ? '' : html`<span>${formatBytes(http.sizeBytes)}</span>`,
            http.redirects > 0 ? html`<span>${plural(http.redirects, 'redirect')}</span>` : '',
            http.responseTimeMs === undefined ? '' : html`<span>response ${formatMs(http.responseTimeMs)}</span>`,
          ].filter((part) => part !== ''),
          html`<span class="sep">·</span>`,
        )}</p>`;
  const phases = Object.keys(check.phases).length === 0 ? html`<p class="empty">No phase completed.</p>` : phaseBar(check.phases);
  const details = Object.entries(check.details).filter(([name]) => name !== 'status' || http === undefined);
  const detailList = details.length === 0 ? '' : html`<dl class="check-details">${details.map(([name, value]) => html`<div data-detail="${name}"><dt>${detailLabels[name] ?? name}</dt><dd>${detailValue(name, value)}</dd></div>`)}</dl>`;
  const assertions = check.assertions ?? [];
  const assertionList =
    assertions.length === 0
      ? ''
      : html`<ul class="assertions">${assertions.map(
          (assertion) =>
            html`<li class="${assertion.passed ? 'ok' : 'breach-error'}" data-assertion-passed="${String(assertion.passed)}"><span class="cond-mark">${assertion.passed ? '✓' : '✕'}</span><code>${assertion.description}</code><span class="actual">${assertion.passed ? '' : `got ${assertion.actual}`}</span></li>`,
        )}</ul>`;
  const warnings = check.warnings ?? [];
  const warningList = warnings.length === 0 ? '' : html`<div class="callout warn" data-check-warnings><ul>${warnings.map((warning) => html`<li>${warning}</li>`)}</ul></div>`;
  const extracted = (check.extracted ?? []).length === 0 ? '' : html`<p class="meta">Extracted: ${(check.extracted ?? []).map((name) => html`<code>${name}</code> `)}</p>`;
  const failedAssertions = assertions.filter((assertion) => !assertion.passed).length;
  const hint = `${check.kind}${assertions.length === 0 ? '' : ` · ${plural(assertions.length, 'assertion')}${failedAssertions > 0 ? `, ${failedAssertions} failed` : ''}`}`;
  return html`<section class="panel check-panel" data-check-kind="${check.kind}"><header class="panel-head"><h3>${http === undefined ? 'Check' : 'Request'}</h3><span class="hint">${hint}</span></header>
${request}${phases}${warningList}${detailList}${assertionList}${extracted}
</section>`;
}
