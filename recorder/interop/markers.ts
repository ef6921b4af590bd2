// Conventions shared by the DevTools importer and exporter, so that import(export(script)) gives the script back.
import { z } from 'zod';
import { type Action, actionSchema, settingsSchema, stepSchema } from '../../engine/index.ts';

/** One thing an importer or exporter could not carry over exactly, at a JSON path of its input. */
export interface InteropProblem {
  path: string;
  message: string;
  /** The construct cannot be carried over without changing what it checks: the import fails. */
  error?: true;
}

/** customStep name that starts a business step; `parameters` holds the step's fields except `actions`. */
export const stepMarkerName = 'checkpoint.step';
/** customStep name of an action DevTools has no step for; `parameters` is the action. */
export const actionStepName = 'checkpoint.action';
/**
 * Field added to a DevTools step that only approximates one of our actions: the action itself. The stock
 * DevTools runner ignores unknown fields; our importer prefers it to the approximation.
 */
export const actionField = 'checkpoint';
/**
 * Value of {@link actionField} on the 2nd, 3rd… DevTools steps our exporter wrote for ONE action (the keys of a
 * `type`, a chord): the first step carries the action, the importer skips these.
 */
export const continuedMarker = 'continued';
/** Top-level field of an exported recording holding what DevTools has no place for. */
export const scriptField = 'checkpoint';

export const stepMarkerParameters = stepSchema.omit({ actions: true });
export type StepMarkerParameters = z.infer<typeof stepMarkerParameters>;

export const scriptMetaSchema = z.strictObject({
  description: z.string().max(2000).optional(),
  variables: z.record(z.string(), z.string()).optional(),
  settings: settingsSchema.optional(),
  timeoutMs: z.number().int().positive().optional(),
});
export type ScriptMeta = z.infer<typeof scriptMetaSchema>;

export function parseAction(value: unknown): Action | undefined {
  const parsed = actionSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

const pollingPattern =
  /^\(async \(\) => \{ const deadline = Date\.now\(\) \+ (\d+); for \(;;\) \{ if \(await \(([\s\S]*)\)\) return true; if \(Date\.now\(\) >= deadline\) throw new Error\('waitForExpression stayed falsy'\); await new Promise\(\(resolve\) => setTimeout\(resolve, 100\)\); \} \}\)\(\)$/;

/**
 * DevTools `waitForExpression` as one of our `evaluate` expressions: poll every 100 ms until the expression is
 * truthy, throw (failing the action) when it is still falsy after `timeoutMs`. Polling keeps DevTools' semantics
 * (`frame.waitForFunction`), where a one-shot `if (!(expr)) throw` would fail on a page that is still loading.
 */
export function pollingExpression(expression: string, timeoutMs: number): string {
  return `(async () => { const deadline = Date.now() + ${timeoutMs}; for (;;) { if (await (${expression})) return true; if (Date.now() >= deadline) throw new Error('waitForExpression stayed falsy'); await new Promise((resolve) => setTimeout(resolve, 100)); } })()`;
}

/** The DevTools expression and timeout inside a {@link pollingExpression}, or undefined. */
export function parsePollingExpression(code: string): { expression: string; timeoutMs: number } | undefined {
  const match = pollingPattern.exec(code);
  if (match === null) return undefined;
  return { expression: match[2] ?? '', timeoutMs: Number(match[1]) };
}
