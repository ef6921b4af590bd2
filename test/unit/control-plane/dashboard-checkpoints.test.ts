/** The dashboard's pure parts for monitors on several checkpoints, the vitals trends, stale browsers and the range cap. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkMonitorForm, formValuesOf, type MonitorFormValues } from '../../../control-plane/dashboard-forms.ts';
import { checkpointChoices } from '../../../control-plane/dashboard-forms-views.ts';
import { maxRangeRuns, monitorPageData } from '../../../control-plane/dashboard-monitor-page.ts';
import { checkpointFilterOf, viewQuery } from '../../../control-plane/dashboard-ranges.ts';
import { staleBrowsers, instanceKey } from '../../../control-plane/dashboard-versions.ts';
import { vitalsOf, vitalsTable } from '../../../control-plane/dashboard-vitals.ts';
import type { ControlPlaneStore, MonitorRecord, RunFilter, RunRecord } from '../../../control-plane/store.ts';

const script = '{"name": "Home", "steps": [{"name": "Open", "actions": [{"type": "navigate", "url": "http://intranet.example/"}]}]}';
const existing = new Set(['internal', 'dmz']);
const store = {
  getMonitor: () => Promise.resolve(undefined),
  getCheckpoint: (name: string) => Promise.resolve(existing.has(name) ? { name, createdAt: '', health: 'up' } : undefined),
  getChannel: () => Promise.resolve(undefined),
} as unknown as ControlPlaneStore;

function values(change: Partial<MonitorFormValues>): MonitorFormValues {
  return { id: 'home', name: 'Home', checkpoints: ['internal'], placement: 'all', intervalSeconds: '60', enabled: true, script, variables: '', ...change };
}

describe('dashboard: the monitor form on several checkpoints', () => {
  it('reads ticked boxes as `checkpoints` and a lone `checkpoint` field as one', () => {
    assert.deepEqual(formValuesOf(new URLSearchParams('checkpoints=dmz&checkpoints=internal&placement=round-robin')).checkpoints, ['dmz', 'internal']);
    assert.equal(formValuesOf(new URLSearchParams('checkpoints=dmz&placement=round-robin')).placement, 'round-robin');
    assert.deepEqual(formValuesOf(new URLSearchParams('checkpoint=dmz')).checkpoints, ['dmz']);
    assert.deepEqual(formValuesOf(new URLSearchParams('name=x')).checkpoints, []);
    assert.equal(formValuesOf(new URLSearchParams('placement=weird')).placement, 'all');
  });

  it('saves one checkpoint as `checkpoint`, several as `checkpoints` with the placement chosen, and writes the default placement only when it was written', async () => {
    const one = await checkMonitorForm(store, values({ placement: 'round-robin' }), { id: undefined, base: undefined });
    assert.ok(one.ok);
    assert.equal(one.config.checkpoint, 'internal');
    assert.equal(one.config.checkpoints, undefined);
    assert.equal(one.config.placement, undefined, 'a placement means nothing with one checkpoint');
    const several = await checkMonitorForm(store, values({ checkpoints: ['dmz', 'internal'], placement: 'round-robin' }), { id: undefined, base: undefined });
    assert.ok(several.ok);
    assert.deepEqual([several.config.checkpoint, several.config.checkpoints, several.config.placement], ['dmz', ['dmz', 'internal'], 'round-robin']);
    const all = await checkMonitorForm(store, values({ checkpoints: ['dmz', 'internal'] }), { id: undefined, base: undefined });
    assert.ok(all.ok);
    assert.equal(all.config.placement, undefined, '`all` is the default: not written');
    const kept = await checkMonitorForm(store, values({ checkpoints: ['dmz', 'internal'] }), { id: 'home', base: several.config.checkpoints === undefined ? undefined : { ...several.config, placement: 'all' } });
    assert.ok(kept.ok);
    assert.equal(kept.config.placement, 'all', 'kept as written, so saving unchanged changes nothing');
  });

  it('puts checkpoint problems next to the boxes, with the API`s paths', async () => {
    const none = await checkMonitorForm(store, values({ checkpoints: [] }), { id: undefined, base: undefined });
    assert.ok(!none.ok);
    assert.deepEqual(
      none.problems.map((problem) => [problem.field, problem.path]),
      [['checkpoints', 'checkpoints']],
    );
    const unknown = await checkMonitorForm(store, values({ checkpoints: ['internal', 'nowhere'] }), { id: undefined, base: undefined });
    assert.ok(!unknown.ok);
    assert.deepEqual(
      unknown.problems.map((problem) => [problem.field, problem.path, problem.message]),
      [['checkpoints', 'checkpoints[1]', 'no checkpoint named "nowhere"; create it first (POST /api/v1/checkpoints)']],
    );
    const lone = await checkMonitorForm(store, values({ checkpoints: ['nowhere'] }), { id: undefined, base: undefined });
    assert.ok(!lone.ok);
    assert.deepEqual(
      lone.problems.map((problem) => [problem.field, problem.path]),
      [['checkpoints', 'checkpoint']],
      'one checkpoint is `checkpoint` in the API, shown with the boxes too',
    );
    const twice = await checkMonitorForm(store, values({ checkpoints: ['internal', 'internal'] }), { id: undefined, base: undefined });
    assert.ok(!twice.ok);
    assert.deepEqual(
      twice.problems.map((problem) => [problem.field, problem.path]),
      [['checkpoints', 'checkpoints[1]']],
    );
  });

  it('lists the monitor`s own checkpoints first, in its order, then the others', () => {
    assert.deepEqual(checkpointChoices(['internal', 'dmz'], ['dmz', 'edge', 'internal']), ['internal', 'dmz', 'edge']);
    assert.deepEqual(checkpointChoices(['gone'], ['dmz']), ['gone', 'dmz'], 'a name that no longer exists stays visible');
  });
});

describe('dashboard: the checkpoint filter', () => {
  it('takes one of the monitor`s checkpoints, treats empty as all, and refuses another naming it', () => {
    const url = (query: string) => new URL(`http://x/monitors/m?${query}`);
    assert.deepEqual(checkpointFilterOf(url('range=7d'), ['internal', 'dmz']), { ok: true, checkpoint: undefined });
    assert.deepEqual(checkpointFilterOf(url('checkpoint='), ['internal', 'dmz']), { ok: true, checkpoint: undefined });
    assert.deepEqual(checkpointFilterOf(url('checkpoint=dmz'), ['internal', 'dmz']), { ok: true, checkpoint: 'dmz' });
    const refused = checkpointFilterOf(url('checkpoint=%3Cb%3E'), ['internal', 'dmz']);
    assert.ok(!refused.ok);
    assert.equal(refused.message, 'checkpoint: this monitor does not run on "<b>"; it runs on "internal", "dmz".');
  });

  it('keeps range, status and checkpoint together in links', () => {
    assert.equal(viewQuery({ range: '24h', status: 'all' }), 'range=24h');
    assert.equal(viewQuery({ range: '24h', status: 'failed', checkpoint: 'dmz' }, { range: '7d' }), 'range=7d&status=failed&checkpoint=dmz');
  });
});

describe('dashboard: navigation and vitals trends', () => {
  it('reads TTFB and vitals per step and shows median, newest and a trend per measurement a run has', () => {
    const steps = vitalsOf({
      steps: [
        { name: 'Open', status: 'passed', durationMs: 1, actions: [], navigation: { url: 'u', dnsMs: 0, connectMs: 0, tlsMs: 0, ttfbMs: 50, downloadMs: 0, domContentLoadedMs: 0, loadMs: 0 }, vitals: { lcpMs: 700, cls: 0.05 } },
        { name: 'Search', status: 'passed', durationMs: 1, actions: [], vitals: { inpMs: 90 } },
      ],
    });
    assert.deepEqual(steps, [
      { name: 'Open', ttfbMs: 50, lcpMs: 700, cls: 0.05 },
      { name: 'Search', inpMs: 90 },
    ]);
    const table = vitalsTable([
      { runId: 'a', dispatchedAt: '2026-12-05T10:00:00Z', steps: [{ name: 'Open', ttfbMs: 30 }, { name: 'Search' }] },
      { runId: 'b', dispatchedAt: '2026-12-05T10:01:00Z', steps },
      { runId: 'c', dispatchedAt: '2026-12-05T10:02:00Z', steps: [{ name: '<i>Open</i>', ttfbMs: 70 }] },
    ]).value;
    assert.deepEqual([...table.matchAll(/data-step="(\d)" data-metric="(\w+)"/g)].map((match) => `${match[1]} ${match[2]}`), ['1 TTFB', '1 LCP', '1 CLS', '2 INP']);
    assert.match(table, /<td>1\. &lt;i&gt;Open&lt;\/i&gt;<\/td>\n<td><abbr[^>]*>TTFB<\/abbr><\/td>\n<td class="num">50 ms<\/td>\n<td class="num">70 ms<\/td>\n<td class="num small muted">3<\/td>/, 'named as the newest run names the step (escaped); median 50, newest 70, of 3 runs');
    assert.match(table, /<td class="num">0\.050<\/td>/, 'CLS has no unit');
    assert.equal(vitalsTable([{ runId: 'a', dispatchedAt: '2026-12-05T10:00:00Z', steps: [{ name: 'Open' }] }]).value.includes('No navigation timings'), true);
  });
});

describe('dashboard: browsers older than two weeks', () => {
  const day = 86_400_000;
  const now = new Date('2026-12-20T12:00:00Z');
  const at = (daysAgo: number) => new Date(now.getTime() - daysAgo * day).toISOString();

  it('flags an instance when a newer browser has been seen for more than 14 days, naming the newest such', () => {
    const stale = staleBrowsers(
      [
        { checkpoint: 'a', id: 'new', browserVersion: 'Chromium 156.0.1', firstSeen: at(20) },
        { checkpoint: 'a', id: 'newer', browserVersion: 'Chromium 157.0.1', firstSeen: at(15) },
        { checkpoint: 'a', id: 'newest', browserVersion: 'Chromium 158.0.1', firstSeen: at(3) },
        { checkpoint: 'b', id: 'old', browserVersion: 'Chromium 140.0.1', firstSeen: at(1) },
        { checkpoint: 'b', id: 'weird', browserVersion: 'unknown', firstSeen: at(30) },
      ],
      now,
    );
    assert.deepEqual(stale.get(instanceKey('b', 'old')), { newer: 'Chromium 157.0.1', seenSince: at(15) });
    assert.deepEqual(stale.get(instanceKey('a', 'new')), { newer: 'Chromium 157.0.1', seenSince: at(15) });
    assert.equal(stale.has(instanceKey('a', 'newer')), false, '158 is only 3 days old');
    assert.equal(stale.has(instanceKey('a', 'newest')), false);
    assert.equal(stale.has(instanceKey('b', 'weird')), false, 'unreadable: not flagged');
  });

  it('counts a version from the earliest instance running it, each from the later of its first connection and its agent`s start', () => {
    const instances = [
      // Updated in place: first seen 40 days ago, but its agent (and so its new browser) started 10 days ago.
      { checkpoint: 'a', id: 'updated', browserVersion: 'Chromium 156.0.1', firstSeen: at(40), startedAt: at(10) },
      { checkpoint: 'a', id: 'old', browserVersion: 'Chromium 140.0.1', firstSeen: at(40), startedAt: at(40) },
    ];
    assert.equal(staleBrowsers(instances, now).size, 0, 'the newer browser has been around 10 days only');
    const withEarlier = [...instances, { checkpoint: 'b', id: 'early', browserVersion: 'Chromium 156.0.1', firstSeen: at(16) }];
    assert.deepEqual(staleBrowsers(withEarlier, now).get(instanceKey('a', 'old')), { newer: 'Chromium 156.0.1', seenSince: at(16) });
    assert.equal(staleBrowsers(instances, new Date(now.getTime() + 4 * day + 1)).has(instanceKey('a', 'old')), true, 'and after more than 14 days it is');
  });
});

describe('dashboard: the range cap', () => {
  it(`reads at most ${maxRangeRuns} runs of a range in one bounded query and says when the range holds more`, async () => {
    const monitor = { id: 'busy', name: 'Busy', checkpoint: 'internal', checkpointHealth: {}, health: 'ok', enabled: true, intervalSeconds: 10, script: { name: 'Ping', kind: 'tcp', host: 'h', port: 1 } } as unknown as MonitorRecord;
    const asked: RunFilter[] = [];
    let resultsRead = 0;
    const newestFirst = (limit: number): RunRecord[] =>
      Array.from({ length: limit }, (_, index) => ({
        runId: `r${index}`,
        monitorId: 'busy',
        checkpoint: 'internal',
        attempt: 1,
        reason: 'schedule',
        status: 'passed',
        resultStatus: 'passed',
        durationMs: 5,
        late: false,
        dispatchedAt: new Date(Date.parse('2026-12-05T12:00:00Z') - index * 10_000).toISOString(),
      }));
    const fake = {
      // A 30-day range of a monitor every 10 s holds ~260 000 runs: the store is asked for no more than the cap + 1.
      queryRuns: (filter: RunFilter) => {
        asked.push(filter);
        return Promise.resolve(newestFirst(Math.min(filter.limit, 259_200)));
      },
      getResult: () => {
        resultsRead += 1;
        return Promise.resolve(undefined);
      },
      listCheckpoints: () => Promise.resolve([{ name: 'internal', createdAt: '', health: 'up' }]),
    } as unknown as ControlPlaneStore;
    const loaded = await monitorPageData(fake, monitor, new URL('http://x/monitors/busy?range=30d'), new Date('2026-12-05T12:00:01Z'));
    assert.ok(loaded.ok);
    assert.ok(asked.every((filter) => filter.limit <= maxRangeRuns + 1), 'every query is bounded');
    assert.ok(resultsRead <= 30, 'results are read for the newest passing runs only');
    assert.equal(loaded.data.chartRuns.length, 300);
    assert.equal(loaded.data.runs.length, 50);
    const ranges = loaded.data.ranges.value;
    assert.match(ranges, /This range holds more than 5,000 runs: the figures, charts and list are of the latest 5,000 \(since 2026-12-04 22:06:50 UTC\)/);
    assert.match(ranges, /Availability, latest 5,000 runs<\/div><div class="value">100 % <small>5000 of 5000 checks/, 'the figures say what they cover');
    assert.match(loaded.data.checkpointTable?.value ?? '', /<td class="num">5000<\/td>/);
  });
});
