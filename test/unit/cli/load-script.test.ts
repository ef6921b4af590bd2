import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EngineError } from '../../../engine/core/errors.ts';
import { stepNamesOf } from '../../../engine/schema/script.ts';
import { formatProblems, loadScriptFile, loadScriptOrThrow } from '../../../cli/load-script.ts';
import { minimalActions, scriptWith } from '../support/scripts.ts';
import { tempDir } from './support.ts';

let dir: string;
let cleanup: () => Promise<void>;

before(async () => {
  ({ dir, cleanup } = await tempDir('load'));
});
after(async () => {
  await cleanup();
});

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

describe('loadScriptFile', () => {
  it('loads a valid script', async () => {
    const loaded = await loadScriptFile(await file('ok.json', JSON.stringify(scriptWith(minimalActions.click))));
    assert.ok(loaded.ok);
    assert.equal(loaded.script.name, 'Unit test transaction');
  });

  it('accepts a script saved with a UTF-8 byte order mark', async () => {
    const loaded = await loadScriptFile(await file('bom.json', `\uFEFF${JSON.stringify(scriptWith(minimalActions.click))}`));
    assert.ok(loaded.ok, JSON.stringify(loaded.ok ? [] : loaded.problems));
  });

  it('reports a missing file as one problem at (root)', async () => {
    assert.deepEqual(await loadScriptFile(join(dir, 'missing.json')), { ok: false, problems: [{ path: '(root)', message: 'cannot read the script: no such file' }] });
  });

  it('reports a directory as one problem at (root)', async () => {
    const sub = join(dir, 'folder.json');
    await mkdir(sub);
    assert.deepEqual(await loadScriptFile(sub), { ok: false, problems: [{ path: '(root)', message: 'cannot read the script: is a directory, expected a .json script' }] });
  });

  it('reports an empty file as invalid JSON', async () => {
    assert.deepEqual(await loadScriptFile(await file('empty.json', '')), { ok: false, problems: [{ path: '(root)', message: 'invalid JSON: Unexpected end of JSON input' }] });
  });
});

describe('formatProblems', () => {
  it('prints one `file: path: message` line per problem', () => {
    assert.equal(
      formatProblems('a.json', [
        { path: 'name', message: 'missing: expected string' },
        { path: 'steps[0].actions[1].selector', message: 'expected at least one selector' },
      ]),
      'a.json: name: missing: expected string\na.json: steps[0].actions[1].selector: expected at least one selector',
    );
  });
});

describe('loadScriptOrThrow', () => {
  it('returns the script when it is valid', async () => {
    const script = await loadScriptOrThrow(await file('ok2.json', JSON.stringify(scriptWith(minimalActions.closeTab))));
    assert.equal(stepNamesOf(script).length, 1);
  });

  it('throws SCRIPT_INVALID blamed on the script, listing every problem', async () => {
    const path = await file('bad.json', JSON.stringify({ steps: [{ name: 's', actions: [{ type: 'click' }] }] }));
    await assert.rejects(loadScriptOrThrow(path), (error: unknown) => {
      assert.ok(error instanceof EngineError);
      assert.equal(error.code, 'SCRIPT_INVALID');
      assert.equal(error.blame, 'script');
      assert.equal(error.message, `${path}: name: missing: expected string\n${path}: steps[0].actions[0].selector: missing: expected a selector string or a list of selectors`);
      return true;
    });
  });
});
