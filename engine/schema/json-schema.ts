import { z } from 'zod';
import { monitorScriptSchema } from './script.ts';

/**
 * JSON Schema of the script format (every kind), generated from the zod schema so the two cannot drift. Editors use it
 * for autocompletion and hover docs (every field has a description).
 */
export function transactionJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(monitorScriptSchema, { io: 'input', target: 'draft-2020-12', unrepresentable: 'any' });
  return {
    ...generated,
    $id: 'https://private-checkpoint.invalid/transaction.schema.json',
    title: 'Private checkpoint transaction script',
  };
}

/** The schema as committed in scripts/transaction.schema.json (stable formatting, trailing newline). */
export function transactionJsonSchemaText(): string {
  return `${JSON.stringify(transactionJsonSchema(), null, 2)}\n`;
}
