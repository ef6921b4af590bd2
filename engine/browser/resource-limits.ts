import { readFileSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';
import { bytesFromMemoryMax, cpusFromCpuMax, type ResourceLimits } from '../core/capacity.ts';

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * CPU and memory this process may use: the container's cgroup v2 limits (`cpu.max`, `memory.max`) when set,
 * else cgroup v1 (`cpu.cfs_quota_us`), else the host's.
 */
export function readResourceLimits(cgroupRoot = '/sys/fs/cgroup'): ResourceLimits {
  const hostCpus = availableParallelism();
  let cpus = cpusFromCpuMax(read(`${cgroupRoot}/cpu.max`) ?? '');
  if (cpus === undefined) {
    const quota = Number(read(`${cgroupRoot}/cpu/cpu.cfs_quota_us`) ?? '-1');
    const period = Number(read(`${cgroupRoot}/cpu/cpu.cfs_period_us`) ?? '0');
    if (quota > 0 && period > 0) cpus = quota / period;
  }
  const memoryBytes = bytesFromMemoryMax(read(`${cgroupRoot}/memory.max`) ?? '') ?? totalmem();
  return { cpus: Math.min(cpus ?? hostCpus, hostCpus), memoryBytes: Math.min(memoryBytes, totalmem()) };
}
