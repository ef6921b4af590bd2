import assert from 'node:assert/strict';
import type { CheckOutcome, CheckPhase } from '../../../engine/checks/check-types.ts';
import type { ErrorCode } from '../../../engine/schema/error-codes.ts';

function assertPhases(outcome: CheckOutcome, phases: readonly CheckPhase[]): void {
  for (const phase of phases) {
    const ms = outcome.phases[phase];
    assert.ok(typeof ms === 'number' && Number.isFinite(ms) && ms >= 0 && ms < 60_000, `phase ${phase} should be a plausible time, got ${String(ms)} in ${JSON.stringify(outcome.phases)}`);
  }
}

/** The check passed, with these phases timed. */
export function assertPassed(outcome: CheckOutcome, phases: readonly CheckPhase[]): void {
  assert.equal(outcome.error, undefined, `expected a pass, got ${outcome.error?.code}: ${outcome.error?.message}`);
  assertPhases(outcome, phases);
}

/** The check failed with `code` (blame from the table unless given), a message matching `message`, these phases kept. */
export function assertFailed(outcome: CheckOutcome, code: ErrorCode, message: RegExp, phases: readonly CheckPhase[] = [], blame: 'site' | 'script' | 'engine' = 'site'): void {
  assert.ok(outcome.error !== undefined, `expected ${code}, but the check passed: ${JSON.stringify(outcome)}`);
  assert.equal(outcome.error.code, code, `expected ${code}, got ${outcome.error.code}: ${outcome.error.message}`);
  assert.equal(outcome.error.blame, blame);
  assert.match(outcome.error.message, message);
  assert.doesNotMatch(outcome.error.message, /[\r\n]/, 'one line');
  assertPhases(outcome, phases);
}

/** No password anywhere in the outcome (message, details, warnings). */
export function assertNoSecret(outcome: CheckOutcome, secret: string): void {
  const text = JSON.stringify({ ...outcome, error: outcome.error?.message });
  assert.ok(!text.includes(secret), `the secret leaked into ${text}`);
}
