import type { RunResult } from '../schema/result.ts';
import type { Embed } from './html/artifacts.ts';
import { artifactsSection, runHeader, stepSection, stepTable } from './html/sections.ts';
import { reportCss } from './html/styles.ts';
import { html, raw } from './html/template.ts';

export interface HtmlReportOptions {
  /** The document title; defaults to `<script> — <status>`. */
  title?: string;
  /**
   * Turns an artifact path (relative to the output directory) into the URL an `<img>` or link should use,
   * e.g. a `data:` URL to make the file fully standalone, or a dashboard URL. `undefined` keeps the relative
   * path, which works when report.html sits in the output directory next to its artifacts.
   */
  embed?: (path: string) => string | undefined;
}

/**
 * Everything the report may load: its own inline styles, and images from the report's own place, `data:`
 * URLs or local files. No scripts, fonts, frames or connections — the browser enforces it, even if a result
 * was tampered with.
 */
const contentSecurityPolicy = "default-src 'none'; img-src 'self' data: file:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";

const statusWords: Record<RunResult['status'], string> = { passed: 'passed', warning: 'passed with warnings', failed: 'failed', error: 'error' };

/**
 * The run as one self-contained HTML page: summary header, step table, then each step in full (navigation
 * timing bar, web vitals, soft navigations, filmstrip with its visual-progress curve, request waterfall,
 * screenshot, error, actions, Lighthouse) and the run's files. A pure function of the result: inline CSS and
 * SVG only, no script, no external request; every string from the result is HTML-escaped.
 */
export function renderHtmlReport(result: RunResult, options: HtmlReportOptions = {}): string {
  const embed: Embed | undefined = options.embed;
  const title = options.title ?? `${result.script} — ${statusWords[result.status]}`;
  const page = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="color-scheme" content="light dark">
<meta name="generator" content="private-checkpoint">
<title>${title}</title>
<style>${raw(reportCss)}</style>
</head>
<body>
<main class="page" data-run-id="${result.runId}" data-status="${result.status}">
${runHeader(result)}
${result.steps.length === 0 ? html`<section class="card"><p class="empty">This run has no steps.</p></section>` : stepTable(result)}
${result.steps.map((step, index) => stepSection(step, index, result, embed))}
${artifactsSection(result, embed)}
<footer class="page-foot">private-checkpoint · result schema v${result.schemaVersion} · run <code>${result.runId}</code></footer>
</main>
</body>
</html>
`;
  return page.value;
}
