import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scriptSchema, type Script } from '../../../../engine/schema/script.ts';

export const recordingsDir = fileURLToPath(new URL('../../../fixtures/devtools-recordings/', import.meta.url));
export const goldenDir = join(recordingsDir, 'golden');
export const examplesDir = fileURLToPath(new URL('../../../../scripts/examples/', import.meta.url));

export const recordingNames = readdirSync(recordingsDir)
  .filter((file) => file.endsWith('.json'))
  .map((file) => basename(file, '.json'))
  .sort();

/** The browser examples: API and infrastructure checks have no DevTools or Playwright counterpart. */
export const exampleNames = readdirSync(examplesDir)
  .filter((file) => file.endsWith('.json'))
  .filter((file) => {
    const kind = (JSON.parse(readFileSync(join(examplesDir, file), 'utf8')) as { kind?: string }).kind;
    return kind === undefined || kind === 'browser';
  })
  .map((file) => basename(file, '.json'))
  .sort();

export function readRecording(name: string): unknown {
  return JSON.parse(readFileSync(join(recordingsDir, `${name}.json`), 'utf8'));
}

export function readExample(name: string): Script {
  return scriptSchema.parse(JSON.parse(readFileSync(join(examplesDir, `${name}.json`), 'utf8')));
}

/** Compare with a golden file; `UPDATE_GOLDEN=1` rewrites it (review the diff before keeping it). */
export function assertGolden(file: string, actual: string): void {
  const path = join(goldenDir, file);
  if (process.env['UPDATE_GOLDEN'] === '1' || !existsSync(path)) {
    mkdirSync(goldenDir, { recursive: true });
    writeFileSync(path, actual);
  }
  assert.equal(actual, readFileSync(path, 'utf8'), `output differs from golden ${file} (UPDATE_GOLDEN=1 to accept)`);
}
