import { EngineError } from '../engine/index.ts';

/** Parse repeated `--var name=value` options. */
export function collectVar(value: string, previous: Record<string, string>): Record<string, string> {
  const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(value);
  if (match === null) {
    throw new EngineError('USAGE', `--var: expected name=value (name made of letters, digits and _), got ${JSON.stringify(value)}`, 'script');
  }
  return { ...previous, [match[1] ?? '']: match[2] ?? '' };
}
