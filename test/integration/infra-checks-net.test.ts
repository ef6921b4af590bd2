// TCP, DNS, TLS and SMTP checks against real servers on 127.0.0.1: Node TCP/TLS servers with a CA made by
// openssl, dnsmasq, and smtp-server (the nodemailer project's SMTP server library).
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { dnsCheck } from '../../engine/checks/dns.ts';
import { smtpCheck } from '../../engine/checks/smtp.ts';
import { tcpCheck } from '../../engine/checks/tcp.ts';
import { tlsCheck } from '../../engine/checks/tls.ts';
import { dnsCheckSchema } from '../../engine/schema/checks/dns.ts';
import { smtpCheckSchema } from '../../engine/schema/checks/smtp.ts';
import { tcpCheckSchema } from '../../engine/schema/checks/tcp.ts';
import { tlsCheckSchema } from '../../engine/schema/checks/tls.ts';
import { makeTestPki, type CertificatePair, type TestPki } from '../helpers/servers/certificates.ts';
import { checkEnv } from '../helpers/servers/check-env.ts';
import { dnsmasqMissing, startDnsmasq, type DnsServer } from '../helpers/servers/dnsmasq.ts';
import { assertFailed, assertNoSecret, assertPassed } from '../helpers/servers/outcome.ts';
import { freePort } from '../helpers/servers/ports.ts';
import { makeTempDir } from '../helpers/servers/temp-dir.ts';

function listen(server: Server | TlsServer): Promise<number> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : 0);
    });
  });
}

const close = (server: { close(callback: () => void): unknown }) => new Promise<void>((resolve) => server.close(() => resolve()));

describe('tcp check', () => {
  let bannerPort = 0;
  let silentPort = 0;
  const servers: Server[] = [];
  before(async () => {
    const banner = createServer((socket) => {
      socket.write('220 test-banner ready\r\n');
      socket.on('data', (chunk) => {
        if (chunk.toString().startsWith('PING')) socket.write('PONG\r\n');
      });
      socket.on('error', () => {});
    });
    // Accepts and never says a word: the timeout case.
    const silent = createServer((socket) => socket.on('error', () => {}));
    servers.push(banner, silent);
    bannerPort = await listen(banner);
    silentPort = await listen(silent);
  });
  after(async () => {
    
    await Promise.all(servers.map(close));
  });

  test('connects and matches the banner and the answer to what it sent', async () => {
    const outcome = await tcpCheck.run(tcpCheckSchema.parse({ host: '127.0.0.1', port: bannerPort, send: 'PING\r\n', expect: { contains: 'PONG' } }), checkEnv());
    assertPassed(outcome, ['dnsMs', 'connectMs', 'bannerMs']);
    assert.match(String(outcome.details.banner), /test-banner ready.*PONG/);
    const banner = await tcpCheck.run(tcpCheckSchema.parse({ host: 'localhost', port: bannerPort, expect: { matches: '^220 ' } }), checkEnv());
    assertPassed(banner, ['dnsMs', 'connectMs', 'bannerMs']);
  });

  test('a closed port is CONNECT_FAILED', async () => {
    const port = await freePort();
    const outcome = await tcpCheck.run(tcpCheckSchema.parse({ host: '127.0.0.1', port }), checkEnv());
    assertFailed(outcome, 'CONNECT_FAILED', new RegExp(`^tcp 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`), ['dnsMs']);
    assert.equal(outcome.phases.connectMs, undefined, 'no connect time for a refused connection');
  });

  test('a banner that says something else is ASSERTION_FAILED with what it said', async () => {
    const outcome = await tcpCheck.run(tcpCheckSchema.parse({ host: '127.0.0.1', port: bannerPort, expect: { contains: 'SSH-2.0' } }), checkEnv({ budgetMs: 1500 }));
    assertFailed(outcome, 'ASSERTION_FAILED', /"220 test-banner ready" does not contain "SSH-2\.0"/, ['dnsMs', 'connectMs']);
  });

  test('a silent server times out within the deadline', async () => {
    const startMs = performance.now();
    const outcome = await tcpCheck.run(tcpCheckSchema.parse({ host: '127.0.0.1', port: silentPort, expect: { contains: 'hello' } }), checkEnv({ budgetMs: 800 }));
    const tookMs = performance.now() - startMs;
    assertFailed(outcome, 'STEP_TIMEOUT', /no answer within the time limit while waiting for the expected text/, ['connectMs']);
    assert.ok(tookMs < 10_000, `returned ${Math.round(tookMs)} ms after a 800 ms deadline`);
  });
});

