import WebSocket from 'ws';
import { Backoff, linkIsSilent, type BackoffOptions } from '../core/backoff.ts';
import type { Clock } from '../core/clock.ts';
import { agentPaths, controlMessageSchema, protocolVersion, type AgentMessage, type ControlMessage } from '../schema/protocol.ts';
import { controlPlaneAgents, type TransportOptions } from './transport.ts';
import { controlPlaneUrl } from './urls.ts';

type Hello = Extract<AgentMessage, { type: 'hello' }>;
type Heartbeat = Extract<AgentMessage, { type: 'heartbeat' }>;
type Welcome = Extract<ControlMessage, { type: 'welcome' }>;

export type ConnectionState = 'idle' | 'connecting' | 'greeting' | 'ready' | 'waiting' | 'rejected' | 'closed';

export type ConnectionEvent =
  | { type: 'connecting'; url: string }
  | { type: 'connected'; url: string }
  | { type: 'welcome'; checkpoint: string; heartbeatIntervalMs: number; monitors: number }
  | { type: 'disconnected'; reason: string }
  | { type: 'reconnecting'; delayMs: number; reason: string }
  | { type: 'credential-rejected'; status: number }
  | { type: 'link-silent'; silentMs: number }
  | { type: 'invalid-message'; problem: string }
  | { type: 'protocol-mismatch'; theirs: number; ours: number };

export interface ConnectionOptions {
  /** Base URL of the control plane (http/https; the WebSocket uses ws/wss on the same host). */
  controlPlane: URL;
  token: string;
  instanceId: string;
  /** CA, client certificate and proxy of the control-plane connection. */
  transport?: TransportOptions | undefined;
  clock: Clock;
  /** The hello sent right after every (re)connect. */
  hello(): Hello;
  /** A heartbeat, sent every `heartbeatIntervalMs` of the welcome. */
  heartbeat(): Heartbeat;
  /** Every valid control message, welcome included. */
  onControl(message: ControlMessage): void;
  onEvent(event: ConnectionEvent): void;
  backoff?: BackoffOptions;
  /** A connection that sent hello but got no welcome within this is dropped and retried. Default 10 s. */
  welcomeTimeoutMs?: number;
  /** Deadline of the TCP/TLS/upgrade handshake. Default 10 s. */
  handshakeTimeoutMs?: number;
}

/** Largest control message accepted (a monitors message carries every script of the checkpoint). */
const maxMessageBytes = 32 * 1024 * 1024;
/** run-status messages kept while the link is down, sent after the next welcome. */
const maxQueued = 1000;
/** Close codes a control plane may use to reject the credential after the upgrade. */
const credentialCloseCodes = new Set([4401, 4403]);

/**
 * The checkpoint's one outbound WebSocket. Connects, says hello, waits for welcome, heartbeats at the
 * control plane's pace and pings alongside; a link silent for 3 intervals is terminated. Reconnects with
 * capped, jittered backoff, except when the credential is rejected (HTTP 401/403 on the upgrade), which is
 * final. Every incoming message is validated; a bad one is reported and ignored.
 */
export class Connection {
  readonly #options: ConnectionOptions;
  readonly #url: URL;
  readonly #backoff: Backoff;
  /** No keep-alive: an upgraded socket leaves its agent. */
  readonly #agents: ReturnType<typeof controlPlaneAgents>;
  #socket: WebSocket | undefined;
  #state: ConnectionState = 'idle';
  #welcome: Welcome | undefined;
  #lastSeenMs = 0;
  #lastProblem = '';
  #rejectedStatus: number | undefined;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #heartbeatTimer: NodeJS.Timeout | undefined;
  #welcomeTimer: NodeJS.Timeout | undefined;
  #queue: AgentMessage[] = [];
  #stopping = false;

