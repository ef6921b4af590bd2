import { readFileSync } from 'node:fs';
import { EngineError } from '../engine/index.ts';

/**
 * Secrets come from a secrets file (JSON object, or `NAME=value` lines) and then the environment. The file
 * wins so that a checkpoint can pin values regardless of what its environment carries.
 */
export function secretLookup(file: string | undefined, env: Record<string, string | undefined> = process.env): (name: string) => string | undefined {
  const fromFile = file === undefined ? new Map<string, string>() : readSecretsFile(file);
  return (name) => fromFile.get(name) ?? (Object.hasOwn(env, name) ? env[name] : undefined);
}

export function readSecretsFile(file: string): Map<string, string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  } catch {
    throw new EngineError('FILE_NOT_FOUND', `${file}: cannot read the secrets file`, 'script');
  }
  const values = new Map<string, string>();
  if (text.trimStart().startsWith('{')) {
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      throw new EngineError('SCRIPT_INVALID', `${file}: (root): invalid JSON in the secrets file`, 'script');
    }
    for (const [key, value] of Object.entries(data as Record<string, unknown>)) {
      if (typeof value !== 'string') throw new EngineError('SCRIPT_INVALID', `${file}: ${key}: expected a string value`, 'script');
      values.set(key, value);
    }
    return values;
  }
  for (const [index, line] of text.split(/\r?\n/).entries()) {
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$/.exec(line);
    if (match === null) throw new EngineError('SCRIPT_INVALID', `${file}: line ${index + 1}: expected NAME=value`, 'script');
    values.set(match[1] ?? '', (match[2] ?? '').trim().replace(/^"(.*)"$/, '$1'));
  }
  return values;
}
