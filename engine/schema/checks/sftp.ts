import { z } from 'zod';
import { defaultPortField, formatOrTemplate, hostField, passwordField, textExpectationSchema } from './infra-common.ts';

/** A key fingerprint as `ssh-keygen -lf` prints it. */
export const sshFingerprintPattern = /^SHA256:[A-Za-z0-9+/]{43}=?$/;

export const sftpCheckSchema = z
  .strictObject({
    host: hostField,
    port: defaultPortField(22),
    hostKey: formatOrTemplate(sshFingerprintPattern, 'a fingerprint as `ssh-keygen -lf` prints it, e.g. SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8')
      .optional()
      .describe('The server`s host key fingerprint as `ssh-keygen -lf` prints it (`SHA256:…`); any other key fails the check. Strongly advised: without it any key is accepted and only reported.'),
    username: z.string().min(1).describe('User name to log in with.'),
    password: passwordField,
    privateKey: z.string().min(1).optional().describe('Private key (OpenSSH or PEM text, normally `{{secret.NAME}}`) to log in with instead of a password. One of `password` and `privateKey` is needed.'),
    passphrase: z.string().optional().describe('Passphrase of `privateKey`, normally `{{secret.NAME}}`.'),
    path: z.string().min(1).optional().describe('After login: list this directory, or read this file, to prove the storage works.'),
    expect: z
      .strictObject({
        minEntries: z.number().int().min(0).optional().describe('A directory holds at least this many entries.'),
        contains: z.string().min(1).optional().describe('A directory has an entry of this name, or a file`s text contains this.'),
        sizeBytes: z.number().int().min(0).optional().describe('A file has exactly this size.'),
      })
      .optional()
      .describe('What `path` must hold.'),
    expectBanner: textExpectationSchema.optional().describe('What the server`s SSH identification (e.g. `SSH-2.0-OpenSSH_9.2`) must say.'),
  })
  .describe('SFTP: SSH connect, host-key pinning, login by password or key, optionally list or read a path.');
export type SftpCheckSpec = z.infer<typeof sftpCheckSchema>;
