/** formatDurationMs: the one duration format of the console, the report and the dashboard. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDurationMs } from '../../../engine/report/format.ts';

describe('formatDurationMs', () => {
  it('reads about three significant figures in the unit people expect', () => {
    assert.equal(formatDurationMs(0), '0 ms');
    assert.equal(formatDurationMs(87.2), '87 ms');
    assert.equal(formatDurationMs(999.4), '999 ms');
    assert.equal(formatDurationMs(1000), '1.00 s');
    assert.equal(formatDurationMs(1234.5), '1.23 s');
    assert.equal(formatDurationMs(9_994), '9.99 s');
    assert.equal(formatDurationMs(12_345), '12.3 s');
    assert.equal(formatDurationMs(59_900), '59.9 s');
    assert.equal(formatDurationMs(60_000), '1 min 0 s');
    assert.equal(formatDurationMs(125_000), '2 min 5 s');
  });

  it('shows a dash when there is no duration', () => {
    assert.equal(formatDurationMs(undefined), '—');
    assert.equal(formatDurationMs(Number.NaN), '—');
    assert.equal(formatDurationMs(Number.POSITIVE_INFINITY), '—');
  });
});
