// Side-by-side benchmark of the worker pool (issue: the worker pool). Every arm runs the same 5-step
// transaction against the same local demo site; each arm run (one arm, one round, one concurrency) is its
// own Node process whose whole process tree is accounted (accounting.ts), while the demo site stays in this
// process and is reported apart. Rounds alternate the arm order so machine drift cancels.
// Run: `npm run checkpoint -- bench` (see docs/benchmarks.md).
import { fork } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startDemoSite } from '../../scripts/demo-site/server.ts';
import { allProcesses, ArmAccount, type AccountingMethod, type Reading } from './accounting.ts';
import { armNames, type ArmName, type ArmRun } from './arms.ts';
import { descendants } from './proc-parse.ts';
import { armOrder, summarise, type ArmPoint, type RunRecord } from './sweep.ts';
import type { ParentMessage, WorkerMessage } from './worker-protocol.ts';

export interface SweepOptions {
  transactions: number;
  concurrencies: readonly number[];
  rounds: number;
  arms: readonly ArmName[];
  /** false: sample /proc even where cgroups are writable. */
  cgroups?: boolean;
  log: (line: string) => void;
}

export interface SweepResult {
  method: AccountingMethod;
  transactionsPerRun: (concurrency: number) => number;
  records: RunRecord[];
  points: ArmPoint[];
}

const demoPassword = 'demo-password';
const workerPath = fileURLToPath(new URL('./arm-worker.ts', import.meta.url));
/** An arm run that takes longer than this is hung: its worker is killed. */
const armRunDeadlineMs = 15 * 60_000;

/** Transactions per arm run: at least two waves at the run's concurrency, so throughput is not one ragged wave. */
export function transactionsPerRun(requested: number, concurrency: number): number {
  return Math.max(requested, 2 * concurrency);
}

interface WorkerHandle {
  pid: number;
  send(message: ParentMessage): void;
  /** The next message from the worker (rejects when it fails or exits first). */
  next(): Promise<WorkerMessage>;
  exited: Promise<number | null>;
}

const liveAccounts = new Set<ArmAccount>();

/** On Ctrl-C, kill the arm being measured (its whole cgroup) instead of leaving its browsers behind. */
function onInterrupt(signal: NodeJS.Signals): void {
  for (const account of liveAccounts) for (const pid of account.pids()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  process.kill(process.pid, signal);
}

function startWorker(account: ArmAccount, deadlineMs: number): WorkerHandle {
  // --expose-gc: the soak collects garbage before each memory sample so V8's heap timing does not read as a trend.
  const child = fork(workerPath, [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], execArgv: [...process.execArgv, '--expose-gc'] });
  const startedAt = Date.now();
  let stderrTail = '';
  child.stderr?.on('data', (chunk: Buffer) => void (stderrTail = (stderrTail + chunk.toString()).slice(-2000)));
  if (child.pid === undefined) throw new Error('bench worker did not start');
  // Join the groups before the worker can start anything: it launches nothing until it is told to.
  account.attach(child.pid);
  const inbox: WorkerMessage[] = [];
  let waiting: { resolve: (m: WorkerMessage) => void; reject: (e: Error) => void } | undefined;
  let ended: Error | undefined;
  child.on('message', (message: WorkerMessage) => {
    if (message.type === 'error') ended = new Error(`bench worker failed: ${message.message}`);
    if (waiting !== undefined && ended === undefined) {
      const w = waiting;
      waiting = undefined;
      w.resolve(message);
    } else inbox.push(message);
    if (ended !== undefined) waiting?.reject(ended);
  });
  const deadline = setTimeout(() => child.kill('SIGKILL'), deadlineMs);
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      clearTimeout(deadline);
      ended ??= new Error(`bench worker exited (${code === null ? `killed${Date.now() - startedAt >= deadlineMs ? ` after its ${Math.round(deadlineMs / 60_000)}-minute deadline` : ''}` : `code ${code}`}) early${stderrTail === '' ? '' : `: ${stderrTail.trim().split('\n').slice(-5).join(' | ')}`}`);
      waiting?.reject(ended);
      resolve(code);
    }),
  );
  return {
    pid: child.pid,
    send: (message) => void child.send(message),
    next: () => {
      const queued = inbox.shift();
      if (queued !== undefined) return Promise.resolve(queued);
      if (ended !== undefined) return Promise.reject(ended);
      return new Promise((resolve, reject) => (waiting = { resolve, reject }));
    },
    exited,
  };
}

async function expect<T extends WorkerMessage['type']>(worker: WorkerHandle, type: T): Promise<Extract<WorkerMessage, { type: T }>> {
  const message = await worker.next();
  if (message.type !== type) throw new Error(`bench worker: expected "${type}", got ${JSON.stringify(message).slice(0, 500)}`);
  return message as Extract<WorkerMessage, { type: T }>;
}

