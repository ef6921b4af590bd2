import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Browser } from 'playwright-core';
import { ArtifactDirectory, type CaptureMode, type CheckScript, ConsoleReporter, EgressPolicy, type EgressPolicyConfig, EngineError, isBrowserScript, junitXml, launchBrowser, type LeaseProvider, lighthouseCollector, prepareCheck, prepareRun, type Redactor, type RunResult, runCheck, runTransaction, vettedLookup, writeHtmlReport } from '../engine/index.ts';
import { exitCodeForStatus } from './exit-codes.ts';
import { version } from './version.ts';
import { loadScriptOrThrow } from './load-script.ts';
import { prepareReplayNetwork, readCaFile, type ReplayNetworkOptions } from './replay-network.ts';
import { secretLookup } from './secrets.ts';

export interface ReplayOptions {
  vars: Record<string, string>;
  out?: string;
  headed: boolean;
  slowMoMs?: number;
  screenshots?: CaptureMode;
  json: boolean;
  secrets?: string;
  /** Lighthouse for every navigating step (steps with `"lighthouse": true` get it anyway). */
  lighthouse?: boolean;
  /** Also write the HAR to this file. */
  har?: string;
  /** Filmstrip and visual metrics of every step (the privacy lock still wins). */
  filmstrip?: boolean;
  /** A report for CI: JUnit XML on stdout, or into `reporterOut`. */
  reporter?: 'junit';
  reporterOut?: string;
  /** Operator rules on top of the built-in egress policy (`--allow-host`, `--deny-host`, `--allow-cidr`, `--deny-cidr`, `--deny-private`). */
  egress?: EgressPolicyConfig;
  /** Proxy, bypass list and private CA of the browser (ignored with a shared browser). */
  network?: ReplayNetworkOptions;
}

const egressFlags: Record<string, string> = { allowHosts: '--allow-host', denyHosts: '--deny-host', allowCidrs: '--allow-cidr', denyCidrs: '--deny-cidr' };

/** The egress policy of the flags; a bad rule is bad input naming its flag. */
function egressPolicyOf(config: EgressPolicyConfig | undefined): EgressPolicy {
  try {
    return new EgressPolicy(config);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new EngineError('SCRIPT_INVALID', message.replace(/^(\w+)\[\d+\]/, (whole, key: string) => egressFlags[key] ?? whole), 'script');
  }
}

export interface ReplayIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  color: boolean;
}

/** Write result.json into the output directory. */
export async function writeResultFile(outDir: string, result: RunResult): Promise<string> {
  await mkdir(outDir, { recursive: true });
  const path = join(outDir, 'result.json');
  await writeFile(path, `${JSON.stringify(result, null, 2)}\n`);
  return path;
}

/**
 * `checkpoint replay`: validate, launch, run with live progress, write outputs. Returns the exit code.
 * Bad input throws EngineError before any browser starts. A shared browser may be passed in (the demo).
 */
export async function replay(file: string, options: ReplayOptions, io: ReplayIo, sharedBrowser?: Browser | LeaseProvider): Promise<{ exitCode: number; result: RunResult }> {
  // A DevTools Recorder recording replays directly; what its import could not carry over is said on stderr.
  const loaded = await loadScriptOrThrow(file, { onWarning: (line) => io.stderr(`${line}\n`) });
  if (!isBrowserScript(loaded)) return replayCheck(loaded, options, io);
  const script = loaded;
  const secret = secretLookup(options.secrets);
  const egress = egressPolicyOf(options.egress);
  const { redactor } = prepareRun(script, options.vars, secret);
  const reporter = new ConsoleReporter({ write: io.stderr, color: io.color });
  reporter.useRedactor(redactor);
  const outDir = options.out === undefined ? undefined : resolve(options.out);
  const wantsLighthouse = options.lighthouse === true || script.steps.some((step) => step.lighthouse === true);
  const network = sharedBrowser === undefined ? await prepareReplayNetwork(options.network ?? {}) : undefined;
  const launched =
    sharedBrowser === undefined
      ? await launchBrowser({ headed: options.headed, remoteDebugging: wantsLighthouse, network: network?.network, ...(options.slowMoMs === undefined ? {} : { slowMoMs: options.slowMoMs }) }).catch(async (error: unknown) => {
          await network?.close();
          throw error;
        })
      : undefined;
  const browser = sharedBrowser ?? launched;
  if (browser === undefined) throw new EngineError('INTERNAL', 'no browser to replay with', 'engine');
  try {
    const { result } = await runTransaction({
      script,
      scriptPath: resolve(file),
      browser,
      variables: options.vars,
      secret,
      egress,
      ...(options.screenshots === undefined ? {} : { screenshots: options.screenshots }),
      ...(options.filmstrip === undefined ? {} : { filmstrip: options.filmstrip }),
      ...(outDir === undefined ? {} : { artifacts: new ArtifactDirectory(outDir) }),
      listener: reporter,
      network: {
        creator: { name: 'private-checkpoint', version },
        ...(options.har === undefined ? {} : { onHar: (bytes: Uint8Array) => writeFile(resolve(options.har ?? ''), bytes) }),
      },
      collectors: wantsLighthouse ? [lighthouseCollector({ allNavigatingSteps: options.lighthouse === true })] : [],
    });
    reporter.summary(result);
    await writeOutputs(outDir, result, options, redactor, io);
    return { exitCode: exitCodeForStatus(result.status), result };
  } finally {
    await launched?.close().catch(() => undefined);
    await network?.close();
  }
}

/**
 * Everything a replay writes after the run: result.json and report.html into the output directory (saying where
 * on stderr), the result on stdout for --json, and the --reporter output. All of it redacted.
 */
async function writeOutputs(outDir: string | undefined, result: RunResult, options: ReplayOptions, redactor: Redactor, io: ReplayIo): Promise<void> {
  if (outDir !== undefined) {
    const path = await writeResultFile(outDir, result);
    io.stderr(`  result: ${path}\n`);
    const reportPath = await writeHtmlReport(outDir, result);
    io.stderr(`  report: ${reportPath}\n`);
  }
  if (options.json) io.stdout(`${redactor.redact(JSON.stringify(result, null, 2))}\n`);
  if (options.reporter === 'junit') {
    const xml = redactor.redact(junitXml([result]));
    if (options.reporterOut === undefined) io.stdout(xml);
    else await writeFile(resolve(options.reporterOut), xml);
  }
}

/**
 * Replay of a non-browser check (API, HTTP, infrastructure): no browser is launched; browser-only options
 * (--headed, --screenshots, --lighthouse, --har, --filmstrip) have nothing to act on.
 */
async function replayCheck(script: CheckScript, options: ReplayOptions, io: ReplayIo): Promise<{ exitCode: number; result: RunResult }> {
  const secret = secretLookup(options.secrets);
  // The same egress policy as a browser replay: every address a check connects to is vetted first.
  const lookup = vettedLookup(egressPolicyOf(options.egress));
  prepareCheck(script, options.vars, secret);
  const reporter = new ConsoleReporter({ write: io.stderr, color: io.color });
  // --ca-file: the checks trust the same private CA as a browser replay would.
  const caCertificates = options.network?.caFile === undefined ? [] : [await readCaFile(options.network.caFile)];
  const { result, redactor } = await runCheck({ script, variables: options.vars, secret, listener: reporter, lookup, caCertificates });
  reporter.useRedactor(redactor);
  reporter.summary(result);
  await writeOutputs(options.out === undefined ? undefined : resolve(options.out), result, options, redactor, io);
  return { exitCode: exitCodeForStatus(result.status), result };
}

export { collectVar } from './vars.ts';
