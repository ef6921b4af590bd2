import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyStepConditions, breachSentences, judgeStep, judgeTransaction, runStatus, transactionMetric } from '../../../engine/core/conditions.ts';
import { scriptSchema } from '../../../engine/schema/script.ts';
import type { StepResult } from '../../../engine/schema/result.ts';

const step = (fields: Partial<StepResult> & { name: string }): StepResult => ({ status: 'passed', durationMs: 1000, actions: [], ...fields });

describe('error conditions', () => {
  it('a slow step breaches its error limit and says by how much; the step fails with CONDITION_BREACHED, blame site', () => {
    const slow = step({ name: 'Search', durationMs: 19_600 });
    const outcomes = judgeStep(slow, [{ metric: 'durationMs', max: 5000, level: 'error' }], undefined, undefined);
    assert.equal(outcomes[0]?.breached, true);
    assert.equal(outcomes[0]?.overBy, 14_600);
    assert.match(outcomes[0]?.message ?? '', /step "Search": duration 19600 ms is over its error limit of 5000 ms by 14600 ms/);
    const judged = applyStepConditions(slow, outcomes);
    assert.equal(judged.status, 'failed');
    assert.equal(judged.error?.code, 'CONDITION_BREACHED');
    assert.equal(judged.error?.blame, 'site');
  });

  it('a warning breach makes the step `warning`, not failed; a condition that holds changes nothing but is reported', () => {
    const s = step({ name: 'Open', navigation: { url: 'http://x/', dnsMs: 0, connectMs: 0, tlsMs: 0, ttfbMs: 900, downloadMs: 1, domContentLoadedMs: 950, loadMs: 1000 } });
    const warned = applyStepConditions(s, judgeStep(s, [{ metric: 'ttfbMs', max: 800, level: 'warning' }, { metric: 'loadMs', max: 2000, level: 'error' }], undefined, undefined));
    assert.equal(warned.status, 'warning');
    assert.equal(warned.error, undefined);
    assert.deepEqual(warned.conditions?.map((c) => c.breached), [true, false]);
  });

  it('a metric the step did not measure is reported as unchecked, never as a breach', () => {
    const outcomes = judgeStep(step({ name: 'Click' }), [{ metric: 'lcpMs', max: 1, level: 'error' }], undefined, undefined);
    assert.equal(outcomes[0]?.breached, false);
    assert.equal(outcomes[0]?.actual, undefined);
    assert.match(outcomes[0]?.message ?? '', /not measured/);
  });

  it('a step that already failed keeps its own error; its breaches are still listed', () => {
    const failed = step({ name: 'Log in', status: 'failed', durationMs: 9000, error: { code: 'HTTP_ERROR', message: 'HTTP 500', blame: 'site' } });
    const judged = applyStepConditions(failed, judgeStep(failed, [{ metric: 'durationMs', max: 100, level: 'error' }], undefined, undefined));
    assert.equal(judged.error?.code, 'HTTP_ERROR');
    assert.equal(judged.conditions?.[0]?.breached, true);
  });

  it('page text: required text missing and forbidden text present both breach', () => {
    const s = step({ name: 'Dashboard' });
    const outcomes = judgeStep(
      s,
      [{ metric: 'pageText', contains: 'Welcome', level: 'error' }],
      [{ metric: 'pageText', notContains: 'Exception', level: 'warning' }],
      [
        { text: 'Welcome', present: false },
        { text: 'Exception', present: true },
      ],
    );
    assert.deepEqual(outcomes.map((o) => [o.level, o.breached]), [['error', true], ['warning', true]]);
    assert.match(outcomes[0]?.message ?? '', /"Welcome" is missing from the page/);
  });

  it('a page whose text cannot be read breaches its text condition: a check that cannot be made is not a pass', () => {
    const outcomes = judgeStep(step({ name: 'Hung' }), [{ metric: 'pageText', notContains: 'Internal Server Error', level: 'error' }], undefined, undefined);
    assert.equal(outcomes[0]?.breached, true);
    assert.match(outcomes[0]?.message ?? '', /could not be read/);
  });

  it('transaction figures: duration and counts are summed over steps that ran, navigation figures are the worst step`s', () => {
    const steps = [step({ name: 'a', durationMs: 700, requests: { count: 3, bytes: 1, failed: 1 } }), step({ name: 'b', durationMs: 900, requests: { count: 2, bytes: 1, failed: 2 } }), step({ name: 'c', status: 'skipped', durationMs: 0 })];
    assert.equal(transactionMetric(steps, 'durationMs'), 1600);
    assert.equal(transactionMetric(steps, 'failedRequests'), 3);
    const outcomes = judgeTransaction(steps, [{ metric: 'durationMs', max: 1500, level: 'warning' }, { metric: 'pageText', contains: 'x', level: 'error' }]);
    assert.equal(outcomes.length, 1, 'pageText conditions of a transaction are judged per step');
    assert.equal(outcomes[0]?.overBy, 100);
  });

  it('run status: engine fault > failed (a step, or a transaction error breach) > warning > passed', () => {
    const breach = (level: 'warning' | 'error') => [{ metric: 'durationMs' as const, level, breached: true, message: 'm' }];
    assert.equal(runStatus([{ status: 'passed' }], [], false), 'passed');
    assert.equal(runStatus([{ status: 'passed' }, { status: 'warning' }], [], false), 'warning');
    assert.equal(runStatus([{ status: 'passed' }], breach('warning'), false), 'warning');
    assert.equal(runStatus([{ status: 'passed' }], breach('error'), false), 'failed');
    assert.equal(runStatus([{ status: 'failed' }, { status: 'warning' }], [], false), 'failed');
    assert.equal(runStatus([{ status: 'passed' }], [], true), 'error');
  });

  it('breach sentences list errors before warnings (alert texts)', () => {
    const sentences = breachSentences({
      steps: [{ conditions: [{ metric: 'ttfbMs', level: 'warning', breached: true, message: 'w' }, { metric: 'loadMs', level: 'error', breached: false, message: 'ok' }] }],
      conditions: [{ metric: 'durationMs', level: 'error', breached: true, message: 'e' }],
    });
    assert.deepEqual(sentences, ['e', 'w']);
  });

  it('the script schema takes conditions on steps and transaction and names the path of a wrong one', () => {
    const base = { name: 't', steps: [{ name: 's', actions: [{ type: 'navigate', url: 'http://x/' }] }] };
    assert.equal(scriptSchema.safeParse({ ...base, conditions: [{ metric: 'durationMs', max: 3000, level: 'error' }] }).success, true);
    const bad = scriptSchema.safeParse({ ...base, steps: [{ ...base.steps[0], conditions: [{ metric: 'pageText', contains: 'a', notContains: 'b', level: 'warning' }] }] });
    assert.equal(bad.success, false);
    assert.deepEqual(bad.error?.issues[0]?.path.slice(0, 3), ['steps', 0, 'conditions']);
    assert.equal(scriptSchema.safeParse({ ...base, conditions: [{ metric: 'speed', max: 1, level: 'error' }] }).success, false);
    assert.equal(scriptSchema.safeParse({ ...base, settings: { allowHttpStatuses: [404] } }).success, true);
    assert.equal(scriptSchema.safeParse({ ...base, settings: { allowHttpStatuses: [302] } }).success, false);
  });
});
