import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import { instanceIdSchema } from './protocol.ts';

/**
 * The checkpoint agent's configuration: one zod schema for its flags and its environment. Each setting has a
 * flag (`--health-port`) and an environment variable (`CHECKPOINT_HEALTH_PORT`); a flag wins over the
 * environment. Problems name the flag or the variable the value came from.
 */
/** An on/off environment value: `1`, `true`, `on`, `yes` or `0`, `false`, `off`, `no` (any case); else undefined. */
export function parseSwitch(text: string): boolean | undefined {
  const value = text.trim();
  if (/^(1|true|on|yes)$/i.test(value)) return true;
  return /^(0|false|off|no)$/i.test(value) ? false : undefined;
}

const wholeNumber = (min: number, max: number) =>
  z.coerce
    .number({ error: 'expected a whole number' })
    .int('expected a whole number')
    .min(min, `expected at least ${min}`)
    .max(max, `expected at most ${max}`);

const onOff = z.preprocess((value) => (typeof value === 'string' ? (parseSwitch(value) ?? value) : value), z.boolean({ error: 'expected 1, true, on or yes (or 0, false, off, no)' }));
const proxyUrl = (schemes: readonly string[]) =>
  z.string().trim().refine((text) => URL.canParse(text) && schemes.includes(new URL(text).protocol), `expected a proxy URL such as http://proxy.example:3128 (${schemes.join(', ')})`);
/** Names of environment variables scripts may read as secrets: comma-separated, never the agent's own CHECKPOINT_*. */
const secretNames = z.preprocess(
  (value) => (typeof value === 'string' ? value.split(',').map((name) => name.trim()).filter((name) => name !== '') : value),
  z.array(
    z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected environment variable names separated by commas')
      .refine((name) => !/^CHECKPOINT_/i.test(name), 'CHECKPOINT_* variables configure the agent and are never script secrets'),
  ),
);

/** A list: comma-separated in the environment (and in a flag), each entry checked by `valid`. */
const commaList = (expected: string, valid: (entry: string) => boolean) =>
  z.preprocess(
    (value) => (typeof value === 'string' ? value.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '') : value),
    z.array(z.string().refine(valid, `expected ${expected}`)),
  );
