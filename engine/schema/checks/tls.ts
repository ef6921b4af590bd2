import { z } from 'zod';
import { hostField, defaultPortField, servernameField } from './infra-common.ts';

export const tlsCheckSchema = z
  .strictObject({
    host: hostField,
    port: defaultPortField(443),
    servername: servernameField,
    warnDays: z.number().int().min(0).default(30).describe('A certificate expiring within this many days makes the step a warning.'),
    errorDays: z.number().int().min(0).default(7).describe('A certificate expiring within this many days (or expired) fails the step with CERTIFICATE_EXPIRING.'),
    checkHostname: z.boolean().default(true).describe('The certificate must carry the server name (`servername`, else `host`).'),
    checkChain: z.boolean().default(true).describe('The certificate must chain to a trusted root (Node`s roots plus the checkpoint`s CA certificates).'),
    minProtocol: z.enum(['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3']).optional().describe('The lowest TLS version accepted as negotiated.'),
  })
  .describe('TLS certificate: expiry (warning and error days), host name, chain and protocol of a TLS port.');
export type TlsCheckSpec = z.infer<typeof tlsCheckSchema>;
