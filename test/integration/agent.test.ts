import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runAgentCommand, type AgentCommandOptions } from '../../engine/agent/agent-command.ts';
import type { AgentEvent } from '../../engine/agent/events.ts';
import { Outbox } from '../../engine/agent/outbox.ts';
import type { MonitorDefinition, RunCommand } from '../../engine/schema/protocol.ts';
import { monitorScriptSchema, scriptSchema } from '../../engine/schema/script.ts';
import { startDemoSite, type DemoSite } from '../../scripts/demo-site/server.ts';
import { demoSecrets, loginStep } from '../helpers/engine.ts';
import { FakeControlPlane, findImageSignatures, type FakeControlPlaneOptions } from '../helpers/fake-control-plane.ts';

const agentMain = fileURLToPath(new URL('../helpers/agent-main.ts', import.meta.url));
const fastBackoff = { baseMs: 50, capMs: 400 };
/**
 * The demo secrets are allowed by name (the agent gives scripts nothing else of its environment), and the
 * machines that run the tests may run them as root, where the agent needs consent to run Chromium unsandboxed.
 */
const agentTestEnv = { CHECKPOINT_SECRETS_ENV: Object.keys(demoSecrets).join(','), CHECKPOINT_ALLOW_NO_SANDBOX: '1' };

let site: DemoSite;
const cleanups: (() => Promise<void>)[] = [];

before(async () => {
  site = await startDemoSite();
});
after(async () => {
  await site.close();
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function controlPlane(options: FakeControlPlaneOptions = {}): Promise<FakeControlPlane> {
  const cp = await FakeControlPlane.start(options);
  cleanups.push(() => cp.close());
  return cp;
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'checkpoint-agent-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

interface InProcessAgent {
  lines: string[];
  events: AgentEvent[];
  health: string;
  dataDir: string;
  /** Resolves with the first event matching `predicate`. */
  waitForEvent<T extends AgentEvent['type']>(type: T, predicate?: (event: Extract<AgentEvent, { type: T }>) => boolean, timeoutMs?: number): Promise<Extract<AgentEvent, { type: T }>>;
  /** Drain like SIGTERM and resolve with the exit code. */
  stop(): Promise<number>;
}

/** Run `runAgentCommand` in this process against `cp`, stopped through an AbortSignal. */
async function startAgent(cp: FakeControlPlane, options: Partial<AgentCommandOptions> = {}, env: Record<string, string | undefined> = { ...process.env, ...demoSecrets, ...agentTestEnv }): Promise<InProcessAgent> {
  const dataDir = await tempDir();
  const lines: string[] = [];
  const events: AgentEvent[] = [];
  const emitter = new EventEmitter();
  emitter.setMaxListeners(50);
  const controller = new AbortController();
  let healthUrl: ((url: string) => void) | undefined;
  const health = new Promise<string>((resolve) => (healthUrl = resolve));
  const exit = runAgentCommand(
    { controlPlane: cp.url, token: cp.token, instanceId: `agent-${Math.random().toString(16).slice(2, 8)}`, dataDir, healthPort: 0, concurrency: 2, backoff: fastBackoff, ...options },
    {
      stderr: (text) => {
        for (const line of text.split('\n').filter((l) => l !== '')) {
          lines.push(line);
          const match = /health on (http:\/\/\S+)/.exec(line);
          if (match?.[1] !== undefined) healthUrl?.(match[1]);
        }
      },
      signal: controller.signal,
      handleSignals: false,
      env,
      onEvent: (event) => {
        events.push(event);
        emitter.emit('event', event);
      },
    },
  );
  let stopped: Promise<number> | undefined;
  const stop = () => {
    controller.abort();
    stopped ??= exit;
    return stopped;
  };
  cleanups.push(async () => {
    await stop();
  });
  const url = await Promise.race([health, exit.then((code) => Promise.reject(new Error(`the agent exited with ${code}: ${lines.join('\n')}`)))]);
  return {
    lines,
    events,
    health: url,
    dataDir,
    stop,
    waitForEvent(type, predicate = () => true, timeoutMs = 60_000) {
      type Wanted = Extract<AgentEvent, { type: typeof type }>;
      const matches = (event: AgentEvent): event is Wanted => event.type === type && predicate(event as Wanted);
      const seen = events.find(matches);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          emitter.off('event', listener);
          reject(new Error(`timed out waiting for agent event ${type}; log:\n${lines.join('\n')}`));
        }, timeoutMs);
        const listener = (event: AgentEvent) => {
          if (!matches(event)) return;
          clearTimeout(timer);
          emitter.off('event', listener);
          resolve(event);
        };
        emitter.on('event', listener);
      });
    },
  };
}

