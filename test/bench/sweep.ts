// The pure half of the pool bench: from measured arm runs to per-concurrency points, each arm's best
// point, the ratio table, and the least-squares fits (soak trend, memory per lane). No I/O here.

export interface RunRecord {
  arm: string;
  concurrency: number;
  round: number;
  /** Wall time of each transaction, ms. */
  transactionMs: number[];
  leaseWaitMs: number[];
  failures: string[];
  /** Wall time of the measured transactions (arm start and close excluded), ms. */
  wallMs: number;
  /** CPU seconds of the arm's processes from before the arm started to after it closed (Node boot excluded). */
  armCpuS: number;
  /** The same, of the measured transactions only. */
  armRunCpuS: number;
  /** Busy CPU seconds of the whole machine over the same span (includes the demo site and any other load). */
  machineBusyS: number;
  /** CPU seconds of the parent process (demo site and harness) over the same span. */
  harnessCpuS: number;
  peakBytes: number;
  treeRssPeakBytes: number;
  cgroupMaxUsageBytes: number | undefined;
  /** Processes of the arm still alive after its worker exited. */
  leftovers: number;
  /** Their command names and states ("chromium-headle (S)"), for finding out what leaked. */
  leftoverNames?: string[];
}

export interface ArmPoint {
  arm: string;
  concurrency: number;
  runs: number;
  transactions: number;
  failures: number;
  transactionsPerMin: number;
  p50Ms: number;
  p95Ms: number;
  leaseWaitP50Ms: number;
  /** Arm CPU (start to close) per transaction. */
  cpuSecondsPerTx: number;
  /** Arm CPU of the measured transactions only, per transaction. */
  runCpuSecondsPerTx: number;
  machineBusySecondsPerTx: number;
  harnessCpuSecondsPerTx: number;
  /** Highest peak of any round, MiB. */
  peakMiB: number;
  /** Peak memory per concurrent transaction: peakMiB ÷ concurrency. */
  mibPerTx: number;
  treeRssPeakMiB: number;
  cgroupMaxUsageMiB: number | undefined;
  leftovers: number;
  firstFailure: string | undefined;
}

const MiB = 1024 ** 2;
const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;

/** Nearest-rank percentile; 0 for no values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0;
}

/**
 * Order of the arms in one round at one concurrency: every odd round is the mirror of the round before it,
 * so over each pair of rounds every arm has the same mean position (linear drift cancels); the starting arm
 * rotates with the pair and the concurrency.
 */
export function armOrder<T>(arms: readonly T[], roundIndex: number, concurrencyIndex: number): T[] {
  const shift = (Math.floor(roundIndex / 2) + concurrencyIndex) % Math.max(1, arms.length);
  const rotated = [...arms.slice(shift), ...arms.slice(0, shift)];
  return roundIndex % 2 === 1 ? rotated.reverse() : rotated;
}

/** One point per arm and concurrency, the rounds pooled (throughput = all transactions ÷ all measured wall time). */
export function summarise(records: readonly RunRecord[]): ArmPoint[] {
  const groups = new Map<string, RunRecord[]>();
  for (const r of records) groups.set(`${r.arm}\u0000${r.concurrency}`, [...(groups.get(`${r.arm}\u0000${r.concurrency}`) ?? []), r]);
  return [...groups.values()].map((runs) => {
    const first = runs[0] as RunRecord;
    const txMs = runs.flatMap((r) => r.transactionMs);
    const count = Math.max(1, txMs.length);
    const sum = (pick: (r: RunRecord) => number) => runs.reduce((s, r) => s + pick(r), 0);
    const peakMiB = Math.max(...runs.map((r) => r.peakBytes)) / MiB;
    const maxUsage = runs.map((r) => r.cgroupMaxUsageBytes).filter((b): b is number => b !== undefined);
    return {
      arm: first.arm,
      concurrency: first.concurrency,
      runs: runs.length,
      transactions: txMs.length,
      failures: sum((r) => r.failures.length),
      transactionsPerMin: round(txMs.length / (sum((r) => r.wallMs) / 60_000), 1),
      p50Ms: Math.round(percentile(txMs, 50)),
      p95Ms: Math.round(percentile(txMs, 95)),
      leaseWaitP50Ms: round(percentile(runs.flatMap((r) => r.leaseWaitMs), 50), 1),
      cpuSecondsPerTx: round(sum((r) => r.armCpuS) / count, 3),
      runCpuSecondsPerTx: round(sum((r) => r.armRunCpuS) / count, 3),
      machineBusySecondsPerTx: round(sum((r) => r.machineBusyS) / count, 3),
      harnessCpuSecondsPerTx: round(sum((r) => r.harnessCpuS) / count, 3),
      peakMiB: Math.round(peakMiB),
      mibPerTx: Math.round(peakMiB / first.concurrency),
      treeRssPeakMiB: Math.round(Math.max(...runs.map((r) => r.treeRssPeakBytes)) / MiB),
      cgroupMaxUsageMiB: maxUsage.length === 0 ? undefined : Math.round(Math.max(...maxUsage) / MiB),
      leftovers: sum((r) => r.leftovers),
      firstFailure: runs.flatMap((r) => r.failures)[0],
    };
  });
}