describe('dns check', { skip: dnsmasqMissing() }, () => {
  let dns: DnsServer;
  before(async () => {
    dns = await startDnsmasq();
  });
  after(() => dns?.stop());

  test('each record type is answered in its one-line form and matches the expectation', async () => {
    const cases = [
      { name: 'db.test.checkpoint', recordType: 'A', answer: '192.0.2.20' },
      { name: 'db.test.checkpoint', recordType: 'AAAA', answer: '2001:db8::20' },
      { name: 'test.checkpoint', recordType: 'MX', answer: '10 mail.test.checkpoint' },
      { name: 'test.checkpoint', recordType: 'TXT', answer: 'v=spf1 -all' },
      { name: '_imaps._tcp.test.checkpoint', recordType: 'SRV', answer: '0 5 993 mail.test.checkpoint' },
      { name: 'alias.test.checkpoint', recordType: 'CNAME', answer: 'DB.test.checkpoint.' },
    ];
    for (const { name, recordType, answer } of cases) {
      const outcome = await dnsCheck.run(dnsCheckSchema.parse({ query: name, recordType, server: dns.server, expect: { contains: [answer] } }), checkEnv());
      assertPassed(outcome, ['dnsMs']);
      assert.equal(outcome.details.answerCount, 1, `${recordType}: ${JSON.stringify(outcome.details)}`);
    }
  });

  test('a wrong expected answer is ASSERTION_FAILED naming what came back', async () => {
    const outcome = await dnsCheck.run(dnsCheckSchema.parse({ query: 'www.test.checkpoint', server: dns.server, expect: { equals: ['192.0.2.99'] } }), checkEnv());
    assertFailed(outcome, 'ASSERTION_FAILED', /^dns A www\.test\.checkpoint @127\.0\.0\.1:\d+: answers 192\.0\.2\.10, expected exactly 192\.0\.2\.99$/, ['dnsMs']);
    assert.equal(outcome.details.answers, '192.0.2.10');
  });

  test('a name that does not exist is DNS_FAILED', async () => {
    const outcome = await dnsCheck.run(dnsCheckSchema.parse({ query: 'missing.test.checkpoint', server: dns.server }), checkEnv());
    assertFailed(outcome, 'DNS_FAILED', /missing\.test\.checkpoint does not exist \(NXDOMAIN\)|has no A records/);
  });

  test('a server that does not answer is DNS_FAILED or a timeout, within the deadline', async () => {
    const port = await freePort({ udp: true });
    const startMs = performance.now();
    const outcome = await dnsCheck.run(dnsCheckSchema.parse({ query: 'www.test.checkpoint', server: `127.0.0.1:${port}` }), checkEnv({ budgetMs: 1500 }));
    assert.ok(performance.now() - startMs < 10_000);
    assert.ok(outcome.error !== undefined && ['DNS_FAILED', 'STEP_TIMEOUT'].includes(outcome.error.code), JSON.stringify(outcome.error?.message));
  });
});

