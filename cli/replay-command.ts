import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Browser } from 'playwright-core';
import { ArtifactDirectory, type CaptureMode, ConsoleReporter, EngineError, launchBrowser, type LeaseProvider, lighthouseCollector, prepareRun, type RunResult, runTransaction, writeHtmlReport } from '../engine/index.ts';
import { exitCodeForStatus } from './exit-codes.ts';
import { version } from './version.ts';
import { loadScriptOrThrow } from './load-script.ts';
import { prepareReplayNetwork, type ReplayNetworkOptions } from './replay-network.ts';
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
  /** Proxy, bypass list and private CA of the browser (ignored with a shared browser). */
  network?: ReplayNetworkOptions;
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
  const script = await loadScriptOrThrow(file, { onWarning: (line) => io.stderr(`${line}\n`) });
  const secret = secretLookup(options.secrets);
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
    await network?.close();
  }
}

export { collectVar } from './vars.ts';
