import type { z } from 'zod';
import { dnsCheckSchema } from './dns.ts';
import { ftpCheckSchema } from './ftp.ts';
import { imapCheckSchema } from './imap.ts';
import { mysqlCheckSchema } from './mysql.ts';
import { pop3CheckSchema } from './pop3.ts';
import { postgresCheckSchema } from './postgres.ts';
import { sftpCheckSchema } from './sftp.ts';
import { smtpCheckSchema } from './smtp.ts';
import { tcpCheckSchema } from './tcp.ts';
import { tlsCheckSchema } from './tls.ts';

/**
 * The spec schemas of the infrastructure checks, by kind: the fields of the kind only (no `kind`, `name`,
 * `timeoutMs` or `conditions`: the script schema adds those to every kind). Strict objects with `.describe()`
 * on every field, so `checkpoint schema` documents them.
 */
export const infraCheckSchemas: Readonly<Record<string, z.ZodObject>> = {
  tcp: tcpCheckSchema,
  dns: dnsCheckSchema,
  tls: tlsCheckSchema,
  smtp: smtpCheckSchema,
  imap: imapCheckSchema,
  pop3: pop3CheckSchema,
  sftp: sftpCheckSchema,
  ftp: ftpCheckSchema,
  postgres: postgresCheckSchema,
  mysql: mysqlCheckSchema,
};
