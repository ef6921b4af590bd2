#!/usr/bin/env node
import { writeFile } from 'node:fs/promises';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { EngineError, toEngineError, transactionJsonSchemaText } from '../engine/index.ts';
import { exitCodeForError, exitCodes } from './exit-codes.ts';
import { collectVar } from './vars.ts';
import { validate } from './validate-command.ts';
import { parseConcurrencyList, type BenchCliOptions } from './bench-command.ts';
import { version } from './version.ts';

const io = {
  stdout: (text: string) => void process.stdout.write(text),
  stderr: (text: string) => void process.stderr.write(text),
  color: process.stderr.isTTY === true && process.env['NO_COLOR'] === undefined,
};

function positiveInt(name: string) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < 0) throw new InvalidArgumentError(`expected ${name} to be a whole number ≥ 0, got ${JSON.stringify(value)}`);
    return parsed;
  };
}

/** A repeatable option's values, in order. */
const collect = (value: string, previous: string[]): string[] => [...previous, value];

function varOption(value: string, previous: Record<string, string>): Record<string, string> {
  try {
    return collectVar(value, previous);
  } catch (error) {
    throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
  }
}

/** Build the `checkpoint` command tree. Actions set `process.exitCode`; nothing here calls exit. */
export function buildProgram(): Command {
  const program = new Command('checkpoint')
    .description('Private browser checkpoint: replay recorded browser transactions against internal web apps and report honest per-step timings.')
    .version(version, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });

  program
    .command('replay')
    .description('Replay a script locally with live per-step progress: a browser transaction, or an API, HTTP or infrastructure check (no browser is launched for those; see docs/checks.md). Exit 0 passed, 1 failed, 2 bad input, 3 engine fault.')
    .argument('<script>', 'script (.json) of any kind, or a Chrome DevTools Recorder recording (imported in memory, warnings on stderr)')
    .option('--var <name=value>', 'set a variable (repeatable), e.g. --var baseUrl=http://127.0.0.1:8080', varOption, {})
    .option('--out <dir>', 'write result.json and screenshots into this directory')
    .option('--headed', 'show the browser window (needs a display)', false)
    .option('--slow-mo <ms>', 'pause this many ms between browser operations (debugging)', positiveInt('--slow-mo'))
    .addOption(new Option('--screenshots <when>', 'screenshots: after every step, on failure, or never').choices(['all', 'failure', 'off']))
    .option('--secrets <file>', 'read {{secret.NAME}} values from this file (JSON object or NAME=value lines); the environment is the fallback (unlike `checkpoint agent`, which gives scripts only what it lists)')
    .option('--json', 'print the result as JSON on stdout', false)
    .addOption(new Option('--filmstrip <state>', 'filmstrip and visual metrics of every step').choices(['on', 'off']))
    .option('--har <file>', 'also write the network as a HAR 1.2 file (secrets and cookie values redacted, no bodies)')
    .option('--lighthouse', 'run a Lighthouse audit of every step that navigates (slow: ~10 s per step)', false)
    .addOption(new Option('--reporter <name>', 'also report for CI: junit = JUnit XML (a testsuite per transaction, a testcase per step) on stdout, or into --reporter-out').choices(['junit']))
    .option('--reporter-out <file>', 'write the --reporter output to this file instead of stdout')
    .option('--allow-host <host>', 'egress: always allow this host, e.g. intranet.example or *.corp.example (repeatable)', collect, [])
    .option('--deny-host <host>', 'egress: always deny this host (repeatable)', collect, [])
    .option('--allow-cidr <range>', 'egress: allow this address range even where a built-in rule denies it, e.g. 169.254.10.0/24 (repeatable)', collect, [])
    .option('--deny-cidr <range>', 'egress: deny this address range, e.g. 10.9.0.0/16 (repeatable); link-local and cloud metadata addresses are denied by default', collect, [])
    .option('--deny-private', 'egress: also deny loopback and private addresses (allowed by default)', false)
    .option('--proxy <url>', 'send the browser\'s traffic through this proxy: http://, https:// or socks5://')
    .option('--proxy-bypass <hosts>', 'hosts reached without --proxy, comma-separated (e.g. .corp.example,10.0.0.0/8,localhost); loopback uses the proxy unless listed')
    .option('--ca-file <pem>', 'extra CA certificates the browser trusts (needs certutil, Debian package libnss3-tools)')
    .action(async (script: string, options: { var: Record<string, string>; out?: string; headed: boolean; slowMo?: number; screenshots?: 'all' | 'failure' | 'off'; secrets?: string; json: boolean; lighthouse: boolean; har?: string; filmstrip?: 'on' | 'off'; allowHost: string[]; denyHost: string[]; allowCidr: string[]; denyCidr: string[]; denyPrivate: boolean; reporter?: 'junit'; reporterOut?: string; proxy?: string; proxyBypass?: string; caFile?: string }) => {
      if (options.reporterOut !== undefined && options.reporter === undefined) throw new EngineError('USAGE', '--reporter-out needs --reporter junit', 'script');
      if (options.reporter !== undefined && options.reporterOut === undefined && options.json) throw new EngineError('USAGE', '--json and --reporter both write to stdout: give --reporter-out <file>', 'script');
      // Commands load their heavy dependencies (Playwright, the demo site) only when they run.
      const { replay } = await import('./replay-command.ts');
      const { exitCode } = await replay(
        script,
        {
          vars: options.var,
          headed: options.headed,
          json: options.json,
          lighthouse: options.lighthouse,
          ...(options.har === undefined ? {} : { har: options.har }),
          ...(options.filmstrip === undefined ? {} : { filmstrip: options.filmstrip === 'on' }),
          ...(options.out === undefined ? {} : { out: options.out }),
          ...(options.slowMo === undefined ? {} : { slowMoMs: options.slowMo }),
          ...(options.screenshots === undefined ? {} : { screenshots: options.screenshots }),
          ...(options.secrets === undefined ? {} : { secrets: options.secrets }),
          ...(options.reporter === undefined ? {} : { reporter: options.reporter }),
          ...(options.reporterOut === undefined ? {} : { reporterOut: options.reporterOut }),
          egress: { allowHosts: options.allowHost, denyHosts: options.denyHost, allowCidrs: options.allowCidr, denyCidrs: options.denyCidr, allowPrivate: !options.denyPrivate },
          network: { proxy: options.proxy, proxyBypass: options.proxyBypass, caFile: options.caFile },
        },
        io,
      );
      process.exitCode = exitCode;
    });

  program
    .command('validate')
    .description('Check scripts against the schema; each problem is printed as `file: path: message`. Exit 2 when any is invalid.')
    .argument('<scripts...>', 'scripts (.json) of any kind: browser transactions, API, HTTP and infrastructure checks')
    .action(async (files: string[]) => {
      process.exitCode = await validate(files, io);
    });

  program
    .command('import')
    .description('Import a Chrome DevTools Recorder recording (.json) as a transaction script. Problems are printed as `file: path: warning: message`. Exit 0 when a valid script results, 2 when the file is not a DevTools recording.')
    .argument('<recording>', 'DevTools Recorder JSON export')
    .option('--out <file>', 'write the script to this file instead of stdout')
    .option('--base-url <origin>', 'origin the recording was made against; its URLs become {{baseUrl}}')
    .option('--password-secret <NAME>', 'secret that replaces recorded passwords (default PASSWORD)')
    .action(async (file: string, options: { out?: string; baseUrl?: string; passwordSecret?: string }) => {
      const { runImportCommand } = await import('../recorder/interop/commands.ts');
      process.exitCode = await runImportCommand(
        {
          file,
          ...(options.out === undefined ? {} : { out: options.out }),
          ...(options.baseUrl === undefined ? {} : { baseUrl: options.baseUrl }),
          ...(options.passwordSecret === undefined ? {} : { passwordSecret: options.passwordSecret }),
        },
        io,
      );
    });

  program
    .command('export')
    .description('Export a transaction script as a DevTools Recorder recording, a Playwright Test spec, or a plain playwright-core script. Exit 0 when written, 2 when the script is invalid.')
    .argument('<script>', 'transaction script (.json)')
    .addOption(new Option('--format <format>', 'output format').choices(['devtools', 'playwright', 'playwright-script']).makeOptionMandatory())
    .option('--out <file>', 'write to this file instead of stdout')
    .option('--var <name=value>', 'variable value used in the DevTools export (repeatable)', varOption, {})
    .action(async (file: string, options: { format: 'devtools' | 'playwright' | 'playwright-script'; out?: string; var: Record<string, string> }) => {
      const { runExportCommand } = await import('../recorder/interop/commands.ts');
      process.exitCode = await runExportCommand({ file, format: options.format, vars: options.var, ...(options.out === undefined ? {} : { out: options.out }) }, io);
    });

  program
    .command('schema')
    .description('Print the JSON Schema of the script format, every kind (the one committed as scripts/transaction.schema.json).')
    .option('--out <file>', 'write it to this file instead of stdout')
    .action(async (options: { out?: string }) => {
      const text = transactionJsonSchemaText();
      if (options.out === undefined) io.stdout(text);
      else await writeFile(options.out, text);
    });

  program
    .command('demo-site')
    .description('Serve the bundled demo intranet app that the examples and tests use, until Ctrl-C.')
    .option('--port <n>', 'port to listen on (0 picks a free one)', positiveInt('--port'), 8080)
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .action(async (options: { port: number; host: string }) => {
      const { serveDemoSite } = await import('./demo-site-command.ts');
      await serveDemoSite(options, io);
    });

  program
    .command('record')
    .description('Record a transaction in a browser and write the script. Stop with the toolbar, by closing the window, or Ctrl-C.')
    .argument('<url>', 'start URL (http or https); its origin becomes variables.baseUrl')
    .option('--out <file>', 'write the script here instead of stdout')
    .option('--headless', 'no visible browser (automation); stop with Ctrl-C', false)
    .option('--password-secret <name>', 'secret name used for password fills (default from the field name)')
    .action(async (url: string, options: { out?: string; headless: boolean; passwordSecret?: string }) => {
      const { runRecordCommand } = await import('../recorder/record-command.ts');
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        process.exitCode = await runRecordCommand(
          { url, headless: options.headless, ...(options.out === undefined ? {} : { out: options.out }), ...(options.passwordSecret === undefined ? {} : { passwordSecret: options.passwordSecret }) },
          { ...io, signal: controller.signal },
        );
      } finally {
        process.removeListener('SIGINT', stop);
        process.removeListener('SIGTERM', stop);
      }
    });

  program
    .command('demo')
    .description('Start the demo site and replay every example script against it, writing reports to --out.')
    .option('--out <dir>', 'where each example`s result.json and screenshots go', 'checkpoint-results')
    .action(async (options: { out: string }) => {
      const { runDemo } = await import('./demo-command.ts');
      process.exitCode = await runDemo(options, io);
    });

  program
    .command('agent')
    .description('Run this checkpoint instance: connect out to the control plane, run what it dispatches, deliver every result through a durable outbox. SIGTERM/SIGINT drain it. Scripts get only the secrets listed by --secrets-file and --secret-env. Exit 0 after a clean drain, 2 bad options (also: running as root without --allow-no-sandbox), 3 engine fault.')
    .option('--control-plane <url>', 'base URL of the control plane, e.g. https://cp.example:8443 (env CHECKPOINT_CONTROL_PLANE)')
    .option('--token <token>', 'checkpoint token (env CHECKPOINT_TOKEN, preferred: arguments are visible in the process list)')
    .option('--instance-id <id>', 'stable id of this instance (env CHECKPOINT_INSTANCE_ID; default <hostname>-<random>, generated once and kept)')
    .option('--data-dir <dir>', 'outbox directory (env CHECKPOINT_DATA_DIR; default ./.checkpoint/agent-<instance id>)')
    .option('--health-host <address>', 'address of /healthz, /readyz and /metrics (env CHECKPOINT_HEALTH_HOST; default 127.0.0.1)')
    .option('--health-port <n>', 'port of /healthz, /readyz and /metrics, 0 picks a free one (env CHECKPOINT_HEALTH_PORT; default 9464)', positiveInt('--health-port'))
    .option('--concurrency <n>', 'runs at once (env CHECKPOINT_CONCURRENCY; default from the CPU and memory limits)', positiveInt('--concurrency'))
    .option('--ca-file <pem>', 'extra CA certificates trusted for the control plane and by the browsers (env CHECKPOINT_CA_FILE; the browsers need certutil, Debian package libnss3-tools)')
    .option('--privacy-lock', 'never capture screenshots or filmstrips, whatever the control plane asks (env CHECKPOINT_PRIVACY_LOCK=1)')
    .option('--secrets-file <file>', 'secrets scripts may read as {{secret.NAME}}: a JSON object or NAME=value lines (env CHECKPOINT_SECRETS_FILE)')
    .option('--secret-env <names>', 'environment variables scripts may read as {{secret.NAME}}, comma-separated (env CHECKPOINT_SECRETS_ENV); no other variable is ever given to a script')
    .option('--client-cert <pem>', 'client certificate presented to the control plane, with --client-key (env CHECKPOINT_CLIENT_CERT)')
    .option('--client-key <pem>', 'private key of --client-cert (env CHECKPOINT_CLIENT_KEY)')
    .option('--control-plane-proxy <url>', 'HTTP(S) proxy to the control plane, CONNECT for https/wss (env CHECKPOINT_CONTROL_PLANE_PROXY)')
    .option('--browser-proxy <url>', 'proxy of the browsers\' test traffic: http://, https:// or socks5:// (env CHECKPOINT_BROWSER_PROXY)')
    .option('--browser-proxy-bypass <hosts>', 'hosts the browsers reach without --browser-proxy, comma-separated, e.g. .corp.example,10.0.0.0/8,localhost (env CHECKPOINT_BROWSER_PROXY_BYPASS); loopback uses the proxy unless listed')
    .option('--allow-no-sandbox', 'as root, run Chromium without its sandbox anyway (env CHECKPOINT_ALLOW_NO_SANDBOX=1); refused otherwise, exit 2')
    .option('--check-concurrency <n>', 'non-browser checks (API, HTTP, infrastructure) at once, in their own lane (env CHECKPOINT_CHECK_CONCURRENCY; default 16)', positiveInt('--check-concurrency'))
    .option('--egress-allow-host <host>', 'egress: always allow this host, e.g. *.corp.example (repeatable; env CHECKPOINT_EGRESS_ALLOW_HOSTS, comma-separated)', collect, [])
    .option('--egress-deny-host <host>', 'egress: always deny this host (repeatable; env CHECKPOINT_EGRESS_DENY_HOSTS)', collect, [])
    .option('--egress-allow-cidr <range>', 'egress: allow this address range even where a built-in rule denies it (repeatable; env CHECKPOINT_EGRESS_ALLOW_CIDRS)', collect, [])
    .option('--egress-deny-cidr <range>', 'egress: deny this address range (repeatable; env CHECKPOINT_EGRESS_DENY_CIDRS); link-local and cloud metadata addresses are always denied', collect, [])
    .option('--egress-deny-private', 'egress: also deny loopback and private addresses (env CHECKPOINT_EGRESS_DENY_PRIVATE=1)')
    .option('--uploads-dir <dir>', 'the one directory `upload` actions read files from (env CHECKPOINT_UPLOADS_DIR); without it only inline files upload')
    .option('--drain-grace-ms <ms>', 'on SIGTERM, time running runs get before they are aborted (default 30000)', positiveInt('--drain-grace-ms'))
    .option('--flush-timeout-ms <ms>', 'on SIGTERM, time given to delivering the outbox (default 10000)', positiveInt('--flush-timeout-ms'))
    .option('--outbox-cap-bytes <n>', 'outbox size cap: past it the oldest artifacts are dropped, never results (default 536870912)', positiveInt('--outbox-cap-bytes'))
    .action(
      async (options: {
        controlPlane?: string;
        token?: string;
        instanceId?: string;
        dataDir?: string;
        healthHost?: string;
        healthPort?: number;
        concurrency?: number;
        caFile?: string;
        privacyLock?: boolean;
        secretsFile?: string;
        secretEnv?: string;
        clientCert?: string;
        clientKey?: string;
        controlPlaneProxy?: string;
        browserProxy?: string;
        browserProxyBypass?: string;
        allowNoSandbox?: boolean;
        checkConcurrency?: number;
        egressAllowHost: string[];
        egressDenyHost: string[];
        egressAllowCidr: string[];
        egressDenyCidr: string[];
        egressDenyPrivate?: boolean;
        uploadsDir?: string;
        drainGraceMs?: number;
        flushTimeoutMs?: number;
        outboxCapBytes?: number;
      }) => {
        const { runAgentCommand } = await import('../engine/index.ts');
        const { secretEnv, egressAllowHost, egressDenyHost, egressAllowCidr, egressDenyCidr, ...rest } = options;
        // An empty list is no flag: the environment variable then applies.
        const list = (values: string[]) => (values.length === 0 ? undefined : values);
        process.exitCode = await runAgentCommand(
          {
            ...rest,
            ...(secretEnv === undefined ? {} : { secretEnv: secretEnv.split(',') }),
            egressAllowHosts: list(egressAllowHost),
            egressDenyHosts: list(egressDenyHost),
            egressAllowCidrs: list(egressAllowCidr),
            egressDenyCidrs: list(egressDenyCidr),
          },
          { stderr: io.stderr },
        );
      },
    );

  program
    .command('control-plane')
    .description('Run the reference control plane: monitors, scheduling, dispatch to checkpoint instances, retry on a second instance, alerts, result storage (SQLite, or PostgreSQL shared by several replicas) and the dashboard, until Ctrl-C.')
    .option('--port <n>', 'port of the API, agent WebSocket and dashboard (default 8400)', positiveInt('--port'))
    .option('--host <address>', 'address to listen on (default 127.0.0.1)')
    .option('--data <dir>', 'SQLite database and artifacts (default .checkpoint/control-plane); with --database only artifacts: share it between replicas')
    .option('--database <url>', 'keep everything in PostgreSQL (postgres://user:password@host:5432/db?sslmode=verify-full); replicas naming the same database form a cluster (docs/scaling.md; env CHECKPOINT_DATABASE_URL, preferred: arguments are visible in the process list)')
    .option('--database-pool-size <n>', 'connections to PostgreSQL this replica keeps at most (default 10)', positiveInt('--database-pool-size'))
    .option('--replica-id <id>', 'this replica`s name in a cluster (env CHECKPOINT_REPLICA_ID; default the host name and a random suffix)')
    .option('--leader-lease-ms <ms>', 'how long the leading replica`s lease lasts unrenewed: a dead leader is replaced within about this long (default 15000)', positiveInt('--leader-lease-ms'))
    .option('--tls-cert <file>', 'serve HTTPS/WSS with this certificate (PEM), together with --tls-key')
    .option('--tls-key <file>', 'private key (PEM) of --tls-cert')
    .option('--admin-token <token>', 'bearer token of the admin API and dashboard sign-in (env CHECKPOINT_ADMIN_TOKEN); without one the control plane listens on loopback only and every local client is admin; an empty token is an error')
    .option('--webhook <url>', 'POST every alert as JSON to this URL (repeatable)', (value: string, previous: string[]) => [...previous, value], [] as string[])
    .option('--webhook-secret <secret>', 'sign the --webhook POSTs: X-Checkpoint-Timestamp and X-Checkpoint-Signature (HMAC-SHA256, docs/alerting.md; env CHECKPOINT_WEBHOOK_SECRET, preferred)')
    .option('--heartbeat-interval-ms <ms>', 'heartbeat interval told to instances; a link silent for 3 intervals is dropped (default 10000)', positiveInt('--heartbeat-interval-ms'))
    .option('--checkpoint-down-after-ms <ms>', 'alert "checkpoint down" when no instance has been connected for this long (default 60000)', positiveInt('--checkpoint-down-after-ms'))
    .option('--allowed-host <name>', 'also answer requests whose Host header names this host (repeatable; env CHECKPOINT_ALLOWED_HOSTS, comma-separated); loopback names and the --host address always; "*" turns the check off (docs/security.md)', (value: string, previous: string[] | undefined) => [...(previous ?? []), value])
    .option('--retain-runs-days <days>', 'delete finished runs (and their results) older than this; 0 keeps them (default 90; env CHECKPOINT_RETENTION_RUNS_DAYS)', positiveInt('--retain-runs-days'))
    .option('--retain-results-days <days>', 'delete result envelopes older than this (default 30; env CHECKPOINT_RETENTION_RESULTS_DAYS)', positiveInt('--retain-results-days'))
    .option('--retain-alerts-days <days>', 'delete alerts older than this (default 180; env CHECKPOINT_RETENTION_ALERTS_DAYS)', positiveInt('--retain-alerts-days'))
    .option('--retain-artifacts-days <days>', 'delete artifacts no result has used for this long (default 30; env CHECKPOINT_RETENTION_ARTIFACTS_DAYS)', positiveInt('--retain-artifacts-days'))
    .option('--retain-instances-days <days>', 'forget instances disconnected for this long (default 7; env CHECKPOINT_RETENTION_INSTANCES_DAYS)', positiveInt('--retain-instances-days'))
    .option('--public-url <url>', 'base URL of the links in alerts, as users reach the dashboard (env CHECKPOINT_PUBLIC_URL; default the listening URL)')
    .option('--metrics-token <token>', 'bearer token that may read /metrics only (env CHECKPOINT_METRICS_TOKEN); the admin token may too')
    .action(async (options: {
      port?: number;
      host?: string;
      data?: string;
      database?: string;
      databasePoolSize?: number;
      replicaId?: string;
      leaderLeaseMs?: number;
      tlsCert?: string;
      tlsKey?: string;
      adminToken?: string;
      webhook: string[];
      heartbeatIntervalMs?: number;
      checkpointDownAfterMs?: number;
      allowedHost?: string[];
      retainRunsDays?: number;
      retainResultsDays?: number;
      retainAlertsDays?: number;
      retainArtifactsDays?: number;
      retainInstancesDays?: number;
      publicUrl?: string;
      metricsToken?: string;
      webhookSecret?: string;
    }) => {
      const { runControlPlaneCommand } = await import('../control-plane/control-plane-command.ts');
      process.exitCode = await runControlPlaneCommand(options, io);
    });

  program
    .command('apply')
    .description('Make the control plane`s monitors, notification channels and maintenance windows what JSON files kept in git say (docs/config-as-code.md). Everything is validated (by the control plane too) before anything changes. Prints + created, ~ changed (fields), = unchanged, - deleted. Exit 0 applied, 2 invalid files, 3 control plane unreachable or refusing.')
    .argument('<paths...>', 'JSON files or directories (searched for *.json): { "monitors": [...], "channels": [...], "maintenanceWindows": [...] }, or one monitor per file')
    .option('--control-plane <url>', 'base URL of the control plane (env CHECKPOINT_CONTROL_PLANE)')
    .option('--admin-token <token>', 'admin token (env CHECKPOINT_ADMIN_TOKEN, preferred: arguments are visible in the process list)')
    .option('--dry-run', 'print what would change, change nothing', false)
    .option('--prune', 'also delete monitors, channels and maintenance windows that are not in the files', false)
    .action(async (paths: string[], options: { controlPlane?: string; adminToken?: string; dryRun: boolean; prune: boolean }) => {
      const { runApply } = await import('./apply-command.ts');
      process.exitCode = await runApply(
        {
          paths,
          dryRun: options.dryRun,
          prune: options.prune,
          ...(options.controlPlane === undefined ? {} : { controlPlane: options.controlPlane }),
          ...(options.adminToken === undefined ? {} : { adminToken: options.adminToken }),
        },
        io,
      );
    });

  program
    .command('start')
    .description('Everything on one machine: the reference control plane with its dashboard, two checkpoint instances, the demo intranet and the example scripts as monitors. Ctrl-C stops it all.')
    .option('--port <n>', 'port of the control plane and dashboard', positiveInt('--port'), 8080)
    .option('--data <dir>', 'where the control plane and the agents keep their data', '.checkpoint/start')
    .option('--interval <seconds>', 'how often each example monitor runs', positiveInt('--interval'), 60)
    .option('--instances <n>', 'checkpoint instances to run', positiveInt('--instances'), 2)
    .action(async (options: { port: number; data: string; interval: number; instances: number }) => {
      const { runStart } = await import('./start-command.ts');
      process.exitCode = await runStart({ port: options.port, data: options.data, intervalSeconds: options.interval, instances: Math.max(1, options.instances) }, io);
    });

  program
    .command('bench')
    .description('Side-by-side throughput benchmark: our pool vs a browser per transaction, puppeteer-cluster and a hand-written Playwright script. Each arm run is its own process whose whole process tree is accounted (a cgroup per run when possible); the demo site is reported apart. A development tool: it runs from a checkout after `npm ci` (its code is test/bench and it needs the development dependencies), not from an installed package. See docs/benchmarks.md.')
    .option('--transactions <n>', 'transactions per arm per round at each concurrency (at least twice the concurrency)', positiveInt('--transactions'), 16)
    .addOption(new Option('--concurrency <list>', 'transactions at once: one number, or a comma-separated sweep such as 1,2,4,8,12 (each arm runs at each)').argParser(parseConcurrencyList).default([1, 2, 4, 8], '1,2,4,8'))
    .option('--rounds <n>', 'rounds; the arm order rotates and reverses between rounds', positiveInt('--rounds'), 2)
    .option('--arms <list>', 'comma-separated arms', 'ours,browser-per-tx,puppeteer-cluster,playwright-hand')
    .option('--json', 'print the results (every arm run, the per-concurrency points, best points and ratios) as JSON instead of tables')
    .option('--no-cgroups', 'account CPU and memory by sampling /proc even where a cgroup per arm run could be created')
    .option('--collectors', 'instead: the overhead of each collector against timings-only, artifact bytes, and TTFB error against a known server wait')
    .option('--soak <n>', 'instead: run N transactions through our pool (one --concurrency) and report the memory trend at the same point of each browser recycle cycle, and processes and open files left after close', positiveInt('--soak'))
    .action(async (options: BenchCliOptions) => {
      const { runBenchCommand } = await import('./bench-command.ts');
      process.exitCode = await runBenchCommand(options, io);
    });

  return program;
}

/** Run the CLI and map every failure to a documented exit code with one clear sentence, never a stack. */
export async function main(argv: readonly string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv], { from: 'node' });
  } catch (error) {
    if (error instanceof CommanderError) {
      const harmless = error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help';
      process.exitCode = harmless ? exitCodes.passed : exitCodes.badInput;
      return;
    }
    const engineError = error instanceof EngineError ? error : toEngineError(error);
    io.stderr(`error: ${engineError.message}\n`);
    if (engineError.code === 'INTERNAL' && process.env['CHECKPOINT_DEBUG'] !== undefined) io.stderr(`${String((error as Error).stack)}\n`);
    process.exitCode = exitCodeForError(engineError);
  }
}

if (import.meta.main) await main(process.argv);