describe('tls check', () => {
  const dir = makeTempDir('tls');
  let pki: TestPki;
  const ports: Record<string, number> = {};
  const servers: TlsServer[] = [];
  before(async () => {
    pki = makeTestPki(dir.path);
    const serve = async (name: string, pair: CertificatePair, options: { maxVersion?: 'TLSv1.2' } = {}) => {
      const server = createTlsServer({ cert: pair.cert, key: pair.key, ...options }, (socket) => {
        socket.on('error', () => {});
        socket.end();
      });
      server.on('tlsClientError', () => {});
      servers.push(server);
      ports[name] = await listen(server);
    };
    await serve('good', pki.server);
    await serve('expired', pki.expired);
    await serve('wrongHost', pki.wrongHost);
    await serve('soon', pki.expiringSoon);
    await serve('tls12', pki.server, { maxVersion: 'TLSv1.2' });
  });
  after(async () => {
    await Promise.all(servers.map(close));
    dir.remove();
  });
  const run = (port: number | undefined, extra: Record<string, unknown> = {}) =>
    tlsCheck.run(tlsCheckSchema.parse({ host: 'localhost', port, ...extra }), checkEnv({ caCertificates: [pki.caCert] }));

  test('a valid certificate passes with its details', async () => {
    const outcome = await run(ports.good);
    assertPassed(outcome, ['dnsMs', 'connectMs', 'tlsMs']);
    assert.equal(outcome.details.subject, 'CN=localhost');
    assert.equal(outcome.details.issuer, 'CN=Checkpoint Test CA');
    assert.equal(outcome.details.protocol, 'TLSv1.3');
    assert.ok(Number(outcome.details.daysLeft) >= 363 && Number(outcome.details.daysLeft) <= 365, String(outcome.details.daysLeft));
    assert.deepEqual(outcome.warnings, []);
  });

  test('without the checkpoint CA the chain is not trusted: TLS_FAILED', async () => {
    const outcome = await tlsCheck.run(tlsCheckSchema.parse({ host: 'localhost', port: ports.good }), checkEnv());
    assertFailed(outcome, 'TLS_FAILED', /the certificate chain is not trusted \(UNABLE_TO_VERIFY_LEAF_SIGNATURE|unable to (get|verify)/i, ['connectMs', 'tlsMs']);
  });

  test('an expired certificate is CERTIFICATE_EXPIRING with the date', async () => {
    const outcome = await run(ports.expired);
    assertFailed(outcome, 'CERTIFICATE_EXPIRING', /^tls localhost:\d+: the certificate expired on \d{4}-\d\d-\d\dT.* \(3[45] days ago\)$/, ['connectMs', 'tlsMs']);
    assert.ok(Number(outcome.details.daysLeft) < 0);
  });

  test('a certificate for another host is TLS_FAILED', async () => {
    const outcome = await run(ports.wrongHost);
    assertFailed(outcome, 'TLS_FAILED', /the certificate is not for localhost \(DNS:wrong\.example\)/, ['tlsMs']);
    const unchecked = await run(ports.wrongHost, { checkHostname: false });
    assertPassed(unchecked, ['tlsMs']);
  });

  test('inside the warning days is a warning; inside the error days a failure', async () => {
    const warned = await run(ports.soon);
    assertPassed(warned, ['tlsMs']);
    assert.equal(warned.warnings.length, 1);
    assert.match(warned.warnings[0]?.message ?? '', /expires in 10 days.*\(warning at 30 days\)/);
    const failed = await run(ports.soon, { errorDays: 14 });
    assertFailed(failed, 'CERTIFICATE_EXPIRING', /expires in 10 days.*\(error at 14 days\)/);
  });

  test('a protocol below the minimum is TLS_FAILED', async () => {
    const outcome = await run(ports.tls12, { minProtocol: 'TLSv1.3' });
    assertFailed(outcome, 'TLS_FAILED', /negotiated TLSv1\.2, below the minimum TLSv1\.3/);
  });
});

describe('smtp check', () => {
  const dir = makeTempDir('smtp');
  let pki: TestPki;
  let startTlsPort = 0;
  let implicitPort = 0;
  let plainOnlyPort = 0;
  const servers: SMTPServer[] = [];
  const password = 'smtp-Secret-42';
  before(async () => {
    pki = makeTestPki(dir.path);
    const onAuth: NonNullable<SMTPServerOptions['onAuth']> = (auth, _session, callback) => {
      if (auth.username === 'monitor' && auth.password === password) callback(null, { user: 'monitor' });
      else callback(new Error('Invalid username or password'));
    };
    const start = (options: SMTPServerOptions) =>
      new Promise<number>((resolve) => {
        const server = new SMTPServer({ banner: 'checkpoint test mail', key: pki.server.key, cert: pki.server.cert, authMethods: ['PLAIN', 'LOGIN'], onAuth, logger: false, ...options });
        server.on('error', () => {});
        servers.push(server);
        server.listen(0, '127.0.0.1', () => {
          const address = server.server.address();
          resolve(typeof address === 'object' && address !== null ? address.port : 0);
        });
      });
    startTlsPort = await start({});
    implicitPort = await start({ secure: true });
    plainOnlyPort = await start({ disabledCommands: ['STARTTLS'], authOptional: true });
  });
  after(async () => {
    await Promise.all(servers.map(close));
    dir.remove();
  });
  const env = () => checkEnv({ caCertificates: [pki.caCert] });

  test('STARTTLS and AUTH pass, with the greeting and phases', async () => {
    const outcome = await smtpCheck.run(smtpCheckSchema.parse({ host: 'localhost', port: startTlsPort, username: 'monitor', password, expectBanner: { contains: 'checkpoint test mail' } }), env());
    assertPassed(outcome, ['dnsMs', 'connectMs', 'bannerMs', 'tlsMs', 'authMs']);
    assert.equal(outcome.details.secure, true);
    assert.equal(outcome.details.authenticated, true);
    assert.match(String(outcome.details.banner), /^220 .*checkpoint test mail/);
    assert.equal(outcome.details.subject, 'CN=localhost', 'the STARTTLS certificate is shown');
  });

  test('implicit TLS passes with the TLS details', async () => {
    const outcome = await smtpCheck.run(smtpCheckSchema.parse({ host: '127.0.0.1', servername: 'localhost', port: implicitPort, tls: 'implicit', username: 'monitor', password }), env());
    assertPassed(outcome, ['connectMs', 'tlsMs', 'bannerMs', 'authMs']);
    assert.equal(outcome.details.subject, 'CN=localhost');
  });

  test('a wrong password is AUTH_FAILED and the password appears nowhere', async () => {
    const outcome = await smtpCheck.run(smtpCheckSchema.parse({ host: 'localhost', port: startTlsPort, username: 'monitor', password: 'wrong-Secret-99' }), env());
    assertFailed(outcome, 'AUTH_FAILED', /^smtp localhost:\d+: login as "monitor" was refused \(535 .*\)$/, ['connectMs', 'bannerMs', 'tlsMs']);
    assertNoSecret(outcome, 'wrong-Secret-99');
  });

  test('an untrusted certificate is TLS_FAILED; a server without STARTTLS too', async () => {
    const untrusted = await smtpCheck.run(smtpCheckSchema.parse({ host: 'localhost', port: startTlsPort }), checkEnv());
    assertFailed(untrusted, 'TLS_FAILED', /TLS failed: unable to verify the first certificate$/, ['connectMs', 'bannerMs']);
    const noStartTls = await smtpCheck.run(smtpCheckSchema.parse({ host: 'localhost', port: plainOnlyPort }), env());
    assertFailed(noStartTls, 'TLS_FAILED', /STARTTLS/);
    const plain = await smtpCheck.run(smtpCheckSchema.parse({ host: 'localhost', port: plainOnlyPort, tls: 'none' }), env());
    assertPassed(plain, ['connectMs', 'bannerMs']);
  });

  test('a greeting that does not say what is expected is ASSERTION_FAILED', async () => {
    const outcome = await smtpCheck.run(smtpCheckSchema.parse({ host: 'localhost', port: startTlsPort, expectBanner: { contains: 'Postfix' } }), env());
    assertFailed(outcome, 'ASSERTION_FAILED', /the greeting ".*checkpoint test mail.*" does not contain "Postfix"/);
  });
});
