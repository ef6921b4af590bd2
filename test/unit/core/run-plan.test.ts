import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseScriptValue } from '../../../engine/core/parse-script.ts';
import { actionBudget, requestedActionTimeoutMs, scriptTimeoutMs, shouldRunStep, stepTimeoutMs } from '../../../engine/core/run-plan.ts';
import type { Action } from '../../../engine/schema/actions.ts';
import type { Script, Step } from '../../../engine/schema/script.ts';
import { minimalActions } from '../support/scripts.ts';

function scriptOf(extra: Record<string, unknown> = {}, stepExtras: Record<string, unknown>[] = [{}]): Script {
  const outcome = parseScriptValue({ name: 'x', steps: stepExtras.map((e, i) => ({ name: `s${i}`, actions: [minimalActions.closeTab], ...e })), ...extra });
  assert.ok(outcome.ok, JSON.stringify(outcome.ok ? [] : outcome.problems));
  return outcome.script;
}

function actionOf(action: Record<string, unknown>): Action {
  const outcome = parseScriptValue({ name: 'x', steps: [{ name: 's', actions: [action] }] });
  assert.ok(outcome.ok, JSON.stringify(outcome.ok ? [] : outcome.problems));
  return outcome.script.steps[0]!.actions[0]!;
}

describe('actionBudget', () => {
  it('gives the action what it asks for when step and script have more left', () => {
    assert.deepEqual(actionBudget(10_000, 60_000, 300_000), { timeoutMs: 10_000, limitedBy: 'action' });
  });

  it('is limited by the step when the step has less left', () => {
    assert.deepEqual(actionBudget(10_000, 4_000, 300_000), { timeoutMs: 4_000, limitedBy: 'step' });
  });

  it('is limited by the script when the script has the least left', () => {
    assert.deepEqual(actionBudget(10_000, 4_000, 2_500), { timeoutMs: 2_500, limitedBy: 'script' });
    assert.deepEqual(actionBudget(10_000, 60_000, 2_500), { timeoutMs: 2_500, limitedBy: 'script' });
  });

  it('keeps the more specific source on a tie', () => {
    assert.deepEqual(actionBudget(5_000, 5_000, 5_000), { timeoutMs: 5_000, limitedBy: 'action' });
    assert.deepEqual(actionBudget(9_000, 3_000, 3_000), { timeoutMs: 3_000, limitedBy: 'step' });
  });

  it('rounds down to whole milliseconds', () => {
    assert.deepEqual(actionBudget(10_000, 1_234.9, 300_000), { timeoutMs: 1_234, limitedBy: 'step' });
  });

  it('never goes below zero when a budget is already spent', () => {
    assert.deepEqual(actionBudget(10_000, -250, 300_000), { timeoutMs: 0, limitedBy: 'step' });
    assert.deepEqual(actionBudget(10_000, -250, -900), { timeoutMs: 0, limitedBy: 'script' });
  });
});

describe('requestedActionTimeoutMs', () => {
  const bare = scriptOf();
  const tuned = scriptOf({ settings: { actionTimeoutMs: 15_000, navigationTimeoutMs: 45_000 } });

  it('uses the action timeout default for ordinary actions', () => {
    assert.equal(requestedActionTimeoutMs(actionOf(minimalActions.click), bare), 10_000);
    assert.equal(requestedActionTimeoutMs(actionOf(minimalActions.click), tuned), 15_000);
    assert.equal(requestedActionTimeoutMs(actionOf(minimalActions.switchToMainFrame), tuned), 15_000);
  });

  it('uses the navigation timeout for navigate', () => {
    assert.equal(requestedActionTimeoutMs(actionOf(minimalActions.navigate), bare), 30_000);
    assert.equal(requestedActionTimeoutMs(actionOf(minimalActions.navigate), tuned), 45_000);
  });

  it('gives waitForTime its duration plus one second, whatever the defaults', () => {
    assert.equal(requestedActionTimeoutMs(actionOf({ type: 'waitForTime', durationMs: 2_500 }), bare), 3_500);
    assert.equal(requestedActionTimeoutMs(actionOf({ type: 'waitForTime', durationMs: 60_000 }), tuned), 61_000);
  });

  it('lets the action`s own timeoutMs win over every default', () => {
    assert.equal(requestedActionTimeoutMs(actionOf({ ...minimalActions.navigate, timeoutMs: 5_000 }), tuned), 5_000);
    assert.equal(requestedActionTimeoutMs(actionOf({ ...minimalActions.click, timeoutMs: 120_000 }), tuned), 120_000);
  });
});

describe('step and script budgets', () => {
  it('default to 60 s per step and 300 s per script', () => {
    const script = scriptOf();
    assert.equal(stepTimeoutMs(script.steps[0]!), 60_000);
    assert.equal(scriptTimeoutMs(script), 300_000);
  });

  it('use the values the script gives', () => {
    const script = scriptOf({ timeoutMs: 900_000 }, [{ timeoutMs: 5_000 }]);
    assert.equal(stepTimeoutMs(script.steps[0]!), 5_000);
    assert.equal(scriptTimeoutMs(script), 900_000);
  });
});

describe('shouldRunStep', () => {
  const plain: Step[] = scriptOf({}, [{}, {}, {}]).steps;
  const tolerant: Step[] = scriptOf({}, [{ continueOnFailure: true }, {}, {}]).steps;

  it('runs the first step and steps after passes', () => {
    assert.equal(shouldRunStep(plain, [], false), true);
    assert.equal(shouldRunStep(plain, ['passed', 'passed'], false), true);
  });

  it('skips the rest after a failed step', () => {
    assert.equal(shouldRunStep(plain, ['failed'], false), false);
    assert.equal(shouldRunStep(plain, ['failed', 'skipped'], false), false);
  });

  it('continues after a failed step that says continueOnFailure', () => {
    assert.equal(shouldRunStep(tolerant, ['failed'], false), true);
  });

  it('stops at a later failure without continueOnFailure, even after a tolerated one', () => {
    assert.equal(shouldRunStep(tolerant, ['failed', 'failed'], false), false);
    assert.equal(shouldRunStep(tolerant, ['failed', 'passed'], false), true);
  });

  it('stops everything after an engine fault, continueOnFailure or not', () => {
    assert.equal(shouldRunStep(tolerant, ['failed'], true), false);
    assert.equal(shouldRunStep(plain, [], true), false);
  });
});
