/** The dashboard's monitor and run pages for a non-browser check: its kind, its steps, the phases of each step. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { monitorPage, runPage } from '../../../control-plane/dashboard-views.ts';
import type { MonitorRecord, RunRecord } from '../../../control-plane/store.ts';
import type { ResultEnvelope } from '../../../engine/schema/protocol.ts';

const now = new Date('2026-12-05T12:00:00.000Z');
const monitor: MonitorRecord = {
  id: 'orders-api',
  name: 'Orders API',
  checkpoint: 'eu',
  intervalSeconds: 60,
  enabled: true,
  script: { kind: 'api', name: 'Orders API', steps: [{ name: 'Sign in', request: { url: 'http://x/login' } }, { name: 'List', request: { url: 'http://x/orders' } }] },
  health: 'ok',
  checkpointHealth: { eu: 'ok' },
  createdAt: now.toISOString(),
  updatedAt: now.toISOString(),
};
const run: RunRecord = { runId: 'run-12345678', monitorId: 'orders-api', checkpoint: 'eu', attempt: 1, instance: 'a', reason: 'schedule', status: 'passed', dispatchedAt: now.toISOString(), finishedAt: now.toISOString(), durationMs: 30, late: false, resultStatus: 'passed' };
const envelope: ResultEnvelope = {
  runId: run.runId,
  monitorId: run.monitorId,
  attempt: 1,
  instanceId: 'a',
  finishedAt: now.toISOString(),
  artifacts: [],
  result: {
    schemaVersion: 1,
    runId: run.runId,
    script: 'Orders API',
    kind: 'api',
    status: 'passed',
    startedAt: now.toISOString(),
    durationMs: 30,
    artifacts: [],
    steps: [{ name: 'Sign in', status: 'passed', durationMs: 30, actions: [], check: { kind: 'api', phases: { dnsMs: 1, connectMs: 2, ttfbMs: 20 }, details: {} } }],
  },
};

describe('dashboard pages of a check', () => {
  it('says the monitor`s kind and counts its steps', () => {
    const html = monitorPage({ now, monitor, runs: [run], alerts: [] });
    assert.match(html, /<dt>Kind<\/dt><dd>api<\/dd>/);
    assert.match(html, /<dt>Steps<\/dt><dd>2<\/dd>/);
  });

  it('shows each check step`s phases when the report renderer is not there', () => {
    const html = runPage({ now, run, monitorName: 'Orders API', envelope, duplicates: 0, reportHref: undefined, artifactHref: () => undefined });
    assert.match(html, /Sign in<div class="small muted">dns 1 ms · connect 2 ms · ttfb 20 ms<\/div>/);
  });
});
