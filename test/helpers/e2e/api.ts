import { createHash } from 'node:crypto';
import type { InstanceStatus } from '../../../control-plane/scheduler.ts';
import type { AlertRecord, CheckpointRecord, MonitorRecord, RunRecord } from '../../../control-plane/store.ts';
import type { MonitorDefinition, ResultEnvelope } from '../../../engine/schema/protocol.ts';

export interface ApiReply<T> {
  status: number;
  body: T;
  text: string;
}

/** GET /api/v1/runs/:runId */
export interface RunView {
  run: RunRecord;
  result: ResultEnvelope | null;
  receivedAt: string | null;
  duplicates: number;
}

/** GET /api/v1/checkpoints/:name */
export interface CheckpointView extends CheckpointRecord {
  online: number;
  instances: InstanceStatus[];
}

/** POST /api/v1/monitors: a definition whose `enabled` may be left out (it defaults to true). */
export type MonitorInput = Omit<MonitorDefinition, 'enabled'> & { enabled?: boolean };

export class ApiError extends Error {
  readonly status: number;
  constructor(message: string, status: number) {
    super(message);
    this.status = status;
  }
}

/**
 * The control plane's REST API as a test uses it (loopback clients are admins when no admin token is set).
 * Each call is bounded by a 10 s deadline; an unexpected status throws with the response body.
 */
export class ControlPlaneApi {
  readonly baseUrl: string;

  constructor(baseUrl: string) {
    this.baseUrl = baseUrl;
  }

  async call<T>(method: string, path: string, body?: unknown): Promise<ApiReply<T>> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return { status: response.status, body: parsed as T, text };
  }

  async #expect<T>(status: number, method: string, path: string, body?: unknown): Promise<T> {
    const reply = await this.call<T>(method, path, body);
    if (reply.status !== status) throw new ApiError(`${method} ${path}: expected HTTP ${status}, got ${reply.status}: ${reply.text.slice(0, 500)}`, reply.status);
    return reply.body;
  }

  /** Create a checkpoint; returns its token (shown once). */
  async createCheckpoint(name: string): Promise<string> {
    const created = await this.#expect<{ token: string }>(201, 'POST', '/api/v1/checkpoints', { name });
    return created.token;
  }

  async checkpoint(name: string): Promise<CheckpointView> {
    return this.#expect<CheckpointView>(200, 'GET', `/api/v1/checkpoints/${encodeURIComponent(name)}`);
  }

  async createMonitor(input: MonitorInput): Promise<MonitorRecord> {
    return this.#expect<MonitorRecord>(201, 'POST', '/api/v1/monitors', input);
  }

  /** POST /api/v1/monitors/:id/run (202), the manual run. */
  async runNow(monitorId: string): Promise<{ runId: string; instance: string }> {
    return this.#expect<{ runId: string; instance: string }>(202, 'POST', `/api/v1/monitors/${encodeURIComponent(monitorId)}/run`);
  }

  /** The monitor's runs, newest first. */
  async runs(monitorId: string): Promise<RunRecord[]> {
    return (await this.#expect<{ runs: RunRecord[] }>(200, 'GET', `/api/v1/monitors/${encodeURIComponent(monitorId)}/runs?limit=1000`)).runs;
  }

  async run(runId: string): Promise<RunView> {
    return this.#expect<RunView>(200, 'GET', `/api/v1/runs/${encodeURIComponent(runId)}`);
  }

  /** Every alert, newest first. */
  async alerts(): Promise<AlertRecord[]> {
    return (await this.#expect<{ alerts: AlertRecord[] }>(200, 'GET', '/api/v1/alerts?limit=1000')).alerts;
  }

  /** GET /api/v1/artifacts/:sha256 with the bytes and their actual SHA-256. */
  async artifact(sha256: string): Promise<{ status: number; contentType: string; bytes: Buffer; sha256: string }> {
    const response = await fetch(`${this.baseUrl}/api/v1/artifacts/${sha256}`, { signal: AbortSignal.timeout(10_000) });
    const bytes = Buffer.from(await response.arrayBuffer());
    return { status: response.status, contentType: response.headers.get('content-type') ?? '', bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
  }
}
