import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { stripTypeScriptTypes } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { exportPlaywrightScript, exportPlaywrightTest } from '../../../../recorder/interop/export-playwright.ts';
import { importDevtoolsRecording } from '../../../../recorder/interop/import-devtools.ts';
import { assertGolden, exampleNames, readExample, readRecording } from './support.ts';

/** `node --check` on the code as an ES module: a syntax error fails the test. */
function assertParses(code: string): void {
  const dir = mkdtempSync(join(tmpdir(), 'checkpoint-pw-'));
  try {
    const file = join(dir, 'spec.mjs');
    writeFileSync(file, code);
    execFileSync(process.execPath, ['--check', file], { stdio: 'pipe' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('exportPlaywrightTest and exportPlaywrightScript', () => {
  it('exports login-and-search-orders as its golden Playwright Test spec and plain script', () => {
    const script = readExample('login-and-search-orders');
    assertGolden('login-and-search-orders.spec.ts.txt', exportPlaywrightTest(script));
    assertGolden('login-and-search-orders.mjs.txt', exportPlaywrightScript(script));
  });

  for (const name of exampleNames) {
    it(`exports the ${name} example as a Playwright Test spec that parses as TypeScript and has one test.step per step`, () => {
      const script = readExample(name);
      const spec = exportPlaywrightTest(script);
      assert.match(spec, /^import \{ test, expect, .*\} from '@playwright\/test';$/m);
      assert.equal(spec.match(/await test\.step\(/g)?.length, script.steps.length);
      assertParses(stripTypeScriptTypes(spec));
      assertParses(exportPlaywrightScript(script));
    });
  }

  it('reads variables from the environment with their defaults, secrets only from the environment, and uses getByTestId', () => {
    const spec = exportPlaywrightTest(readExample('login-and-search-orders'));
    assert.match(spec, /const baseUrl = process\.env\["baseUrl"\] \?\? "http:\/\/127\.0\.0\.1:8080";/);
    assert.match(spec, /secret\("DEMO_PASSWORD"\)/);
    assert.ok(!spec.includes('demo-password'));
    assert.match(spec, /getByTestId\("username"\)/);
    assert.match(spec, /let orderId: string = '';/);
  });

  it('goes into frames with frameLocator and into popups with context.waitForEvent', () => {
    const { script } = importDevtoolsRecording(readRecording('frames-and-popup'), { baseUrl: 'http://127.0.0.1:8080' });
    const spec = exportPlaywrightTest(script);
    assert.match(spec, /scope = scope\.frameLocator\("iframe >> nth=0"\);/);
    assert.match(spec, /context\.waitForEvent\('page'\)/);
    assert.match(spec, /page = await tabWithUrl\(context, `\$\{baseUrl\}\/popup-target`/);
  });
});
