import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { RunCommand, ResultEnvelope } from '../../engine/schema/protocol.ts';
import type { InstanceStatus } from '../../control-plane/scheduler.ts';
import { startControlPlane, type ControlPlane, type ControlPlaneOptions } from '../../control-plane/server.ts';
import type { AlertRecord, RunRecord } from '../../control-plane/store.ts';
import { FakeAgent, FakeClock, type Answer } from './fake-agent.ts';

/**
 * A control plane on loopback with a fake clock, and fake agents: what the control-plane integration tests share.
 */
export const adminToken = 'admin-secret-for-tests';

export interface Reply<T = ErrorBody> {
  status: number;
  /** The parsed JSON body, typed as the test expects it; a wrong shape fails the assertion that reads it. */
  body: T;
}

export interface ErrorBody {
  error: { code: string; message: string; path?: string };
}

export interface CheckpointBody {
  name: string;
  health: string;
  online: number;
  instances: InstanceStatus[];
  token?: string;
}

export interface RunBody {
  run: RunRecord;
  result: ResultEnvelope | null;
  duplicates: number;
}

export interface Harness {
  cp: ControlPlane;
  clock: FakeClock;
  dataDir: string;
  logs: string[];
  call<T = ErrorBody>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Reply<T>>;
  checkpoint(name: string): Promise<CheckpointBody>;
  run(runId: string): Promise<RunBody>;
  createCheckpoint(name: string): Promise<string>;
  createMonitor(input: Record<string, unknown>): Promise<{ id: string }>;
  agent(token: string, instanceId: string, options?: { capacity?: number; checkCapacity?: number; autoAnswer?: (run: RunCommand) => Answer | undefined }): Promise<FakeAgent>;
  runs(monitorId: string): Promise<RunRecord[]>;
  alerts(): Promise<AlertRecord[]>;
}

/**
 * A control plane on 127.0.0.1 port 0 with a fake clock; the maintenance timer is effectively off (tests tick).
 * Fake agents heartbeat only when told, so the heartbeat interval defaults to its maximum (600 s): a test that
 * moves the clock by minutes does not see its agents declared dead unless it means to.
 */
export async function harness(t: TestContext, options: Partial<ControlPlaneOptions> = {}): Promise<Harness> {
  const dataDir = await mkdtemp(join(tmpdir(), 'control-plane-'));
  const clock = options.clock instanceof FakeClock ? options.clock : new FakeClock();
  const logs: string[] = [];
  const cp = await startControlPlane({ dataDir, clock, adminToken, log: (line) => logs.push(line), tickIntervalMs: 3_600_000, heartbeatIntervalMs: 600_000, ...options });
  const agents: FakeAgent[] = [];
  t.after(async () => {
    await cp.close();
    await Promise.all(agents.map((agent) => agent.kill()));
    await rm(dataDir, { recursive: true, force: true });
  });
  const call = async <T = ErrorBody>(method: string, path: string, body?: unknown, headers: Record<string, string> = { Authorization: `Bearer ${adminToken}` }): Promise<Reply<T>> => {
    const response = await fetch(`${cp.url}${path}`, {
      method,
      headers: { ...headers, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: (text === '' ? undefined : JSON.parse(text)) as T };
  };
  return {
    cp,
    clock,
    dataDir,
    logs,
    call,
    createCheckpoint: async (name) => {
      const reply = await call<{ token: string }>('POST', '/api/v1/checkpoints', { name });
      assert.equal(reply.status, 201, JSON.stringify(reply.body));
      return reply.body.token;
    },
    createMonitor: async (input) => {
      const reply = await call<{ id: string }>('POST', '/api/v1/monitors', input);
      assert.equal(reply.status, 201, JSON.stringify(reply.body));
      return reply.body;
    },
    agent: async (token, instanceId, agentOptions = {}) => {
      const agent = await FakeAgent.connect({ baseUrl: cp.url, token, instanceId, ...agentOptions });
      agents.push(agent);
      return agent;
    },
    checkpoint: async (name) => (await call<CheckpointBody>('GET', `/api/v1/checkpoints/${name}`)).body,
    run: async (runId) => (await call<RunBody>('GET', `/api/v1/runs/${runId}`)).body,
    runs: async (monitorId) => (await call<{ runs: RunRecord[] }>('GET', `/api/v1/monitors/${monitorId}/runs?limit=1000`)).body.runs,
    alerts: async () => (await call<{ alerts: AlertRecord[] }>('GET', '/api/v1/alerts')).body.alerts,
  };
}

/** Retry an assertion until it holds: for state that another process (the control plane) reaches asynchronously. */
export async function eventually(check: () => Promise<void> | void, what = 'condition'): Promise<void> {
  const giveUpAt = Date.now() + 10_000;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > giveUpAt) throw new Error(`${what} never held: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      await new Promise((resolve) => setTimeout(resolve, 15));
    }
  }
}

export function script(name: string, timeoutMs = 10_000) {
  return { name, timeoutMs, steps: [{ name: 'Open the intranet', actions: [{ type: 'navigate', url: 'http://intranet.example/' }] }] };
}

export function monitor(name: string, checkpoint: string, extra: Record<string, unknown> = {}) {
  return { name, checkpoint, intervalSeconds: 60, script: script(name), ...extra };
}

export async function instanceOf(h: Harness, monitorId: string, runIndexFromOldest: number): Promise<string> {
  let instance = '';
  await eventually(async () => {
    const runs = await h.runs(monitorId);
    const run = runs.at(-1 - runIndexFromOldest);
    assert.ok(run !== undefined, `run ${runIndexFromOldest} not dispatched yet`);
    instance = run.instance ?? '';
  }, `run ${runIndexFromOldest} of ${monitorId}`);
  return instance;
}
