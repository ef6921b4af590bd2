// What one arm run costs, counted over every process of the arm: the worker Node process, the browsers it
// launches and everything they start, including processes that die before the run ends (renderers, a
// browser killed with its process group). Exact with a cgroup v1 group per run (cpuacct charges every task
// that was ever in the group, memory tracks the group's pages); sampled from /proc when cgroups are not
// writable (then the last <100 ms of a process that dies between two samples is lost).
import { mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  cgroupV1Path,
  clockTicksPerSecond,
  descendants,
  parseCpuacctUsage,
  parseMachineStat,
  parseMemoryStat,
  parseProcStat,
  TreeCpuTally,
  unreclaimableBytes,
  type ProcStat,
} from './proc-parse.ts';

export type AccountingMethod = 'cgroup-v1' | 'proc-sampling';

export interface Reading {
  /** CPU seconds of the arm's processes so far (since the account was created). */
  armCpuS: number;
  /** Busy CPU seconds of the whole machine so far: the arm, the demo site, and anything else running. */
  machineBusyS: number;
  /** CPU seconds of this (parent) process so far: the demo site and the harness. */
  harnessCpuS: number;
}

export interface MemoryPeak {
  /** Peak of the arm's memory: cgroup anonymous + shared memory, or (sampling) the summed RSS of its processes. */
  peakBytes: number;
  /** Peak of the summed RSS of the arm's processes (counts pages shared between processes once per process). */
  treeRssPeakBytes: number;
  /** cgroup `memory.max_usage_in_bytes`: includes file page cache. Undefined when sampling. */
  cgroupMaxUsageBytes: number | undefined;
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function statOf(pid: number): ProcStat | undefined {
  const text = read(`/proc/${pid}/stat`);
  return text === undefined ? undefined : parseProcStat(text);
}

/** Every process on the machine (for finding a tree by parent links). */
export function allProcesses(): ProcStat[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map((entry) => statOf(Number(entry)))
    .filter((s): s is ProcStat => s !== undefined);
}

export function machineBusySeconds(): number {
  return (parseMachineStat(read('/proc/stat') ?? '')?.busyTicks ?? 0) / clockTicksPerSecond;
}

function harnessSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

const mountCandidates: Record<'cpuacct' | 'memory', string[]> = {
  cpuacct: ['/sys/fs/cgroup/cpuacct', '/sys/fs/cgroup/cpu,cpuacct'],
  memory: ['/sys/fs/cgroup/memory'],
};

let groupCounter = 0;

/** A fresh child group of this process's own group, for one controller; undefined when not possible. */
function createGroup(controller: 'cpuacct' | 'memory', name: string): string | undefined {
  const own = cgroupV1Path(read('/proc/self/cgroup') ?? '', controller);
  if (own === undefined) return undefined;
  for (const mount of mountCandidates[controller]) {
    const dir = join(mount, own, name);
    try {
      mkdirSync(dir);
      return dir;
    } catch {
      continue;
    }
  }
  return undefined;
}

function removeGroup(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // Still has tasks (reported as leftovers) or already gone.
  }
}

/** The accounting of one arm run (or one soak). Create, `attach` the worker's pid, read, `dispose`. */
export class ArmAccount {
  readonly method: AccountingMethod;
  readonly #cpuGroup: string | undefined;
  readonly #memoryGroup: string | undefined;
  #rootPid: number | undefined;
  readonly #tally = new TreeCpuTally();
  #timer: NodeJS.Timeout | undefined;
  #peakBytes = 0;
  #treeRssPeakBytes = 0;

  private constructor(cpuGroup: string | undefined, memoryGroup: string | undefined) {
    this.#cpuGroup = cpuGroup;
    this.#memoryGroup = memoryGroup;
    this.method = cpuGroup !== undefined && memoryGroup !== undefined ? 'cgroup-v1' : 'proc-sampling';
  }

  /** `preferCgroups: false` forces /proc sampling (to compare the two methods). */
  static create(preferCgroups = true): ArmAccount {
    if (!preferCgroups) return new ArmAccount(undefined, undefined);
    const name = `checkpoint-bench-${process.pid}-${++groupCounter}`;
    const cpu = createGroup('cpuacct', name);
    const memory = cpu === undefined ? undefined : createGroup('memory', name);
    if (cpu !== undefined && memory === undefined) removeGroup(cpu);
    return new ArmAccount(memory === undefined ? undefined : cpu, memory);
  }

