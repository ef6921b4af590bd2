// The ftp check against vsftpd (explicit and implicit FTPS, anonymous, read-only) started in a temp dir.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ftpCheck } from '../../engine/checks/ftp.ts';
import { ftpCheckSchema } from '../../engine/schema/checks/ftp.ts';
import { makeTestPki, type TestPki } from '../helpers/servers/certificates.ts';
import { checkEnv } from '../helpers/servers/check-env.ts';
import { assertFailed, assertNoSecret, assertPassed } from '../helpers/servers/outcome.ts';
import { freePort } from '../helpers/servers/ports.ts';
import { makeTempDir } from '../helpers/servers/temp-dir.ts';
import { startVsftpd, vsftpdMissing, type FtpServer } from '../helpers/servers/vsftpd.ts';

describe('ftp check', { skip: vsftpdMissing() }, () => {
  const dir = makeTempDir('ftp-pki');
  let pki: TestPki;
  let server: FtpServer;
  before(async () => {
    pki = makeTestPki(dir.path);
    server = await startVsftpd(pki.server);
  });
  after(async () => {
    await server?.stop();
    dir.remove();
  });
  const spec = (extra: Record<string, unknown> = {}) => ftpCheckSchema.parse({ host: 'localhost', port: server.port, ...extra });
  const env = () => checkEnv({ caCertificates: [pki.caCert] });

  test('explicit FTPS, anonymous login and a listing over a protected data connection', async () => {
    const outcome = await ftpCheck.run(spec({ path: '/pub', expect: { contains: 'hello.txt', minEntries: 2 } }), env());
    assertPassed(outcome, ['dnsMs', 'connectMs', 'bannerMs', 'tlsMs', 'authMs', 'transferMs']);
    assert.equal(outcome.details.entries, 2);
    assert.match(String(outcome.details.banner), /^220/);
    assert.equal(outcome.details.subject, 'CN=localhost');
  });

  test('implicit FTPS downloads a file with the expected size and text; plain FTP too', async () => {
    const implicit = await ftpCheck.run(spec({ port: server.implicitPort, tls: 'implicit', path: '/pub/hello.txt', expect: { sizeBytes: 13, contains: 'hello, ftp' } }), env());
    assertPassed(implicit, ['connectMs', 'bannerMs', 'authMs', 'transferMs']);
    assert.equal(implicit.details.sizeBytes, 13);
    assertPassed(await ftpCheck.run(spec({ tls: 'none', path: '/pub' }), env()), ['connectMs', 'authMs', 'transferMs']);
  });

  test('a refused login is AUTH_FAILED and the password is nowhere in the outcome', async () => {
    const outcome = await ftpCheck.run(spec({ username: 'monitor', password: 'wrong-Ftp-Password-4' }), env());
    assertFailed(outcome, 'AUTH_FAILED', /^ftp localhost:\d+: login as "monitor" was refused \(530 .*\)$/, ['connectMs', 'bannerMs', 'tlsMs']);
    assertNoSecret(outcome, 'wrong-Ftp-Password-4');
  });

  test('an untrusted certificate is TLS_FAILED; a missing file ASSERTION_FAILED; a closed port CONNECT_FAILED', async () => {
    const untrusted = await ftpCheck.run(spec(), checkEnv());
    assertFailed(untrusted, 'TLS_FAILED', /unable to verify the first certificate$/, ['connectMs', 'bannerMs']);
    const missing = await ftpCheck.run(spec({ path: '/pub/nope.txt' }), env());
    assertFailed(missing, 'ASSERTION_FAILED', /\/pub\/nope\.txt cannot be read \(550 .*\)$/, ['authMs']);
    const closed = await ftpCheck.run(spec({ port: await freePort() }), env());
    assertFailed(closed, 'CONNECT_FAILED', /ECONNREFUSED/);
  });
});
