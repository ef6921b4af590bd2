import { z } from 'zod';
import { hostField, passwordField, defaultPortField, servernameField } from './infra-common.ts';
import { sqlQueryFields, sqlTlsField } from './sql-common.ts';

export const postgresCheckSchema = z
  .strictObject({
    host: hostField,
    port: defaultPortField(5432),
    tls: sqlTlsField,
    servername: servernameField,
    username: z.string().min(1).describe('Database user to log in as.'),
    password: passwordField,
    ...sqlQueryFields,
  })
  .describe('PostgreSQL: connect, TLS, login and optionally a query with an expected row count or value.');
export type PostgresCheckSpec = z.infer<typeof postgresCheckSchema>;
