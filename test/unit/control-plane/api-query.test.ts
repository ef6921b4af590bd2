import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalJson, mergePatch, outcomeOf, parseQuery } from '../../../control-plane/api-query.ts';
import { runsQuerySchema } from '../../../control-plane/api-schemas.ts';
import { ApiError } from '../../../control-plane/http.ts';

describe('API query strings and patches', () => {
  it('applies a JSON merge patch as RFC 7386 says: objects merge, null deletes, arrays and scalars replace', () => {
    const target = { a: 'b', c: { d: 'e', f: 'g' }, list: [1, 2] };
    assert.deepEqual(mergePatch(target, { a: 'z', c: { f: null }, list: [3] }), { a: 'z', c: { d: 'e' }, list: [3] });
    assert.deepEqual(mergePatch(target, { x: { y: null, z: 1 } }), { ...target, x: { z: 1 } });
    assert.deepEqual(mergePatch({ a: 'b' }, ['c']), ['c']);
    assert.deepEqual(target, { a: 'b', c: { d: 'e', f: 'g' }, list: [1, 2] }, 'the target is not changed');
  });

  it('compares configurations whatever the key order, naming the changed fields', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: 2, c: 3 } }), canonicalJson({ a: { c: 3, d: 2 }, b: 1 }));
    assert.deepEqual(outcomeOf({ a: 1, b: { c: 2 } }, { b: { c: 2 }, a: 1 }), { outcome: 'unchanged', changes: [] });
    assert.deepEqual(outcomeOf({ a: 1, b: 2 }, { a: 1, c: 3 }), { outcome: 'changed', changes: ['b', 'c'] });
    assert.deepEqual(outcomeOf(undefined, { b: 1, a: 2 }), { outcome: 'created', changes: ['a', 'b'] });
  });

  it('parses declared parameters, lists from commas or repeats, and rejects an unknown one by name', () => {
    const url = new URL('http://cp/api/v1/runs?status=failed,error&status=lost&since=2026-12-05T00:00:00Z&limit=5');
    assert.deepEqual(parseQuery(url, runsQuerySchema), { status: ['failed', 'error', 'lost'], since: '2026-12-05T00:00:00Z', limit: 5 });
    assert.throws(
      () => parseQuery(new URL('http://cp/api/v1/runs?stauts=failed'), runsQuerySchema),
      (error: unknown) => error instanceof ApiError && error.status === 400 && error.code === 'unknown-parameter' && error.path === 'stauts' && error.message.startsWith('stauts: unknown query parameter "stauts"; expected one of: status,'),
    );
    assert.throws(() => parseQuery(new URL('http://cp/api/v1/runs?limit=0'), runsQuerySchema), (error: unknown) => error instanceof ApiError && error.path === 'limit');
  });
});
