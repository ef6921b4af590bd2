/**
 * DevTools Recorder interop on real Chromium: recordings made against the demo site import into scripts that
 * replay with every step passing, survive an export → import round trip, and export to a plain Playwright
 * script that runs on its own.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { runTransaction } from '../../engine/runner/run-transaction.ts';
import type { RunResult } from '../../engine/schema/result.ts';
import { scriptSchema, type Script } from '../../engine/schema/script.ts';
import { exportDevtoolsRecording } from '../../recorder/interop/export-devtools.ts';
import { exportPlaywrightScript } from '../../recorder/interop/export-playwright.ts';
import { importDevtoolsRecording } from '../../recorder/interop/import-devtools.ts';
import { startDemoSite, type DemoSite } from '../../scripts/demo-site/server.ts';
import { demoSecrets, launchBrowser } from '../helpers/engine.ts';

const fixturesDir = fileURLToPath(new URL('../fixtures/devtools-recordings/', import.meta.url));
const examplesDir = fileURLToPath(new URL('../../scripts/examples/', import.meta.url));
/** The origin the recordings were made against (`checkpoint demo-site` default); replaced by the live site. */
const recordedOrigin = 'http://127.0.0.1:8080';
const replayable = ['login-and-search', 'request-form', 'frames-and-popup'];
const chromePath = '/usr/bin/chromium-headless-shell';

function recording(name: string, origin: string): unknown {
  const text = readFileSync(join(fixturesDir, `${name}.json`), 'utf8');
  return JSON.parse(text.replaceAll(recordedOrigin, origin));
}

function failures(result: RunResult): string[] {
  return result.steps.filter((step) => step.status !== 'passed').map((step) => `${step.name}: ${step.status} ${step.error?.message ?? ''}`);
}

function runNode(file: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('DevTools Recorder and Playwright interop against the demo site', () => {
  let site: DemoSite;
  let browser: Browser;
  let outDir: string;

  before(async () => {
    site = await startDemoSite({ port: 0 });
    browser = await launchBrowser();
    outDir = await mkdtemp(join(tmpdir(), 'checkpoint-interop-'));
  });
  after(async () => {
    await browser.close();
    await site.close();
    await rm(outDir, { recursive: true, force: true });
  });

  async function replay(script: Script): Promise<RunResult> {
    const { result } = await runTransaction({ script, browser, secret: (name) => demoSecrets[name] });
    return result;
  }

  function imported(name: string): Script {
    const { script } = importDevtoolsRecording(recording(name, site.url), { baseUrl: site.url, passwordSecret: 'DEMO_PASSWORD' });
    return script;
  }

  for (const name of replayable) {
    it(`imports the ${name} recording into a script that replays with status passed`, async () => {
      const script = imported(name);
      assert.equal(script.variables?.['baseUrl'], site.url);
      assert.ok(!JSON.stringify(script).includes('demo-password'), 'the recorded password is replaced by a secret');
      const result = await replay(script);
      assert.deepEqual(failures(result), []);
      assert.equal(result.status, 'passed');
    });

    it(`exports the imported ${name} script to DevTools and back to the same script, which still passes`, async () => {
      const script = imported(name);
      const { recording: exported } = exportDevtoolsRecording(script);
      const back = importDevtoolsRecording(JSON.parse(JSON.stringify(exported)));
      assert.deepEqual(back.script, script);
      assert.deepEqual(back.problems, []);
      const result = await replay(back.script);
      assert.equal(result.status, 'passed', failures(result).join('\n'));
    });

    it(`exports the imported ${name} script as a plain Playwright script that exits 0`, async () => {
      const file = join(outDir, `${name}.mjs`);
      await writeFile(file, exportPlaywrightScript(imported(name), { importFrom: import.meta.resolve('playwright-core') }));
      const run = await runNode(file, { CHROME_PATH: chromePath, ...demoSecrets });
      assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
      assert.match(run.stdout, /✓ /);
    });
  }

  for (const example of ['login-and-search-orders', 'frames-and-popups', 'submit-a-request', 'playground-interactions']) {
    it(`exports the ${example} example as a plain Playwright script that exits 0`, async () => {
      const script = scriptSchema.parse(JSON.parse(readFileSync(join(examplesDir, `${example}.json`), 'utf8')));
      const file = join(outDir, `${example}.mjs`);
      await writeFile(file, exportPlaywrightScript(script, { importFrom: import.meta.resolve('playwright-core'), baseDir: examplesDir }));
      const run = await runNode(file, { CHROME_PATH: chromePath, ...demoSecrets, baseUrl: site.url, partnerUrl: site.crossOriginUrl });
      assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
      assert.equal(run.stdout.split('\n').filter((line) => line.startsWith('✓ ')).length, script.steps.length);
    });
  }
});
