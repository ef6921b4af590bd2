// Dispatch throughput of the control plane (issue 15): how fast `checkpoint control-plane` claims due runs, sends
// them to agents and stores their results, on SQLite (one process) and on PostgreSQL (one and two replicas), side
// by side in one run. Each arm gets fresh processes and a fresh store; N monitors are created through the API
// before any agent connects, then A fake agents (this process) connect and answer every run with a pass at once.
// CPU and memory are counted for every process of the arm (control planes, PostgreSQL's postmaster and all its
// children), sampled from /proc; the harness is reported apart. Run: `npm run bench:dispatch -- --monitors 10000`.
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { cliPath, spawnedProcesses } from '../helpers/e2e/managed-process.ts';
import { makeTestPki } from '../helpers/servers/certificates.ts';
import { postgresMissing, startPostgres, type PostgresServer } from '../helpers/servers/postgres.ts';
import { makeTempDir } from '../helpers/servers/temp-dir.ts';
import { allProcesses } from './accounting.ts';
import { armSpecs, emptyResult, runArm, type ArmName, type ArmOptions, type ArmResult, type PostgresForArms } from './dispatch-arm.ts';
import { formatReport } from './dispatch-format.ts';

const usage = `usage: npm run bench:dispatch -- [options]

Dispatch throughput of the control plane on SQLite and PostgreSQL, side by side in one run.

Options:
  --monitors N          monitors created before the agents connect (default 10000)
  --agents N            fake agents, spread evenly over an arm's replicas (default 8)
  --capacity N          concurrent runs each agent announces (default 50)
  --checkpoints N       checkpoints the monitors and agents are spread over (default 1; at most --agents).
                        The control plane limits each checkpoint token to 100 requests/s after a burst of
                        1000, per replica: with one checkpoint that limit is part of what is measured
  --arms LIST           comma-separated, in order: sqlite-1,postgres-1,postgres-2 (default all three)
  --create-in-flight N  monitor-creation requests in flight at once (default 16)
  --timeout-s N         give up on an arm's window after N seconds (default 1800)
  --logs DIR            write each control-plane process's log to DIR/<arm>-replica-<n>.log
  --json                print the results as JSON instead of markdown tables
  --help                this text

Progress goes to stderr; the tables (or JSON) to stdout. The PostgreSQL arms need PostgreSQL 15 installed
(bin/setup.sh) and start one server for the whole run, with a fresh database per arm.
`;

interface Parsed {
  options: ArmOptions;
  arms: ArmName[];
  json: boolean;
}

function positive(name: string, text: string): number | string {
  const value = Number(text);
  return Number.isInteger(value) && value >= 1 ? value : `--${name} ${JSON.stringify(text)}: expected a whole number of at least 1`;
}

/** The command line, or a message naming the bad option. */
export function parseDispatchArgs(argv: readonly string[]): Parsed | { help: true } | { error: string } {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        monitors: { type: 'string', default: '10000' },
        agents: { type: 'string', default: '8' },
        capacity: { type: 'string', default: '50' },
        checkpoints: { type: 'string', default: '1' },
        arms: { type: 'string', default: 'sqlite-1,postgres-1,postgres-2' },
        'create-in-flight': { type: 'string', default: '16' },
        'timeout-s': { type: 'string', default: '1800' },
        logs: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
  if (values.help) return { help: true };
  const numbers = { monitors: values.monitors, agents: values.agents, capacity: values.capacity, checkpoints: values.checkpoints, 'create-in-flight': values['create-in-flight'], 'timeout-s': values['timeout-s'] };
  const parsed: Record<string, number> = {};
  for (const [name, text] of Object.entries(numbers)) {
    const value = positive(name, text);
    if (typeof value === 'string') return { error: value };
    parsed[name] = value;
  }
  if ((parsed['checkpoints'] ?? 1) > (parsed['agents'] ?? 1)) return { error: `--checkpoints ${parsed['checkpoints'] ?? 1}: expected at most --agents (${parsed['agents'] ?? 1}), so every checkpoint has an agent to run its monitors` };
  const arms = values.arms.split(',').map((arm) => arm.trim());
  const unknown = arms.find((arm) => !(arm in armSpecs));
  if (unknown !== undefined || arms.length === 0) return { error: `--arms ${JSON.stringify(values.arms)}: expected a comma-separated list of ${Object.keys(armSpecs).join(', ')}` };
  return {
    options: { monitors: parsed['monitors'] ?? 0, agents: parsed['agents'] ?? 0, capacity: parsed['capacity'] ?? 0, checkpoints: parsed['checkpoints'] ?? 1, createInFlight: parsed['create-in-flight'] ?? 0, timeoutS: parsed['timeout-s'] ?? 0, ...(values.logs === undefined ? {} : { logsDir: values.logs }) },
    arms: arms as ArmName[],
    json: values.json,
  };
}