/** One arm at one concurrency in a fresh worker process, accounted from before the arm starts to after it closed. */
async function runArm(arm: ArmName, concurrency: number, round: number, transactions: number, baseUrl: string, cgroups: boolean): Promise<{ record: RunRecord; method: AccountingMethod }> {
  const account = ArmAccount.create(cgroups);
  liveAccounts.add(account);
  try {
    const worker = startWorker(account, armRunDeadlineMs);
    await expect(worker, 'booted');
    account.resetPeak();
    const before = account.reading();
    worker.send({ type: 'run', arm, ctx: { baseUrl, password: demoPassword, transactions, concurrency } });
    await expect(worker, 'started');
    const started = account.reading();
    worker.send({ type: 'ack' });
    const ran = await expect(worker, 'ran');
    const afterRun = account.reading();
    worker.send({ type: 'ack' });
    await expect(worker, 'closed');
    const after = account.reading();
    const peak = account.peak();
    worker.send({ type: 'ack' });
    await worker.exited;
    const leftovers = await account.dispose();
    const delta = (pick: (r: Reading) => number, a: Reading, b: Reading) => pick(b) - pick(a);
    const run: ArmRun = ran.run;
    return {
      method: account.method,
      record: {
        arm,
        concurrency,
        round,
        transactionMs: run.transactionMs,
        leaseWaitMs: run.leaseWaitMs,
        failures: run.failures,
        wallMs: ran.wallMs,
        armCpuS: delta((r) => r.armCpuS, before, after),
        armRunCpuS: delta((r) => r.armCpuS, started, afterRun),
        machineBusyS: delta((r) => r.machineBusyS, before, after),
        harnessCpuS: delta((r) => r.harnessCpuS, before, after),
        peakBytes: peak.peakBytes,
        treeRssPeakBytes: peak.treeRssPeakBytes,
        cgroupMaxUsageBytes: peak.cgroupMaxUsageBytes,
        leftovers: leftovers.length,
        leftoverNames: leftovers.map((p) => `${p.comm} (${p.state})`),
      },
    };
  } catch (error) {
    await account.dispose();
    throw error;
  } finally {
    liveAccounts.delete(account);
  }
}

export async function runPoolSweep(options: SweepOptions): Promise<SweepResult> {
  const site = await startDemoSite({ port: 0 });
  const records: RunRecord[] = [];
  let method: AccountingMethod = 'proc-sampling';
  const total = options.rounds * options.concurrencies.length * options.arms.length;
  const startedMs = performance.now();
  process.once('SIGINT', onInterrupt);
  process.once('SIGTERM', onInterrupt);
  try {
    for (let round = 0; round < options.rounds; round++) {
      for (const [ci, concurrency] of options.concurrencies.entries()) {
        for (const arm of armOrder(options.arms, round, ci)) {
          const transactions = transactionsPerRun(options.transactions, concurrency);
          const result = await runArm(arm, concurrency, round, transactions, site.url, options.cgroups ?? true);
          method = result.method;
          records.push(result.record);
          const r = result.record;
          const elapsedS = (performance.now() - startedMs) / 1000;
          const etaS = (elapsedS / records.length) * (total - records.length);
          options.log(
            `[${records.length}/${total}] round ${round + 1} c=${concurrency} ${arm.padEnd(17)} ${(r.transactionMs.length / (r.wallMs / 60_000)).toFixed(1).padStart(6)} tx/min` +
              `  CPU ${(r.armCpuS / Math.max(1, r.transactionMs.length)).toFixed(3)} s/tx (machine ${(r.machineBusyS / Math.max(1, r.transactionMs.length)).toFixed(3)})` +
              `  peak ${Math.round(r.peakBytes / 1024 ** 2)} MiB  ${r.failures.length} failed${r.failures[0] === undefined ? '' : ` (${r.failures[0]})`}` +
              `${r.leftovers === 0 ? '' : `  ${r.leftovers} LEFTOVER processes: ${(r.leftoverNames ?? []).join(', ')}`}  [${result.method}, ~${Math.round(etaS / 60)} min left]`,
          );
        }
      }
    }
  } finally {
    process.off('SIGINT', onInterrupt);
    process.off('SIGTERM', onInterrupt);
    await site.close();
  }
  return { method, transactionsPerRun: (c) => transactionsPerRun(options.transactions, c), records, points: summarise(records) };
}

export interface SoakSnapshot {
  /** The arm's memory (cgroup anonymous + shared, or summed RSS when sampling), MiB. */
  memoryMiB: number;
  /** Summed RSS of the worker's process tree, MiB. */
  treeRssMiB: number;
  /** RSS of the worker's Node process alone, MiB (what of the memory is not the browser's). */
  nodeRssMiB: number;
  /** Shared memory of the group, MiB (cgroup only). */
  sharedMiB: number | undefined;
  /** The worker's V8 heap in use after a forced garbage collection, MiB: growth here is retained objects, not allocator slack. */
  nodeHeapUsedMiB: number;
  /** Processes under the worker (browsers and their children). */
  processes: number;
  zombies: number;
  openFiles: number;
  done: number;
  recycled: number;
}

