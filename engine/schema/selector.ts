import { z } from 'zod';

/** One selector: CSS by default, or an engine prefix Playwright understands. */
export const selectorStringSchema = z
  .string()
  .min(1, 'expected a non-empty selector')
  .max(2000, 'expected a selector of at most 2000 characters')
  .describe(
    'A selector: CSS (`#id`, `.class`), or prefixed `text=Sign in`, `role=button[name="Sign in"]`, `testid=login`, `xpath=//button`. `a >> b` chains selectors.',
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
