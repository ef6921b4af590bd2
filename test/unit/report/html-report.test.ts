import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderHtmlReport } from '../../../engine/report/html-report.ts';
import { resultSchema, type RunResult, type StepResult } from '../../../engine/schema/result.ts';
import { richResult } from '../../fixtures/rich-result.ts';

function minimalResult(steps: StepResult[], extra: Partial<RunResult> = {}): RunResult {
  return resultSchema.parse({
    schemaVersion: 1,
    runId: 'run-1',
    script: 'Minimal',
    status: steps.some((s) => s.status === 'failed') ? 'failed' : 'passed',
    startedAt: '2025-05-14T07:30:12.000Z',
    durationMs: 1234,
    steps,
    artifacts: [],
    ...extra,
  });
}

const allowedTags = new Set([
  'html', 'head', 'meta', 'title', 'style', 'body', 'main', 'header', 'footer', 'section', 'div', 'p', 'span', 'strong', 'h1', 'h2', 'h3', 'dl', 'dt', 'dd', 'ul', 'ol', 'li',
  'table', 'thead', 'tbody', 'tr', 'th', 'td', 'a', 'code', 'time', 'figure', 'figcaption', 'img', 'svg', 'line', 'text', 'polygon', 'polyline', 'circle',
]);
const tagPattern = /<\/?([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z:-]+(?:="[^"<>]*")?)*)\s*\/?>/g;

/** Every tag of the document, with its attributes; fails if any `<` or `>` is left outside a tag (markup leaked through). */
function parseTags(html: string): { tag: string; attributes: Map<string, string> }[] {
  const withoutStyle = html.replace(/<style>[\s\S]*?<\/style>/, '<style></style>').replace(/^<!doctype html>/, '');
  const tags: { tag: string; attributes: Map<string, string> }[] = [];
  const leftover = withoutStyle.replace(tagPattern, (_match, tag: string, attributes: string) => {
    const map = new Map<string, string>();
    for (const [, name, value] of attributes.matchAll(/\s([a-zA-Z:-]+)(?:="([^"]*)")?/g)) map.set(name ?? '', value ?? '');
    tags.push({ tag: tag.toLowerCase(), attributes: map });
    return '';
  });
  assert.doesNotMatch(leftover, /[<>]/, `markup outside a tag: ${leftover.match(/.{0,40}[<>].{0,40}/)?.[0] ?? ''}`);
  return tags;
}

const hostile = '<script>alert(1)</script><img src=x onerror=alert(2)>"\'`';

describe('renderHtmlReport', () => {
  it('escapes hostile text from the page everywhere: names, URLs, messages, selectors, warnings', () => {
    const result = minimalResult(
      [
        {
          name: `Search ${hostile}`,
          status: 'failed',
          durationMs: 10,
          url: `https://intranet.example/search?q=${hostile}`,
          navigation: { url: `https://intranet.example/?${hostile}`, dnsMs: 1, connectMs: 2, tlsMs: 0, ttfbMs: 3, downloadMs: 4, domContentLoadedMs: 20, loadMs: 30 },
          softNavigations: [{ url: `javascript:alert(1)//${hostile}`, durationMs: 5 }],
          waterfall: [
            { url: `https://intranet.example/api?q=${hostile}`, method: `GET${hostile}`, status: 0, resourceType: hostile, startMs: 0, durationMs: 5, transferBytes: 0, failure: hostile },
          ],
          actions: [{ index: 0, type: hostile, status: 'failed', durationMs: 3, matchedSelector: hostile }],
          screenshot: `screenshots/${hostile}.png`,
          error: { code: 'ASSERTION_FAILED', message: hostile, blame: 'site', selector: hostile, action: 0 },
        },
      ],
      { script: hostile, runId: hostile, warnings: [{ collector: hostile, message: hostile }], checkpoint: { name: hostile, version: hostile }, browser: { name: hostile, version: '1' } },
    );
    const html = renderHtmlReport(result);
    const tags = parseTags(html);
    assert.ok(!tags.some((t) => t.tag === 'script'), 'no script element');
    for (const { tag, attributes } of tags) {
      assert.ok(allowedTags.has(tag), `unexpected <${tag}>`);
      for (const name of attributes.keys()) assert.doesNotMatch(name, /^on/i, `event handler attribute on <${tag}>`);
      const href = attributes.get('href');
      if (href !== undefined) assert.match(href, /^(#|https?:\/\/|[a-z0-9._%-]+\/|[a-z0-9._%-]+$)/i, `href ${href}`);
    }
    const images = tags.filter((t) => t.tag === 'img');
    assert.equal(images.length, 1, 'only the screenshot is an image');
    const src = images[0]?.attributes.get('src') ?? '';
    assert.ok(src.startsWith('screenshots/%3Cscript%3Ealert(1)%3C/script%3E%3Cimg%20src%3Dx%20onerror%3Dalert(2)%3E%22'), src);
    assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'), 'the step name is shown as text');
    assert.ok(!tags.some((t) => t.tag === 'a' && (t.attributes.get('href') ?? '').startsWith('javascript:')), 'javascript: URLs are never links');
  });

  it('shows every step in the table and as a section, in order', () => {
    const result = richResult();
    const html = renderHtmlReport(result);
    result.steps.forEach((step, i) => {
      assert.ok(html.includes(`data-step-row="${i + 1}"`), `row ${i + 1}`);
      assert.ok(html.includes(`id="step-${i + 1}" data-step="${i + 1}"`), `section ${i + 1}`);
    });
    const order = [...html.matchAll(/<section class="card step[^"]*" id="step-(\d+)"/g)].map((m) => Number(m[1]));
    assert.deepEqual(order, [1, 2, 3, 4, 5]);
    const names = [...html.matchAll(/<h2>([^<]*)<\/h2>/g)].map((m) => m[1]);
    assert.deepEqual(names, result.steps.map((s) => s.name));
  });

  it('colours web vitals by the standard thresholds', () => {
    const rated = (vitals: NonNullable<StepResult['vitals']>): Record<string, string> => {
      const html = renderHtmlReport(minimalResult([{ name: 'S', status: 'passed', durationMs: 1, vitals, actions: [] }]));
      return Object.fromEntries([...html.matchAll(/data-vital="(\w+)" data-rating="([\w-]+)"/g)].map((m) => [m[1] ?? '', m[2] ?? '']));
    };
    assert.deepEqual(rated({ fcpMs: 1800, lcpMs: 2500, cls: 0.1, tbtMs: 200, inpMs: 200 }), { fcpMs: 'good', lcpMs: 'good', cls: 'good', tbtMs: 'good', inpMs: 'good' });
    assert.deepEqual(rated({ fcpMs: 1801, lcpMs: 4000, cls: 0.25, tbtMs: 600, inpMs: 500 }), {
      fcpMs: 'needs-improvement',
      lcpMs: 'needs-improvement',
      cls: 'needs-improvement',
      tbtMs: 'needs-improvement',
      inpMs: 'needs-improvement',
    });
    assert.deepEqual(rated({ fcpMs: 3001, lcpMs: 4001, cls: 0.26, tbtMs: 601, inpMs: 501 }), { fcpMs: 'poor', lcpMs: 'poor', cls: 'poor', tbtMs: 'poor', inpMs: 'poor' });
    const partial = renderHtmlReport(minimalResult([{ name: 'S', status: 'passed', durationMs: 1, vitals: { inpMs: 700 }, actions: [] }]));
    assert.match(partial, /class="vital unmeasured" data-vital="lcpMs"/, 'a vital not measured is shown as such, not as good');
    assert.match(partial, /class="vital poor" data-vital="inpMs" data-rating="poor"/);
  });

  it('renders a result with no optional fields at all', () => {
    const html = renderHtmlReport(minimalResult([{ name: 'Only step', status: 'passed', durationMs: 0, actions: [] }]));
    assert.match(html, /Only step/);
    assert.doesNotMatch(html, /undefined|NaN|Infinity|\[object Object\]/);
    for (const absent of ['data-vital=', 'class="nav-chart"', 'class="wf"', 'class="filmstrip"', '<img', 'class="error-box"', 'data-privacy-lock', 'data-warnings']) {
      assert.ok(!html.includes(absent), `${absent} not rendered`);
    }
  });

  it('renders partial measurements without crashing: zero timings, empty waterfall, frames without progress, run-level error, no steps', () => {
    const step: StepResult = {
      name: 'Odd',
      status: 'passed',
      durationMs: 0,
      navigation: { url: 'about:blank', dnsMs: 0, connectMs: 0, tlsMs: 0, ttfbMs: 0, downloadMs: 0, domContentLoadedMs: 0, loadMs: 0 },
      vitals: {},
      requests: { count: 3, bytes: 0, failed: 0 },
      waterfall: [],
      filmstrip: [{ timeMs: 0, path: 'filmstrip/a.webp' }],
      softNavigations: [],
      lighthouse: { mode: 'timespan', scores: { performance: null }, metrics: {} },
      actions: [{ index: 0, type: 'evaluate', status: 'passed', durationMs: 0 }],
    };
    const html = renderHtmlReport(minimalResult([step], { error: { code: 'BROWSER_CRASHED', message: 'gone', blame: 'engine' } }));
    assert.doesNotMatch(html, /undefined|NaN|Infinity/);
    assert.match(html, /No request details were recorded/);
    assert.match(html, /data-error-code="BROWSER_CRASHED"/);
    assert.doesNotMatch(html, /<svg class="progress-chart"/, 'no curve without visual progress');
    const empty = renderHtmlReport(minimalResult([], { status: 'error' }));
    assert.match(empty, /This run has no steps/);
    assert.doesNotMatch(empty, /undefined|NaN/);
  });

  it('shows skipped steps as not run, without figures', () => {
    const result = richResult();
    const html = renderHtmlReport(result);
    const section = html.slice(html.indexOf('id="step-5"'));
    assert.match(section, /This step did not run/);
    assert.match(html, /<section class="card step skipped" id="step-5"/);
    const row = html.slice(html.indexOf('data-step-row="5"'), html.indexOf('</tr>', html.indexOf('data-step-row="5"')));
    assert.match(row, /status-skipped/);
    assert.doesNotMatch(row, /\d ms|\d s\b/, 'no duration for a step that did not run');
  });

  it('draws the navigation phases and the waterfall bars to scale', () => {
    const html = renderHtmlReport(
      minimalResult([
        {
          name: 'Scale',
          status: 'passed',
          durationMs: 1000,
          navigation: { url: 'https://a.example/', dnsMs: 10, connectMs: 30, tlsMs: 20, ttfbMs: 50, downloadMs: 10, domContentLoadedMs: 200, loadMs: 400 },
          waterfall: [
            { url: 'https://a.example/late.js', method: 'GET', status: 200, resourceType: 'script', startMs: 500, durationMs: 250, transferBytes: 10 },
            { url: 'https://a.example/', method: 'GET', status: 200, resourceType: 'document', startMs: 0, durationMs: 1000, transferBytes: 10 },
            { url: 'https://b.example/x', method: 'POST', status: 0, resourceType: 'fetch', startMs: 100, durationMs: 50, transferBytes: 0, failure: 'net::ERR_FAILED' },
          ],
          actions: [],
        },
      ]),
    );
    // Axis 0–400 ms: DNS 0–10, TCP 10–20, TLS 20–40, wait 40–90, download 90–100, markers at 200 and 400.
    assert.match(html, /phase-dns" style="left:0%;width:2.5%"/);
    assert.match(html, /phase-connect" style="left:2.5%;width:2.5%"/);
    assert.match(html, /phase-tls" style="left:5%;width:5%"/);
    assert.match(html, /phase-wait" style="left:10%;width:12.5%"/);
    assert.match(html, /phase-download" style="left:22.5%;width:2.5%"/);
    assert.match(html, /marker-dcl" style="left:50%"/);
    assert.match(html, /marker-load" style="left:100%"/);
    // Waterfall axis 0–1000 ms, rows in start order.
    const rows = [...html.matchAll(/data-request="([^"]*)"/g)].map((m) => m[1]);
    assert.deepEqual(rows, ['https://a.example/', 'https://b.example/x', 'https://a.example/late.js']);
    assert.match(html, /class="wf-bar" style="left:50%;width:25%"/);
    assert.match(html, /class="wf-row type-fetch failed"[^>]*>[\s\S]*?title="net::ERR_FAILED">failed</);
  });

  it('points images at their artifact paths relative to the report, or at what embed returns, and never at another origin', () => {
    const step: StepResult = {
      name: 'Images',
      status: 'passed',
      durationMs: 5,
      screenshot: 'screenshots/step-1.png',
      filmstrip: [
        { timeMs: 0, path: 'filmstrip/f0.webp', visualProgress: 0 },
        { timeMs: 100, path: 'https://evil.example/f1.webp', visualProgress: 100 },
      ],
      actions: [],
    };
    const plain = renderHtmlReport(minimalResult([step]));
    assert.deepEqual([...plain.matchAll(/<img[^>]* src="([^"]*)"/g)].map((m) => m[1]), ['filmstrip/f0.webp', 'screenshots/step-1.png']);
    assert.ok(!plain.includes('src="https://evil'));
    const embedded = renderHtmlReport(minimalResult([step]), { embed: (path) => (path.endsWith('.png') ? 'data:image/png;base64,iVBORw0KGgo=' : undefined) });
    assert.match(embedded, /<img class="shot" src="data:image\/png;base64,iVBORw0KGgo="/);
    assert.match(embedded, /<img class="thumb" src="filmstrip\/f0.webp"/);
  });

  it('is self-contained: no external stylesheet, script, font or image, and a policy that forbids them', () => {
    const html = renderHtmlReport(richResult());
    assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;; img-src &#39;self&#39; data: file:;/);
    assert.doesNotMatch(html, /<link|<script|@import|@font-face|url\(\s*['"]?(https?:|\/\/)/i);
    for (const [, src] of html.matchAll(/\ssrc="([^"]*)"/g)) assert.doesNotMatch(src ?? '', /^(https?:|\/\/)/, `src ${src}`);
  });

  it('flags an action where an alternative other than the first selector matched', () => {
    const html = renderHtmlReport(
      minimalResult([
        {
          name: 'Click',
          status: 'passed',
          durationMs: 5,
          actions: [
            { index: 0, type: 'click', status: 'passed', durationMs: 1, matchedSelector: '#first', matchedSelectorIndex: 0 },
            { index: 1, type: 'click', status: 'passed', durationMs: 1, matchedSelector: 'text=Sign in', matchedSelectorIndex: 2 },
          ],
        },
      ]),
    );
    const actions = [...html.matchAll(/<li class="action[^"]*" data-action="(\d)">([\s\S]*?)<\/li>/g)];
    assert.equal(actions.length, 2);
    assert.doesNotMatch(actions[0]?.[2] ?? '', /data-alternative/);
    assert.match(actions[1]?.[2] ?? '', /<code class="selector" title="text=Sign in">text=Sign in<\/code><span class="flag" data-alternative[^>]*>alternative 3 matched/);
  });

  it('shows the error with code, blame, message and selector, and marks the failing action', () => {
    const result = richResult();
    const html = renderHtmlReport(result);
    const box = html.slice(html.indexOf('data-error-code="ASSERTION_FAILED"'));
    assert.match(box, /blame: site/);
    assert.match(box, /expected \[data-testid=&quot;order-total&quot;\] to contain/);
    assert.match(box, /<code>\[data-testid=&quot;order-total&quot;\]<\/code>/);
    assert.match(html, /<li class="action status-failed at-error" data-action="1">/);
  });

  it('shows the run header: verdict, start, duration, browser, checkpoint, privacy lock and warnings', () => {
    const result = richResult();
    result.privacyLock = true;
    const html = renderHtmlReport(result, { title: 'Nightly <check>' });
    assert.match(html, /<title>Nightly &lt;check&gt;<\/title>/);
    assert.match(html, /<span class="badge status-failed">Failed<\/span>/);
    assert.match(html, /<time datetime="2025-05-14T07:30:12.345Z">2025-05-14 07:30:12 UTC<\/time>/);
    assert.match(html, /9.18 s/);
    assert.match(html, /chromium 141.0.7390.54/);
    assert.match(html, /hq-datacenter-1 · instance cp-7f2d · v0.1.0/);
    assert.match(html, /data-privacy-lock/);
    assert.match(html, /lighthouse<\/span> step 4 is not a navigation/);
    assert.match(html, /3 passed<\/span>.*1 failed<\/span>.*1 skipped/);
  });

  it('renders the rich fixture`s filmstrip, progress curve, visual metrics, soft navigations and Lighthouse scores', () => {
    const result = richResult();
    const html = renderHtmlReport(result);
    const frames = result.steps.reduce((sum, s) => sum + (s.filmstrip?.length ?? 0), 0);
    assert.equal([...html.matchAll(/<img class="thumb"/g)].length, frames);
    assert.equal([...html.matchAll(/<polyline class="curve"/g)].length, 2);
    assert.match(html, /Speed Index<\/dt><dd>742</);
    assert.match(html, /Soft navigations/);
    assert.match(html, /data-category="performance"><span class="gauge good">/);
    assert.match(html, /data-category="seo"><span class="gauge poor">/);
    assert.match(html, /<a href="lighthouse\/step-1.report.html">Open the full Lighthouse report<\/a>/);
  });

  it('shows the warning verdict and every condition of steps and transaction, breaches first, escaped', () => {
    const conditions = [
      { metric: 'durationMs' as const, level: 'warning' as const, limit: 500, actual: 900, overBy: 400, breached: true, message: `step "Open": duration 900 ms is over its warning limit of 500 ms by 400 ms ${hostile}` },
      { metric: 'ttfbMs' as const, level: 'error' as const, limit: 800, actual: 120, breached: false, message: 'step "Open": time to first byte 120 ms is within its error limit of 800 ms' },
    ];
    const result = minimalResult([{ name: 'Open', status: 'warning', durationMs: 900, actions: [], conditions }], {
      status: 'warning',
      conditions: [{ metric: 'pageText', level: 'error', text: 'Exception', breached: false, message: 'transaction: "Exception" is not on the page' }],
    });
    const html = renderHtmlReport(result);
    parseTags(html);
    assert.match(html, /class="badge status-warning">Warning</);
    assert.match(html, /<title>Minimal — passed with warnings<\/title>/);
    const items = [...html.matchAll(/data-condition="([a-zA-Z]+)" data-breached="(true|false)"/g)].map((m) => `${m[1]}:${m[2]}`);
    assert.deepEqual(items, ['pageText:false', 'durationMs:true', 'ttfbMs:false'], 'the transaction`s panel in the header, then the step`s with its breach first');
    assert.ok(!html.includes('<script>'), 'condition messages are escaped');
  });

  it('is a pure function of the result: same output twice, the result untouched', () => {
    const result = richResult();
    const before = structuredClone(result);
    const first = renderHtmlReport(result);
    assert.equal(renderHtmlReport(result), first);
    assert.deepEqual(result, before);
  });
});
