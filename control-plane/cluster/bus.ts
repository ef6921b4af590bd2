import pg from 'pg';
import type { Log } from '../log.ts';
import { messageOf } from './lease.ts';

/** The one PostgreSQL channel every replica listens on; a notification names its target and its message. */
export const busChannel = 'checkpoint_cluster';
/** Targets besides a replica id: whichever replica leads, and every replica (the sender too). */
export const leaderTarget = 'leader';
export const everyReplica = '*';
/** NOTIFY payloads are limited to 8000 bytes: larger messages wait in `cluster_messages` and only their id is sent. */
const inlineLimitBytes = 7000;
/** Messages kept in `cluster_messages` longer than this are deleted (a receiver fetches within milliseconds). */
const keepMessagesMs = 60_000;

export interface BusOptions {
  pool: pg.Pool;
  /** A connection config for the dedicated LISTEN connection (pool connections are shared and cannot listen). */
  listenConfig: pg.ClientConfig;
  replicaId: string;
  /** Whether messages addressed to the leader are this replica's to handle. */
  leads: () => boolean;
  log: Log;
  /** Wait between reconnection attempts of the LISTEN connection. */
  reconnectDelayMs?: number;
  /**
   * How often the bus sends itself a probe (default 5 s). A LISTEN connection that stopped delivering without an
   * error (a half-open TCP link) is noticed when three probes in a row do not come back, and replaced.
   */
  probeEveryMs?: number;
}

export type BusHandler = (message: unknown, from: string) => Promise<void> | void;

/**
 * Messages between control-plane replicas over PostgreSQL LISTEN/NOTIFY: to one replica (by id) or to whichever
 * replica leads. Delivery is at most once and only to replicas listening at the time, so nothing may depend on a
 * message alone: every message is a hint that something in the database changed (the database is the truth, and
 * a new leader rebuilds from it). A receiver handles messages one at a time, in the order they were published.
 * After its LISTEN connection came back (`reconnected`), a replica must assume it missed messages.
 */
export class ClusterBus {
  readonly #options: BusOptions;
  readonly #handlers: BusHandler[] = [];
  readonly #reconnected: (() => Promise<void> | void)[] = [];
  #client: pg.Client | undefined;
  #closed = false;
  #chain: Promise<void> = Promise.resolve();
  #retry: NodeJS.Timeout | undefined;
  #lastCleanupMs = 0;
  #probe: NodeJS.Timeout | undefined;
  #probesSent = 0;
  #probesSeen = 0;

  constructor(options: BusOptions) {
    this.#options = options;
  }

  onMessage(handler: BusHandler): void {
    this.#handlers.push(handler);
  }

  /** Called after the LISTEN connection was lost and came back: messages may have been missed meanwhile. */
  onReconnected(handler: () => Promise<void> | void): void {
    this.#reconnected.push(handler);
  }

  async start(): Promise<void> {
    this.#closed = false;
    await this.#listen(false);
    this.#probe = setInterval(() => void this.#sendProbe(), this.#options.probeEveryMs ?? 5000);
    this.#probe.unref();
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#retry !== undefined) clearTimeout(this.#retry);
    if (this.#probe !== undefined) clearInterval(this.#probe);
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => undefined);
    await this.#chain;
  }

  /** Send `message` (JSON) to the replica `target`, to the leader ({@link leaderTarget}) or to all ({@link everyReplica}). */
  async publish(target: string, message: unknown): Promise<void> {
    const { pool, replicaId } = this.#options;
    const body = JSON.stringify({ from: replicaId, message });
    if (Buffer.byteLength(body) + target.length + 3 <= inlineLimitBytes) {
      await pool.query('SELECT pg_notify($1, $2)', [busChannel, `${target}\ni\n${body}`]);
      return;
    }
    await pool.query(
      `WITH stored AS (INSERT INTO cluster_messages (target, body) VALUES ($2, $3) RETURNING id)
       SELECT pg_notify($1, $2 || E'\\nt\\n' || id) FROM stored`,
      [busChannel, target, body],
    );
    await this.#cleanup();
  }

