// One arm of the dispatch benchmark: fresh control-plane process(es) on a fresh store, N monitors created through
// the REST API while no agent is connected (so every one of them is due and none can be dispatched), then A fake
// agents connect and answer every run at once; the window lasts until every monitor's first run has its result
// stored. The fake agents live in this (the harness) process and are never charged to the arm.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import PQueue from 'p-queue';
import type { RunCommand } from '../../engine/schema/protocol.ts';
import { scriptSchema } from '../../engine/schema/script.ts';
import type { MonitorInput } from '../helpers/e2e/api.ts';
import { ControlPlaneProcess } from '../helpers/e2e/control-plane-process.ts';
import { FakeAgent } from '../helpers/fake-agent.ts';
import { makeTempDir } from '../helpers/servers/temp-dir.ts';
import { allProcesses, machineBusySeconds } from './accounting.ts';
import { clockTicksPerSecond, descendants } from './proc-parse.ts';
import { machineCheck, percentile, ProcessTreeSampler, pssBytes, statusFieldBytes, type GroupUsage } from './dispatch-sampler.ts';

export type ArmName = 'sqlite-1' | 'postgres-1' | 'postgres-2';

export const armSpecs: Record<ArmName, { store: 'sqlite' | 'postgres'; replicas: number }> = {
  'sqlite-1': { store: 'sqlite', replicas: 1 },
  'postgres-1': { store: 'postgres', replicas: 1 },
  'postgres-2': { store: 'postgres', replicas: 2 },
};

export interface ArmOptions {
  monitors: number;
  agents: number;
  capacity: number;
  /**
   * Checkpoints the monitors and agents are spread over (round robin). Each checkpoint has its own token, and the
   * control plane rate-limits requests per token (100/s after a burst of 1000, per replica): more checkpoints lift
   * that limit off the measurement.
   */
  checkpoints: number;
  /** Monitor-creation requests in flight at once. */
  createInFlight: number;
  /** Give up on the window after this long (the arm is then reported incomplete). */
  timeoutS: number;
  /** Write each control-plane process's log to `<logsDir>/<arm>-replica-<n>.log`. */
  logsDir?: string;
}

/** The shared PostgreSQL server of the run: one fresh database per arm. */
export interface PostgresForArms {
  postmasterPid: number;
  /** Connection URL of a database (TLS verified against the test CA). */
  url(database: string): string;
  createDatabase(database: string): Promise<void>;
  dropDatabase(database: string): Promise<void>;
}

export interface ProcessUsage extends GroupUsage {
  name: string;
  /** Kernel peak RSS (VmHWM) of a control-plane process, reset at the window's start; undefined for PostgreSQL. */
  vmHwmBytes: number | undefined;
}

