import { z } from 'zod';
import { hostField, passwordField, portField, servernameField, usernameField, verifyTlsField } from './infra-common.ts';

export const imapCheckSchema = z
  .strictObject({
    host: hostField,
    port: portField('993 for implicit TLS, 143 otherwise'),
    tls: z
      .enum(['implicit', 'starttls', 'none'])
      .default('implicit')
      .describe('`implicit`: TLS from the first byte (993). `starttls`: plain connection upgraded with STARTTLS. `none`: no TLS (login is then refused by the check).'),
    servername: servernameField,
    verifyTls: verifyTlsField,
    username: usernameField,
    password: passwordField,
    mailbox: z.string().min(1).optional().describe('After login, open this mailbox (e.g. `INBOX`) and report its message count.'),
  })
  .describe('IMAP: greeting, TLS and optionally login (and a mailbox status).');
export type ImapCheckSpec = z.infer<typeof imapCheckSchema>;
