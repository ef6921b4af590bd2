import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { judgeAssertions } from '../../../engine/checks/api/assertions.ts';
import { extractValues } from '../../../engine/checks/api/extract.ts';
import type { ResponseView } from '../../../engine/checks/api/response-view.ts';
import { EngineError } from '../../../engine/core/errors.ts';
import type { AssertionSpec } from '../../../engine/schema/checks/api.ts';

const body = { count: 3, items: [{ id: 'SO-1', status: 'open', total: 12.5 }, { id: 'SO-2', status: 'open', total: 7 }], ok: true, note: null };
const view: ResponseView = {
  status: 201,
  headers: { 'content-type': 'application/json; charset=utf-8', 'x-request-id': 'abc-123' },
  text: JSON.stringify(body),
  responseTimeMs: 42.4,
  sizeBytes: 120,
};

const passes = (assertion: AssertionSpec, on: ResponseView = view) => judgeAssertions([assertion], on)[0]?.passed;

describe('API assertions', () => {
  it('compares the status as a number', () => {
    assert.equal(passes({ type: 'status', operator: 'equals', value: 201 }), true);
    assert.equal(passes({ type: 'status', operator: 'lessThan', value: 300 }), true);
    assert.equal(passes({ type: 'status', operator: 'equals', value: 200 }), false);
  });

  it('reads headers in any case and compares text', () => {
    assert.equal(passes({ type: 'header', name: 'Content-Type', operator: 'contains', value: 'json' }), true);
    assert.equal(passes({ type: 'header', name: 'X-Request-Id', operator: 'matches', value: '^abc-\\d+$' }), true);
    assert.equal(passes({ type: 'header', name: 'x-missing', operator: 'exists' }), false);
    assert.equal(passes({ type: 'header', name: 'x-missing', operator: 'notExists' }), true);
    // A missing header is not "not equal": it is missing.
    assert.equal(passes({ type: 'header', name: 'x-missing', operator: 'notEquals', value: 'a' }), false);
  });

  it('reads JSONPath values: one match, a list of matches, lengths, numbers as text', () => {
    assert.equal(passes({ type: 'jsonPath', path: '$.count', operator: 'equals', value: 3 }), true);
    assert.equal(passes({ type: 'jsonPath', path: '$.count', operator: 'equals', value: '3' }), true);
    assert.equal(passes({ type: 'jsonPath', path: '$.items.length', operator: 'greaterThanOrEqual', value: 2 }), true);
    assert.equal(passes({ type: 'jsonPath', path: '$.items[*].status', operator: 'notContains', value: 'shipped' }), true);
    assert.equal(passes({ type: 'jsonPath', path: '$.items[*].id', operator: 'contains', value: 'SO-2' }), true);
    assert.equal(passes({ type: 'jsonPath', path: '$.items[0].total', operator: 'greaterThan', value: 12 }), true);
    assert.equal(passes({ type: 'jsonPath', path: '$.items[1].total', operator: 'greaterThan', value: 12 }), false);
    assert.equal(passes({ type: 'jsonPath', path: '$.ok', operator: 'equals', value: true }), true);
    assert.equal(passes({ type: 'jsonPath', path: '$.nothing', operator: 'notExists' }), true);
  });

  it('says why a JSONPath found nothing, and that a body is not JSON', () => {
    const [missing] = judgeAssertions([{ type: 'jsonPath', path: '$.nothing', operator: 'equals', value: 1 }], view);
    assert.deepEqual(missing, { description: 'jsonPath $.nothing equals 1', passed: false, actual: 'nothing in the body matches $.nothing' });
    const [html] = judgeAssertions([{ type: 'jsonPath', path: '$.a', operator: 'exists' }], { ...view, text: '<html>' });
    assert.match(html?.actual ?? '', /the body is not JSON/);
  });

  it('compares a regex group, the body text, response time and size', () => {
    assert.equal(passes({ type: 'regex', pattern: '"total":([0-9.]+)', operator: 'equals', value: 12.5 }), true);
    assert.equal(passes({ type: 'body', operator: 'contains', value: 'SO-1' }), true);
    assert.equal(passes({ type: 'body', operator: 'notContains', value: 'Exception' }), true);
    assert.equal(passes({ type: 'responseTimeMs', operator: 'lessThan', value: 50 }), true);
    assert.equal(passes({ type: 'responseTimeMs', operator: 'lessThan', value: 40 }), false);
    assert.equal(passes({ type: 'sizeBytes', operator: 'lessThanOrEqual', value: 120 }), true);
  });

  it('never passes a number comparison on text that is not a number', () => {
    assert.equal(passes({ type: 'jsonPath', path: '$.items[0].status', operator: 'greaterThan', value: 0 }), false);
    assert.equal(passes({ type: 'jsonPath', path: '$.note', operator: 'lessThan', value: 1 }), false);
  });
});

describe('extract', () => {
  it('takes JSON, header and regex values as text', () => {
    const values = extractValues(
      [
        { name: 'first', from: 'json', path: '$.items[0].id' },
        { name: 'requestId', from: 'header', header: 'X-Request-Id' },
        { name: 'total', from: 'regex', pattern: '"total":([0-9.]+)' },
        { name: 'ids', from: 'json', path: '$.items[*].id' },
      ],
      view,
      'steps[0]',
    );
    assert.deepEqual(Object.fromEntries(values), { first: 'SO-1', requestId: 'abc-123', total: '12.5', ids: '["SO-1","SO-2"]' });
  });

  it('fails with EXTRACTION_FAILED (blame site) naming the extract', () => {
    assert.throws(
      () => extractValues([{ name: 'token', from: 'json', path: '$.token' }], view, 'steps[1]'),
      (error: unknown) => error instanceof EngineError && error.code === 'EXTRACTION_FAILED' && error.blame === 'site' && error.message === 'steps[1].extract[0]: could not extract "token": nothing in the body matches $.token',
    );
  });
});
