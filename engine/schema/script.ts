import { z } from 'zod';
import { actionSchema } from './actions.ts';
import { apiScriptSchema, checkCommonFields, httpScriptSchema, type ApiScript, type HttpScript } from './checks/api.ts';
import { infraCheckSchemas } from './checks/infra.ts';
import { conditionsSchema, type Condition } from './conditions.ts';

/** Defaults that apply when a script says nothing. All in milliseconds. */
export const defaultTimeouts = {
  actionTimeoutMs: 10_000,
  navigationTimeoutMs: 30_000,
  stepTimeoutMs: 60_000,
  scriptTimeoutMs: 300_000,
} as const;

const timeoutMs = z
  .number()
  .int('expected a whole number of milliseconds')
  .positive('expected a positive number of milliseconds')
  .max(3_600_000, 'expected at most 3600000 ms (one hour)');

export const captureModeSchema = z
  .enum(['all', 'failure', 'off'])
  .describe('When to take a screenshot: after every step, only when a step fails, or never.');
export type CaptureMode = z.infer<typeof captureModeSchema>;

export const settingsSchema = z
  .strictObject({
    viewport: z
      .strictObject({
        width: z.number().int().min(100).max(10_000).describe('Width in CSS pixels.'),
        height: z.number().int().min(100).max(10_000).describe('Height in CSS pixels.'),
      })
      .optional()
      .describe('Browser viewport. Default: 1280 × 720.'),
    userAgent: z.string().min(1).max(1000).optional().describe('User-Agent header and navigator.userAgent.'),
    locale: z
      .string()
      .regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'expected a BCP 47 locale such as `en-US`')
      .optional()
      .describe('Browser locale, e.g. `en-GB`.'),
    timezoneId: z.string().min(1).max(100).optional().describe('IANA time zone, e.g. `Europe/Amsterdam`.'),
    extraHttpHeaders: z
      .record(z.string().min(1).max(200), z.string().max(8000))
      .optional()
      .describe('Headers added to every request. Values may use {{variables}} and {{secret.NAME}}.'),
    httpCredentials: z
      .strictObject({
        username: z.string().max(1000).describe('User name. May use {{variables}}.'),
        password: z.string().max(1000).describe('Password. Use {{secret.NAME}}.'),
      })
      .optional()
      .describe('HTTP basic authentication for every site the transaction visits.'),
    ignoreHttpsErrors: z.boolean().optional().describe('Accept invalid or self-signed certificates (internal CAs).'),
    blockedUrls: z
      .array(z.string().min(1).max(2000))
      .max(200)
      .optional()
      .describe('URL glob patterns (`**/analytics/**`, `*.png`) whose requests are aborted.'),
    actionTimeoutMs: timeoutMs.optional().describe(`Default timeout of each action. Default: ${defaultTimeouts.actionTimeoutMs}.`),
    navigationTimeoutMs: timeoutMs
      .optional()
      .describe(`Default timeout of navigate actions. Default: ${defaultTimeouts.navigationTimeoutMs}.`),
    screenshots: captureModeSchema.optional().describe('Screenshot policy. Default: failure.'),
    filmstrip: z.boolean().optional().describe('Record a filmstrip of every step (CDP screencast). Default: false.'),
    har: z.boolean().optional().describe('Record the network as a HAR file (secrets and cookies redacted). Default: true.'),
    maskSelectors: z
      .array(z.string().min(1).max(2000))
      .max(100)
      .optional()
      .describe('Elements painted over in screenshots and filmstrips (password inputs always are).'),
    fullPageScreenshots: z.boolean().optional().describe('Capture the whole scrollable page instead of the viewport.'),
    filmstripWidth: z.number().int().min(80).max(1920).optional().describe('Width of filmstrip thumbnails in pixels. Default: 320.'),
    allowHttpStatuses: z
      .array(z.number().int().min(400, 'expected an HTTP status from 400 to 599').max(599, 'expected an HTTP status from 400 to 599'))
      .max(200)
      .optional()
      .describe(
        'Main-frame page responses with these statuses do not fail the step. By default any page (after a navigate, click, submit, key press or redirect) answering 400 or more fails the step at once with HTTP_ERROR.',
      ),
  })
  .describe('Browser and run settings for the whole transaction.');
export type Settings = z.infer<typeof settingsSchema>;

export const stepSchema = z
  .strictObject({
    name: z.string().min(1, 'expected a non-empty step name').max(200).describe('Business name of the step, e.g. "Log in".'),
    actions: z.array(actionSchema).min(1, 'expected at least one action').max(500).describe('What the step does, in order.'),
    timeoutMs: timeoutMs.optional().describe(`Budget of the whole step. Default: ${defaultTimeouts.stepTimeoutMs}.`),
    continueOnFailure: z
      .boolean()
      .optional()
      .describe('When true, a failure of this step is reported but the next steps still run.'),
    screenshot: captureModeSchema.optional().describe('Screenshot policy of this step (overrides settings.screenshots).'),
    filmstrip: z.boolean().optional().describe('Filmstrip for this step (overrides settings.filmstrip).'),
    lighthouse: z.boolean().optional().describe('Run a Lighthouse audit of this step (navigation mode when it navigates, timespan otherwise).'),
    conditions: conditionsSchema.optional(),
  })
  .describe('A named business step: the unit that timings, screenshots and filmstrips are reported for.');
