import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { type AgentMessage, agentMessageSchema, agentPaths, type Clock, type ControlMessage, controlMessageSchema, formatIssuePath, isInstanceId, type MonitorDefinition, protocolVersion } from '../engine/index.ts';
import { bearerToken, sha256Hex } from './http.ts';
import type { Log, LogLimiter } from './log.ts';
import { RateLimiter } from './rate-limit.ts';
import { definitionFromRecord } from './monitor-definition.ts';
import type { ControlPlaneStore } from './store.ts';

type Hello = Extract<AgentMessage, { type: 'hello' }>;
type Heartbeat = Extract<AgentMessage, { type: 'heartbeat' }>;
export type RunStatusMessage = Extract<AgentMessage, { type: 'run-status' }>;

/** A heartbeat or pong missing for this many intervals means the link is dead (reliability.md §3.4). */
export const missedHeartbeatsAllowed = 3;

/** One connected checkpoint instance as the hub sees it. */
export interface LiveInstance {
  /** `<checkpoint>/<instance id>`: unique in the control plane. */
  key: string;
  checkpoint: string;
  id: string;
  /** Set once the instance has said hello. */
  hello?: Hello;
  lastHeartbeat?: Heartbeat;
  connectedAtMs: number;
  lastSeenMs: number;
}

/** What the hub reports; it waits for each before it handles the connection's next message. */
export interface HubEvents {
  /** The instance said hello and was welcomed: it can take runs. */
  ready(instance: LiveInstance): Promise<void>;
  /** The connection closed (or was terminated as dead, or replaced by a newer one). */
  gone(instance: LiveInstance, reason: string): Promise<void>;
  heartbeat(instance: LiveInstance): Promise<void>;
  runStatus(instance: LiveInstance, message: RunStatusMessage): Promise<void>;
}

interface Connection extends LiveInstance {
  socket: WebSocket;
  lastPingMs: number;
  /** The token it authenticated with: the link ends when that token is revoked or its grace period ends. */
  tokenHash: string;
  /** Messages dropped by the rate limit since the last one accepted. */
  droppedInARow: number;
  /**
   * The connection's messages (and finally its close) are handled one after the other, each after the previous
   * one's store writes and events: a heartbeat never overtakes its hello, a close never overtakes either.
   */
  chain: Promise<void>;
}

/** Limits of the hub against a misbehaving (or hostile) holder of a checkpoint token. */
export interface HubLimits {
  /** Messages per second an instance may send (sustained). Default 200: a busy check lane sends about three per check. */
  messagesPerSecond: number;
  /** …and in a burst. Default 1000. */
  messageBurst: number;
  /** Upgrade attempts per second per client address. Default 2. */
  upgradesPerSecond: number;
  /** …and in a burst. Default 20. */
  upgradeBurst: number;
  /** Instances a checkpoint may have on record; a new id beyond this is refused (old ones expire by retention). Default 200. */
  maxInstancesPerCheckpoint: number;
}

export const defaultHubLimits: HubLimits = { messagesPerSecond: 200, messageBurst: 1000, upgradesPerSecond: 2, upgradeBurst: 20, maxInstancesPerCheckpoint: 200 };

/** What the API asks of agents' links, wherever they are connected: this process's hub, or any replica's (cluster/replica.ts). */
export interface AgentControl {
  pushMonitors(checkpoint: string): Promise<void>;
  drain(checkpoint: string, reason: string, instanceId?: string): string[] | Promise<string[]>;
  disconnect(checkpoint: string, reason: string, instanceId?: string): string[] | Promise<string[]>;
  checkLiveness(): Promise<void>;
}

/** What the scheduler needs of the instances it dispatches to: the hub's read and send side. */
export type InstanceLink = Pick<Hub, 'instances' | 'get' | 'send'>;

export function instanceKey(checkpoint: string, id: string): string {
  return `${checkpoint}/${id}`;
}

