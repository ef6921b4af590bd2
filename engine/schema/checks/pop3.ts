import { z } from 'zod';
import { hostField, passwordField, portField, servernameField, usernameField, verifyTlsField } from './infra-common.ts';

export const pop3CheckSchema = z
  .strictObject({
    host: hostField,
    port: portField('995 for implicit TLS, 110 otherwise'),
    tls: z
      .enum(['implicit', 'starttls', 'none'])
      .default('implicit')
      .describe('`implicit`: TLS from the first byte (995). `starttls`: plain connection upgraded with STLS. `none`: no TLS (login is then refused by the check).'),
    servername: servernameField,
    verifyTls: verifyTlsField,
    username: usernameField,
    password: passwordField,
  })
  .describe('POP3: greeting, TLS (STLS) and optionally USER/PASS login with the mailbox size.');
export type Pop3CheckSpec = z.infer<typeof pop3CheckSchema>;
