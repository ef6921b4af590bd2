// Capacity of the check lane: how many HTTP checks and API monitors one core runs per minute. The checks run
// through the real scheduler (its check lane) against a local HTTP server in a child process, so the server's
// CPU is not the checker's; the checker's CPU comes from /proc/self/stat (utime + stime), the server's from
// /proc/<pid>/stat, both reported. Checks per minute per core = checks / CPU seconds of the checker × 60: what
// one fully busy core sustains, whatever the concurrency. Run: `npm run bench:checks -- --checks 2000`.
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { Scheduler } from '../../engine/runner/scheduler.ts';
import type { ResolvedAddress } from '../../engine/checks/check-types.ts';
import type { CheckScript } from '../../engine/schema/script.ts';
import { clockTicksPerSecond, parseProcStat } from './proc-parse.ts';

interface Options {
  checks: number;
  concurrency: number[];
  /** Server think time before it answers, ms: a real service's latency (0 measures pure CPU cost). */
  latencyMs: number;
  json: boolean;
}

export interface BenchRow {
  scenario: 'http' | 'api-3-steps';
  concurrency: number;
  checks: number;
  requests: number;
  failed: number;
  wallS: number;
  checkerCpuS: number;
  serverCpuS: number;
  /** Checks per minute of wall time at this concurrency. */
  checksPerMinute: number;
  /** Checks one fully busy core runs per minute (checks / checker CPU seconds × 60). */
  checksPerMinutePerCore: number;
  p50Ms: number;
  p95Ms: number;
}

function cpuTicksOf(pid: number | 'self'): number {
  const stat = parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  if (stat === undefined) throw new Error(`cannot read /proc/${pid}/stat`);
  return stat.cpuTicks;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/** The child: a small JSON API (status, login, list) that answers after `latencyMs`. */
function serve(latencyMs: number): void {
  const items = Array.from({ length: 20 }, (_, index) => ({ id: `SO-${1000 + index}`, status: index % 3 === 0 ? 'shipped' : 'open', total: 100 + index }));
  const server = createServer((req, res) => {
    const answer = () => {
      if (req.url?.startsWith('/login') === true) {
        req.resume();
        req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"token":"t-123"}'));
        return;
      }
      if (req.url?.startsWith('/orders') === true) {
        res.writeHead(req.headers.authorization === 'Bearer t-123' ? 200 : 401, { 'content-type': 'application/json' }).end(JSON.stringify({ count: items.length, items }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok","service":"bench"}');
    };
    if (latencyMs > 0) setTimeout(answer, latencyMs);
    else answer();
  });
  server.keepAliveTimeout = 1;
  server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));
}

async function startServer(latencyMs: number): Promise<{ child: ChildProcess; url: string }> {
  const child = fork(new URL(import.meta.url), ['--serve', String(latencyMs)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (message) => resolve((message as { port: number }).port));
    child.once('exit', (code) => reject(new Error(`the bench server exited (${code})`)));
  });
  return { child, url: `http://127.0.0.1:${port}` };
}

function scriptFor(scenario: BenchRow['scenario'], url: string): CheckScript {
  if (scenario === 'http') {
    return { kind: 'http', name: 'Status', url: `${url}/status`, assertions: [{ type: 'status', operator: 'equals', value: 200 }, { type: 'jsonPath', path: '$.status', operator: 'equals', value: 'ok' }] };
  }
  return {
    kind: 'api',
    name: 'Orders',
    steps: [
      { name: 'Log in', request: { method: 'POST', url: `${url}/login`, body: { type: 'json', value: { user: 'bench', password: '{{secret.BENCH_PASSWORD}}' } } }, extract: [{ name: 'token', from: 'json', path: '$.token' }] },
      { name: 'List', request: { url: `${url}/orders` }, auth: { type: 'bearer', token: '{{token}}' }, assertions: [{ type: 'jsonPath', path: '$.count', operator: 'greaterThan', value: 0 }], extract: [{ name: 'first', from: 'json', path: '$.items[0].id' }] },
      { name: 'Open', request: { url: `${url}/orders?id={{first}}` }, auth: { type: 'bearer', token: '{{token}}' }, assertions: [{ type: 'status', operator: 'equals', value: 200 }] },
    ],
  };
}

const loopback = (): Promise<ResolvedAddress> => Promise.resolve({ address: '127.0.0.1', family: 4, dnsMs: 0 });
const noLeases = { lease: () => Promise.reject(new Error('the check bench uses no browser')) };

