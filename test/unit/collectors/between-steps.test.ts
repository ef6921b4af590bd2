import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BetweenSteps } from '../../../engine/collectors/between-steps.ts';

describe('BetweenSteps', () => {
  it('lets deferred work through between steps and holds it while a step runs until the step ends', async () => {
    const gate = new BetweenSteps();
    const order: string[] = [];
    await gate.wait();
    order.push('between steps: at once');
    gate.stepStarts();
    const held = gate.wait().then(() => order.push('after the step'));
    // Several turns of the event loop: still held while the step runs.
    for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
    order.push('step ends');
    gate.stepEnded();
    await held;
    assert.deepEqual(order, ['between steps: at once', 'step ends', 'after the step']);
  });

  it('releases every waiter when the step ends, and a second end is harmless', async () => {
    const gate = new BetweenSteps();
    gate.stepStarts();
    let released = 0;
    const waiters = [gate.wait(), gate.wait(), gate.wait()].map((w) => w.then(() => released++));
    gate.stepEnded();
    gate.stepEnded();
    await Promise.all(waiters);
    assert.equal(released, 3);
  });
});
