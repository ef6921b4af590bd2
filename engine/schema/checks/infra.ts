import type { z } from 'zod';

/**
 * The spec schemas of the infrastructure checks, by kind: the fields of the kind only (no `kind`, `name`,
 * `timeoutMs` or `conditions`: the script schema adds those to every kind). Strict objects with `.describe()`
 * on every field, so `checkpoint schema` documents them.
 */
export const infraCheckSchemas: Readonly<Record<string, z.ZodObject>> = {};
