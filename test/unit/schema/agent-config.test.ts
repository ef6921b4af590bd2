import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveAgentConfig } from '../../../engine/schema/agent-config.ts';

const required = { CHECKPOINT_CONTROL_PLANE: 'https://cp.example:8443', CHECKPOINT_TOKEN: 'secret-token' };

describe('agent configuration: one schema for flags and environment', () => {
  it('takes each setting from its flag, else from its variable, with types coerced', () => {
    const resolved = resolveAgentConfig({ concurrency: 3 }, { ...required, CHECKPOINT_CONCURRENCY: '8', CHECKPOINT_HEALTH_PORT: '0', CHECKPOINT_PRIVACY_LOCK: 'yes', CHECKPOINT_INSTANCE_ID: 'cp-1' });
    assert.ok(resolved.ok);
    assert.deepEqual(resolved.config, { controlPlane: 'https://cp.example:8443', token: 'secret-token', concurrency: 3, healthPort: 0, privacyLock: true, instanceId: 'cp-1' });
  });

  it('names the flag, or the variable the bad value came from, and what was expected', () => {
    const fromEnv = resolveAgentConfig({}, { ...required, CHECKPOINT_HEALTH_PORT: 'eighty', CHECKPOINT_PRIVACY_LOCK: 'maybe' });
    assert.equal(fromEnv.ok, false);
    assert.deepEqual(!fromEnv.ok && fromEnv.problems, ['CHECKPOINT_HEALTH_PORT: expected a whole number, got "eighty"', 'CHECKPOINT_PRIVACY_LOCK: expected 1, true, on or yes (or 0, false, off, no), got "maybe"']);
    const fromFlag = resolveAgentConfig({ concurrency: 0, instanceId: '../x' }, required);
    assert.deepEqual(!fromFlag.ok && fromFlag.problems.map((p) => p.split(':')[0]), ['--instance-id', '--concurrency']);
  });

  it('says where a missing required setting can come from', () => {
    const missing = resolveAgentConfig({}, {});
    assert.deepEqual(!missing.ok && missing.problems, ['--control-plane (or CHECKPOINT_CONTROL_PLANE): the control plane URL is required', '--token (or CHECKPOINT_TOKEN): the checkpoint token is required']);
    const multiline = resolveAgentConfig({ token: 'a\nb' }, required);
    assert.deepEqual(!multiline.ok && multiline.problems, ['--token: must be a single line'], 'the token is never echoed');
  });

  it('reads the network and secrets settings: allow-list names, proxies, the sandbox override', () => {
    const resolved = resolveAgentConfig(
      { browserProxy: 'http://proxy.example:3128' },
      { ...required, CHECKPOINT_SECRETS_ENV: ' DB_PASSWORD, API_KEY ,', CHECKPOINT_SECRETS_FILE: '/run/secrets/checkpoint', CHECKPOINT_CONTROL_PLANE_PROXY: 'http://user:pw@proxy.example:3128', CHECKPOINT_BROWSER_PROXY_BYPASS: '.corp.example', CHECKPOINT_ALLOW_NO_SANDBOX: '1' },
    );
    assert.ok(resolved.ok);
    assert.deepEqual(resolved.config.secretEnv, ['DB_PASSWORD', 'API_KEY']);
    assert.equal(resolved.config.secretsFile, '/run/secrets/checkpoint');
    assert.equal(resolved.config.controlPlaneProxy, 'http://user:pw@proxy.example:3128');
    assert.equal(resolved.config.browserProxy, 'http://proxy.example:3128');
    assert.equal(resolved.config.browserProxyBypass, '.corp.example');
    assert.equal(resolved.config.allowNoSandbox, true);
  });

  it('refuses CHECKPOINT_* names as secrets, bad names and unusable proxies, never echoing a proxy URL', () => {
    const resolved = resolveAgentConfig({}, { ...required, CHECKPOINT_SECRETS_ENV: 'API_KEY,CHECKPOINT_TOKEN,bad-name', CHECKPOINT_CONTROL_PLANE_PROXY: 'socks5://user:hunter2@proxy.example', CHECKPOINT_BROWSER_PROXY: 'not a url' });
    assert.equal(resolved.ok, false);
    const problems = !resolved.ok ? resolved.problems : [];
    assert.deepEqual(problems, [
      'CHECKPOINT_SECRETS_ENV: CHECKPOINT_* variables configure the agent and are never script secrets, got "API_KEY,CHECKPOINT_TOKEN,bad-name"',
      'CHECKPOINT_SECRETS_ENV: expected environment variable names separated by commas, got "API_KEY,CHECKPOINT_TOKEN,bad-name"',
      'CHECKPOINT_CONTROL_PLANE_PROXY: expected a proxy URL such as http://proxy.example:3128 (http:, https:)',
      'CHECKPOINT_BROWSER_PROXY: expected a proxy URL such as http://proxy.example:3128 (http:, https:, socks5:)',
    ]);
  });
});

describe('agent configuration: the egress and files block', () => {
  it('reads comma-separated lists and switches from the environment, into a working policy', async () => {
    const { egressPolicyFromSettings } = await import('../../../engine/core/egress-policy.ts');
    const resolved = resolveAgentConfig(
      {},
      {
        ...required,
        CHECKPOINT_EGRESS_ALLOW_HOSTS: 'intranet.example, *.corp.example',
        CHECKPOINT_EGRESS_DENY_HOSTS: 'ads.example',
        CHECKPOINT_EGRESS_ALLOW_CIDRS: '169.254.10.0/24',
        CHECKPOINT_EGRESS_DENY_CIDRS: '10.9.0.0/16,fd00::/8',
        CHECKPOINT_EGRESS_DENY_PRIVATE: 'on',
        CHECKPOINT_UPLOADS_DIR: '/srv/uploads',
      },
    );
    assert.ok(resolved.ok, JSON.stringify(resolved));
    assert.deepEqual(resolved.config.egressAllowHosts, ['intranet.example', '*.corp.example']);
    assert.deepEqual(resolved.config.egressDenyCidrs, ['10.9.0.0/16', 'fd00::/8']);
    assert.equal(resolved.config.egressDenyPrivate, true);
    assert.equal(resolved.config.uploadsDir, '/srv/uploads');
    const policy = egressPolicyFromSettings(resolved.config);
    assert.equal(policy.checkAddress('10.1.1.1').allowed, false, 'private denied');
    assert.equal(policy.checkAddress('169.254.10.7').allowed, true, 'allowed range');
    assert.equal(policy.checkUrl('http://ads.example/', 'navigation').allowed, false);
    assert.equal(policy.checkUrl('http://intranet.example/', 'navigation').allowed, true);
  });

  it('names the variable of a bad entry', () => {
    const bad = resolveAgentConfig({}, { ...required, CHECKPOINT_EGRESS_DENY_CIDRS: '10.0.0.0/8,ten', CHECKPOINT_EGRESS_ALLOW_HOSTS: 'http://x/' });
    assert.equal(bad.ok, false);
    const problems = bad.ok ? [] : bad.problems;
    assert.ok(problems.some((p) => /^CHECKPOINT_EGRESS_DENY_CIDRS: expected address ranges/.test(p)), problems.join('\n'));
    assert.ok(problems.some((p) => /^CHECKPOINT_EGRESS_ALLOW_HOSTS: expected host names/.test(p)), problems.join('\n'));
  });

  it('leaves the default policy when nothing is set', () => {
    const resolved = resolveAgentConfig({}, required);
    assert.ok(resolved.ok);
    assert.equal(resolved.config.egressDenyCidrs, undefined);
    assert.equal(resolved.config.uploadsDir, undefined);
  });
});
