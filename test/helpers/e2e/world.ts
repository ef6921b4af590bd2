import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { scriptSchema } from '../../../engine/schema/script.ts';
import { startDemoSite, type DemoSite } from '../../../scripts/demo-site/server.ts';
import { demoSecrets, loginStep } from '../engine.ts';
import { AgentProcess } from './agent-process.ts';
import type { CheckpointView, MonitorInput } from './api.ts';
import { ControlPlaneProcess, type ControlPlaneProcessOptions } from './control-plane-process.ts';
import { FixtureSite } from './fixture-site.ts';
import type { ChromiumWatch } from './leaks.ts';
import { RecordingProxy } from './recording-proxy.ts';
import { waitUntil, type WaitOptions } from './wait.ts';

export interface AgentSpec {
  instanceId: string;
  token: string;
  concurrency?: number;
  privacyLock?: boolean;
  /** More `checkpoint agent` options. */
  args?: readonly string[];
  /** Connect straight to the control plane instead of through this instance's recording proxy. */
  direct?: boolean;
  /** Connect to this URL (a load balancer in front of replicas) instead. */
  controlPlaneUrl?: string;
}

/**
 * One end-to-end scenario: a temp directory, the control plane as a child process, agents as child processes
 * (each behind its own recording proxy, kept across the agent's restarts), the demo intranet and a fixture
 * site in this process. `close()` (registered on the test) stops whatever is still running — SIGTERM, then
 * SIGKILL — and removes the directory.
 */
export class E2eWorld {
  readonly root: string;
  readonly site: FixtureSite;
  readonly demo: DemoSite;
  readonly #watch: ChromiumWatch;
  #cp: ControlPlaneProcess | undefined;
  /** Control-plane replicas sharing one database (besides or instead of `cp`). */
  readonly replicas: ControlPlaneProcess[] = [];
  /** Every agent life, in start order. */
  readonly agents: AgentProcess[] = [];
  readonly proxies = new Map<string, RecordingProxy>();

  private constructor(root: string, site: FixtureSite, demo: DemoSite, watch: ChromiumWatch) {
    this.root = root;
    this.site = site;
    this.demo = demo;
    this.#watch = watch;
  }

  static async create(t: TestContext, watch: ChromiumWatch): Promise<E2eWorld> {
    const root = await mkdtemp(join(tmpdir(), 'checkpoint-e2e-'));
    const world = new E2eWorld(root, await FixtureSite.start(), await startDemoSite(), watch);
    t.after(() => world.close());
    return world;
  }

