import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeValue, formatIssuePath, valueAtPath } from '../../../engine/core/issue-path.ts';

describe('formatIssuePath', () => {
  it('renders the empty path as (root)', () => {
    assert.equal(formatIssuePath([]), '(root)');
  });

  it('joins names with dots and indexes with brackets', () => {
    assert.equal(formatIssuePath(['steps', 2, 'actions', 0, 'selector']), 'steps[2].actions[0].selector');
  });

  it('quotes keys that are not identifiers', () => {
    assert.equal(formatIssuePath(['settings', 'extraHttpHeaders', 'X-Token']), 'settings.extraHttpHeaders["X-Token"]');
    assert.equal(formatIssuePath(['variables', '1bad']), 'variables["1bad"]');
    assert.equal(formatIssuePath(['a b']), '["a b"]');
  });

  it('starts with an index when the root is a list', () => {
    assert.equal(formatIssuePath([0, 'name']), '[0].name');
  });

  it('renders a symbol key as a quoted string', () => {
    assert.equal(formatIssuePath(['x', Symbol('s')]), 'x["Symbol(s)"]');
  });
});

describe('valueAtPath', () => {
  const doc = { steps: [{ actions: [{ selector: '#a' }] }] };

  it('reads the value at a path', () => {
    assert.equal(valueAtPath(doc, ['steps', 0, 'actions', 0, 'selector']), '#a');
  });

  it('returns undefined when the path leads through a non-object', () => {
    assert.equal(valueAtPath(doc, ['steps', 0, 'actions', 0, 'selector', 'x', 'y']), undefined);
    assert.equal(valueAtPath(null, ['a']), undefined);
    assert.equal(valueAtPath(doc, ['steps', 5, 'actions']), undefined);
  });

  it('returns the root for the empty path', () => {
    assert.equal(valueAtPath(doc, []), doc);
  });
});

describe('describeValue', () => {
  it('describes each kind of value briefly', () => {
    assert.equal(describeValue(undefined), 'nothing');
    assert.equal(describeValue(null), 'null');
    assert.equal(describeValue([1, 2, 3]), 'a list of 3');
    assert.equal(describeValue({ a: 1 }), 'an object');
    assert.equal(describeValue('hi'), '"hi"');
    assert.equal(describeValue(5), 'number 5');
    assert.equal(describeValue(false), 'boolean false');
  });

  it('cuts long strings to 40 characters and gives their length', () => {
    assert.equal(describeValue('x'.repeat(1_000_000)), `"${'x'.repeat(40)}…" (1000000 characters)`);
  });
});
