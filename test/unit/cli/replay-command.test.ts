import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EngineError } from '../../../engine/core/errors.ts';
import { collectVar } from '../../../cli/replay-command.ts';

function usageError(value: string): EngineError {
  try {
    collectVar(value, {});
  } catch (error) {
    assert.ok(error instanceof EngineError, String(error));
    return error;
  }
  assert.fail(`expected ${JSON.stringify(value)} to be rejected`);
}

describe('collectVar (--var name=value)', () => {
  it('splits at the first = so values may contain =', () => {
    assert.deepEqual(collectVar('a=b=c', {}), { a: 'b=c' });
  });

  it('accumulates repeated options and lets a later one win', () => {
    const first = collectVar('baseUrl=http://127.0.0.1:8080', {});
    const second = collectVar('customer=Globex', first);
    assert.deepEqual(collectVar('customer=Initech', second), { baseUrl: 'http://127.0.0.1:8080', customer: 'Initech' });
    assert.deepEqual(first, { baseUrl: 'http://127.0.0.1:8080' }, 'previous values must not be modified');
  });

  it('accepts an empty value and keeps spaces and newlines in the value', () => {
    assert.deepEqual(collectVar('empty=', {}), { empty: '' });
    assert.deepEqual(collectVar('q= two words ', {}), { q: ' two words ' });
    assert.deepEqual(collectVar('multi=a\nb', {}), { multi: 'a\nb' });
  });

  it('accepts underscores and digits after the first character', () => {
    assert.deepEqual(collectVar('_base_url2=x', {}), { _base_url2: 'x' });
  });

  for (const bad of ['=x', '1a=b', 'noequals', 'a-b=c', ' a=b', '']) {
    it(`rejects ${JSON.stringify(bad)} as a usage error blamed on the caller`, () => {
      const error = usageError(bad);
      assert.equal(error.code, 'USAGE');
      assert.equal(error.blame, 'script');
      assert.equal(error.message, `--var: expected name=value (name made of letters, digits and _), got ${JSON.stringify(bad)}`);
    });
  }
});