export type Step = z.infer<typeof stepSchema>;

export const scriptSchema = z
  .strictObject({
    $schema: z.string().optional().describe('Path or URL of transaction.schema.json, for editor autocompletion.'),
    kind: z.literal('browser').optional().describe('What the script monitors. Default (absent): `browser`, a transaction in a real browser.'),
    name: z.string().min(1, 'expected a non-empty name').max(200).describe('Name of the transaction.'),
    description: z.string().max(2000).optional().describe('What the transaction checks.'),
    settings: settingsSchema.optional(),
    variables: z
      .record(
        z
          .string()
          .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected variable names made of letters, digits and _')
          .refine((name) => name !== '__proto__', 'expected a variable name other than __proto__'),
        z.string().max(100_000),
      )
      .optional()
      .describe('Default values of {{variables}}; `--var name=value` overrides them.'),
    timeoutMs: timeoutMs.optional().describe(`Budget of the whole transaction. Default: ${defaultTimeouts.scriptTimeoutMs}.`),
    conditions: conditionsSchema.optional().describe('Error conditions of the whole transaction, judged after its last step.'),
    steps: z.array(stepSchema).min(1, 'expected at least one step').max(200).describe('The business steps, in order.'),
  })
  .describe('A synthetic transaction: named business steps of browser actions.');
export type Script = z.infer<typeof scriptSchema>;

/** The kinds that run without a browser and are not infrastructure checks. */
export const apiKinds = ['api', 'http'] as const;

/**
 * One schema per infrastructure kind: the fields every check has (`kind`, `name`, `timeoutMs`, `conditions`,
 * `variables`...) and the kind's own fields from engine/schema/checks/infra.ts, flat.
 */
function infraScriptSchemas(infra: Readonly<Record<string, z.ZodObject>>): z.ZodObject[] {
  return Object.entries(infra)
    .filter(([kind]) => kind !== 'browser' && !(apiKinds as readonly string[]).includes(kind))
    .map(([kind, spec]) =>
      z
        .strictObject({ kind: z.literal(kind).describe(`A ${kind} check.`), ...checkCommonFields, ...spec.shape })
        .describe(spec.description ?? `A ${kind} check.`),
    );
}

/** The script schema over the browser, API and HTTP kinds and the given infrastructure kinds (tests pass their own). */
export function buildMonitorScriptSchema(infra: Readonly<Record<string, z.ZodObject>>): z.ZodType<MonitorScript> {
  // Typed by hand: the infrastructure kinds come from a registry, so zod can only infer them as plain records.
  return z
    .discriminatedUnion('kind', [scriptSchema, apiScriptSchema, httpScriptSchema, ...infraScriptSchemas(infra)])
    .describe(
      'A monitor script: a browser transaction (default), an API monitor (`kind: "api"`), a single HTTP(S) request (`kind: "http"`) or an infrastructure check.',
    ) as unknown as z.ZodType<MonitorScript>;
}

/**
 * Every kind of monitor script, told apart by `kind`: a browser transaction (the default when `kind` is absent),
 * a multi-step API monitor, a single HTTP(S) request, or an infrastructure check (whatever
 * engine/schema/checks/infra.ts lists).
 */
export const monitorScriptSchema = buildMonitorScriptSchema(infraCheckSchemas);

/** An infrastructure check as validated: the common fields and the kind's own (engine/schema/checks/infra.ts). */
export interface InfraScript {
  kind: string;
  name: string;
  description?: string | undefined;
  variables?: Record<string, string> | undefined;
  timeoutMs?: number | undefined;
  conditions?: Condition[] | undefined;
  [field: string]: unknown;
}

/** Alias kept next to the others: the browser transaction script. */
export type BrowserScript = Script;
export type MonitorScript = BrowserScript | ApiScript | HttpScript | InfraScript;
/** Any script that is not a browser transaction. */
export type CheckScript = ApiScript | HttpScript | InfraScript;

/** The kinds a script may have, in the order `checkpoint schema` lists them. */
export function scriptKinds(): string[] {
  return ['browser', ...apiKinds, ...Object.keys(infraCheckSchemas).filter((kind) => kind !== 'browser' && !(apiKinds as readonly string[]).includes(kind))];
}

/** The kind of a script: `browser` when absent. */
export function kindOf(script: Pick<MonitorScript, 'kind'>): string {
  return script.kind ?? 'browser';
}

export function isBrowserScript(script: MonitorScript): script is BrowserScript {
  return script.kind === undefined || script.kind === 'browser';
}

export function isApiScript(script: MonitorScript): script is ApiScript {
  return script.kind === 'api';
}

export function isHttpScript(script: MonitorScript): script is HttpScript {
  return script.kind === 'http';
}

/** The names of a script's steps, in order: one step named after the check for the single-request kinds. */
export function stepNamesOf(script: MonitorScript): string[] {
  if (isBrowserScript(script) || isApiScript(script)) return script.steps.map((step) => step.name);
  return [script.name];
}
