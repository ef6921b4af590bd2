/**
 * The example scripts in scripts/examples/ are documentation that must keep working: each one is replayed
 * against the demo site on real Chromium, together they must use every action type, and `checkpoint demo`
 * (which replays them all) must pass.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { startDemoSite, type DemoSite } from '../../scripts/demo-site/server.ts';
import { actionTypes } from '../../engine/schema/actions.ts';
import { runCli } from '../helpers/cli.ts';
import { demoSecrets, launchBrowser, runScript } from '../helpers/engine.ts';

const examplesDir = fileURLToPath(new URL('../../scripts/examples/', import.meta.url));

interface ExampleFile {
  name: string;
  path: string;
  script: { kind?: string; steps: { actions: { type: string }[] }[] };
}

// Read synchronously at load time so every example gets its own named test.
const allExamples: ExampleFile[] = readdirSync(examplesDir)
  .filter((file) => file.endsWith('.json'))
  .sort()
  .map((file) => {
    const path = join(examplesDir, file);
    return { name: basename(file, '.json'), path, script: JSON.parse(readFileSync(path, 'utf8')) as ExampleFile['script'] };
  });
// The browser transactions; the API and HTTP examples run in test/integration/api-checks.test.ts (and in the demo below).
const examples = allExamples.filter((example) => example.script.kind === undefined || example.script.kind === 'browser');

describe('example scripts', () => {
  let site: DemoSite;
  let browser: Browser;
  let outDir: string;

  before(async () => {
    site = await startDemoSite({ port: 0 });
    browser = await launchBrowser();
    outDir = await mkdtemp(join(tmpdir(), 'checkpoint-examples-'));
  });
  after(async () => {
    await browser.close();
    await site.close();
    await rm(outDir, { recursive: true, force: true });
  });

  it('has at least five example scripts', () => {
    assert.ok(examples.length >= 5, `found ${examples.map((e) => e.name).join(', ')}`);
  });

  for (const example of examples) {
    it(`replays ${example.name} against the demo site with every step passing`, async () => {
      const result = await runScript(browser, example.script, {
        variables: { baseUrl: site.url, partnerUrl: site.crossOriginUrl },
        scriptPath: example.path,
      });
      const failures = result.steps.filter((step) => step.status !== 'passed').map((step) => `${step.name}: ${step.status} ${step.error?.message ?? ''}`);
      assert.deepEqual(failures, [], `${example.name} had failing steps`);
      assert.equal(result.status, 'passed');
      assert.equal(result.steps.length, example.script.steps.length);
      for (const step of result.steps) {
        assert.ok(step.actions.every((action) => action.status === 'passed'), `every action of "${step.name}" passed`);
      }
    });
  }

  it('uses every action type somewhere in the examples, so a new action type needs an example', () => {
    const used = new Set(examples.flatMap((example) => example.script.steps.flatMap((step) => step.actions.map((action) => action.type))));
    assert.deepEqual([...used].sort(), [...actionTypes].sort());
  });

  it('runs `checkpoint demo`, which replays every example (every kind) and writes a result.json for each', async () => {
    const out = join(outDir, 'demo');
    const run = await runCli(['demo', '--out', out], { env: { ...demoSecrets }, timeoutMs: 120_000 });
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
    for (const example of allExamples) {
      const resultPath = join(out, example.name, 'result.json');
      await access(resultPath);
      const result = JSON.parse(await readFile(resultPath, 'utf8')) as { status: string; script: string };
      assert.equal(result.status, 'passed', `${example.name} passed in the demo`);
      assert.match(run.stdout, new RegExp(`^${example.name}\\s+passed\\s`, 'm'), 'the summary table lists the example');
    }
  });
});
