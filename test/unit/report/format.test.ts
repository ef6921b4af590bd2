/** formatDurationMs: the one duration format of the console, the report and the dashboard. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDurationMs } from '../../../engine/report/format.ts';

/** Milliseconds → what people read: about three significant figures, in the unit they expect. */
const readings = new Map<number, string>([
  [0, '0 ms'],
  [87.2, '87 ms'],
  [999.4, '999 ms'],
  [1000, '1.00 s'],
  [1234.5, '1.23 s'],
  [9_994, '9.99 s'],
  [12_345, '12.3 s'],
  [59_900, '59.9 s'],
  [60_000, '1 min 0 s'],
  [125_000, '2 min 5 s'],
]);

describe('formatDurationMs', () => {
  it('reads about three significant figures in the unit people expect', () => {
    for (const [ms, text] of readings) assert.equal(formatDurationMs(ms), text, `${ms} ms`);
  });

  it('shows a dash when there is no duration', () => {
    for (const ms of [undefined, Number.NaN, Number.POSITIVE_INFINITY]) assert.equal(formatDurationMs(ms), '—', String(ms));
  });
});
