import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EgressPolicy, defaultEgressPolicy, normalizeHost, parseAddress } from '../../../engine/core/egress-policy.ts';

const denied = (verdict: { allowed: boolean; rule?: string }, pattern?: RegExp) => {
  assert.equal(verdict.allowed, false, `expected a denial, got ${JSON.stringify(verdict)}`);
  if (pattern !== undefined && 'rule' in verdict) assert.match(verdict.rule ?? '', pattern);
};
const allowed = (verdict: { allowed: boolean; rule?: string }) => assert.equal(verdict.allowed, true, `expected allowed, got ${JSON.stringify(verdict)}`);

describe('EgressPolicy: schemes', () => {
  it('lets pages be http and https only', () => {
    allowed(defaultEgressPolicy.checkUrl('http://127.0.0.1:8080/', 'navigation'));
    allowed(defaultEgressPolicy.checkUrl('https://example.test/', 'navigation'));
    allowed(defaultEgressPolicy.checkUrl('about:blank', 'navigation'));
    for (const url of ['file:///etc/passwd', 'javascript:alert(1)', 'chrome://settings', 'data:text/html,hi', 'ftp://h/x', 'view-source:http://h/', 'about:srcdoc', 'blob:http://h/uuid']) {
      denied(defaultEgressPolicy.checkUrl(url, 'navigation'), /is not allowed for pages/);
    }
  });

  it('lets subresources also be data:, blob: and about:, never file:', () => {
    for (const url of ['data:image/png;base64,AA', 'blob:http://127.0.0.1/abc', 'about:blank']) allowed(defaultEgressPolicy.checkUrl(url, 'subresource'));
    denied(defaultEgressPolicy.checkUrl('file:///etc/passwd', 'subresource'), /scheme file:/);
    denied(defaultEgressPolicy.checkUrl('ws://127.0.0.1/', 'subresource'));
    allowed(defaultEgressPolicy.checkUrl('ws://127.0.0.1/', 'websocket'));
    denied(defaultEgressPolicy.checkUrl('http://127.0.0.1/', 'websocket'));
  });

  it('denies what is not a URL', () => {
    denied(defaultEgressPolicy.checkUrl('not a url', 'navigation'), /not a valid URL/);
  });
});

