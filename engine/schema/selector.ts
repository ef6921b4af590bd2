import { z } from 'zod';

/** `role=*[name="…"]` with an optional `s` (case-sensitive) or `i` flag. */
const anyRolePattern = /^role=\*\s*\[\s*name\s*=\s*("(?:[^"\\]|\\.)*")\s*([si])?\s*\]$/;

export interface AnyRoleQuery {
  name: string;
  caseSensitive: boolean;
}

/** The name of a `role=*[name="…"]` selector part, or undefined when the part is something else. */
export function parseAnyRole(part: string): AnyRoleQuery | undefined {
  const match = anyRolePattern.exec(part.trim());
  if (match === null) return undefined;
  try {
    return { name: JSON.parse(match[1] ?? '""') as string, caseSensitive: match[2] === 's' };
  } catch {
    return undefined;
  }
}

/** Why a selector part starting with `role=*` is not a valid any-role query (undefined when valid or not one). */
export function anyRoleProblem(part: string): string | undefined {
  if (!part.trim().startsWith('role=*')) return undefined;
  return parseAnyRole(part) === undefined ? 'expected `role=*[name="Accessible name"]` (optionally ending in ` s]` for a case-sensitive match); `role=*` takes only a name' : undefined;
}

/** `role=*[name="…"]` for an accessible name (the selector `aria/Name` means in DevTools recordings). */
export function anyRoleSelector(name: string, caseSensitive = true): string {
  return `role=*[name=${JSON.stringify(name)}${caseSensitive ? ' s' : ''}]`;
}

/** Split a selector on `>>`, except inside quotes (an accessible name or a text may contain `>>`). */
export function splitChain(selector: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quote: string | undefined;
  for (let i = 0; i < selector.length; i++) {
    const char = selector[i] ?? '';
    if (quote !== undefined) {
      current += char;
      if (char === '\\') {
        current += selector[i + 1] ?? '';
        i++;
      } else if (char === quote) {
        quote = undefined;
      }
      continue;
    }
    if (char === '"' || char === "'") {
      quote = char;
      current += char;
      continue;
    }
    if (char === '>' && selector[i + 1] === '>') {
      parts.push(current.trim());
      current = '';
      i++;
      continue;
    }
    current += char;
  }
  parts.push(current.trim());
  return parts;
}

/** One selector: CSS by default, or an engine prefix Playwright understands. */
export const selectorStringSchema = z
  .string()
  .min(1, 'expected a non-empty selector')
  .max(2000, 'expected a selector of at most 2000 characters')
  .superRefine((selector, ctx) => {
    if (!selector.includes('role=*')) return;
    for (const part of splitChain(selector)) {
      const problem = anyRoleProblem(part);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
    }
  })
  .describe(
    'A selector: CSS (`#id`, `.class`), or prefixed `text=Sign in`, `role=button[name="Sign in"]`, `role=*[name="Sign in"]` (that whole accessible name, any role; case ignored unless it ends in ` s]`), `testid=login`, `xpath=//button`. `a >> b` chains selectors.',
  );

/**
 * A selector or a list of alternatives. Alternatives are raced at replay; the result records which one
 * matched, so a script whose first choice broke still runs and says so.
 */
export const selectorSchema = z
  .union([
    selectorStringSchema,
    z
      .array(selectorStringSchema)
      .min(1, 'expected at least one selector')
      .max(10, 'expected at most 10 alternative selectors'),
  ])
  .describe('A selector, or a list of alternative selectors raced at replay (the first to match wins).');

export type Selector = z.infer<typeof selectorSchema>;

/** Alternatives as a list, whatever form the script used. */
export function selectorAlternatives(selector: Selector): string[] {
  return typeof selector === 'string' ? [selector] : [...selector];
}
