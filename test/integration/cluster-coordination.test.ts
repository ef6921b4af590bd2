// The leader lease and the message bus of control-plane replicas, on a real PostgreSQL 15 (loopback, temp dir).
import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { ClusterBus } from '../../control-plane/cluster/bus.ts';
import { LeaderLease } from '../../control-plane/cluster/lease.ts';
import { migratePostgres } from '../../control-plane/migrations-postgres.ts';
import { makeTestPki } from '../helpers/servers/certificates.ts';
import { postgresMissing, startPostgres, type PostgresServer } from '../helpers/servers/postgres.ts';
import { makeTempDir } from '../helpers/servers/temp-dir.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('cluster coordination on PostgreSQL', { skip: postgresMissing() }, () => {
  const dir = makeTempDir('cluster-pg');
  let server: PostgresServer;
  let config: pg.ClientConfig;
  const pools: pg.Pool[] = [];
  const pool = () => {
    const created = new pg.Pool({ ...config, max: 3, idleTimeoutMillis: 200 });
    created.on('error', () => undefined);
    pools.push(created);
    return created;
  };

  before(async () => {
    server = await startPostgres(makeTestPki(dir.path).server);
    config = { host: '127.0.0.1', port: server.port, user: server.user, password: server.password, database: server.database };
    const setup = new pg.Client(config);
    await setup.connect();
    await migratePostgres(setup);
    await setup.end();
  });
  after(async () => {
    for (const created of pools) await created.end().catch(() => undefined);
    await server?.stop();
    dir.remove();
  });

  function lease(name: string, holder: string, on: pg.Pool, events: string[], ttlMs = 1500) {
    return new LeaderLease({
      pool: on,
      name,
      holder,
      ttlMs,
      renewEveryMs: 200,
      nowMs: () => performance.now(),
      log: () => undefined,
      gained: (term) => {
        events.push(`${holder} gained ${term}`);
      },
      lost: (reason) => {
        events.push(`${holder} lost: ${reason}`);
      },
    });
  }

  test('exactly one of two replicas leads; a graceful stop hands over at once with a higher term', async () => {
    const events: string[] = [];
    const a = lease('handover', 'a', pool(), events);
    const b = lease('handover', 'b', pool(), events);
    await Promise.all([a.start(), b.start()]);
    await sleep(600);
    assert.equal([a.held, b.held].filter(Boolean).length, 1, `one leader: ${events.join('; ')}`);
    const [leader, follower] = a.held ? [a, b] : [b, a];
    const firstTerm = leader.term ?? 0;
    await leader.stop();
    assert.equal(leader.held, false);
    await until('the follower to take over', () => follower.held, 3000);
    assert.ok((follower.term ?? 0) > firstTerm, `term ${follower.term} after ${firstTerm}`);
    assert.equal(events.filter((event) => event.includes('gained')).length, 2, events.join('; '));
    await follower.stop();
  });

  test('a leader that cannot reach the database steps down by its own clock; another takes over after the lease ran out', async () => {
    const events: string[] = [];
    const lonely = pool();
    const a = lease('crash', 'a', lonely, events);
    await a.start();
    assert.ok(a.held);
    const b = lease('crash', 'b', pool(), events);
    await b.start();
    assert.equal(b.held, false, 'the lease is held: the second replica follows');
    // Cut the leader off: its pool's connections are killed and it may not open new ones.
    await lonely.end();
    await until('the cut-off leader to step down', () => !a.held, 5000);
    await until('the other replica to lead', () => b.held, 5000);
    const lostAt = events.findIndex((event) => event.startsWith('a lost'));
    const gainedAt = events.findIndex((event) => event.startsWith('b gained'));
    assert.ok(lostAt >= 0 && gainedAt > lostAt, `the old leader stepped down before the new one started: ${events.join('; ')}`);
    await a.stop();
    await b.stop();
  });

  test('the bus delivers to one replica or to the leader, in order, small and large messages alike', async () => {
    let aLeads = true;
    const received: Record<string, unknown[]> = { a: [], b: [] };
    const bus = (id: string, leads: () => boolean) => {
      const created = new ClusterBus({ pool: pool(), listenConfig: config, replicaId: id, leads, log: () => undefined, reconnectDelayMs: 100 });
      created.onMessage((message, from) => {
        received[id]?.push({ from, message });
      });
      return created;
    };
    const a = bus('a', () => aLeads);
    const b = bus('b', () => !aLeads);
    await a.start();
    await b.start();
    const big = 'x'.repeat(20_000);
    for (let index = 0; index < 20; index++) await a.publish('b', { index, ...(index === 7 ? { big } : {}) });
    await b.publish('leader', { to: 'leader 1' });
    await until('b to get 20 messages', () => received.b?.length === 20);
    assert.deepEqual(
      received.b?.map((entry) => (entry as { message: { index: number } }).message.index),
      Array.from({ length: 20 }, (_, index) => index),
    );
    assert.equal(((received.b?.[7] as { message: { big: string } }).message.big ?? '').length, 20_000, 'a message over the NOTIFY limit arrives whole');
    await until('the leader to get its message', () => received.a?.length === 1);
    // Each replica's connection gets notifications in commit order: once b has a later message, it has seen (and
    // dropped, not leading) the one for the leader; only then does the lead change.
    await a.publish('b', { marker: true });
    await until('b to get the marker', () => received.b?.length === 21);
    aLeads = false;
    await a.publish('leader', { to: 'leader 2' });
    await until('the new leader to get its message', () => received.b?.length === 22);
    assert.deepEqual(received.b?.[21], { from: 'a', message: { to: 'leader 2' } });
    assert.equal(received.a?.length, 1, 'a replica that does not lead ignores messages for the leader');
    await a.close();
    await b.close();
  });

  test('a bus whose connection was killed reconnects, says so, and receives again', async () => {
    const received: unknown[] = [];
    let reconnections = 0;
    const listener = new ClusterBus({ pool: pool(), listenConfig: config, replicaId: 'listener', leads: () => false, log: () => undefined, reconnectDelayMs: 100 });
    listener.onMessage((message) => {
      received.push(message);
    });
    listener.onReconnected(() => {
      reconnections++;
    });
    await listener.start();
    const sender = new ClusterBus({ pool: pool(), listenConfig: config, replicaId: 'sender', leads: () => false, log: () => undefined });
    const admin = pool();
    await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'checkpoint-bus-listener'`);
    await until('the listener to reconnect', () => reconnections === 1, 10_000);
    await sender.publish('listener', { after: 'reconnect' });
    await until('a message after the reconnection', () => received.length === 1);
    assert.deepEqual(received, [{ after: 'reconnect' }]);
    await listener.close();
  });

  test('a bus whose connection silently stops delivering (half-open TCP) notices by its probes and reconnects', async (t) => {
    let blackhole = false;
    const sockets: Socket[] = [];
    const proxy = createServer((client) => {
      const upstream = connect(server.port, '127.0.0.1');
      sockets.push(client, upstream);
      client.on('data', (data) => void (blackhole || upstream.write(data)));
      upstream.on('data', (data) => void (blackhole || client.write(data)));
      client.on('error', () => undefined);
      upstream.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    t.after(() => {
      for (const socket of sockets) socket.destroy();
      proxy.close();
    });
    const logs: string[] = [];
    const received: unknown[] = [];
    let reconnections = 0;
    const bus = new ClusterBus({
      pool: pool(),
      listenConfig: { ...config, port: (proxy.address() as AddressInfo).port },
      replicaId: 'silent',
      leads: () => false,
      log: (line) => logs.push(line),
      reconnectDelayMs: 100,
      probeEveryMs: 200,
    });
    bus.onMessage((message) => {
      received.push(message);
    });
    bus.onReconnected(() => {
      reconnections++;
    });
    await bus.start();
    t.after(() => bus.close());
    await bus.publish('silent', { n: 1 });
    await until('a message while the link is healthy', () => received.length === 1);
    // Packets vanish; nothing is closed, no error is raised.
    blackhole = true;
    await until('the bus to notice', () => logs.some((line) => line.includes('stopped delivering')), 10_000);
    blackhole = false;
    await until('the bus to reconnect', () => reconnections > 0, 10_000);
    await bus.publish('silent', { n: 2 });
    await until('a message after the reconnection', () => received.length === 2);
    assert.deepEqual(received, [{ n: 1 }, { n: 2 }]);
  });
});
