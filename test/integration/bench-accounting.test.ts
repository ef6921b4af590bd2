// The bench's cost accounting against real processes: a grandchild that burns a fixed amount of CPU and is
// then killed with its process group (what the pool does to a browser) must still be counted.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { ArmAccount } from '../bench/accounting.ts';
import { parseProcStat } from '../bench/proc-parse.ts';

const burnSeconds = 0.4;

// The child waits for "go" on stdin, starts a grandchild in its own process group that burns `burnSeconds` of
// its own CPU time (a fixed amount of work however loaded the machine is) and then idles; once told the burn
// is over, the child kills the grandchild's whole group (or, with "leave", leaves it running) and exits.
const childSource = `
const { spawn } = require('node:child_process');
const leave = process.argv[1] === 'leave';
process.stdin.once('data', () => {
  const burner = spawn(process.execPath, ['-e', \`
    const start = process.cpuUsage();
    while (true) { const u = process.cpuUsage(start); if ((u.user + u.system) / 1e6 >= ${burnSeconds}) break; }
    process.stdout.write('burnt\\\\n');
    setInterval(() => {}, 1000);
  \`], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
  burner.stdout.once('data', () => setTimeout(() => {
    if (!leave) process.kill(-burner.pid, 'SIGKILL');
    process.stdout.write(String(burner.pid) + '\\n');
    process.exit(0);
  }, 300));
});
`;

async function runChild(account: ArmAccount, mode: 'kill' | 'leave'): Promise<number> {
  const child = spawn(process.execPath, ['-e', childSource, mode], { stdio: ['pipe', 'pipe', 'inherit'] });
  assert.ok(child.pid !== undefined);
  account.attach(child.pid);
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => void (out += chunk.toString()));
  child.stdin.write('go\n');
  await once(child, 'exit');
  return Number(out.trim());
}

describe('bench accounting', () => {
  for (const preferCgroups of [true, false]) {
    it(`counts a grandchild killed with its process group (${preferCgroups ? 'cgroup' : '/proc sampling'})`, async (t) => {
      const account = ArmAccount.create(preferCgroups);
      if (preferCgroups && account.method !== 'cgroup-v1') {
        await account.dispose();
        t.skip('cgroup v1 groups cannot be created here');
        return;
      }
      const before = account.reading();
      await runChild(account, 'kill');
      const after = account.reading();
      const left = await account.dispose();
      const cpuS = after.armCpuS - before.armCpuS;
      // The burn itself plus two Node start-ups; sampling may lose the last 100 ms of a process.
      assert.ok(cpuS >= burnSeconds * 0.9, `counted ${cpuS.toFixed(3)} CPU-s, expected at least ${burnSeconds * 0.9}`);
      assert.deepEqual(left, []);
      assert.ok(account.peak().peakBytes > 0);
    });
  }

  it('reports and kills a process left behind in the arm`s group', async (t) => {
    const account = ArmAccount.create(true);
    if (account.method !== 'cgroup-v1') {
      await account.dispose();
      t.skip('cgroup v1 groups cannot be created here');
      return;
    }
    const leftPid = await runChild(account, 'leave');
    const left = await account.dispose();
    assert.deepEqual(
      left.map((p) => p.pid),
      [leftPid],
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    // Gone, or dead and waiting for whoever adopted it to reap it.
    let state = 'gone';
    try {
      state = parseProcStat(readFileSync(`/proc/${leftPid}/stat`, 'utf8'))?.state ?? 'gone';
    } catch {
      // Gone.
    }
    assert.ok(state === 'gone' || state === 'Z', `the leftover is still running (state ${state})`);
  });
});
