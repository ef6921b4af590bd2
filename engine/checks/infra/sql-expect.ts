import type { CheckRun } from './check-run.ts';

export interface SqlExpectation {
  rowCount?: number | undefined;
  minRows?: number | undefined;
  firstValue?: string | number | boolean | null | undefined;
}

function asText(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (value instanceof Date) return value.toISOString();
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (typeof value === 'object') return JSON.stringify(value);
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return value.toString();
  return typeof value;
}

/** Record the query's row count and first value, and fail when they are not what `expect` says. */
export function judgeRows(run: CheckRun, rows: readonly unknown[][], expect: SqlExpectation | undefined): void {
  const first = rows[0]?.[0];
  run.detail('rowCount', rows.length);
  if (rows.length > 0) run.detail('firstValue', asText(first).slice(0, 200));
  if (expect === undefined) return;
  if (expect.rowCount !== undefined && rows.length !== expect.rowCount) throw run.fail('ASSERTION_FAILED', `the query returned ${rows.length} rows, expected ${expect.rowCount}`);
  if (expect.minRows !== undefined && rows.length < expect.minRows) throw run.fail('ASSERTION_FAILED', `the query returned ${rows.length} rows, expected at least ${expect.minRows}`);
  if (expect.firstValue !== undefined) {
    if (rows.length === 0) throw run.fail('ASSERTION_FAILED', `the query returned no rows, expected a first value of ${asText(expect.firstValue)}`);
    if (asText(first) !== asText(expect.firstValue)) throw run.fail('ASSERTION_FAILED', `the query's first value is ${asText(first).slice(0, 200)}, expected ${asText(expect.firstValue)}`);
  }
}
