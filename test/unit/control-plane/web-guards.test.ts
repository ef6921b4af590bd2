import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { escapeLogLine, LogLimiter } from '../../../control-plane/log.ts';
import { allowedHostNames, checkHost, checkJsonContentType, checkOrigin, hostnameOf } from '../../../control-plane/origin-guard.ts';
import { RateLimiter } from '../../../control-plane/rate-limit.ts';
import { Sessions } from '../../../control-plane/sessions.ts';

function request(method: string, headers: Record<string, string>): IncomingMessage {
  return { method, headers } as unknown as IncomingMessage;
}

describe('control-plane web guards', () => {
  it('reads host names from Host headers, brackets and ports included, and refuses malformed ones', () => {
    assert.equal(hostnameOf('127.0.0.1:8400'), '127.0.0.1');
    assert.equal(hostnameOf('[::1]:8400'), '[::1]');
    assert.equal(hostnameOf('LocalHost.'), 'localhost');
    assert.equal(hostnameOf('a@b'), undefined);
    assert.equal(hostnameOf('[::1'), undefined);
    assert.equal(hostnameOf(''), undefined);
  });

  it('answers loopback names and the bound address by default, the configured names on request, any with *', () => {
    const allowed = allowedHostNames({ bindHost: '127.0.0.1', extra: ['cp.internal'] });
    assert.ok(allowed !== 'any');
    for (const host of ['localhost:1', '127.0.0.1', '[::1]:2', 'cp.internal:8400']) assert.equal(checkHost(request('GET', { host }), allowed), undefined, host);
    for (const host of ['evil.example', '127.0.0.1.nip.io', 'localhost.evil.example']) assert.match(checkHost(request('GET', { host }), allowed) ?? '', /does not answer to/, host);
    assert.match(checkHost(request('GET', {}), allowed) ?? '', /no valid Host/);
    assert.equal(allowedHostNames({ bindHost: '127.0.0.1', extra: ['*'] }), 'any');
  });

  it('refuses state changes from other origins and other sites, not from clients without Origin', () => {
    const host = '127.0.0.1:8400';
    assert.equal(checkOrigin(request('POST', { host }), 'http'), undefined, 'curl, agents');
    assert.equal(checkOrigin(request('POST', { host, origin: 'http://127.0.0.1:8400', 'sec-fetch-site': 'same-origin' }), 'http'), undefined);
    assert.equal(checkOrigin(request('GET', { host, origin: 'http://evil.example' }), 'http'), undefined, 'reads are not state changes');
    for (const origin of ['http://127.0.0.1:9999', 'http://evil.example', 'https://127.0.0.1:8400', 'null', 'not a url']) {
      assert.ok(checkOrigin(request('POST', { host, origin }), 'http') !== undefined, origin);
    }
    assert.ok(checkOrigin(request('DELETE', { host, 'sec-fetch-site': 'same-site' }), 'http') !== undefined);
    assert.ok(checkOrigin(request('PUT', { host, 'sec-fetch-site': 'cross-site' }), 'http') !== undefined);
    assert.equal(checkOrigin(request('POST', { host: 'cp.example', origin: 'https://cp.example' }), 'https'), undefined, 'default ports match');
  });

  it('requires application/json on bodies of state-changing API calls', () => {
    assert.equal(checkJsonContentType(request('POST', { 'content-type': 'application/json; charset=utf-8', 'content-length': '2' })), undefined);
    assert.equal(checkJsonContentType(request('POST', {})), undefined, 'no body, no type needed');
    assert.match(checkJsonContentType(request('POST', { 'content-length': '2' })) ?? '', /needs Content-Type/);
    assert.match(checkJsonContentType(request('POST', { 'content-type': 'text/plain' })) ?? '', /got "text\/plain"/);
    assert.match(checkJsonContentType(request('PUT', { 'content-type': 'application/x-www-form-urlencoded', 'transfer-encoding': 'chunked' })) ?? '', /expected/);
  });
});

describe('rate limiter', () => {
  it('allows a burst, then one token per interval, with the wait until the next one', () => {
    let now = 0;
    const limiter = new RateLimiter({ perSecond: 2, burst: 3, nowMs: () => now });
    assert.deepEqual([1, 2, 3].map(() => limiter.take('a').ok), [true, true, true]);
    const refused = limiter.take('a');
    assert.deepEqual(refused, { ok: false, retryAfterMs: 500 });
    assert.equal(limiter.take('b').ok, true, 'each key has its own bucket');
    now += 500;
    assert.equal(limiter.take('a').ok, true);
    assert.equal(limiter.take('a').ok, false);
  });

  it('stays bounded whatever the number of keys', () => {
    const limiter = new RateLimiter({ perSecond: 1, burst: 1, nowMs: () => 0, maxKeys: 100 });
    for (let n = 0; n < 10_000; n++) limiter.take(`k${n}`);
    assert.ok(limiter.size <= 100);
  });
});

describe('log lines', () => {
  it('escapes control characters so one event is one line', () => {
    assert.equal(escapeLogLine('a\nb\r\nc\td\\n\u0000\u2028'), 'a\\nb\\r\\nc\\td\\\\n\\u0000\\u2028');
    assert.equal(escapeLogLine('plain: ünïcode ✓'), 'plain: ünïcode ✓');
  });

  it('logs at most N lines per source per window, then a summary', () => {
    let now = 0;
    const lines: string[] = [];
    const limiter = new LogLimiter({ log: (line) => lines.push(line), nowMs: () => now, maxPerWindow: 3, windowMs: 1000 });
    for (let n = 0; n < 100; n++) limiter.log('agent-a', `bad message ${n}`);
    limiter.log('agent-b', 'other source');
    assert.equal(lines.length, 4);
    assert.match(lines[2] ?? '', /further lines from agent-a are suppressed/);
    now = 1000;
    limiter.sweep();
    assert.match(lines.at(-1) ?? '', /agent-a: 97 more similar line\(s\) suppressed/);
  });
});

describe('dashboard sessions', () => {
  it('keeps only a hash of the random cookie, expires idle and old sessions, and checks CSRF tokens', () => {
    let now = 0;
    const sessions = new Sessions({ nowMs: () => now, maxAgeMs: 10_000, idleMs: 4_000 });
    const { cookieValue, session } = sessions.create();
    assert.notEqual(session.idHash, cookieValue);
    assert.equal(sessions.get(cookieValue), session);
    assert.equal(sessions.get('forged'), undefined);
    assert.ok(sessions.csrfValid(session, session.csrfToken));
    assert.ok(!sessions.csrfValid(session, 'guess'));
    assert.ok(!sessions.csrfValid(session, undefined));
    now = 3_999;
    assert.ok(sessions.get(cookieValue) !== undefined, 'used: the idle timer restarts');
    now = 7_998;
    assert.ok(sessions.get(cookieValue) !== undefined);
    now = 10_000;
    assert.equal(sessions.get(cookieValue), undefined, 'too old, however busy');
    const idle = sessions.create();
    now += 4_000;
    assert.equal(sessions.get(idle.cookieValue), undefined, 'idle too long');
    const ended = sessions.create();
    sessions.destroy(ended.cookieValue);
    assert.equal(sessions.get(ended.cookieValue), undefined, 'signed out');
    const token = sessions.loginCsrfToken('pre');
    assert.ok(sessions.loginCsrfValid('pre', token));
    assert.ok(!sessions.loginCsrfValid('other', token));
  });
});
