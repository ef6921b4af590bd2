// Markdown tables of a sweep and of a soak (what `checkpoint bench` prints). Pure.
import { bestOf, headlineRatios, leastSquares, memoryPerLane, saturationConcurrency, type ArmPoint } from './sweep.ts';

function table(header: readonly string[], rows: readonly (readonly (string | number | undefined)[])[]): string[] {
  return [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.map((c) => (c === undefined ? 'n/a' : String(c))).join(' | ')} |`)];
}

export interface SweepFormatInput {
  method: string;
  points: readonly ArmPoint[];
  arms: readonly string[];
  concurrencies: readonly number[];
  rounds: number;
  transactionsPerRun: (concurrency: number) => number;
  /** This machine's CPUs and the engine's default concurrency for it, to check the default against the sweep. */
  capacity?: { cpus: number; transactionsPerCpu: number; defaultConcurrency: number };
}

export function formatSweep(input: SweepFormatInput): string {
  const { points, arms, concurrencies } = input;
  const best = bestOf(points);
  const lines: string[] = [];
  const cgroup = input.method === 'cgroup-v1';
  lines.push(
    `CPU and memory accounting: ${cgroup ? 'cgroup v1 (cpuacct.usage and memory.stat of a group per arm run: every process of the arm, the ones that exited included)' : '/proc sampling every 100 ms of the worker tree (cgroups not writable: a process that dies loses up to 100 ms of CPU)'}.`,
    `Memory: ${cgroup ? 'peak of the group’s anonymous + shared memory (page cache excluded)' : 'peak of the summed RSS of the arm’s processes'}. Machine busy: all CPUs from /proc/stat over the same span, including the demo site and any other load on the machine.`,
    '',
    `Best point per arm (${input.rounds} round(s) per concurrency; concurrency ${concurrencies.join(', ')}):`,
    '',
    ...table(
      ['arm', 'best tx/min', 'at concurrency', 'saturates at', 'p95 ms there', 'CPU s/tx there', 'MiB/tx there', 'peak MiB there', 'MiB per extra lane'],
      arms.map((arm) => {
        const p = best.get(arm);
        const lane = memoryPerLane(points, arm);
        return [arm, p?.transactionsPerMin, p?.concurrency, saturationConcurrency(points, arm), p?.p95Ms, p?.cpuSecondsPerTx, p?.mibPerTx, p?.peakMiB, lane.samples < 2 ? undefined : Math.round(lane.slope)];
      }),
    ),
    '',
    'Ratios:',
    '',
    ...table(
      ['comparison', 'ours', 'other', 'ours ÷ other'],
      headlineRatios(points).map((r) => [r.label, r.ours, r.other, r.ratio]),
    ),
  );
  for (const c of concurrencies) {
    lines.push(
      '',
      `Concurrency ${c} (${input.transactionsPerRun(c)} transactions per arm per round):`,
      '',
      ...table(
        ['arm', 'tx', 'failed', 'tx/min', 'p50 ms', 'p95 ms', 'lease wait p50 ms', 'CPU s/tx', 'machine busy s/tx', 'site+harness s/tx', 'peak MiB', 'MiB/tx', 'leftovers'],
        arms.flatMap((arm) => {
          const p = points.find((q) => q.arm === arm && q.concurrency === c);
          return p === undefined ? [] : [[arm, p.transactions, p.failures, p.transactionsPerMin, p.p50Ms, p.p95Ms, p.leaseWaitP50Ms, p.cpuSecondsPerTx, p.machineBusySecondsPerTx, p.harnessCpuSecondsPerTx, p.peakMiB, p.mibPerTx, p.leftovers]];
        }),
      ),
    );
  }
  const saturation = saturationConcurrency(points, 'ours');
  if (input.capacity !== undefined && saturation !== undefined) {
    const { cpus, transactionsPerCpu, defaultConcurrency } = input.capacity;
    lines.push(
      '',
      `Default capacity check: ours saturated at concurrency ${saturation} on ${cpus} CPU(s) = ${Math.round((saturation / cpus) * 100) / 100} per CPU; engine/core/capacity.ts uses ${transactionsPerCpu} per CPU, so the default here is ${defaultConcurrency}.`,
    );
  }
  const failed = points.filter((p) => p.firstFailure !== undefined);
  if (failed.length > 0) lines.push('', 'First failure per point:', ...failed.map((p) => `- ${p.arm} c=${p.concurrency}: ${p.firstFailure}`));
  return lines.join('\n');
}

export interface SoakFormatInput {
  method: string;
  transactions: number;
  concurrency: number;
  recycleAfterLeases: number;
  failures: number;
  recycled: number;
  leftovers: number;
  start: SoakSample;
  cycle: readonly SoakSample[];
  end: SoakSample;
  afterClose: SoakSample;
}

export interface SoakSample {
  memoryMiB: number;
  treeRssMiB: number;
  nodeRssMiB?: number;
  nodeHeapUsedMiB?: number;
  sharedMiB?: number | undefined;
  processes: number;
  zombies: number;
  openFiles: number;
  done: number;
}

/** Memory trend of a soak in MiB per 100 transactions (least squares over the same-point-of-cycle samples). */
export function soakTrend(cycle: SoakFormatInput['cycle']): { mibPer100Tx: number; samples: number } {
  const fit = leastSquares(
    cycle.map((s) => s.done),
    cycle.map((s) => s.memoryMiB),
  );
  return { mibPer100Tx: Math.round(fit.slope * 100 * 10) / 10, samples: fit.samples };
}

export function formatSoak(soak: SoakFormatInput): string {
  const trend = soakTrend(soak.cycle);
  const row = (label: string, s: SoakSample) => [label, s.done, s.memoryMiB, s.sharedMiB, s.nodeRssMiB, s.nodeHeapUsedMiB, s.treeRssMiB, s.processes, s.zombies, s.openFiles];
  return [
    `Soak: ${soak.transactions} transactions at concurrency ${soak.concurrency}, one browser recycled every ${soak.recycleAfterLeases} leases; accounting ${soak.method}.`,
    `${soak.failures} failed, ${soak.recycled} browsers recycled, ${soak.leftovers} processes left after the worker exited.`,
    `Memory trend (least squares over ${trend.samples} samples taken half-way through each browser's life): ${trend.mibPer100Tx} MiB per 100 transactions.`,
    '',
    ...table(['sample', 'done', 'memory MiB', 'of it shared MiB', 'Node RSS MiB', 'Node heap MiB', 'tree RSS MiB', 'processes', 'zombies', 'open files'], [row('start (warm)', soak.start), ...soak.cycle.map((s, i) => row(`cycle ${i + 1}`, s)), row('end', soak.end), row('after close', soak.afterClose)]),
  ].join('\n');
}
