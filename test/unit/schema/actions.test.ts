/**
 * The action schema, through the public parse entry point: every action type accepts a minimal example and
 * rejects a broken one with a problem located at the exact field and saying what was expected.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseScriptValue } from '../../../engine/core/parse-script.ts';
import { actionTypes, type ActionType } from '../../../engine/schema/actions.ts';
import { assertSingleProblem, minimalActions, problemsOf, richScript, scriptWith } from '../support/scripts.ts';

const at = 'steps[0].actions[0]';

interface InvalidCase {
  name: string;
  action: Record<string, unknown>;
  path: string;
  message: RegExp;
}

/** At least one broken variant of every action type, with the field it must be blamed on. */
const invalidCases: { [T in ActionType]: InvalidCase[] } = {
  navigate: [
    { name: 'without url', action: { type: 'navigate' }, path: `${at}.url`, message: /^missing: expected string$/ },
    { name: 'with an empty url', action: { type: 'navigate', url: '' }, path: `${at}.url`, message: /expected string to have >=1 characters/ },
    {
      name: 'with an unknown waitUntil',
      action: { type: 'navigate', url: '/', waitUntil: 'idle' },
      path: `${at}.waitUntil`,
      message: /^expected one of "load", "domcontentloaded", "networkidle", "commit"; got "idle"$/,
    },
  ],
  click: [
    { name: 'without selector', action: { type: 'click' }, path: `${at}.selector`, message: /^missing: expected a selector string or a list of selectors$/ },
    { name: 'with an unknown button', action: { type: 'click', selector: '#a', button: 'primary' }, path: `${at}.button`, message: /^expected one of "left", "right", "middle"; got "primary"$/ },
    { name: 'with an unknown modifier', action: { type: 'click', selector: '#a', modifiers: ['Ctrl'] }, path: `${at}.modifiers[0]`, message: /^expected one of "Alt", "Control", "Meta", "Shift"; got "Ctrl"$/ },
  ],
  doubleClick: [{ name: 'with a numeric selector', action: { type: 'doubleClick', selector: 7 }, path: `${at}.selector`, message: /^expected a selector string or a list of selectors, got number$/ }],
  fill: [
    { name: 'with a numeric value', action: { type: 'fill', selector: '#q', value: 42 }, path: `${at}.value`, message: /^expected string, got number$/ },
    { name: 'without value', action: { type: 'fill', selector: '#q' }, path: `${at}.value`, message: /^missing: expected string$/ },
  ],
  type: [
    { name: 'without text', action: { type: 'type', selector: '#q' }, path: `${at}.text`, message: /^missing: expected string$/ },
    { name: 'with a negative delay', action: { type: 'type', text: 'a', delayMs: -1 }, path: `${at}.delayMs`, message: /expected number to be >=0/ },
  ],
  clear: [{ name: 'without selector', action: { type: 'clear' }, path: `${at}.selector`, message: /^missing: expected a selector string or a list of selectors$/ }],
  setValue: [
    { name: 'without value', action: { type: 'setValue', selector: '#q' }, path: `${at}.value`, message: /^missing: expected string$/ },
    { name: 'with an any-role selector carrying other options', action: { type: 'setValue', selector: 'role=*[checked]', value: 'x' }, path: `${at}.selector`, message: /role=\*\[name="Accessible name"\]/ },
  ],
  press: [
    { name: 'with an empty key', action: { type: 'press', key: '' }, path: `${at}.key`, message: /expected string to have >=1 characters/ },
    { name: 'with an empty selector', action: { type: 'press', key: 'Tab', selector: '' }, path: `${at}.selector`, message: /^expected a non-empty selector$/ },
  ],
  select: [{ name: 'with an empty option list', action: { type: 'select', selector: '#s', option: [] }, path: `${at}.option`, message: /expected array to have >=1 items/ }],
  check: [{ name: 'with an empty selector list', action: { type: 'check', selector: [] }, path: `${at}.selector`, message: /^expected at least one selector$/ }],
  uncheck: [{ name: 'with an object selector', action: { type: 'uncheck', selector: { css: '#a' } }, path: `${at}.selector`, message: /^expected a selector string or a list of selectors, got an object$/ }],
  hover: [{ name: 'with an empty alternative in the list', action: { type: 'hover', selector: ['#a', ''] }, path: `${at}.selector[1]`, message: /^expected a non-empty selector$/ }],
  scroll: [
    { name: 'with neither selector nor x/y', action: { type: 'scroll' }, path: at, message: /^expected `selector`, or `x` \/ `y` to scroll by$/ },
    { name: 'with a huge y', action: { type: 'scroll', y: 2_000_000 }, path: `${at}.y`, message: /expected number to be <=1000000/ },
  ],
  upload: [
    { name: 'with files as a string', action: { type: 'upload', selector: '#f', files: 'a.txt' }, path: `${at}.files`, message: /^expected array, got string$/ },
    { name: 'with an unknown field in an inline file', action: { type: 'upload', selector: '#f', files: [{ name: 'a', text: 'x', size: 1 }] }, path: `${at}.files[0]`, message: /^unknown field "size"$/ },
  ],
  waitForElement: [{ name: 'with an unknown state', action: { type: 'waitForElement', selector: '#a', state: 'gone' }, path: `${at}.state`, message: /^expected one of "visible", "hidden", "attached", "detached"; got "gone"$/ }],
  waitForText: [{ name: 'with an empty text', action: { type: 'waitForText', text: '' }, path: `${at}.text`, message: /expected string to have >=1 characters/ }],
  waitForUrl: [{ name: 'without a matcher', action: { type: 'waitForUrl' }, path: at, message: /^expected exactly one of `equals`, `contains` or `matches`$/ }],
  waitForTime: [
    { name: 'without durationMs', action: { type: 'waitForTime' }, path: `${at}.durationMs`, message: /^missing: expected number$/ },
    { name: 'longer than ten minutes', action: { type: 'waitForTime', durationMs: 600_001 }, path: `${at}.durationMs`, message: /expected number to be <=600000/ },
    { name: 'with a timeoutMs (not allowed on a pause)', action: { type: 'waitForTime', durationMs: 10, timeoutMs: 100 }, path: at, message: /^unknown field "timeoutMs"$/ },
  ],
  waitForNetworkIdle: [{ name: 'with a zero timeout', action: { type: 'waitForNetworkIdle', timeoutMs: 0 }, path: `${at}.timeoutMs`, message: /^expected a positive number of milliseconds$/ }],
  assertText: [{ name: 'with a string `absent`', action: { type: 'assertText', text: 'x', absent: 'yes' }, path: `${at}.absent`, message: /^expected boolean, got string$/ }],
  assertElement: [
    { name: 'with a negative count', action: { type: 'assertElement', selector: '#a', count: -1 }, path: `${at}.count`, message: /expected number to be >=0/ },
    { name: 'with count and minCount', action: { type: 'assertElement', selector: '#a', count: 1, minCount: 1 }, path: `${at}.count`, message: /^expected `count`, or `minCount` \/ `maxCount`, not both$/ },
    { name: 'with minCount above maxCount', action: { type: 'assertElement', selector: '#a', minCount: 3, maxCount: 2 }, path: `${at}.minCount`, message: /^expected `minCount` at most `maxCount`$/ },
    { name: 'with a state and attributes', action: { type: 'assertElement', selector: '#a', state: 'visible', attributes: { a: 'b' } }, path: `${at}.state`, message: /cannot be combined/ },
    { name: 'with a non-string attribute value', action: { type: 'assertElement', selector: '#a', attributes: { a: 1 } }, path: `${at}.attributes.a`, message: /^expected string, got number$/ },
  ],
  assertUrl: [
    { name: 'with two matchers', action: { type: 'assertUrl', equals: 'a', contains: 'b' }, path: at, message: /^expected exactly one of `equals`, `contains` or `matches`$/ },
    { name: 'with an invalid regular expression', action: { type: 'assertUrl', matches: '(unclosed' }, path: `${at}.matches`, message: /^expected `matches` to be a valid regular expression$/ },
  ],
  assertTitle: [{ name: 'with an invalid regular expression', action: { type: 'assertTitle', matches: '[' }, path: `${at}.matches`, message: /^expected `matches` to be a valid regular expression$/ }],
  extract: [
    { name: 'from text without selector', action: { type: 'extract', variable: 'v', from: 'text' }, path: `${at}.selector`, message: /^expected `selector` unless `from` is `url`$/ },
    { name: 'with a variable starting with a digit', action: { type: 'extract', variable: '1v', from: 'url' }, path: `${at}.variable`, message: /^expected a variable name made of letters, digits and _/ },
    { name: 'from an unknown source', action: { type: 'extract', variable: 'v', from: 'html', selector: '#a' }, path: `${at}.from`, message: /^expected one of "text", "attribute", "value", "url"; got "html"$/ },
  ],
  evaluate: [
    { name: 'with an empty expression', action: { type: 'evaluate', expression: '' }, path: `${at}.expression`, message: /expected string to have >=1 characters/ },
    { name: 'with a dashed variable name', action: { type: 'evaluate', expression: '1', variable: 'a-b' }, path: `${at}.variable`, message: /^expected a variable name/ },
  ],
  switchFrame: [{ name: 'with both name and urlContains', action: { type: 'switchFrame', name: 'a', urlContains: 'b' }, path: at, message: /^expected exactly one of `selector`, `name` or `urlContains`$/ }],
  switchToMainFrame: [{ name: 'with a timeoutMs', action: { type: 'switchToMainFrame', timeoutMs: 100 }, path: at, message: /^unknown field "timeoutMs"$/ }],
  switchTab: [{ name: 'with an unknown target', action: { type: 'switchTab', to: 'first' }, path: `${at}.to`, message: /^expected one of "latest", "main"; got "first"$/ }],
  closeTab: [{ name: 'with a selector', action: { type: 'closeTab', selector: '#x' }, path: at, message: /^unknown field "selector"$/ }],
  setViewport: [
    { name: 'narrower than 100 px', action: { type: 'setViewport', width: 50, height: 600 }, path: `${at}.width`, message: /expected number to be >=100/ },
    { name: 'without height', action: { type: 'setViewport', width: 800 }, path: `${at}.height`, message: /^missing: expected number$/ },
  ],
};

