import { readdirSync, readFileSync } from 'node:fs';

/**
 * Find the Chromium process that carries `marker` on its command line (we pass a unique, harmless
 * `--checkpoint-browser=<id>` switch at launch). Playwright does not expose the pid of a launched browser,
 * and we need it to kill a hung browser with its whole process tree. Linux only (/proc); elsewhere undefined.
 */
export function findBrowserProcess(marker: string): { pid: number; pgid: number; userDataDir?: string } | undefined {
  if (process.platform !== 'linux') return undefined;
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return undefined;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let args: string[];
    try {
      args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (!args.includes(marker) || args.some((arg) => arg.startsWith('--type='))) continue;
    // Debian's /usr/bin/chromium is a shell script that execs or spawns the real binary: skip the wrapper.
    if (/(^|\/)(ba|da)?sh$/.test(args[0] ?? '')) continue;
    const pid = Number(entry);
    const userDataDir = args.find((arg) => arg.startsWith('--user-data-dir='))?.slice('--user-data-dir='.length);
    const pgid = processGroupOf(pid) ?? pid;
    return userDataDir === undefined ? { pid, pgid } : { pid, pgid, userDataDir };
  }
  return undefined;
}

function processGroupOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const group = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
    return Number.isInteger(group) && group > 0 ? group : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Kill a browser and everything it started. Playwright spawns Chromium as the leader of its own process
 * group, so signalling the negative pid reaches the zygote, renderers and GPU process too.
 */
export function killProcessTree(pid: number, pgid = pid): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/** Whether a process is alive (zombies count as gone). */
export function isProcessAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    if (process.platform === 'linux') return false;
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }
}

/**
 * Proportional set size of a process in bytes (`/proc/PID/smaps_rollup`): its private pages plus its share of
 * pages it shares. Summing RSS instead counts the browser's shared libraries and shared memory once per renderer,
 * which grows with the number of live tabs, not with what they use. Undefined when the kernel does not say.
 */
function pssBytes(pid: string): number | undefined {
  try {
    const match = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return match?.[1] === undefined ? undefined : Number(match[1]) * 1024;
  } catch {
    return undefined;
  }
}

/**
 * Memory of a browser's process group in bytes (the browser and its children): the sum of proportional set
 * sizes, or of resident sizes where PSS is not available. 0 when unknown.
 */
export function processTreeRssBytes(pgid: number): number {
  if (process.platform !== 'linux') return 0;
  let total = 0;
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return 0;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // Fields after the command: state(0) ppid(1) pgrp(2) … rss is field 24 of stat, index 21 here.
      const pgrp = Number(fields[2]);
      if (pgrp !== pgid) continue;
      total += pssBytes(entry) ?? Number(fields[21]) * 4096;
    } catch {
      continue;
    }
  }
  return total;
}
