import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { junitXml } from '../../../engine/report/junit.ts';
import type { RunResult } from '../../../engine/schema/result.ts';
import { parseXml } from '../../helpers/xml.ts';

function result(overrides: Partial<RunResult> = {}): RunResult {
  return {
    schemaVersion: 1,
    runId: 'run-1',
    script: 'Login & search <intranet>',
    status: 'failed',
    startedAt: '2026-12-05T09:00:00.000Z',
    durationMs: 4321,
    browser: { name: 'chromium', version: '156.0' },
    steps: [
      { name: 'Open the login page', status: 'passed', durationMs: 1234.5, actions: [] },
      {
        name: 'Log in',
        status: 'failed',
        durationMs: 2000,
        url: 'http://intranet.example/login?next=/&x=1',
        actions: [],
        error: { code: 'ASSERTION_FAILED', blame: 'site', message: 'expected "Welcome" <b>\u0007 on the page', action: 2, selector: 'h1' },
      },
      { name: 'Search', status: 'skipped', durationMs: 0, actions: [] },
    ],
    artifacts: [],
    ...overrides,
  };
}

describe('JUnit XML report', () => {
  it('writes one testsuite per transaction and one testcase per step, with failures carrying code, blame and message', () => {
    const root = parseXml(junitXml([result(), { ...result({ status: 'passed', runId: 'run-2', script: 'Orders' }), steps: [{ name: 'Open', status: 'passed', durationMs: 10, actions: [] }] }]));
    assert.equal(root.name, 'testsuites');
    assert.deepEqual(root.attributes, { name: 'checkpoint', tests: '4', failures: '1', errors: '0', skipped: '1', time: '8.642' });
    const [suite, second] = root.children;
    assert.equal(root.children.length, 2);
    assert.deepEqual(suite?.attributes, { name: 'Login & search <intranet>', tests: '3', failures: '1', errors: '0', skipped: '1', time: '4.321', timestamp: '2026-12-05T09:00:00.000Z' });
    assert.deepEqual(
      suite.children[0]?.children.map((property) => [property.attributes['name'], property.attributes['value']]),
      [
        ['runId', 'run-1'],
        ['status', 'failed'],
        ['browser', 'chromium 156.0'],
      ],
    );
    const cases = suite.children.filter((child) => child.name === 'testcase');
    assert.deepEqual(
      cases.map((testCase) => [testCase.attributes['name'], testCase.attributes['classname'], testCase.attributes['time']]),
      [
        ['1. Open the login page', 'Login & search <intranet>', '1.234'],
        ['2. Log in', 'Login & search <intranet>', '2.000'],
        ['3. Search', 'Login & search <intranet>', '0.000'],
      ],
    );
    assert.deepEqual(cases[0]?.children, [], 'a passed step has no child');
    const failure = cases[1]?.children[0];
    assert.equal(failure?.name, 'failure');
    assert.equal(failure.attributes['type'], 'ASSERTION_FAILED');
    assert.equal(failure.attributes['message'], 'ASSERTION_FAILED: expected "Welcome" <b> on the page', 'the control character is dropped');
    assert.equal(failure.text, ['code: ASSERTION_FAILED', 'blame: site', 'action: 2', 'selector: h1', 'url: http://intranet.example/login?next=/&x=1', 'message: expected "Welcome" <b> on the page'].join('\n'));
    assert.equal(cases[2]?.children[0]?.name, 'skipped');
    assert.equal(second?.attributes['failures'], '0');
  });

  it('reports an engine fault as <error>, and a failure outside the steps as a (transaction) case', () => {
    const engineFault = result({
      status: 'error',
      steps: [{ name: 'Open', status: 'failed', durationMs: 5, actions: [], error: { code: 'BROWSER_CRASHED', blame: 'engine', message: 'the browser went away' } }],
    });
    const suite = parseXml(junitXml([engineFault])).children[0];
    assert.equal(suite?.attributes['errors'], '1');
    assert.equal(suite.attributes['failures'], '0');
    assert.equal(suite.children[1]?.children[0]?.name, 'error');

    const outside = result({ status: 'error', steps: [{ name: 'Open', status: 'passed', durationMs: 5, actions: [] }], error: { code: 'SCRIPT_TIMEOUT', blame: 'script', message: 'the script ran out of time' } });
    const cases = parseXml(junitXml([outside])).children[0]?.children.filter((child) => child.name === 'testcase') ?? [];
    assert.deepEqual(
      cases.map((testCase) => [testCase.attributes['name'], testCase.children[0]?.name, testCase.children[0]?.attributes['type']]),
      [
        ['1. Open', undefined, undefined],
        ['(transaction)', 'failure', 'SCRIPT_TIMEOUT'],
      ],
    );
  });
});
