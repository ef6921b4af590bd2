/** Resources a checkpoint container may use, as read from its cgroup (or the host when unlimited). */
export interface ResourceLimits {
  cpus: number;
  memoryBytes: number;
}

/**
 * Concurrent transactions per CPU. The pool sweep (`checkpoint bench --concurrency 1,2,4,8,12`,
 * docs/benchmarks.md) saw our throughput saturate at concurrency 4 on 2 CPUs: past that point more lanes only
 * added latency (p95 3.5 s at 4, 8.5 s at 8) and memory, not transactions per minute. At ≈0.9 CPU-s per
 * transaction taking ≈1 s alone, one lane keeps most of a CPU busy, so 2 per CPU already fills the cores. (A
 * second sweep, skewed by load changing mid-run, peaked at 8: a quiet re-run should confirm.)
 */
export const transactionsPerCpu = 2;
/**
 * Memory budget of one concurrent transaction. The sweep measured 103 MiB per transaction at the saturation
 * point (peak anonymous + shared memory of Node and the browser ÷ concurrency, about 240 MiB fixed + 40 MiB per
 * extra lane) on the demo site's light pages; rounded up to leave room for heavier intranet pages.
 */
export const memoryPerTransactionBytes = 128 * 1024 ** 2;
/** Memory kept for Node, the browser's fixed part (≈240 MiB measured) and the OS page cache. */
export const reservedMemoryBytes = 512 * 1024 ** 2;

/**
 * Default lane concurrency: `transactionsPerCpu` per CPU (where throughput stops growing), bounded by memory
 * (`memoryPerTransactionBytes` each after `reservedMemoryBytes`). At least 1.
 */
export function defaultConcurrency(limits: ResourceLimits): number {
  const byCpu = Math.floor(limits.cpus * transactionsPerCpu);
  const byMemory = Math.floor((limits.memoryBytes - reservedMemoryBytes) / memoryPerTransactionBytes);
  return Math.max(1, Math.min(byCpu, byMemory));
}

/** Parse cgroup v2 `cpu.max` ("max 100000" or "200000 100000") into CPUs; undefined when unlimited. */
export function cpusFromCpuMax(text: string): number | undefined {
  const [quota, period] = text.trim().split(/\s+/);
  if (quota === undefined || quota === 'max' || period === undefined) return undefined;
  const cpus = Number(quota) / Number(period);
  return Number.isFinite(cpus) && cpus > 0 ? cpus : undefined;
}

/** Parse cgroup v2 `memory.max` ("max" or bytes); undefined when unlimited. */
export function bytesFromMemoryMax(text: string): number | undefined {
  const value = text.trim();
  if (value === 'max' || value === '') return undefined;
  const bytes = Number(value);
  return Number.isFinite(bytes) && bytes > 0 ? bytes : undefined;
}
