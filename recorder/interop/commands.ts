// `checkpoint import <recording.json>` and `checkpoint export <script.json> --format devtools|playwright`.
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseScriptText, type Script } from '../../engine/index.ts';
import { exportDevtoolsRecording } from './export-devtools.ts';
import { exportPlaywrightScript, exportPlaywrightTest } from './export-playwright.ts';
import { DevtoolsImportError, importDevtoolsRecording } from './import-devtools.ts';
import type { InteropProblem } from './markers.ts';

export interface CommandIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/** Same meanings as cli/exit-codes.ts (this layer may not import the CLI). */
const exit = { ok: 0, badInput: 2 } as const;

function report(io: CommandIo, file: string, problems: readonly InteropProblem[], prefix = ''): void {
  for (const problem of problems) io.stderr(`${file}: ${problem.path}: ${prefix}${problem.message}\n`);
}

async function readText(file: string, io: CommandIo): Promise<string | undefined> {
  try {
    return (await readFile(file, 'utf8')).replace(/^\uFEFF/, '');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    io.stderr(`${file}: (root): cannot read the file: ${code === 'ENOENT' ? 'no such file' : String(code ?? error)}\n`);
    return undefined;
  }
}

async function output(text: string, out: string | undefined, io: CommandIo): Promise<void> {
  if (out === undefined) io.stdout(text);
  else await writeFile(out, text);
}

export interface ImportCommandOptions {
  file: string;
  out?: string;
  /** Origin to turn into `{{baseUrl}}` (see ImportDevtoolsOptions.baseUrl). */
  baseUrl?: string;
  /** Secret name for recorded passwords (default PASSWORD). */
  passwordSecret?: string;
}

/**
 * Import a DevTools Recorder recording and print (or write) the script. Every problem is a warning line
 * `file: path: warning: message` on stderr; exit 0 whenever a valid script results, 2 when the file is not a
 * DevTools recording (or has nothing replayable).
 */
export async function runImportCommand(options: ImportCommandOptions, io: CommandIo): Promise<number> {
  const text = await readText(options.file, io);
  if (text === undefined) return exit.badInput;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    io.stderr(`${options.file}: (root): not JSON: ${error instanceof Error ? error.message : String(error)}\n`);
    return exit.badInput;
  }
  try {
    const { script, problems } = importDevtoolsRecording(json, {
      ...(options.baseUrl === undefined ? {} : { baseUrl: options.baseUrl }),
      ...(options.passwordSecret === undefined ? {} : { passwordSecret: options.passwordSecret }),
    });
    report(io, options.file, problems, 'warning: ');
    await output(`${JSON.stringify(script, null, 2)}\n`, options.out, io);
    if (options.out !== undefined) io.stderr(`${options.file}: imported ${script.steps.length} steps into ${options.out}${problems.length > 0 ? ` with ${problems.length} warnings` : ''}\n`);
    return exit.ok;
  } catch (error) {
    if (!(error instanceof DevtoolsImportError)) throw error;
    io.stderr(`${options.file}: (root): ${error.message}\n`);
    report(io, options.file, error.problems);
    return exit.badInput;
  }
}

export interface ExportCommandOptions {
  file: string;
  format: 'devtools' | 'playwright' | 'playwright-script';
  out?: string;
  /** `--var` values used instead of the script's defaults (DevTools export only: it has no variables). */
  vars?: Readonly<Record<string, string>>;
}

/**
 * Export a script as a DevTools recording (problems are warnings on stderr), a Playwright Test spec, or a plain
 * playwright-core script. Exit 0 when written, 2 when the script is not valid.
 */
export async function runExportCommand(options: ExportCommandOptions, io: CommandIo): Promise<number> {
  const text = await readText(options.file, io);
  if (text === undefined) return exit.badInput;
  const parsed = parseScriptText(text);
  if (!parsed.ok) {
    report(io, options.file, parsed.problems);
    return exit.badInput;
  }
  const script: Script = parsed.script;
  if (options.format === 'devtools') {
    const { recording, problems } = exportDevtoolsRecording(script, options.vars === undefined ? {} : { variables: options.vars });
    report(io, options.file, problems, 'warning: ');
    await output(`${JSON.stringify(recording, null, 2)}\n`, options.out, io);
    return exit.ok;
  }
  // Relative upload paths resolve against the script's folder, as in replay.
  const baseDir = dirname(resolve(options.file));
  await output(options.format === 'playwright' ? exportPlaywrightTest(script, { baseDir }) : exportPlaywrightScript(script, { baseDir }), options.out, io);
  return exit.ok;
}
