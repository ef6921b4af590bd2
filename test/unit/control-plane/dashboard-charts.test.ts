import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { monitorViewOf, percentile, rangeStart, rangeStats } from '../../../control-plane/dashboard-ranges.ts';
import { checkMonitorForm, parseVariables } from '../../../control-plane/dashboard-forms.ts';
import { compareVersions, isBehind, newestVersion, versionNumbers } from '../../../control-plane/dashboard-versions.ts';
import type { RunRecord, ControlPlaneStore } from '../../../control-plane/store.ts';
import { stepDurationChart } from '../../../control-plane/step-trend.ts';
import { durationChart, durationTrend } from '../../../control-plane/trend.ts';

let counter = 0;
function run(status: RunRecord['status'], durationMs: number | undefined, extra: Partial<RunRecord> = {}): RunRecord {
  counter += 1;
  return {
    runId: `r${counter}`,
    monitorId: 'm',
    checkpoint: 'c',
    attempt: 1,
    reason: 'schedule',
    status,
    dispatchedAt: `2026-12-05T10:${String(counter % 60).padStart(2, '0')}:00.000Z`,
    late: false,
    ...(durationMs === undefined ? {} : { durationMs }),
    ...(status === 'passed' || status === 'failed' || status === 'warning' || status === 'error' ? { resultStatus: status } : {}),
    ...extra,
  };
}

describe('dashboard charts and ranges', () => {
  it('draws failed runs as failures, not as slow runs: the scale is the longest passing run', () => {
    // Newest first, as the store lists them.
    const runs = [run('passed', 400), run('failed', 30_000), run('passed', 200), run('lost', undefined), run('passed', 100)];
    const chart = durationChart(runs).value;
    assert.match(chart, /longest passing 400 ms; 2 failed or lost/);
    assert.equal((chart.match(/<g class="failure" data-status="failed">/g) ?? []).length, 1);
    assert.equal((chart.match(/<g class="failure" data-status="lost">/g) ?? []).length, 1);
    assert.equal((chart.match(/<circle [^>]*data-status="passed"/g) ?? []).length, 3);
    const polyline = /<polyline points="([^"]+)"/.exec(chart)?.[1] ?? '';
    assert.equal(polyline.split(' ').length, 3, 'the line joins the passing runs only');
    assert.ok(!chart.includes('30.0 s'), 'the failure does not set the scale');
    const spark = durationTrend(runs).value;
    assert.match(spark, /longest passing 400 ms, 2 failed or lost/);
  });

  it('works out availability and p50/p95 of passing runs per range, and reads the range and status from the URL', () => {
    assert.equal(percentile([], 0.5), undefined);
    assert.equal(percentile([100, 200, 400], 0.5), 200);
    assert.equal(percentile([100, 200, 400], 0.95), 400);
    const oldestFirst = [run('passed', 100), run('failed', 30_000), run('failed', 30_000, { reason: 'retry', attempt: 2 }), run('warning', 200), run('passed', 400)];
    assert.deepEqual(rangeStats(oldestFirst), { checks: 4, available: 3, p50Ms: 200, p95Ms: 400, failedRuns: 2 });
    assert.deepEqual(monitorViewOf(new URL('http://x/monitors/m?range=7d&status=failed')), { range: '7d', status: 'failed' });
    assert.deepEqual(monitorViewOf(new URL('http://x/monitors/m?range=1y&status=weird')), { range: '24h', status: 'all' }, 'unknown values fall back');
    assert.equal(rangeStart({ range: '1h', status: 'all' }, new Date('2026-12-05T12:00:00Z')).toISOString(), '2026-12-05T11:00:00.000Z');
  });

  it('reads NAME=value lines and says which line is wrong', () => {
    assert.deepEqual(parseVariables('baseUrl=https://a.example/?x=1\n\n# comment\n user = bob '), { variables: { baseUrl: 'https://a.example/?x=1', user: ' bob ' }, problems: [] });
    assert.deepEqual(parseVariables('novalue\nA=1\nA=2').problems, [
      { path: 'variables', message: 'line 1: expected NAME=value' },
      { path: 'variables.A', message: 'line 3: "A" is already set on line 2' },
    ]);
  });

  it('reports every problem of a form at once, each with its field, in the API`s words', async () => {
    const store = { getMonitor: () => Promise.resolve(undefined), getCheckpoint: () => Promise.resolve(undefined), getChannel: () => Promise.resolve(undefined) } as unknown as ControlPlaneStore;
    const checked = await checkMonitorForm(
      store,
      { id: '', name: '', checkpoints: ['nowhere'], placement: 'all', intervalSeconds: 'often', enabled: true, script: '{"name": "x", "steps": []}', variables: 'oops' },
      { id: undefined, base: undefined },
    );
    assert.equal(checked.ok, false);
    const fields = checked.ok ? [] : checked.problems.map((problem) => `${problem.field} ${problem.path}`);
    assert.deepEqual(fields.sort(), ['intervalSeconds intervalSeconds', 'name name', 'script script.steps', 'variables variables'].sort());
  });

  it('finds the newest agent and browser versions and flags the instances behind them', () => {
    assert.deepEqual(versionNumbers('HeadlessChrome/156.0.7389.12'), [156, 0, 7389, 12]);
    assert.equal(versionNumbers('unknown'), undefined);
    assert.ok(compareVersions([156, 0, 10], [156, 0, 9]) > 0);
    assert.ok(compareVersions([0, 10], [0, 9, 5]) > 0, 'numerically, not as text');
    assert.equal(newestVersion(['Chromium 140.0.1', undefined, 'Chromium 156.0.2', 'weird']), 'Chromium 156.0.2');
    assert.equal(isBehind('Chromium 140.0.1', 'Chromium 156.0.2'), true);
    assert.equal(isBehind('Chromium 156.0.2', 'Chromium 156.0.2'), false);
    assert.equal(isBehind('weird', 'Chromium 156.0.2'), false, 'unreadable: not flagged');
  });

  it('stacks each run`s step durations into one bar, scaled to the longest run, with the steps named (escaped)', () => {
    const chart = stepDurationChart([
      { runId: 'a', dispatchedAt: '2026-12-05T10:00:00Z', steps: [{ name: 'Login', durationMs: 100 }, { name: 'Search', durationMs: 100 }] },
      { runId: 'b', dispatchedAt: '2026-12-05T10:01:00Z', steps: [] },
      { runId: 'c', dispatchedAt: '2026-12-05T10:02:00Z', steps: [{ name: 'Login', durationMs: 100 }, { name: '<b>Search</b>', durationMs: 300 }] },
    ]).value;
    assert.equal((chart.match(/<g class="step-bar"/g) ?? []).length, 2, 'a run without steps has no bar');
    const heights = [...chart.matchAll(/<rect [^>]*height="([\d.]+)"/g)].map((match) => Number(match[1]));
    assert.equal(heights.length, 4);
    const [a1 = 0, a2 = 0, c1 = 0, c2 = 0] = heights;
    assert.ok(Math.abs(c1 + c2 - 116) < 0.2, 'the longest run fills the plot height');
    assert.ok(Math.abs(a1 - a2) < 0.01 && Math.abs(c2 - 3 * c1) < 0.1, 'segments are proportional to their durations');
    assert.match(chart, /longest 400 ms/);
    assert.match(chart, /2\. &lt;b&gt;Search&lt;\/b&gt;<\/li>/, 'the legend names the newest run`s steps, escaped');
    assert.doesNotMatch(chart, /<b>/);
  });
});
