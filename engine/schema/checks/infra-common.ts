import { z } from 'zod';

/** Fields several infrastructure kinds share, described once. */
/** True for a string holding a `{{variable}}` or `{{secret.NAME}}`: its format is checked once rendered. */
export function isTemplated(value: string): boolean {
  return /\{\{[^}]+\}\}/.test(value);
}

/** A string in `pattern`'s format, or a template that the check validates once rendered. */
export const formatOrTemplate = (pattern: RegExp, expected: string) =>
  z.string().refine((value) => pattern.test(value) || isTemplated(value), { message: `expected ${expected} (or a {{variable}})` });

export const hostField = z.string().min(1).describe('Host name or IP address of the server (a `{{variable}}` keeps it out of the script).');

/**
 * A port: a number, or a string that is one after rendering — so `"port": "{{dbPort}}"` validates before the
 * runner renders it; the check reads it with portOf (engine/checks/infra/connect.ts).
 */
const portValue = () =>
  z.union([z.number().int().min(1).max(65535), z.string().regex(/^\s*\d{1,5}\s*$|\{\{[^}]+\}\}/, 'a port number (1-65535) or a {{variable}}')]);

export const portField = (usual: string) => portValue().describe(`TCP port of the server (${usual}); a number or a {{variable}}.`);

/** A port with a default, described on the outside so the description survives the wrapper. */
export const defaultPortField = (port: number) => portValue().default(port).describe(`TCP port of the server (default ${port}); a number or a {{variable}}.`);

export const servernameField = z
  .string()
  .min(1)
  .optional()
  .describe('The name the TLS certificate must carry and the SNI name sent; defaults to `host`. Set it when `host` is an IP address or an alias.');

export const verifyTlsField = z
  .boolean()
  .default(true)
  .describe('Verify the certificate chain (Node`s roots plus the checkpoint`s CA certificates) and that it carries the server name. `false` accepts any certificate (a self-signed test server) and still reports it.');

export const usernameField = z.string().min(1).optional().describe('User name to log in with; without it the check stops before logging in.');

export const passwordField = z
  .string()
  .optional()
  .describe('Password, normally `{{secret.NAME}}` so it stays out of the script; never shown in results or messages.');

/** What a text (a banner, a reply, a value) must be; every field given must hold. */
export const textExpectationSchema = z
  .strictObject({
    contains: z.string().min(1).optional().describe('The text contains this (case-sensitive).'),
    equals: z.string().optional().describe('The text is exactly this (surrounding whitespace ignored).'),
    matches: z.string().min(1).optional().describe('The text matches this regular expression (JavaScript syntax, no slashes).'),
  })
  .refine((value) => value.contains !== undefined || value.equals !== undefined || value.matches !== undefined, {
    message: 'give at least one of contains, equals or matches',
  })
  .describe('A test on a text: `contains`, `equals` and/or `matches` (a regular expression); all given must hold.');
export type TextExpectation = z.infer<typeof textExpectationSchema>;
