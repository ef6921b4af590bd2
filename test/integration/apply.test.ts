import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startControlPlane, type ControlPlane } from '../../control-plane/server.ts';
import { startDemoSite, type DemoSite } from '../../scripts/demo-site/server.ts';
import { runCli } from '../helpers/cli.ts';
import { parseXml } from '../helpers/xml.ts';

const adminToken = 'admin-secret-for-apply-tests';

describe('checkpoint apply (real process against a control plane)', () => {
  let cp: ControlPlane;
  let dir: string;
  let data: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'checkpoint-apply-'));
    data = await mkdtemp(join(tmpdir(), 'checkpoint-apply-cp-'));
    cp = await startControlPlane({ dataDir: data, adminToken, log: () => undefined, tickIntervalMs: 3_600_000, env: { OPS_SLACK_URL: 'http://127.0.0.1:9/slack' } });
    const created = await api('POST', '/api/v1/checkpoints', { name: 'intranet-eu' });
    assert.equal(created.status, 201);
  });
  after(async () => {
    await cp.close();
    await rm(dir, { recursive: true, force: true });
    await rm(data, { recursive: true, force: true });
  });

  async function api(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(`${cp.url}${path}`, {
      method,
      headers: { Authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
  }

  const apply = (...args: string[]) => runCli(['apply', ...args, '--control-plane', cp.url], { env: { CHECKPOINT_ADMIN_TOKEN: adminToken } });

  async function write(path: string, value: unknown): Promise<string> {
    const full = join(dir, path);
    await mkdir(join(full, '..'), { recursive: true });
    await writeFile(full, `${JSON.stringify(value, null, 2)}\n`);
    return full;
  }

  const login = {
    id: 'login',
    name: 'Login',
    checkpoint: 'intranet-eu',
    intervalSeconds: 300,
    enabled: false,
    script: '../scripts/login.json',
    variables: { baseUrl: 'http://intranet.example' },
    alerting: { channels: ['ops-slack'], afterFailures: 2 },
  };

  it('plans with --dry-run, applies, is idempotent, shows changed fields, and prunes only when asked', async () => {
    await write('scripts/login.json', { name: 'Login', steps: [{ name: 'Open', actions: [{ type: 'navigate', url: '{{baseUrl}}/login' }] }] });
    await write('monitors/login.json', login);
    await write('alerting.json', {
      channels: [{ id: 'ops-slack', type: 'slack', url: '{{env.OPS_SLACK_URL}}' }],
      maintenanceWindows: [{ id: 'release', monitors: ['login'], startsAt: '2030-01-01T00:00:00Z', endsAt: '2030-01-01T02:00:00Z' }],
    });

    const planned = await apply(dir, '--dry-run');
    assert.equal(planned.code, 0, planned.stderr);
    assert.equal(planned.stdout, ['+ channel ops-slack: created', '+ monitor login: created', '+ maintenance window release: created', '3 created, 0 changed, 0 unchanged, 0 deleted (dry run: nothing was changed)', ''].join('\n'));
    assert.equal((await api('GET', '/api/v1/monitors/login')).status, 404, 'a dry run changes nothing');

    const applied = await apply(dir);
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, /3 created, 0 changed, 0 unchanged, 0 deleted\n$/);
    const stored = await api('GET', '/api/v1/monitors/login');
    assert.deepEqual((stored.body['script'] as { steps: unknown[] }).steps.length, 1, 'the script file was inlined');
    assert.deepEqual(stored.body['alerting'], { channels: ['ops-slack'], afterFailures: 2 });
    assert.equal((await api('GET', '/api/v1/channels/ops-slack')).body['url'], '{{env.OPS_SLACK_URL}}', 'the secret stays a reference');

    const again = await apply(dir);
    assert.equal(again.stdout, ['= channel ops-slack: unchanged', '= monitor login: unchanged', '= maintenance window release: unchanged', '0 created, 0 changed, 3 unchanged, 0 deleted', ''].join('\n'));

    await write('monitors/login.json', { ...login, intervalSeconds: 600, alerting: { channels: ['ops-slack'] } });
    const changed = await apply(dir, '--dry-run');
    assert.match(changed.stdout, /^~ monitor login: changed \(alerting, intervalSeconds\)$/m);

    assert.equal((await api('PUT', '/api/v1/monitors/made-by-hand', { ...login, id: 'made-by-hand', script: { name: 'x', steps: [{ name: 's', actions: [{ type: 'navigate', url: 'about:blank' }] }] }, alerting: undefined })).status, 201);
    await write('alerting.json', { channels: [{ id: 'ops-slack', type: 'slack', url: '{{env.OPS_SLACK_URL}}' }] });
    const kept = await apply(dir);
    assert.equal(kept.code, 0, kept.stderr);
    assert.doesNotMatch(kept.stdout, /^- /m, 'without --prune nothing is deleted');
    assert.equal((await api('GET', '/api/v1/maintenance-windows/release')).status, 200);
    const pruned = await apply(dir, '--prune');
    assert.equal(pruned.code, 0, pruned.stderr);
    assert.match(pruned.stdout, /^- monitor made-by-hand: deleted$/m);
    assert.match(pruned.stdout, /^- maintenance window release: deleted$/m);
    assert.match(pruned.stdout, /0 created, 0 changed, 2 unchanged, 2 deleted\n$/);
    assert.equal((await api('GET', '/api/v1/monitors/made-by-hand')).status, 404);
    assert.equal((await api('GET', '/api/v1/maintenance-windows/release')).status, 404);
  });

  it('applies nothing when any file is invalid, naming the file and the path; the control plane`s own checks count too', async () => {
    const bad = await mkdtemp(join(tmpdir(), 'checkpoint-apply-bad-'));
    try {
      const file = join(bad, 'monitors.json');
      await writeFile(file, JSON.stringify({ monitors: [{ ...login, id: 'fine', script: { name: 'x', steps: [{ name: 's', actions: [{ type: 'navigate', url: 'about:blank' }] }] }, alerting: undefined }, { ...login, id: 'too-often', intervalSeconds: 5, script: { name: 'x', steps: [{ name: 's', actions: [{ type: 'navigate', url: 'about:blank' }] }] } }] }));
      const invalid = await runCli(['apply', bad, '--control-plane', cp.url], { env: { CHECKPOINT_ADMIN_TOKEN: adminToken } });
      assert.equal(invalid.code, 2);
      assert.match(invalid.stderr, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: monitors\\[1\\]\\.intervalSeconds: `, 'm'));
      assert.match(invalid.stderr, /nothing was applied/);
      assert.equal((await api('GET', '/api/v1/monitors/fine')).status, 404);

      await writeFile(file, JSON.stringify({ monitors: [{ ...login, id: 'no-base', variables: {}, script: { name: 'x', steps: [{ name: 's', actions: [{ type: 'navigate', url: '{{baseUrl}}/' }] }] }, alerting: undefined }] }));
      const unknownVariable = await runCli(['apply', file, '--control-plane', cp.url], { env: { CHECKPOINT_ADMIN_TOKEN: adminToken } });
      assert.equal(unknownVariable.code, 2);
      assert.match(unknownVariable.stderr, /monitors\[0\]: script\.steps\[0\]\.actions\[0\]\.url: variable "baseUrl" has no value here/);

      const refused = await runCli(['apply', file, '--control-plane', cp.url], { env: { CHECKPOINT_ADMIN_TOKEN: 'wrong' } });
      assert.equal(refused.code, 3);
      assert.match(refused.stderr, /refused the admin token/);
      assert.ok(!refused.stderr.includes('wrong'), 'the token is not echoed');
    } finally {
      await rm(bad, { recursive: true, force: true });
    }
  });

  it('applies a monitor on several checkpoints with its placement, unchanged the second time, and shows a change in the dry run', async () => {
    assert.equal((await api('POST', '/api/v1/checkpoints', { name: 'dmz-us' })).status, 201);
    const several = await mkdtemp(join(tmpdir(), 'checkpoint-apply-several-'));
    try {
      const search = {
        id: 'search',
        name: 'Search',
        checkpoints: ['intranet-eu', 'dmz-us'],
        placement: 'round-robin',
        intervalSeconds: 300,
        enabled: false,
        script: { name: 'Search', steps: [{ name: 'Open', actions: [{ type: 'navigate', url: 'http://intranet.example/search' }] }] },
      };
      const file = join(several, 'monitors.json');
      await writeFile(file, JSON.stringify({ monitors: [search] }));
      const run = (...args: string[]) => runCli(['apply', several, ...args, '--control-plane', cp.url], { env: { CHECKPOINT_ADMIN_TOKEN: adminToken } });

      const applied = await run();
      assert.equal(applied.code, 0, applied.stderr);
      assert.equal(applied.stdout, ['+ monitor search: created', '1 created, 0 changed, 0 unchanged, 0 deleted', ''].join('\n'));
      const stored = await api('GET', '/api/v1/monitors/search');
      assert.deepEqual([stored.body['checkpoint'], stored.body['checkpoints'], stored.body['placement']], ['intranet-eu', ['intranet-eu', 'dmz-us'], 'round-robin']);
      const again = await run();
      assert.equal(again.stdout, ['= monitor search: unchanged', '0 created, 0 changed, 1 unchanged, 0 deleted', ''].join('\n'));
      // The file may say `checkpoint` too, when it is the first of `checkpoints`: the same monitor.
      await writeFile(file, JSON.stringify({ monitors: [{ ...search, checkpoint: 'intranet-eu' }] }));
      assert.match((await run('--dry-run')).stdout, /^= monitor search: unchanged$/m);

      await writeFile(file, JSON.stringify({ monitors: [{ ...search, placement: 'all' }] }));
      assert.match((await run('--dry-run')).stdout, /^~ monitor search: changed \(placement\)$/m);
      await writeFile(file, JSON.stringify({ monitors: [{ ...search, checkpoints: ['dmz-us', 'intranet-eu'] }] }));
      assert.match((await run('--dry-run')).stdout, /^~ monitor search: changed \(checkpoint, checkpoints\)$/m);
      await writeFile(file, JSON.stringify({ monitors: [{ ...search, checkpoints: undefined, placement: undefined, checkpoint: 'dmz-us' }] }));
      const single = await run('--dry-run');
      assert.match(single.stdout, /^~ monitor search: changed \(checkpoint, checkpoints, placement\)$/m);
      assert.deepEqual((await api('GET', '/api/v1/monitors/search')).body['checkpoints'], ['intranet-eu', 'dmz-us'], 'a dry run changes nothing');

      await writeFile(file, JSON.stringify({ monitors: [{ ...search, checkpoints: ['intranet-eu', 'intranet-eu'] }] }));
      const twice = await run();
      assert.equal(twice.code, 2);
      assert.ok(twice.stderr.includes(`${file}: monitors[0].checkpoints[1]: "intranet-eu" is listed twice`), twice.stderr);
      await writeFile(file, JSON.stringify({ monitors: [{ ...search, checkpoints: ['intranet-eu', 'branch-fr'] }] }));
      const unknown = await run();
      assert.equal(unknown.code, 2);
      assert.ok(unknown.stderr.includes(`${file}: monitors[0]: checkpoints[1]: no checkpoint named "branch-fr"`), unknown.stderr);
      assert.match(unknown.stderr, /nothing was applied/);
    } finally {
      await rm(several, { recursive: true, force: true });
    }
  });
});

describe('checkpoint replay --reporter junit (real process, real Chromium)', () => {
  let site: DemoSite;
  let dir: string;
  before(async () => {
    site = await startDemoSite({ port: 0 });
    dir = await mkdtemp(join(tmpdir(), 'checkpoint-junit-'));
  });
  after(async () => {
    await site.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('writes JUnit XML: a testcase per step with the failure`s code and message, to stdout or --reporter-out', async () => {
    const script = join(dir, 'login.json');
    await writeFile(
      script,
      JSON.stringify({
        name: 'Login page',
        steps: [
          { name: 'Open', actions: [{ type: 'navigate', url: '{{baseUrl}}/login' }] },
          { name: 'Expect a welcome', actions: [{ type: 'assertText', text: 'no such welcome', timeoutMs: 500 }] },
          { name: 'Never reached', actions: [{ type: 'navigate', url: '{{baseUrl}}/' }] },
        ],
      }),
    );
    const run = await runCli(['replay', script, '--var', `baseUrl=${site.url}`, '--reporter', 'junit']);
    assert.equal(run.code, 1, run.stderr);
    const suites = parseXml(run.stdout);
    const suite = suites.children[0];
    assert.deepEqual([suites.children.length, suite?.attributes['name'], suite?.attributes['tests'], suite?.attributes['failures'], suite?.attributes['skipped']], [1, 'Login page', '3', '1', '1']);
    const cases = suite?.children.filter((child) => child.name === 'testcase') ?? [];
    assert.deepEqual(
      cases.map((testCase) => [testCase.attributes['name'], testCase.children[0]?.name]),
      [
        ['1. Open', undefined],
        ['2. Expect a welcome', 'failure'],
        ['3. Never reached', 'skipped'],
      ],
    );
    assert.match(cases[0]?.attributes['time'] ?? '', /^\d+\.\d{3}$/);
    assert.ok(Number(cases[0]?.attributes['time']) > 0 && Number(cases[0]?.attributes['time']) < 60, 'seconds, not milliseconds');
    const failure = cases[1]?.children[0];
    assert.equal(failure?.attributes['type'], 'ASSERTION_FAILED');
    assert.match(failure?.text ?? '', /^code: ASSERTION_FAILED\nblame: site\n/);

    const out = join(dir, 'junit.xml');
    const toFile = await runCli(['replay', script, '--var', `baseUrl=${site.url}`, '--reporter', 'junit', '--reporter-out', out, '--json']);
    assert.equal(toFile.code, 1);
    assert.equal((JSON.parse(toFile.stdout) as { status: string }).status, 'failed', 'stdout keeps the JSON');
    assert.equal(parseXml(await readFile(out, 'utf8')).children[0]?.attributes['failures'], '1');
    const clash = await runCli(['replay', script, '--reporter', 'junit', '--json']);
    assert.equal(clash.code, 2);
    assert.match(clash.stderr, /--json and --reporter both write to stdout/);
  });
});
