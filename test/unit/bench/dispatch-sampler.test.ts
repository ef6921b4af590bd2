import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ProcStat } from '../../../test/bench/proc-parse.ts';
import { machineCheck, percentile, ProcessTreeSampler, pssBytes, statusFieldBytes } from '../../../test/bench/dispatch-sampler.ts';

const proc = (pid: number, ppid: number, cpuTicks: number, startTicks = pid, rssPages = 100): ProcStat => ({
  pid,
  comm: `p${pid}`,
  ppid,
  state: 'S',
  cpuTicks,
  childCpuTicks: 0,
  startTicks,
  rssBytes: rssPages * 4096,
});

/** A fake /proc: each `sample()` reads the next snapshot (the last one repeats). */
function fakeProc(snapshots: ProcStat[][], pss: Record<number, number> = {}) {
  let at = 0;
  return {
    processes: () => snapshots[Math.min(at++, snapshots.length - 1)] ?? [],
    pssBytes: (pid: number) => pss[pid],
  };
}

describe('bench: dispatch process-tree sampling', () => {
  it('sums the CPU a process tree used inside the window: children, grandchildren, and backends that came and went', () => {
    // 500 is the postmaster; 501 a background worker with a child 502; 600 is unrelated; 503 a backend that lives
    // between two samples only; 504 reuses 503's pid later (a new start time: a new process).
    const before = [proc(500, 1, 1000), proc(501, 500, 200), proc(502, 501, 50), proc(600, 1, 9999)];
    const windowStart = [proc(500, 1, 1010), proc(501, 500, 210), proc(502, 501, 50), proc(600, 1, 10_500)];
    const middle = [proc(500, 1, 1020), proc(501, 500, 230), proc(502, 501, 60), proc(503, 500, 40, 7000), proc(600, 1, 11_000)];
    const end = [proc(500, 1, 1030), proc(501, 500, 240), proc(502, 501, 60), proc(503, 500, 25, 9000), proc(600, 1, 12_000)];
    const sampler = new ProcessTreeSampler(fakeProc([before, windowStart, windowStart, middle, end]), { postgres: 500 }, { pss: false });
    sampler.sample();
    sampler.startWindow();
    sampler.sample();
    sampler.sample();
    const usage = sampler.usage('postgres');
    // Inside the window: postmaster 20, worker 30, grandchild 10, the short-lived backend 40, the pid reuser 25.
    assert.equal(Math.round(usage.cpuS * 100), 20 + 30 + 10 + 40 + 25);
    assert.equal(usage.processesSeen, 5);
    assert.equal(usage.maxProcesses, 4);
  });

  it('keeps the peak of the summed RSS and Pss inside the window, not before it', () => {
    const big = [proc(10, 1, 0, 10, 100_000), proc(11, 10, 0, 11, 100_000)];
    const small = [proc(10, 1, 0, 10, 1000), proc(11, 10, 0, 11, 2000)];
    const sampler = new ProcessTreeSampler(fakeProc([big, small, small], { 10: 3 * 1048576, 11: 1048576 }), { cp: 10 });
    sampler.sample();
    sampler.startWindow();
    const usage = sampler.usage('cp');
    assert.equal(usage.peakRssBytes, 3000 * 4096);
    assert.equal(usage.peakPssBytes, 4 * 1048576);
  });

  it('refuses to report a group whose root never appeared (a wrong pid would otherwise read as 0 CPU)', () => {
    const sampler = new ProcessTreeSampler(fakeProc([[proc(10, 1, 5)]]), { postgres: 4242 });
    sampler.startWindow();
    assert.throws(() => sampler.usage('postgres'), /root pid 4242 was never seen/);
    assert.throws(() => sampler.usage('nothing'), /no process group "nothing"/);
  });

  it('reads kB fields of /proc/<pid>/status and smaps_rollup', () => {
    assert.equal(statusFieldBytes('Name:\tnode\nVmPeak:\t 1200 kB\nVmHWM:\t  245760 kB\nVmRSS:\t 200000 kB\n', 'VmHWM'), 245760 * 1024);
    assert.equal(statusFieldBytes('VmRSS:\t 1 kB\n', 'VmHWM'), undefined);
    assert.equal(pssBytes('55d0-7ffd ---p 00000000 00:00 0 [rollup]\nRss:      20000 kB\nPss:       8123 kB\nPss_Anon:  6000 kB\n'), 8123 * 1024);
  });

  it('flags an arm + harness sum above the machine`s busy time as double counting', () => {
    assert.deepEqual(machineCheck({ armCpuS: 10, harnessCpuS: 4, machineBusyS: 20 }), { armCpuS: 10, harnessCpuS: 4, machineBusyS: 20, otherS: 6, overCounted: false });
    assert.equal(machineCheck({ armCpuS: 10, harnessCpuS: 4, machineBusyS: 13 }).overCounted, true);
    assert.equal(machineCheck({ armCpuS: 10, harnessCpuS: 4, machineBusyS: 13.8 }).overCounted, false, 'within the rounding tolerance');
    // 3 % of a long window's busy time: the tick-sampled machine time may read that much below the exact per-process times.
    assert.equal(machineCheck({ armCpuS: 53.5, harnessCpuS: 12.1, machineBusyS: 64.4 }).overCounted, false, '1.2 s of 64.4 s');
    assert.equal(machineCheck({ armCpuS: 55, harnessCpuS: 12.1, machineBusyS: 64.4 }).overCounted, true, '2.7 s of 64.4 s');
  });

  it('takes nearest-rank percentiles', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.equal(percentile(values, 50), 50);
    assert.equal(percentile(values, 95), 95);
    assert.equal(percentile([7], 95), 7);
    assert.equal(percentile([], 50), 0);
  });
});
