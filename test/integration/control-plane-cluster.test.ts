// `checkpoint control-plane --database`: bad URLs, an unreachable or refusing database, duplicate replica ids and the
// cluster status, with in-process control planes on a real PostgreSQL 15 (loopback, temp dir).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runControlPlaneCommand } from '../../control-plane/control-plane-command.ts';
import { startControlPlane, type ControlPlane } from '../../control-plane/server.ts';
import { makeTestPki } from '../helpers/servers/certificates.ts';
import { freePort } from '../helpers/servers/ports.ts';
import { postgresMissing, startPostgres, type PostgresServer } from '../helpers/servers/postgres.ts';
import { makeTempDir } from '../helpers/servers/temp-dir.ts';
import { createDatabase, postgresUrl } from '../helpers/store-backends.ts';

/** Runs the command until it exits on its own (bad input, cannot start) or 10 s pass; returns its code and output. */
async function command(options: Parameters<typeof runControlPlaneCommand>[0]): Promise<{ code: number; out: string }> {
  let out = '';
  const io = { stdout: (text: string) => void (out += text), stderr: (text: string) => void (out += text) };
  const stop = new Promise<void>((resolve) => setTimeout(resolve, 10_000).unref());
  const code = await runControlPlaneCommand(options, io, stop);
  return { code, out };
}

describe('control plane on PostgreSQL', { skip: postgresMissing() }, () => {
  const dir = makeTempDir('cp-cluster');
  let server: PostgresServer;
  const planes: ControlPlane[] = [];
  const dirs: ReturnType<typeof makeTempDir>[] = [];
  const dataDir = (name: string) => {
    const made = makeTempDir(name);
    dirs.push(made);
    return made.path;
  };
  before(async () => {
    server = await startPostgres(makeTestPki(dir.path).server, { maxConnections: 40 });
  });
  after(async () => {
    for (const plane of planes) await plane.close();
    for (const made of dirs) made.remove();
    await server?.stop();
    dir.remove();
  });
  const quiet = () => undefined;

  test('a URL that is not postgres:// is refused (exit 2) without echoing it', async () => {
    const { code, out } = await command({ port: 0, data: dir.path, database: 'mysql://root:Hunter2-secret@db/x' });
    assert.equal(code, 2);
    assert.match(out, /--database: expected a postgres:\/\/ or postgresql:\/\/ URL/);
    assert.doesNotMatch(out, /Hunter2-secret/);
  });

  test('a refused login and a closed port exit 3 naming the database, never its password', async () => {
    const wrong = await command({ port: 0, data: dir.path, database: `postgres://${server.user}:Wrong-Secret-9@127.0.0.1:${server.port}/${server.database}` });
    assert.equal(wrong.code, 3);
    assert.match(wrong.out, /postgres:\/\/monitor:\*\*\*@127\.0\.0\.1/);
    assert.doesNotMatch(wrong.out, /Wrong-Secret-9/);
    const closed = await command({ port: 0, data: dir.path, database: `postgres://${server.user}:${server.password}@127.0.0.1:${await freePort()}/x` });
    assert.equal(closed.code, 3);
    assert.doesNotMatch(closed.out, new RegExp(server.password));
  });

  test('two replicas share the database; GET /api/v1/cluster names both and the one that leads; a second replica with a running one`s id is refused', async () => {
    const database = postgresUrl(server, await createDatabase(server));
    const first = await startControlPlane({ dataDir: dataDir('cp-a'), database, replicaId: 'first', leaderLeaseMs: 3000, log: quiet });
    planes.push(first);
    const second = await startControlPlane({ dataDir: dataDir('cp-b'), database, replicaId: 'second', leaderLeaseMs: 3000, log: quiet });
    planes.push(second);
    const status = (await (await fetch(`${second.url}/api/v1/cluster`)).json()) as { mode: string; replica: string; leader: string; replicas: { id: string; alive: boolean; leading: boolean }[] };
    assert.equal(status.mode, 'cluster');
    assert.equal(status.replica, 'second');
    assert.equal(status.leader, 'first', 'the replica that started first leads');
    assert.deepEqual(status.replicas.map((entry) => [entry.id, entry.alive, entry.leading]), [['first', true, true], ['second', true, false]]);
    // Data written through one replica is read through the other.
    const created = await fetch(`${first.url}/api/v1/checkpoints`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"shared"}' });
    assert.equal(created.status, 201);
    assert.equal((await fetch(`${second.url}/api/v1/checkpoints/shared`)).status, 200);
    await assert.rejects(startControlPlane({ dataDir: dataDir('cp-c'), database, replicaId: 'first', leaderLeaseMs: 3000, log: quiet }), /replica id "first" is in use by a running replica/);
  });

  test('alone on SQLite, GET /api/v1/cluster says single', async () => {
    const alone = await startControlPlane({ dataDir: dataDir('cp-single'), log: quiet });
    planes.push(alone);
    assert.deepEqual(await (await fetch(`${alone.url}/api/v1/cluster`)).json(), { mode: 'single', replicas: [] });
  });
});
