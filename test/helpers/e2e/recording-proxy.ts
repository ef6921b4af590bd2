import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/** One TCP connection through the proxy, with every byte each side sent. */
export interface RecordedConnection {
  id: number;
  /** Wall-clock time the agent opened it. */
  openedAt: Date;
  /** Bytes the agent sent (client → control plane), in order. */
  fromAgent: Buffer[];
  /** Bytes the control plane sent back. */
  fromControlPlane: Buffer[];
  /** Why the upstream side failed (the control plane was down), if it did. */
  upstreamError?: string;
}

/** An HTTP request the agent sent, parsed back out of its bytes. */
export interface RecordedRequest {
  connection: number;
  method: string;
  path: string;
  /** Lower-case names. */
  headers: Record<string, string>;
  body: Buffer;
  /** A WebSocket upgrade (`Upgrade: websocket`). */
  upgrade: boolean;
  /** For an upgrade: the status the control plane answered (101, 401, …), when it answered. */
  upgradeStatus?: number;
}

/** A WebSocket message (or control frame) the agent sent, unmasked. */
export interface WsMessage {
  connection: number;
  /** 1 text, 2 binary, 8 close, 9 ping, 10 pong. */
  opcode: number;
  payload: Buffer;
}

/**
 * A TCP proxy on 127.0.0.1 between a checkpoint agent and the control plane that records every byte in both
 * directions. The agent is pointed at `url`; the proxy connects to the control plane per connection, so it
 * keeps listening while the control plane is stopped (connections then fail like a refused connect) and
 * carries on after it is restarted on the same port. The agent's bytes can be read back raw, as HTTP requests
 * (with bodies), and as WebSocket messages with the client mask removed — masked frames would hide any
 * signature in the raw bytes.
 */
export class RecordingProxy {
  readonly connections: RecordedConnection[] = [];
  readonly url: string;
  readonly port: number;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #blocked = false;

  private constructor(server: Server) {
    this.#server = server;
    this.port = (server.address() as AddressInfo).port;
    this.url = `http://127.0.0.1:${this.port}`;
  }

