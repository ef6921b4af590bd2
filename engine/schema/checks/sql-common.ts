import { z } from 'zod';

/** The query part both database kinds share. */
export const sqlQueryFields = {
  database: z.string().min(1).optional().describe('Database to connect to.'),
  query: z
    .string()
    .min(1)
    .optional()
    .describe('A read-only query run after login, e.g. `select count(*) from orders where created_at > now() - interval \'1 hour\'`. Give the check`s user only the rights it needs.'),
  expect: z
    .strictObject({
      rowCount: z.number().int().min(0).optional().describe('The query returns exactly this many rows.'),
      minRows: z.number().int().min(0).optional().describe('The query returns at least this many rows.'),
      firstValue: z
        .union([z.string(), z.number(), z.boolean(), z.null()])
        .optional()
        .describe('The first column of the first row equals this (compared as text, so `42` matches a bigint 42).'),
    })
    .optional()
    .describe('What the query must return.'),
};

export const sqlTlsField = z
  .enum(['disable', 'require', 'verify'])
  .default('verify')
  .describe('`verify`: TLS with the certificate chain and server name verified. `require`: TLS, any certificate accepted (still reported). `disable`: no TLS.');