  constructor(options: ConnectionOptions) {
    this.#options = options;
    this.#url = controlPlaneUrl(options.controlPlane, agentPaths.websocket, 'ws');
    this.#backoff = new Backoff(options.clock, options.backoff);
    this.#agents = controlPlaneAgents(options.transport ?? {}, false);
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** The last welcome (undefined before the first). */
  get welcome(): Welcome | undefined {
    return this.#welcome;
  }

  get url(): string {
    return this.#url.href;
  }

  start(): void {
    if (this.#state !== 'idle') return;
    this.#connect();
  }

  #connect(): void {
    this.#reconnectTimer = undefined;
    if (this.#stopping) return;
    this.#state = 'connecting';
    this.#lastProblem = '';
    this.#options.onEvent({ type: 'connecting', url: this.#url.href });
    const socket = new WebSocket(this.#url, {
      headers: { Authorization: `Bearer ${this.#options.token}`, 'X-Checkpoint-Instance': this.#options.instanceId },
      handshakeTimeout: this.#options.handshakeTimeoutMs ?? 10_000,
      maxPayload: maxMessageBytes,
      perMessageDeflate: false,
      followRedirects: false,
      agent: this.#url.protocol === 'wss:' ? this.#agents.https : this.#agents.http,
    });
    this.#socket = socket;
    socket.on('unexpected-response', (_request, response) => {
      const status = response.statusCode ?? 0;
      response.resume();
      if (status === 401 || status === 403) this.#rejectedStatus = status;
      this.#lastProblem = `the control plane answered the upgrade with HTTP ${status}`;
      socket.terminate();
    });
    socket.on('open', () => {
      this.#state = 'greeting';
      this.#lastSeenMs = this.#options.clock.nowMs();
      this.#options.onEvent({ type: 'connected', url: this.#url.href });
      this.#sendNow(this.#options.hello());
      this.#welcomeTimer = setTimeout(() => {
        this.#lastProblem = `no welcome within ${this.#options.welcomeTimeoutMs ?? 10_000} ms`;
        socket.terminate();
      }, this.#options.welcomeTimeoutMs ?? 10_000);
    });
    socket.on('message', (data, isBinary) => this.#onMessage(socket, data, isBinary));
    socket.on('pong', () => {
      this.#lastSeenMs = this.#options.clock.nowMs();
    });
    socket.on('error', (error) => {
      this.#lastProblem ||= error.message;
    });
    socket.on('close', (code, reason) => this.#onClose(socket, code, reason.toString('utf8')));
  }

  #onMessage(socket: WebSocket, data: WebSocket.RawData, isBinary: boolean): void {
    if (socket !== this.#socket) return;
    this.#lastSeenMs = this.#options.clock.nowMs();
    if (isBinary) {
      this.#options.onEvent({ type: 'invalid-message', problem: 'binary message (expected JSON text)' });
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(Buffer.isBuffer(data) ? data.toString('utf8') : Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data).toString('utf8'));
    } catch {
      this.#options.onEvent({ type: 'invalid-message', problem: 'not JSON' });
      return;
    }
    const parsed = controlMessageSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue === undefined || issue.path.length === 0 ? '(root)' : issue.path.join('.');
      const type = typeof json === 'object' && json !== null && 'type' in json ? String(json.type) : '?';
      this.#options.onEvent({ type: 'invalid-message', problem: `type ${type}: ${where}: ${issue?.message ?? 'invalid'}` });
      return;
    }
    const message = parsed.data;
    if (message.type === 'welcome') this.#onWelcome(socket, message);
    this.#options.onControl(message);
  }

  #onWelcome(socket: WebSocket, welcome: Welcome): void {
    clearTimeout(this.#welcomeTimer);
    this.#welcome = welcome;
    this.#state = 'ready';
    this.#backoff.linkUp();
    if (welcome.protocolVersion !== protocolVersion) this.#options.onEvent({ type: 'protocol-mismatch', theirs: welcome.protocolVersion, ours: protocolVersion });
    this.#options.onEvent({ type: 'welcome', checkpoint: welcome.checkpoint, heartbeatIntervalMs: welcome.heartbeatIntervalMs, monitors: welcome.monitors.length });
    clearInterval(this.#heartbeatTimer);
    const interval = welcome.heartbeatIntervalMs;
    this.#heartbeatTimer = setInterval(() => {
      const now = this.#options.clock.nowMs();
      if (linkIsSilent(this.#lastSeenMs, now, interval)) {
        this.#options.onEvent({ type: 'link-silent', silentMs: Math.round(now - this.#lastSeenMs) });
        this.#lastProblem = `nothing from the control plane for ${Math.round(now - this.#lastSeenMs)} ms`;
        socket.terminate();
        return;
      }
      this.heartbeatNow();
      if (socket.readyState === WebSocket.OPEN) socket.ping();
    }, interval);
    const queued = this.#queue;
    this.#queue = [];
    for (const message of queued) this.#sendNow(message);
    this.heartbeatNow();
  }

  #onClose(socket: WebSocket, code: number, reason: string): void {
    if (socket !== this.#socket) return;
    this.#socket = undefined;
    clearTimeout(this.#welcomeTimer);
    clearInterval(this.#heartbeatTimer);
    this.#heartbeatTimer = undefined;
    const wasUp = this.#state === 'ready';
    if (wasUp) this.#backoff.linkDown();
    if (this.#stopping) {
      this.#state = 'closed';
      return;
    }
    if (credentialCloseCodes.has(code)) this.#rejectedStatus = code === 4401 ? 401 : 403;
    if (this.#rejectedStatus !== undefined) {
      this.#state = 'rejected';
      this.#options.onEvent({ type: 'credential-rejected', status: this.#rejectedStatus });
      return;
    }
    const why = this.#lastProblem || (reason === '' ? `closed with code ${code}` : `closed with code ${code}: ${reason}`);
    if (wasUp || this.#state === 'greeting') this.#options.onEvent({ type: 'disconnected', reason: why });
    this.#state = 'waiting';
    const delayMs = this.#backoff.nextDelayMs();
    this.#options.onEvent({ type: 'reconnecting', delayMs, reason: why });
    this.#reconnectTimer = setTimeout(() => this.#connect(), delayMs);
  }

  #sendNow(message: AgentMessage): boolean {
    const socket = this.#socket;
    if (socket?.readyState !== WebSocket.OPEN) return false;
    socket.send(JSON.stringify(message));
    return true;
  }

  /** Send a heartbeat now (also after a state change such as the start of a drain). */
  heartbeatNow(): void {
    if (this.#state === 'ready') this.#sendNow(this.#options.heartbeat());
  }

  /**
   * Send a message. Run statuses wait (bounded) for the next welcome when the link is down; they are
   * advisory, the result envelope is what counts.
   */
  send(message: AgentMessage): boolean {
    if (this.#state === 'ready' && this.#sendNow(message)) return true;
    if (message.type === 'run-status' && !this.#stopping) {
      this.#queue.push(message);
      if (this.#queue.length > maxQueued) this.#queue.shift();
    }
    return false;
  }

  /** Close cleanly (code 1000) and stop reconnecting. Waits up to `timeoutMs` for the close handshake. */
  async close(reason = 'checkpoint stopping', timeoutMs = 3_000): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#reconnectTimer);
    clearTimeout(this.#welcomeTimer);
    clearInterval(this.#heartbeatTimer);
    const socket = this.#socket;
    if (socket === undefined || socket.readyState === WebSocket.CLOSED) {
      this.#state = 'closed';
      return;
    }
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    if (socket.readyState === WebSocket.OPEN) socket.close(1000, reason.slice(0, 120));
    else socket.terminate();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([closed, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
    // Narrowing above does not see the await: the state may have changed meanwhile.
    if ((socket.readyState as number) !== WebSocket.CLOSED) socket.terminate();
    this.#state = 'closed';
    this.#agents.http.destroy();
    this.#agents.https.destroy();
  }
}
