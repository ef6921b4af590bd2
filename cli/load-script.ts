import { readFile } from 'node:fs/promises';
import { EngineError, type MonitorScript, parseMonitorScriptText, type ScriptProblem } from '../engine/index.ts';

export type LoadedScript = { ok: true; script: MonitorScript } | { ok: false; problems: ScriptProblem[] };

export interface LoadScriptOptions {
  /** Receives one line per warning of a DevTools Recorder import (`file: path: warning: message`). */
  onWarning?: (line: string) => void;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A Chrome DevTools Recorder recording: `title` and `steps` of `{ type }`, none of a script's `name` / `actions`. */
function looksLikeDevtoolsRecording(value: unknown): boolean {
  if (!isRecord(value) || typeof value['title'] !== 'string' || 'name' in value || !Array.isArray(value['steps'])) return false;
  return value['steps'].every((step) => isRecord(step) && typeof step['type'] === 'string' && !('actions' in step));
}

/** Import a DevTools recording in memory (the recorder layer is loaded only for such files). */
async function importRecording(file: string, json: unknown, options: LoadScriptOptions): Promise<LoadedScript> {
  const { DevtoolsImportError, importDevtoolsRecording } = await import('../recorder/interop/import-devtools.ts');
  try {
    const { script, problems } = importDevtoolsRecording(json);
    for (const problem of problems) options.onWarning?.(`${file}: ${problem.path}: warning: ${problem.message}`);
    return { ok: true, script };
  } catch (error) {
    if (!(error instanceof DevtoolsImportError)) throw error;
    const problems = error.problems.filter((problem) => problem.error === true);
    return {
      ok: false,
      problems: [
        { path: '(root)', message: `DevTools Recorder recording: ${error.message}` },
        ...(problems.length > 0 ? problems : error.problems).map((problem) => ({ path: problem.path, message: problem.message })),
      ],
    };
  }
}

/**
 * Read and validate a script file of any kind (browser when `kind` is absent, API, HTTP, infrastructure). A file that can't be read is one problem at `(root)`. A Chrome DevTools
 * Recorder recording (told by its shape) is imported in memory, as `checkpoint import` would.
 */
export async function loadScriptFile(file: string, options: LoadScriptOptions = {}): Promise<LoadedScript> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory, expected a .json script' : code === 'EACCES' ? 'permission denied' : String(code ?? error);
    return { ok: false, problems: [{ path: '(root)', message: `cannot read the script: ${reason}` }] };
  }
  const clean = text.replace(/^\uFEFF/, '');
  let json: unknown;
  try {
    json = JSON.parse(clean);
  } catch {
    json = undefined;
  }
  if (looksLikeDevtoolsRecording(json)) return importRecording(file, json, options);
  return parseMonitorScriptText(clean);
}

/** One line per problem: `file: path: message`. */
export function formatProblems(file: string, problems: readonly ScriptProblem[]): string {
  return problems.map((problem) => `${file}: ${problem.path}: ${problem.message}`).join('\n');
}

/** Load a script or throw SCRIPT_INVALID (blame script) with every problem listed. */
export async function loadScriptOrThrow(file: string, options: LoadScriptOptions = {}): Promise<MonitorScript> {
  const loaded = await loadScriptFile(file, options);
  if (loaded.ok) return loaded.script;
  throw new EngineError('SCRIPT_INVALID', formatProblems(file, loaded.problems), 'script');
}
