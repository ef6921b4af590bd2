import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startDemoSite, type DemoSite } from '../../scripts/demo-site/server.ts';
import { runCli } from '../helpers/cli.ts';

describe('checkpoint replay (real process, real Chromium)', () => {
  let site: DemoSite;
  let dir: string;

  before(async () => {
    site = await startDemoSite({ port: 0 });
    dir = await mkdtemp(join(tmpdir(), 'checkpoint-cli-'));
  });
  after(async () => {
    await site.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function writeScript(name: string, script: unknown): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, JSON.stringify(script, null, 2));
    return path;
  }

  it('exits 1 with a sentence naming step, action and selector, and writes a failure screenshot', async () => {
    const script = await writeScript('wrong-selector.json', {
      name: 'Wrong selector',
      settings: { actionTimeoutMs: 1500 },
      steps: [
        { name: 'Open', actions: [{ type: 'navigate', url: '{{baseUrl}}/login' }] },
        {
          name: 'Log in',
          actions: [
            { type: 'fill', selector: '#username', value: 'demo' },
            { type: 'fill', selector: '#password', value: 'x' },
            { type: 'click', selector: 'role=button[name="Log on"]' },
          ],
        },
        { name: 'Never reached', actions: [{ type: 'assertTitle', contains: 'Dashboard' }] },
      ],
    });
    const out = join(dir, 'out-wrong');
    const run = await runCli(['replay', script, '--var', `baseUrl=${site.url}`, '--out', out]);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /Step "Log in" › action 3 \(click\): no element matches role=button\[name="Log on"\] within 1500 ms/);
    const result = JSON.parse(await readFile(join(out, 'result.json'), 'utf8')) as { status: string; steps: { status: string; screenshot?: string; error?: { code: string; blame: string; selector?: string; action?: number } }[] };
    assert.equal(result.status, 'failed');
    assert.deepEqual(result.steps.map((s) => s.status), ['passed', 'failed', 'skipped']);
    const failed = result.steps[1]!;
    assert.equal(failed.error?.code, 'SELECTOR_NOT_FOUND');
    assert.equal(failed.error?.selector, 'role=button[name="Log on"]');
    assert.equal(failed.error?.action, 2);
    assert.ok(failed.screenshot !== undefined, 'failed step has a screenshot');
    const report = await readFile(join(out, 'report.html'), 'utf8');
    for (const name of ['Open', 'Log in', 'Never reached']) assert.ok(report.includes(name), `report shows step ${name}`);
    assert.match(failed.screenshot, /^screenshots\/step-02-failure\.webp$/);
    const image = await readFile(join(out, failed.screenshot));
    assert.equal(image.subarray(0, 4).toString('latin1'), 'RIFF');
    assert.equal(image.subarray(8, 12).toString('latin1'), 'WEBP', 'the screenshot is a WebP');
    assert.ok(image.length > 500);
  });

  it('exits 0 and prints the result as JSON on stdout with --json', async () => {
    const script = await writeScript('ok.json', {
      name: 'Slow page',
      steps: [{ name: 'Open slow page', actions: [{ type: 'navigate', url: '{{baseUrl}}/slow?delayMs=150' }, { type: 'assertText', text: 'Served after 150 ms' }] }],
    });
    const run = await runCli(['replay', script, '--var', `baseUrl=${site.url}`, '--json']);
    assert.equal(run.code, 0, run.stderr);
    const result = JSON.parse(run.stdout) as { status: string; steps: { durationMs: number; navigation?: { ttfbMs: number } }[] };
    assert.equal(result.status, 'passed');
    const ttfbMs = result.steps[0]?.navigation?.ttfbMs ?? 0;
    assert.ok(ttfbMs >= 140, `TTFB ${ttfbMs} ms reflects the 150 ms server delay`);
    assert.match(run.stderr, /✔ 1\/1 Open slow page/);
    assert.match(run.stderr, /PASSED Slow page/);
  });

  it('never prints or stores a secret value', async () => {
    const canary = 'canary-Secret-7f3a9';
    const script = await writeScript('secret.json', {
      name: 'Secret canary',
      settings: { extraHttpHeaders: { 'X-Api-Key': '{{secret.CANARY}}' } },
      steps: [
        { name: 'Type it', actions: [{ type: 'navigate', url: '{{baseUrl}}/login' }, { type: 'fill', selector: '#username', value: '{{secret.CANARY}}' }, { type: 'extract', variable: 'typed', from: 'value', selector: '#username' }, { type: 'fill', selector: '#password', value: '{{typed}}' }] },
        { name: 'Echo it', actions: [{ type: 'navigate', url: '{{baseUrl}}/public/echo-headers?k={{secret.CANARY}}' }, { type: 'assertText', text: 'no-such-text-{{secret.CANARY}}', timeoutMs: 500 }] },
      ],
    });
    const out = join(dir, 'out-secret');
    const run = await runCli(['replay', script, '--var', `baseUrl=${site.url}`, '--out', out, '--json', '--screenshots', 'all'], { env: { CANARY: canary } });
    assert.equal(run.code, 1, 'the impossible assertion fails the run');
    const encodings = [canary, encodeURIComponent(canary), Buffer.from(canary).toString('base64')];
    const outputs = [run.stdout, run.stderr, await readFile(join(out, 'result.json'), 'utf8')];
    for (const text of outputs) for (const form of encodings) assert.ok(!text.includes(form), `secret leaked: ${form}`);
    assert.match(run.stderr, /\[redacted\]/, 'the failure message shows the mask instead');
  });

  it('exits 2 and names the path when the script is invalid', async () => {
    const script = await writeScript('broken.json', { name: 'Broken', steps: [{ name: 's', actions: [{ type: 'click' }] }] });
    const run = await runCli(['replay', script]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /broken\.json: steps\[0\]\.actions\[0\]\.selector: missing/);
    assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
  });

  it('exits 2 when a secret is missing, before starting a browser', async () => {
    const script = await writeScript('needs-secret.json', { name: 'Needs secret', steps: [{ name: 's', actions: [{ type: 'navigate', url: '{{baseUrl}}/?p={{secret.NOT_SET_ANYWHERE}}' }] }] });
    const run = await runCli(['replay', script, '--var', `baseUrl=${site.url}`]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /secret "NOT_SET_ANYWHERE" not set/);
  });

  it('exits 2 for a malformed --var', async () => {
    const run = await runCli(['replay', 'scripts/examples/login-and-search-orders.json', '--var', 'no-equals-sign']);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /--var: expected name=value/);
  });

  it('exits 3 with install advice when CHROME_PATH points at nothing', async () => {
    const script = await writeScript('any.json', { name: 'Any', steps: [{ name: 's', actions: [{ type: 'navigate', url: 'about:blank' }] }] });
    const run = await runCli(['replay', script], { env: { CHROME_PATH: join(dir, 'no-such-browser') } });
    assert.equal(run.code, 3);
    assert.match(run.stderr, /CHROME_PATH is set to ".*no-such-browser", which is not an executable file/);
    assert.match(run.stderr, /apt-get install -y chromium/);
    assert.doesNotMatch(run.stderr, /\n\s+at /);
  });

  it('validate exits 2 naming file and path, and 0 for the examples', async () => {
    const broken = await writeScript('validate-broken.json', { name: 'x', steps: [{ name: 's', actions: [{ type: 'navigate', url: 'u' }, { type: 'fil', selector: 'a', value: 'b' }] }] });
    const bad = await runCli(['validate', broken]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /validate-broken\.json: steps\[0\]\.actions\[1\]\.type: expected one of .* got "fil" \(did you mean "fill"\?\)/);
    const examples = (await readdir('scripts/examples')).filter((f) => f.endsWith('.json')).map((f) => join('scripts/examples', f));
    const good = await runCli(['validate', ...examples]);
    assert.equal(good.code, 0, good.stderr);
  });
});
