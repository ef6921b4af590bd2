import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Browser } from 'playwright-core';
import { ArtifactDirectory, type CaptureMode, type CheckScript, ConsoleReporter, EngineError, isBrowserScript, launchBrowser, type LeaseProvider, lighthouseCollector, prepareCheck, prepareRun, type RunResult, runCheck, runTransaction, writeHtmlReport } from '../engine/index.ts';
import { exitCodeForStatus } from './exit-codes.ts';
import { version } from './version.ts';
import { loadScriptOrThrow } from './load-script.ts';
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
  const { redactor } = prepareRun(script, options.vars, secret);
  const reporter = new ConsoleReporter({ write: io.stderr, color: io.color });
  reporter.useRedactor(redactor);
  const outDir = options.out === undefined ? undefined : resolve(options.out);
  const wantsLighthouse = options.lighthouse === true || script.steps.some((step) => step.lighthouse === true);
  const launched =
    sharedBrowser === undefined
      ? await launchBrowser({ headed: options.headed, remoteDebugging: wantsLighthouse, ...(options.slowMoMs === undefined ? {} : { slowMoMs: options.slowMoMs }) })
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
    if (outDir !== undefined) {
      const path = await writeResultFile(outDir, result);
      io.stderr(`  result: ${path}\n`);
      const reportPath = await writeHtmlReport(outDir, result);
      io.stderr(`  report: ${reportPath}\n`);
    }
    if (options.json) io.stdout(`${redactor.redact(JSON.stringify(result, null, 2))}\n`);
    return { exitCode: exitCodeForStatus(result.status), result };
  } finally {
    await launched?.close().catch(() => undefined);
  }
}

/** Write result.json and report.html into the output directory, saying where on stderr. */
async function writeOutputs(outDir: string | undefined, result: RunResult, io: ReplayIo): Promise<void> {
  if (outDir === undefined) return;
  const path = await writeResultFile(outDir, result);
  io.stderr(`  result: ${path}\n`);
  const reportPath = await writeHtmlReport(outDir, result);
  io.stderr(`  report: ${reportPath}\n`);
}

/**
 * Replay of a non-browser check (API, HTTP, infrastructure): no browser is launched; browser-only options
 * (--headed, --screenshots, --lighthouse, --har, --filmstrip) have nothing to act on.
 */
async function replayCheck(script: CheckScript, options: ReplayOptions, io: ReplayIo): Promise<{ exitCode: number; result: RunResult }> {
  const secret = secretLookup(options.secrets);
  prepareCheck(script, options.vars, secret);
  const reporter = new ConsoleReporter({ write: io.stderr, color: io.color });
  const { result, redactor } = await runCheck({ script, variables: options.vars, secret, listener: reporter });
  reporter.useRedactor(redactor);
  reporter.summary(result);
  await writeOutputs(options.out === undefined ? undefined : resolve(options.out), result, io);
  if (options.json) io.stdout(`${redactor.redact(JSON.stringify(result, null, 2))}\n`);
  return { exitCode: exitCodeForStatus(result.status), result };
}

export { collectVar } from './vars.ts';