/** One PostgreSQL server for the whole run (TLS with a test CA), with a database per arm. */
async function startSharedPostgres(log: (line: string) => void): Promise<{ arms: PostgresForArms; stop(): Promise<void> }> {
  const dir = makeTempDir('dispatch-bench-pki');
  const pki = makeTestPki(dir.path);
  // Two replicas' pools (10 each), their LISTEN connections and ours, with room to spare.
  const server: PostgresServer = await startPostgres(pki.server, { maxConnections: 60 });
  // startPostgres execs the server in place (setpriv when root): the postmaster is our child named postgres.
  const postmaster = allProcesses().find((s) => s.ppid === process.pid && s.comm === 'postgres');
  if (postmaster === undefined) throw new Error('cannot find the postmaster among this process`s children');
  log(`PostgreSQL on 127.0.0.1:${server.port} (postmaster pid ${postmaster.pid})`);
  const admin = async (sql: string) => {
    const client = new pg.Client({ host: 'localhost', port: server.port, user: server.user, password: server.password, database: server.database, ssl: { ca: pki.caCert } });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  return {
    arms: {
      postmasterPid: postmaster.pid,
      url: (database) => `postgres://${server.user}:${server.password}@localhost:${server.port}/${database}?sslmode=verify-full&sslrootcert=${encodeURIComponent(pki.caCertPath)}`,
      createDatabase: (database) => admin(`CREATE DATABASE ${database}`),
      dropDatabase: (database) => admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`),
    },
    async stop() {
      await server.stop();
      dir.remove();
    },
  };
}

/** Whether `checkpoint control-plane` takes `--database` (the PostgreSQL arms need it). */
function controlPlaneTakesDatabase(): boolean {
  const help = spawnSync(process.execPath, [cliPath, 'control-plane', '--help'], { encoding: 'utf8', timeout: 60_000 });
  return help.stdout.includes('--database');
}

export async function runDispatchBench(requested: readonly ArmName[], options: ArmOptions, log: (line: string) => void): Promise<ArmResult[]> {
  const base = { monitors: options.monitors, agents: options.agents, capacity: options.capacity, checkpoints: options.checkpoints };
  const pending = requested.some((arm) => armSpecs[arm].store === 'postgres') && !controlPlaneTakesDatabase();
  if (pending) log('`checkpoint control-plane` has no --database option yet: the PostgreSQL arms are pending');
  const arms = requested.filter((arm) => !pending || armSpecs[arm].store !== 'postgres');
  const needsPostgres = arms.some((arm) => armSpecs[arm].store === 'postgres');
  const missing = needsPostgres ? postgresMissing() : false;
  if (missing !== false) throw new Error(`the PostgreSQL arms need PostgreSQL: ${missing}`);
  const postgres = needsPostgres ? await startSharedPostgres(log) : undefined;
  const results: ArmResult[] = [];
  // Interrupted (Ctrl-C): leave no control plane or PostgreSQL behind.
  const interrupted = (signal: NodeJS.Signals) => {
    log(`${signal}: stopping the control planes and PostgreSQL`);
    void Promise.all(spawnedProcesses.map((child) => child.kill()))
      .then(() => postgres?.stop())
      .finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    for (const arm of requested) {
      if (!arms.includes(arm)) {
        results.push({ ...emptyResult({ ...base, arm, replicas: armSpecs[arm].replicas }), status: 'pending', note: '`checkpoint control-plane` has no --database option yet' });
        continue;
      }
      log(`${arm}: starting (${options.monitors} monitors, ${options.agents} agents × ${options.capacity})`);
      const result = await runArm(arm, options, postgres?.arms, log);
      log(`${arm}: ${result.status}${result.status === 'done' ? `: ${result.runsPerS.toFixed(0)} runs/s, ${result.resultsPerS.toFixed(0)} results/s, ${result.cpuMsPerRun.toFixed(2)} CPU ms/run` : `: ${result.note ?? ''}`}`);
      results.push(result);
    }
  } finally {
    // A replica that hung at start is still ours to stop.
    await Promise.all(spawnedProcesses.map((child) => child.kill()));
    await postgres?.stop();
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
  }
  return results;
}

async function main(): Promise<void> {
  const parsed = parseDispatchArgs(process.argv.slice(2));
  if ('help' in parsed) {
    process.stdout.write(usage);
    return;
  }
  if ('error' in parsed) {
    process.stderr.write(`error: ${parsed.error}\n\n${usage}`);
    process.exitCode = 2;
    return;
  }
  const log = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
  const started = new Date();
  const results = await runDispatchBench(parsed.arms, parsed.options, log);
  if (parsed.json) {
    process.stdout.write(`${JSON.stringify({ started: started.toISOString(), options: parsed.options, results }, null, 2)}\n`);
  } else {
    process.stdout.write(`Dispatch benchmark, ${started.toISOString()}: ${parsed.options.monitors} monitors, ${parsed.options.agents} agents × capacity ${parsed.options.capacity}, ${parsed.options.checkpoints} checkpoint(s)\n\n${formatReport(results)}\n`);
  }
  if (results.some((result) => result.status === 'failed' || result.status === 'incomplete' || result.overCounted)) process.exitCode = 1;
}

if (import.meta.url === new URL(process.argv[1] ?? '', 'file:').href) await main();
