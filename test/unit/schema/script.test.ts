/** Script-level schema: name, steps, variables, timeouts and settings, with exact problem paths. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseScriptValue } from '../../../engine/core/parse-script.ts';
import { defaultTimeouts } from '../../../engine/schema/script.ts';
import { assertSingleProblem, minimalActions, problemsOf, scriptWith } from '../support/scripts.ts';

function withSettings(settings: unknown): Record<string, unknown> {
  return { ...scriptWith(minimalActions.closeTab), settings };
}

describe('script schema: shape', () => {
  it('accepts the smallest script and returns it unchanged', () => {
    const script = scriptWith(minimalActions.closeTab);
    const outcome = parseScriptValue(script);
    assert.ok(outcome.ok);
    assert.deepEqual(outcome.script, script);
  });

  it('rejects a script without steps', () => {
    assertSingleProblem(parseScriptValue({ name: 'x' }), 'steps', /^missing: expected array$/);
  });

  it('rejects an empty steps list', () => {
    assertSingleProblem(parseScriptValue({ name: 'x', steps: [] }), 'steps', /^expected at least one step$/);
  });

  it('rejects a step without actions', () => {
    assertSingleProblem(parseScriptValue({ name: 'x', steps: [{ name: 's', actions: [] }] }), 'steps[0].actions', /^expected at least one action$/);
  });

  it('rejects more than 200 steps', () => {
    const steps = Array.from({ length: 201 }, (_, i) => ({ name: `s${i}`, actions: [minimalActions.closeTab] }));
    assertSingleProblem(parseScriptValue({ name: 'x', steps }), 'steps', /expected array to have <=200 items/);
  });

  it('rejects a missing and an empty name', () => {
    assertSingleProblem(parseScriptValue({ steps: [{ name: 's', actions: [minimalActions.closeTab] }] }), 'name', /^missing: expected string$/);
    assertSingleProblem(parseScriptValue({ ...scriptWith(minimalActions.closeTab), name: '' }), 'name', /^expected a non-empty name$/);
  });

  it('reports problems from several places in one pass', () => {
    const problems = problemsOf(parseScriptValue({ steps: [{ name: '', actions: [] }] }));
    assert.deepEqual(
      problems.map((p) => p.path).sort(),
      ['name', 'steps[0].actions', 'steps[0].name'],
    );
  });

  it('rejects an unknown top-level field at (root) and names it', () => {
    assertSingleProblem(parseScriptValue({ ...scriptWith(minimalActions.closeTab), step: [] }), '(root)', /^unknown field "step"$/);
  });

  it('rejects every step-level mistake with its own path', () => {
    const problems = problemsOf(
      parseScriptValue({ name: 'x', steps: [{ name: '', actions: [minimalActions.closeTab], timeoutMs: -1, continueOnFailure: 'yes', screenshot: 'x', retry: 1 }] }),
    );
    assert.deepEqual(problems, [
      { path: 'steps[0].name', message: 'expected a non-empty step name' },
      { path: 'steps[0].timeoutMs', message: 'expected a positive number of milliseconds' },
      { path: 'steps[0].continueOnFailure', message: 'expected boolean, got string' },
      { path: 'steps[0].screenshot', message: 'expected one of "all", "failure", "off"; got "x"' },
      { path: 'steps[0]', message: 'unknown field "retry"' },
    ]);
  });

  for (const [root, kind] of [[null, 'null'], [42, 'number'], ['script', 'string'], [[], 'a list'], [true, 'boolean']] as const) {
    it(`rejects a ${kind} root at (root)`, () => {
      assertSingleProblem(parseScriptValue(root), '(root)', new RegExp(`^expected object, got ${kind}$`));
    });
  }
});

describe('script schema: variables', () => {
  it('accepts variables with letters, digits and underscores', () => {
    const outcome = parseScriptValue({ ...scriptWith(minimalActions.closeTab), variables: { baseUrl: 'http://x', _n2: '' } });
    assert.ok(outcome.ok);
    assert.deepEqual(outcome.script.variables, { baseUrl: 'http://x', _n2: '' });
  });

  it('rejects a non-string variable value at variables.<name>', () => {
    assertSingleProblem(parseScriptValue({ ...scriptWith(minimalActions.closeTab), variables: { port: 8080 } }), 'variables.port', /^expected string, got number$/);
  });

  it('rejects a variable name starting with a digit, quoting it in the path', () => {
    const problems = problemsOf(parseScriptValue({ ...scriptWith(minimalActions.closeTab), variables: { '1bad': 'x' } }));
    assert.deepEqual(problems.map((p) => p.path), ['variables["1bad"]']);
  });

  it('says what a variable name may contain', () => {
    assertSingleProblem(parseScriptValue({ ...scriptWith(minimalActions.closeTab), variables: { '1bad': 'x' } }), 'variables["1bad"]', /letters, digits and _/);
  });
});

describe('script schema: timeouts', () => {
  it('has documented defaults', () => {
    assert.deepEqual(defaultTimeouts, { actionTimeoutMs: 10_000, navigationTimeoutMs: 30_000, stepTimeoutMs: 60_000, scriptTimeoutMs: 300_000 });
  });

  for (const field of ['actionTimeoutMs', 'navigationTimeoutMs'] as const) {
    it(`settings.${field} must be a positive whole number of at most one hour`, () => {
      assert.ok(parseScriptValue(withSettings({ [field]: 1 })).ok);
      assert.ok(parseScriptValue(withSettings({ [field]: 3_600_000 })).ok);
      assertSingleProblem(parseScriptValue(withSettings({ [field]: 0 })), `settings.${field}`, /^expected a positive number of milliseconds$/);
      assertSingleProblem(parseScriptValue(withSettings({ [field]: -5 })), `settings.${field}`, /^expected a positive number of milliseconds$/);
      assertSingleProblem(parseScriptValue(withSettings({ [field]: 3_600_001 })), `settings.${field}`, /^expected at most 3600000 ms \(one hour\)$/);
      assertSingleProblem(parseScriptValue(withSettings({ [field]: '5000' })), `settings.${field}`, /^expected number, got string$/);
      assert.deepEqual(problemsOf(parseScriptValue(withSettings({ [field]: 2.5 }))).map((p) => p.path), [`settings.${field}`]);
    });
  }

  it('script and step timeoutMs must be positive', () => {
    assertSingleProblem(parseScriptValue({ ...scriptWith(minimalActions.closeTab), timeoutMs: 0 }), 'timeoutMs', /^expected a positive number of milliseconds$/);
    assertSingleProblem(
      parseScriptValue({ name: 'x', steps: [{ name: 's', timeoutMs: -1, actions: [minimalActions.closeTab] }] }),
      'steps[0].timeoutMs',
      /^expected a positive number of milliseconds$/,
    );
  });

  it('rejects an infinite timeout (1e400 in JSON) at its path', () => {
    const problems = problemsOf(parseScriptValue({ ...scriptWith(minimalActions.closeTab), timeoutMs: Number.POSITIVE_INFINITY }));
    assert.deepEqual(problems.map((p) => p.path), ['timeoutMs']);
  });
});

describe('script schema: settings', () => {
  for (const locale of ['en', 'en-US', 'en-GB', 'de-CH', 'zh-Hant-TW', 'fil']) {
    it(`accepts the locale ${locale}`, () => {
      assert.ok(parseScriptValue(withSettings({ locale })).ok);
    });
  }

  for (const locale of ['english', 'en_US', 'e', '', 'en-', 'en US']) {
    it(`rejects the locale ${JSON.stringify(locale)} with a BCP 47 hint`, () => {
      assertSingleProblem(parseScriptValue(withSettings({ locale })), 'settings.locale', /^expected a BCP 47 locale such as `en-US`$/);
    });
  }

  it('accepts a viewport at both bounds', () => {
    assert.ok(parseScriptValue(withSettings({ viewport: { width: 100, height: 10_000 } })).ok);
  });

  it('rejects a viewport outside 100–10000 and names each side', () => {
    const problems = problemsOf(parseScriptValue(withSettings({ viewport: { width: 99, height: 10_001 } })));
    assert.equal(problems.length, 2);
    assert.equal(problems[0]?.path, 'settings.viewport.width');
    assert.match(problems[0]?.message ?? '', /expected number to be >=100/);
    assert.equal(problems[1]?.path, 'settings.viewport.height');
    assert.match(problems[1]?.message ?? '', /expected number to be <=10000/);
  });

  it('rejects a viewport without height', () => {
    assertSingleProblem(parseScriptValue(withSettings({ viewport: { width: 1280 } })), 'settings.viewport.height', /^missing: expected number$/);
  });

  it('rejects an unknown setting', () => {
    assertSingleProblem(parseScriptValue(withSettings({ headless: true })), 'settings', /^unknown field "headless"$/);
  });

  it('rejects a non-string header value, quoting a dashed header name in the path', () => {
    assertSingleProblem(parseScriptValue(withSettings({ extraHttpHeaders: { 'X-Token': 5 } })), 'settings.extraHttpHeaders["X-Token"]', /^expected string, got number$/);
  });

  it('rejects http credentials without a password', () => {
    assertSingleProblem(parseScriptValue(withSettings({ httpCredentials: { username: 'u' } })), 'settings.httpCredentials.password', /^missing: expected string$/);
  });

  it('rejects an empty blocked URL pattern at its index', () => {
    assertSingleProblem(parseScriptValue(withSettings({ blockedUrls: ['*.png', ''] })), 'settings.blockedUrls[1]', /expected string to have >=1 characters/);
  });

  it('rejects an unknown screenshot policy and lists the valid ones', () => {
    assertSingleProblem(parseScriptValue(withSettings({ screenshots: 'sometimes' })), 'settings.screenshots', /^expected one of "all", "failure", "off"; got "sometimes"$/);
  });

  it('rejects settings that are not an object', () => {
    assertSingleProblem(parseScriptValue(withSettings('fast')), 'settings', /^expected object, got string$/);
  });
});