export interface SoakResult {
  method: AccountingMethod;
  transactions: number;
  concurrency: number;
  recycleAfterLeases: number;
  failures: number;
  recycled: number;
  start: SoakSnapshot;
  /** Taken half-way through every browser's life (the same point of each recycle cycle). */
  cycle: SoakSnapshot[];
  end: SoakSnapshot;
  afterClose: SoakSnapshot;
  /** Pids left in the soak's cgroup after its worker exited. */
  leftovers: number;
}

function openFileCount(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => {
    try {
      return sum + readdirSync(`/proc/${pid}/fd`).length;
    } catch {
      return sum;
    }
  }, 0);
}

/** Recycle period of the soak: the pool's default (100) when the soak is long enough for five cycles, shorter otherwise. */
export function soakRecycleAfterLeases(transactions: number): number {
  return Math.min(100, Math.max(10, Math.floor(transactions / 5)));
}

/** `--soak N`: N transactions through our pool in a worker process; memory sampled at the same point of each recycle cycle. */
export async function runSoak(transactions: number, concurrency: number, log: (line: string) => void, cgroups = true): Promise<SoakResult> {
  const site = await startDemoSite({ port: 0 });
  const account = ArmAccount.create(cgroups);
  const recycleAfterLeases = soakRecycleAfterLeases(transactions);
  liveAccounts.add(account);
  process.once('SIGINT', onInterrupt);
  process.once('SIGTERM', onInterrupt);
  try {
    // A soak is long by design: allow a minute per transaction before calling it hung.
    const worker = startWorker(account, Math.max(armRunDeadlineMs, transactions * 60_000));
    await expect(worker, 'booted');
    worker.send({ type: 'soak', transactions, concurrency, recycleAfterLeases, baseUrl: site.url, password: demoPassword });
    const snap = (m: Extract<WorkerMessage, { type: 'soak-sample' }>): SoakSnapshot => {
      const memoryMiB = Math.round(account.memoryNowBytes() / 1024 ** 2);
      const tree = descendants(allProcesses(), worker.pid);
      return {
        memoryMiB,
        treeRssMiB: Math.round(tree.reduce((s, p) => s + p.rssBytes, 0) / 1024 ** 2),
        nodeRssMiB: Math.round((tree[0]?.rssBytes ?? 0) / 1024 ** 2),
        nodeHeapUsedMiB: Math.round(m.heapUsedBytes / 1024 ** 2),
        sharedMiB: ((shared) => (shared === undefined ? undefined : Math.round(shared / 1024 ** 2)))(account.sharedMemoryNowBytes()),
        processes: tree.length - 1,
        zombies: tree.filter((p) => p.state === 'Z').length,
        openFiles: openFileCount(tree.slice(1).map((p) => p.pid)),
        done: m.done,
        recycled: m.recycled,
      };
    };
    const samples: { label: string; snapshot: SoakSnapshot; failures: number }[] = [];
    for (;;) {
      const m = await expect(worker, 'soak-sample');
      const snapshot = snap(m);
      samples.push({ label: m.label, snapshot, failures: m.failures });
      worker.send({ type: 'ack' });
      const zombies = descendants(allProcesses(), worker.pid).filter((p) => p.state === 'Z');
      log(
        `soak ${m.label}: ${m.done}/${transactions} done, ${m.failures} failed, ${m.recycled} recycled, memory ${snapshot.memoryMiB} MiB (shared ${snapshot.sharedMiB ?? 'n/a'}, Node RSS ${snapshot.nodeRssMiB}, heap ${snapshot.nodeHeapUsedMiB}), ${snapshot.processes} processes, ${snapshot.openFiles} open files` +
          (zombies.length === 0 ? '' : `, zombies: ${zombies.map((z) => `${z.comm} ${z.pid} (parent ${z.ppid})`).join(', ')}`),
      );
      if (m.label === 'after-close') break;
    }
    await worker.exited;
    const leftovers = await account.dispose();
    const pick = (label: string) => samples.find((s) => s.label === label)?.snapshot as SoakSnapshot;
    const last = samples.at(-1);
    return {
      method: account.method,
      transactions,
      concurrency,
      recycleAfterLeases,
      failures: last?.failures ?? 0,
      recycled: last?.snapshot.recycled ?? 0,
      start: pick('start'),
      cycle: samples.filter((s) => s.label === 'cycle').map((s) => s.snapshot),
      end: pick('end'),
      afterClose: pick('after-close'),
      leftovers: leftovers.length,
    };
  } catch (error) {
    await account.dispose();
    throw error;
  } finally {
    liveAccounts.delete(account);
    process.off('SIGINT', onInterrupt);
    process.off('SIGTERM', onInterrupt);
    await site.close();
  }
}

export { armNames };