describe('action schema: every action type', () => {
  it('lists 30 action types, each with a minimal example here', () => {
    assert.equal(actionTypes.length, 30);
    assert.deepEqual([...actionTypes].sort(), Object.keys(minimalActions).sort());
  });

  for (const type of actionTypes) {
    it(`accepts a minimal ${type} action and keeps it as written`, () => {
      const action = minimalActions[type];
      const outcome = parseScriptValue(scriptWith(action));
      assert.ok(outcome.ok, `rejected: ${JSON.stringify(outcome.ok ? [] : outcome.problems)}`);
      assert.deepEqual(outcome.script.steps[0]?.actions[0], action);
    });

    for (const { name, action, path, message } of invalidCases[type]) {
      it(`rejects a ${type} action ${name} and blames ${path.slice(at.length) || 'the action'}`, () => {
        assertSingleProblem(parseScriptValue(scriptWith(action)), path, message);
      });
    }
  }

  it('accepts the rich script that uses every action type', () => {
    const outcome = parseScriptValue(richScript());
    assert.ok(outcome.ok, `rejected: ${JSON.stringify(outcome.ok ? [] : outcome.problems)}`);
    const used = new Set(outcome.script.steps.flatMap((step) => step.actions.map((action) => action.type)));
    assert.deepEqual([...used].sort(), [...actionTypes].sort());
  });

  it('locates a problem in a later step and action by index', () => {
    const script = { name: 'x', steps: [{ name: 'a', actions: [minimalActions.click] }, { name: 'b', actions: [minimalActions.click, { type: 'fill', selector: '#q' }] }] };
    assertSingleProblem(parseScriptValue(script), 'steps[1].actions[1].value', /^missing: expected string$/);
  });
});

