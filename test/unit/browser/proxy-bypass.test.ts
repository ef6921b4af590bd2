import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bypassesProxy } from '../../../engine/browser/proxy-bypass.ts';

const direct = (url: string, bypass: string | undefined) => bypassesProxy(new URL(url), bypass);

describe('bypassesProxy (Chromium bypass rules, nothing implicit)', () => {
  it('sends everything through the proxy without a list, loopback included (launch adds <-loopback>)', () => {
    assert.equal(direct('http://127.0.0.1/', undefined), false);
    assert.equal(direct('http://localhost/', '<-loopback>'), false);
    assert.equal(direct('https://shop.example/', ''), false);
  });

  it('matches exact hosts, leading-dot and wildcard suffixes, case and trailing dot aside', () => {
    const list = 'intranet.corp, .corp.example, *.internal.test';
    assert.equal(direct('http://Intranet.Corp./', list), true);
    assert.equal(direct('http://a.b.corp.example/', list), true);
    assert.equal(direct('http://corp.example/', list), false);
    assert.equal(direct('http://x.internal.test/', list), true);
    assert.equal(direct('http://intranet.corp.evil/', list), false);
  });

  it('matches addresses and ranges only against address literals in the URL, never by resolving names', () => {
    const list = '10.0.0.0/8;192.168.1.5 [::1] fd00::/8';
    assert.equal(direct('http://10.2.3.4/', list), true);
    assert.equal(direct('http://11.2.3.4/', list), false);
    assert.equal(direct('http://192.168.1.5:8080/', list), true);
    assert.equal(direct('http://[::1]/', list), true);
    assert.equal(direct('http://[fd00::5]/', list), true);
    assert.equal(direct('http://ten.example/', list), false);
  });

  it('honours a scheme and a port on a rule, <local> and *', () => {
    assert.equal(direct('https://api.test/', 'https://api.test'), true);
    assert.equal(direct('http://api.test/', 'https://api.test'), false);
    assert.equal(direct('http://api.test:8080/', 'api.test:8080'), true);
    assert.equal(direct('http://api.test/', 'api.test:8080'), false);
    assert.equal(direct('http://api.test/', 'api.test:80'), true);
    assert.equal(direct('http://printer/', '<local>'), true);
    assert.equal(direct('http://printer.corp/', '<local>'), false);
    assert.equal(direct('http://anything.test/', '*'), true);
  });
});