async function getJson(url: string): Promise<{ status: number; body: unknown; text: string }> {
  const response = await fetch(url);
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, body, text };
}

/** Poll `check` (an observable condition, not a speed) until it holds or `timeoutMs` passes. */
async function eventually<T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function monitor(id: string, script: unknown, capture?: MonitorDefinition['capture']): MonitorDefinition {
  return { id, name: id, checkpoint: 'test-checkpoint', intervalSeconds: 60, enabled: true, script: scriptSchema.parse(script), ...(capture === undefined ? {} : { capture }) };
}

function runCommand(runId: string, definition: MonitorDefinition): RunCommand {
  return { type: 'run', runId, monitorId: definition.id, attempt: 1, reason: 'manual', monitor: definition };
}

function slowScript(delayMs: number) {
  return { name: `Slow page ${delayMs} ms`, steps: [{ name: 'Open slow page', actions: [{ type: 'navigate', url: `${site.url}/slow?delayMs=${delayMs}` }, { type: 'assertText', text: 'Served after' }] }] };
}

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function welcomed(cp: FakeControlPlane, agent: InProcessAgent): Promise<void> {
  await agent.waitForEvent('welcome');
  await cp.waitFor(() => cp.agentMessages('heartbeat').length > 0, 'a first heartbeat');
}

