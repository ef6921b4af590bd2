import { breachSentences } from '../core/conditions.ts';
import type { RunResult, StepResult } from '../schema/result.ts';

// XML 1.0 cannot carry most control characters, even escaped: they are dropped.
// eslint-disable-next-line no-control-regex
const invalidXml = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

function escapeXml(text: string): string {
  return text.replace(invalidXml, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

function attributes(values: Record<string, string | number | undefined>): string {
  return Object.entries(values)
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
    .map(([key, value]) => ` ${key}="${escapeXml(String(value))}"`)
    .join('');
}

/** JUnit's `time`: seconds, three decimals. */
function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

interface Case {
  name: string;
  timeMs: number;
  outcome: 'passed' | 'failure' | 'error' | 'skipped';
  message?: string;
  type?: string;
  details?: string;
  output?: string;
}

function stepCase(step: StepResult, index: number): Case {
  const base = { name: `${index + 1}. ${step.name}`, timeMs: step.durationMs };
  const breaches = breachSentences({ steps: [step] });
  if (step.status === 'skipped') return { ...base, outcome: 'skipped', message: 'not run: an earlier step failed' };
  if (step.status !== 'failed') return step.status === 'warning' ? { ...base, outcome: 'passed', output: `warning: ${breaches.join('; ')}` } : { ...base, outcome: 'passed' };
  const error = step.error;
  const details = [
    error === undefined ? undefined : `code: ${error.code}`,
    error === undefined ? undefined : `blame: ${error.blame}`,
    error?.action === undefined ? undefined : `action: ${error.action}`,
    error?.selector === undefined ? undefined : `selector: ${error.selector}`,
    step.url === undefined ? undefined : `url: ${step.url}`,
    error === undefined ? undefined : `message: ${error.message}`,
    ...breaches.map((breach) => `condition: ${breach}`),
  ].filter((line) => line !== undefined);
  return {
    ...base,
    // The engine could not do its job: CI tools show that apart from the site failing.
    outcome: error?.blame === 'engine' ? 'error' : 'failure',
    message: error === undefined ? (breaches[0] ?? 'failed') : `${error.code}: ${error.message}`,
    type: error?.code ?? 'CONDITION_BREACHED',
    details: details.join('\n'),
  };
}

/** A failure outside every step (the run could not complete, or a transaction-level condition): one more case. */
function transactionCase(result: RunResult): Case | undefined {
  const breaches = breachSentences({ steps: [], conditions: result.conditions });
  if (result.error === undefined && (result.status !== 'failed' || breaches.length === 0 || result.steps.some((step) => step.status === 'failed'))) return undefined;
  const error = result.error;
  return {
    name: '(transaction)',
    timeMs: 0,
    outcome: error?.blame === 'engine' ? 'error' : 'failure',
    message: error === undefined ? (breaches[0] ?? 'failed') : `${error.code}: ${error.message}`,
    type: error?.code ?? 'CONDITION_BREACHED',
    details: [error === undefined ? undefined : `code: ${error.code}`, error === undefined ? undefined : `blame: ${error.blame}`, error === undefined ? undefined : `message: ${error.message}`, ...breaches.map((breach) => `condition: ${breach}`)]
      .filter((line) => line !== undefined)
      .join('\n'),
  };
}

function caseXml(testCase: Case, classname: string): string {
  const open = `    <testcase${attributes({ name: testCase.name, classname, time: seconds(testCase.timeMs) })}`;
  const inner: string[] = [];
  if (testCase.outcome === 'skipped') inner.push(`      <skipped${attributes({ message: testCase.message })}/>`);
  if (testCase.outcome === 'failure' || testCase.outcome === 'error') {
    inner.push(`      <${testCase.outcome}${attributes({ message: testCase.message, type: testCase.type })}>${escapeXml(testCase.details ?? '')}</${testCase.outcome}>`);
  }
  if (testCase.output !== undefined) inner.push(`      <system-out>${escapeXml(testCase.output)}</system-out>`);
  return inner.length === 0 ? `${open}/>` : `${open}>\n${inner.join('\n')}\n    </testcase>`;
}

/**
 * JUnit XML for CI systems (Jenkins, GitLab, GitHub test reporters): one `<testsuite>` per transaction, one
 * `<testcase>` per step with its time in seconds; a failed step carries `<failure>` (or `<error>` when the
 * engine is to blame) with the error code as `type`, and code, blame and message in its text.
 */
export function junitXml(results: readonly RunResult[]): string {
  const suites = results.map((result) => {
    const cases = result.steps.map(stepCase);
    const extra = transactionCase(result);
    if (extra !== undefined) cases.push(extra);
    const count = (outcome: Case['outcome']) => cases.filter((testCase) => testCase.outcome === outcome).length;
    const properties = [
      ['runId', result.runId],
      ['status', result.status],
      ['browser', result.browser === undefined ? undefined : `${result.browser.name} ${result.browser.version}`],
      ['checkpoint', result.checkpoint?.instanceId],
    ]
      .filter((entry): entry is [string, string] => entry[1] !== undefined)
      .map(([name, value]) => `      <property${attributes({ name, value })}/>`);
    return {
      tests: cases.length,
      failures: count('failure'),
      errors: count('error'),
      skipped: count('skipped'),
      timeMs: result.durationMs,
      xml: [
        `  <testsuite${attributes({ name: result.script, tests: cases.length, failures: count('failure'), errors: count('error'), skipped: count('skipped'), time: seconds(result.durationMs), timestamp: result.startedAt })}>`,
        `    <properties>\n${properties.join('\n')}\n    </properties>`,
        ...cases.map((testCase) => caseXml(testCase, result.script)),
        '  </testsuite>',
      ].join('\n'),
    };
  });
  const sum = (key: 'tests' | 'failures' | 'errors' | 'skipped' | 'timeMs') => suites.reduce((total, suite) => total + suite[key], 0);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${attributes({ name: 'checkpoint', tests: sum('tests'), failures: sum('failures'), errors: sum('errors'), skipped: sum('skipped'), time: seconds(sum('timeMs')) })}>`,
    ...suites.map((suite) => suite.xml),
    '</testsuites>',
    '',
  ].join('\n');
}
