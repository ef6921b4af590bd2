import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EngineError } from '../../../engine/core/errors.ts';
import { readSecretsFile, secretLookup } from '../../../cli/secrets.ts';
import { tempDir } from './support.ts';

let dir: string;
let cleanup: () => Promise<void>;

before(async () => {
  ({ dir, cleanup } = await tempDir('secrets'));
});
after(async () => {
  await cleanup();
});

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

function secretsError(path: string): EngineError {
  try {
    readSecretsFile(path);
  } catch (error) {
    assert.ok(error instanceof EngineError, String(error));
    return error;
  }
  assert.fail(`expected ${path} to be rejected`);
}

describe('readSecretsFile', () => {
  it('reads a JSON object of strings', async () => {
    const path = await file('s.json', '{ "DEMO_PASSWORD": "demo-password", "API_TOKEN": "t=1 \\"q\\"" }\n');
    assert.deepEqual([...readSecretsFile(path)], [['DEMO_PASSWORD', 'demo-password'], ['API_TOKEN', 't=1 "q"']]);
  });

  it('reads NAME=value lines, skipping comments and blank lines, with CRLF endings', async () => {
    const path = await file('s.env', '# demo secrets\r\n\r\nDEMO_PASSWORD=demo-password\r\n  API_TOKEN = abc=def \r\nQUOTED="two words"\r\n   # indented comment\r\nEMPTY=\r\n');
    assert.deepEqual(Object.fromEntries(readSecretsFile(path)), { DEMO_PASSWORD: 'demo-password', API_TOKEN: 'abc=def', QUOTED: 'two words', EMPTY: '' });
  });

  it('rejects a bad line and names its line number', async () => {
    const path = await file('bad.env', 'A=1\n\nnot a pair\nB=2\n');
    const error = secretsError(path);
    assert.equal(error.code, 'SCRIPT_INVALID');
    assert.equal(error.blame, 'script');
    assert.equal(error.message, `${path}: line 3: expected NAME=value`);
  });

  it('rejects a name that starts with a digit', async () => {
    const path = await file('digit.env', '1PASSWORD=x\n');
    assert.equal(secretsError(path).message, `${path}: line 1: expected NAME=value`);
  });

  it('rejects a JSON value that is not a string and names its key', async () => {
    const path = await file('num.json', '{"PORT": 8080}');
    const error = secretsError(path);
    assert.equal(error.code, 'SCRIPT_INVALID');
    assert.equal(error.message, `${path}: PORT: expected a string value`);
  });

  it('rejects broken JSON', async () => {
    const path = await file('broken.json', '{"A": "1",');
    assert.equal(secretsError(path).message, `${path}: (root): invalid JSON in the secrets file`);
  });

  it('reports a missing file as FILE_NOT_FOUND', () => {
    const path = join(dir, 'nope.env');
    const error = secretsError(path);
    assert.equal(error.code, 'FILE_NOT_FOUND');
    assert.equal(error.blame, 'script');
    assert.equal(error.message, `${path}: cannot read the secrets file`);
  });

  it('reads a JSON secrets file saved with a byte order mark', async () => {
    const path = await file('bom.json', '\uFEFF{"A":"1"}');
    assert.deepEqual(Object.fromEntries(readSecretsFile(path)), { A: '1' });
  });
});

describe('secretLookup', () => {
  it('prefers the file over the environment', async () => {
    const path = await file('pin.env', 'DEMO_PASSWORD=from-file\n');
    const lookup = secretLookup(path, { DEMO_PASSWORD: 'from-env', OTHER: 'env-only' });
    assert.equal(lookup('DEMO_PASSWORD'), 'from-file');
    assert.equal(lookup('OTHER'), 'env-only');
    assert.equal(lookup('MISSING'), undefined);
  });

  it('uses the environment alone without a file', () => {
    const lookup = secretLookup(undefined, { A: 'x' });
    assert.equal(lookup('A'), 'x');
    assert.equal(lookup('B'), undefined);
  });

  it('keeps an empty value from the file rather than falling back to the environment', async () => {
    const path = await file('empty.env', 'A=\n');
    assert.equal(secretLookup(path, { A: 'env' })('A'), '');
  });

  it('reads the file once, when the lookup is created', async () => {
    const path = await file('once.env', 'A=first\n');
    const lookup = secretLookup(path, {});
    await writeFile(path, 'A=second\n');
    assert.equal(lookup('A'), 'first');
  });

  it('fails at creation for an unreadable file', () => {
    assert.throws(() => secretLookup(join(dir, 'missing.env'), {}), (error: unknown) => error instanceof EngineError && error.code === 'FILE_NOT_FOUND');
  });

  it('does not return inherited properties of the environment object as secrets', () => {
    const lookup = secretLookup(undefined, process.env);
    assert.equal(lookup('toString'), undefined);
    assert.equal(lookup('constructor'), undefined);
  });
});
