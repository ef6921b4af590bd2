// Leak checks for browser processes and their temp directories, read from /proc (Linux).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ProcessInfo {
  pid: number;
  ppid: number;
  /** Process group: the pool's browsers lead their own group, so renderers share the browser's pgrp. */
  pgrp: number;
  /** One-letter state from /proc/<pid>/stat: R, S, D, T (stopped), Z (zombie)… */
  state: string;
  args: string[];
}

/** The `--checkpoint-browser=<id>` switch the pool puts on every browser it launches. */
export const browserMarkerPrefix = '--checkpoint-browser=';

function readProcess(pid: number): ProcessInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    let args: string[] = [];
    try {
      args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((arg) => arg !== '');
    } catch {
      // Zombies and kernel threads have no command line.
    }
    return { pid, ppid: Number(fields[1]), pgrp: Number(fields[2]), state: fields[0] ?? '?', args };
  } catch {
    return undefined;
  }
}

/** Every process visible in /proc (empty off Linux). */
export function listProcesses(): ProcessInfo[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  return entries.filter((entry) => /^\d+$/.test(entry)).flatMap((entry) => readProcess(Number(entry)) ?? []);
}

/** Chromium itself, or the distribution's shell wrapper that starts it (`/bin/sh /usr/bin/chromium …`). */
export function isChromium(info: ProcessInfo): boolean {
  return info.args.slice(0, 3).some((arg) => /chrom|headless_shell/i.test(arg.split('/').at(-1) ?? ''));
}

/** The pool marker of a browser's main process, when it carries one. */
export function markerOf(info: ProcessInfo): string | undefined {
  return info.args.find((arg) => arg.startsWith(browserMarkerPrefix));
}

function descendantsOf(root: number, all: readonly ProcessInfo[]): Set<number> {
  const children = new Map<number, number[]>();
  for (const info of all) children.set(info.ppid, [...(children.get(info.ppid) ?? []), info.pid]);
  const found = new Set<number>();
  const stack = [...(children.get(root) ?? [])];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    if (found.has(pid)) continue;
    found.add(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return found;
}

export interface BrowserProcessQuery {
  /**
   * Which processes carrying the pool's `--checkpoint-browser=` switch count even when they are not
   * descendants of this process (a killed browser's orphans): these markers, or `'any'`. Default: none, as
   * other test files run pools of their own at the same time.
   */
  markers?: readonly string[] | 'any';
  /** Also count processes in these process groups (renderers orphaned by a killed browser). */
  groups?: readonly number[];
}

/**
 * Live (non-zombie) Chromium processes that are descendants of this Node process, belong to one of `groups`,
 * or carry the pool's `--checkpoint-browser=` switch with one of `markers` (any marker with `'any'`).
 */
export function liveBrowserProcesses(query: BrowserProcessQuery = {}): ProcessInfo[] {
  const all = listProcesses();
  const mine = descendantsOf(process.pid, all);
  const groups = new Set(query.groups ?? []);
  return all.filter((info) => {
    if (info.state === 'Z' || info.state === 'X' || !isChromium(info)) return false;
    if (mine.has(info.pid) || groups.has(info.pgrp)) return true;
    const marker = markerOf(info);
    if (marker === undefined || query.markers === undefined) return false;
    return query.markers === 'any' || query.markers.includes(marker);
  });
}

/** Assert (waiting up to `timeoutMs` for them to exit) that no Chromium process matching `query` is alive. */
export async function assertNoLiveBrowsers(query: BrowserProcessQuery = {}, timeoutMs = 3_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (liveBrowserProcesses(query).length > 0 && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.deepEqual(describeProcesses(liveBrowserProcesses(query)), [], 'no Chromium process of these tests is left');
}

/** Zombie children of this process: exited but never reaped. */
export function zombieChildren(): ProcessInfo[] {
  return listProcesses().filter((info) => info.ppid === process.pid && info.state === 'Z');
}

/** Whether `pid` is a live process (a zombie counts as dead). */
export function isAlive(pid: number): boolean {
  const info = readProcess(pid);
  return info !== undefined && info.state !== 'Z' && info.state !== 'X';
}

/** Processes still alive among `pids`, or in the process group one of them leads. */
function survivors(pids: readonly number[]): ProcessInfo[] {
  const wanted = new Set(pids);
  return listProcesses().filter((info) => info.state !== 'Z' && info.state !== 'X' && (wanted.has(info.pid) || wanted.has(info.pgrp)));
}

/** One line per process, for assertion messages: `pid ppid pgrp state command…`. */
export function describeProcesses(infos: readonly ProcessInfo[]): string[] {
  return infos.map((info) => `${info.pid} ppid=${info.ppid} pgrp=${info.pgrp} ${info.state} ${info.args.slice(0, 3).join(' ').slice(0, 160)}`);
}

/** The process group of `pid`, while it is alive. */
export function processGroupOf(pid: number): number | undefined {
  return readProcess(pid)?.pgrp;
}

/** Wait (up to `timeoutMs`) until none of `pids` is alive; true when they all died. */
export async function waitForExit(pids: readonly number[], timeoutMs = 3_000): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (survivors(pids).length > 0) {
    if (performance.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

/**
 * Assert that the browsers `pids` (and every process in the groups they lead: zygotes, renderers, GPU) are
 * gone, waiting up to `timeoutMs`, and that this process left no unreaped zombie children.
 */
export async function assertNoBrowserLeft(pids: readonly number[], timeoutMs = 3_000): Promise<void> {
  await waitForExit(pids, timeoutMs);
  const left = survivors(pids);
  assert.deepEqual(
    describeProcesses(left),
    [],
    `browser processes still alive ${timeoutMs} ms after their browser was closed`,
  );
  // Node reaps an exited child when its event loop gets to it: on a busy machine a few ms (or more) after the
  // exit. A zombie still there after the same timeout is a leak.
  let zombies = zombieChildren();
  for (const startedMs = Date.now(); zombies.length > 0 && Date.now() - startedMs < timeoutMs; zombies = zombieChildren()) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.deepEqual(zombies.map((info) => info.pid), [], `zombie child processes were not reaped within ${timeoutMs} ms`);
}

/** The `checkpoint-browser-*` directories the pool creates in the OS temp directory. */
export function checkpointTempDirs(): string[] {
  try {
    return readdirSync(tmpdir())
      .filter((name) => name.startsWith('checkpoint-browser-'))
      .map((name) => join(tmpdir(), name));
  } catch {
    return [];
  }
}

/**
 * Directories a live browser owns: the pool's scratch directory (its TMPDIR) and its profile
 * (`--user-data-dir`). Read while the browser runs; check after it closed that they are gone.
 */
export function browserDirs(pid: number): string[] {
  const dirs = new Set<string>();
  try {
    const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    const tmp = environ.find((entry) => entry.startsWith('TMPDIR='))?.slice('TMPDIR='.length);
    if (tmp !== undefined && tmp.includes('checkpoint-browser-')) dirs.add(tmp);
  } catch {
    // Gone already, or not ours to read.
  }
  const info = readProcess(pid);
  const profile = info?.args.find((arg) => arg.startsWith('--user-data-dir='))?.slice('--user-data-dir='.length);
  if (profile !== undefined) dirs.add(profile);
  return [...dirs];
}
