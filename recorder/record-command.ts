/**
 * `checkpoint record <url> [--out FILE] [--headless]`: open a browser on `url`, record what the author does,
 * and write the transaction script to FILE (default stdout). Headed, recording ends with the toolbar's Stop
 * button, by closing the window, or with Ctrl-C; headless (tests, automation) it ends when `io.signal` aborts
 * (the CLI wires SIGINT / SIGTERM to it).
 *
 * Exit codes: 0 written, 2 bad input (URL), 3 engine fault (no browser, internal error).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { isEngineError, launchBrowser, parseScriptValue } from '../engine/index.ts';
import { startRecorder } from './recorder.ts';

export interface RecordCommandOptions {
  url: string;
  out?: string;
  headless?: boolean;
  executablePath?: string;
  /** Secret name for password fills (default from the field name). */
  passwordSecret?: string;
}

export interface RecordCommandIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Aborting ends the recording and writes the script (Ctrl-C). */
  signal?: AbortSignal;
}

/** Path of the bundled JSON Schema, for `$schema`. */
const schemaFile = fileURLToPath(new URL('../scripts/transaction.schema.json', import.meta.url));

/** `$schema` as seen from where the script is written (forward slashes, also on Windows). */
export function schemaReference(outFile: string | undefined, cwd: string = process.cwd()): string {
  const from = outFile === undefined ? cwd : dirname(resolve(cwd, outFile));
  const rel = relative(from, schemaFile).split(sep).join('/');
  return rel.startsWith('.') ? rel : `./${rel}`;
}

function waitForAbort(signal: AbortSignal | undefined): Promise<void> {
  if (signal === undefined) return new Promise(() => undefined);
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

export async function runRecordCommand(options: RecordCommandOptions, io: RecordCommandIo): Promise<number> {
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    io.stderr(`record: ${options.url}: expected an absolute http or https URL, e.g. http://127.0.0.1:8080/login\n`);
    return 2;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    io.stderr(`record: ${options.url}: expected an http or https URL, got ${url.protocol.replace(/:$/, '')}\n`);
    return 2;
  }

  // Without a signal from the caller, Ctrl-C still ends the recording gracefully.
  let ownController: AbortController | undefined;
  const onSigint = (): void => ownController?.abort();
  if (io.signal === undefined) {
    ownController = new AbortController();
    process.once('SIGINT', onSigint);
  }
  const signal = io.signal ?? ownController?.signal;

  let browser: Browser | undefined;
  try {
    browser = await launchBrowser({ headed: options.headless !== true, ...(options.executablePath === undefined ? {} : { executablePath: options.executablePath }) });
    const recorder = await startRecorder({
      browser,
      url: url.href,
      schema: schemaReference(options.out),
      toolbar: options.headless !== true,
      ...(options.passwordSecret === undefined ? {} : { passwordSecret: options.passwordSecret }),
    });
    const disconnected = new Promise<void>((resolve) => browser?.on('disconnected', () => resolve()));
    io.stderr(
      options.headless === true
        ? `Recording ${url.href} headless; stop with Ctrl-C.\n`
        : `Recording ${url.href}. Use the toolbar (New step, Assert text, Assert visible, Stop); Ctrl-C or closing the window also stops.\n`,
    );
    await Promise.race([recorder.stopped, waitForAbort(signal), disconnected]);
    const script = await recorder.stop();
    const checked = parseScriptValue(script);
    if (!checked.ok) {
      io.stderr(`record: internal error: the recorded script is not valid:\n${checked.problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}\n`);
      return 3;
    }
    const text = `${JSON.stringify(checked.script, null, 2)}\n`;
    if (options.out === undefined) {
      io.stdout(text);
    } else {
      await mkdir(dirname(resolve(options.out)), { recursive: true });
      await writeFile(options.out, text);
      const actions = checked.script.steps.reduce((sum, step) => sum + step.actions.length, 0);
      io.stderr(`Wrote ${options.out}: ${checked.script.steps.length} step(s), ${actions} action(s). Password fields are written as {{secret.NAME}}.\n`);
    }
    return 0;
  } catch (error) {
    const message = isEngineError(error) || error instanceof Error ? error.message.split('\n')[0] : String(error);
    io.stderr(`record: ${message ?? 'unknown error'}\n`);
    return isEngineError(error) && error.blame !== 'engine' ? 2 : 3;
  } finally {
    if (ownController !== undefined) process.removeListener('SIGINT', onSigint);
    await browser?.close().catch(() => undefined);
  }
}
