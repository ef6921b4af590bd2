import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EngineError } from '../../../engine/core/errors.ts';
import { checkConcurrencyFromEnv, defaultCheckConcurrency, Scheduler } from '../../../engine/runner/scheduler.ts';

const noLeases = { lease: () => Promise.reject(new Error('no browser in this test')) };

describe('check lane concurrency', () => {
  it('defaults to 16 and reads CHECKPOINT_CHECK_CONCURRENCY', () => {
    assert.equal(defaultCheckConcurrency, 16);
    assert.equal(checkConcurrencyFromEnv({}), 16);
    assert.equal(checkConcurrencyFromEnv({ CHECKPOINT_CHECK_CONCURRENCY: ' ' }), 16);
    assert.equal(checkConcurrencyFromEnv({ CHECKPOINT_CHECK_CONCURRENCY: '40' }), 40);
    assert.equal(new Scheduler({ leases: noLeases, concurrency: 2, checkConcurrency: 7 }).checkConcurrency, 7);
  });

  it('refuses a value that is not a whole number from 1 to 1000, naming the variable', () => {
    for (const value of ['0', '-1', '2.5', 'many', '1001']) {
      assert.throws(
        () => checkConcurrencyFromEnv({ CHECKPOINT_CHECK_CONCURRENCY: value }),
        (error: unknown) => error instanceof EngineError && error.code === 'USAGE' && error.message.startsWith('CHECKPOINT_CHECK_CONCURRENCY: expected a whole number from 1 to 1000'),
      );
    }
  });
});
