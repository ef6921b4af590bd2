/**
 * API and HTTP checks against real servers on loopback: timing phases against a server with known delays,
 * TLS with a CA made in the test (trusted, untrusted, expired, wrong host, client certificates), redirects,
 * connection failures, conditions, secrets masking, the examples against the demo site, `checkpoint replay`
 * without a browser, and the scheduler's check lane next to a full browser lane.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { ResolvedAddress } from '../../engine/checks/check-types.ts';
import { EngineError } from '../../engine/core/errors.ts';
import { parseMonitorScriptText } from '../../engine/core/parse-script.ts';
import { runCheck, type RunCheckOptions } from '../../engine/runner/run-check.ts';
import { Scheduler } from '../../engine/runner/scheduler.ts';
import type { RunResult } from '../../engine/schema/result.ts';
import type { CheckScript, Script } from '../../engine/schema/script.ts';
import { startDemoSite, type DemoSite } from '../../scripts/demo-site/server.ts';
import { makeTestPki, type TestPki } from '../helpers/servers/certificates.ts';
import { runCli } from '../helpers/cli.ts';
import { demoSecrets } from '../helpers/engine.ts';

const host = 'api.checkpoint.test';
const examplesDir = fileURLToPath(new URL('../../scripts/examples/', import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves every name to loopback, as the egress-vetted lookup would for an allowed internal host. */
const loopback = (): Promise<ResolvedAddress> => Promise.resolve({ address: '127.0.0.1', family: 4, dnsMs: 0 });

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

async function check(script: Record<string, unknown>, options: Partial<RunCheckOptions> = {}): Promise<RunResult> {
  const { result } = await runCheck({ script: script as CheckScript, secret: () => undefined, lookup: loopback, ...options });
  return result;
}

function only(result: RunResult) {
  const step = result.steps[0];
  assert.ok(step !== undefined, 'a step');
  return step;
}

