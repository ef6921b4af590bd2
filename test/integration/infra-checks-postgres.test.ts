// The postgres check against a real PostgreSQL 15 started in a temp directory (TLS with a test CA, SCRAM logins).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { postgresCheck } from '../../engine/checks/postgres.ts';
import { postgresCheckSchema } from '../../engine/schema/checks/postgres.ts';
import { makeTestPki, type TestPki } from '../helpers/servers/certificates.ts';
import { checkEnv } from '../helpers/servers/check-env.ts';
import { assertFailed, assertNoSecret, assertPassed } from '../helpers/servers/outcome.ts';
import { freePort } from '../helpers/servers/ports.ts';
import { postgresMissing, startPostgres, type PostgresServer } from '../helpers/servers/postgres.ts';
import { makeTempDir } from '../helpers/servers/temp-dir.ts';

describe('postgres check', { skip: postgresMissing() }, () => {
  const dir = makeTempDir('pg-pki');
  let pki: TestPki;
  let server: PostgresServer;
  before(async () => {
    pki = makeTestPki(dir.path);
    server = await startPostgres(pki.server);
  });
  after(async () => {
    await server?.stop();
    dir.remove();
  });
  const spec = (extra: Record<string, unknown> = {}) => postgresCheckSchema.parse({ host: 'localhost', port: server.port, username: server.user, password: server.password, database: server.database, ...extra });
  const env = () => checkEnv({ caCertificates: [pki.caCert] });

  test('verified TLS, login and a query with the expected value', async () => {
    const outcome = await postgresCheck.run(spec({ query: 'select count(*) from pg_database where datname = $$postgres$$', expect: { rowCount: 1, firstValue: 1 } }), env());
    assertPassed(outcome, ['dnsMs', 'connectMs', 'tlsMs', 'authMs', 'queryMs']);
    assert.equal(outcome.details.tlsProtocol, 'TLSv1.3');
    assert.equal(outcome.details.subject, 'CN=localhost');
    assert.match(String(outcome.details.serverVersion), /^15\./);
    assert.equal(outcome.details.firstValue, '1');
    assertNoSecret(outcome, server.password);
  });

  test('without TLS, and by IP address with the certificate name in servername', async () => {
    assertPassed(await postgresCheck.run(spec({ tls: 'disable' }), env()), ['connectMs', 'authMs']);
    assertPassed(await postgresCheck.run(spec({ host: '127.0.0.1', servername: 'localhost' }), env()), ['connectMs', 'tlsMs', 'authMs']);
  });

  test('a wrong password is AUTH_FAILED, and the password is nowhere in the outcome', async () => {
    const outcome = await postgresCheck.run(spec({ password: 'not-the-Password-1' }), env());
    assertFailed(outcome, 'AUTH_FAILED', /^postgres localhost:\d+: login as "monitor" was refused: password authentication failed for user "monitor"$/, ['dnsMs', 'connectMs']);
    assertNoSecret(outcome, 'not-the-Password-1');
  });

  test('a certificate from an unknown CA is TLS_FAILED under verify, accepted under require', async () => {
    const outcome = await postgresCheck.run(spec(), checkEnv());
    assertFailed(outcome, 'TLS_FAILED', /TLS failed while .*: unable to verify the first certificate$/, ['connectMs']);
    assertPassed(await postgresCheck.run(spec({ tls: 'require' }), checkEnv()), ['connectMs', 'authMs']);
  });

  test('a wrong expected value is ASSERTION_FAILED; a broken query too', async () => {
    const wrong = await postgresCheck.run(spec({ query: 'select 41 + 1', expect: { firstValue: '43' } }), env());
    assertFailed(wrong, 'ASSERTION_FAILED', /the query's first value is 42, expected 43$/, ['authMs', 'queryMs']);
    const broken = await postgresCheck.run(spec({ query: 'select * from no_such_table' }), env());
    assertFailed(broken, 'ASSERTION_FAILED', /the query failed: relation "no_such_table" does not exist$/);
  });

  test('a closed port is CONNECT_FAILED; a slow query times out within the deadline', async () => {
    const closed = await postgresCheck.run(spec({ port: await freePort() }), env());
    assertFailed(closed, 'CONNECT_FAILED', /ECONNREFUSED/, ['dnsMs']);
    const startMs = performance.now();
    const slow = await postgresCheck.run(spec({ query: 'select pg_sleep(30)' }), checkEnv({ budgetMs: 1500, caCertificates: [pki.caCert] }));
    assertFailed(slow, 'STEP_TIMEOUT', /no answer within the time limit while running the query$/, ['connectMs', 'authMs']);
    assert.ok(performance.now() - startMs < 10_000);
  });
});
