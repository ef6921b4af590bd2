import { z } from 'zod';
import { hostField, passwordField, defaultPortField, servernameField } from './infra-common.ts';
import { sqlQueryFields, sqlTlsField } from './sql-common.ts';

export const mysqlCheckSchema = z
  .strictObject({
    host: hostField,
    port: defaultPortField(3306),
    tls: sqlTlsField,
    servername: servernameField,
    username: z.string().min(1).describe('Database user to log in as.'),
    password: passwordField,
    ...sqlQueryFields,
  })
  .describe('MySQL or MariaDB: connect, TLS, login and optionally a query with an expected row count or value.');
export type MysqlCheckSpec = z.infer<typeof mysqlCheckSchema>;
