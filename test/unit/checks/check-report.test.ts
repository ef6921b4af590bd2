/** A check step in the HTML report and the console summary: the same step rendering, with the check's panel. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConsoleReporter } from '../../../engine/report/console-reporter.ts';
import { renderHtmlReport } from '../../../engine/report/html-report.ts';
import { resultSchema, type RunResult } from '../../../engine/schema/result.ts';

const result: RunResult = {
  schemaVersion: 1,
  runId: 'run-1',
  script: 'Orders API',
  kind: 'api',
  status: 'failed',
  startedAt: '2026-12-05T10:00:00.000Z',
  durationMs: 420,
  steps: [
    {
      name: 'Sign in',
      status: 'passed',
      durationMs: 120,
      url: 'https://api.example/login',
      actions: [],
      check: {
        kind: 'api',
        phases: { dnsMs: 3, connectMs: 4, tlsMs: 20, ttfbMs: 80, downloadMs: 2 },
        details: { status: 200, tlsProtocol: 'TLSv1.3', certificateSubject: 'CN=api.example', certificateIssuer: 'CN=Example CA', certificateDaysLeft: 41, certificateTrusted: true },
        http: { method: 'POST', url: 'https://api.example/login', status: 200, sizeBytes: 68, redirects: 0, responseTimeMs: 110 },
        assertions: [{ description: 'status equals 200', passed: true, actual: '200' }],
        extracted: ['token'],
      },
    },
    {
      name: 'Orders',
      status: 'failed',
      durationMs: 300,
      actions: [],
      check: {
        kind: 'api',
        phases: { dnsMs: 0, connectMs: 2, ttfbMs: 250, downloadMs: 40 },
        details: { status: 200 },
        http: { method: 'GET', url: 'https://api.example/orders', status: 200, sizeBytes: 2048, redirects: 1, responseTimeMs: 296 },
        assertions: [{ description: 'jsonPath $.count greaterThan 0', passed: false, actual: '0' }],
      },
      error: { code: 'ASSERTION_FAILED', message: 'Step "Orders": expected jsonPath $.count greaterThan 0, got "0"', blame: 'site' },
    },
  ],
  artifacts: [],
};

describe('check steps in the report', () => {
  it('is a valid result', () => {
    assert.ok(resultSchema.safeParse(result).success);
  });

  it('renders each check step with its request, phases, details and assertions', () => {
    const html = renderHtmlReport(result);
    assert.match(html, /API monitor report/);
    assert.equal((html.match(/data-check-kind="api"/g) ?? []).length, 2);
    for (const phase of ['dnsMs', 'connectMs', 'tlsMs', 'ttfbMs', 'downloadMs']) assert.match(html, new RegExp(`data-phase="${phase}"`));
    assert.match(html, /data-detail="certificateSubject"[^]*?CN=api\.example/);
    assert.match(html, /Days to expiry/);
    assert.match(html, /data-assertion-passed="false"[^]*?jsonPath \$\.count greaterThan 0[^]*?got 0/);
    assert.match(html, /1 redirect/);
    assert.match(html, /data-error-code="ASSERTION_FAILED"/);
    assert.ok(!html.includes('Browser</dt>'), 'no browser fact for a check');
  });

  it('shows the time to first byte of check steps in the step table and the console summary', () => {
    const html = renderHtmlReport(result);
    assert.match(html, /data-step-row="1"[^]*?<td class="num">80 ms<\/td>/);
    const lines: string[] = [];
    new ConsoleReporter({ write: (text) => lines.push(text), color: false }).summary(result);
    assert.match(lines.join(''), /Sign in\s+passed\s+120 ms\s+80 ms/);
  });
});