  async #listen(again: boolean): Promise<void> {
    const client = new pg.Client({ keepAlive: true, ...this.#options.listenConfig, application_name: `checkpoint-bus-${this.#options.replicaId}`.slice(0, 63) });
    client.on('notification', (notification) => {
      if (notification.channel !== busChannel || notification.payload === undefined) return;
      const [target, kind, rest] = splitPayload(notification.payload);
      if (kind === 'p') {
        if (target === this.#options.replicaId) this.#probesSeen = Math.max(this.#probesSeen, Number(rest));
        return;
      }
      // Addressed when it arrives: a message for the leader belongs to whoever leads at that moment.
      if (target !== this.#options.replicaId && target !== everyReplica && !(target === leaderTarget && this.#options.leads())) return;
      this.#chain = this.#chain.then(() => this.#receive(kind, rest)).catch((error: unknown) => this.#options.log(`cluster: a bus message failed: ${messageOf(error)}`));
    });
    client.on('error', (error) => {
      if (this.#client !== client) return;
      this.#options.log(`cluster: the bus connection failed: ${error.message}; reconnecting`);
      this.#client = undefined;
      client.end().catch(() => undefined);
      this.#scheduleReconnect();
    });
    await client.connect();
    await client.query(`LISTEN ${busChannel}`);
    if (this.#closed) {
      await client.end();
      return;
    }
    this.#client = client;
    if (again) {
      this.#options.log('cluster: the bus connection is back');
      for (const handler of this.#reconnected) this.#chain = this.#chain.then(handler).catch((error: unknown) => this.#options.log(`cluster: catching up after a reconnection failed: ${messageOf(error)}`));
    }
  }

  /** Probe the LISTEN connection through the database; replace it when three probes in a row went missing. */
  async #sendProbe(): Promise<void> {
    const client = this.#client;
    if (client === undefined || this.#closed) return;
    if (this.#probesSent - this.#probesSeen >= 3) {
      this.#options.log(`cluster: the bus connection stopped delivering (${this.#probesSent - this.#probesSeen} probes missing); reconnecting`);
      this.#client = undefined;
      this.#probesSeen = this.#probesSent;
      client.end().catch(() => undefined);
      this.#scheduleReconnect();
      return;
    }
    const seq = ++this.#probesSent;
    await this.#options.pool.query('SELECT pg_notify($1, $2)', [busChannel, `${this.#options.replicaId}\np\n${seq}`]).catch((error: unknown) => {
      // The database is unreachable: the probe tells nothing about the LISTEN connection; try again later.
      this.#probesSent--;
      this.#options.log(`cluster: could not probe the bus: ${messageOf(error)}`);
    });
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#retry !== undefined) return;
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      if (this.#closed) return;
      this.#listen(true).catch((error: unknown) => {
        this.#options.log(`cluster: the bus could not reconnect: ${messageOf(error)}`);
        this.#scheduleReconnect();
      });
    }, this.#options.reconnectDelayMs ?? 1000);
    this.#retry.unref();
  }

  async #receive(kind: string, rest: string): Promise<void> {
    let body = rest;
    if (kind === 't') {
      const result = await this.#options.pool.query<{ body: string }>('SELECT body FROM cluster_messages WHERE id = $1', [Number(rest)]);
      const row = result.rows[0];
      if (row === undefined) return;
      body = row.body;
    }
    const parsed = JSON.parse(body) as { from: string; message: unknown };
    for (const handler of this.#handlers) await handler(parsed.message, parsed.from);
  }

  async #cleanup(): Promise<void> {
    const now = Date.now();
    if (now - this.#lastCleanupMs < keepMessagesMs) return;
    this.#lastCleanupMs = now;
    await this.#options.pool.query(`DELETE FROM cluster_messages WHERE created_at < clock_timestamp() - make_interval(secs => $1::double precision / 1000)`, [keepMessagesMs]);
  }
}

function splitPayload(payload: string): [string, string, string] {
  const first = payload.indexOf('\n');
  const second = payload.indexOf('\n', first + 1);
  return [payload.slice(0, first), payload.slice(first + 1, second), payload.slice(second + 1)];
}
