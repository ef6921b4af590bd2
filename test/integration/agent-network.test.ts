// The agent on an enterprise network: a private CA trusted by Node (control plane) and by Chromium (test
// traffic), a client certificate for the control plane, a proxy for each kind of traffic and a bypass list.
// Everything is local: a CA made here with openssl, TLS servers and counting proxies on 127.0.0.1; the proxies
// map every host name to 127.0.0.1, so made-up names (intranet.test) are never resolved.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, request as httpRequest, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { replay } from '../../cli/replay-command.ts';
import { runAgentCommand, type AgentCommandOptions } from '../../engine/agent/agent-command.ts';
import type { AgentEvent } from '../../engine/agent/events.ts';
import type { MonitorDefinition, RunCommand } from '../../engine/schema/protocol.ts';
import { scriptSchema } from '../../engine/schema/script.ts';
import { FakeControlPlane, type FakeControlPlaneOptions } from '../helpers/fake-control-plane.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function has(binary: string, args: string[]): boolean {
  try {
    execFileSync(binary, args, { stdio: 'ignore' });
    return true;
  } catch (error) {
    return (error as { code?: unknown }).code !== 'ENOENT';
  }
}
const missing = !has('openssl', ['version']) ? 'openssl is not installed' : !has('certutil', ['-H']) ? 'certutil is not installed (libnss3-tools; bin/setup.sh installs it)' : false;

async function tempDir(keep: (() => Promise<void>)[] = cleanups): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'checkpoint-net-'));
  keep.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}
/** Removed after the last test (the PKI is shared). */
const finalCleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const cleanup of finalCleanups.splice(0)) await cleanup();
});

interface Pki {
  caFile: string;
  server: { key: string; cert: string };
  clientCertFile: string;
  clientKeyFile: string;
  caPem: string;
}

/** A CA of the test's own, a server certificate for 127.0.0.1, localhost and intranet.test, and a client certificate. */
async function makePki(): Promise<Pki> {
  const dir = await tempDir(finalCleanups);
  const path = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore', cwd: dir });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=Checkpoint Test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  const issue = async (name: string, subject: string, extensions: string) => {
    await writeFile(path(`${name}.ext`), extensions);
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject);
    openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`);
  };
  await issue('server', '/CN=intranet.test', 'subjectAltName=DNS:intranet.test,DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
  await issue('client', '/CN=checkpoint-agent', 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n');
  return {
    caFile: path('ca.pem'),
    caPem: await readFile(path('ca.pem'), 'utf8'),
    server: { key: await readFile(path('server.key'), 'utf8'), cert: await readFile(path('server.pem'), 'utf8') },
    clientCertFile: path('client.pem'),
    clientKeyFile: path('client.key'),
  };
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  return (server.address() as AddressInfo).port;
}

/** An HTTPS site whose certificate the test CA signed; records the Host and path of every request. */
async function startTlsSite(pki: Pki): Promise<{ port: number; requests: { host: string; path: string }[] }> {
  const requests: { host: string; path: string }[] = [];
  const server = createHttpsServer(pki.server, (req, res) => {
    requests.push({ host: req.headers.host ?? '', path: req.url ?? '' });
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end('<!doctype html><title>Intranet</title><p>Reached over TLS</p>');
  });
  return { port: await listen(server), requests };
}

/**
 * A forward proxy: CONNECT tunnels and absolute-form requests, every target host:port recorded and sent to
 * 127.0.0.1 on the same port (so made-up names work without DNS).
 */
async function startProxy(): Promise<{ url: string; targets: string[] }> {
  const targets: string[] = [];
  const server = createHttpServer((req, res) => {
    const target = new URL(req.url ?? '/');
    targets.push(target.host);
    const upstream = httpRequest({ host: '127.0.0.1', port: target.port || 80, path: `${target.pathname}${target.search}`, method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  // Tunnels leave the HTTP server's bookkeeping: they are closed before it (cleanups run last first).
  const tunnels = new Set<{ destroy(): void }>();
  server.on('connect', (req, socket, head) => {
    targets.push(req.url ?? '');
    tunnels.add(socket);
    const port = Number((req.url ?? '').split(':').at(-1));
    const upstream = connect(port, '127.0.0.1', () => {
      tunnels.add(upstream);
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  const port = await listen(server);
  cleanups.push(() => {
    for (const tunnel of tunnels) tunnel.destroy();
    return Promise.resolve();
  });
  return { url: `http://127.0.0.1:${port}`, targets };
}

