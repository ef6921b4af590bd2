import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isLoopbackHost, plaintextWarning, redactedProxy } from '../../../engine/agent/transport.ts';
import { browserEnv, networkLaunchOptions, sandboxUnavailable, chromiumArgs } from '../../../engine/browser/launch.ts';

describe('control-plane transport', () => {
  it('knows loopback hosts, in every spelling a URL gives them', () => {
    for (const host of ['localhost', 'LOCALHOST', 'cp.localhost', '127.0.0.1', '127.1.2.3', '[::1]', '[::ffff:7f00:1]']) assert.equal(isLoopbackHost(new URL(`http://${host}:8400`).hostname), true, host);
    for (const host of ['cp.example', '10.0.0.5', '[fe80::1]', 'localhost.example', '128.0.0.1', '[::ffff:a00:1]']) assert.equal(isLoopbackHost(new URL(`http://${host}:8400`).hostname), false, host);
  });

  it('warns about a plain http or ws control plane on another host only', () => {
    assert.equal(plaintextWarning(new URL('http://cp.example:8400')), 'the control plane http://cp.example:8400 is plain http: the checkpoint token, the scripts and every result cross the network unencrypted; use https://');
    assert.match(plaintextWarning(new URL('ws://10.1.2.3/')) ?? '', /is plain ws:/);
    assert.equal(plaintextWarning(new URL('https://cp.example')), undefined);
    assert.equal(plaintextWarning(new URL('wss://cp.example')), undefined);
    assert.equal(plaintextWarning(new URL('http://127.0.0.1:8400')), undefined);
    assert.equal(plaintextWarning(new URL('http://localhost:8400')), undefined);
  });

  it('logs a proxy without its credentials', () => {
    assert.equal(redactedProxy(new URL('http://proxy.example:3128')), 'http://proxy.example:3128');
    assert.equal(redactedProxy(new URL('http://user:hunter2@proxy.example:3128')), 'http://***@proxy.example:3128');
  });
});

describe('browser network options', () => {
  it('gives Playwright the proxy with one explicit bypass list and the credentials apart', () => {
    assert.deepEqual(networkLaunchOptions(undefined), { env: {} });
    assert.deepEqual(networkLaunchOptions({ proxy: 'http://u%40corp:p%3Ass@proxy.example:3128', proxyBypass: '.corp.example, 10.0.0.0/8,,localhost', homeDir: '/data/browser-home' }), {
      proxy: { server: 'http://proxy.example:3128', bypass: '<-loopback>,.corp.example,10.0.0.0/8,localhost', username: 'u@corp', password: 'p:ss' },
      env: { HOME: '/data/browser-home' },
    });
    assert.deepEqual(networkLaunchOptions({ proxy: 'socks5://127.0.0.1:1080' }), { proxy: { server: 'socks5://127.0.0.1:1080', bypass: '<-loopback>' }, env: {} });
  });

  it('adds --no-sandbox exactly when the sandbox cannot run (root)', () => {
    assert.equal(chromiumArgs().includes('--no-sandbox'), sandboxUnavailable());
    assert.equal(sandboxUnavailable(), process.getuid?.() === 0);
  });

  it("keeps the agent's own settings, its token above all, out of the browser's environment", () => {
    process.env['CHECKPOINT_TOKEN'] = 'agent-token';
    process.env['checkpoint_data_dir'] = '/data';
    try {
      const env = browserEnv({ HOME: '/data/browser-home' });
      assert.equal(env['CHECKPOINT_TOKEN'], undefined);
      assert.equal(env['checkpoint_data_dir'], undefined);
      assert.equal(env['HOME'], '/data/browser-home');
      assert.equal(env['PATH'], process.env['PATH']);
    } finally {
      delete process.env['CHECKPOINT_TOKEN'];
      delete process.env['checkpoint_data_dir'];
    }
  });
});
