import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { closestMatch, lineAndColumn } from '../../../engine/core/script-problems.ts';
import { actionTypes } from '../../../engine/schema/actions.ts';

describe('closestMatch', () => {
  it('suggests the action type a typo was meant to be', () => {
    assert.equal(closestMatch('clik', actionTypes), 'click');
    assert.equal(closestMatch('navigte', actionTypes), 'navigate');
    assert.equal(closestMatch('waitForURL', actionTypes), 'waitForUrl');
    assert.equal(closestMatch('dubleClick', actionTypes), 'doubleClick');
  });

  it('ignores case when comparing', () => {
    assert.equal(closestMatch('SETVIEWPORT', actionTypes), 'setViewport');
  });

  it('suggests nothing when every candidate is far away', () => {
    assert.equal(closestMatch('zzzzzzzzzz', actionTypes), undefined);
    assert.equal(closestMatch('', ['navigate']), undefined);
  });

  // No speed assertion (machines are shared): without the length pre-filter, the full edit distance of a 4 MB
  // value against every action type takes tens of seconds, so the test's timeout is the guard.
  it('skips candidates whose length alone rules them out, so a huge value gets no hint', { timeout: 10_000 }, () => {
    assert.equal(closestMatch('x'.repeat(4_000_000), actionTypes), undefined);
    assert.equal(closestMatch('clickk', actionTypes), 'click');
  });
});

describe('lineAndColumn', () => {
  it('counts lines and columns from 1', () => {
    assert.deepEqual(lineAndColumn('abc', 0), { line: 1, column: 1 });
    assert.deepEqual(lineAndColumn('abc\ndef', 5), { line: 2, column: 2 });
    assert.deepEqual(lineAndColumn('a\n\nb', 3), { line: 3, column: 1 });
  });
});