const isHostPattern = (entry: string) => /^(\*\.|\.)?[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?\.?$/i.test(entry);
const isCidr = (entry: string) => ipaddr.isValid(entry) || ipaddr.isValidCIDR(entry);

/**
 * Egress and files policy of the agent (docs/security.md): where its browser may connect, on top of the
 * built-in rules (http/https only, link-local and cloud metadata denied), and the one directory `upload` reads.
 */
const egressConfigFields = {
  egressAllowHosts: commaList('host names such as intranet.example or *.corp.example', isHostPattern).optional().describe('Hosts always allowed, whatever they resolve to.'),
  egressDenyHosts: commaList('host names such as ads.example or *.tracker.example', isHostPattern).optional().describe('Hosts always denied.'),
  egressAllowCidrs: commaList('address ranges such as 10.0.0.0/8 or 169.254.10.1', isCidr).optional().describe('Address ranges allowed even where a built-in rule denies them.'),
  egressDenyCidrs: commaList('address ranges such as 10.9.0.0/16 or fd00::/8', isCidr).optional().describe('Address ranges denied.'),
  egressDenyPrivate: onOff
    .optional()
    .describe('Also deny loopback, RFC 1918, carrier-grade NAT and unique-local addresses.'),
  uploadsDir: z.string().min(1).optional().describe('The only directory `upload` reads files from; without it only inline files upload.'),
};

export const agentConfigSchema = z.strictObject({
  controlPlane: z.string({ error: 'the control plane URL is required' }).trim().min(1, 'the control plane URL is required').describe('Base URL of the control plane.'),
  token: z
    .string({ error: 'the checkpoint token is required' })
    .trim()
    .min(1, 'the checkpoint token is required')
    .refine((token) => !/[\r\n]/.test(token), 'must be a single line')
    .describe('Bearer token of this checkpoint.'),
  instanceId: instanceIdSchema.optional().describe('Stable id of this instance.'),
  dataDir: z.string().min(1).optional().describe('Outbox directory.'),
  healthHost: z.string().min(1).optional().describe('Address of /healthz, /readyz and /metrics.'),
  healthPort: wholeNumber(0, 65_535).optional().describe('Port of /healthz, /readyz and /metrics; 0 picks a free one.'),
  concurrency: wholeNumber(1, 256).optional().describe('Runs at once.'),
  checkConcurrency: wholeNumber(1, 1000).optional().describe('Non-browser checks (API, HTTP, infrastructure) at once, in their own lane. Default 16.'),
  caFile: z.string().min(1).optional().describe('PEM file with extra CA certificates for the control plane.'),
  privacyLock: onOff.optional().describe('Never capture images, whatever the control plane asks.'),
  // Network and secrets (docs/security.md).
  secretsFile: z.string().min(1).optional().describe('Secrets file (JSON object or NAME=value lines): its entries are the secrets scripts may read.'),
  secretEnv: secretNames.optional().describe('Environment variables scripts may read as {{secret.NAME}}, comma-separated; no other variable is given out.'),
  clientCert: z.string().min(1).optional().describe('PEM client certificate presented to the control plane (mutual TLS), with clientKey.'),
  clientKey: z.string().min(1).optional().describe('PEM private key of clientCert.'),
  controlPlaneProxy: proxyUrl(['http:', 'https:']).optional().describe('HTTP(S) proxy for the connection to the control plane (CONNECT for https/wss).'),
  browserProxy: proxyUrl(['http:', 'https:', 'socks5:']).optional().describe('Proxy for the test traffic of the browsers.'),
  browserProxyBypass: z.string().trim().min(1).optional().describe('Hosts the browsers reach without the proxy, comma-separated (e.g. .corp.example,10.0.0.0/8,localhost).'),
  allowNoSandbox: onOff.optional().describe('As root, run Chromium without its sandbox anyway (refused otherwise).'),
  drainGraceMs: wholeNumber(0, 3_600_000).optional(),
  flushTimeoutMs: wholeNumber(0, 3_600_000).optional(),
  outboxCapBytes: wholeNumber(1, Number.MAX_SAFE_INTEGER).optional(),
  ...egressConfigFields,
});
export type AgentConfig = z.infer<typeof agentConfigSchema>;
export type AgentConfigKey = keyof AgentConfig;

/** Flag and environment variable of each setting (the environment has no equivalent of the drain knobs). */
export const agentConfigSources: Record<AgentConfigKey, { flag: string; env?: string }> = {
  controlPlane: { flag: '--control-plane', env: 'CHECKPOINT_CONTROL_PLANE' },
  token: { flag: '--token', env: 'CHECKPOINT_TOKEN' },
  instanceId: { flag: '--instance-id', env: 'CHECKPOINT_INSTANCE_ID' },
  dataDir: { flag: '--data-dir', env: 'CHECKPOINT_DATA_DIR' },
  healthHost: { flag: '--health-host', env: 'CHECKPOINT_HEALTH_HOST' },
  healthPort: { flag: '--health-port', env: 'CHECKPOINT_HEALTH_PORT' },
  concurrency: { flag: '--concurrency', env: 'CHECKPOINT_CONCURRENCY' },
  caFile: { flag: '--ca-file', env: 'CHECKPOINT_CA_FILE' },
  privacyLock: { flag: '--privacy-lock', env: 'CHECKPOINT_PRIVACY_LOCK' },
  secretsFile: { flag: '--secrets-file', env: 'CHECKPOINT_SECRETS_FILE' },
  secretEnv: { flag: '--secret-env', env: 'CHECKPOINT_SECRETS_ENV' },
  clientCert: { flag: '--client-cert', env: 'CHECKPOINT_CLIENT_CERT' },
  clientKey: { flag: '--client-key', env: 'CHECKPOINT_CLIENT_KEY' },
  controlPlaneProxy: { flag: '--control-plane-proxy', env: 'CHECKPOINT_CONTROL_PLANE_PROXY' },
  browserProxy: { flag: '--browser-proxy', env: 'CHECKPOINT_BROWSER_PROXY' },
  browserProxyBypass: { flag: '--browser-proxy-bypass', env: 'CHECKPOINT_BROWSER_PROXY_BYPASS' },
  allowNoSandbox: { flag: '--allow-no-sandbox', env: 'CHECKPOINT_ALLOW_NO_SANDBOX' },
  drainGraceMs: { flag: '--drain-grace-ms' },
  flushTimeoutMs: { flag: '--flush-timeout-ms' },
  outboxCapBytes: { flag: '--outbox-cap-bytes' },
  egressAllowHosts: { flag: '--egress-allow-host', env: 'CHECKPOINT_EGRESS_ALLOW_HOSTS' },
  egressDenyHosts: { flag: '--egress-deny-host', env: 'CHECKPOINT_EGRESS_DENY_HOSTS' },
  egressAllowCidrs: { flag: '--egress-allow-cidr', env: 'CHECKPOINT_EGRESS_ALLOW_CIDRS' },
  egressDenyCidrs: { flag: '--egress-deny-cidr', env: 'CHECKPOINT_EGRESS_DENY_CIDRS' },
  egressDenyPrivate: { flag: '--egress-deny-private', env: 'CHECKPOINT_EGRESS_DENY_PRIVATE' },
  uploadsDir: { flag: '--uploads-dir', env: 'CHECKPOINT_UPLOADS_DIR' },
  checkConcurrency: { flag: '--check-concurrency', env: 'CHECKPOINT_CHECK_CONCURRENCY' },
};

/**
 * The configuration from flags (already typed by the CLI parser, or absent) over the environment. Returns the
 * config, or one problem per bad setting as `--flag: message` (or `VARIABLE: message` when the value came from
 * the environment).
 */
export function resolveAgentConfig(
  flags: Partial<Record<AgentConfigKey, string | number | boolean | undefined>>,
  env: Readonly<Record<string, string | undefined>>,
): { ok: true; config: AgentConfig } | { ok: false; problems: string[] } {
  const input: Record<string, unknown> = {};
  const origin: Partial<Record<AgentConfigKey, string>> = {};
  for (const key of Object.keys(agentConfigSources) as AgentConfigKey[]) {
    const { flag, env: variable } = agentConfigSources[key];
    const fromFlag = flags[key];
    const fromEnv = variable === undefined ? undefined : env[variable]?.trim();
    if (fromFlag !== undefined) {
      input[key] = fromFlag;
      origin[key] = flag;
    } else if (variable !== undefined && fromEnv !== undefined && fromEnv !== '') {
      input[key] = fromEnv;
      origin[key] = variable;
    }
  }
  const parsed = agentConfigSchema.safeParse(input);
  if (parsed.success) return { ok: true, config: parsed.data };
  const problems = parsed.error.issues.map((issue) => {
    const key = issue.path[0] as AgentConfigKey | undefined;
    const source = key === undefined ? undefined : agentConfigSources[key];
    const where = key === undefined ? 'options' : (origin[key] ?? (source?.env === undefined ? source?.flag : `${source.flag} (or ${source.env})`) ?? String(key));
    // Echo what was received, except the token and proxy URLs (secrets, or carrying credentials).
    const received = key !== undefined && !['token', 'controlPlaneProxy', 'browserProxy'].includes(key) && input[key] !== undefined ? `, got ${JSON.stringify(input[key])}` : '';
    return `${where}: ${issue.message}${received}`;
  });
  return { ok: false, problems };
}
