import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EngineError } from '../../../engine/core/errors.ts';
import { budgetTimeout, isPlaywrightTimeout, mapActionError } from '../../../engine/runner/error-mapping.ts';

function playwrightTimeout(message: string): Error {
  const error = new Error(message);
  error.name = 'TimeoutError';
  return error;
}

describe('isPlaywrightTimeout', () => {
  it('knows a timeout by its name or by Playwright`s message', () => {
    assert.equal(isPlaywrightTimeout(playwrightTimeout('locator.click: something')), true);
    assert.equal(isPlaywrightTimeout(new Error('page.goto: Timeout 3000ms exceeded.')), true);
    assert.equal(isPlaywrightTimeout(new Error('page.goto: net::ERR_CONNECTION_REFUSED')), false);
    assert.equal(isPlaywrightTimeout('Timeout 3000ms exceeded'), false);
  });
});

describe('budgetTimeout', () => {
  it('names the budget that limited the action', () => {
    const action = budgetTimeout({ timeoutMs: 3000, limitedBy: 'action' });
    assert.equal(action.code, 'ACTION_TIMEOUT');
    assert.equal(action.message, 'timed out after 3000 ms');
    const step = budgetTimeout({ timeoutMs: 1200, limitedBy: 'step', budgetMs: 5000 });
    assert.equal(step.code, 'STEP_TIMEOUT');
    assert.equal(step.message, "timed out: the step's 5000 ms budget ran out");
    assert.equal(budgetTimeout({ timeoutMs: 10, limitedBy: 'script', budgetMs: 60000 }).code, 'SCRIPT_TIMEOUT');
  });

  it('is what a Playwright timeout maps to, with the call log`s reason', () => {
    const error = playwrightTimeout('locator.click: Timeout 1200ms exceeded.\nCall log:\n  - waiting for locator("#go")\n  - element is not visible');
    const mapped = mapActionError(error, { timeoutMs: 1200, limitedBy: 'step', budgetMs: 5000, browserConnected: true });
    assert.ok(mapped instanceof EngineError);
    assert.equal(mapped.code, 'STEP_TIMEOUT');
    assert.equal(mapped.message, "timed out: the step's 5000 ms budget ran out (element is not visible)");
    // The deadline's own reason passes through unchanged.
    const reason = budgetTimeout({ timeoutMs: 1200, limitedBy: 'step', budgetMs: 5000 });
    assert.equal(mapActionError(reason, { timeoutMs: 1200, limitedBy: 'step', budgetMs: 5000, browserConnected: true }), reason);
  });
});
