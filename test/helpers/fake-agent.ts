import { createHash } from 'node:crypto';
import WebSocket from 'ws';
import type { Clock } from '../../engine/core/clock.ts';
import {
  agentPaths,
  controlMessageSchema,
  protocolVersion,
  resultAckSchema,
  type AgentMessage,
  type ControlMessage,
  type ResultAck,
  type ResultEnvelope,
  type RunCommand,
} from '../../engine/schema/protocol.ts';
import type { RunResult } from '../../engine/schema/result.ts';

/** A clock that moves only when told to: monotonic ms from 0, wall time from a fixed origin. */
export class FakeClock implements Clock {
  #ms = 0;
  readonly #origin: number;

  constructor(origin = Date.parse('2025-05-14T09:00:00.000Z')) {
    this.#origin = origin;
  }

  nowMs(): number {
    return this.#ms;
  }

  wallNow(): Date {
    return new Date(this.#origin + this.#ms);
  }

  advance(ms: number): void {
    this.#ms += ms;
  }
}

/** The smallest valid RunResult: one step with one action. */
export function minimalResult(input: { runId: string; status: RunResult['status']; durationMs?: number; script?: string; screenshot?: string }): RunResult {
  const durationMs = input.durationMs ?? 1234;
  const stepStatus = input.status === 'passed' ? 'passed' : 'failed';
  const step: RunResult['steps'][number] = {
    name: 'Open the intranet',
    status: stepStatus,
    durationMs,
    actions: [{ index: 0, type: 'navigate', status: stepStatus, durationMs }],
  };
  if (input.status !== 'passed') step.error = { code: 'ASSERTION_FAILED', message: 'expected the page to contain "Welcome"', blame: 'site', action: 0 };
  if (input.screenshot !== undefined) step.screenshot = input.screenshot;
  return {
    schemaVersion: 1,
    runId: input.runId,
    script: input.script ?? 'Intranet login',
    status: input.status,
    startedAt: '2025-05-14T09:00:00.000Z',
    durationMs,
    steps: [step],
    artifacts: input.screenshot === undefined ? [] : [{ kind: 'screenshot', path: input.screenshot, step: 0, contentType: 'image/png', sizeBytes: 1 }],
  };
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export interface Answer {
  status: RunResult['status'];
  durationMs?: number;
  /** PNG bytes to upload as the step's screenshot. */
  screenshot?: Uint8Array;
}

/**
 * A checkpoint instance as the control plane sees it, without a browser: it connects with its token, says hello,
 * heartbeats when asked, validates every command it receives against the protocol, and answers runs by
 * uploading artifacts and POSTing result envelopes — by hand, or automatically with `autoAnswer`.
 */
export class FakeAgent {
  /** Where results and artifacts go; a test may point it at a restarted control plane. */
  baseUrl: string;
  readonly token: string;
  readonly instanceId: string;
  readonly capacity: number;
  readonly socket: WebSocket;
  /** Every command received, in order. */
  readonly received: ControlMessage[] = [];
  autoAnswer: ((run: RunCommand) => Answer | undefined) | undefined;
  readonly #unread: ControlMessage[] = [];
  readonly #waiters: { match: (message: ControlMessage) => boolean; resolve: (message: ControlMessage) => void }[] = [];
  readonly #answers = new Set<Promise<unknown>>();
  readonly closed: Promise<void>;

  private constructor(baseUrl: string, token: string, instanceId: string, capacity: number, socket: WebSocket) {
    this.baseUrl = baseUrl;
    this.token = token;
    this.instanceId = instanceId;
    this.capacity = capacity;
    this.socket = socket;
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('message', (data: Buffer) => this.#receive(data.toString('utf8')));
    // Errors after the handshake end in 'close', which is what tests observe.
    socket.on('error', () => undefined);
  }

  static async connect(input: { baseUrl: string; token: string; instanceId: string; capacity?: number; checkCapacity?: number; version?: string; browserVersion?: string; autoAnswer?: (run: RunCommand) => Answer | undefined }): Promise<FakeAgent> {
    const socket = new WebSocket(`${input.baseUrl.replace(/^http/, 'ws')}${agentPaths.websocket}`, {
      headers: { Authorization: `Bearer ${input.token}`, 'X-Checkpoint-Instance': input.instanceId },
    });
    const agent = new FakeAgent(input.baseUrl, input.token, input.instanceId, input.capacity ?? 2, socket);
    agent.autoAnswer = input.autoAnswer;
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
      socket.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused with HTTP ${res.statusCode ?? 0}`)));
    });
    agent.send({
      type: 'hello',
      protocolVersion,
      instanceId: input.instanceId,
      version: input.version ?? '0.1.0-test',
      browserVersion: input.browserVersion ?? 'Chromium 140.0 (fake)',
      capacity: agent.capacity,
      ...(input.checkCapacity === undefined ? {} : { checkCapacity: input.checkCapacity }),
      privacyLock: false,
      startedAt: new Date().toISOString(),
    });
    await agent.next('welcome');
    return agent;
  }

  #receive(text: string): void {
    // The fake agent holds the control plane to the protocol: an invalid command fails the test loudly.
    const message = controlMessageSchema.parse(JSON.parse(text));
    this.received.push(message);
    if (message.type === 'run' && this.autoAnswer !== undefined) {
      const answer = this.autoAnswer(message);
      if (answer !== undefined) {
        const work = this.answer(message, answer);
        this.#answers.add(work);
        void work.finally(() => this.#answers.delete(work));
      }
    }
    const waiter = this.#waiters.findIndex((candidate) => candidate.match(message));
    if (waiter >= 0) {
      const [found] = this.#waiters.splice(waiter, 1);
      found?.resolve(message);
    } else {
      this.#unread.push(message);
    }
  }

  send(message: AgentMessage): void {
    this.socket.send(JSON.stringify(message));
  }

  /** The next command of a type not yet taken by an earlier `next` (waits for it if needed). */
  next<T extends ControlMessage['type']>(type: T, timeoutMs = 5000): Promise<Extract<ControlMessage, { type: T }>> {
    const match = (message: ControlMessage) => message.type === type;
    const index = this.#unread.findIndex(match);
    if (index >= 0) return Promise.resolve(this.#unread.splice(index, 1)[0] as Extract<ControlMessage, { type: T }>);
    return new Promise((resolve, reject) => {
      const waiter = { match, resolve: (message: ControlMessage) => resolve(message as Extract<ControlMessage, { type: T }>) };
      this.#waiters.push(waiter);
      // A guard against a hanging test, not a timing assertion.
      setTimeout(() => {
        const at = this.#waiters.indexOf(waiter);
        if (at < 0) return;
        this.#waiters.splice(at, 1);
        reject(new Error(`${this.instanceId}: no ${type} command arrived`));
      }, timeoutMs).unref();
    });
  }

  /** Commands of a type received so far and not yet taken by `next`. */
  unread(type: ControlMessage['type']): ControlMessage[] {
    return this.#unread.filter((message) => message.type === type);
  }

  heartbeat(running: string[] = []): void {
    this.send({
      type: 'heartbeat',
      sentAt: new Date().toISOString(),
      running,
      freeSlots: Math.max(0, this.capacity - running.length),
      queued: 0,
      outboxDepth: 0,
      outboxOldestAgeMs: 0,
      draining: false,
    });
  }

  async putArtifact(bytes: Uint8Array, contentType = 'image/png', claimedSha256 = sha256(bytes)): Promise<{ status: number; body: unknown }> {
    const response = await fetch(`${this.baseUrl}${agentPaths.artifact(claimedSha256)}`, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${this.token}`, 'Content-Type': contentType },
      body: Buffer.from(bytes),
    });
    return { status: response.status, body: await response.json() };
  }

