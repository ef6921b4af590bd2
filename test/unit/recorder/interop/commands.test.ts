import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { scriptSchema } from '../../../../engine/schema/script.ts';
import { runExportCommand, runImportCommand } from '../../../../recorder/interop/commands.ts';
import { examplesDir, recordingsDir } from './support.ts';

function capture() {
  const out = { stdout: '', stderr: '' };
  return { out, io: { stdout: (t: string) => void (out.stdout += t), stderr: (t: string) => void (out.stderr += t) } };
}

describe('checkpoint import / export commands', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'checkpoint-interop-cmd-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('imports a recording with problems: exit 0, a valid script on stdout, each problem as `file: path: warning: message`', async () => {
    const file = join(recordingsDir, 'every-step-type.json');
    const { out, io } = capture();
    assert.equal(await runImportCommand({ file }, io), 0);
    assert.ok(scriptSchema.safeParse(JSON.parse(out.stdout)).success);
    assert.ok(out.stderr.includes(`${file}: steps[1]: warning: emulateNetworkConditions`), out.stderr);
  });

  it('writes the imported script to --out with {{baseUrl}} when given the recorded origin', async () => {
    const target = join(dir, 'imported.json');
    const { io } = capture();
    assert.equal(await runImportCommand({ file: join(recordingsDir, 'login-and-search.json'), out: target, baseUrl: 'http://127.0.0.1:8080', passwordSecret: 'DEMO_PASSWORD' }, io), 0);
    const script = scriptSchema.parse(JSON.parse(await readFile(target, 'utf8')));
    assert.equal(script.variables?.['baseUrl'], 'http://127.0.0.1:8080');
  });

  it('exits 2 for a file that is not a DevTools recording (our own script format), naming the file', async () => {
    const file = join(examplesDir, 'intranet-health.json');
    const { out, io } = capture();
    assert.equal(await runImportCommand({ file }, io), 2);
    assert.match(out.stderr, /not a DevTools Recorder recording/);
    const broken = join(dir, 'broken.json');
    await writeFile(broken, '{ nope');
    assert.equal(await runImportCommand({ file: broken }, capture().io), 2);
  });

  it('exports a script as devtools, playwright and playwright-script; an invalid script exits 2', async () => {
    const file = join(examplesDir, 'login-and-search-orders.json');
    for (const format of ['devtools', 'playwright', 'playwright-script'] as const) {
      const { out, io } = capture();
      assert.equal(await runExportCommand({ file, format }, io), 0, format);
      assert.ok(out.stdout.length > 100, format);
    }
    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ name: 'x', steps: [] }));
    const { out, io } = capture();
    assert.equal(await runExportCommand({ file: bad, format: 'devtools' }, io), 2);
    assert.match(out.stderr, /bad\.json: steps/);
  });
});
