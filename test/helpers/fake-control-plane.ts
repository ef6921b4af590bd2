// A small fake control plane for agent tests: WebSocket + HTTP on 127.0.0.1, behind a recording TCP proxy
// so that every byte the checkpoint sends is kept (raw TCP bytes and decoded HTTP bodies / WS payloads).
// It can go down and come back on the same port (an outage), black-hole live connections (a silently dead
// link), reject the token (401 on the upgrade) and answer results with chosen statuses.
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { agentMessageSchema, resultEnvelopeSchema, type AgentMessage, type ControlMessage, type ResultEnvelope } from '../../engine/schema/protocol.ts';

export interface FakeControlPlaneOptions {
  token?: string;
  checkpoint?: string;
  heartbeatIntervalMs?: number;
  /** Serve HTTPS/WSS with this key and certificate (PEM); with `clientCa`, only to clients with a certificate it signed. */
  tls?: { key: string; cert: string; clientCa?: string };
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
  status: number;
}

export interface RecordedMessage {
  instanceId: string;
  connection: number;
  data: Buffer;
  message: AgentMessage | undefined;
}

/** Order of deliveries, to check that artifacts come before their result. */
export type DeliveryEvent = { kind: 'artifact'; sha256: string } | { kind: 'result'; runId: string; stored: 'new' | 'duplicate' | 'refused'; missingArtifacts: string[] };

export class FakeControlPlane extends EventEmitter {
  readonly token: string;
  readonly checkpoint: string;
  heartbeatIntervalMs: number;
  /** Statuses to answer the next result POSTs with, instead of storing them (consumed in order). */
  readonly resultStatuses: number[] = [];
  /** Answer every result POST with this status (after `resultStatuses`), instead of storing. */
  resultStatusAlways: number | undefined;

  /** Every byte received on the public port, as it arrived (client → server). */
  readonly rawBytes: Buffer[] = [];
  readonly requests: RecordedRequest[] = [];
  readonly messages: RecordedMessage[] = [];
  readonly upgrades: { instanceId: string; status: number }[] = [];
  readonly closes: { instanceId: string; connection: number; code: number; reason: string }[] = [];
  readonly deliveries: DeliveryEvent[] = [];
  readonly artifacts = new Map<string, Buffer>();
  readonly results = new Map<string, ResultEnvelope>();

  readonly #inner: Server;
  readonly #wss = new WebSocketServer({ noServer: true });
  #outer: NetServer | undefined;
  readonly #proxied = new Set<{ client: Socket; upstream: Socket; blackholed: boolean }>();
  readonly #agents = new Map<string, WebSocket>();
  #innerPort = 0;
  #port = 0;
  #connections = 0;
  readonly #secure: boolean;

  private constructor(options: FakeControlPlaneOptions) {
    super();
    this.setMaxListeners(100);
    this.token = options.token ?? 'test-token';
    this.checkpoint = options.checkpoint ?? 'test-checkpoint';
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? 1_000;
    this.#secure = options.tls !== undefined;
    const handler = (req: IncomingMessage, res: ServerResponse) => void this.#onRequest(req, res);
    this.#inner = options.tls === undefined ? createHttpServer(handler) : createHttpsServer({ key: options.tls.key, cert: options.tls.cert, ...(options.tls.clientCa === undefined ? {} : { ca: options.tls.clientCa, requestCert: true, rejectUnauthorized: true }) }, handler);
    this.#inner.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => this.#onUpgrade(req, socket, head));
  }

  static async start(options: FakeControlPlaneOptions = {}): Promise<FakeControlPlane> {
    const cp = new FakeControlPlane(options);
    await new Promise<void>((resolve) => cp.#inner.listen(0, '127.0.0.1', resolve));
    cp.#innerPort = (cp.#inner.address() as AddressInfo).port;
    await cp.#listenOuter(0);
    return cp;
  }

  get url(): string {
    return `${this.#secure ? 'https' : 'http'}://127.0.0.1:${this.#port}`;
  }

  get up(): boolean {
    return this.#outer !== undefined;
  }

  #changed(): void {
    this.emit('change');
  }