describe('EgressPolicy: addresses in every encoding', () => {
  const metadataForms = [
    'http://169.254.169.254/latest/meta-data/',
    'http://2852039166/',
    'http://0251.0376.0251.0376/',
    'http://0xa9fea9fe/',
    'http://0xA9.0xFE.0xA9.0xFE/',
    'http://169.254.43518/',
    'http://169.16689662/',
    'http://[::ffff:a9fe:a9fe]/',
    'http://[::ffff:169.254.169.254]/',
    'http://[0:0:0:0:0:ffff:a9fe:a9fe]/',
    'http://[64:ff9b::a9fe:a9fe]/',
    'http://[::a9fe:a9fe]/',
    'http://[2002:a9fe:a9fe::1]/',
    'http://169.254.169.254./',
    'http://[fd00:ec2::254]/',
    'http://100.100.100.200/',
  ];
  for (const url of metadataForms) {
    it(`denies ${url}`, () => denied(defaultEgressPolicy.checkUrl(url, 'navigation'), /metadata|link-local/));
  }

  it('denies link-local in both families, with or without a zone id', () => {
    denied(defaultEgressPolicy.checkAddress('169.254.1.2'), /link-local \(169\.254\.0\.0\/16\)/);
    denied(defaultEgressPolicy.checkAddress('fe80::1'), /link-local \(fe80::\/10\)/);
    denied(defaultEgressPolicy.checkAddress('fe80::1%eth0'), /link-local/);
    denied(defaultEgressPolicy.checkAddress('[fe80::1%25lo]'), /link-local/);
    denied(defaultEgressPolicy.checkHost('fe80::abcd%eth1'), /link-local/);
  });

  it('denies the unspecified address (it reaches the local host) and garbage', () => {
    denied(defaultEgressPolicy.checkUrl('http://0.0.0.0:8080/', 'navigation'), /unspecified/);
    denied(defaultEgressPolicy.checkUrl('http://0/', 'navigation'), /unspecified/);
    denied(defaultEgressPolicy.checkAddress('::'), /unspecified/);
    denied(defaultEgressPolicy.checkAddress('not-an-ip'), /not an IP address/);
  });

  it('allows loopback, private ranges and public addresses by default', () => {
    for (const address of ['127.0.0.1', '::1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '100.64.0.1', 'fd12::1', '93.184.216.34', '2001:db8::1']) allowed(defaultEgressPolicy.checkAddress(address));
    allowed(defaultEgressPolicy.checkUrl('http://127.0.0.1:3000/x', 'navigation'));
    allowed(defaultEgressPolicy.checkUrl('http://2130706433/', 'navigation'));
  });

  it('denies private ranges when allowPrivate is false, naming the range', () => {
    const strict = new EgressPolicy({ allowPrivate: false });
    denied(strict.checkAddress('127.0.0.1'), /loopback/);
    denied(strict.checkAddress('::ffff:10.0.0.1'), /private/);
    denied(strict.checkAddress('fd12::1'), /unique-local/);
    denied(strict.checkAddress('100.64.1.1'), /carrier-grade NAT/);
    allowed(strict.checkAddress('93.184.216.34'));
  });
});

describe('EgressPolicy: host names', () => {
  it('denies metadata host names in any case and with a trailing dot', () => {
    for (const host of ['metadata.google.internal', 'METADATA.google.internal.', 'metadata', 'instance-data.ec2.internal']) {
      denied(defaultEgressPolicy.checkUrl(`http://${host}/computeMetadata/v1/`, 'navigation'), /cloud metadata service/);
    }
  });

  it('asks for resolution of other names', () => {
    const verdict = defaultEgressPolicy.checkUrl('https://shop.example/', 'navigation');
    assert.equal(verdict.allowed, true);
    assert.equal(verdict.needsResolution, true);
    assert.equal(defaultEgressPolicy.checkUrl('http://127.0.0.1/', 'navigation').needsResolution, false);
  });

  it('applies exact and *.suffix host rules, deny before allow', () => {
    const policy = new EgressPolicy({ denyHosts: ['*.evil.test', 'exact.test'], allowHosts: ['metadata.google.internal', '*.corp.test', 'ok.evil.test'] });
    denied(policy.checkUrl('http://a.evil.test/', 'navigation'), /denied host \*\.evil\.test/);
    denied(policy.checkUrl('http://ok.evil.test/', 'navigation'), /denied host/);
    allowed(policy.checkUrl('http://evil.test/', 'navigation'));
    denied(policy.checkUrl('http://EXACT.test./', 'navigation'), /denied host exact\.test/);
    allowed(policy.checkUrl('http://sub.exact.test/', 'navigation'));
    const corp = policy.checkUrl('http://app.corp.test/', 'navigation');
    assert.deepEqual([corp.allowed, corp.needsResolution], [true, false]);
    allowed(policy.checkUrl('http://metadata.google.internal/', 'navigation'));
  });

  it('applies CIDR rules, deny before allow, allow before the built-in rules', () => {
    const policy = new EgressPolicy({ allowCidrs: ['169.254.10.0/24', '10.0.0.0/8'], denyCidrs: ['10.9.0.0/16', '2001:db8::/32', '192.168.1.7'] });
    allowed(policy.checkAddress('169.254.10.5'));
    denied(policy.checkAddress('169.254.169.254'), /metadata/);
    denied(policy.checkAddress('10.9.1.1'), /denied range 10\.9\.0\.0\/16/);
    allowed(policy.checkAddress('10.8.1.1'));
    denied(policy.checkAddress('2001:db8::5'), /denied range/);
    denied(policy.checkAddress('::ffff:192.168.1.7'), /192\.168\.1\.7/);
    denied(policy.checkUrl('http://3232235783/', 'navigation'), /denied range 192\.168\.1\.7\/32/);
  });

  it('names the host and the address in the rule', () => {
    denied(defaultEgressPolicy.checkAddress('169.254.169.254', 'rebind.test'), /^169\.254\.169\.254 \(rebind\.test\) is a cloud metadata address/);
  });

  it('rejects bad rules naming the entry', () => {
    assert.throws(() => new EgressPolicy({ denyCidrs: ['10.0.0.0/8', 'ten'] }), /denyCidrs\[1\]: "ten" is not an address range/);
    assert.throws(() => new EgressPolicy({ allowHosts: ['http://x/'] }), /allowHosts\[0\]: "http:\/\/x\/" is not a host name pattern/);
  });
});

describe('address parsing', () => {
  it('normalises every IPv4 form the way the browser does', () => {
    for (const text of ['2852039166', '0251.0376.0251.0376', '0xa9fea9fe', '169.254.43518', '169.254.169.254.']) assert.equal(parseAddress(text)?.toString(), '169.254.169.254');
    assert.equal(normalizeHost('Example.TEST.'), 'example.test');
    assert.equal(parseAddress('example.test'), undefined);
    assert.equal(parseAddress('[::1]')?.toString(), '::1');
  });
});
