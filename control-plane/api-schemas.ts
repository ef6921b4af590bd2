import { z } from 'zod';
import { monitorDefinitionSchema } from '../engine/index.ts';

/** Names and ids appear in URLs, logs and alert texts: keep them to a safe alphabet. */
const slug = (what: string, max: number) =>
  z
    .string()
    .regex(new RegExp(`^[A-Za-z0-9][A-Za-z0-9._-]{0,${max - 1}}$`), `expected a ${what} of letters, digits, ".", "_" or "-" (at most ${max} characters, starting with a letter or digit)`);

export const checkpointNameSchema = slug('checkpoint name', 63);
export const monitorIdSchema = slug('monitor id', 100);

/** POST /api/v1/checkpoints */
export const createCheckpointSchema = z.strictObject({ name: checkpointNameSchema });

/**
 * POST /api/v1/monitors and PUT /api/v1/monitors/:id: the protocol's monitor definition (engine/schema), strict
 * (an unknown field is an error, not silently dropped), with `id` optional (generated when absent) and
 * `enabled` defaulting to true.
 */
export const monitorInputSchema = z.strictObject({
  ...monitorDefinitionSchema.shape,
  id: monitorIdSchema.optional(),
  checkpoint: checkpointNameSchema,
  enabled: z.boolean().default(true),
});
export type MonitorInput = z.infer<typeof monitorInputSchema>;

/** `?limit=` on list endpoints. */
export const limitSchema = z.coerce.number().int('expected a whole number').min(1).max(1000);

/** POST /api/v1/checkpoints/:name/drain */
export const drainSchema = z.strictObject({
  instance: z.string().min(1).max(200).optional().describe('Only this instance; default: every connected instance of the checkpoint.'),
  reason: z.string().max(500).optional(),
});

/** POST /api/v1/checkpoints/:name/token (rotation) */
export const rotateTokenSchema = z.strictObject({
  graceSeconds: z
    .number()
    .int('expected whole seconds')
    .min(0)
    .max(30 * 86_400)
    .default(3600)
    .describe('How long the previous token keeps working, so instances can be given the new one. 0 refuses it at once. Default 3600.'),
});
