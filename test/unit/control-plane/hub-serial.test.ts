import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { WebSocket } from 'ws';
import { agentPaths, protocolVersion, type AgentMessage } from '../../../engine/index.ts';
import { sha256Hex } from '../../../control-plane/http.ts';
import { Hub } from '../../../control-plane/hub.ts';
import { LogLimiter } from '../../../control-plane/log.ts';
import { SqliteStore } from '../../../control-plane/store-sqlite.ts';
import type { ControlPlaneStore } from '../../../control-plane/store.ts';
import { FakeClock } from '../../helpers/fake-agent.ts';

const token = 'cpt_hub_serial_test_token';

/** A real hub behind a real HTTP server on 127.0.0.1, over `store`; records the store calls and events in order. */
async function hubOver(t: TestContext, wrap: (inner: SqliteStore, order: string[]) => ControlPlaneStore) {
  const dir = await mkdtemp(join(tmpdir(), 'cp-hub-serial-'));
  const inner = new SqliteStore(dir);
  await inner.createCheckpoint('hq', sha256Hex(token), new Date().toISOString());
  const order: string[] = [];
  const lines: string[] = [];
  const clock = new FakeClock();
  const log = (line: string) => lines.push(line);
  const event = (name: string) => () => {
    order.push(`event:${name}`);
    return Promise.resolve();
  };
  const hub = new Hub({
    store: wrap(inner, order),
    clock,
    log,
    heartbeatIntervalMs: 10_000,
    complaints: new LogLimiter({ log, nowMs: () => clock.nowMs() }),
    rateNowMs: () => performance.now(),
    events: { ready: event('ready'), gone: event('gone'), heartbeat: event('heartbeat'), runStatus: event('run-status') },
  });
  const server = createServer((_req, res) => res.writeHead(404).end());
  server.on('upgrade', (req, socket, head) => hub.handleUpgrade(req, socket, head));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    hub.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await hub.settled();
    await inner.close();
    await rm(dir, { recursive: true, force: true });
  });
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}${agentPaths.websocket}`;
  return { hub, order, lines, url };
}

/** A store that records calls and holds `held` until `release()`. */
function holding(held: string) {
  let release = () => undefined as void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const wrap = (inner: SqliteStore, order: string[]): ControlPlaneStore =>
    new Proxy(inner, {
      get(target, property, receiver) {
        const value: unknown = Reflect.get(target, property, receiver);
        if (typeof value !== 'function') return value;
        return async (...args: unknown[]) => {
          order.push(`store:${String(property)}`);
          if (property === held) await gate;
          return (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        };
      },
    });
  return { wrap, release: () => release() };
}

function connect(url: string): Promise<WebSocket> {
  const socket = new WebSocket(url, { headers: { Authorization: `Bearer ${token}`, 'X-Checkpoint-Instance': 'a' } });
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
  });
}

const hello: AgentMessage = { type: 'hello', protocolVersion, instanceId: 'a', version: '1.0.0', capacity: 2, privacyLock: false, startedAt: new Date().toISOString() };
const heartbeat: AgentMessage = { type: 'heartbeat', sentAt: new Date().toISOString(), running: ['r1'], freeSlots: 1, queued: 0, outboxDepth: 3, outboxOldestAgeMs: 0, draining: false };

/** Give pending work a moment (only before asserting that something did NOT happen). */
const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 50));

/** Wait until `condition` holds (a loaded machine may take a while; the guard only stops a hanging test). */
async function until(condition: () => boolean, what: string): Promise<void> {
  for (let waitedMs = 0; !condition(); waitedMs += 5) {
    if (waitedMs > 10_000) throw new Error(`still waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('hub: one connection, one message at a time', { timeout: 20_000 }, () => {
  it('handles a heartbeat sent right after the hello only once the hello is stored and announced', async (t) => {
    const store = holding('instanceHello');
    const { hub, order, url } = await hubOver(t, store.wrap);
    const socket = await connect(url);
    t.after(() => socket.terminate());
    const welcomed = new Promise<string>((resolve) => socket.once('message', (data: Buffer) => resolve(data.toString('utf8'))));
    socket.send(JSON.stringify(hello));
    socket.send(JSON.stringify(heartbeat));
    await until(() => order.includes('store:instanceHello'), 'the hello to reach the store');
    await settle();
    const heartbeatEarly = order.includes('store:instanceHeartbeat');
    const readyEarly = hub.get('hq/a')?.hello !== undefined;
    store.release();
    assert.equal(heartbeatEarly, false, 'the heartbeat waits while the hello is being stored');
    assert.equal(readyEarly, false, 'not ready (no run can be sent) before its welcome');
    assert.match(await welcomed, /"type":"welcome"/);
    await hub.settled();
    const after = order.filter((entry) => !entry.startsWith('store:checkpointByTokenHash') && !entry.startsWith('store:instanceExists') && !entry.startsWith('store:countInstances'));
    assert.deepEqual(after, ['store:instanceHello', 'store:listMonitors', 'event:ready', 'store:instanceHeartbeat', 'event:heartbeat']);
    socket.close();
    await until(() => order.includes('event:gone'), 'the close to be handled');
    assert.deepEqual(order.slice(-2), ['store:instanceDisconnected', 'event:gone'], 'the close is handled after the messages');
  });

  it('answers an upgrade with 503 when the store cannot check the token, and keeps serving', async (t) => {
    let failing = true;
    const wrap = (inner: SqliteStore): ControlPlaneStore =>
      new Proxy(inner, {
        get(target, property, receiver) {
          if (property === 'checkpointByTokenHash' && failing) return () => Promise.reject(new Error('database is gone'));
          const value: unknown = Reflect.get(target, property, receiver);
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      });
    const { lines, url } = await hubOver(t, wrap);
    const status = await new Promise<number>((resolve, reject) => {
      const socket = new WebSocket(url, { headers: { Authorization: `Bearer ${token}`, 'X-Checkpoint-Instance': 'a' } });
      socket.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      socket.once('open', () => reject(new Error('the upgrade was accepted')));
      socket.once('error', () => undefined);
    });
    assert.equal(status, 503);
    assert.ok(
      lines.some((line) => line.includes('database is gone')),
      lines.join('\n'),
    );
    failing = false;
    const socket = await connect(url);
    socket.terminate();
  });
});
