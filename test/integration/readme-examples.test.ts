import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startDemoSite, type DemoSite } from '../../scripts/demo-site/server.ts';
import { repoRoot, runCli } from '../helpers/cli.ts';

/** The `replay` line of the README's "Running the `checkpoint` command" block, split into env and arguments. */
async function readmeReplayLine(): Promise<{ env: Record<string, string>; args: string[] }> {
  const readme = await readFile(join(repoRoot, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Running the `checkpoint` command'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  const line = block.split('\n').find((l) => /\breplay\b/.test(l));
  assert.ok(line !== undefined, 'the README shows a replay command');
  const words = line.trim().split(/\s+/);
  const env: Record<string, string> = {};
  while (/^[A-Z_]+=/.test(words[0] ?? '')) {
    const [name, value] = (words.shift() ?? '').split('=');
    env[name ?? ''] = value ?? '';
  }
  assert.deepEqual(words.slice(0, 4), ['npm', 'run', 'checkpoint', '--'], 'run through the npm script, as the README says');
  return { env, args: words.slice(4) };
}

describe('README examples', () => {
  let site: DemoSite;
  let outDir: string;

  before(async () => {
    site = await startDemoSite({ port: 0 });
    outDir = await mkdtemp(join(tmpdir(), 'checkpoint-readme-'));
  });
  after(async () => {
    await site.close();
    await rm(outDir, { recursive: true, force: true });
  });

  it('the replay example works when pasted (against the demo site it starts just before)', async () => {
    const { env, args } = await readmeReplayLine();
    // The README's demo site listens on 8080; this one on a free port, and the output goes to a temp dir.
    const localArgs = args.map((arg) => arg.replace('http://127.0.0.1:8080', site.url)).map((arg, i, all) => (all[i - 1] === '--out' ? outDir : arg));
    const outcome = await runCli(localArgs, { env: { ...env }, timeoutMs: 120_000 });
    assert.equal(outcome.code, 0, outcome.stderr);
    const result = JSON.parse(await readFile(join(outDir, 'result.json'), 'utf8')) as { status: string };
    assert.equal(result.status, 'passed');
    assert.ok((await readFile(join(outDir, 'report.html'), 'utf8')).includes('<!doctype html>'));
  });
});
