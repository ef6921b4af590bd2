import { readFile } from 'node:fs/promises';
import { EngineError, parseScriptText, type Script, type ScriptProblem } from '../engine/index.ts';

export type LoadedScript = { ok: true; script: Script } | { ok: false; problems: ScriptProblem[] };

/** Read and validate a script file. A file that can't be read is one problem at `(root)`. */
export async function loadScriptFile(file: string): Promise<LoadedScript> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory, expected a .json script' : code === 'EACCES' ? 'permission denied' : String(code ?? error);
    return { ok: false, problems: [{ path: '(root)', message: `cannot read the script: ${reason}` }] };
  }
  return parseScriptText(text.replace(/^\uFEFF/, ''));
}

/** One line per problem: `file: path: message`. */
export function formatProblems(file: string, problems: readonly ScriptProblem[]): string {
  return problems.map((problem) => `${file}: ${problem.path}: ${problem.message}`).join('\n');
}

/** Load a script or throw SCRIPT_INVALID (blame script) with every problem listed. */
export async function loadScriptOrThrow(file: string): Promise<Script> {
  const loaded = await loadScriptFile(file);
  if (loaded.ok) return loaded.script;
  throw new EngineError('SCRIPT_INVALID', formatProblems(file, loaded.problems), 'script');
}