async function measure(scenario: BenchRow['scenario'], concurrency: number, checks: number, server: { child: ChildProcess; url: string }): Promise<BenchRow> {
  const scheduler = new Scheduler({ leases: noLeases, concurrency: 1, checkConcurrency: concurrency, maxQueueWaitMs: 3_600_000 });
  const script = scriptFor(scenario, server.url);
  const secret = (name: string) => (name === 'BENCH_PASSWORD' ? 'bench-secret' : undefined);
  // Warm up the JIT and the modules outside the measurement.
  await Promise.all(Array.from({ length: Math.min(50, checks, concurrency * 10) }, () => scheduler.submit({ script, secret, lookup: loopback })));
  const serverPid = server.child.pid ?? 0;
  const checkerStart = cpuTicksOf('self');
  const serverStart = cpuTicksOf(serverPid);
  const wallStart = performance.now();
  const durations: number[] = [];
  let failed = 0;
  let requests = 0;
  // The scheduler's queue is bounded (10 × concurrency): keep that many in flight, as the agent would.
  let next = 0;
  const worker = async () => {
    while (next < checks) {
      next++;
      const { result } = await scheduler.submit({ script, secret, lookup: loopback });
      durations.push(result.durationMs);
      requests += result.steps.reduce((sum, step) => sum + (step.requests?.count ?? 0), 0);
      if (result.status !== 'passed') failed++;
    }
  };
  await Promise.all(Array.from({ length: concurrency * 2 }, worker));
  const wallS = (performance.now() - wallStart) / 1000;
  const checkerCpuS = (cpuTicksOf('self') - checkerStart) / clockTicksPerSecond;
  const serverCpuS = (cpuTicksOf(serverPid) - serverStart) / clockTicksPerSecond;
  await scheduler.drain(1_000);
  const sorted = [...durations].sort((a, b) => a - b);
  return {
    scenario,
    concurrency,
    checks,
    requests,
    failed,
    wallS: Math.round(wallS * 100) / 100,
    checkerCpuS,
    serverCpuS,
    checksPerMinute: Math.round((checks / wallS) * 60),
    checksPerMinutePerCore: checkerCpuS > 0 ? Math.round((checks / checkerCpuS) * 60) : 0,
    p50Ms: Math.round(percentile(sorted, 50) * 10) / 10,
    p95Ms: Math.round(percentile(sorted, 95) * 10) / 10,
  };
}

export async function runCheckBench(options: Options, log: (line: string) => void): Promise<BenchRow[]> {
  const server = await startServer(options.latencyMs);
  const rows: BenchRow[] = [];
  try {
    for (const scenario of ['http', 'api-3-steps'] as const) {
      for (const concurrency of options.concurrency) {
        const row = await measure(scenario, concurrency, options.checks, server);
        log(`${scenario} concurrency ${concurrency}: ${row.checksPerMinutePerCore} checks/min/core, ${row.checksPerMinute} checks/min wall, p50 ${row.p50Ms} ms, ${row.failed} failed`);
        rows.push(row);
      }
    }
  } finally {
    server.child.kill();
  }
  return rows;
}

export function formatCheckBench(rows: readonly BenchRow[], options: Options): string {
  const header = '| scenario | concurrency | checks | failed | wall s | checker CPU s | server CPU s | checks/min (wall) | checks/min/core | p50 ms | p95 ms |';
  const lines = rows.map((r) => `| ${r.scenario} | ${r.concurrency} | ${r.checks} | ${r.failed} | ${r.wallS} | ${r.checkerCpuS.toFixed(2)} | ${r.serverCpuS.toFixed(2)} | ${r.checksPerMinute} | ${r.checksPerMinutePerCore} | ${r.p50Ms} | ${r.p95Ms} |`);
  return [`server latency ${options.latencyMs} ms, ${options.checks} checks per row`, '', header, `|${'---|'.repeat(11)}`, ...lines].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      serve: { type: 'string' },
      checks: { type: 'string', default: '1000' },
      concurrency: { type: 'string', default: '1,4,16,64' },
      'latency-ms': { type: 'string', default: '20' },
      json: { type: 'boolean', default: false },
    },
  });
  if (values.serve !== undefined) {
    serve(Number(values.serve));
    return;
  }
  const options: Options = {
    checks: Number(values.checks),
    concurrency: values.concurrency.split(',').map(Number),
    latencyMs: Number(values['latency-ms']),
    json: values.json,
  };
  if (!Number.isInteger(options.checks) || options.checks < 1 || options.concurrency.some((c) => !Number.isInteger(c) || c < 1) || !(options.latencyMs >= 0)) {
    process.stderr.write('usage: node test/bench/check-bench.ts [--checks N] [--concurrency 1,4,16,64] [--latency-ms 20] [--json]\n');
    process.exitCode = 2;
    return;
  }
  const rows = await runCheckBench(options, (line) => process.stderr.write(`${line}\n`));
  process.stdout.write(`${options.json ? JSON.stringify(rows, null, 2) : formatCheckBench(rows, options)}\n`);
}

if (import.meta.url === new URL(process.argv[1] ?? '', 'file:').href) await main();