interface RunningAgent {
  lines: string[];
  dataDir: string;
  waitForEvent(type: AgentEvent['type']): Promise<AgentEvent>;
  stop(): Promise<number>;
}

async function startAgent(cp: FakeControlPlane, options: Partial<AgentCommandOptions>): Promise<RunningAgent> {
  const dataDir = await tempDir();
  const lines: string[] = [];
  const events: AgentEvent[] = [];
  const emitter = new EventEmitter();
  const controller = new AbortController();
  const exit = runAgentCommand(
    { controlPlane: cp.url, token: cp.token, instanceId: `net-${Math.random().toString(16).slice(2, 8)}`, dataDir, healthPort: 0, concurrency: 1, backoff: { baseMs: 50, capMs: 400 }, ...options },
    {
      stderr: (text) => void lines.push(...text.split('\n').filter((line) => line !== '')),
      signal: controller.signal,
      handleSignals: false,
      // The test machine may run as root, where Chromium has no sandbox.
      env: { CHECKPOINT_ALLOW_NO_SANDBOX: '1' },
      onEvent: (event) => {
        events.push(event);
        emitter.emit('event', event);
      },
    },
  );
  let stopped: Promise<number> | undefined;
  const stop = () => {
    controller.abort();
    stopped ??= exit;
    return stopped;
  };
  cleanups.push(async () => void (await stop()));
  return {
    lines,
    dataDir,
    stop,
    waitForEvent: (type) => {
      const seen = events.find((event) => event.type === type);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${type} event; log:\n${lines.join('\n')}`)), 60_000);
        const listener = (event: AgentEvent) => {
          if (event.type !== type) return;
          clearTimeout(timer);
          emitter.off('event', listener);
          resolve(event);
        };
        emitter.on('event', listener);
        void exit.then((code) => {
          clearTimeout(timer);
          reject(new Error(`the agent exited with ${code} before ${type}; log:\n${lines.join('\n')}`));
        });
      });
    },
  };
}

async function controlPlane(options: FakeControlPlaneOptions = {}): Promise<FakeControlPlane> {
  const cp = await FakeControlPlane.start(options);
  cleanups.push(() => cp.close());
  return cp;
}

function run(runId: string, steps: { name: string; url: string }[]): RunCommand {
  const monitor: MonitorDefinition = {
    id: runId,
    name: runId,
    checkpoint: 'test-checkpoint',
    intervalSeconds: 60,
    enabled: true,
    script: scriptSchema.parse({ name: runId, steps: steps.map((step) => ({ name: step.name, actions: [{ type: 'navigate', url: step.url }, { type: 'assertText', text: 'Reached over TLS' }] })) }),
  };
  return { type: 'run', runId, monitorId: runId, attempt: 1, reason: 'manual', monitor };
}

async function resultOf(cp: FakeControlPlane, agent: RunningAgent, command: RunCommand) {
  await agent.waitForEvent('welcome');
  cp.send(command);
  return (await cp.waitFor(() => cp.results.get(command.runId), `the result of ${command.runId}; log:\n${agent.lines.join('\n')}`, 60_000)).result;
}

describe('checkpoint agent on an enterprise network', { skip: missing }, () => {
  let pki: Pki;
  before(async () => {
    pki = await makePki();
  });

  it('makes the browsers trust --ca-file: a page signed by the private CA loads, and fails with NAVIGATION_FAILED without it', async () => {
    const site = await startTlsSite(pki);
    const cp = await controlPlane();
    const url = `https://127.0.0.1:${site.port}/`;

    const untrusting = await startAgent(cp, {});
    const refused = await resultOf(cp, untrusting, run('run-no-ca', [{ name: 'Open', url }]));
    assert.equal(refused.status, 'failed');
    const error = refused.steps[0]?.error;
    assert.equal(error?.code, 'NAVIGATION_FAILED');
    assert.match(error.message, /ERR_CERT_AUTHORITY_INVALID/);
    assert.equal(await untrusting.stop(), 0);

    // As in the container image, the token is in the agent's environment: its browsers must not inherit it.
    process.env['CHECKPOINT_TOKEN'] = cp.token;
    cleanups.push(() => Promise.resolve(void delete process.env['CHECKPOINT_TOKEN']));
    const trusting = await startAgent(cp, { caFile: pki.caFile });
    const loaded = await resultOf(cp, trusting, run('run-ca', [{ name: 'Open', url }]));
    assert.equal(loaded.status, 'passed', JSON.stringify(loaded.steps.map((step) => step.error)));
    const browsers = (await readdir('/proc')).filter((entry) => /^\d+$/.test(entry));
    const environs: string[] = [];
    for (const pid of browsers) environs.push(await readFile(`/proc/${pid}/environ`, 'utf8').catch(() => ''));
    const ours = environs.filter((environ) => environ.split('\0').includes(`HOME=${join(trusting.dataDir, 'browser-home')}`));
    assert.ok(ours.length > 0, 'the browsers run with the NSS home as HOME');
    assert.equal(ours.filter((environ) => environ.includes('CHECKPOINT_TOKEN=')).length, 0, 'no browser process carries the token');
    assert.ok((await stat(join(trusting.dataDir, 'browser-home', '.pki', 'nssdb', 'cert9.db'))).isFile(), 'the checkpoint keeps its own NSS database');
    assert.ok(trusting.lines.some((line) => line.includes('trusted by Node and the browsers')));
    assert.equal(await trusting.stop(), 0);
  });

  it('sends control-plane traffic through its proxy and test traffic through the other; bypassed hosts go through neither', async () => {
    const site = await startTlsSite(pki);
    const cp = await controlPlane({ tls: pki.server });
    const cpPort = new URL(cp.url).port;
    const cpProxy = await startProxy();
    const browserProxy = await startProxy();
    const agent = await startAgent(cp, { caFile: pki.caFile, controlPlaneProxy: cpProxy.url, browserProxy: browserProxy.url, browserProxyBypass: '127.0.0.1' });
    const result = await resultOf(
      cp,
      agent,
      run('run-proxies', [
        { name: 'Through the proxy', url: `https://intranet.test:${site.port}/proxied` },
        { name: 'Bypassing it', url: `https://127.0.0.1:${site.port}/direct` },
        { name: 'Loopback not in the bypass list', url: `https://localhost:${site.port}/loopback` },
      ]),
    );
    assert.equal(result.status, 'passed', JSON.stringify(result.steps.map((step) => step.error)));
    assert.equal(await agent.stop(), 0);

    // The control plane: WebSocket and uploads, all tunnelled through its proxy, nothing else there.
    assert.ok(cpProxy.targets.length >= 2, `the WebSocket and the result upload were tunnelled: ${JSON.stringify(cpProxy.targets)}`);
    assert.deepEqual([...new Set(cpProxy.targets)], [`127.0.0.1:${cpPort}`]);
    assert.ok(cp.results.has('run-proxies'));
    // The test traffic: through the browser proxy, except the bypassed host.
    assert.deepEqual([...new Set(browserProxy.targets)].sort(), [`intranet.test:${site.port}`, `localhost:${site.port}`]);
    assert.deepEqual(
      site.requests.filter((request) => request.path !== '/favicon.ico').map((request) => `${request.host}${request.path}`),
      [`intranet.test:${site.port}/proxied`, `127.0.0.1:${site.port}/direct`, `localhost:${site.port}/loopback`],
    );
    assert.ok(agent.lines.some((line) => line.includes(`control plane through proxy ${cpProxy.url}`) && line.includes(`browsers through proxy ${browserProxy.url} except 127.0.0.1`)), agent.lines.join('\n'));
  });

  it('presents --client-cert to a control plane that requires one (mutual TLS), for the WebSocket and the uploads', async () => {
    const cp = await controlPlane({ tls: { ...pki.server, clientCa: pki.caPem } });

    const anonymous = await startAgent(cp, { caFile: pki.caFile });
    await anonymous.waitForEvent('reconnecting');
    assert.equal(cp.upgrades.length, 0, 'no upgrade without a client certificate');
    assert.equal(await anonymous.stop(), 0);

    const agent = await startAgent(cp, { caFile: pki.caFile, clientCert: pki.clientCertFile, clientKey: pki.clientKeyFile });
    const site = await startTlsSite(pki);
    const result = await resultOf(cp, agent, run('run-mtls', [{ name: 'Open', url: `https://127.0.0.1:${site.port}/` }]));
    assert.equal(result.status, 'passed');
    assert.ok(cp.requests.some((request) => request.path === '/api/v1/results' && request.status < 300), 'the result upload presented the certificate too');
    assert.equal(await agent.stop(), 0);
  });

  it('checkpoint replay takes the same --proxy, --proxy-bypass and --ca-file for its browser', async () => {
    const site = await startTlsSite(pki);
    const proxy = await startProxy();
    const dir = await tempDir();
    const script = join(dir, 'intranet.json');
    await writeFile(script, JSON.stringify(scriptSchema.parse({ name: 'Intranet', steps: [{ name: 'Open', actions: [{ type: 'navigate', url: `https://intranet.test:${site.port}/replayed` }, { type: 'assertText', text: 'Reached over TLS' }] }] })));
    const io = { stdout: () => undefined, stderr: () => undefined, color: false };

    const trusted = await replay(script, { vars: {}, headed: false, json: false, screenshots: 'off', network: { proxy: proxy.url, caFile: pki.caFile } }, io);
    assert.equal(trusted.exitCode, 0, JSON.stringify(trusted.result.steps.map((step) => step.error)));
    assert.deepEqual([...new Set(proxy.targets)], [`intranet.test:${site.port}`]);

    const untrusted = await replay(script, { vars: {}, headed: false, json: false, screenshots: 'off', network: { proxy: proxy.url } }, io);
    assert.equal(untrusted.exitCode, 1);
    assert.equal(untrusted.result.steps[0]?.error?.code, 'NAVIGATION_FAILED');

    // A bypassed loopback name goes direct (a made-up name would be resolved by the system's DNS: not here).
    const direct = join(dir, 'direct.json');
    await writeFile(direct, (await readFile(script, 'utf8')).replace(`intranet.test:${site.port}`, `localhost:${site.port}`));
    const bypassed = await replay(direct, { vars: {}, headed: false, json: false, screenshots: 'off', network: { proxy: proxy.url, proxyBypass: 'localhost', caFile: pki.caFile } }, io);
    assert.equal(bypassed.exitCode, 0);
    assert.deepEqual([...new Set(proxy.targets)], [`intranet.test:${site.port}`], 'the proxy never saw localhost');
    assert.deepEqual(site.requests.filter((request) => request.path === '/replayed').map((request) => request.host), [`intranet.test:${site.port}`, `localhost:${site.port}`]);
  });

  it('exits 2 on a client certificate without its key, and on a proxy URL it cannot use (without echoing it)', async () => {
    const cp = await controlPlane();
    const lines: string[] = [];
    // The signal only ends an agent that wrongly started.
    const io = { stderr: (text: string) => void lines.push(text.trim()), handleSignals: false, env: { CHECKPOINT_ALLOW_NO_SANDBOX: '1' }, signal: AbortSignal.timeout(60_000) };
    const base = { controlPlane: cp.url, token: cp.token, healthPort: 0, dataDir: await tempDir() };
    assert.equal(await runAgentCommand({ ...base, clientCert: pki.clientCertFile }, io), 2);
    assert.equal(await runAgentCommand({ ...base, controlPlaneProxy: 'ftp://user:hunter2@proxy.example' }, io), 2);
    assert.equal(await runAgentCommand({ ...base, secretEnv: ['CHECKPOINT_TOKEN'] }, io), 2);
    assert.deepEqual(lines, [
      'error: --client-cert and --client-key (CHECKPOINT_CLIENT_CERT, CHECKPOINT_CLIENT_KEY) go together',
      'error: --control-plane-proxy: expected a proxy URL such as http://proxy.example:3128 (http:, https:)',
      'error: --secret-env: CHECKPOINT_* variables configure the agent and are never script secrets, got "CHECKPOINT_TOKEN"',
    ]);
  });
});
