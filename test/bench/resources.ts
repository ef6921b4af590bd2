import { readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const clockTicksPerSecond = 100;
const pageBytes = 4096;

interface ProcStat {
  pid: number;
  ppid: number;
  state: string;
  cpuTicks: number;
  childCpuTicks: number;
  rssBytes: number;
}

function readStat(pid: number | 'self'): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = text.lastIndexOf(')');
    const fields = text.slice(close + 2).split(' ');
    const n = (i: number) => Number(fields[i] ?? 0);
    // After "(comm) ": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime(11) stime(12) cutime(13) cstime(14) … rss(21)
    return { pid: Number(text.slice(0, text.indexOf(' '))), ppid: n(1), state: fields[0] ?? '?', cpuTicks: n(11) + n(12), childCpuTicks: n(13) + n(14), rssBytes: n(21) * pageBytes };
  } catch {
    return undefined;
  }
}

function allStats(): ProcStat[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map((entry) => readStat(Number(entry)))
    .filter((s): s is ProcStat => s !== undefined);
}

/** This process and every live descendant. */
export function processTree(): ProcStat[] {
  const stats = allStats();
  const byParent = new Map<number, ProcStat[]>();
  for (const s of stats) byParent.set(s.ppid, [...(byParent.get(s.ppid) ?? []), s]);
  const self = stats.find((s) => s.pid === process.pid);
  const tree: ProcStat[] = self === undefined ? [] : [self];
  for (let i = 0; i < tree.length; i++) tree.push(...(byParent.get(tree[i]?.pid ?? -1) ?? []));
  return tree;
}

/**
 * CPU seconds used so far by this process, its reaped children (cutime/cstime) and its live descendants.
 * Differences of two readings give the CPU cost of what ran in between, browsers included.
 */
export function cpuSeconds(): number {
  const tree = processTree();
  const self = tree[0];
  const ticks = (self?.childCpuTicks ?? 0) + tree.reduce((sum, s) => sum + s.cpuTicks, 0);
  return ticks / clockTicksPerSecond;
}

export function treeRssBytes(): number {
  return processTree().reduce((sum, s) => sum + s.rssBytes, 0);
}

export function treeProcessCount(): { processes: number; zombies: number } {
  const tree = processTree().slice(1);
  return { processes: tree.length, zombies: tree.filter((s) => s.state === 'Z').length };
}

export function openFiles(): number {
  return processTree().reduce((sum, s) => {
    try {
      return sum + readdirSync(`/proc/${s.pid}/fd`).length;
    } catch {
      return sum;
    }
  }, 0);
}

function dirBytes(path: string): number {
  let total = 0;
  let entries: string[];
  try {
    entries = readdirSync(path);
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const full = join(path, entry);
    try {
      const stat = statSync(full);
      total += stat.isDirectory() ? dirBytes(full) : stat.size;
    } catch {
      continue;
    }
  }
  return total;
}

/** Bytes under the temp directory that browsers and Playwright leave (profiles, artifacts). */
export function tempBytes(): number {
  return readdirSync(tmpdir())
    .filter((name) => /^(checkpoint-browser-|playwright|puppeteer)/.test(name))
    .reduce((sum, name) => sum + dirBytes(join(tmpdir(), name)), 0);
}

/** Samples the process tree's resident memory to find its peak during a run. */
export class RssSampler {
  #peakBytes = 0;
  #timer: NodeJS.Timeout | undefined;

  start(intervalMs = 250): void {
    this.#peakBytes = treeRssBytes();
    this.#timer = setInterval(() => {
      this.#peakBytes = Math.max(this.#peakBytes, treeRssBytes());
    }, intervalMs);
  }

  stop(): number {
    clearInterval(this.#timer);
    return Math.max(this.#peakBytes, treeRssBytes());
  }
}