  async #listenOuter(port: number): Promise<void> {
    const outer = createNetServer((client) => {
      const upstream = connect(this.#innerPort, '127.0.0.1');
      const entry = { client, upstream, blackholed: false };
      this.#proxied.add(entry);
      client.on('data', (chunk: Buffer) => {
        this.rawBytes.push(Buffer.from(chunk));
        if (!entry.blackholed) upstream.write(chunk);
      });
      upstream.on('data', (chunk: Buffer) => {
        if (!entry.blackholed) client.write(chunk);
      });
      const end = () => {
        this.#proxied.delete(entry);
        client.destroy();
        upstream.destroy();
      };
      client.on('close', end).on('error', end);
      upstream.on('close', end).on('error', end);
    });
    await new Promise<void>((resolve, reject) => {
      outer.once('error', reject);
      outer.listen(port, '127.0.0.1', () => resolve());
    });
    this.#outer = outer;
    this.#port = (outer.address() as AddressInfo).port;
  }

  /** An outage: stop listening and cut every connection. Recorded state is kept. */
  async stop(): Promise<void> {
    const outer = this.#outer;
    this.#outer = undefined;
    for (const entry of this.#proxied) {
      entry.client.destroy();
      entry.upstream.destroy();
    }
    this.#proxied.clear();
    if (outer !== undefined) await new Promise<void>((resolve) => outer.close(() => resolve()));
    this.#changed();
  }

