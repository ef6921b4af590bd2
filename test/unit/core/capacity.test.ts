import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readResourceLimits } from '../../../engine/browser/resource-limits.ts';
import { bytesFromMemoryMax, cpusFromCpuMax, defaultConcurrency, transactionsPerCpu } from '../../../engine/core/capacity.ts';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

describe('capacity from cgroup limits', () => {
  it('reads cgroup v2 cpu.max as a number of CPUs, and "max" as unlimited', () => {
    assert.equal(cpusFromCpuMax('200000 100000\n'), 2);
    assert.equal(cpusFromCpuMax('50000 100000'), 0.5);
    assert.equal(cpusFromCpuMax('max 100000'), undefined);
    assert.equal(cpusFromCpuMax('garbage'), undefined);
  });

  it('reads memory.max in bytes, and "max" as unlimited', () => {
    assert.equal(bytesFromMemoryMax('3221225472\n'), 3 * GiB);
    assert.equal(bytesFromMemoryMax('max\n'), undefined);
  });

  it('sizes the default lane at 2 transactions per CPU (where the sweep saturated), bounded by memory, never below 1', () => {
    assert.equal(transactionsPerCpu, 2);
    assert.equal(defaultConcurrency({ cpus: 2, memoryBytes: 24 * GiB }), 4);
    assert.equal(defaultConcurrency({ cpus: 1.5, memoryBytes: 24 * GiB }), 3);
    // 1 GiB: 512 MiB reserved, 128 MiB per transaction → 4, however many CPUs.
    assert.equal(defaultConcurrency({ cpus: 8, memoryBytes: 1 * GiB }), 4);
    assert.equal(defaultConcurrency({ cpus: 4, memoryBytes: 2 * GiB }), 8);
    assert.equal(defaultConcurrency({ cpus: 16, memoryBytes: 2 * GiB }), 12);
    assert.equal(defaultConcurrency({ cpus: 0.5, memoryBytes: 0 }), 1);
    assert.equal(defaultConcurrency({ cpus: 4, memoryBytes: 512 * MiB }), 1);
  });

  it('takes a container`s cgroup files over the host`s CPU and memory', async () => {
    const root = await mkdtemp(join(tmpdir(), 'cgroup-'));
    try {
      await writeFile(join(root, 'cpu.max'), '100000 100000\n');
      await writeFile(join(root, 'memory.max'), `${2 * GiB}\n`);
      const limits = readResourceLimits(root);
      assert.equal(limits.cpus, 1);
      assert.equal(limits.memoryBytes, 2 * GiB);
      await mkdir(join(root, 'empty'));
      const host = readResourceLimits(join(root, 'empty'));
      assert.ok(host.cpus >= 1 && host.memoryBytes > 2 * GiB);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
