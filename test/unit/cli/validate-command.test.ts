import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { validate } from '../../../cli/validate-command.ts';
import { minimalActions, richScript, scriptWith } from '../support/scripts.ts';
import { captureIo, tempDir } from './support.ts';

let dir: string;
let cleanup: () => Promise<void>;

before(async () => {
  ({ dir, cleanup } = await tempDir('validate'));
});
after(async () => {
  await cleanup();
});

async function file(name: string, value: unknown): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, typeof value === 'string' ? value : JSON.stringify(value, null, 2));
  return path;
}

describe('validate command', () => {
  it('exits 0 and reports the step count of a valid script', async () => {
    const path = await file('rich.json', richScript());
    const io = captureIo();
    assert.equal(await validate([path], io), 0);
    assert.equal(io.out(), `${path}: ok (3 steps)\n`);
    assert.equal(io.err(), '');
  });

  it('exits 2 and prints each problem as `file: path: message`', async () => {
    const path = await file('bad.json', scriptWith({ type: 'click', selector: [] }, { type: 'clik' }));
    const io = captureIo();
    assert.equal(await validate([path], io), 2);
    assert.equal(io.out(), '');
    const lines = io.err().trimEnd().split('\n');
    assert.equal(lines.length, 2);
    assert.equal(lines[0], `${path}: steps[0].actions[0].selector: expected at least one selector`);
    assert.match(lines[1] ?? '', new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: steps\\[0\\]\\.actions\\[1\\]\\.type: expected one of .*did you mean "click"`));
  });

  it('checks every file and exits 2 when any one is invalid', async () => {
    const good = await file('good.json', scriptWith(minimalActions.closeTab));
    const bad = await file('broken.json', '{"name": ');
    const io = captureIo();
    assert.equal(await validate([bad, good], io), 2);
    assert.equal(io.out(), `${good}: ok (1 steps)\n`);
    assert.match(io.err(), new RegExp(`^${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: \\(root\\): invalid JSON`));
  });

  it('warns about a variable without a value but still exits 0', async () => {
    const path = await file('warn.json', scriptWith({ type: 'navigate', url: '{{baseUrl}}/' }));
    const io = captureIo();
    assert.equal(await validate([path], io), 0);
    assert.equal(io.out(), `${path}: ok (1 steps)\n`);
    assert.match(io.err(), new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: steps\\[0\\]\\.actions\\[0\\]\\.url: warning: variable "baseUrl" has no value here`));
  });

  it('reports an unreadable path without throwing', async () => {
    const io = captureIo();
    assert.equal(await validate([join(dir, 'none.json')], io), 2);
    assert.equal(io.err(), `${join(dir, 'none.json')}: (root): cannot read the script: no such file\n`);
  });
});