  async postResult(envelope: ResultEnvelope, idempotencyKey = envelope.runId): Promise<{ status: number; ack?: ResultAck; body: unknown }> {
    const response = await fetch(`${this.baseUrl}${agentPaths.results}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${this.token}`, 'Content-Type': 'application/json', 'Idempotency-Key': idempotencyKey },
      body: JSON.stringify(envelope),
    });
    const body: unknown = await response.json();
    const parsed = resultAckSchema.safeParse(body);
    return parsed.success ? { status: response.status, ack: parsed.data, body } : { status: response.status, body };
  }

  /** The envelope this instance would deliver for a run. */
  envelope(run: Pick<RunCommand, 'runId' | 'monitorId' | 'attempt'> & { monitor?: { script: { name: string } } }, answer: Answer, screenshotSha256?: string): ResultEnvelope {
    const screenshot = screenshotSha256 === undefined ? undefined : 'screenshots/step-1.png';
    const result = minimalResult({
      runId: run.runId,
      status: answer.status,
      ...(answer.durationMs === undefined ? {} : { durationMs: answer.durationMs }),
      ...(run.monitor === undefined ? {} : { script: run.monitor.script.name }),
      ...(screenshot === undefined ? {} : { screenshot }),
    });
    result.checkpoint = { instanceId: this.instanceId, version: '0.1.0-test' };
    return {
      runId: run.runId,
      monitorId: run.monitorId,
      attempt: run.attempt,
      instanceId: this.instanceId,
      finishedAt: new Date().toISOString(),
      result,
      artifacts:
        screenshot === undefined || screenshotSha256 === undefined
          ? []
          : [{ path: screenshot, sha256: screenshotSha256, contentType: 'image/png', sizeBytes: answer.screenshot?.byteLength ?? 0 }],
    };
  }

  /** Answer a run the way a real instance does: started, artifacts first, then the result, then finished. */
  async answer(run: RunCommand, answer: Answer): Promise<ResultAck> {
    this.send({ type: 'run-status', runId: run.runId, status: 'accepted' });
    this.send({ type: 'run-status', runId: run.runId, status: 'started' });
    let screenshotSha: string | undefined;
    if (answer.screenshot !== undefined) {
      const uploaded = await this.putArtifact(answer.screenshot);
      if (uploaded.status !== 200 && uploaded.status !== 201) throw new Error(`artifact upload answered ${uploaded.status}`);
      screenshotSha = sha256(answer.screenshot);
    }
    const posted = await this.postResult(this.envelope(run, answer, screenshotSha));
    if (posted.ack === undefined) throw new Error(`result POST answered ${posted.status}: ${JSON.stringify(posted.body)}`);
    this.send({ type: 'run-status', runId: run.runId, status: 'finished' });
    return posted.ack;
  }

  /** Wait for every automatic answer started so far. */
  async answered(): Promise<void> {
    while (this.#answers.size > 0) await Promise.all([...this.#answers]);
  }

  /** Close the link cleanly. */
  async close(): Promise<void> {
    if (this.socket.readyState !== WebSocket.CLOSED) this.socket.close(1000, 'bye');
    await this.closed;
  }

  /** Vanish without a goodbye (as a SIGKILLed container does). */
  async kill(): Promise<void> {
    this.socket.terminate();
    await this.closed;
  }
}

/** Try an agent WebSocket upgrade; resolves with the HTTP status the control plane refused it with (or 101). */
export function tryUpgrade(baseUrl: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}${agentPaths.websocket}`, { headers });
    socket.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      socket.terminate();
    });
    socket.once('open', () => {
      resolve(101);
      socket.terminate();
    });
    socket.on('error', (error) => reject(error));
  });
}
