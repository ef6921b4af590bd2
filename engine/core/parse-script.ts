import { monitorScriptSchema, scriptSchema, type MonitorScript, type Script } from '../schema/script.ts';
import { describeIssues, lineAndColumn, type ScriptProblem } from './script-problems.ts';

export type ParseScriptOutcome = { ok: true; script: Script } | { ok: false; problems: ScriptProblem[] };
export type ParseMonitorScriptOutcome = { ok: true; script: MonitorScript } | { ok: false; problems: ScriptProblem[] };

/** Largest script text accepted; real transactions are a few KB. */
export const maxScriptBytes = 5_000_000;

/**
 * Parse and validate a browser transaction's JSON text (the recorder and the exporters take only those). Never
 * throws for bad input: every problem is returned with the path inside the document where it was found.
 */
export function parseScriptText(text: string): ParseScriptOutcome {
  const json = parseJson(text);
  return json.ok ? parseScriptValue(json.data) : json;
}

/** Parse and validate a script of any kind (browser when `kind` is absent, API, HTTP, infrastructure). */
export function parseMonitorScriptText(text: string): ParseMonitorScriptOutcome {
  const json = parseJson(text);
  return json.ok ? parseMonitorScriptValue(json.data) : json;
}

function parseJson(text: string): { ok: true; data: unknown } | { ok: false; problems: ScriptProblem[] } {
  if (text.length > maxScriptBytes) {
    return { ok: false, problems: [{ path: '(root)', message: `expected a script of at most ${maxScriptBytes} bytes, got ${text.length}` }] };
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const position = /position (\d+)/.exec(message);
    const where = position?.[1] === undefined ? '' : (() => {
      const { line, column } = lineAndColumn(text, Number(position[1]));
      return ` at line ${line}, column ${column}`;
    })();
    const reason = message.replace(/\s*\(line \d+ column \d+\)/, '').replace(/ in JSON at position \d+/, '').replace(/, (?:\.\.\.)?".*"(?:\.\.\.)? is not valid JSON$/s, '').replace(/\s+/g, ' ');
    return { ok: false, problems: [{ path: '(root)', message: `invalid JSON${where}: ${reason}` }] };
  }
  return { ok: true, data };
}

/** Validate an already-parsed value against the script schema. */
export function parseScriptValue(data: unknown): ParseScriptOutcome {
  const result = scriptSchema.safeParse(data);
  if (result.success) return { ok: true, script: result.data };
  return { ok: false, problems: describeIssues(result.error.issues, data) };
}

/** Validate an already-parsed value against the schema of its `kind` (browser when absent). */
export function parseMonitorScriptValue(data: unknown): ParseMonitorScriptOutcome {
  const result = monitorScriptSchema.safeParse(data);
  if (result.success) return { ok: true, script: result.data };
  return { ok: false, problems: describeIssues(result.error.issues, data) };
}
