// Pure parsers for the kernel files the bench reads: /proc/<pid>/stat, /proc/stat and the cgroup v1
// cpuacct and memory controllers. No file access here, so they can be tested on fixed text.

/** Kernel clock ticks per second (USER_HZ); 100 on every Linux the project targets. */
export const clockTicksPerSecond = 100;
export const pageBytes = 4096;

export interface ProcStat {
  pid: number;
  /** Command name (first 15 bytes of the executable's name). */
  comm: string;
  ppid: number;
  /** R, S, D, Z, … */
  state: string;
  /** utime + stime of the process itself, ticks. */
  cpuTicks: number;
  /** cutime + cstime: ticks of children it has reaped (already gone from /proc). */
  childCpuTicks: number;
  /** Start time after boot, ticks: with the pid, tells a process from a later one that reuses its pid. */
  startTicks: number;
  rssBytes: number;
}

/** One /proc/<pid>/stat line. The command name may contain spaces and parentheses, so split after the last ")". */
export function parseProcStat(text: string): ProcStat | undefined {
  const close = text.lastIndexOf(')');
  const firstSpace = text.indexOf(' ');
  if (close < 0 || firstSpace < 0) return undefined;
  const fields = text.slice(close + 2).trim().split(/\s+/);
  // Field numbers of proc(5) minus 3: state(3) ppid(4) … utime(14) stime(15) cutime(16) cstime(17) … starttime(22) vsize(23) rss(24).
  const n = (i: number) => Number(fields[i] ?? Number.NaN);
  const stat = { pid: Number(text.slice(0, firstSpace)), comm: text.slice(text.indexOf('(') + 1, close), ppid: n(1), state: fields[0] ?? '?', cpuTicks: n(11) + n(12), childCpuTicks: n(13) + n(14), startTicks: n(19), rssBytes: n(21) * pageBytes };
  return Number.isFinite(stat.pid) && Number.isFinite(stat.cpuTicks) && Number.isFinite(stat.rssBytes) ? stat : undefined;
}

export interface MachineCpu {
  /** Ticks spent on anything but idle and iowait, all CPUs together. */
  busyTicks: number;
  totalTicks: number;
}

/** The aggregate "cpu" line of /proc/stat: user nice system idle iowait irq softirq steal [guest guest_nice]. */
export function parseMachineStat(text: string): MachineCpu | undefined {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (line === undefined) return undefined;
  // guest and guest_nice are already counted in user and nice.
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const busyTicks = user + nice + system + irq + softirq + steal;
  return { busyTicks, totalTicks: busyTicks + idle + iowait };
}

/** cgroup v1 `cpuacct.usage`: nanoseconds of CPU used by every task that has ever been in the group. */
export function parseCpuacctUsage(text: string): number | undefined {
  const value = Number(text.trim());
  return text.trim() !== '' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

/** cgroup v1 `memory.stat` ("name value" lines) as a map. */
export function parseMemoryStat(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key !== undefined && key !== '' && value !== undefined && Number.isFinite(Number(value))) out.set(key, Number(value));
  }
  return out;
}

/**
 * Memory a cgroup's processes hold that they cannot give back: anonymous memory (heaps, stacks) plus shared
 * memory (Chromium passes frames and buffers between its processes through /dev/shm). Page cache of files
 * (the Chromium binary, fonts) is left out: it is reclaimable and charged to whichever group read it first.
 */
export function unreclaimableBytes(stat: ReadonlyMap<string, number>): number {
  return (stat.get('total_rss') ?? stat.get('rss') ?? 0) + (stat.get('total_shmem') ?? stat.get('shmem') ?? 0);
}

/** Process-tree helpers over parsed stats: the pids under `root` (root included), breadth first. */
export function descendants(stats: readonly ProcStat[], root: number): ProcStat[] {
  const byParent = new Map<number, ProcStat[]>();
  for (const s of stats) byParent.set(s.ppid, [...(byParent.get(s.ppid) ?? []), s]);
  const top = stats.find((s) => s.pid === root);
  const tree: ProcStat[] = top === undefined ? [] : [top];
  for (let i = 0; i < tree.length; i++) tree.push(...(byParent.get(tree[i]?.pid ?? -1) ?? []));
  return tree;
}

/**
 * CPU of a process tree observed by sampling: every process ever seen counts with its last reading, so the
 * ones that died between samples still count up to their last sample. Keyed by pid and start time so a
 * reused pid is a new process. Reaped-children time (cutime) is not added: those children were sampled
 * themselves, and adding it would count them twice.
 */
export class TreeCpuTally {
  readonly #lastTicks = new Map<string, number>();

  observe(tree: readonly ProcStat[]): void {
    for (const s of tree) this.#lastTicks.set(`${s.pid}@${s.startTicks}`, s.cpuTicks);
  }

  get ticks(): number {
    let sum = 0;
    for (const t of this.#lastTicks.values()) sum += t;
    return sum;
  }

  get processesSeen(): number {
    return this.#lastTicks.size;
  }
}

/**
 * The group path of one cgroup v1 controller in /proc/<pid>/cgroup ("4:memory:/a/b", or "2:cpu,cpuacct:/"
 * where controllers share a hierarchy); undefined when the controller is not mounted as v1.
 */
export function cgroupV1Path(text: string, controller: string): string | undefined {
  for (const line of text.split('\n')) {
    const [, names, path] = /^\d+:([^:]*):(.*)$/.exec(line.trim()) ?? [];
    if (names !== undefined && path !== undefined && names.split(',').includes(controller)) return path;
  }
  return undefined;
}