  get cp(): ControlPlaneProcess {
    if (this.#cp === undefined) throw new Error('no control plane in this world yet');
    return this.#cp;
  }

  async controlPlane(options: Omit<ControlPlaneProcessOptions, 'dataDir'> = {}): Promise<ControlPlaneProcess> {
    this.#cp = await ControlPlaneProcess.start({ dataDir: join(this.root, 'control-plane'), ...options });
    return this.#cp;
  }

  /** Start one more control-plane replica (give it `--database` in `args`); it shares the data directory for artifacts. */
  async replica(options: Omit<ControlPlaneProcessOptions, 'dataDir'>): Promise<ControlPlaneProcess> {
    const replica = await ControlPlaneProcess.start({ dataDir: join(this.root, 'control-plane'), ...options });
    this.replicas.push(replica);
    return replica;
  }

  /** The recording proxy of an instance (created on first use, pointed at the control plane's port). */
  async proxy(instanceId: string): Promise<RecordingProxy> {
    let proxy = this.proxies.get(instanceId);
    if (proxy === undefined) {
      proxy = await RecordingProxy.start({ host: '127.0.0.1', port: this.cp.port });
      this.proxies.set(instanceId, proxy);
    }
    return proxy;
  }

  dataDirOf(instanceId: string): string {
    return join(this.root, 'agents', instanceId, 'data');
  }

  /** The instance's TMPDIR (its browsers' profiles and scratch directories). */
  tmpDirOf(instanceId: string): string {
    return join(this.root, 'agents', instanceId, 'tmp');
  }

  /** Start `checkpoint agent` (again: same data directory and proxy for the same instance id). */
  async agent(spec: AgentSpec): Promise<AgentProcess> {
    const tmpDir = this.tmpDirOf(spec.instanceId);
    this.#watch.addRoot(tmpDir);
    const url = spec.controlPlaneUrl ?? (spec.direct === true ? this.cp.url : (await this.proxy(spec.instanceId)).url);
    const lives = this.agents.filter((agent) => agent.instanceId === spec.instanceId).length;
    const agent = await AgentProcess.start({
      controlPlaneUrl: url,
      token: spec.token,
      instanceId: spec.instanceId,
      dataDir: this.dataDirOf(spec.instanceId),
      tmpDir,
      // Scripts get only the secrets an agent lists; the test machine may run as root (no Chromium sandbox).
      env: { ...demoSecrets, CHECKPOINT_SECRETS_ENV: Object.keys(demoSecrets).join(','), CHECKPOINT_ALLOW_NO_SANDBOX: '1' },
      name: lives === 0 ? spec.instanceId : `${spec.instanceId} #${lives + 1}`,
      ...(spec.concurrency === undefined ? {} : { concurrency: spec.concurrency }),
      ...(spec.privacyLock === undefined ? {} : { privacyLock: spec.privacyLock }),
      ...(spec.args === undefined ? {} : { args: spec.args }),
    });
    this.agents.push(agent);
    return agent;
  }

  /** The latest life of an instance. */
  agentNamed(instanceId: string): AgentProcess {
    const agent = this.agents.filter((candidate) => candidate.instanceId === instanceId).at(-1);
    if (agent === undefined) throw new Error(`no agent ${instanceId}`);
    return agent;
  }

  /** Logs of the control plane and every agent, for assertion messages. */
  details(): string {
    return [this.#cp?.tail(80) ?? '', ...this.replicas.map((replica) => replica.tail(60)), ...this.agents.map((agent) => agent.tail(30))].join('\n');
  }

  /** waitUntil with this world's logs in the timeout message. */
  waitUntil<T>(what: string, check: () => Promise<T | undefined> | T | undefined, options: Omit<WaitOptions, 'details'> = {}): Promise<T> {
    return waitUntil(what, check, { ...options, details: () => this.details() });
  }

  /** Until the checkpoint has `count` instances online (connected and greeted). */
  async waitOnline(checkpoint: string, count: number, timeoutMs = 60_000): Promise<CheckpointView> {
    return this.waitUntil(
      `${count} instance(s) of ${checkpoint} online`,
      async () => {
        const view = await this.cp.api.checkpoint(checkpoint);
        return view.online === count ? view : undefined;
      },
      { timeoutMs },
    );
  }

  async close(): Promise<void> {
    const running = this.agents.filter((agent) => agent.process.running);
    await Promise.all(running.map((agent) => agent.stop(20_000)));
    if (this.#cp?.running === true) await this.#cp.stop();
    await Promise.all(this.replicas.filter((replica) => replica.running).map((replica) => replica.stop()));
    await Promise.all([...this.proxies.values()].map((proxy) => proxy.close()));
    await this.site.close();
    await this.demo.close();
    await rm(this.root, { recursive: true, force: true, maxRetries: 3 });
  }
}

// ---- monitors ----

/** A monitor on `checkpoint` that runs once a day (so only the runs a test causes happen). */
export function monitor(id: string, checkpoint: string, script: MonitorInput['script'], extra: Partial<MonitorInput> = {}): MonitorInput {
  return { id, name: id, checkpoint, intervalSeconds: 86_400, enabled: true, script, ...extra };
}

/** Opens the fixture's status page (held `delayMs` first) and asserts it says the service is operational. */
export function statusScript(siteUrl: string, delayMs = 0): MonitorInput['script'] {
  return scriptSchema.parse({
    name: 'Status page',
    steps: [
      {
        name: 'Open the status page',
        actions: [
          { type: 'navigate', url: `${siteUrl}/status${delayMs > 0 ? `?delayMs=${delayMs}` : ''}` },
          { type: 'assertText', text: 'All systems operational', timeoutMs: 1_000 },
        ],
      },
    ],
  });
}

/** The demo site's slow page (`/slow?delayMs=`): passes once it is served. */
export function slowScript(demoUrl: string, delayMs: number): MonitorInput['script'] {
  return scriptSchema.parse({
    name: `Slow page ${delayMs} ms`,
    steps: [{ name: 'Open the slow page', actions: [{ type: 'navigate', url: `${demoUrl}/slow?delayMs=${delayMs}` }, { type: 'assertText', text: 'Served after' }] }],
  });
}

/** Log in to the demo intranet (the password is the DEMO_PASSWORD secret of the agent's environment). */
export function loginScript(demoUrl: string): MonitorInput['script'] {
  return scriptSchema.parse({
    name: 'Demo login',
    steps: [loginStep(demoUrl), { name: 'Open the orders', actions: [{ type: 'navigate', url: `${demoUrl}/orders` }, { type: 'assertText', text: 'Orders' }] }],
  });
}
