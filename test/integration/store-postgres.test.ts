// What only the PostgreSQL store has to get right, on a real PostgreSQL 15: exactly-once results across
// replicas (two pools), lease fencing of scheduler decisions, migrations by replicas starting at once, TLS from
// the URL, and connection errors that never show the password.
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { after, before, describe, test, type TestContext } from 'node:test';
import pg from 'pg';
import { migratePostgres, postgresMigrations } from '../../control-plane/migrations-postgres.ts';
import { FencedError, openPostgresStore, PostgresConnectError, redactPostgresUrl, type PostgresStore } from '../../control-plane/store-postgres.ts';
import type { ResultEnvelope } from '../../engine/index.ts';
import { minimalResult } from '../helpers/fake-agent.ts';
import { makeTestPki, type TestPki } from '../helpers/servers/certificates.ts';
import { freePort } from '../helpers/servers/ports.ts';
import { postgresMissing, startPostgres, type PostgresServer } from '../helpers/servers/postgres.ts';
import { makeTempDir } from '../helpers/servers/temp-dir.ts';
import { createDatabase, postgresUrl } from '../helpers/store-backends.ts';

const at = (minutes: number) => new Date(Date.UTC(2026, 0, 1) + minutes * 60_000).toISOString();

function envelope(runId: string): ResultEnvelope {
  return { runId, monitorId: 'm1', attempt: 1, instanceId: 'i1', finishedAt: at(1), result: minimalResult({ runId, status: 'passed' }), artifacts: [] };
}

