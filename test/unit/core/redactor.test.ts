import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Redactor, redactedMarker, secretVariants } from '../../../engine/core/redactor.ts';

const secret = 'hunter2-Secret!';
const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

/**
 * Assert the base64 of `prefix + secret + suffix` is masked: one marker, with at most the characters that
 * mix secret bits with the neighbours' bits left on each side.
 */
function assertBase64Masked(redactor: Redactor, prefix: string, value: string, suffix: string): void {
  const encoded = b64(prefix + value + suffix);
  const out = redactor.redact(encoded);
  const index = out.indexOf(redactedMarker);
  assert.ok(index >= 0, `not masked: ${encoded} (prefix ${JSON.stringify(prefix)})`);
  const before = out.slice(0, index);
  const after = out.slice(index + redactedMarker.length);
  assert.ok(encoded.startsWith(before) && encoded.endsWith(after), `unexpected rewrite: ${out}`);
  const p = Buffer.byteLength(prefix);
  const n = Buffer.byteLength(value);
  const firstSecretChar = Math.floor((p * 4) / 3);
  const endSecretChars = Math.ceil(((p + n) * 4) / 3);
  assert.ok(before.length <= firstSecretChar + 2, `${before.length - firstSecretChar} secret characters left before the marker in ${out}`);
  assert.ok(encoded.length - after.length >= endSecretChars - 2, `too much left after the marker in ${out}`);
}

describe('Redactor', () => {
  it('masks the secret as typed, everywhere it occurs', () => {
    const redactor = new Redactor([secret]);
    assert.equal(redactor.redact(`a ${secret} b ${secret}`), `a ${redactedMarker} b ${redactedMarker}`);
  });

  it('leaves text without secrets unchanged', () => {
    assert.equal(new Redactor([secret]).redact('hunter2 Secret'), 'hunter2 Secret');
  });

  it('masks URL-encoded forms (percent and plus for spaces, and encodeURI)', () => {
    const value = 'p@ss w/rd&x';
    const redactor = new Redactor([value]);
    assert.equal(redactor.redact('?pw=p%40ss%20w%2Frd%26x&u=1'), `?pw=${redactedMarker}&u=1`);
    assert.equal(redactor.redact('pw=p%40ss+w%2Frd%26x'), `pw=${redactedMarker}`);
    assert.equal(redactor.redact('http://h/p@ss%20w/rd&x'), `http://h/${redactedMarker}`);
  });

  it('masks the JSON-escaped form, also when JSON is nested in a JSON string', () => {
    const value = 'say "hi" \\ now';
    const redactor = new Redactor([value]);
    const once = JSON.stringify({ body: value });
    assert.equal(redactor.redact(once), `{"body":"${redactedMarker}"}`);
    const twice = JSON.stringify({ log: once });
    assert.equal(redactor.redact(twice), `{"log":"{\\"body\\":\\"${redactedMarker}\\"}"}`);
  });

  it('masks the HTML-escaped form', () => {
    const value = `<b>&"'x`;
    assert.equal(new Redactor([value]).redact('<td>&lt;b&gt;&amp;&quot;&#39;x</td>'), `<td>${redactedMarker}</td>`);
  });

  it('masks the base64 and base64url of the secret alone', () => {
    const value = 'a?b>c~d';
    const redactor = new Redactor([value]);
    assert.equal(redactor.redact(`x ${b64(value)} y`), `x ${redactedMarker} y`);
    assert.equal(redactor.redact(Buffer.from(value).toString('base64url')), redactedMarker);
  });

  for (const prefix of ['', 'u', 'us', 'use', 'user', 'user:', 'monitor:']) {
    it(`masks the secret inside a longer base64 string after ${JSON.stringify(prefix)} (${Buffer.byteLength(prefix) % 3} bytes off alignment)`, () => {
      assertBase64Masked(new Redactor([secret]), prefix, secret, '');
      assertBase64Masked(new Redactor([secret]), prefix, secret, '@host');
    });
  }

  it('masks a multi-byte UTF-8 secret in base64 at every alignment', () => {
    const value = 'pässwörd€42';
    const redactor = new Redactor([value]);
    for (const prefix of ['', 'a', 'ab']) assertBase64Masked(redactor, prefix, value, 'z');
  });

  it('masks a basic-auth header made of user:password', () => {
    const header = `Authorization: Basic ${b64(`monitor:${secret}`)}`;
    const out = new Redactor([secret]).redact(header);
    assert.ok(out.includes(redactedMarker), out);
    assert.ok(!out.includes(b64(`monitor:${secret}`)), out);
  });

  it('replaces the longer of two overlapping secrets whole', () => {
    const redactor = new Redactor(['abc123', 'abc123456']);
    assert.equal(redactor.redact('id=abc123456 and abc123'), `id=${redactedMarker} and ${redactedMarker}`);
  });

  it('ignores an empty secret', () => {
    const redactor = new Redactor(['']);
    assert.equal(redactor.size, 0);
    assert.equal(redactor.redact('anything'), 'anything');
    redactor.add('');
    assert.equal(redactor.size, 0);
  });

  it('starts masking a secret added later', () => {
    const redactor = new Redactor();
    assert.equal(redactor.redact(secret), secret);
    redactor.add(secret);
    assert.equal(redactor.redact(secret), redactedMarker);
  });

  it('keeps JSON valid when redacting deep values, keys included', () => {
    const value = 'pa"ss\\word<&>';
    const redactor = new Redactor([value]);
    const input = { steps: [{ error: { message: `login with ${value} failed` } }], [value]: 1, nested: [[`${value}`]], n: 5, ok: true, none: null };
    const out = redactor.redactDeep(input);
    assert.deepEqual(out, {
      steps: [{ error: { message: `login with ${redactedMarker} failed` } }],
      [redactedMarker]: 1,
      nested: [[redactedMarker]],
      n: 5,
      ok: true,
      none: null,
    });
    assert.equal(input.steps[0]?.error.message, `login with ${value} failed`, 'input must not be modified');
  });

  it('returns the same value when there is nothing to mask', () => {
    const value = { a: 1 };
    assert.equal(new Redactor().redactDeep(value), value);
  });

  it('keeps JSON valid for a secret that ends in a quote or a backslash', () => {
    assert.deepEqual(new Redactor(['b"']).redactDeep({ k: 'ab', z: 1 }), { k: 'ab', z: 1 });
    assert.deepEqual(new Redactor(['a\\']).redactDeep({ k: 'a"' }), { k: 'a"' });
    assert.deepEqual(new Redactor(['"sta']).redactDeep({ status: 'passed' }), { status: 'passed' });
  });
});

