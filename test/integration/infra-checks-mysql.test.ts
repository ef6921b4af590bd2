// The mysql check against a real MariaDB started in a temp directory (TLS with a test CA, a password login).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { mysqlCheck } from '../../engine/checks/mysql.ts';
import { mysqlCheckSchema } from '../../engine/schema/checks/mysql.ts';
import { makeTestPki, type TestPki } from '../helpers/servers/certificates.ts';
import { checkEnv } from '../helpers/servers/check-env.ts';
import { mariadbMissing, startMariadb, type MariadbServer } from '../helpers/servers/mariadb.ts';
import { assertFailed, assertNoSecret, assertPassed } from '../helpers/servers/outcome.ts';
import { freePort } from '../helpers/servers/ports.ts';
import { makeTempDir } from '../helpers/servers/temp-dir.ts';

describe('mysql check (MariaDB)', { skip: mariadbMissing() }, () => {
  const dir = makeTempDir('maria-pki');
  let pki: TestPki;
  let server: MariadbServer;
  before(async () => {
    pki = makeTestPki(dir.path);
    server = await startMariadb(pki.server);
  });
  after(async () => {
    await server?.stop();
    dir.remove();
  });
  const spec = (extra: Record<string, unknown> = {}) => mysqlCheckSchema.parse({ host: 'localhost', port: server.port, username: server.user, password: server.password, database: server.database, ...extra });
  const env = () => checkEnv({ caCertificates: [pki.caCert] });

  test('verified TLS, login and a query with the expected row count and value', async () => {
    const outcome = await mysqlCheck.run(spec({ query: 'select id from orders order by id', expect: { rowCount: 3, firstValue: 1 } }), env());
    assertPassed(outcome, ['dnsMs', 'connectMs', 'bannerMs', 'authMs', 'queryMs']);
    assert.match(String(outcome.details.tlsProtocol), /^TLSv1\.[23]$/);
    assert.equal(outcome.details.subject, 'CN=localhost');
    assert.match(String(outcome.details.serverVersion), /MariaDB/);
    assert.equal(outcome.details.rowCount, 3);
    assertNoSecret(outcome, server.password);
  });

  test('by IP address with the certificate name in servername; without TLS', async () => {
    assertPassed(await mysqlCheck.run(spec({ host: '127.0.0.1', servername: 'localhost' }), env()), ['connectMs', 'authMs']);
    const plain = await mysqlCheck.run(spec({ tls: 'disable' }), env());
    assertPassed(plain, ['connectMs', 'bannerMs', 'authMs']);
    assert.equal(plain.details.tls, false);
  });

  test('a wrong password is AUTH_FAILED, and the password is nowhere in the outcome', async () => {
    const outcome = await mysqlCheck.run(spec({ password: 'not-the-Password-2' }), env());
    assertFailed(outcome, 'AUTH_FAILED', /^mysql localhost:\d+: login as "monitor" was refused: Access denied for user 'monitor'@'127\.0\.0\.1' \(using password: YES\)$/, ['dnsMs', 'connectMs', 'bannerMs']);
    assertNoSecret(outcome, 'not-the-Password-2');
  });

  test('a certificate from an unknown CA is TLS_FAILED under verify, accepted under require', async () => {
    const outcome = await mysqlCheck.run(spec(), checkEnv());
    assertFailed(outcome, 'TLS_FAILED', /TLS failed while waiting for the handshake and logging in: .*(verify|certificate)/, ['connectMs', 'bannerMs']);
    assertPassed(await mysqlCheck.run(spec({ tls: 'require' }), checkEnv()), ['connectMs', 'authMs']);
  });

  test('a wrong row count is ASSERTION_FAILED; a closed port CONNECT_FAILED; a slow query times out', async () => {
    const wrong = await mysqlCheck.run(spec({ query: 'select id from orders', expect: { minRows: 5 } }), env());
    assertFailed(wrong, 'ASSERTION_FAILED', /the query returned 3 rows, expected at least 5$/, ['authMs', 'queryMs']);
    const closed = await mysqlCheck.run(spec({ port: await freePort() }), env());
    assertFailed(closed, 'CONNECT_FAILED', /ECONNREFUSED/, ['dnsMs']);
    const startMs = performance.now();
    const slow = await mysqlCheck.run(spec({ query: 'select sleep(30)' }), checkEnv({ budgetMs: 1500, caCertificates: [pki.caCert] }));
    assertFailed(slow, 'STEP_TIMEOUT', /no answer within the time limit while running the query$/, ['connectMs', 'authMs']);
    assert.ok(performance.now() - startMs < 10_000);
  });
});
