import type { CheckRun } from './check-run.ts';

export interface StorageExpectation {
  minEntries?: number | undefined;
  contains?: string | undefined;
  sizeBytes?: number | undefined;
}

/** Judge a directory listing (SFTP, FTP) against `expect`, recording the entry count. */
export function judgeListing(run: CheckRun, path: string, names: readonly string[], expect: StorageExpectation | undefined): void {
  run.detail('entries', names.length);
  if (expect === undefined) return;
  if (expect.minEntries !== undefined && names.length < expect.minEntries) throw run.fail('ASSERTION_FAILED', `${path} holds ${names.length} entries, expected at least ${expect.minEntries}`);
  if (expect.contains !== undefined && !names.includes(expect.contains)) throw run.fail('ASSERTION_FAILED', `${path} has no entry "${expect.contains}"`);
  if (expect.sizeBytes !== undefined) throw run.fail('ASSERTION_FAILED', `${path} is a directory, expected a file of ${expect.sizeBytes} bytes`);
}

/** Judge a downloaded file against `expect`, recording its size. */
export function judgeFile(run: CheckRun, path: string, sizeBytes: number, content: string | undefined, expect: StorageExpectation | undefined): void {
  run.detail('sizeBytes', sizeBytes);
  if (expect === undefined) return;
  if (expect.sizeBytes !== undefined && sizeBytes !== expect.sizeBytes) throw run.fail('ASSERTION_FAILED', `${path} is ${sizeBytes} bytes, expected ${expect.sizeBytes}`);
  if (expect.contains !== undefined && !(content ?? '').includes(expect.contains)) throw run.fail('ASSERTION_FAILED', `${path} does not contain "${expect.contains}"`);
  if (expect.minEntries !== undefined) throw run.fail('ASSERTION_FAILED', `${path} is a file, expected a directory of at least ${expect.minEntries} entries`);
}

/** Files larger than this are not read whole for `contains`: the check proves access, it is no download test. */
export const maxReadBytes = 1024 * 1024;
