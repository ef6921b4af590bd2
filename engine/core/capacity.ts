/** Resources a checkpoint container may use, as read from its cgroup (or the host when unlimited). */
export interface ResourceLimits {
  cpus: number;
  memoryBytes: number;
}

/** Memory one concurrent transaction needs on average (a context with a typical intranet page). */
export const memoryPerTransactionBytes = 300 * 1024 ** 2;
/** Memory kept for Node, the browser processes themselves and the OS page cache. */
export const reservedMemoryBytes = 512 * 1024 ** 2;

/**
 * Default lane concurrency: 1.5 transactions per CPU (pages wait on the network part of the time, so a little
 * over one per core keeps the CPUs busy without making timings noisy), bounded by memory. At least 1.
 */
export function defaultConcurrency(limits: ResourceLimits): number {
  const byCpu = Math.floor(limits.cpus * 1.5);
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
