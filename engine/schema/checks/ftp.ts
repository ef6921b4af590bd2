import { z } from 'zod';
import { hostField, passwordField, defaultPortField, servernameField, verifyTlsField } from './infra-common.ts';

export const ftpCheckSchema = z
  .strictObject({
    host: hostField,
    port: defaultPortField(21),
    tls: z
      .enum(['explicit', 'implicit', 'none'])
      .default('explicit')
      .describe('`explicit`: FTPS with AUTH TLS on the control port (21). `implicit`: TLS from the first byte (990). `none`: plain FTP (the password crosses the network in clear).'),
    servername: servernameField,
    verifyTls: verifyTlsField,
    username: z.string().min(1).default('anonymous').describe('User name to log in with (`anonymous` by default).'),
    password: passwordField,
    path: z.string().min(1).optional().describe('After login: list this directory, or download this file, to prove the storage (and the data connection) works.'),
    expect: z
      .strictObject({
        minEntries: z.number().int().min(0).optional().describe('A directory holds at least this many entries.'),
        contains: z.string().min(1).optional().describe('A directory has an entry of this name, or a file`s text contains this.'),
        sizeBytes: z.number().int().min(0).optional().describe('A file has exactly this size.'),
      })
      .optional()
      .describe('What `path` must hold.'),
  })
  .describe('FTP/FTPS: connect, TLS (explicit or implicit), login, optionally list or download a path.');
export type FtpCheckSpec = z.infer<typeof ftpCheckSchema>;
