import { readFileSync } from 'node:fs';
import { EngineError, parseSecretsText } from '../engine/index.ts';

/**
 * Secrets of a local `checkpoint replay`: the secrets file (JSON object, or `NAME=value` lines), then the
 * environment. The file wins so that a run can pin values regardless of what the environment carries. Local
 * replay keeps the environment as a fallback — the person replaying runs their own script with their own
 * environment — whereas `checkpoint agent` gives scripts only the secrets its operator lists
 * (engine/agent/secret-source.ts), because its scripts come from the control plane.
 */
export function secretLookup(file: string | undefined, env: Record<string, string | undefined> = process.env): (name: string) => string | undefined {
  const fromFile = file === undefined ? new Map<string, string>() : readSecretsFile(file);
  return (name) => fromFile.get(name) ?? (Object.hasOwn(env, name) ? env[name] : undefined);
}

export function readSecretsFile(file: string): Map<string, string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new EngineError('FILE_NOT_FOUND', `${file}: cannot read the secrets file`, 'script');
  }
  return parseSecretsText(text, file);
}