describe('action schema: unknown action types', () => {
  it('rejects an unknown action type, lists the valid ones and suggests the closest', () => {
    const problems = problemsOf(parseScriptValue(scriptWith({ type: 'clik', selector: '#a' })));
    assert.equal(problems.length, 1);
    assert.equal(problems[0]?.path, `${at}.type`);
    assert.match(problems[0]?.message ?? '', /^expected one of navigate, click, doubleClick, .*, setViewport; got "clik" \(did you mean "click"\?\)$/);
  });

  it('suggests the right spelling for a wrongly capitalised type', () => {
    assertSingleProblem(parseScriptValue(scriptWith({ type: 'assertURL', contains: 'x' })), `${at}.type`, /got "assertURL" \(did you mean "assertUrl"\?\)$/);
  });

  it('gives no hint when nothing is close', () => {
    const problems = problemsOf(parseScriptValue(scriptWith({ type: 'zzzzzzzzzz' })));
    assert.equal(problems[0]?.path, `${at}.type`);
    assert.match(problems[0]?.message ?? '', /got "zzzzzzzzzz"$/);
    assert.doesNotMatch(problems[0]?.message ?? '', /did you mean/);
  });

  it('rejects an action without type and says nothing was given', () => {
    assertSingleProblem(parseScriptValue(scriptWith({ selector: '#a' })), `${at}.type`, /^expected one of navigate, .*; got nothing$/);
  });

  it('rejects a numeric type and shows the number', () => {
    assertSingleProblem(parseScriptValue(scriptWith({ type: 5 })), `${at}.type`, /; got number 5$/);
  });

  it('rejects an action that is not an object and names its kind', () => {
    assertSingleProblem(parseScriptValue(scriptWith('click #a')), at, /^expected object, got string$/);
    assertSingleProblem(parseScriptValue(scriptWith(null)), at, /^expected object, got null$/);
    assertSingleProblem(parseScriptValue(scriptWith(['click'])), at, /^expected object, got a list$/);
  });
});