export function rejectUpgrade(socket: Duplex, status: 400 | 401 | 403 | 404 | 421 | 429 | 503, retryAfterSeconds?: number): void {
  if (socket.destroyed) return;
  const reason = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 421: 'Misdirected Request', 429: 'Too Many Requests', 503: 'Service Unavailable' }[status];
  const retry = retryAfterSeconds === undefined ? '' : `Retry-After: ${retryAfterSeconds}\r\n`;
  // No hint why: a wrong token and an unknown token look the same.
  socket.end(`HTTP/1.1 ${status} ${reason}\r\n${retry}Connection: close\r\nContent-Length: 0\r\n\r\n`);
  socket.destroy();
}
const reject = rejectUpgrade;

/**
 * The WebSocket hub: authenticates each checkpoint instance's upgrade with its checkpoint token, validates
 * every message against the protocol schemas, greets with `welcome`, pushes `monitors` when definitions change,
 * carries `run` / `cancel` / `drain`, and terminates links that went silent (no heartbeat, message or pong for
 * three heartbeat intervals). Time comes from the injected Clock; `checkLiveness` is called by the maintenance
 * tick.
 */
export class Hub {
  readonly #store: ControlPlaneStore;
  readonly #clock: Clock;
  readonly #log: Log;
  readonly #events: HubEvents;
  readonly #heartbeatIntervalMs: number;
  readonly #wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024, perMessageDeflate: false });
  readonly #connections = new Map<string, Connection>();
  readonly #complaints: LogLimiter;
  readonly #limits: HubLimits;
  readonly #messages: RateLimiter;
  readonly #upgrades: RateLimiter;
  /** Connections' handling chains still at work (see `settled`). */
  readonly #busy = new Set<Promise<void>>();
  #closed = false;

