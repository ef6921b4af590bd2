import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { availability, escapeLabelValue } from '../../../control-plane/metrics.ts';
import type { RunRecord } from '../../../control-plane/store.ts';

const run = (status: RunRecord['status'], reason: RunRecord['reason'] = 'schedule') => ({ status, reason });

describe('control-plane metrics', () => {
  it('counts a check as available when it passed or warned, and lets a retry decide the check it confirms', () => {
    assert.deepEqual(availability([]), { checks: 0, available: 0 });
    assert.deepEqual(availability([run('passed'), run('warning'), run('failed'), run('failed', 'retry')]), { checks: 3, available: 2 });
    assert.deepEqual(availability([run('failed'), run('passed', 'retry')]), { checks: 1, available: 1 }, 'an unconfirmed failure raised no alert');
    assert.deepEqual(availability([run('lost'), run('running'), run('error', 'manual')]), { checks: 1, available: 0 });
    assert.deepEqual(availability([run('passed', 'retry')]), { checks: 1, available: 1 }, 'a retry whose first attempt is outside the window counts alone');
  });

  it('lets a retry confirm the check of its own checkpoint when runs on several checkpoints interleave', () => {
    const at = (checkpoint: string, status: RunRecord['status'], reason: RunRecord['reason'] = 'schedule') => ({ status, reason, checkpoint });
    // eu fails, us passes, eu's retry passes: two checks, both available (the retry does not overwrite us's).
    assert.deepEqual(availability([at('eu', 'failed'), at('us', 'passed'), at('eu', 'passed', 'retry')]), { checks: 2, available: 2 });
    // eu's failure confirmed: one check down, us's pass stands.
    assert.deepEqual(availability([at('eu', 'failed'), at('us', 'passed'), at('eu', 'failed', 'retry')]), { checks: 2, available: 1 });
  });

  it('escapes backslash, double quote and line feed in label values, and nothing else', () => {
    assert.equal(escapeLabelValue('Login "EU" \\ intranet\nline two'), 'Login \\"EU\\" \\\\ intranet\\nline two');
    assert.equal(escapeLabelValue('émoji ✓ {a=b}'), 'émoji ✓ {a=b}');
  });
});