export interface ArmResult {
  arm: ArmName;
  status: 'done' | 'incomplete' | 'failed' | 'pending';
  /** Why an arm failed, stopped early or could not run yet. */
  note?: string;
  monitors: number;
  agents: number;
  capacity: number;
  checkpoints: number;
  replicas: number;
  /** Monitors created per second through the API before the window (setup, not measured for cost). */
  createdPerS: number;
  setupS: number;
  /** From the agents' connect until the last result was stored. */
  windowS: number;
  /** From the agents' connect until the first run command arrived. */
  firstRunS: number;
  runsReceived: number;
  resultsStored: number;
  /** Results the control plane acknowledged as duplicates (a run answered twice: none expected). */
  duplicates: number;
  /** Monitors that got more than one run in the window (a run written off and re-dispatched). */
  monitorsRunTwice: number;
  answerErrors: number;
  /** Result POSTs refused with 429 by the per-token rate limit and retried (the retry is part of the window). */
  rateLimited: number;
  /** Result POSTs answered 5xx and retried. */
  serverErrors: number;
  /** Run commands received per second, from the connect to the last run command. */
  runsPerS: number;
  /** Results stored per second over the window. */
  resultsPerS: number;
  /** Run command received → result acknowledged (the agent's POST /api/v1/results round trips, retries included), ms. */
  resultP50Ms: number;
  resultP95Ms: number;
  /** Runs each replica carried (by the replica its agent connected to). */
  runsPerReplica: number[];
  processes: ProcessUsage[];
  armCpuS: number;
  cpuMsPerRun: number;
  harnessCpuS: number;
  machineBusyS: number;
  otherS: number;
  overCounted: boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function harnessCpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

function readOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

const procReader = {
  processes: allProcesses,
  pssBytes: (pid: number) => pssBytes(readOrUndefined(`/proc/${pid}/smaps_rollup`) ?? ''),
};

/** Reset a process's peak RSS (VmHWM) to its current RSS (proc(5), clear_refs "5"); false where refused. */
function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

const checkpointName = (index: number, checkpoints: number) => (checkpoints === 1 ? 'bench' : `bench-${(index % checkpoints) + 1}`);

function monitorInput(index: number, checkpoint: string): MonitorInput {
  const id = `bench-${String(index).padStart(6, '0')}`;
  // Never run for real: the fake agents answer without opening it. Port 9 (discard) would refuse anyway.
  const script = scriptSchema.parse({ name: `Page ${id}`, steps: [{ name: 'Open', actions: [{ type: 'navigate', url: `http://127.0.0.1:9/${id}` }] }] });
  return { id, name: id, checkpoint, intervalSeconds: 86_400, enabled: true, script };
}

/** What the fake agents saw: when each run arrived and when its result was acknowledged. */
class RunTracker {
  readonly #startMs: number;
  readonly #receivedAt = new Map<string, number>();
  readonly #runsOfMonitor = new Map<string, number>();
  readonly storedMonitors = new Set<string>();
  readonly latenciesMs: number[] = [];
  readonly runsPerReplica: number[];
  firstRunMs: number | undefined;
  lastRunMs = 0;
  lastStoredMs = 0;
  stored = 0;
  duplicates = 0;
  errors = 0;
  lastError = '';
  /** Result POSTs refused with 429 (the control plane's per-token rate limit) and retried. */
  rateLimited = 0;
  /** Result POSTs answered 5xx and retried. */
  serverErrors = 0;

  constructor(startMs: number, replicas: number) {
    this.#startMs = startMs;
    this.runsPerReplica = Array.from({ length: replicas }, () => 0);
  }

  get received(): number {
    return this.#receivedAt.size;
  }

