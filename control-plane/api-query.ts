import type { z } from 'zod';
import { ApiError, parseWith } from './http.ts';

/**
 * Validate a query string against a strict zod object. Every parameter must be declared: an unknown one is a
 * 400 naming it (a filter that is silently ignored returns the wrong data and looks right). A repeated
 * parameter counts as a comma-separated list.
 */
export function parseQuery<T extends z.ZodObject>(url: URL, schema: T): z.infer<T> {
  const known = Object.keys(schema.shape);
  const values: Record<string, string> = {};
  for (const key of new Set(url.searchParams.keys())) {
    if (!known.includes(key)) {
      const expected = known.length === 0 ? 'this endpoint takes no query parameters' : `expected one of: ${known.join(', ')}`;
      throw new ApiError(400, 'unknown-parameter', `${key}: unknown query parameter "${key}"; ${expected}`, { path: key });
    }
    values[key] = url.searchParams.getAll(key).join(',');
  }
  return parseWith(schema, values, 'invalid-query');
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** RFC 7386 JSON merge patch: objects merge, `null` deletes, anything else (arrays too) replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return patch;
  const result: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

/** JSON with object keys sorted: equal values give equal text whatever order their keys were written in. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => (isPlainObject(item) ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : item));
}

/** Top-level fields whose values differ (added, removed or changed), sorted. */
export function changedFields(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter((key) => canonicalJson(before[key]) !== canonicalJson(after[key])).sort();
}

/** What a PUT with `?dryRun=true` answers, and what a real PUT did. */
export type Outcome = 'created' | 'changed' | 'unchanged';

export function outcomeOf(before: Record<string, unknown> | undefined, after: Record<string, unknown>): { outcome: Outcome; changes: string[] } {
  if (before === undefined) return { outcome: 'created', changes: Object.keys(after).sort() };
  const changes = changedFields(before, after);
  return { outcome: changes.length === 0 ? 'unchanged' : 'changed', changes };
}
