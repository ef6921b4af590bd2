// What each process group of a dispatch-bench arm costs over the measured window: a control-plane process, or
// PostgreSQL's postmaster and every process whose parent chain reaches it (background workers and one backend
// per client connection). Sampled from /proc: the reads are injected, so the sums can be tested on fixed data.
import { clockTicksPerSecond, descendants, TreeCpuTally, type ProcStat } from './proc-parse.ts';

/** A field of /proc/<pid>/status given in kB ("VmHWM:    123456 kB"), in bytes; undefined when absent. */
export function statusFieldBytes(text: string, field: string): number | undefined {
  const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(text);
  return match === null ? undefined : Number(match[1]) * 1024;
}

/** Pss (proportional set size: a page shared by n processes counts 1/n to each) from /proc/<pid>/smaps_rollup. */
export function pssBytes(smapsRollup: string): number | undefined {
  return statusFieldBytes(smapsRollup, 'Pss');
}

export interface ProcReader {
  /** Every process on the machine, parsed from /proc/<pid>/stat. */
  processes(): ProcStat[];
  /** Pss of one process, undefined when it is gone or unreadable. */
  pssBytes(pid: number): number | undefined;
}

interface Group {
  root: number;
  tally: TreeCpuTally;
  baselineTicks: number;
  peakRssBytes: number;
  peakPssBytes: number;
  maxProcesses: number;
  rootSeen: boolean;
}

export interface GroupUsage {
  /** CPU seconds of the group's processes inside the window (utime + stime, all threads). */
  cpuS: number;
  /** Peak over the samples of the summed RSS (pages shared between the processes count once per process). */
  peakRssBytes: number;
  /** Peak over the samples of the summed Pss (shared pages split between the processes: counted once overall). */
  peakPssBytes: number;
  /** Most processes the group had at one sample. */
  maxProcesses: number;
  /** Distinct processes (pid + start time) seen since the sampler started. */
  processesSeen: number;
}

/**
 * Samples named process trees. CPU is the sum, over every process ever seen in a tree, of its last
 * `utime + stime`, minus that sum at the window's start: a process that started and ended inside the window counts
 * up to its last sample (it loses at most one interval of its CPU), a process that lived through the window
 * counts what it used inside it. Reaped-children time (cutime) is left out: the children were sampled themselves.
 */
export class ProcessTreeSampler {
  readonly #reader: ProcReader;
  readonly #groups = new Map<string, Group>();
  readonly #withPss: boolean;

  constructor(reader: ProcReader, roots: Readonly<Record<string, number>>, options: { pss?: boolean } = {}) {
    this.#reader = reader;
    this.#withPss = options.pss ?? true;
    for (const [name, root] of Object.entries(roots)) {
      this.#groups.set(name, { root, tally: new TreeCpuTally(), baselineTicks: 0, peakRssBytes: 0, peakPssBytes: 0, maxProcesses: 0, rootSeen: false });
    }
  }

  /** One reading of every group. */
  sample(): void {
    const all = this.#reader.processes();
    for (const group of this.#groups.values()) {
      const tree = descendants(all, group.root);
      if (tree.length === 0) continue;
      group.rootSeen = true;
      group.tally.observe(tree);
      group.maxProcesses = Math.max(group.maxProcesses, tree.length);
      group.peakRssBytes = Math.max(group.peakRssBytes, tree.reduce((sum, s) => sum + s.rssBytes, 0));
      if (this.#withPss) group.peakPssBytes = Math.max(group.peakPssBytes, tree.reduce((sum, s) => sum + (this.#reader.pssBytes(s.pid) ?? 0), 0));
    }
  }

  /** Sample, then count CPU and peaks from here. */
  startWindow(): void {
    this.sample();
    for (const group of this.#groups.values()) {
      group.baselineTicks = group.tally.ticks;
      group.peakRssBytes = 0;
      group.peakPssBytes = 0;
      group.maxProcesses = 0;
    }
    this.sample();
  }

  usage(name: string): GroupUsage {
    const group = this.#groups.get(name);
    if (group === undefined) throw new Error(`no process group "${name}" is sampled`);
    if (!group.rootSeen) throw new Error(`process group "${name}": its root pid ${group.root} was never seen in /proc`);
    return {
      cpuS: (group.tally.ticks - group.baselineTicks) / clockTicksPerSecond,
      peakRssBytes: group.peakRssBytes,
      peakPssBytes: group.peakPssBytes,
      maxProcesses: group.maxProcesses,
      processesSeen: group.tally.processesSeen,
    };
  }
}

export interface MachineCheck {
  armCpuS: number;
  harnessCpuS: number;
  machineBusyS: number;
  /** Busy time of the machine not explained by the arm or the harness: other load (and sampling losses). */
  otherS: number;
  /** Arm + harness above the machine's busy time by more than the tolerance: the accounting counts twice. */
  overCounted: boolean;
}

/**
 * The arm's CPU against the whole machine's busy time over the same window. The arm and the harness are disjoint
 * sets of processes, so together they can never exceed the machine by more than the two clocks disagree; a sum
 * above that means the accounting counts something twice.
 *
 * How far they may disagree: a process's utime + stime come from the scheduler's exact run time, while the
 * machine's busy time in /proc/stat is sampled at each tick (CONFIG_TICK_CPU_ACCOUNTING, with idle ticks stopped:
 * NO_HZ_IDLE). Work done in bursts shorter than a tick on a CPU that is idle when the tick comes is in the first
 * and missed by the second, so the machine reads slightly low; PostgreSQL's many short backend wake-ups showed
 * it at up to 1.9 % of the busy time. The tolerance is 0.5 s or 3 % of the machine's busy time, the larger.
 */
export function machineCheck(input: { armCpuS: number; harnessCpuS: number; machineBusyS: number; toleranceS?: number }): MachineCheck {
  const otherS = input.machineBusyS - input.armCpuS - input.harnessCpuS;
  const toleranceS = input.toleranceS ?? Math.max(0.5, 0.03 * input.machineBusyS);
  return { armCpuS: input.armCpuS, harnessCpuS: input.harnessCpuS, machineBusyS: input.machineBusyS, otherS, overCounted: otherS < -toleranceS };
}

/** The p-th percentile (nearest rank) of sorted values; 0 for none. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0;
}