  static async start(target: { host: string; port: number }): Promise<RecordingProxy> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const proxy = new RecordingProxy(server);
    server.on('connection', (client: Socket) => proxy.accept(client, target));
    return proxy;
  }

  /**
   * Cut the agent off: open connections are reset and new ones closed at once, as if the control plane
   * could not be reached. `unblock()` lets connections through again.
   */
  block(): void {
    this.#blocked = true;
    for (const socket of this.#sockets) socket.destroy();
  }

  unblock(): void {
    this.#blocked = false;
  }

  private accept(client: Socket, target: { host: string; port: number }): void {
    const record: RecordedConnection = { id: this.connections.length + 1, openedAt: new Date(), fromAgent: [], fromControlPlane: [] };
    this.connections.push(record);
    if (this.#blocked) {
      record.upstreamError = 'blocked by the test';
      client.on('error', () => undefined);
      client.destroy();
      return;
    }
    const upstream = connect(target.port, target.host);
    this.#sockets.add(client);
    this.#sockets.add(upstream);
    client.on('data', (chunk: Buffer) => record.fromAgent.push(Buffer.from(chunk)));
    upstream.on('data', (chunk: Buffer) => record.fromControlPlane.push(Buffer.from(chunk)));
    client.pipe(upstream);
    upstream.pipe(client);
    upstream.on('error', (error) => {
      record.upstreamError ??= error.message;
      client.destroy();
    });
    // An orderly end travels through the pipes (a 401 and its FIN reach the agent intact); a reset or an
    // error on one side tears the other down.
    client.on('error', () => upstream.destroy());
    client.on('close', () => this.#sockets.delete(client));
    upstream.on('close', () => this.#sockets.delete(upstream));
  }

  /** Every byte the agent sent, one buffer per connection. */
  agentChunks(): Buffer[] {
    return this.connections.map((connection) => Buffer.concat(connection.fromAgent));
  }

  /** The HTTP requests the agent sent, across connections, in connection order. */
  requests(): RecordedRequest[] {
    return this.connections.flatMap((connection) => parseAgentStream(connection).requests);
  }

  /** WebSocket upgrades of the agent link (`GET /api/v1/agent` with `Upgrade: websocket`). */
  upgrades(path = '/api/v1/agent'): RecordedRequest[] {
    return this.requests().filter((request) => request.upgrade && request.path === path);
  }

  /** The agent's WebSocket messages and control frames, unmasked. */
  wsMessages(): WsMessage[] {
    return this.connections.flatMap((connection) => parseAgentStream(connection).messages);
  }

  /** The agent's WebSocket text messages parsed as JSON (those that are JSON). */
  wsJson(): Record<string, unknown>[] {
    return this.wsMessages().flatMap((message): Record<string, unknown>[] => {
      if (message.opcode !== 1) return [];
      try {
        const value: unknown = JSON.parse(message.payload.toString('utf8'));
        return isRecord(value) ? [value] : [];
      } catch {
        return [];
      }
    });
  }

  /** Close codes of the close frames the agent sent. */
  closeCodes(): number[] {
    return this.wsMessages()
      .filter((message) => message.opcode === 8 && message.payload.byteLength >= 2)
      .map((message) => message.payload.readUInt16BE(0));
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Split the agent's side of one connection into HTTP requests and, after an upgrade, WebSocket frames. */
function parseAgentStream(connection: RecordedConnection): { requests: RecordedRequest[]; messages: WsMessage[] } {
  const bytes = Buffer.concat(connection.fromAgent);
  const requests: RecordedRequest[] = [];
  let messages: WsMessage[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const headEnd = bytes.indexOf('\r\n\r\n', offset, 'latin1');
    if (headEnd < 0) break;
    const [requestLine = '', ...headerLines] = bytes.toString('latin1', offset, headEnd).split('\r\n');
    const [method = '', target = ''] = requestLine.split(' ');
    const headers: Record<string, string> = {};
    for (const line of headerLines) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const bodyStart = headEnd + 4;
    const path = target.split('?')[0] ?? target;
    if ((headers['upgrade'] ?? '').toLowerCase() === 'websocket') {
      const request: RecordedRequest = { connection: connection.id, method, path, headers, body: Buffer.alloc(0), upgrade: true };
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(Buffer.concat(connection.fromControlPlane).toString('latin1', 0, 64));
      if (status?.[1] !== undefined) request.upgradeStatus = Number(status[1]);
      requests.push(request);
      messages = parseClientFrames(connection.id, bytes.subarray(bodyStart));
      break;
    }
    let body: Buffer;
    if ((headers['transfer-encoding'] ?? '').toLowerCase().includes('chunked')) {
      const chunked = dechunk(bytes, bodyStart);
      body = chunked.body;
      offset = chunked.end;
    } else {
      const length = Number(headers['content-length'] ?? '0');
      body = bytes.subarray(bodyStart, Math.min(bytes.length, bodyStart + length));
      offset = bodyStart + length;
    }
    requests.push({ connection: connection.id, method, path, headers, body, upgrade: false });
  }
  return { requests, messages };
}

function dechunk(bytes: Buffer, start: number): { body: Buffer; end: number } {
  const parts: Buffer[] = [];
  let offset = start;
  for (;;) {
    const lineEnd = bytes.indexOf('\r\n', offset, 'latin1');
    if (lineEnd < 0) return { body: Buffer.concat(parts), end: bytes.length };
    const size = Number.parseInt(bytes.toString('latin1', offset, lineEnd), 16);
    if (!Number.isFinite(size) || size === 0) return { body: Buffer.concat(parts), end: Math.min(bytes.length, lineEnd + 4) };
    parts.push(bytes.subarray(lineEnd + 2, Math.min(bytes.length, lineEnd + 2 + size)));
    offset = lineEnd + 2 + size + 2;
  }
}

/** RFC 6455 frames as a client sends them (masked), reassembled into messages; control frames kept as they are. */
function parseClientFrames(connection: number, bytes: Buffer): WsMessage[] {
  const messages: WsMessage[] = [];
  let fragments: Buffer[] = [];
  let fragmentOpcode = 0;
  let offset = 0;
  while (offset + 2 <= bytes.length) {
    const b0 = bytes.readUInt8(offset);
    const b1 = bytes.readUInt8(offset + 1);
    const fin = (b0 & 0x80) !== 0;
    const opcode = b0 & 0x0f;
    const masked = (b1 & 0x80) !== 0;
    let length = b1 & 0x7f;
    let position = offset + 2;
    if (length === 126) {
      if (position + 2 > bytes.length) break;
      length = bytes.readUInt16BE(position);
      position += 2;
    } else if (length === 127) {
      if (position + 8 > bytes.length) break;
      length = Number(bytes.readBigUInt64BE(position));
      position += 8;
    }
    let mask: Buffer | undefined;
    if (masked) {
      if (position + 4 > bytes.length) break;
      mask = bytes.subarray(position, position + 4);
      position += 4;
    }
    if (position + length > bytes.length) break;
    const payload = Buffer.from(bytes.subarray(position, position + length));
    if (mask !== undefined) for (let index = 0; index < payload.length; index++) payload[index] = (payload[index] ?? 0) ^ (mask[index & 3] ?? 0);
    offset = position + length;
    if (opcode >= 8) {
      messages.push({ connection, opcode, payload });
      continue;
    }
    if (opcode !== 0) {
      fragmentOpcode = opcode;
      fragments = [];
    }
    fragments.push(payload);
    if (fin) {
      messages.push({ connection, opcode: fragmentOpcode, payload: Buffer.concat(fragments) });
      fragments = [];
    }
  }
  return messages;
}
