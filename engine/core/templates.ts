import { EngineError } from './errors.ts';
import { appendPath } from './issue-path.ts';

/** `{{name}}` or `{{secret.NAME}}`, with optional spaces inside the braces. */
const placeholderPattern = /\{\{\s*(secret\.)?([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

export interface Placeholder {
  kind: 'variable' | 'secret';
  name: string;
}

/** Every placeholder used in a string, in order. */
export function placeholdersIn(text: string): Placeholder[] {
  const found: Placeholder[] = [];
  for (const match of text.matchAll(placeholderPattern)) {
    found.push({ kind: match[1] === undefined ? 'variable' : 'secret', name: match[2] ?? '' });
  }
  return found;
}

/** Where values come from while a transaction runs. */
export interface TemplateValues {
  variable(name: string): string | undefined;
  secret(name: string): string | undefined;
}

/**
 * Replace every placeholder in `text`. A missing value is a script problem (blame `script`), named with the
 * location the caller passes in (`where`, e.g. `steps[1].actions[0].value`).
 */
export function renderTemplate(text: string, values: TemplateValues, where: string): string {
  return text.replace(placeholderPattern, (_whole, secretPrefix: string | undefined, name: string) => {
    if (secretPrefix !== undefined) {
      const value = values.secret(name);
      if (value === undefined) {
        throw new EngineError(
          'SECRET_MISSING',
          `${where}: secret "${name}" is not set (expected an environment variable ${name} or an entry in the secrets file)`,
          'script',
        );
      }
      return value;
    }
    const value = values.variable(name);
    if (value === undefined) {
      throw new EngineError(
        'VARIABLE_MISSING',
        `${where}: variable "${name}" has no value (expected it in the script's "variables", a --var ${name}=… option, or an earlier extract/evaluate)`,
        'script',
      );
    }
    return value;
  });
}

/**
 * Render every string inside a JSON-like value (objects, arrays), leaving keys and the `type` field alone.
 * Returns a new value; the input is not modified.
 */
export function renderDeep<T>(value: T, values: TemplateValues, where: string): T {
  if (typeof value === 'string') return renderTemplate(value, values, where) as T;
  if (Array.isArray(value)) return value.map((item: unknown, index) => renderDeep(item, values, appendPath(where, index))) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      out[key] = key === 'type' ? item : renderDeep(item, values, appendPath(where, key));
    }
    return out as T;
  }
  return value;
}
