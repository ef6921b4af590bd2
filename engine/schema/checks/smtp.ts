import { z } from 'zod';
import { hostField, passwordField, portField, servernameField, textExpectationSchema, usernameField, verifyTlsField } from './infra-common.ts';

export const smtpCheckSchema = z
  .strictObject({
    host: hostField,
    port: portField('25, 587 for submission, 465 for implicit TLS'),
    tls: z
      .enum(['starttls', 'implicit', 'none'])
      .default('starttls')
      .describe('`starttls`: plain connection upgraded with STARTTLS, which the server must offer. `implicit`: TLS from the first byte (port 465). `none`: no TLS (no login is sent then).'),
    servername: servernameField,
    verifyTls: verifyTlsField,
    ehloName: z.string().min(1).optional().describe('The name sent with EHLO; defaults to the checkpoint`s host name.'),
    expectBanner: textExpectationSchema.optional().describe('What the greeting (220 line) must say.'),
    username: usernameField,
    password: passwordField,
  })
  .describe('SMTP: greeting, EHLO, STARTTLS and optionally AUTH.');
export type SmtpCheckSpec = z.infer<typeof smtpCheckSchema>;