describe('checkpoint agent against a fake control plane', () => {
  it('runs a run command and delivers the result envelope, every artifact uploaded before it', async () => {
    const cp = await controlPlane();
    const agent = await startAgent(cp);
    await welcomed(cp, agent);
    assert.equal((await getJson(`${agent.health}/readyz`)).status, 200);
    const hello = cp.agentMessages('hello')[0];
    assert.equal(hello?.capacity, 2);
    assert.equal(hello.privacyLock, false);

    const definition = monitor('login', { name: 'Demo login', steps: [loginStep(site.url)] }, { screenshots: 'all' });
    cp.send(runCommand('run-happy', definition));
    const envelope = await cp.waitFor(() => cp.results.get('run-happy'), 'the result of run-happy');

    assert.equal(envelope.result.status, 'passed', JSON.stringify(envelope.result.steps.map((s) => s.error)));
    assert.equal(envelope.instanceId, hello.instanceId);
    assert.equal(envelope.result.checkpoint?.instanceId, hello.instanceId);
    assert.equal(envelope.result.checkpoint.name, 'test-checkpoint');
    assert.ok(envelope.artifacts.length >= 1, 'screenshots: all produced an artifact');
    const resultIndex = cp.deliveries.findIndex((d) => d.kind === 'result' && d.runId === 'run-happy');
    for (const artifact of envelope.artifacts) {
      assert.ok(cp.artifacts.has(artifact.sha256), `${artifact.path} was uploaded`);
      const uploadIndex = cp.deliveries.findIndex((d) => d.kind === 'artifact' && d.sha256 === artifact.sha256);
      assert.ok(uploadIndex >= 0 && uploadIndex < resultIndex, `${artifact.path} was uploaded before the envelope`);
    }
    const post = cp.requests.find((r) => r.method === 'POST' && r.path === '/api/v1/results');
    assert.equal(post?.headers['idempotency-key'], 'run-happy');
    assert.notDeepEqual(findImageSignatures(cp.allReceivedBytes()), [], 'the screenshot reached the control plane (so the privacy scan does see images)');
    await cp.waitFor(() => cp.runStatuses('run-happy').includes('finished') || undefined, 'run-status finished');
    assert.deepEqual(cp.runStatuses('run-happy'), ['accepted', 'started', 'finished']);

    const metrics = await eventually(async () => {
      const { text } = await getJson(`${agent.health}/metrics`);
      return text.includes('checkpoint_outbox_depth 0') ? text : undefined;
    }, 'an empty outbox in /metrics');
    assert.match(metrics, /^checkpoint_runs_total\{status="passed"\} 1$/m);
    assert.match(metrics, /^checkpoint_connected 1$/m);
    assert.match(metrics, /^checkpoint_lease_wait_seconds_count 1$/m);
    assert.match(metrics, /^checkpoint_queue_depth 0$/m);
    assert.match(metrics, /^checkpoint_outbox_artifacts_dropped_total 0$/m);
    assert.match(metrics, /^# TYPE checkpoint_browser_restarts_total counter$/m);
    assert.equal((await getJson(`${agent.health}/healthz`)).status, 200);

    assert.equal(await agent.stop(), 0);
    assert.ok(cp.closes.some((c) => c.instanceId === hello.instanceId && c.code === 1000), 'the WebSocket was closed cleanly');
    assert.ok(agent.lines.some((line) => /run run-happy started/.test(line)));
    assert.ok(agent.lines.some((line) => /run run-happy finished: passed/.test(line)));
  });

  it('runs an API monitor in its check lane (no browser), with its secrets from the environment, masked', async () => {
    const cp = await controlPlane();
    const agent = await startAgent(cp);
    await welcomed(cp, agent);
    assert.equal(cp.agentMessages('hello')[0]?.checkCapacity, 16, 'the hello says the check capacity');
    const examplePath = fileURLToPath(new URL('../../scripts/examples/api-orders.json', import.meta.url));
    const script = monitorScriptSchema.parse(JSON.parse(await readFile(examplePath, 'utf8')));
    const definition: MonitorDefinition = { id: 'orders-api', name: 'Orders API', checkpoint: 'test-checkpoint', intervalSeconds: 60, enabled: true, script, variables: { baseUrl: site.url } };
    cp.send(runCommand('run-api', definition));
    const envelope = await cp.waitFor(() => cp.results.get('run-api'), 'the result of run-api');
    assert.equal(envelope.result.status, 'passed', JSON.stringify(envelope.result.steps.map((s) => s.error)));
    assert.equal(envelope.result.kind, 'api');
    assert.equal(envelope.result.browser, undefined);
    assert.deepEqual(envelope.result.steps.map((step) => step.check?.http?.status), [200, 200, 200]);
    const password = demoSecrets['DEMO_PASSWORD'] ?? '?';
    assert.ok(cp.allReceivedBytes().some((bytes) => bytes.includes('Orders API')), 'the scan sees what was sent');
    assert.ok(!cp.allReceivedBytes().some((bytes) => bytes.includes(password)), 'the password never reached the control plane');
    assert.equal(await agent.stop(), 0);
  });

  it('applies its egress policy to browser runs and to checks: a denied address fails the run with POLICY_BLOCKED', async () => {
    const cp = await controlPlane();
    // The demo site is on 127.0.0.1: denying that range must stop both lanes before anything reaches it.
    const agent = await startAgent(cp, { egressDenyCidrs: ['127.0.0.1/32'] });
    await welcomed(cp, agent);
    cp.send(runCommand('run-denied-browser', monitor('login', { name: 'Demo login', steps: [loginStep(site.url)] })));
    const examplePath = fileURLToPath(new URL('../../scripts/examples/api-orders.json', import.meta.url));
    const script = monitorScriptSchema.parse(JSON.parse(await readFile(examplePath, 'utf8')));
    cp.send(runCommand('run-denied-api', { id: 'orders-api', name: 'Orders API', checkpoint: 'test-checkpoint', intervalSeconds: 60, enabled: true, script, variables: { baseUrl: site.url } }));
    const browserRun = await cp.waitFor(() => cp.results.get('run-denied-browser'), 'the browser result');
    const apiRun = await cp.waitFor(() => cp.results.get('run-denied-api'), 'the API result');
    for (const envelope of [browserRun, apiRun]) {
      assert.equal(envelope.result.status, 'failed');
      const error = envelope.result.steps.find((step) => step.error !== undefined)?.error;
      assert.equal(error?.code, 'POLICY_BLOCKED', JSON.stringify(error));
      assert.equal(error.blame, 'script');
    }
    assert.equal(await agent.stop(), 0);
  });

  it('delivers results produced while the control plane is down once it is back, each exactly once', async () => {
    const cp = await controlPlane();
    const agent = await startAgent(cp);
    await welcomed(cp, agent);
    const definition = monitor('slow', slowScript(1500));
    const runIds = ['outage-1', 'outage-2', 'outage-3'];
    for (const runId of runIds) cp.send(runCommand(runId, definition));
    await cp.waitFor(() => runIds.every((runId) => cp.runStatuses(runId).includes('accepted')) || undefined, 'every run accepted');
    await cp.stop();

    for (const runId of runIds) await agent.waitForEvent('run-finished', (e) => e.runId === runId);
    assert.equal(cp.results.size, 0, 'nothing could be delivered while the control plane was down');
    const down = await getJson(`${agent.health}/readyz`);
    assert.equal(down.status, 503);
    assert.deepEqual(down.body, { ready: false, reason: 'not connected to the control plane' });
    const { text } = await getJson(`${agent.health}/metrics`);
    assert.match(text, /^checkpoint_outbox_depth 3$/m);
    assert.ok(agent.lines.some((line) => /reconnecting in \d+ ms/.test(line)), 'the reconnect attempts are logged');

    await cp.restart();
    await cp.waitFor(() => runIds.every((runId) => cp.results.has(runId)) || undefined, 'every result after the outage');
    for (const runId of runIds) {
      const posts = cp.deliveries.filter((d) => d.kind === 'result' && d.runId === runId);
      assert.deepEqual(posts.map((d) => (d.kind === 'result' ? d.stored : '')), ['new'], `${runId} was delivered exactly once`);
      assert.equal(cp.results.get(runId)?.result.status, 'passed');
    }
    await eventually(async () => ((await getJson(`${agent.health}/readyz`)).status === 200 ? true : undefined), 'readiness after the outage');
    assert.equal(await agent.stop(), 0);
  });

  it('does not retry a token the control plane rejects on the upgrade, and /readyz says why', async () => {
    const cp = await controlPlane();
    const agent = await startAgent(cp, { token: 'not-the-token', backoff: { baseMs: 10, capMs: 20 } });
    await agent.waitForEvent('credential-rejected');
    const ready = await getJson(`${agent.health}/readyz`);
    assert.equal(ready.status, 503);
    assert.deepEqual(ready.body, { ready: false, reason: 'credential rejected' });
    // With a 10 ms backoff a retry would have happened many times over by now.
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(cp.upgrades.length, 1, 'exactly one upgrade attempt');
    assert.equal(cp.upgrades[0]?.status, 401);
    assert.ok(agent.lines.some((line) => line.includes('credential rejected')));
    assert.equal(await agent.stop(), 0);
  });

  it('with its privacy lock on, sends no image byte even when the run asks for screenshots and filmstrips', async () => {
    const cp = await controlPlane();
    const agent = await startAgent(cp, { privacyLock: true });
    await welcomed(cp, agent);
    assert.equal(cp.agentMessages('hello')[0]?.privacyLock, true);
    const script = {
      name: 'Login then fail',
      steps: [loginStep(site.url), { name: 'Missing text', actions: [{ type: 'assertText', text: 'This text is not on the dashboard', timeoutMs: 500 }] }],
    };
    cp.send(runCommand('run-private', monitor('private', script, { screenshots: 'all', filmstrip: true, har: true })));
    const envelope = await cp.waitFor(() => cp.results.get('run-private'), 'the result of run-private');
    assert.equal(envelope.result.status, 'failed', 'the run failed (a failure screenshot would normally be taken)');
    assert.equal(envelope.result.privacyLock, true);
    assert.deepEqual(envelope.artifacts.filter((a) => a.contentType.startsWith('image/')), []);
    assert.deepEqual(envelope.result.steps.map((s) => s.screenshot), [undefined, undefined]);
    assert.deepEqual(findImageSignatures(cp.allReceivedBytes()), [], 'no PNG, JPEG or WebP signature in any byte the control plane received');
    assert.equal(await agent.stop(), 0);
  });

  it('aborts a run the control plane cancels and still reports it', async () => {
    const cp = await controlPlane();
    const agent = await startAgent(cp);
    await welcomed(cp, agent);
    cp.send(runCommand('run-cancelled', monitor('slow', slowScript(20_000))));
    await cp.waitFor(() => cp.runStatuses('run-cancelled').includes('started') || undefined, 'the run to start');
    cp.send({ type: 'cancel', runId: 'run-cancelled' });
    const envelope = await cp.waitFor(() => cp.results.get('run-cancelled'), 'the cancelled run`s result');
    assert.equal(envelope.result.status, 'error');
    // Cancelled inside the first step, or between the run's start and its first step: either way RUN_ABORTED.
    assert.equal(envelope.result.steps[0]?.error?.code ?? envelope.result.error?.code, 'RUN_ABORTED');
    assert.ok(envelope.result.durationMs < 20_000, 'the 20 s step did not run to its end');
    await cp.waitFor(() => cp.runStatuses('run-cancelled').includes('aborted') || undefined, 'run-status aborted');
    assert.equal(await agent.stop(), 0);
  });

  it('ignores an invalid control message and stays connected and ready', async () => {
    const cp = await controlPlane();
    const agent = await startAgent(cp);
    await welcomed(cp, agent);
    cp.send({ type: 'run', runId: '', monitorId: 'x' });
    cp.send({ type: 'self-destruct' });
    const invalid = await agent.waitForEvent('invalid-message');
    assert.match(invalid.problem, /type run/);
    await agent.waitForEvent('invalid-message', (e) => /self-destruct/.test(e.problem));
    assert.equal((await getJson(`${agent.health}/readyz`)).status, 200);
    assert.equal(cp.closes.length, 0);
    assert.equal(await agent.stop(), 0);
  });

  it('detects a silently dead link after three missed heartbeat intervals and reconnects', async () => {
    const cp = await controlPlane({ heartbeatIntervalMs: 200 });
    const agent = await startAgent(cp);
    await welcomed(cp, agent);
    cp.blackhole();
    const silent = await agent.waitForEvent('link-silent');
    assert.ok(silent.silentMs >= 600, `declared dead after ${silent.silentMs} ms, not before 3 × 200 ms of silence`);
    await cp.waitFor(() => cp.agentMessages('hello').length >= 2 || undefined, 'a second hello on a new connection');
    await agent.waitForEvent('welcome', () => agent.events.filter((e) => e.type === 'welcome').length >= 2);
    assert.equal(await agent.stop(), 0);
  });

  it('retries a result answered 503, and keeps one the control plane refuses with 400 (poisoned, never deleted)', async () => {
    const cp = await controlPlane();
    cp.resultStatuses.push(503, 400);
    const agent = await startAgent(cp);
    await welcomed(cp, agent);
    cp.send(runCommand('run-refused', monitor('quick', slowScript(0))));
    const poisoned = await agent.waitForEvent('poisoned');
    assert.equal(poisoned.runId, 'run-refused');
    assert.match(poisoned.reason, /HTTP 400/);
    assert.ok(agent.events.some((e) => e.type === 'upload-failed' && /HTTP 503/.test(e.reason)), 'the 503 was retried');
    const { text } = await getJson(`${agent.health}/metrics`);
    assert.match(text, /^checkpoint_outbox_depth 1$/m);
    assert.match(text, /^checkpoint_outbox_poisoned 1$/m);
    assert.equal(await agent.stop(), 0);
    const outbox = await Outbox.open({ dataDir: agent.dataDir });
    try {
      assert.match(outbox.get('run-refused')?.lastError ?? '', /HTTP 400/, 'the refused result is still in the outbox');
    } finally {
      outbox.close();
    }
  });

  it('stops uploading and fails readiness when a result upload is answered 401, keeping the result', async () => {
    const cp = await controlPlane();
    cp.resultStatusAlways = 401;
    const agent = await startAgent(cp);
    await welcomed(cp, agent);
    cp.send(runCommand('run-401', monitor('quick', slowScript(0))));
    const rejected = await agent.waitForEvent('credential-rejected');
    assert.equal(rejected.status, 401);
    const ready = await getJson(`${agent.health}/readyz`);
    assert.deepEqual(ready.body, { ready: false, reason: 'credential rejected' });
    assert.equal(cp.requests.filter((r) => r.path === '/api/v1/results').length, 1, 'no retry after the 401');
    assert.equal(await agent.stop(), 0);
    const outbox = await Outbox.open({ dataDir: agent.dataDir });
    try {
      assert.equal(outbox.has('run-401'), true, 'the result stays in the outbox for the next start');
    } finally {
      outbox.close();
    }
  });

  it('on SIGTERM during a run, reports the run, flushes the outbox, closes cleanly and exits 0', async () => {
    const cp = await controlPlane({ heartbeatIntervalMs: 500 });
    const dataDir = await tempDir();
    const child = spawn(
      process.execPath,
      [agentMain, '--control-plane', cp.url, '--token', cp.token, '--instance-id', 'sigterm-agent', '--data-dir', dataDir, '--health-port', '0', '--concurrency', '1', '--drain-grace-ms', '1000', '--backoff-base-ms', '50', '--backoff-cap-ms', '400'],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', ...agentTestEnv } },
    );
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    cleanups.push(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    });
    await cp.waitFor(() => cp.agentMessages('heartbeat').length > 0 || undefined, `the child agent to connect; stderr:\n${stderr}`);
    cp.send(runCommand('run-sigterm', monitor('slow', slowScript(20_000))), 'sigterm-agent');
    await cp.waitFor(() => cp.runStatuses('run-sigterm').includes('started') || undefined, 'the run to start');
    child.kill('SIGTERM');

    assert.equal(await exited, 0, stderr);
    const envelope = cp.results.get('run-sigterm');
    assert.ok(envelope !== undefined, `the run was reported before the agent exited; stderr:\n${stderr}`);
    const code = envelope.result.error?.code ?? envelope.result.steps.find((s) => s.error !== undefined)?.error?.code;
    assert.ok(envelope.result.status === 'passed' || code === 'RUN_ABORTED', `finished or aborted, got ${envelope.result.status} ${code ?? ''}`);
    assert.ok(cp.agentMessages('heartbeat').some((h) => h.draining), 'a heartbeat announced the drain');
    assert.ok(cp.runStatuses('run-sigterm').some((s) => s === 'aborted' || s === 'finished'));
    assert.ok(cp.closes.some((c) => c.instanceId === 'sigterm-agent' && c.code === 1000), 'the WebSocket was closed with 1000');
    assert.match(stderr, /drained: every result delivered/);
    const outbox = await Outbox.open({ dataDir });
    try {
      assert.equal(outbox.stats().depth, 0, 'the outbox was flushed');
    } finally {
      outbox.close();
    }
  });

  it('stops on a drain command: rejects new runs, finishes the one in flight, delivers it and exits 0', async () => {
    const cp = await controlPlane();
    const agent = await startAgent(cp);
    await welcomed(cp, agent);
    cp.send(runCommand('run-before-drain', monitor('slow', slowScript(1500))));
    await cp.waitFor(() => cp.runStatuses('run-before-drain').includes('started') || undefined, 'the run to start');
    cp.send({ type: 'drain', reason: 'upgrade' });
    await agent.waitForEvent('draining');
    cp.send(runCommand('run-after-drain', monitor('quick', slowScript(0))));
    await cp.waitFor(() => cp.runStatuses('run-after-drain').includes('rejected') || undefined, 'the late run to be rejected');
    assert.equal(await agent.stop(), 0);
    assert.equal(cp.results.get('run-before-drain')?.result.status, 'passed', 'the run in flight finished within the grace period and was delivered');
    assert.equal(cp.results.has('run-after-drain'), false);
    assert.ok(cp.agentMessages('heartbeat').some((h) => h.draining && h.freeSlots === 0));
    assert.ok(agent.lines.some((line) => /draining \(drain requested by the control plane: upgrade\)/.test(line)));
  });

  it('connects over HTTPS/WSS to a control plane whose certificate is trusted through --ca-file', { skip: !hasOpenssl() && 'openssl is not installed' }, async () => {
    const dir = await tempDir();
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    const cp = await controlPlane({ tls: { key: await readFile(key, 'utf8'), cert: await readFile(cert, 'utf8') } });
    assert.match(cp.url, /^https:/);

    const untrusting = await startAgent(cp);
    const failure = await untrusting.waitForEvent('reconnecting');
    assert.match(failure.reason, /certificate/i, 'without the CA the certificate is refused');
    assert.equal(await untrusting.stop(), 0);

    const agent = await startAgent(cp, { caFile: cert });
    await welcomed(cp, agent);
    cp.send(runCommand('run-tls', monitor('quick', slowScript(0))));
    const envelope = await cp.waitFor(() => cp.results.get('run-tls'), 'the result over HTTPS');
    assert.equal(envelope.result.status, 'passed');
    assert.equal(await agent.stop(), 0);
  });

  it('gives scripts only the secrets its operator listed: an unlisted environment variable is SECRET_MISSING and its value goes nowhere', async () => {
    const cp = await controlPlane();
    const canary = `canary-${Math.random().toString(36).slice(2)}-aws`;
    const dir = await tempDir();
    const secretsFile = join(dir, 'secrets.env');
    await writeFile(secretsFile, '# the demo login, from the file\nDEMO_PASSWORD=demo-password\n');
    // The agent's environment holds a cloud key and the demo password; only the file and BASIC_AUTH_PASSWORD are listed.
    const env = { ...process.env, AWS_SECRET_ACCESS_KEY: canary, DEMO_PASSWORD: 'not-from-the-environment', BASIC_AUTH_PASSWORD: 'basic-secret', CHECKPOINT_SECRETS_ENV: 'BASIC_AUTH_PASSWORD', CHECKPOINT_ALLOW_NO_SANDBOX: '1' };
    const agent = await startAgent(cp, { secretsFile }, env);
    await welcomed(cp, agent);

    const exfiltrate = monitor('exfiltrate', { name: 'Exfiltrate', steps: [{ name: 'Send the key', actions: [{ type: 'navigate', url: `${site.url}/?k={{secret.AWS_SECRET_ACCESS_KEY}}` }] }] });
    cp.send(runCommand('run-canary', exfiltrate));
    const refused = await cp.waitFor(() => cp.results.get('run-canary'), 'the result of run-canary');
    assert.equal(refused.result.status, 'error');
    assert.equal(refused.result.error?.code, 'SECRET_MISSING');
    assert.equal(refused.result.error.blame, 'script');
    assert.match(refused.result.error.message, /"AWS_SECRET_ACCESS_KEY" is not given to scripts by this checkpoint/);
    assert.match(refused.result.error.message, /--secrets-file.*CHECKPOINT_SECRETS_FILE.*CHECKPOINT_SECRETS_ENV=AWS_SECRET_ACCESS_KEY/);

    const login = monitor('login', { name: 'Demo login', steps: [loginStep(site.url)] });
    cp.send(runCommand('run-listed', login));
    const allowed = await cp.waitFor(() => cp.results.get('run-listed'), 'the result of run-listed');
    assert.equal(allowed.result.status, 'passed', 'DEMO_PASSWORD came from the secrets file, not the environment');
    assert.ok(agent.lines.some((line) => /secrets for scripts: 2 \(1 from .*secrets\.env, environment: BASIC_AUTH_PASSWORD\)/.test(line)), agent.lines.join('\n'));
    assert.equal(await agent.stop(), 0);

    // Every byte the agent sent, its outbox on disk and its log.
    const needle = Buffer.from(canary);
    for (const bytes of cp.allReceivedBytes()) assert.equal(bytes.includes(needle), false, 'the canary reached the control plane');
    const files = (await readdir(agent.dataDir, { recursive: true, withFileTypes: true })).filter((entry) => entry.isFile());
    assert.ok(files.length > 0);
    for (const file of files) assert.equal((await readFile(join(file.parentPath, file.name))).includes(needle), false, `the canary is in ${file.name}`);
    assert.equal(agent.lines.join('\n').includes(canary), false, 'the canary is in the log');
    assert.equal(agent.lines.join('\n').includes('not-from-the-environment'), false);
  });

  it('as root, refuses to start Chromium without its sandbox unless allowed, and says the risk once when allowed', { skip: process.getuid?.() !== 0 && 'the test runs as root only (Chromium keeps its sandbox otherwise)' }, async () => {
    const cp = await controlPlane();
    const lines: string[] = [];
    const base = { controlPlane: cp.url, token: cp.token, instanceId: 'root-agent', healthPort: 0, concurrency: 1 } as const;
    // The signal only ends an agent that wrongly started.
    const code = await runAgentCommand({ ...base, dataDir: await tempDir() }, { stderr: (text) => void lines.push(text), handleSignals: false, env: {}, signal: AbortSignal.timeout(60_000) });
    assert.equal(code, 2, lines.join(''));
    assert.match(lines.join(''), /^error: refusing to run Chromium without its sandbox: this agent runs as root.*--allow-no-sandbox \(CHECKPOINT_ALLOW_NO_SANDBOX=1\)\n$/);
    assert.equal(cp.upgrades.length, 0, 'it never connected');

    const agent = await startAgent(cp, { allowNoSandbox: true }, { ...process.env });
    await welcomed(cp, agent);
    assert.equal(agent.lines.filter((line) => /warning: running as root: Chromium runs without its sandbox/.test(line)).length, 1);
    const health = await getJson(`${agent.health}/healthz`);
    assert.deepEqual(health.body, { status: 'alive', warnings: [agent.lines.find((line) => line.includes('warning: running as root'))?.replace(/^.*warning: /, '')] });
    assert.match(await (await fetch(`${agent.health}/metrics`)).text(), /^checkpoint_config_warnings 1$/m);
  });

  it('warns in its log and /healthz when the control plane is plain http on another host', async () => {
    // A proxy that is never reached keeps the made-up host from being resolved: no traffic leaves loopback.
    const dataDir = await tempDir();
    const lines: string[] = [];
    const controller = new AbortController();
    let healthUrl: (url: string) => void = () => undefined;
    const health = new Promise<string>((resolve) => (healthUrl = resolve));
    const exit = runAgentCommand(
      { controlPlane: 'http://control-plane.example:8400', controlPlaneProxy: 'http://127.0.0.1:9', token: 't', instanceId: 'plain-agent', dataDir, healthPort: 0, concurrency: 1, backoff: fastBackoff },
      {
        stderr: (text) => {
          lines.push(text);
          const match = /health on (http:\/\/\S+)/.exec(text);
          if (match?.[1] !== undefined) healthUrl(match[1]);
        },
        signal: controller.signal,
        handleSignals: false,
        env: { CHECKPOINT_ALLOW_NO_SANDBOX: '1' },
      },
    );
    cleanups.push(async () => {
      controller.abort();
      await exit;
    });
    const url = await health;
    const warning = 'the control plane http://control-plane.example:8400 is plain http: the checkpoint token, the scripts and every result cross the network unencrypted; use https://';
    assert.ok(lines.includes(`checkpoint agent: warning: ${warning}\n`), lines.join(''));
    const body = (await getJson(`${url}/healthz`)).body as { warnings: string[] };
    assert.ok(body.warnings.includes(warning));
    controller.abort();
    assert.equal(await exit, 0);

    const local = await startAgent(await controlPlane());
    assert.equal(local.lines.some((line) => /plain http/.test(line)), false, 'a loopback control plane is no risk');
  });

  it('exits 3 when the browser cannot start', async () => {
    const cp = await controlPlane();
    const lines: string[] = [];
    const code = await runAgentCommand(
      { controlPlane: cp.url, token: cp.token, instanceId: 'no-browser', dataDir: await tempDir(), healthPort: 0, concurrency: 1, executablePath: '/nonexistent/chromium' },
      { stderr: (text) => void lines.push(text), handleSignals: false, env: { CHECKPOINT_ALLOW_NO_SANDBOX: '1' } },
    );
    assert.equal(code, 3, lines.join(''));
    assert.match(lines.join(''), /error: .*\/nonexistent\/chromium/);
    assert.equal(cp.upgrades.length, 0, 'it never connected without a working browser');
  });

  it('exits 2 with a clear message on bad options or environment', async () => {
    const lines: string[] = [];
    const io = { stderr: (text: string) => void lines.push(text), handleSignals: false, env: {} };
    assert.equal(await runAgentCommand({ controlPlane: 'not a url', token: 't' }, io), 2);
    assert.equal(await runAgentCommand({ controlPlane: 'http://127.0.0.1:1' }, io), 2);
    assert.equal(await runAgentCommand({ controlPlane: 'http://127.0.0.1:1', token: 't', concurrency: 0 }, io), 2);
    assert.equal(await runAgentCommand({ controlPlane: 'http://127.0.0.1:1', token: 't', instanceId: '../escape' }, io), 2);
    assert.equal(await runAgentCommand({ controlPlane: 'http://127.0.0.1:1', token: 't', caFile: '/nonexistent/ca.pem' }, io), 2);
    assert.equal(await runAgentCommand({ token: 't' }, io), 2);
    assert.equal(await runAgentCommand({}, { ...io, env: { CHECKPOINT_CONTROL_PLANE: 'http://127.0.0.1:1', CHECKPOINT_TOKEN: 't', CHECKPOINT_CONCURRENCY: 'lots' } }), 2);
    assert.deepEqual(
      lines.map((l) => l.trim()),
      [
        'error: --control-plane: expected an absolute URL such as https://control-plane.example:8443, got "not a url"',
        'error: --token (or CHECKPOINT_TOKEN): the checkpoint token is required',
        'error: --concurrency: expected at least 1, got 0',
        'error: --instance-id: expected a letter or digit, then letters, digits, ".", "_" or "-" (at most 128 characters), got "../escape"',
        'error: --ca-file: cannot read /nonexistent/ca.pem',
        'error: --control-plane (or CHECKPOINT_CONTROL_PLANE): the control plane URL is required',
        'error: CHECKPOINT_CONCURRENCY: expected a whole number, got "lots"',
      ],
    );
  });
});
