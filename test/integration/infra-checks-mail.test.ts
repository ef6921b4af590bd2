// The imap and pop3 checks against a real Dovecot (IMAP and POP3, STARTTLS and implicit TLS, a passwd-file
// user with two messages), started in a temp dir.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { imapCheck } from '../../engine/checks/imap.ts';
import { pop3Check } from '../../engine/checks/pop3.ts';
import { imapCheckSchema } from '../../engine/schema/checks/imap.ts';
import { pop3CheckSchema } from '../../engine/schema/checks/pop3.ts';
import { makeTestPki, type TestPki } from '../helpers/servers/certificates.ts';
import { checkEnv } from '../helpers/servers/check-env.ts';
import { dovecotMissing, startDovecot, type MailServer } from '../helpers/servers/dovecot.ts';
import { assertFailed, assertNoSecret, assertPassed } from '../helpers/servers/outcome.ts';
import { freePort } from '../helpers/servers/ports.ts';
import { makeTempDir } from '../helpers/servers/temp-dir.ts';

describe('imap and pop3 checks (Dovecot)', { skip: dovecotMissing() }, () => {
  const dir = makeTempDir('mail-pki');
  let pki: TestPki;
  let server: MailServer;
  before(async () => {
    pki = makeTestPki(dir.path);
    server = await startDovecot(pki.server);
  });
  after(async () => {
    await server?.stop();
    dir.remove();
  });
  const env = () => checkEnv({ caCertificates: [pki.caCert] });
  const imap = (extra: Record<string, unknown> = {}) => imapCheckSchema.parse({ host: 'localhost', port: server.imapsPort, username: server.user, password: server.password, ...extra });
  const pop3 = (extra: Record<string, unknown> = {}) => pop3CheckSchema.parse({ host: 'localhost', port: server.pop3sPort, username: server.user, password: server.password, ...extra });

  test('imap: implicit TLS, login and the INBOX message count', async () => {
    const outcome = await imapCheck.run(imap({ mailbox: 'INBOX' }), env());
    assertPassed(outcome, ['dnsMs', 'connectMs', 'tlsMs', 'bannerMs', 'authMs', 'queryMs']);
    assert.equal(outcome.details.messages, 2);
    assert.match(String(outcome.details.banner), /^\* OK .*Dovecot/);
    assert.equal(outcome.details.subject, 'CN=localhost');
    assertNoSecret(outcome, server.password);
  });

  test('imap: STARTTLS with login, and without credentials (greeting and STARTTLS only)', async () => {
    const withLogin = await imapCheck.run(imap({ port: server.imapPort, tls: 'starttls' }), env());
    assertPassed(withLogin, ['connectMs', 'bannerMs', 'tlsMs', 'authMs']);
    assert.equal(withLogin.details.tlsProtocol, 'TLSv1.3');
    const probe = await imapCheck.run(imapCheckSchema.parse({ host: 'localhost', port: server.imapPort, tls: 'starttls' }), env());
    assertPassed(probe, ['connectMs', 'bannerMs', 'tlsMs']);
  });

  // Before the failed logins: Dovecot slows down logins from an address that just failed one.
  test('pop3: implicit TLS and STLS, login and the mailbox size', async () => {
    const implicit = await pop3Check.run(pop3(), env());
    assertPassed(implicit, ['dnsMs', 'connectMs', 'tlsMs', 'bannerMs', 'authMs']);
    assert.equal(implicit.details.messages, 2);
    assert.match(String(implicit.details.banner), /^\+OK .*ready/);
    const stls = await pop3Check.run(pop3({ port: server.pop3Port, tls: 'starttls' }), env());
    assertPassed(stls, ['connectMs', 'bannerMs', 'tlsMs', 'authMs']);
    assert.equal(stls.details.tlsProtocol, 'TLSv1.3');
  });

  test('imap: a wrong password is AUTH_FAILED; an untrusted certificate TLS_FAILED; a closed port CONNECT_FAILED', async () => {
    const wrong = await imapCheck.run(imap({ password: 'wrong-Imap-Password-8' }), env());
    assertFailed(wrong, 'AUTH_FAILED', /^imap localhost:\d+: login as "monitor" was refused \(.*\)$/, ['connectMs', 'tlsMs', 'bannerMs']);
    assertNoSecret(wrong, 'wrong-Imap-Password-8');
    const untrusted = await imapCheck.run(imap(), checkEnv());
    assertFailed(untrusted, 'TLS_FAILED', /unable to verify the first certificate$/, ['connectMs']);
    const closed = await imapCheck.run(imap({ port: await freePort() }), env());
    assertFailed(closed, 'CONNECT_FAILED', /ECONNREFUSED/);
  });

  test('pop3: a wrong password is AUTH_FAILED; a wrong host name TLS_FAILED; no password without TLS', async () => {
    const wrong = await pop3Check.run(pop3({ password: 'wrong-Pop-Password-9' }), env());
    assertFailed(wrong, 'AUTH_FAILED', /^pop3 localhost:\d+: login as "monitor" was refused \("-ERR \[AUTH\] Authentication failed\."\)$/, ['connectMs', 'tlsMs', 'bannerMs']);
    assertNoSecret(wrong, 'wrong-Pop-Password-9');
    const wrongName = await pop3Check.run(pop3({ host: '127.0.0.1', servername: 'mail.example' }), env());
    assertFailed(wrongName, 'TLS_FAILED', /Host: mail\.example\. is not in the cert's altnames/, ['connectMs']);
    const plain = await pop3Check.run(pop3({ port: server.pop3Port, tls: 'none' }), env());
    assertFailed(plain, 'SCRIPT_INVALID', /refusing to send a password without TLS/, [], 'script');
  });

  test('a server that does not answer in time: STEP_TIMEOUT within the deadline', async () => {
    const startMs = performance.now();
    // TLS to a port that speaks plain POP3 first: the handshake never completes.
    const outcome = await pop3Check.run(pop3({ port: server.pop3Port, tls: 'implicit' }), checkEnv({ budgetMs: 800, caCertificates: [pki.caCert] }));
    assert.ok(performance.now() - startMs < 10_000);
    assert.ok(outcome.error !== undefined && ['STEP_TIMEOUT', 'TLS_FAILED'].includes(outcome.error.code), outcome.error?.message);
  });
});