describe('API and HTTP checks', () => {
  let dir: string;
  let tls: TestPki;
  let plain: Server;
  let plainUrl: string;
  const servers: Server[] = [];
  const tokenRequests: string[] = [];

  /** Routes of the plain HTTP server. */
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/timed') {
      // Ground truth: 300 ms before the headers, 200 ms between the first and the last body bytes.
      await sleep(300);
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.flushHeaders();
      res.write('first half ');
      await sleep(200);
      res.end('second half');
      return;
    }
    if (url.pathname === '/redirect') {
      res.writeHead(302, { location: '/target' }).end();
      return;
    }
    if (url.pathname === '/target') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ arrived: true }));
      return;
    }
    if (url.pathname === '/hang') return; // never answers
    if (url.pathname === '/loop') {
      res.writeHead(302, { location: '/loop' }).end();
      return;
    }
    if (url.pathname === '/big') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('x'.repeat(5000));
      return;
    }
    if (url.pathname === '/token') {
      tokenRequests.push(req.headers.authorization ?? '');
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: 'tok-1', token_type: 'Bearer' }));
      return;
    }
    if (url.pathname === '/protected') {
      res.writeHead(req.headers.authorization === 'Bearer tok-1' ? 200 : 401, { 'content-type': 'application/json' }).end('{"data":"tok-1 is not data"}');
      return;
    }
    if (url.pathname === '/echo') {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ method: req.method, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') }));
      return;
    }
    res.writeHead(404).end('no');
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'checkpoint-api-'));
    tls = makeTestPki(dir, host);
    plain = createServer((req, res) => void handle(req, res));
    plainUrl = `http://127.0.0.1:${await listen(plain)}`;
  });
  after(async () => {
    await close(plain);
    await Promise.all(servers.map(close));
    await rm(dir, { recursive: true, force: true });
  });

  async function httpsServer(pem: { cert: string; key: string }, clientCa?: string): Promise<string> {
    const server = createHttpsServer(
      { ...pem, ...(clientCa === undefined ? {} : { ca: clientCa, requestCert: true, rejectUnauthorized: true }) },
      (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"secure":true}'),
    );
    servers.push(server);
    return `https://${host}:${await listen(server)}`;
  }

  it('times DNS, connect, time to first byte and download against a server with known delays', async () => {
    const result = await check({ kind: 'http', name: 'Timed', url: `${plainUrl}/timed` });
    const step = only(result);
    assert.equal(step.status, 'passed', JSON.stringify(step.error));
    const phases = step.check?.phases ?? {};
    const ttfb = phases['ttfbMs'] ?? -1;
    const download = phases['downloadMs'] ?? -1;
    // The server's waits are the ground truth. The first byte can only be late, never early; on a loaded machine
    // the client may read the headers late, which moves time from the download into the first byte, so the two
    // are checked each within a band and together against their sum. The bands would catch the body wait counted
    // in the first byte (≥ 500) or the first-byte wait counted in the download (≥ 500).
    assert.ok(ttfb >= 290 && ttfb < 450, `ttfb ${ttfb} ms, expected ≈300`);
    assert.ok(download >= 100 && download < 450, `download ${download} ms, expected ≈200`);
    assert.ok(ttfb + download >= 490 && ttfb + download < 800, `ttfb + download ${ttfb + download} ms, expected ≈500`);
    assert.equal(phases['dnsMs'], 0, 'an IP literal needs no lookup');
    assert.ok((phases['connectMs'] ?? -1) >= 0);
    assert.equal(phases['tlsMs'], undefined, 'no TLS on http://');
    assert.equal(step.check?.http?.status, 200);
    assert.equal(step.check?.http?.sizeBytes, 'first half second half'.length);
    assert.ok((step.check?.http?.responseTimeMs ?? 0) >= 490);
    assert.equal(result.browser, undefined, 'no browser in a check result');
    assert.equal(result.kind, 'http');
  });

  it('connects to the address the lookup vetted, verifies TLS against the name, and reports protocol and certificate', async () => {
    const url = await httpsServer(tls.server);
    const seen: string[] = [];
    const result = await check(
      { kind: 'http', name: 'TLS', url, assertions: [{ type: 'jsonPath', path: '$.secure', operator: 'equals', value: true }] },
      { caCertificates: [tls.caCert], lookup: (name) => (seen.push(name), Promise.resolve({ address: '127.0.0.1', family: 4 as const, dnsMs: 1.5 })) },
    );
    const step = only(result);
    assert.equal(step.status, 'passed', JSON.stringify(step.error));
    assert.deepEqual(seen, [host]);
    const details = step.check?.details ?? {};
    assert.match(String(details['tlsProtocol']), /^TLSv1\.[23]$/);
    assert.equal(details['certificateSubject'], `CN=${host}`);
    assert.equal(details['certificateIssuer'], 'CN=Checkpoint Test CA');
    assert.ok(details['certificateDaysLeft'] === 364 || details['certificateDaysLeft'] === 365, String(details['certificateDaysLeft']));
    assert.equal(details['certificateTrusted'], true);
    assert.equal(step.check?.phases['dnsMs'], 1.5);
    assert.ok((step.check?.phases['tlsMs'] ?? 0) > 0);
  });

  it('warns when the certificate expires within certificateWarningDays, and not otherwise', async () => {
    const url = await httpsServer(tls.expiringSoon);
    const warned = await check({ kind: 'http', name: 'Expiring', url, certificateWarningDays: 30 }, { caCertificates: [tls.caCert] });
    assert.equal(warned.status, 'warning');
    assert.match(only(warned).check?.warnings?.[0] ?? '', /^the certificate of api\.checkpoint\.test expires in 1[01] days \(warning at 30\)$/);
    const calm = await check({ kind: 'http', name: 'Not yet', url, certificateWarningDays: 0 }, { caCertificates: [tls.caCert] });
    assert.equal(calm.status, 'passed');
  });

  it('fails with TLS_FAILED on an untrusted, an expired and a wrong-host certificate, still saying what it saw', async () => {
    const url = await httpsServer(tls.server);
    const untrusted = only(await check({ kind: 'http', name: 'Untrusted', url }));
    assert.equal(untrusted.error?.code, 'TLS_FAILED');
    assert.equal(untrusted.error?.blame, 'site');
    assert.match(untrusted.error?.message ?? '', /certificate of api\.checkpoint\.test:\d+ was not accepted/);
    assert.equal(untrusted.check?.details['certificateSubject'], `CN=${host}`);

    const expired = only(await check({ kind: 'http', name: 'Expired', url: await httpsServer(tls.expired) }, { caCertificates: [tls.caCert] }));
    assert.equal(expired.error?.code, 'TLS_FAILED');
    assert.match(expired.error?.message ?? '', /it has expired \(CERT_HAS_EXPIRED\)/);
    assert.ok(Number(expired.check?.details['certificateDaysLeft']) < -30);

    const wrong = only(await check({ kind: 'http', name: 'Wrong host', url: await httpsServer(tls.wrongHost) }, { caCertificates: [tls.caCert] }));
    assert.equal(wrong.error?.code, 'TLS_FAILED');
    assert.match(wrong.error?.message ?? '', /it is not for this host name \(ERR_TLS_CERT_ALTNAME_INVALID\)/);

    const ignored = only(await check({ kind: 'http', name: 'Ignored', url: await httpsServer(tls.expired), ignoreHttpsErrors: true }));
    assert.equal(ignored.status, 'passed', 'ignoreHttpsErrors accepts it');
    assert.equal(ignored.check?.details['certificateTrusted'], false);
  });

  it('presents a client certificate from secrets, and the server refuses the request without it', async () => {
    const url = await httpsServer(tls.server, tls.caCert);
    const secrets: Record<string, string> = { CLIENT_CERT: tls.client.cert, CLIENT_KEY: tls.client.key };
    const script = { kind: 'http', name: 'mTLS', url, clientCertificate: { cert: '{{secret.CLIENT_CERT}}', key: '{{secret.CLIENT_KEY}}' } };
    const { result } = await runCheck({ script: script, secret: (name) => secrets[name], lookup: loopback, caCertificates: [tls.caCert] });
    assert.equal(only(result).status, 'passed', JSON.stringify(only(result).error));
    assert.ok(!JSON.stringify(result).includes('PRIVATE KEY'), 'the key never appears in the result');
    const without = only(await check({ kind: 'http', name: 'no client cert', url }, { caCertificates: [tls.caCert] }));
    assert.equal(without.status, 'failed');
    assert.ok(['TLS_FAILED', 'CONNECT_FAILED'].includes(without.error?.code ?? ''), JSON.stringify(without.error));
  });

  it('follows redirects by default and reports them; with followRedirects false it sees the 302', async () => {
    const followed = only(await check({ kind: 'http', name: 'Follow', url: `${plainUrl}/redirect`, assertions: [{ type: 'jsonPath', path: '$.arrived', operator: 'equals', value: true }] }));
    assert.equal(followed.status, 'passed', JSON.stringify(followed.error));
    assert.equal(followed.check?.http?.redirects, 1);
    assert.equal(followed.check?.http?.url, `${plainUrl}/target`);
    const stopped = only(
      await check({ kind: 'http', name: 'Stay', url: `${plainUrl}/redirect`, followRedirects: false, assertions: [{ type: 'header', name: 'location', operator: 'equals', value: '/target' }, { type: 'status', operator: 'equals', value: 302 }] }),
    );
    assert.equal(stopped.status, 'passed', JSON.stringify(stopped.error));
    assert.equal(stopped.check?.http?.redirects, 0);
  });

  it('sends no secret header, cookie or credential to the origin a redirect leads to (127.0.0.1 to 127.0.0.2)', async () => {
    const seen: { origin: string; path: string; headers: IncomingMessage['headers'] }[] = [];
    const other = createServer((req, res) => {
      seen.push({ origin: 'other', path: req.url ?? '', headers: req.headers });
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"landed":true}');
    });
    servers.push(other);
    const otherPort = await new Promise<number>((resolve) => other.listen(0, '127.0.0.2', () => resolve((other.address() as AddressInfo).port)));
    const first = createServer((req, res) => {
      seen.push({ origin: 'first', path: req.url ?? '', headers: req.headers });
      req.resume();
      // Same origin once (headers kept), then to the other origin with a 307: the method and body go along.
      const location = req.url === '/start' ? '/again' : `http://127.0.0.2:${otherPort}/landing`;
      res.writeHead(307, { location }).end();
    });
    servers.push(first);
    const firstUrl = `http://127.0.0.1:${await listen(first)}`;
    const secrets: Record<string, string> = { APIKEY: 'key-3f9a-secret', SESSION: 'session-77c1' };
    const script = {
      kind: 'api',
      name: 'Redirected',
      steps: [
        {
          name: 'Post',
          request: {
            method: 'POST',
            url: `${firstUrl}/start`,
            headers: { 'X-Api-Key': '{{secret.APIKEY}}', Cookie: 'sid={{secret.SESSION}}', 'Proxy-Authorization': 'Basic {{secret.APIKEY}}', 'X-Plain': 'not a secret', Accept: 'application/json' },
            body: { type: 'json', value: { hello: 'world' } },
          },
          auth: { type: 'bearer', token: '{{secret.APIKEY}}' },
          assertions: [{ type: 'jsonPath', path: '$.landed', operator: 'equals', value: true }],
        },
      ],
    };
    // The default lookup (vetted, loopback allowed) connects to the literal address of each hop.
    const { result } = await runCheck({ script, secret: (name) => secrets[name] });
    const step = only(result);
    assert.equal(step.status, 'passed', JSON.stringify(step.error));
    assert.equal(step.check?.http?.redirects, 2);
    assert.deepEqual(seen.map((hop) => `${hop.origin} ${hop.path}`), ['first /start', 'first /again', 'other /landing']);
    for (const hop of seen.filter((hop) => hop.origin === 'first')) {
      assert.equal(hop.headers['x-api-key'], secrets['APIKEY'], 'the named origin gets the header on every hop');
      assert.equal(hop.headers['authorization'], `Bearer ${secrets['APIKEY'] ?? ''}`);
    }
    const landed = seen.find((hop) => hop.origin === 'other');
    assert.ok(landed !== undefined);
    const sent = JSON.stringify(landed.headers);
    for (const value of Object.values(secrets)) assert.ok(!sent.includes(value), `a secret reached the other origin: ${sent}`);
    for (const name of ['x-api-key', 'cookie', 'authorization', 'proxy-authorization', 'x-plain']) assert.equal(landed.headers[name], undefined, name);
    assert.equal(landed.headers['accept'], 'application/json');
    assert.equal(landed.headers['content-type'], 'application/json');
  });

  it('refuses a redirect from https to plain http with PROTOCOL_ERROR (blame site), sending nothing over http', async () => {
    let plainHits = 0;
    const plainTarget = createServer((req, res) => {
      plainHits++;
      res.writeHead(200).end('{}');
      req.resume();
    });
    servers.push(plainTarget);
    const plainPort = await listen(plainTarget);
    const secure = createHttpsServer({ ...tls.server }, (_req, res) => res.writeHead(302, { location: `http://${host}:${plainPort}/insecure` }).end());
    servers.push(secure);
    const url = `https://${host}:${await listen(secure)}/start`;
    const step = only(await check({ kind: 'http', name: 'Downgrade', url, headers: { 'X-Api-Key': 'k' } }, { caCertificates: [tls.caCert] }));
    assert.equal(step.status, 'failed');
    assert.equal(step.error?.code, 'PROTOCOL_ERROR');
    assert.equal(step.error?.blame, 'site');
    assert.match(step.error?.message ?? '', /redirected from https to plain http \(http:\/\/api\.checkpoint\.test:\d+\/insecure\)/);
    assert.equal(plainHits, 0);
  });

  it('sends JSON and form bodies, query parameters, headers and basic auth', async () => {
    const result = await check({
      kind: 'api',
      name: 'Bodies',
      variables: { who: 'tester' },
      steps: [
        { name: 'JSON', request: { method: 'POST', url: `${plainUrl}/echo`, query: { a: '1' }, headers: { 'X-Who': '{{who}}' }, body: { type: 'json', value: { n: 1, who: '{{who}}', type: '{{who}}' } } }, assertions: [{ type: 'jsonPath', path: '$.body', operator: 'equals', value: '{"n":1,"who":"tester","type":"tester"}' }, { type: 'jsonPath', path: '$.headers.x-who', operator: 'equals', value: 'tester' }, { type: 'jsonPath', path: "$.headers['content-type']", operator: 'equals', value: 'application/json' }] },
        { name: 'Form', request: { method: 'PUT', url: `${plainUrl}/echo`, body: { type: 'form', value: { a: 'b c', d: '&' } } }, assertions: [{ type: 'jsonPath', path: '$.body', operator: 'equals', value: 'a=b+c&d=%26' }, { type: 'jsonPath', path: '$.method', operator: 'equals', value: 'PUT' }] },
        { name: 'Basic', request: { url: `${plainUrl}/echo` }, auth: { type: 'basic', username: 'u', password: 'p' }, assertions: [{ type: 'jsonPath', path: '$.headers.authorization', operator: 'equals', value: `Basic ${Buffer.from('u:p').toString('base64')}` }] },
      ],
    });
    assert.deepEqual(result.steps.map((step) => [step.name, step.status, step.error?.message]), [['JSON', 'passed', undefined], ['Form', 'passed', undefined], ['Basic', 'passed', undefined]]);
  });

  it('fetches an OAuth2 client-credentials token once per run, sends it as a bearer token, and masks it', async () => {
    const auth = { type: 'oauth2-client-credentials', tokenUrl: `${plainUrl}/token`, clientId: 'client', clientSecret: '{{secret.CLIENT_SECRET}}' };
    const script = { kind: 'api', name: 'OAuth', settings: { auth }, steps: [{ name: 'One', request: { url: `${plainUrl}/protected` } }, { name: 'Two', request: { url: `${plainUrl}/protected` }, assertions: [{ type: 'body', operator: 'contains', value: 'not data' }] }] };
    tokenRequests.length = 0;
    const { result } = await runCheck({ script: script, secret: () => 'client-secret-value', lookup: loopback });
    assert.deepEqual(result.steps.map((step) => step.status), ['passed', 'passed'], JSON.stringify(result.steps.map((step) => step.error)));
    assert.deepEqual(tokenRequests, [`Basic ${Buffer.from('client:client-secret-value').toString('base64')}`], 'one token request, client credentials in basic auth');
    assert.ok(typeof result.steps[0]?.check?.details['authTokenMs'] === 'number');
    const text = JSON.stringify(result);
    assert.ok(!text.includes('tok-1') && !text.includes('client-secret-value'), 'the token and the secret are masked');
  });

  it('stops a redirect loop and a body over maxBodyBytes with PROTOCOL_ERROR', async () => {
    const loop = only(await check({ kind: 'http', name: 'Loop', url: `${plainUrl}/loop`, maxRedirects: 3 }));
    assert.equal(loop.error?.code, 'PROTOCOL_ERROR');
    assert.match(loop.error?.message ?? '', /redirected more than 3 times/);
    const big = only(await check({ kind: 'http', name: 'Big', url: `${plainUrl}/big`, maxBodyBytes: 1000 }));
    assert.equal(big.error?.code, 'PROTOCOL_ERROR');
    assert.match(big.error?.message ?? '', /larger than 1000 bytes/);
  });

  it('names the failure: connection refused, a DNS failure from the lookup, a request that does not answer in time', async () => {
    const closed = createServer();
    const port = await listen(closed);
    await close(closed);
    const refused = only(await check({ kind: 'http', name: 'Refused', url: `http://127.0.0.1:${port}/` }));
    assert.equal(refused.error?.code, 'CONNECT_FAILED');
    assert.match(refused.error?.message ?? '', /refused/);

    const dns = only(await check({ kind: 'http', name: 'DNS', url: 'http://nowhere.checkpoint.test/' }, { lookup: () => Promise.reject(new EngineError('DNS_FAILED', 'the name nowhere.checkpoint.test could not be resolved (no such host)')) }));
    assert.equal(dns.error?.code, 'DNS_FAILED');

    const started = performance.now();
    const slow = only(await check({ kind: 'http', name: 'Hang', url: `${plainUrl}/hang`, requestTimeoutMs: 300 }));
    assert.equal(slow.error?.code, 'STEP_TIMEOUT');
    assert.ok(performance.now() - started < 5_000, 'the timeout ended the request');
  });

  it('applies error conditions to check steps (ttfbMs, durationMs) and warnings', async () => {
    const breached = await check({ kind: 'http', name: 'Slow', url: `${plainUrl}/timed`, conditions: [{ metric: 'ttfbMs', max: 100, level: 'error' }] });
    assert.equal(breached.status, 'failed');
    assert.equal(only(breached).error?.code, 'CONDITION_BREACHED');
    assert.match(only(breached).error?.message ?? '', /time to first byte .* is over its error limit of 100 ms/);
    const warned = await check({ kind: 'api', name: 'Slow API', steps: [{ name: 'Slow', request: { url: `${plainUrl}/timed` } }], conditions: [{ metric: 'durationMs', max: 50, level: 'warning' }] });
    assert.equal(warned.status, 'warning');
    assert.equal(warned.conditions?.[0]?.breached, true);
  });

  describe('examples against the demo site', () => {
    let site: DemoSite;
    before(async () => {
      site = await startDemoSite({ port: 0 });
    });
    after(async () => {
      await site.close();
    });

    async function runExample(file: string): Promise<RunResult> {
      const parsed = parseMonitorScriptText(await readFile(join(examplesDir, file), 'utf8'));
      assert.ok(parsed.ok, `${file}: ${JSON.stringify(parsed.ok ? '' : parsed.problems)}`);
      const { result } = await runCheck({ script: parsed.script as CheckScript, variables: { baseUrl: site.url }, secret: (name) => demoSecrets[name] });
      return result;
    }

    for (const file of ['api-orders.json', 'api-oauth-reports.json', 'http-status.json']) {
      it(`${file} passes, every assertion checked`, async () => {
        const result = await runExample(file);
        assert.equal(result.status, 'passed', JSON.stringify(result.steps.map((step) => step.error)));
        for (const step of result.steps) assert.ok((step.check?.assertions ?? []).every((assertion) => assertion.passed));
      });
    }

    it('masks the password, the client secret and the values that came from them', async () => {
      const orders = JSON.stringify(await runExample('api-orders.json'));
      const oauth = JSON.stringify(await runExample('api-oauth-reports.json'));
      assert.ok(!orders.includes(demoSecrets['DEMO_PASSWORD'] ?? '?'), 'password');
      assert.ok(!oauth.includes(demoSecrets['DEMO_CLIENT_SECRET'] ?? '?'), 'client secret');
      // The token the login returned is an extract of a request that used a secret.
      assert.match(orders, /"description": ?"jsonPath \$\.token exists","passed":true,"actual":"\[redacted\]"/);
      // An order id is not: it is reported as it is.
      assert.match(orders, /SO-\d+/);
    });

    for (const [file, code, message] of [
      ['failing/api-orders-wrong-password.json', 'ASSERTION_FAILED', /expected status equals 200, got "401"/],
      ['failing/api-oauth-wrong-secret.json', 'AUTH_FAILED', /refused the client "demo-client" \(HTTP 401, invalid_client/],
      ['failing/http-status-missing.json', 'HTTP_ERROR', /answered HTTP 404/],
    ] as const) {
      it(`${file} fails with ${code} and one clear sentence`, async () => {
        const result = await runExample(file);
        assert.equal(result.status, 'failed');
        const failed = result.steps.find((step) => step.status === 'failed');
        assert.equal(failed?.error?.code, code);
        assert.equal(failed?.error?.blame, 'site');
        assert.match(failed?.error?.message ?? '', message);
        assert.ok(result.steps.slice(1).every((step) => step.status === 'skipped'), 'the steps after a failure are skipped');
      });
    }

    it('`checkpoint replay` runs an API example without a browser (none can even be found)', async () => {
      const out = join(dir, 'replay');
      const run = await runCli(['replay', join(examplesDir, 'api-orders.json'), '--var', `baseUrl=${site.url}`, '--json', '--out', out], {
        env: { ...demoSecrets, CHROME_PATH: join(dir, 'no-such-browser') },
      });
      assert.equal(run.code, 0, run.stderr);
      const result = JSON.parse(run.stdout) as RunResult;
      assert.equal(result.status, 'passed');
      assert.equal(result.browser, undefined);
      assert.equal(result.kind, 'api');
      const html = await readFile(join(out, 'report.html'), 'utf8');
      assert.match(html, /data-check-kind="api"/);
      assert.match(html, /data-phase="ttfbMs"/);
      assert.ok(!html.includes(demoSecrets['DEMO_PASSWORD'] ?? '?'));
    });

    it('`checkpoint validate` accepts every kind and names the path of a problem', async () => {
      const ok = await runCli(['validate', join(examplesDir, 'api-orders.json'), join(examplesDir, 'http-status.json')]);
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stdout, /api-orders\.json: ok \(api, 3 steps\)/);
      assert.match(ok.stdout, /http-status\.json: ok \(http, 1 steps\)/);
    });
  });

  it('runs a check at once in its own lane while the browser lane is full of slow transactions', async () => {
    let releaseBrowser: (() => void) | undefined;
    const browserBlocked = new Promise<void>((resolve) => (releaseBrowser = resolve));
    let leases = 0;
    // A lease that does not come until the test says so: a transaction stuck in the browser lane.
    const leasesProvider = {
      lease: () => {
        leases++;
        return browserBlocked.then(() => Promise.reject(new EngineError('BROWSER_CRASHED', 'test browser gone', 'engine')));
      },
    };
    const scheduler = new Scheduler({ leases: leasesProvider, concurrency: 1, checkConcurrency: 4 });
    const transaction: Script = { name: 'Slow transaction', steps: [{ name: 's', actions: [{ type: 'navigate', url: 'http://127.0.0.1:9/' }] }] };
    const browserRuns = [scheduler.submit({ script: transaction, secret: () => undefined }), scheduler.submit({ script: transaction, secret: () => undefined })];
    await sleep(50);
    assert.equal(leases, 1, 'the browser lane is full: one transaction running, one waiting');
    const checkRun = await scheduler.submit({ script: { kind: 'http', name: 'Quick', url: `${plainUrl}/target` }, secret: () => undefined, lookup: loopback });
    assert.equal(checkRun.result.status, 'passed');
    assert.equal(leases, 1, 'the check did not need a browser lease');
    assert.ok((checkRun.result.queueWaitMs ?? 0) < 1_000, `the check waited ${checkRun.result.queueWaitMs} ms`);
    releaseBrowser?.();
    const outcomes = await Promise.all(browserRuns);
    assert.ok(outcomes.every((outcome) => outcome.result.status === 'error'));
    await scheduler.drain(1_000);
  });
});