describe('Redactor: every form Chromium, the HAR and the reports write', () => {
  const tricky = `it's "q"{x} a&b<c>d+e/f\\g é€😀`;
  const redactor = new Redactor([tricky]);
  const html = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
  const forms: Record<string, string> = {
    "Chromium's query encoding (' as %27, { as is)": new URL(`http://h/?k=${tricky}`).search.slice(3),
    "Chromium's path encoding": new URL(`http://h/${tricky}`).pathname.slice(1),
    "Chromium's fragment encoding": new URL(`http://h/#${tricky}`).hash.slice(1),
    'form encoding (+ for space, %27)': new URLSearchParams({ k: tricky }).toString().slice(2),
    'lower-case percent-escapes': encodeURIComponent(tricky).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()),
    'percent-encoded twice': encodeURIComponent(encodeURIComponent(tricky)),
    'HTML-escaped query string': html(new URL(`http://h/?k=${tricky}`).search.slice(3)),
    'hex and decimal character references': [...tricky].map((c, i) => (i % 2 === 0 ? `&#x${(c.codePointAt(0) ?? 0).toString(16)};` : `&#${c.codePointAt(0) ?? 0};`)).join(''),
    'JSON with \\u escapes for non-ASCII and markup': JSON.stringify(tricky).slice(1, -1).replace(/[^\x20-\x7e]|[<>&']/g, (c) => [...c].map((u) => `\\u${u.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')),
    'HTML-escaped JSON': html(JSON.stringify(tricky).slice(1, -1)),
    'UTF-8 bytes read as Latin-1 (a header value in DevTools)': Buffer.from(tricky, 'utf8').toString('latin1'),
    'UTF-8 bytes read as Windows-1252': new TextDecoder('windows-1252').decode(Buffer.from(tricky, 'utf8')),
  };
  for (const [name, encoded] of Object.entries(forms)) {
    it(`masks the ${name} form`, () => {
      const out = redactor.redact(`before ${encoded} after`);
      assert.equal(out, `before ${redactedMarker} after`, `${encoded} → ${out}`);
    });
  }

  it('masks a secret inside a basic auth header at any offset', () => {
    const header = `Basic ${Buffer.from(`monitor:${tricky}`).toString('base64')}`;
    assert.ok(!redactor.redact(header).includes(Buffer.from(tricky).toString('base64').slice(4, 20)));
  });

  it('does not mask text that only shares characters with the secret', () => {
    const text = `it's "q" a&b and é€ here`;
    assert.equal(redactor.redact(text), text);
  });
});

describe('secretVariants', () => {
  it('lists the plain, encoded and escaped forms without empties or duplicates', () => {
    const variants = secretVariants('a b');
    assert.ok(variants.includes('a b'));
    assert.ok(variants.includes('a%20b'));
    assert.ok(variants.includes('a+b'));
    assert.ok(variants.includes(b64('a b')));
    assert.equal(new Set(variants).size, variants.length);
    assert.ok(variants.every((v) => v.length > 0));
  });

  it('adds no base64 forms for secrets shorter than 3 bytes', () => {
    assert.deepEqual(secretVariants('ab'), ['ab']);
  });
});
