import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EngineError, assertNever, isEngineError, toEngineError } from '../../../engine/core/errors.ts';

describe('EngineError', () => {
  it('carries code, blame and message, and serialises to exactly those', () => {
    const error = new EngineError('SELECTOR_NOT_FOUND', 'no element matches #go', 'site');
    assert.equal(error.name, 'EngineError');
    assert.ok(error instanceof Error);
    assert.deepEqual(error.toData(), { code: 'SELECTOR_NOT_FOUND', message: 'no element matches #go', blame: 'site' });
    assert.equal(isEngineError(error), true);
    assert.equal(isEngineError(new Error('x')), false);
  });

  it('keeps the cause when one is given, and has none otherwise', () => {
    const cause = new Error('root');
    assert.equal(new EngineError('INTERNAL', 'x', 'engine', { cause }).cause, cause);
    assert.equal('cause' in new EngineError('INTERNAL', 'x', 'engine'), false);
  });
});

describe('toEngineError', () => {
  it('returns an EngineError unchanged', () => {
    const error = new EngineError('USAGE', 'bad flag', 'script');
    assert.equal(toEngineError(error), error);
  });

  it('wraps a plain Error as an engine fault with the fallback code', () => {
    const wrapped = toEngineError(new TypeError('boom'));
    assert.deepEqual(wrapped.toData(), { code: 'INTERNAL', message: 'boom', blame: 'engine' });
    assert.equal(toEngineError(new Error('gone'), 'BROWSER_CRASHED').code, 'BROWSER_CRASHED');
  });

  it('wraps a thrown non-Error by its string form', () => {
    assert.equal(toEngineError('just a string').message, 'just a string');
    assert.equal(toEngineError(42).message, '42');
  });
});

describe('assertNever', () => {
  it('throws an INTERNAL engine error naming the unexpected value', () => {
    assert.throws(() => assertNever('odd' as never, 'action type'), (error: unknown) => error instanceof EngineError && error.code === 'INTERNAL' && error.message === 'unexpected action type: "odd"');
  });
});
