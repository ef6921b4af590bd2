// The dispatch benchmark's report: one summary row per arm, one cost table per arm, and the ratios between arms.
import type { ArmName, ArmResult } from './dispatch-arm.ts';

const mib = (bytes: number | undefined) => (bytes === undefined || bytes === 0 ? '–' : (bytes / 1048576).toFixed(0));
const fixed = (value: number, digits: number) => (Number.isFinite(value) ? value.toFixed(digits) : '–');

export function formatSummary(results: readonly ArmResult[]): string {
  const header = '| arm | status | replicas | monitors | agents × capacity, checkpoints | created/s (setup) | window s | first run s | runs received | results stored | 429s retried | runs/s | results/s | result p50 ms | result p95 ms | runs per replica | arm CPU s | CPU ms/run | harness CPU s | machine busy s | other s |';
  const rows = results.map((r) =>
    [
      r.arm,
      r.status,
      r.replicas,
      r.monitors,
      `${r.agents} × ${r.capacity}, ${r.checkpoints}`,
      fixed(r.createdPerS, 0),
      fixed(r.windowS, 1),
      fixed(r.firstRunS, 2),
      r.runsReceived,
      r.resultsStored,
      r.rateLimited,
      fixed(r.runsPerS, 0),
      fixed(r.resultsPerS, 0),
      fixed(r.resultP50Ms, 0),
      fixed(r.resultP95Ms, 0),
      r.runsPerReplica.join(' / '),
      fixed(r.armCpuS, 1),
      fixed(r.cpuMsPerRun, 2),
      fixed(r.harnessCpuS, 1),
      fixed(r.machineBusyS, 1),
      `${fixed(r.otherS, 1)}${r.overCounted ? ' (over-counted!)' : ''}`,
    ].join(' | '),
  );
  return [header, `|${'---|'.repeat(21)}`, ...rows.map((row) => `| ${row} |`)].join('\n');
}

export function formatProcesses(result: ArmResult): string {
  const header = '| process | CPU s | CPU ms/run | peak RSS MiB (sampled) | peak Pss MiB (sampled) | VmHWM MiB | processes (max at once / seen) |';
  const rows = result.processes.map((p) =>
    [
      p.name,
      fixed(p.cpuS, 2),
      result.resultsStored > 0 ? fixed((p.cpuS / result.resultsStored) * 1000, 3) : '–',
      mib(p.peakRssBytes),
      mib(p.peakPssBytes),
      mib(p.vmHwmBytes),
      `${p.maxProcesses} / ${p.processesSeen}`,
    ].join(' | '),
  );
  return [`${result.arm}:`, '', header, `|${'---|'.repeat(7)}`, ...rows.map((row) => `| ${row} |`)].join('\n');
}

export interface Ratio {
  label: string;
  runsPerS: number | undefined;
  resultsPerS: number | undefined;
  cpuPerRun: number | undefined;
}

/** `a ÷ b` for throughput and CPU per run; undefined where either arm did not complete. */
export function ratio(results: readonly ArmResult[], a: ArmName, b: ArmName): Ratio {
  const x = results.find((r) => r.arm === a && r.status === 'done');
  const y = results.find((r) => r.arm === b && r.status === 'done');
  const div = (p: number | undefined, q: number | undefined) => (p === undefined || q === undefined || q === 0 ? undefined : p / q);
  return { label: `${a} ÷ ${b}`, runsPerS: div(x?.runsPerS, y?.runsPerS), resultsPerS: div(x?.resultsPerS, y?.resultsPerS), cpuPerRun: div(x?.cpuMsPerRun, y?.cpuMsPerRun) };
}

export function formatRatios(results: readonly ArmResult[]): string {
  const pairs: [ArmName, ArmName][] = [
    ['postgres-2', 'sqlite-1'],
    ['postgres-2', 'postgres-1'],
    ['postgres-1', 'sqlite-1'],
  ];
  const show = (value: number | undefined) => (value === undefined ? 'pending' : value.toFixed(2));
  const rows = pairs.map(([a, b]) => ratio(results, a, b)).map((r) => `| ${r.label} | ${show(r.runsPerS)} | ${show(r.resultsPerS)} | ${show(r.cpuPerRun)} |`);
  return ['| ratio | runs/s | results/s | CPU per run |', '|---|---|---|---|', ...rows].join('\n');
}

export function formatReport(results: readonly ArmResult[]): string {
  const notes = results.filter((r) => r.note !== undefined).map((r) => `- ${r.arm}: ${r.note ?? ''}`);
  return [
    formatSummary(results),
    '',
    ...results.filter((r) => r.processes.length > 0).flatMap((r) => [formatProcesses(r), '']),
    formatRatios(results),
    ...(notes.length === 0 ? [] : ['', 'Notes:', ...notes]),
  ].join('\n');
}