describe('action schema: unknown fields and wrong types', () => {
  it('rejects unknown fields and names every one of them in one problem', () => {
    assertSingleProblem(
      parseScriptValue(scriptWith({ type: 'navigate', url: '/', Url: '/x', timeout: 5 })),
      at,
      /^unknown field "Url"; unknown field "timeout"$/,
    );
  });

  it('rejects a string timeoutMs and says a number was expected', () => {
    assertSingleProblem(parseScriptValue(scriptWith({ type: 'click', selector: '#a', timeoutMs: '500' })), `${at}.timeoutMs`, /^expected number, got string$/);
  });

  it('rejects a timeoutMs above one hour with the limit in the message', () => {
    assertSingleProblem(parseScriptValue(scriptWith({ type: 'click', selector: '#a', timeoutMs: 3_600_001 })), `${at}.timeoutMs`, /^expected at most 3600000 ms \(one hour\)$/);
  });

  it('rejects a fractional timeoutMs at its path', () => {
    const problems = problemsOf(parseScriptValue(scriptWith({ type: 'click', selector: '#a', timeoutMs: 1.5 })));
    assert.deepEqual(problems.map((p) => p.path), [`${at}.timeoutMs`]);
    assert.match(problems[0]?.message ?? '', /^expected /);
  });

  it('says a fractional timeoutMs must be a whole number of milliseconds', () => {
    assertSingleProblem(parseScriptValue(scriptWith({ type: 'click', selector: '#a', timeoutMs: 1.5 })), `${at}.timeoutMs`, /whole number/);
  });

  it('rejects a description longer than 500 characters', () => {
    assertSingleProblem(parseScriptValue(scriptWith({ type: 'closeTab', description: 'd'.repeat(501) })), `${at}.description`, /expected string to have <=500 characters/);
  });
});

describe('action schema: selectors', () => {
  it('accepts a list of alternative selectors and keeps their order', () => {
    const outcome = parseScriptValue(scriptWith({ type: 'click', selector: ['testid=go', '#go', 'text=Go'] }));
    assert.ok(outcome.ok);
    assert.deepEqual(outcome.script.steps[0]?.actions[0], { type: 'click', selector: ['testid=go', '#go', 'text=Go'] });
  });

  it('rejects an empty selector list', () => {
    assertSingleProblem(parseScriptValue(scriptWith({ type: 'click', selector: [] })), `${at}.selector`, /^expected at least one selector$/);
  });

  it('rejects an empty selector string', () => {
    assertSingleProblem(parseScriptValue(scriptWith({ type: 'click', selector: '' })), `${at}.selector`, /^expected a non-empty selector$/);
  });

  it('rejects a selector longer than 2000 characters', () => {
    assertSingleProblem(parseScriptValue(scriptWith({ type: 'click', selector: 'a'.repeat(2001) })), `${at}.selector`, /^expected a selector of at most 2000 characters$/);
  });

  it('rejects more than 10 alternatives at the selector path', () => {
    const problems = problemsOf(parseScriptValue(scriptWith({ type: 'click', selector: Array.from({ length: 11 }, (_, i) => `#a${i}`) })));
    assert.deepEqual(problems.map((p) => p.path), [`${at}.selector`]);
  });

  it('says at most 10 alternative selectors are allowed', () => {
    assertSingleProblem(parseScriptValue(scriptWith({ type: 'click', selector: Array.from({ length: 11 }, (_, i) => `#a${i}`) })), `${at}.selector`, /at most 10 alternative selectors/);
  });

  it('accepts an optional selector left out where it is optional', () => {
    for (const action of [{ type: 'press', key: 'Escape' }, { type: 'waitForText', text: 'x' }, { type: 'assertText', text: 'x' }, { type: 'extract', variable: 'u', from: 'url' }]) {
      assert.ok(parseScriptValue(scriptWith(action)).ok, JSON.stringify(action));
    }
  });
});