  /** Come back on the same port. */
  async restart(): Promise<void> {
    if (this.#outer === undefined) await this.#listenOuter(this.#port);
  }

  /** Silently drop everything on the connections open now, both ways, without closing them. */
  blackhole(): void {
    for (const entry of this.#proxied) entry.blackholed = true;
  }

  async close(): Promise<void> {
    await this.stop();
    for (const ws of this.#agents.values()) ws.terminate();
    this.#wss.close();
    this.#inner.closeAllConnections();
    await new Promise<void>((resolve) => this.#inner.close(() => resolve()));
  }

  /** Send a control message to one agent (or the only one connected). */
  send(message: ControlMessage | Record<string, unknown>, instanceId?: string): void {
    const ws = instanceId === undefined ? [...this.#agents.values()].at(-1) : this.#agents.get(instanceId);
    if (ws === undefined) throw new Error(`no agent connected${instanceId === undefined ? '' : ` as ${instanceId}`}`);
    ws.send(JSON.stringify(message));
  }

  /** Agent messages of one type, in order. */
  agentMessages<T extends AgentMessage['type']>(type: T): Extract<AgentMessage, { type: T }>[] {
    return this.messages.flatMap((m) => (m.message?.type === type ? [m.message as Extract<AgentMessage, { type: T }>] : []));
  }

  runStatuses(runId: string): string[] {
    return this.agentMessages('run-status')
      .filter((m) => m.runId === runId)
      .map((m) => m.status);
  }

  /** Every byte received: raw TCP, plus decoded HTTP bodies and WebSocket payloads (WS frames are masked on the wire). */
  allReceivedBytes(): Buffer[] {
    return [...this.rawBytes, ...this.requests.map((r) => r.body), ...this.messages.map((m) => m.data)];
  }

  /** Resolve once `predicate` holds (checked on every change); reject after `timeoutMs` naming `what`. */
  waitFor<T>(predicate: () => T | undefined | false, what: string, timeoutMs = 30_000): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const check = () => {
        let value: T | undefined | false;
        try {
          value = predicate();
        } catch (error) {
          finish();
          reject(error instanceof Error ? error : new Error(String(error)));
          return;
        }
        if (value !== undefined && value !== false) {
          finish();
          resolve(value);
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        this.off('change', check);
      };
      this.on('change', check);
      check();
    });
  }

  #authorized(req: IncomingMessage): boolean {
    return req.headers.authorization === `Bearer ${this.token}`;
  }

  #onUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const instanceId = String(req.headers['x-checkpoint-instance'] ?? '');
    const path = new URL(req.url ?? '/', 'http://cp.invalid').pathname;
    const status = path !== '/api/v1/agent' ? 404 : !this.#authorized(req) ? 401 : instanceId === '' ? 400 : 101;
    this.upgrades.push({ instanceId, status });
    this.#changed();
    if (status !== 101) {
      socket.end(`HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : 'Bad Request'}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      const connection = ++this.#connections;
      this.#agents.set(instanceId, ws);
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        const buffer = Buffer.from(data);
        let message: AgentMessage | undefined;
        if (!isBinary) {
          try {
            const parsed = agentMessageSchema.safeParse(JSON.parse(buffer.toString('utf8')));
            message = parsed.success ? parsed.data : undefined;
          } catch {
            message = undefined;
          }
        }
        this.messages.push({ instanceId, connection, data: buffer, message });
        if (message?.type === 'hello') {
          ws.send(JSON.stringify({ type: 'welcome', protocolVersion: 1, checkpoint: this.checkpoint, heartbeatIntervalMs: this.heartbeatIntervalMs, monitors: [] } satisfies ControlMessage));
        }
        this.#changed();
      });
      ws.on('close', (code: number, reason: Buffer) => {
        if (this.#agents.get(instanceId) === ws) this.#agents.delete(instanceId);
        this.closes.push({ instanceId, connection, code, reason: reason.toString('utf8') });
        this.#changed();
      });
      ws.on('error', () => undefined);
    });
  }

  async #onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const path = new URL(req.url ?? '/', 'http://cp.invalid').pathname;
    const method = req.method ?? 'GET';
    const reply = (status: number, json?: unknown) => {
      this.requests.push({ method, path, headers: req.headers, body, status });
      const text = json === undefined ? '' : JSON.stringify(json);
      res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
      res.end(method === 'HEAD' ? undefined : text);
      this.#changed();
    };
    if (!this.#authorized(req)) return reply(401, { error: 'bad token' });
    const artifact = /^\/api\/v1\/artifacts\/([0-9a-f]{64})$/.exec(path);
    if (artifact !== null) {
      const sha = artifact[1] ?? '';
      if (method === 'HEAD') return reply(this.artifacts.has(sha) ? 200 : 404);
      if (method !== 'PUT') return reply(405);
      if (createHash('sha256').update(body).digest('hex') !== sha) return reply(400, { error: 'body does not match its SHA-256' });
      this.artifacts.set(sha, body);
      this.deliveries.push({ kind: 'artifact', sha256: sha });
      return reply(201);
    }
    if (path === '/api/v1/results' && method === 'POST') {
      const key = req.headers['idempotency-key'];
      const forced = this.resultStatuses.shift() ?? this.resultStatusAlways;
      if (forced !== undefined) return reply(forced, { error: `forced ${forced}` });
      let envelope: ResultEnvelope;
      try {
        envelope = resultEnvelopeSchema.parse(JSON.parse(body.toString('utf8')));
      } catch (error) {
        return reply(400, { error: String(error) });
      }
      if (key !== envelope.runId) return reply(400, { error: 'Idempotency-Key must be the run id' });
      const missingArtifacts = envelope.artifacts.filter((a) => !this.artifacts.has(a.sha256)).map((a) => a.sha256);
      if (missingArtifacts.length > 0) {
        this.deliveries.push({ kind: 'result', runId: envelope.runId, stored: 'refused', missingArtifacts });
        return reply(400, { error: 'artifacts missing', missingArtifacts });
      }
      const stored = this.results.has(envelope.runId) ? 'duplicate' : 'new';
      if (stored === 'new') this.results.set(envelope.runId, envelope);
      this.deliveries.push({ kind: 'result', runId: envelope.runId, stored, missingArtifacts });
      return reply(200, { runId: envelope.runId, stored });
    }
    return reply(404, { error: 'not found' });
  }
}

/** Names of the PNG, JPEG and WebP signatures found anywhere in `chunks`. */
export function findImageSignatures(chunks: readonly Buffer[]): string[] {
  const found: string[] = [];
  const signatures: [string, Buffer][] = [
    ['PNG', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])],
    // FF D8 FF and an APPn/DQT marker: three bytes alone turn up by chance in masked WebSocket frames.
    ...[0xe0, 0xe1, 0xe2, 0xdb, 0xee].map((marker): [string, Buffer] => ['JPEG', Buffer.from([0xff, 0xd8, 0xff, marker])]),
    ['WebP', Buffer.from('WEBPVP8', 'latin1')],
  ];
  // Join so a signature split across two TCP chunks is still seen.
  const all = Buffer.concat(chunks);
  for (const [name, signature] of signatures) if (all.includes(signature) && !found.includes(name)) found.push(name);
  return found;
}
