import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cgroupV1Path, descendants, parseCpuacctUsage, parseMachineStat, parseMemoryStat, parseProcStat, TreeCpuTally, unreclaimableBytes, type ProcStat } from '../../../test/bench/proc-parse.ts';

const statLine = (pid: number, comm: string, ppid: number, state: string, utime: number, stime: number, start: number, rssPages: number, cutime = 0) =>
  `${pid} (${comm}) ${state} ${ppid} ${pid} 2455 0 -1 4194304 100 0 0 0 ${utime} ${stime} ${cutime} 0 20 0 1 0 ${start} 3133440 ${rssPages} 18446744073709551615 0 0`;

describe('bench: /proc and cgroup parsing', () => {
  it('reads a /proc/<pid>/stat line, command names with spaces and parentheses included', () => {
    const s = parseProcStat(statLine(4321, 'chrome (renderer) x', 4000, 'S', 150, 30, 42214, 417, 900));
    assert.deepEqual(s, { pid: 4321, comm: 'chrome (renderer) x', ppid: 4000, state: 'S', cpuTicks: 180, childCpuTicks: 900, startTicks: 42214, rssBytes: 417 * 4096 });
    assert.equal(parseProcStat('garbage'), undefined);
  });

  it('reads a real kernel line', () => {
    const real = '7595 (cat) R 7593 7593 2455 0 -1 4194304 100 0 0 0 3 1 0 0 20 0 1 0 42214 3133440 417 18446744073709551615 94814836711424 94814836731305 140736729690624 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0';
    const s = parseProcStat(real);
    assert.equal(s?.ppid, 7593);
    assert.equal(s?.cpuTicks, 4);
    assert.equal(s?.startTicks, 42214);
    assert.equal(s?.rssBytes, 417 * 4096);
  });

  it('counts machine busy time as everything but idle and iowait', () => {
    const m = parseMachineStat('cpu  24417 10 4967 53835 406 3 80 7 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n');
    assert.deepEqual(m, { busyTicks: 24417 + 10 + 4967 + 3 + 80 + 7, totalTicks: 24417 + 10 + 4967 + 3 + 80 + 7 + 53835 + 406 });
    assert.equal(parseMachineStat('intr 1 2 3'), undefined);
  });

  it('reads cpuacct.usage nanoseconds, and rejects empty or negative text', () => {
    assert.equal(parseCpuacctUsage('123456789012\n'), 123456789012);
    assert.equal(parseCpuacctUsage(''), undefined);
    assert.equal(parseCpuacctUsage('-1'), undefined);
  });

  it('takes anonymous + shared memory from memory.stat, leaving page cache out', () => {
    const stat = parseMemoryStat('cache 44118016\nrss 134217728\nshmem 0\ntotal_cache 83263488\ntotal_rss 352550912\ntotal_shmem 20770816\n');
    assert.equal(stat.get('total_cache'), 83263488);
    assert.equal(unreclaimableBytes(stat), 352550912 + 20770816);
    // A kernel without hierarchical totals: the group's own counters.
    assert.equal(unreclaimableBytes(parseMemoryStat('rss 100\nshmem 20\ncache 999\n')), 120);
  });

  it('finds a controller`s group in /proc/<pid>/cgroup, shared hierarchies included', () => {
    const text = '9:name=systemd:/\n4:memory:/process_api/ff2c\n2:cpu,cpuacct:/bench\n0::/\n';
    assert.equal(cgroupV1Path(text, 'memory'), '/process_api/ff2c');
    assert.equal(cgroupV1Path(text, 'cpuacct'), '/bench');
    assert.equal(cgroupV1Path(text, 'pids'), undefined);
  });
});

describe('bench: process-tree CPU by sampling', () => {
  const proc = (pid: number, ppid: number, cpuTicks: number, startTicks = pid): ProcStat => ({ pid, comm: 'x', ppid, state: 'S', cpuTicks, childCpuTicks: 0, startTicks, rssBytes: 0 });

  it('walks a tree from its root and ignores other processes', () => {
    const all = [proc(1, 0, 0), proc(10, 1, 5), proc(11, 10, 7), proc(12, 11, 9), proc(20, 1, 100)];
    assert.deepEqual(
      descendants(all, 10).map((p) => p.pid),
      [10, 11, 12],
    );
    assert.deepEqual(descendants(all, 99), []);
  });

  it('keeps the last reading of a process that died, and counts a reused pid as a new process', () => {
    const tally = new TreeCpuTally();
    tally.observe([proc(10, 1, 5), proc(11, 10, 40)]);
    tally.observe([proc(10, 1, 8), proc(11, 10, 70)]);
    // 11 died (killed with its process group); a new process got pid 11.
    tally.observe([proc(10, 1, 9), proc(11, 10, 3, 999)]);
    assert.equal(tally.ticks, 9 + 70 + 3);
    assert.equal(tally.processesSeen, 3);
  });
});