describe('action schema: refinements', () => {
  for (const type of ['assertUrl', 'assertTitle', 'waitForUrl'] as const) {
    it(`${type} accepts each matcher alone`, () => {
      for (const matcher of [{ equals: 'a' }, { contains: 'a' }, { matches: '^a$' }]) {
        assert.ok(parseScriptValue(scriptWith({ type, ...matcher })).ok, `${type} ${JSON.stringify(matcher)}`);
      }
    });

    it(`${type} rejects no matcher, and all three at once`, () => {
      assertSingleProblem(parseScriptValue(scriptWith({ type })), at, /^expected exactly one of `equals`, `contains` or `matches`$/);
      assertSingleProblem(parseScriptValue(scriptWith({ type, equals: 'a', contains: 'a', matches: 'a' })), at, /^expected exactly one of/);
    });
  }

  it('accepts an empty string as an equals matcher (it counts as given)', () => {
    assert.ok(parseScriptValue(scriptWith({ type: 'assertTitle', equals: '' })).ok);
  });

  it('rejects an invalid regular expression even alongside another matcher', () => {
    const problems = problemsOf(parseScriptValue(scriptWith({ type: 'assertUrl', contains: 'a', matches: '*' })));
    assert.deepEqual(
      problems.map((p) => p.path).sort(),
      [at, `${at}.matches`].sort(),
    );
  });

  it('extract needs a selector unless it reads the URL', () => {
    for (const from of ['text', 'value', 'attribute']) {
      const problems = problemsOf(parseScriptValue(scriptWith({ type: 'extract', variable: 'v', from, ...(from === 'attribute' ? { attribute: 'href' } : {}) })));
      assert.deepEqual(problems, [{ path: `${at}.selector`, message: 'expected `selector` unless `from` is `url`' }], from);
    }
    assert.ok(parseScriptValue(scriptWith({ type: 'extract', variable: 'v', from: 'url' })).ok);
  });

  it('extract needs attribute when from is attribute', () => {
    assertSingleProblem(parseScriptValue(scriptWith({ type: 'extract', variable: 'v', from: 'attribute', selector: 'a' })), `${at}.attribute`, /^expected `attribute` when `from` is `attribute`$/);
  });

  it('extract needs param when urlPart is param', () => {
    assertSingleProblem(parseScriptValue(scriptWith({ type: 'extract', variable: 'v', from: 'url', urlPart: 'param' })), `${at}.param`, /^expected `param` when `urlPart` is `param`$/);
    assert.ok(parseScriptValue(scriptWith({ type: 'extract', variable: 'v', from: 'url', urlPart: 'param', param: 'id' })).ok);
  });

  it('extract rejects an invalid pattern', () => {
    assertSingleProblem(parseScriptValue(scriptWith({ type: 'extract', variable: 'v', from: 'url', pattern: '(' })), `${at}.pattern`, /^expected `pattern` to be a valid regular expression$/);
  });

  it('extract reports every broken rule at once', () => {
    const problems = problemsOf(parseScriptValue(scriptWith({ type: 'extract', variable: 'v', from: 'attribute', urlPart: 'param', pattern: '[' })));
    assert.deepEqual(problems.map((p) => p.path).sort(), [`${at}.attribute`, `${at}.param`, `${at}.pattern`, `${at}.selector`]);
  });

  it('switchFrame accepts exactly one of selector, name or urlContains', () => {
    for (const target of [{ selector: 'iframe' }, { name: 'pay' }, { urlContains: '/pay' }]) {
      assert.ok(parseScriptValue(scriptWith({ type: 'switchFrame', ...target })).ok, JSON.stringify(target));
    }
    assertSingleProblem(parseScriptValue(scriptWith({ type: 'switchFrame' })), at, /^expected exactly one of `selector`, `name` or `urlContains`$/);
    assertSingleProblem(parseScriptValue(scriptWith({ type: 'switchFrame', selector: 'iframe', name: 'pay' })), at, /^expected exactly one of/);
  });

  it('scroll accepts a selector, or x, or y alone', () => {
    for (const target of [{ selector: '#footer' }, { x: -50 }, { y: 0 }]) {
      assert.ok(parseScriptValue(scriptWith({ type: 'scroll', ...target })).ok, JSON.stringify(target));
    }
  });

  it('scroll rejects a fractional pixel count at its path', () => {
    const problems = problemsOf(parseScriptValue(scriptWith({ type: 'scroll', x: 1.5 })));
    assert.deepEqual(problems.map((p) => p.path), [`${at}.x`]);
  });
});
