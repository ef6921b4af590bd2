import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describeProcesses, isAlive, isChromium, liveBrowserProcesses, listProcesses, processGroupOf, zombieChildren, type ProcessInfo } from '../processes.ts';
import { spawnedProcesses } from './managed-process.ts';
import { waitUntil } from './wait.ts';

function environOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'latin1');
  } catch {
    return '';
  }
}

/**
 * Remembers every Chromium process the e2e agents start. A browser started by an agent is a descendant of
 * this process only while its agent lives: once the agent is SIGKILLed it is reparented, so the watch samples
 * the descendants (pids and the process groups the browsers lead) every 250 ms, and also recognises Chromium
 * by the agents' temp directories (`roots`) on its command line or in its environment.
 */
export class ChromiumWatch {
  readonly #pids = new Set<number>();
  readonly #groups = new Set<number>();
  readonly #roots: string[] = [];
  readonly #ownGroup = processGroupOf(process.pid);
  readonly #timer: NodeJS.Timeout;

  constructor() {
    this.#timer = setInterval(() => this.sample(), 250);
    this.#timer.unref();
  }

  /** Also count Chromium processes that mention `dir` (an agent's TMPDIR). */
  addRoot(dir: string): void {
    this.#roots.push(dir);
  }

  sample(): void {
    for (const info of liveBrowserProcesses()) {
      this.#pids.add(info.pid);
      if (info.pgrp !== this.#ownGroup) this.#groups.add(info.pgrp);
    }
  }

  /** How many distinct Chromium processes were seen (so a leak check is known not to be vacuous). */
  get seen(): number {
    return this.#pids.size;
  }

  /** Live Chromium processes of these tests. */
  leftovers(): ProcessInfo[] {
    const mine = new Set(liveBrowserProcesses().map((info) => info.pid));
    return listProcesses().filter((info) => {
      if (info.state === 'Z' || info.state === 'X' || !isChromium(info)) return false;
      if (mine.has(info.pid) || this.#pids.has(info.pid) || this.#groups.has(info.pgrp)) return true;
      if (this.#roots.length === 0) return false;
      const text = `${info.args.join(' ')}\n${environOf(info.pid)}`;
      return this.#roots.some((root) => text.includes(root));
    });
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

/**
 * After a test file: every agent and control-plane process these helpers started has exited, no Chromium
 * process of theirs is alive (waiting up to `timeoutMs` for exits in progress), and no child is an unreaped
 * zombie.
 */
export async function assertNoProcessLeft(watch: ChromiumWatch, timeoutMs = 10_000): Promise<void> {
  watch.sample();
  if (spawnedProcesses.length === 0) {
    // No test of the file ran (a name filter): nothing to check.
    watch.stop();
    return;
  }
  assert.ok(watch.seen > 0, `the leak check is not vacuous: ${spawnedProcesses.length} processes were started but no Chromium process was ever seen`);
  try {
    await waitUntil('every e2e process and browser to exit', () => (spawnedProcesses.every((p) => !isAlive(p.pid)) && watch.leftovers().length === 0 ? true : undefined), {
      timeoutMs,
      intervalMs: 100,
    });
  } catch {
    // The assertions below say what is left.
  }
  const running = spawnedProcesses.filter((p) => isAlive(p.pid)).map((p) => `${p.name} (pid ${p.pid})`);
  assert.deepEqual(running, [], 'no agent or control-plane process is left running');
  assert.deepEqual(describeProcesses(watch.leftovers()), [], 'no Chromium process started by an agent is left');
  assert.deepEqual(describeProcesses(zombieChildren()), [], 'no zombie child process');
  watch.stop();
}