/** Each arm's best point: the highest throughput; on a tie the lower concurrency (it got there with less). */
export function bestOf(points: readonly ArmPoint[]): Map<string, ArmPoint> {
  const best = new Map<string, ArmPoint>();
  for (const p of points) {
    const current = best.get(p.arm);
    if (current === undefined || p.transactionsPerMin > current.transactionsPerMin || (p.transactionsPerMin === current.transactionsPerMin && p.concurrency < current.concurrency)) best.set(p.arm, p);
  }
  return best;
}

/**
 * The concurrency at which an arm's throughput saturates: the lowest one reaching `fraction` of its best.
 * Past it, more lanes only add latency and memory.
 */
export function saturationConcurrency(points: readonly ArmPoint[], arm: string, fraction = 0.9): number | undefined {
  const mine = points.filter((p) => p.arm === arm).sort((a, b) => a.concurrency - b.concurrency);
  const top = Math.max(...mine.map((p) => p.transactionsPerMin));
  return mine.find((p) => p.transactionsPerMin >= fraction * top)?.concurrency;
}

export interface LinearFit {
  slope: number;
  intercept: number;
  samples: number;
}

/** Ordinary least squares y = intercept + slope·x; slope 0 when x does not vary. */
export function leastSquares(xs: readonly number[], ys: readonly number[]): LinearFit {
  const n = Math.min(xs.length, ys.length);
  if (n === 0) return { slope: 0, intercept: 0, samples: 0 };
  const meanX = xs.slice(0, n).reduce((a, b) => a + b, 0) / n;
  const meanY = ys.slice(0, n).reduce((a, b) => a + b, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    const dx = (xs[i] ?? 0) - meanX;
    sxx += dx * dx;
    sxy += dx * ((ys[i] ?? 0) - meanY);
  }
  const slope = sxx === 0 ? 0 : sxy / sxx;
  return { slope, intercept: meanY - slope * meanX, samples: n };
}

/** Memory of an arm as a function of concurrency: fixed MiB (Node, browser) + MiB per extra concurrent transaction. */
export function memoryPerLane(points: readonly ArmPoint[], arm: string): LinearFit {
  const mine = points.filter((p) => p.arm === arm);
  return leastSquares(
    mine.map((p) => p.concurrency),
    mine.map((p) => p.peakMiB),
  );
}

export interface RatioRow {
  label: string;
  ours: number;
  other: number;
  /** ours ÷ other; undefined when either side is missing or zero. */
  ratio: number | undefined;
}

const ratioOf = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined || b === 0 ? undefined : round(a / b, 2));

/**
 * The headline comparisons: ours ÷ the best peer in throughput (each at its own best concurrency), CPU per
 * transaction ours ÷ puppeteer-cluster (each at its best), and per-transaction wall time ours ÷
 * playwright-hand at concurrency 2 (p50).
 */
export function headlineRatios(points: readonly ArmPoint[]): RatioRow[] {
  const best = bestOf(points);
  const ours = best.get('ours');
  const rows: RatioRow[] = [];
  if (ours === undefined) return rows;
  const peers = [...best.values()].filter((p) => p.arm !== 'ours').sort((a, b) => b.transactionsPerMin - a.transactionsPerMin);
  const topPeer = peers[0];
  if (topPeer !== undefined) {
    rows.push({ label: `tx/min ours (c=${ours.concurrency}) ÷ best peer ${topPeer.arm} (c=${topPeer.concurrency})`, ours: ours.transactionsPerMin, other: topPeer.transactionsPerMin, ratio: ratioOf(ours.transactionsPerMin, topPeer.transactionsPerMin) });
  }
  for (const peer of peers) {
    rows.push({ label: `tx/min ours ÷ ${peer.arm}, each at its best`, ours: ours.transactionsPerMin, other: peer.transactionsPerMin, ratio: ratioOf(ours.transactionsPerMin, peer.transactionsPerMin) });
  }
  const cluster = best.get('puppeteer-cluster');
  if (cluster !== undefined) {
    rows.push({ label: `CPU s/tx ours ÷ puppeteer-cluster, each at its best`, ours: ours.cpuSecondsPerTx, other: cluster.cpuSecondsPerTx, ratio: ratioOf(ours.cpuSecondsPerTx, cluster.cpuSecondsPerTx) });
  }
  const at = (arm: string, c: number) => points.find((p) => p.arm === arm && p.concurrency === c);
  const ours2 = at('ours', 2);
  const hand2 = at('playwright-hand', 2);
  if (ours2 !== undefined && hand2 !== undefined) {
    rows.push({ label: 'p50 transaction wall time ours ÷ playwright-hand at c=2', ours: ours2.p50Ms, other: hand2.p50Ms, ratio: ratioOf(ours2.p50Ms, hand2.p50Ms) });
  }
  return rows;
}
