import { EngineError } from './errors.ts';

/**
 * Parse a secrets file: a JSON object of strings, or `NAME=value` lines (`#` comments, blank lines, optional
 * double quotes around a value). `file` names it in errors, which give the key or line, never a value.
 */
export function parseSecretsText(text: string, file: string): Map<string, string> {
  const body = text.replace(/^\uFEFF/, '');
  const values = new Map<string, string>();
  if (body.trimStart().startsWith('{')) {
    let data: unknown;
    try {
      data = JSON.parse(body);
    } catch {
      throw new EngineError('SCRIPT_INVALID', `${file}: (root): invalid JSON in the secrets file`, 'script');
    }
    if (data === null || typeof data !== 'object' || Array.isArray(data)) throw new EngineError('SCRIPT_INVALID', `${file}: (root): expected an object of NAME: "value"`, 'script');
    for (const [key, value] of Object.entries(data as Record<string, unknown>)) {
      if (typeof value !== 'string') throw new EngineError('SCRIPT_INVALID', `${file}: ${key}: expected a string value`, 'script');
      values.set(key, value);
    }
    return values;
  }
  for (const [index, line] of body.split(/\r?\n/).entries()) {
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$/.exec(line);
    if (match === null) throw new EngineError('SCRIPT_INVALID', `${file}: line ${index + 1}: expected NAME=value`, 'script');
    values.set(match[1] ?? '', (match[2] ?? '').trim().replace(/^"(.*)"$/, '$1'));
  }
  return values;
}