  /**
   * Put the worker in the groups and start sampling. Called right after fork(), which returns once Node has
   * exec'd: the few pages it touched before that stay charged to our own group (this kernel refuses
   * `memory.move_charge_at_immigrate`), and nothing of the arm has started yet.
   */
  attach(pid: number): void {
    this.#rootPid = pid;
    if (this.method === 'cgroup-v1') {
      writeFileSync(join(this.#cpuGroup ?? '', 'cgroup.procs'), String(pid));
      writeFileSync(join(this.#memoryGroup ?? '', 'cgroup.procs'), String(pid));
    }
    this.sample();
    this.#timer = setInterval(() => this.sample(), 100);
    this.#timer.unref();
  }

  /** Pids in the arm: the cgroup's tasks, or the worker's live descendants. */
  #tree(): ProcStat[] {
    if (this.#rootPid === undefined) return [];
    if (this.method === 'cgroup-v1') {
      return this.pids().map(statOf).filter((s): s is ProcStat => s !== undefined);
    }
    return descendants(allProcesses(), this.#rootPid);
  }

  pids(): number[] {
    if (this.method === 'cgroup-v1') {
      return (read(join(this.#memoryGroup ?? '', 'cgroup.procs')) ?? '').split('\n').filter((l) => l.trim() !== '').map(Number);
    }
    return this.#rootPid === undefined ? [] : descendants(allProcesses(), this.#rootPid).map((s) => s.pid);
  }

  /** Memory the arm holds now (the same measure as `peakBytes`). */
  memoryNowBytes(): number {
    const tree = this.#tree();
    if (this.method === 'proc-sampling') this.#tally.observe(tree);
    const treeRss = tree.reduce((sum, s) => sum + s.rssBytes, 0);
    this.#treeRssPeakBytes = Math.max(this.#treeRssPeakBytes, treeRss);
    const now = this.method === 'cgroup-v1' ? unreclaimableBytes(parseMemoryStat(read(join(this.#memoryGroup ?? '', 'memory.stat')) ?? '')) : treeRss;
    this.#peakBytes = Math.max(this.#peakBytes, now);
    return now;
  }

  /** Shared memory (/dev/shm, Chromium's inter-process buffers) of the group now; undefined when sampling /proc. */
  sharedMemoryNowBytes(): number | undefined {
    if (this.method !== 'cgroup-v1') return undefined;
    const stat = parseMemoryStat(read(join(this.#memoryGroup ?? '', 'memory.stat')) ?? '');
    return stat.get('total_shmem') ?? stat.get('shmem');
  }

  sample(): void {
    this.memoryNowBytes();
  }

  reading(): Reading {
    this.sample();
    let armCpuS: number;
    if (this.method === 'cgroup-v1') armCpuS = (parseCpuacctUsage(read(join(this.#cpuGroup ?? '', 'cpuacct.usage')) ?? '') ?? 0) / 1e9;
    else armCpuS = this.#tally.ticks / clockTicksPerSecond;
    return { armCpuS, machineBusyS: machineBusySeconds(), harnessCpuS: harnessSeconds() };
  }

  /** Start a new peak window (e.g. after the worker has booted). */
  resetPeak(): void {
    this.#peakBytes = 0;
    this.#treeRssPeakBytes = 0;
    if (this.method === 'cgroup-v1') {
      try {
        writeFileSync(join(this.#memoryGroup ?? '', 'memory.max_usage_in_bytes'), '0');
      } catch {
        // Older kernels refuse the reset; the figure then includes the boot.
      }
    }
    this.sample();
  }

  peak(): MemoryPeak {
    this.sample();
    const maxUsage = this.method === 'cgroup-v1' ? Number(read(join(this.#memoryGroup ?? '', 'memory.max_usage_in_bytes')) ?? Number.NaN) : Number.NaN;
    return { peakBytes: this.#peakBytes, treeRssPeakBytes: this.#treeRssPeakBytes, cgroupMaxUsageBytes: Number.isFinite(maxUsage) ? maxUsage : undefined };
  }

  /**
   * Stop sampling and remove the groups. Returns the pids still in the arm's group after its worker exited
   * (leftovers: a clean arm has none); they are killed so the next run starts clean.
   */
  async dispose(): Promise<ProcStat[]> {
    clearInterval(this.#timer);
    // A process still exiting when the worker exits (a renderer reaped a moment later) is not a leftover: grace of 1 s.
    for (let attempt = 0; attempt < 10 && this.method === 'cgroup-v1' && this.pids().length > 0; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const left = this.method === 'cgroup-v1' ? this.#tree() : [];
    for (const { pid } of left) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone meanwhile.
      }
    }
    for (let attempt = 0; attempt < 20 && this.method === 'cgroup-v1' && this.pids().length > 0; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    if (this.#cpuGroup !== undefined) removeGroup(this.#cpuGroup);
    if (this.#memoryGroup !== undefined) removeGroup(this.#memoryGroup);
    return left;
  }
}