describe('PostgreSQL store', { skip: postgresMissing() }, () => {
  const dir = makeTempDir('store-postgres');
  let pki: TestPki;
  let server: PostgresServer;
  before(async () => {
    pki = makeTestPki(dir.path);
    server = await startPostgres(pki.server, { maxConnections: 30 });
  });
  after(async () => {
    await server?.stop();
    dir.remove();
  });

  async function open(t: TestContext, url: string, options: Parameters<typeof openPostgresStore>[1] = {}): Promise<PostgresStore> {
    const store = await openPostgresStore(url, { poolSize: 3, ...options });
    t.after(() => store.close());
    return store;
  }

  async function admin(t: TestContext, url: string): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    t.after(() => client.end());
    return client;
  }

  test('two replicas storing the same results at once: one stores each, the other counts a duplicate', async (t) => {
    const url = postgresUrl(server, await createDatabase(server));
    const [replicaA, replicaB] = [await open(t, url), await open(t, url)];
    const dispatched = Array.from({ length: 20 }, (_, index) => `r${index}`);
    for (const runId of dispatched) await replicaA.insertRun({ runId, monitorId: 'm1', checkpoint: 'cp', attempt: 1, instance: 'i1', reason: 'schedule', dispatchedAt: at(0), leaseDeadline: at(5) });
    const unsolicited = Array.from({ length: 10 }, (_, index) => `u${index}`);
    const outcomes = await Promise.all(
      [...dispatched, ...unsolicited].map(async (runId) => {
        const both = await Promise.all([replicaA.storeResult(envelope(runId), 'cp', at(1)), replicaB.storeResult(envelope(runId), 'cp', at(1))]);
        return { runId, stored: both.map((outcome) => outcome.stored).toSorted() };
      }),
    );
    for (const outcome of outcomes) assert.deepEqual(outcome.stored, ['duplicate', 'new'], outcome.runId);
    for (const runId of [...dispatched, ...unsolicited]) assert.equal((await replicaB.getResult(runId))?.duplicates, 1, runId);
    assert.deepEqual(await replicaA.counts(), { runs: 30, results: 30, alerts: 0, artifacts: 0, instances: 0 }, 'one run per unsolicited result, not two');
    assert.equal((await replicaA.undecidedRuns()).length, 20, 'each dispatched run waits for exactly one decision');
  });

  test('fenced: scheduler decisions succeed only while this replica holds the unexpired lease, else change nothing', async (t) => {
    const url = postgresUrl(server, await createDatabase(server));
    const plain = await open(t, url);
    const fenced = await open(t, url, { fence: { lease: 'scheduler', holder: 'replica-a' } });
    const db = await admin(t, url);
    await plain.createCheckpoint('cp', 'h', at(0));
    await plain.insertMonitor({ id: 'm1', name: 'Orders', checkpoint: 'cp', intervalSeconds: 60, enabled: true, script: { name: 'x', steps: [] } }, at(0));
    await plain.insertRun({ runId: 'r0', monitorId: 'm1', checkpoint: 'cp', attempt: 1, instance: 'i1', reason: 'schedule', dispatchedAt: at(0), leaseDeadline: at(5) });
    const decisions = {
      insertRun: () => fenced.insertRun({ runId: 'r1', monitorId: 'm1', checkpoint: 'cp', attempt: 1, instance: 'i1', reason: 'schedule', dispatchedAt: at(1), leaseDeadline: at(6) }),
      insertAlert: () => fenced.insertAlert({ kind: 'monitor-failed', monitorId: 'm1', createdAt: at(1), message: 'Orders failed' }),
      setCheckpointHealth: () => fenced.setCheckpointHealth('cp', 'down'),
      setMonitorHealth: () => fenced.setMonitorHealth('m1', 'failing'),
      setMonitorAlertState: () => fenced.setMonitorAlertState('m1', { consecutiveFailures: 2, lastNotifiedAt: at(1) }),
      markRunLost: () => fenced.markRunLost('r0', 'lease expired'),
    };
    const unchanged = async (why: string) => {
      assert.equal(await plain.getRun('r1'), undefined, `${why}: no run inserted`);
      assert.deepEqual(await plain.listAlerts(10), [], `${why}: no alert`);
      assert.equal((await plain.getCheckpoint('cp'))?.health, 'unknown', why);
      assert.equal((await plain.getMonitor('m1'))?.health, 'ok', why);
      assert.deepEqual(await plain.getMonitorAlertState('m1'), { consecutiveFailures: 0 }, why);
      assert.equal((await plain.getRun('r0'))?.status, 'dispatched', why);
    };
    const refuseAll = async (why: string, message: RegExp) => {
      for (const [name, decide] of Object.entries(decisions)) {
        await assert.rejects(decide(), (error) => error instanceof FencedError && error.code === 'NOT_LEADER' && message.test(error.message), `${why}: ${name}`);
      }
      await unchanged(why);
    };

    await refuseAll('no lease', /lease "scheduler" is not held by anyone/);
    await db.query("INSERT INTO cluster_leases (name, holder, expires_at, term) VALUES ('scheduler', 'replica-b', clock_timestamp() + interval '1 minute', 1)");
    await refuseAll('held by another replica', /held by replica-b/);
    await db.query("UPDATE cluster_leases SET holder = 'replica-a', expires_at = clock_timestamp() - interval '1 second', term = 2");
    await refuseAll('our lease, expired', /expired/);
    assert.equal((await plain.queryRuns({ limit: 10 })).length, 1, 'nothing but the run the unfenced store inserted');

    await db.query("UPDATE cluster_leases SET expires_at = clock_timestamp() + interval '1 minute'");
    for (const decide of Object.values(decisions)) await decide();
    assert.equal((await plain.getRun('r1'))?.status, 'dispatched');
    assert.equal((await plain.listAlerts(10)).length, 1);
    assert.equal((await plain.getCheckpoint('cp'))?.health, 'down');
    assert.equal((await plain.getMonitor('m1'))?.health, 'failing');
    assert.deepEqual(await plain.getMonitorAlertState('m1'), { consecutiveFailures: 2, lastNotifiedAt: at(1) });
    assert.equal((await plain.getRun('r0'))?.status, 'lost');

    // A takeover committing while a decision checks the lease: the decision sees the new holder and is refused.
    await db.query('BEGIN');
    await db.query("UPDATE cluster_leases SET holder = 'replica-b', term = term + 1");
    const racing = fenced.insertAlert({ kind: 'checkpoint-down', checkpoint: 'cp', createdAt: at(2), message: 'cp down' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await db.query('COMMIT');
    await assert.rejects(racing, FencedError);
    assert.equal((await plain.listAlerts(10)).length, 1);
  });

  test('fenced at a term: a scheduler of an earlier grant is refused even when the same replica holds the lease again', async (t) => {
    const url = postgresUrl(server, await createDatabase(server));
    const plain = await open(t, url);
    const fenced = await open(t, url, { fence: { lease: 'scheduler', holder: 'replica-a' } });
    const db = await admin(t, url);
    await plain.createCheckpoint('cp', 'h', at(0));
    await db.query("INSERT INTO cluster_leases (name, holder, expires_at, term) VALUES ('scheduler', 'replica-a', clock_timestamp() + interval '1 minute', 7)");
    const first = fenced.fencedAt?.(7);
    assert.ok(first !== undefined);
    await first.setCheckpointHealth('cp', 'up');
    // The grant lapsed and the same replica took the lease again: a new term, a new scheduler.
    await db.query("UPDATE cluster_leases SET term = 8, expires_at = clock_timestamp() + interval '1 minute'");
    await assert.rejects(first.setCheckpointHealth('cp', 'down'), (error) => error instanceof FencedError && /in term 8, not 7/.test(error.message));
    assert.equal((await plain.getCheckpoint('cp'))?.health, 'up', 'the stale scheduler changed nothing');
    await fenced.fencedAt?.(8).setCheckpointHealth('cp', 'down');
    assert.equal((await plain.getCheckpoint('cp'))?.health, 'down');
    await first.close();
    assert.equal((await plain.getCheckpoint('cp'))?.name, 'cp', 'closing a fenced view leaves the shared pool open');
    await fenced.ping();
  });

  test('replicas starting at once migrate one at a time: every migration runs once', async (t) => {
    const url = postgresUrl(server, await createDatabase(server));
    const stores = await Promise.all(Array.from({ length: 4 }, () => open(t, url, { poolSize: 1 })));
    assert.equal(stores.length, 4);
    const db = await admin(t, url);
    const { rows } = await db.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
    assert.deepEqual(
      rows.map((row) => row.version),
      postgresMigrations.map((_, index) => index + 1),
    );
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      assert.deepEqual(await migratePostgres(client), { applied: [] }, 'an up-to-date database is left alone');
      await assert.rejects(migratePostgres(client, [...postgresMigrations, 'CREATE TABLE broken (']), /syntax error/);
      const after = await client.query<{ version: number }>('SELECT MAX(version) AS version FROM schema_migrations');
      assert.equal(after.rows[0]?.version, postgresMigrations.length, 'a failed migration is rolled back whole');
      await assert.rejects(migratePostgres(client, postgresMigrations.slice(0, 1)), /newer than this control plane knows/);
    } finally {
      await client.end();
    }
  });

  test('a role that only owns its database (no superuser) can migrate and run', async (t) => {
    const db = await admin(t, postgresUrl(server, server.database));
    await db.query("CREATE ROLE cp_owner LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD 'owner-Pass-4'");
    await db.query('CREATE DATABASE cp_owned OWNER cp_owner');
    const url = `postgres://cp_owner:owner-Pass-4@127.0.0.1:${server.port}/cp_owned`;
    const store = await open(t, url);
    await store.insertRun({ runId: 'r1', monitorId: 'm1', checkpoint: 'cp', attempt: 1, instance: 'i1', reason: 'schedule', dispatchedAt: at(0), leaseDeadline: at(5) });
    assert.equal((await store.storeResult(envelope('r1'), 'cp', at(1))).stored, 'new');
    assert.equal(typeof (await store.insertAlert({ kind: 'monitor-failed', monitorId: 'm1', createdAt: at(1), message: 'x' })).id, 'number');
  });

  test('the statement timeout ends a statement stuck behind a lock instead of holding its connection', async (t) => {
    const url = postgresUrl(server, await createDatabase(server));
    const store = await open(t, url, { statementTimeoutMs: 1000 });
    await store.insertRun({ runId: 'r1', monitorId: 'm1', checkpoint: 'cp', attempt: 1, instance: 'i1', reason: 'schedule', dispatchedAt: at(0), leaseDeadline: at(5) });
    const db = await admin(t, url);
    await db.query('BEGIN');
    await db.query("SELECT * FROM runs WHERE run_id = 'r1' FOR UPDATE");
    await assert.rejects(store.markRunLost('r1', 'lease expired'), /statement timeout/);
    await db.query('ROLLBACK');
    await store.markRunLost('r1', 'lease expired');
    assert.equal((await store.getRun('r1'))?.status, 'lost', 'the pool still works after the timeout');
  });

  test('TLS from the URL: sslmode=verify-full with sslrootcert verifies the server; without the CA the error says why', async (t) => {
    const database = await createDatabase(server);
    const url = postgresUrl(server, database, `sslmode=verify-full&sslrootcert=${encodeURIComponent(pki.caCertPath)}`);
    const store = await open(t, url, { applicationName: 'checkpoint-tls-test' });
    await store.ping();
    const db = await admin(t, postgresUrl(server, database));
    const { rows } = await db.query<{ ssl: boolean }>("SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'checkpoint-tls-test'");
    assert.ok(rows.length > 0 && rows.every((row) => row.ssl), 'the store connected with TLS, under its application_name');
    const untrusted = postgresUrl(server, database, 'sslmode=verify-full');
    await assert.rejects(openPostgresStore(untrusted), (error) => error instanceof PostgresConnectError && error.code === 'CONNECT_FAILED' && /certificate/.test(error.message));
  });

  test('a refused login or an unreachable server: a clear error naming the URL without its password', async () => {
    const wrong = 'wrong-Pass-9f3';
    const cases = [
      { url: `postgres://monitor:${wrong}@127.0.0.1:${server.port}/postgres`, code: 'AUTH_FAILED', message: /PostgreSQL at postgres:\/\/monitor:\*\*\*@127\.0\.0\.1:\d+\/postgres refused the login: password authentication failed/ },
      { url: `postgres://monitor@127.0.0.1:${server.port}/postgres?password=${wrong}`, code: 'AUTH_FAILED', message: /\?password=\*\*\* refused the login/ },
      { url: `postgres://monitor:${server.password}@127.0.0.1:${server.port}/no_such_db`, code: 'AUTH_FAILED', message: /no_such_db.*does not exist \(3D000\)/ },
      { url: `postgres://monitor:${wrong}@127.0.0.1:${await freePort()}/postgres`, code: 'CONNECT_FAILED', message: /cannot connect to PostgreSQL at postgres:\/\/monitor:\*\*\*@127\.0\.0\.1:\d+\/postgres: .*ECONNREFUSED/ },
    ];
    for (const { url, code, message } of cases) {
      const error: unknown = await openPostgresStore(url, { connectTimeoutMs: 5000 }).then(
        () => undefined,
        (failure: unknown) => failure,
      );
      assert.ok(error instanceof PostgresConnectError, `${url}: ${String(error)}`);
      assert.equal(error.code, code);
      assert.match(error.message, message);
      const shown = inspect(error, { depth: 10 }) + String(error.stack);
      assert.ok(!shown.includes(wrong) && !shown.includes(server.password), `no password in: ${shown}`);
    }
  });

  test('redactPostgresUrl hides the password in valid and malformed URLs alike', () => {
    assert.equal(redactPostgresUrl('postgres://u:s3cret@db.example:5432/cp?sslmode=verify-full'), 'postgres://u:***@db.example:5432/cp?sslmode=verify-full');
    assert.equal(redactPostgresUrl('postgres://u:p%40ss@db/cp'), 'postgres://u:***@db/cp');
    assert.equal(redactPostgresUrl('postgres://u@db/cp?application_name=x&password=s3cret'), 'postgres://u@db/cp?application_name=x&password=***');
    assert.equal(redactPostgresUrl('postgres://db/cp'), 'postgres://db/cp');
    assert.equal(redactPostgresUrl('postgres://u:se cret@db:notaport/cp'), 'postgres://u:***@db:notaport/cp');
    assert.equal(redactPostgresUrl('postgres://u@db:x/cp?password=s3 cret&ssl=1'), 'postgres://u@db:x/cp?password=***&ssl=1');
  });
});
