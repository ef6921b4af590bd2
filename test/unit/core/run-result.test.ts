import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assembleRunResult, type RunFacts } from '../../../engine/core/run-result.ts';
import { resultSchema } from '../../../engine/schema/result.ts';
import { scriptSchema } from '../../../engine/schema/script.ts';

const script = scriptSchema.parse({
  name: 'Orders',
  conditions: [{ metric: 'durationMs', max: 1000, level: 'warning' }],
  steps: [
    { name: 'Open', actions: [{ type: 'navigate', url: 'http://x/' }] },
    { name: 'Search', actions: [{ type: 'click', selector: '#go' }] },
  ],
});

const facts = (over: Partial<RunFacts> = {}): RunFacts => ({
  runId: 'r1',
  script,
  startedAt: '2026-12-05T09:00:00.000Z',
  durationMs: 1234.5678,
  browserVersion: '156.0',
  queueWaitMs: undefined,
  leaseWaitMs: 12.345,
  privacyLock: false,
  steps: [
    { name: 'Open', status: 'passed', durationMs: 700, actions: [] },
    { name: 'Search', status: 'passed', durationMs: 500, actions: [] },
  ],
  artifacts: [],
  warnings: [],
  engineFault: undefined,
  ...over,
});

describe('assembleRunResult', () => {
  it('judges the transaction conditions on the steps and sets the status; the result is schema-valid', () => {
    const result = assembleRunResult(facts());
    assert.equal(result.status, 'warning', '700 + 500 ms is over the 1000 ms warning limit');
    assert.equal(result.conditions?.[0]?.overBy, 200);
    assert.equal(result.durationMs, 1234.57);
    assert.equal(result.leaseWaitMs, 12.35);
    assert.equal(resultSchema.safeParse(result).success, true);
  });

  it('an engine fault outside any step: steps never reached are skipped, the run is `error`, no conditions judged', () => {
    const result = assembleRunResult(facts({ steps: [], engineFault: { code: 'BROWSER_CRASHED', message: 'gone', blame: 'engine' } }));
    assert.equal(result.status, 'error');
    assert.deepEqual(result.steps.map((s) => s.status), ['skipped', 'skipped']);
    assert.equal(result.error?.code, 'BROWSER_CRASHED');
    assert.equal(result.conditions, undefined);
  });

  it('an engine fault already on a step is not repeated as the run`s error', () => {
    const crashed = { name: 'Open', status: 'failed' as const, durationMs: 5, actions: [], error: { code: 'BROWSER_CRASHED' as const, message: 'gone', blame: 'engine' as const } };
    const result = assembleRunResult(facts({ steps: [crashed], engineFault: { code: 'BROWSER_CRASHED', message: 'gone', blame: 'engine' } }));
    assert.equal(result.error, undefined);
    assert.equal(result.steps[1]?.status, 'skipped');
  });
});