  constructor(options: {
    store: ControlPlaneStore;
    clock: Clock;
    log: Log;
    events: HubEvents;
    heartbeatIntervalMs: number;
    /** Bounded log for what misbehaving clients send (invalid messages, floods). */
    complaints: LogLimiter;
    limits?: Partial<HubLimits>;
    /** Real monotonic time for the rate limits (they protect real resources, whatever the scheduler's clock). */
    rateNowMs: () => number;
  }) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#log = options.log;
    this.#events = options.events;
    this.#heartbeatIntervalMs = options.heartbeatIntervalMs;
    this.#complaints = options.complaints;
    this.#limits = { ...defaultHubLimits, ...options.limits };
    this.#messages = new RateLimiter({ perSecond: this.#limits.messagesPerSecond, burst: this.#limits.messageBurst, nowMs: options.rateNowMs });
    this.#upgrades = new RateLimiter({ perSecond: this.#limits.upgradesPerSecond, burst: this.#limits.upgradeBurst, nowMs: options.rateNowMs });
  }

  /**
   * Handle an HTTP upgrade on the agent path; refuses anything else. Never throws or rejects: a failure to check
   * the token (the store unreachable) answers 503, so the agent retries with its backoff.
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.#upgrade(req, socket, head).catch((error: unknown) => {
      this.#log(`hub: could not check a connection from ${req.socket.remoteAddress ?? 'unknown'}: ${error instanceof Error ? error.message : String(error)}`);
      rejectUpgrade(socket, 503, 5);
    });
  }

  async #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://control-plane').pathname;
    if (path !== agentPaths.websocket) return reject(socket, 404);
    const address = req.socket.remoteAddress ?? 'unknown';
    const allowed = this.#upgrades.take(`upgrade:${address}`);
    if (!allowed.ok) {
      this.#complaints.log(`hub:${address}`, `hub: refused a connection from ${address}: too many connection attempts`);
      return reject(socket, 429, Math.ceil(allowed.retryAfterMs / 1000));
    }
    const token = bearerToken(req);
    const tokenHash = token === undefined ? undefined : sha256Hex(token);
    const checkpoint = tokenHash === undefined ? undefined : await this.#store.checkpointByTokenHash(tokenHash, this.#clock.wallNow().toISOString());
    if (checkpoint === undefined || tokenHash === undefined) {
      this.#complaints.log(`hub:${address}`, `hub: refused a connection from ${address}: bad or missing token`);
      return reject(socket, 401);
    }
    const instanceHeader = req.headers['x-checkpoint-instance'];
    const instanceId = typeof instanceHeader === 'string' ? instanceHeader.trim() : '';
    if (!isInstanceId(instanceId)) return reject(socket, 400);
    // A token holder cycling through made-up instance ids must not grow the instance table without bound.
    const known = this.#connections.has(instanceKey(checkpoint.name, instanceId)) || (await this.#store.instanceExists(checkpoint.name, instanceId));
    if (!known && (await this.#store.countInstances(checkpoint.name)) >= this.#limits.maxInstancesPerCheckpoint) {
      this.#complaints.log(
        `hub:${checkpoint.name}`,
        `hub: refused a new instance ${JSON.stringify(instanceId)} of ${checkpoint.name}: it already has ${this.#limits.maxInstancesPerCheckpoint} on record (delete old ones, or wait for them to expire)`,
      );
      return reject(socket, 403);
    }
    // The client may have gone, or the hub closed, while the store answered.
    if (socket.destroyed) return;
    if (this.#closed) return reject(socket, 503, 5);
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#accept(ws, checkpoint.name, instanceId, tokenHash));
  }

  #accept(socket: WebSocket, checkpoint: string, id: string, tokenHash: string): void {
    const key = instanceKey(checkpoint, id);
    const now = this.#clock.nowMs();
    const connection: Connection = { key, checkpoint, id, socket, connectedAtMs: now, lastSeenMs: now, lastPingMs: now, tokenHash, droppedInARow: 0, chain: Promise.resolve() };
    const previous = this.#connections.get(key);
    if (previous !== undefined) {
      // The same instance reconnected before its old link was seen dead: the new link wins.
      this.#log(`hub: ${key} reconnected; closing its previous connection`);
      previous.socket.terminate();
    }
    this.#connections.set(key, connection);
    this.#log(`hub: ${key} connected`);
    socket.on('message', (data, isBinary) => this.#receive(connection, data, isBinary));
    socket.on('pong', () => {
      connection.lastSeenMs = this.#clock.nowMs();
    });
    socket.on('error', (error) => this.#log(`hub: ${key}: ${error.message}`));
    socket.on('close', (code) => {
      if (this.#closed || this.#connections.get(key) !== connection) return;
      this.#connections.delete(key);
      const reason = `connection closed (${code})`;
      this.#log(`hub: ${key} disconnected: ${reason}`);
      this.#enqueue(connection, 'close', async () => {
        await this.#store.instanceDisconnected(checkpoint, id, this.#clock.wallNow().toISOString());
        await this.#events.gone(connection, reason);
      });
    });
  }

  /** Handle after everything the connection sent before; a failure is logged and the next message goes on. */
  #enqueue(connection: Connection, what: string, work: () => Promise<void>): void {
    const next = connection.chain.then(work).catch((error: unknown) => {
      this.#complaints.log(`hub:${connection.key}:failed`, `hub: ${connection.key}: handling ${what} failed: ${error instanceof Error ? error.message : String(error)}`);
    });
    connection.chain = next;
    this.#busy.add(next);
    void next.finally(() => this.#busy.delete(next));
  }

  /** Resolves when every message and close received so far has been handled (shutdown, before the store closes). */
  async settled(): Promise<void> {
    while (this.#busy.size > 0) await Promise.all([...this.#busy]);
  }

  /** This connection is still the instance's link (not closed, not replaced by a newer one). */
  #current(connection: Connection): boolean {
    return !this.#closed && this.#connections.get(connection.key) === connection;
  }

  #receive(connection: Connection, data: RawData, isBinary: boolean): void {
    // A link being closed (flooding, revoked) is not listened to any more.
    if (this.#closed || connection.socket.readyState !== connection.socket.OPEN) return;
    connection.lastSeenMs = this.#clock.nowMs();
    const source = `hub:${connection.key}`;
    const allowed = this.#messages.take(connection.key);
    if (!allowed.ok) {
      connection.droppedInARow++;
      this.#complaints.log(source, `hub: ${connection.key}: dropped a message: more than ${this.#limits.messagesPerSecond} per second`);
      // A flood that does not stop is not a burst: end the link (the agent reconnects with a backoff).
      if (connection.droppedInARow >= 10 * this.#limits.messageBurst) {
        this.#log(`hub: ${connection.key}: closing the link: it keeps flooding`);
        connection.socket.close(1008, 'too many messages');
      }
      return;
    }
    connection.droppedInARow = 0;
    if (isBinary) {
      this.#complaints.log(source, `hub: ${connection.key}: ignored a binary message`);
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(rawText(data));
    } catch {
      this.#complaints.log(source, `hub: ${connection.key}: ignored a message that is not JSON`);
      return;
    }
    const parsed = agentMessageSchema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      this.#complaints.log(source, `hub: ${connection.key}: ignored an invalid message: ${issue === undefined ? 'invalid' : `${formatIssuePath(issue.path)}: ${issue.message}`}`);
      return;
    }
    const message = parsed.data;
    this.#enqueue(connection, message.type, () => this.#handle(connection, message));
  }

  async #handle(connection: Connection, message: AgentMessage): Promise<void> {
    switch (message.type) {
      case 'hello':
        await this.#hello(connection, message);
        return;
      case 'heartbeat': {
        connection.lastHeartbeat = message;
        const capacity = connection.hello?.capacity ?? 0;
        const running = message.running.length;
        await this.#store.instanceHeartbeat({
          checkpoint: connection.checkpoint,
          id: connection.id,
          running,
          load: capacity > 0 ? Math.min(1, running / capacity) : 1,
          draining: message.draining,
          outboxDepth: message.outboxDepth,
          now: this.#clock.wallNow().toISOString(),
        });
        await this.#events.heartbeat(connection);
        return;
      }
      case 'run-status':
        await this.#events.runStatus(connection, message);
        return;
    }
  }

  async #hello(connection: Connection, hello: Hello): Promise<void> {
    if (hello.protocolVersion !== protocolVersion) {
      this.#log(`hub: ${connection.key}: speaks protocol ${hello.protocolVersion}, this control plane ${protocolVersion}; closing`);
      connection.socket.close(4000, `unsupported protocol version ${hello.protocolVersion} (expected ${protocolVersion})`);
      return;
    }
    if (hello.instanceId !== connection.id) {
      this.#log(`hub: ${connection.key}: hello names instance "${hello.instanceId}", the connection header "${connection.id}"; closing`);
      connection.socket.close(1008, 'instanceId does not match the X-Checkpoint-Instance header');
      return;
    }
    const input = {
      checkpoint: connection.checkpoint,
      id: connection.id,
      version: hello.version,
      capacity: hello.capacity,
      privacyLock: hello.privacyLock,
      startedAt: hello.startedAt,
      now: this.#clock.wallNow().toISOString(),
    };
    await this.#store.instanceHello(hello.browserVersion === undefined ? input : { ...input, browserVersion: hello.browserVersion });
    const monitors = await this.#definitions(connection.checkpoint);
    // Closed or replaced while the store answered: the welcome would go to the newer link.
    if (!this.#current(connection)) return;
    // Only now does the scheduler see it ready: nothing (a run, a monitors push) may reach it before its welcome.
    connection.hello = hello;
    this.#log(`hub: ${connection.key} ready (version ${hello.version}, capacity ${hello.capacity}${hello.privacyLock ? ', privacy lock on' : ''})`);
    this.send(connection.key, {
      type: 'welcome',
      protocolVersion,
      checkpoint: connection.checkpoint,
      heartbeatIntervalMs: this.#heartbeatIntervalMs,
      monitors,
    });
    await this.#events.ready(connection);
  }

  async #definitions(checkpoint: string): Promise<MonitorDefinition[]> {
    return (await this.#store.listMonitors(checkpoint)).map(definitionFromRecord);
  }

  /** Send a command; false when the instance is not connected. Every outgoing message is schema-checked. */
  send(key: string, message: ControlMessage): boolean {
    const connection = this.#connections.get(key);
    if (connection === undefined || connection.socket.readyState !== connection.socket.OPEN) return false;
    const parsed = controlMessageSchema.safeParse(message);
    if (!parsed.success) {
      // A message the protocol forbids is a bug or stored data it cannot carry: never send it, never crash on it.
      const issue = parsed.error.issues[0];
      this.#complaints.log(`send:${message.type}`, `hub: ${key}: not sending an invalid ${message.type}: ${issue === undefined ? 'invalid' : `${issue.path.join('.') || '(root)'}: ${issue.message}`}`);
      return false;
    }
    const checked = parsed.data;
    connection.socket.send(JSON.stringify(checked), (error) => {
      if (error !== undefined && error !== null) this.#log(`hub: ${key}: could not send ${message.type}: ${error.message}`);
    });
    return true;
  }

  /** Push the full current definitions to every greeted instance of a checkpoint. */
  async pushMonitors(checkpoint: string): Promise<void> {
    const greeted = () => [...this.#connections.values()].filter((connection) => connection.checkpoint === checkpoint && connection.hello !== undefined);
    // No link of that checkpoint here (another replica's, or none yet): nothing to read.
    if (greeted().length === 0) return;
    const monitors = await this.#definitions(checkpoint);
    for (const connection of greeted()) this.send(connection.key, { type: 'monitors', monitors });
  }

  /** Ask the connected instances of a checkpoint (or one of them) to drain: stop taking runs, finish, deliver. Returns their ids. */
  drain(checkpoint: string, reason: string, instanceId?: string): string[] {
    const drained: string[] = [];
    for (const connection of this.#connections.values()) {
      if (connection.checkpoint !== checkpoint || (instanceId !== undefined && connection.id !== instanceId)) continue;
      if (this.send(connection.key, { type: 'drain', reason })) drained.push(connection.id);
    }
    return drained;
  }

  /** Close the links of a checkpoint (or of one of its instances): deleted, or its tokens revoked. Returns their ids. */
  disconnect(checkpoint: string, reason: string, instanceId?: string): string[] {
    const closed: string[] = [];
    for (const connection of [...this.#connections.values()]) {
      if (connection.checkpoint !== checkpoint || (instanceId !== undefined && connection.id !== instanceId)) continue;
      this.#log(`hub: ${connection.key}: closing the link: ${reason}`);
      connection.socket.close(4001, reason.slice(0, 120));
      closed.push(connection.id);
    }
    return closed;
  }

  /**
   * Ping quiet links once per interval; terminate those silent for `missedHeartbeatsAllowed` intervals; close
   * those whose token no longer opens the checkpoint (revoked, rotated past its grace period, checkpoint deleted).
   */
  async checkLiveness(): Promise<void> {
    const now = this.#clock.nowMs();
    const nowIso = this.#clock.wallNow().toISOString();
    const deadAfter = missedHeartbeatsAllowed * this.#heartbeatIntervalMs;
    for (const connection of [...this.#connections.values()]) {
      const opens = (await this.#store.checkpointByTokenHash(connection.tokenHash, nowIso))?.name === connection.checkpoint;
      if (!this.#current(connection)) continue;
      if (!opens) {
        if (connection.socket.readyState === connection.socket.OPEN) {
          this.#log(`hub: ${connection.key}: its token is no longer valid; closing`);
          connection.socket.close(4001, 'token revoked or expired');
        }
      } else if (now - connection.lastSeenMs >= deadAfter) {
        this.#log(`hub: ${connection.key}: no heartbeat for ${now - connection.lastSeenMs} ms; terminating the link`);
        connection.socket.terminate();
      } else if (connection.hello === undefined && now - connection.connectedAtMs >= deadAfter) {
        this.#log(`hub: ${connection.key}: no hello after ${now - connection.connectedAtMs} ms; closing`);
        connection.socket.close(1008, 'expected hello');
      } else if (now - connection.lastPingMs >= this.#heartbeatIntervalMs) {
        connection.lastPingMs = now;
        connection.socket.ping();
      }
    }
  }

  /** Instances connected now (greeted or not), optionally of one checkpoint. */
  instances(checkpoint?: string): LiveInstance[] {
    return [...this.#connections.values()].filter((connection) => checkpoint === undefined || connection.checkpoint === checkpoint);
  }

  get(key: string): LiveInstance | undefined {
    return this.#connections.get(key);
  }

  /** Terminate every link at once (shutdown). */
  close(): void {
    this.#closed = true;
    for (const connection of this.#connections.values()) connection.socket.terminate();
    this.#wss.close();
  }
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}