  get monitorsRunTwice(): number {
    return [...this.#runsOfMonitor.values()].filter((count) => count > 1).length;
  }

  runArrived(run: RunCommand, replica: number): void {
    const now = performance.now();
    this.#receivedAt.set(run.runId, now);
    this.#runsOfMonitor.set(run.monitorId, (this.#runsOfMonitor.get(run.monitorId) ?? 0) + 1);
    this.runsPerReplica[replica] = (this.runsPerReplica[replica] ?? 0) + 1;
    this.firstRunMs ??= now - this.#startMs;
    this.lastRunMs = now - this.#startMs;
  }

  acknowledged(run: RunCommand, stored: 'new' | 'duplicate'): void {
    const now = performance.now();
    this.latenciesMs.push(now - (this.#receivedAt.get(run.runId) ?? now));
    if (stored === 'duplicate') this.duplicates++;
    else {
      this.stored++;
      this.storedMonitors.add(run.monitorId);
    }
    this.lastStoredMs = now - this.#startMs;
  }

  retried(status: number): void {
    if (status === 429) this.rateLimited++;
    else this.serverErrors++;
  }

  failed(error: unknown): void {
    this.errors++;
    this.lastError = error instanceof Error ? error.message : String(error);
  }
}

/**
 * Answer a run as a real instance does (accepted, started, the result, finished), retrying the result the way the
 * agent's uploader does when the control plane says "later": 429 (its per-token rate limit, Retry-After ≥ 1 s) or
 * 5xx, after 1 s plus jitter so the retries of many runs do not arrive together.
 */
async function deliver(agent: FakeAgent, run: RunCommand, tracker: RunTracker): Promise<'new' | 'duplicate'> {
  agent.send({ type: 'run-status', runId: run.runId, status: 'accepted' });
  agent.send({ type: 'run-status', runId: run.runId, status: 'started' });
  const envelope = agent.envelope(run, { status: 'passed', durationMs: 50 });
  for (let attempt = 1; ; attempt++) {
    const posted = await agent.postResult(envelope);
    if (posted.ack !== undefined) {
      agent.send({ type: 'run-status', runId: run.runId, status: 'finished' });
      return posted.ack.stored;
    }
    if ((posted.status !== 429 && posted.status < 500) || attempt >= 50) throw new Error(`result POST answered ${posted.status} (attempt ${attempt}): ${JSON.stringify(posted.body).slice(0, 200)}`);
    tracker.retried(posted.status);
    await sleep(1000 + Math.random() * 500);
  }
}

/** A fake agent that answers every run with a pass at once and heartbeats like a real one. */
async function connectAgent(input: { url: string; token: string; index: number; capacity: number; replica: number; tracker: RunTracker }): Promise<{ agent: FakeAgent; stop(): void }> {
  const running = new Set<string>();
  const self: { agent?: FakeAgent } = {};
  const early: RunCommand[] = [];
  const answer = (to: FakeAgent, run: RunCommand) => {
    running.add(run.runId);
    deliver(to, run, input.tracker)
      .then((stored) => input.tracker.acknowledged(run, stored))
      .catch((error: unknown) => input.tracker.failed(error))
      .finally(() => running.delete(run.runId));
  };
  const onRun = (run: RunCommand) => {
    input.tracker.runArrived(run, input.replica);
    if (self.agent === undefined) early.push(run);
    else answer(self.agent, run);
    return undefined;
  };
  const agent = await FakeAgent.connect({ baseUrl: input.url, token: input.token, instanceId: `bench-agent-${input.index + 1}`, capacity: input.capacity, autoAnswer: onRun });
  self.agent = agent;
  for (const run of early.splice(0)) answer(agent, run);
  const welcome = agent.received.find((message) => message.type === 'welcome');
  const intervalMs = welcome?.type === 'welcome' ? welcome.heartbeatIntervalMs : 10_000;
  // As the agent does (docs/protocol.md): a heartbeat at once, then one every interval.
  agent.heartbeat([...running]);
  const timer = setInterval(() => agent.heartbeat([...running]), intervalMs);
  return { agent, stop: () => clearInterval(timer) };
}

function armRoots(replicas: readonly ControlPlaneProcess[], postgres: PostgresForArms | undefined): Record<string, number> {
  const roots: Record<string, number> = {};
  replicas.forEach((replica, i) => (roots[`control plane ${i + 1}`] = replica.process?.pid ?? 0));
  if (postgres !== undefined) roots['postgres'] = postgres.postmasterPid;
  return roots;
}

/** Wait until the process trees under `roots` use less than 5 % of a CPU over a second; returns the seconds waited. */
async function settle(roots: readonly number[], timeoutS: number, log: (line: string) => void): Promise<number> {
  const startMs = performance.now();
  const ticks = () => {
    const all = allProcesses();
    return roots.reduce((sum, root) => sum + descendants(all, root).reduce((s, p) => s + p.cpuTicks, 0), 0);
  };
  let lastLogMs = startMs;
  for (;;) {
    const before = ticks();
    await sleep(1000);
    const usedS = (ticks() - before) / clockTicksPerSecond;
    const waitedS = (performance.now() - startMs) / 1000;
    if (usedS < 0.05 || waitedS > timeoutS) return waitedS;
    if (performance.now() - lastLogMs > 10_000) {
      lastLogMs = performance.now();
      log(`waiting for the arm's processes to go quiet (${(usedS * 100).toFixed(0)} % of a CPU)`);
    }
  }
}

export async function runArm(arm: ArmName, options: ArmOptions, postgres: PostgresForArms | undefined, log: (line: string) => void): Promise<ArmResult> {
  const spec = armSpecs[arm];
  const base = { arm, monitors: options.monitors, agents: options.agents, capacity: options.capacity, checkpoints: options.checkpoints, replicas: spec.replicas };
  if (spec.store === 'postgres' && postgres === undefined) throw new Error(`${arm}: no PostgreSQL server`);
  const database = `bench_${arm.replace(/\W/g, '_')}_${Date.now()}`;
  const dirs = Array.from({ length: spec.replicas }, () => makeTempDir('dispatch-bench'));
  const replicas: ControlPlaneProcess[] = [];
  const agents: { agent: FakeAgent; stop(): void }[] = [];
  try {
    if (spec.store === 'postgres') await postgres?.createDatabase(database);
    for (let i = 0; i < spec.replicas; i++) {
      const args = spec.store === 'postgres' ? ['--database', postgres?.url(database) ?? '', '--replica-id', `replica-${i + 1}`] : [];
      try {
        replicas.push(await ControlPlaneProcess.start({ dataDir: dirs[i]?.path ?? '', name: `${arm} replica ${i + 1}`, args }));
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        return { ...emptyResult(base), status: 'failed', note: `replica ${i + 1} did not start: ${reason.split('\n').slice(0, 12).join('\n')}` };
      }
    }
    const setupStart = performance.now();
    const first = replicas[0];
    if (first === undefined) throw new Error('no replica');
    const tokens: string[] = [];
    for (let i = 0; i < options.checkpoints; i++) tokens.push(await first.api.createCheckpoint(checkpointName(i, options.checkpoints)));
    const queue = new PQueue({ concurrency: options.createInFlight });
    let created = 0;
    for (let i = 0; i < options.monitors; i++) {
      const target = replicas[i % replicas.length] ?? first;
      void queue.add(async () => {
        // The API's per-client rate limit (100/s, burst 1 000) answers 429 once creation outpaces it: wait and retry.
        for (;;) {
          const reply = await target.api.call('POST', '/api/v1/monitors', monitorInput(i, checkpointName(i, options.checkpoints)));
          if (reply.status === 201) break;
          if (reply.status !== 429) throw new Error(`POST /api/v1/monitors: HTTP ${reply.status}: ${reply.text.slice(0, 300)}`);
          await new Promise((resolve) => setTimeout(resolve, 1000));
        }
        created++;
        if (created % 1000 === 0) log(`${arm}: ${created}/${options.monitors} monitors created`);
      });
    }
    await queue.onIdle();
    const setupS = (performance.now() - setupStart) / 1000;
    log(`${arm}: ${options.monitors} monitors created in ${setupS.toFixed(1)} s`);
    // The creations leave work behind (in a cluster, the leader works through the followers' monitor-change
    // notices one tick each): the window opens only once every process of the arm is quiet.
    const quietAfterS = await settle(Object.values(armRoots(replicas, spec.store === 'postgres' ? postgres : undefined)), options.timeoutS, (line) => log(`${arm}: ${line}`));
    log(`${arm}: quiet after ${quietAfterS.toFixed(0)} s; connecting ${options.agents} agents`);

    const roots = armRoots(replicas, spec.store === 'postgres' ? postgres : undefined);
    const sampler = new ProcessTreeSampler(procReader, roots);
    const peakResettable = replicas.map((replica) => resetPeakRss(replica.process?.pid ?? 0));
    sampler.startWindow();
    const samplerTimer = setInterval(() => sampler.sample(), 200);
    const machineStart = machineBusySeconds();
    const harnessStart = harnessCpuSeconds();
    const startMs = performance.now();
    const tracker = new RunTracker(startMs, spec.replicas);

    agents.push(
      ...(await Promise.all(
        Array.from({ length: options.agents }, (_, index) => {
          const replica = index % replicas.length;
          return connectAgent({ url: replicas[replica]?.url ?? '', token: tokens[index % tokens.length] ?? '', index, capacity: options.capacity, replica, tracker });
        }),
      )),
    );
    let lastLogMs = performance.now();
    let status: ArmResult['status'] = 'done';
    let note: string | undefined;
    while (tracker.storedMonitors.size < options.monitors) {
      await sleep(100);
      const elapsedS = (performance.now() - startMs) / 1000;
      if (performance.now() - lastLogMs >= 5000) {
        lastLogMs = performance.now();
        log(`${arm}: ${elapsedS.toFixed(0)} s: ${tracker.received} runs received, ${tracker.stored} results stored (${(tracker.stored / elapsedS).toFixed(0)}/s), ${tracker.rateLimited} rate-limited POSTs retried, ${tracker.errors} errors${tracker.errors > 0 ? ` (last: ${tracker.lastError})` : ''}`);
      }
      const dead = replicas.find((replica) => !replica.running);
      if (dead !== undefined) {
        status = 'failed';
        note = `${dead.options.name ?? 'a replica'} exited during the window:\n${dead.tail(8)}`;
        break;
      }
      if (elapsedS > options.timeoutS) {
        status = 'incomplete';
        note = `stopped after ${options.timeoutS} s (--timeout-s) with ${tracker.storedMonitors.size} of ${options.monitors} monitors' results stored`;
        break;
      }
    }
    // Answers still in flight (duplicates, late acks) finish before the final readings.
    await Promise.all(agents.map(({ agent }) => agent.answered()));
    const windowEndMs = status === 'done' ? tracker.lastStoredMs : performance.now() - startMs;
    clearInterval(samplerTimer);
    sampler.sample();
    const machineBusyS = machineBusySeconds() - machineStart;
    const harnessCpuS = harnessCpuSeconds() - harnessStart;
    const processes: ProcessUsage[] = Object.entries(roots).map(([name, pid]) => {
      const index = replicas.findIndex((replica) => replica.process?.pid === pid);
      const vmHwmBytes = index >= 0 && peakResettable[index] === true ? statusFieldBytes(readOrUndefined(`/proc/${pid}/status`) ?? '', 'VmHWM') : undefined;
      return { name, ...sampler.usage(name), vmHwmBytes };
    });
    const armCpuS = processes.reduce((sum, p) => sum + p.cpuS, 0);
    const check = machineCheck({ armCpuS, harnessCpuS, machineBusyS });
    if (tracker.errors > 0) note = `${note === undefined ? '' : `${note}; `}${tracker.errors} answers failed, the last: ${tracker.lastError}`;
    const sorted = [...tracker.latenciesMs].sort((a, b) => a - b);
    const windowS = windowEndMs / 1000;
    return {
      ...base,
      status,
      ...(note === undefined ? {} : { note }),
      createdPerS: options.monitors / setupS,
      setupS,
      windowS,
      firstRunS: (tracker.firstRunMs ?? 0) / 1000,
      runsReceived: tracker.received,
      resultsStored: tracker.stored,
      duplicates: tracker.duplicates,
      monitorsRunTwice: tracker.monitorsRunTwice,
      answerErrors: tracker.errors,
      rateLimited: tracker.rateLimited,
      serverErrors: tracker.serverErrors,
      runsPerS: tracker.lastRunMs > 0 ? tracker.received / (tracker.lastRunMs / 1000) : 0,
      resultsPerS: windowS > 0 ? tracker.stored / windowS : 0,
      resultP50Ms: percentile(sorted, 50),
      resultP95Ms: percentile(sorted, 95),
      runsPerReplica: tracker.runsPerReplica,
      processes,
      armCpuS,
      cpuMsPerRun: tracker.stored > 0 ? (armCpuS / tracker.stored) * 1000 : 0,
      harnessCpuS,
      machineBusyS,
      otherS: check.otherS,
      overCounted: check.overCounted,
    };
  } finally {
    for (const connected of agents) connected.stop();
    await Promise.all(agents.map(({ agent }) => Promise.race([agent.close(), sleep(5000).then(() => agent.kill())])));
    await Promise.all(replicas.map((replica) => replica.stop()));
    if (options.logsDir !== undefined) replicas.forEach((replica, i) => writeFileSync(join(options.logsDir ?? '', `${arm}-replica-${i + 1}.log`), replica.log));
    if (spec.store === 'postgres') await postgres?.dropDatabase(database).catch((error: unknown) => log(`${arm}: could not drop database ${database}: ${String(error)}`));
    for (const dir of dirs) dir.remove();
  }
}

export function emptyResult(base: Pick<ArmResult, 'arm' | 'monitors' | 'agents' | 'capacity' | 'checkpoints' | 'replicas'>): ArmResult {
  return {
    ...base,
    status: 'failed',
    createdPerS: 0,
    setupS: 0,
    windowS: 0,
    firstRunS: 0,
    runsReceived: 0,
    resultsStored: 0,
    duplicates: 0,
    monitorsRunTwice: 0,
    answerErrors: 0,
    rateLimited: 0,
    serverErrors: 0,
    runsPerS: 0,
    resultsPerS: 0,
    resultP50Ms: 0,
    resultP95Ms: 0,
    runsPerReplica: [],
    processes: [],
    armCpuS: 0,
    cpuMsPerRun: 0,
    harnessCpuS: 0,
    machineBusyS: 0,
    otherS: 0,
    overCounted: false,
  };
}
