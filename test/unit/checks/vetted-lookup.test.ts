import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EgressPolicy } from '../../../engine/core/egress-policy.ts';
import { EngineError } from '../../../engine/core/errors.ts';
import { vettedLookup, type Resolve } from '../../../engine/checks/vetted-lookup.ts';

/** A resolver answering from a table; records what it was asked. */
function table(entries: Record<string, string[]>): Resolve & { asked: string[] } {
  const asked: string[] = [];
  const resolve = (host: string) => {
    asked.push(host);
    const addresses = entries[host];
    if (addresses === undefined) return Promise.reject(Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' }));
    return Promise.resolve(addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));
  };
  return Object.assign(resolve, { asked });
}

async function rejectsWith(work: Promise<unknown>, code: string, pattern: RegExp): Promise<void> {
  await assert.rejects(work, (error: unknown) => {
    assert.ok(error instanceof EngineError, `expected an EngineError, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.match(error.message, pattern);
    return true;
  });
}

describe('vettedLookup', () => {
  it('returns the first address of a name whose every address is allowed, with the DNS time', async () => {
    const resolve = table({ 'shop.test': ['10.0.0.5', '10.0.0.6'] });
    const got = await vettedLookup(undefined, { resolve })('shop.test');
    assert.equal(got.address, '10.0.0.5');
    assert.equal(got.family, 4);
    assert.ok(got.dnsMs >= 0);
  });

  it('refuses a name that resolves to a metadata or link-local address, even among allowed ones', async () => {
    const resolve = table({ 'rebind.test': ['10.0.0.5', '169.254.169.254'], 'v6.test': ['fe80::1'], 'mapped.test': ['::ffff:169.254.169.254'] });
    const lookup = vettedLookup(undefined, { resolve });
    await rejectsWith(lookup('rebind.test'), 'POLICY_BLOCKED', /169\.254\.169\.254 \(rebind\.test\) is a cloud metadata address/);
    await rejectsWith(lookup('v6.test'), 'POLICY_BLOCKED', /fe80::1 \(v6\.test\) is link-local/);
    await rejectsWith(lookup('mapped.test'), 'POLICY_BLOCKED', /169\.254\.169\.254/);
  });

  it('refuses literal addresses in every encoding without asking DNS', async () => {
    const resolve = table({});
    const lookup = vettedLookup(undefined, { resolve });
    for (const host of ['169.254.169.254', '2852039166', '0251.0376.0251.0376', '0xa9fea9fe', '169.254.43518', '::ffff:a9fe:a9fe', '[::ffff:169.254.169.254]', 'fe80::1%eth0']) {
      await rejectsWith(lookup(host), 'POLICY_BLOCKED', /link-local|metadata/);
    }
    assert.deepEqual(resolve.asked, []);
  });

  it('returns an allowed literal address normalised, with no DNS time', async () => {
    const lookup = vettedLookup(undefined, { resolve: table({}) });
    assert.deepEqual(await lookup('2130706433'), { address: '127.0.0.1', family: 4, dnsMs: 0 });
    assert.deepEqual(await lookup('[::1]'), { address: '::1', family: 6, dnsMs: 0 });
  });

  it('resolves and vets dotted strings that are not addresses (1.2.3.4.5), never passing them on as literals', async () => {
    const resolve = table({ '127.0.0.1.5': ['169.254.169.254'], '10.1.2.3.4': ['10.0.0.7'] });
    const lookup = vettedLookup(undefined, { resolve });
    await rejectsWith(lookup('127.0.0.1.5'), 'POLICY_BLOCKED', /169\.254\.169\.254 \(127\.0\.0\.1\.5\)/);
    assert.equal((await lookup('10.1.2.3.4')).address, '10.0.0.7');
    await rejectsWith(lookup('1.2.3.4.5'), 'DNS_FAILED', /could not resolve 1\.2\.3\.4\.5/);
    assert.deepEqual(resolve.asked, ['127.0.0.1.5', '10.1.2.3.4', '1.2.3.4.5']);
  });

  it('refuses metadata host names before resolving them', async () => {
    const resolve = table({ 'metadata.google.internal': ['10.0.0.1'] });
    await rejectsWith(vettedLookup(undefined, { resolve })('Metadata.Google.Internal.'), 'POLICY_BLOCKED', /metadata\.google\.internal is a cloud metadata service/);
    assert.deepEqual(resolve.asked, []);
  });

  it('applies the operator rules: denied hosts and ranges, allowed hosts skip the address rules', async () => {
    const resolve = table({ 'db.corp.test': ['10.9.0.1'], 'special.test': ['169.254.1.1'], 'app.test': ['10.1.0.1'] });
    const lookup = vettedLookup(new EgressPolicy({ denyCidrs: ['10.9.0.0/16'], allowHosts: ['special.test'], denyHosts: ['*.blocked.test'] }), { resolve });
    await rejectsWith(lookup('db.corp.test'), 'POLICY_BLOCKED', /denied range 10\.9\.0\.0\/16/);
    await rejectsWith(lookup('x.blocked.test'), 'POLICY_BLOCKED', /denied host \*\.blocked\.test/);
    assert.equal((await lookup('special.test')).address, '169.254.1.1');
    assert.equal((await lookup('app.test')).address, '10.1.0.1');
  });

  it('reports a name that does not resolve as DNS_FAILED (blame site)', async () => {
    await assert.rejects(vettedLookup(undefined, { resolve: table({}) })('nowhere.test'), (error: unknown) => {
      assert.ok(error instanceof EngineError);
      assert.equal(error.code, 'DNS_FAILED');
      assert.equal(error.blame, 'site');
      assert.match(error.message, /could not resolve nowhere\.test \(ENOTFOUND\)/);
      return true;
    });
    await rejectsWith(vettedLookup(undefined, { resolve: table({ 'empty.test': [] }) })('empty.test'), 'DNS_FAILED', /no address/);
  });

  it('uses the system resolver by default (localhost is loopback, allowed)', async () => {
    const got = await vettedLookup()('localhost');
    assert.match(got.address, /^(127\.|::1$)/);
  });
});
