import { z } from 'zod';
import { conditionsSchema } from '../conditions.ts';

/**
 * The API monitor format: a sequence of HTTP requests with assertions and extracted variables (`kind: "api"`),
 * and its degenerate case, one request (`kind: "http"`). Every string may use {{variables}} and {{secret.NAME}};
 * values extracted by a step are variables of the steps after it.
 */

const timeoutMs = z
  .number()
  .int('expected a whole number of milliseconds')
  .positive('expected a positive number of milliseconds')
  .max(3_600_000, 'expected at most 3600000 ms (one hour)');

export const defaultCheckTimeouts = {
  /** One request, redirects included. */
  requestTimeoutMs: 30_000,
  /** A whole API monitor or a single check. */
  checkTimeoutMs: 120_000,
  maxRedirects: 10,
} as const;

const variableName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected a name made of letters, digits and _ (not starting with a digit)')
  .refine((name) => name !== '__proto__', 'expected a name other than __proto__');

export const checkVariablesSchema = z
  .record(variableName, z.string().max(100_000))
  .optional()
  .describe('Default values of {{variables}}; `--var name=value` overrides them.');

const headerName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,200}$/, 'expected an HTTP header name (letters, digits and !#$%&\'*+.^_`|~-)');

export const httpMethods = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

export const requestBodySchema = z
  .discriminatedUnion('type', [
    z.strictObject({
      type: z.literal('text'),
      value: z.string().max(1_000_000).describe('The body as sent.'),
      contentType: z.string().min(1).max(200).optional().describe('Content-Type header. Default: text/plain; charset=utf-8.'),
    }),
    z.strictObject({
      type: z.literal('json'),
      value: z.unknown().describe('Any JSON value, sent as application/json. Strings inside it may use {{variables}}.'),
    }),
    z.strictObject({
      type: z.literal('form'),
      value: z.record(z.string().min(1).max(200), z.string().max(100_000)).describe('Fields sent as application/x-www-form-urlencoded.'),
    }),
  ])
  .describe('Request body: `{ "type": "text" | "json" | "form", "value": ... }`.');
export type RequestBody = z.infer<typeof requestBodySchema>;

export const requestSchema = z
  .strictObject({
    method: z.enum(httpMethods).optional().describe('HTTP method. Default: GET.'),
    url: z
      .string()
      .min(1, 'expected a URL')
      .max(8000)
      .refine((url) => /^(https?:\/\/|\{\{)/i.test(url), 'expected an http:// or https:// URL (or one starting with a {{variable}})')
      .describe('Absolute http(s) URL.'),
    headers: z.record(headerName, z.string().max(8000)).optional().describe('Request headers.'),
    query: z.record(z.string().min(1).max(200), z.string().max(8000)).optional().describe('Query parameters added to the URL.'),
    body: requestBodySchema.optional(),
  })
  .describe('One HTTP request.');
export type RequestSpec = z.infer<typeof requestSchema>;

export const authSchema = z
  .discriminatedUnion('type', [
    z.strictObject({
      type: z.literal('basic'),
      username: z.string().max(1000).describe('User name. May use {{variables}}.'),
      password: z.string().max(1000).describe('Password. Use {{secret.NAME}}.'),
    }),
    z.strictObject({
      type: z.literal('bearer'),
      token: z.string().min(1).max(10_000).describe('The token sent as `Authorization: Bearer ...`. Use {{secret.NAME}} or an extracted {{variable}}.'),
    }),
    z.strictObject({
      type: z.literal('oauth2-client-credentials'),
      tokenUrl: z.string().min(1).max(8000).describe('The token endpoint (RFC 6749 section 4.4).'),
      clientId: z.string().min(1).max(1000).describe('Client id.'),
      clientSecret: z.string().min(1).max(1000).describe('Client secret. Use {{secret.NAME}}.'),
      scope: z.string().max(2000).optional().describe('Requested scope.'),
      audience: z.string().max(2000).optional().describe('Requested audience (some providers need it).'),
    }),
  ])
  .describe('Authentication: `basic`, `bearer`, or `oauth2-client-credentials` (the token is fetched first and sent as a bearer token).');
export type AuthSpec = z.infer<typeof authSchema>;

export const assertionOperators = [
  'equals',
  'notEquals',
  'contains',
  'notContains',
  'matches',
  'lessThan',
  'lessThanOrEqual',
  'greaterThan',
  'greaterThanOrEqual',
  'exists',
  'notExists',
] as const;
export type AssertionOperator = (typeof assertionOperators)[number];

const operator = z
  .enum(assertionOperators)
  .describe('How the value is compared: `equals`, `notEquals`, `contains`, `notContains`, `matches` (a regular expression), `lessThan`, `lessThanOrEqual`, `greaterThan`, `greaterThanOrEqual` (numbers), `exists`, `notExists`.');
const expected = z.union([z.string().max(10_000), z.number(), z.boolean()]).optional().describe('The value compared with (not for `exists` / `notExists`).');
const numericOperators = z
  .enum(['equals', 'notEquals', 'lessThan', 'lessThanOrEqual', 'greaterThan', 'greaterThanOrEqual'])
  .describe('How the number is compared.');

/** A comparison needs a value except `exists`/`notExists`; `matches` needs a valid regular expression. */
function comparable<T extends { operator: AssertionOperator; value?: string | number | boolean | undefined }>(assertion: T, context: z.core.$RefinementCtx<T>): void {
  const needsValue = assertion.operator !== 'exists' && assertion.operator !== 'notExists';
  if (needsValue && assertion.value === undefined) context.addIssue({ code: 'custom', path: ['value'], message: `expected a value to compare with (operator ${assertion.operator})` });
  if (!needsValue && assertion.value !== undefined) context.addIssue({ code: 'custom', path: ['value'], message: `expected no value with operator ${assertion.operator}` });
  if (assertion.operator === 'matches') {
    try {
      new RegExp(String(assertion.value ?? ''));
    } catch (error) {
      context.addIssue({ code: 'custom', path: ['value'], message: `expected a valid regular expression: ${error instanceof Error ? error.message : String(error)}` });
    }
  }
  if (['lessThan', 'lessThanOrEqual', 'greaterThan', 'greaterThanOrEqual'].includes(assertion.operator) && typeof assertion.value !== 'number') {
    context.addIssue({ code: 'custom', path: ['value'], message: `expected a number with operator ${assertion.operator}` });
  }
}

const validRegex = z
  .string()
  .min(1)
  .max(2000)
  .refine((pattern) => {
    try {
      new RegExp(pattern);
      return true;
    } catch {
      return false;
    }
  }, 'expected a valid regular expression');

export const assertionSchema = z
  .discriminatedUnion('type', [
    z
      .strictObject({ type: z.literal('status'), operator: numericOperators.describe('How the status is compared.'), value: z.number().int().min(100).max(599).describe('An HTTP status.') })
      .describe('The response status, e.g. `{ "type": "status", "operator": "equals", "value": 200 }`.'),
    z
      .strictObject({ type: z.literal('header'), name: headerName.describe('Header name (any case).'), operator, value: expected })
      .superRefine(comparable)
      .describe('A response header.'),
    z
      .strictObject({ type: z.literal('jsonPath'), path: z.string().min(1).max(2000).describe('A JSONPath into the JSON body, e.g. `$.items[0].id` or `$.items.length`.'), operator, value: expected })
      .superRefine(comparable)
      .describe('A value in the JSON body: the one match of the JSONPath, or the list of every match when there are several (`contains` then looks for an equal item).'),
    z
      .strictObject({ type: z.literal('body'), operator, value: expected })
      .superRefine(comparable)
      .describe('The body as text.'),
    z
      .strictObject({
        type: z.literal('regex'),
        pattern: validRegex.describe('Regular expression run on the body; its first group (or the whole match) is compared.'),
        operator,
        value: expected,
      })
      .superRefine(comparable)
      .describe('A part of the body found by a regular expression.'),
    z
      .strictObject({ type: z.literal('responseTimeMs'), operator: numericOperators, value: z.number().min(0).describe('Milliseconds.') })
      .describe('Time from the start of the request (DNS included) to the end of the body.'),
    z
      .strictObject({ type: z.literal('sizeBytes'), operator: numericOperators, value: z.number().int().min(0).describe('Bytes.') })
      .describe('Size of the (decoded) body in bytes.'),
  ])
  .describe('A check on the response; a failed one fails the step with ASSERTION_FAILED.');
export type AssertionSpec = z.infer<typeof assertionSchema>;

const secretFlag = z
  .boolean()
  .optional()
  .describe('Mask the value in every output as a secret. Values extracted from a response to a request that used a secret (a login) are masked anyway.');

export const extractSchema = z
  .discriminatedUnion('from', [
    z.strictObject({ name: variableName.describe('Variable name, used as {{name}} in later steps.'), from: z.literal('json').describe('From the JSON body.'), path: z.string().min(1).max(2000).describe('JSONPath of the value (several matches are taken as a JSON list).'), secret: secretFlag }),
    z.strictObject({ name: variableName.describe('Variable name.'), from: z.literal('header').describe('From a response header.'), header: headerName.describe('Header name (any case).'), secret: secretFlag }),
    z.strictObject({
      name: variableName.describe('Variable name.'),
      secret: secretFlag,
      from: z.literal('regex').describe('From the body, by a regular expression.'),
      pattern: validRegex.describe('Regular expression run on the body; the value is its first group (or the whole match).'),
    }),
  ])
  .describe('A value taken from the response into a variable. When nothing matches, the step fails with EXTRACTION_FAILED.');
export type ExtractSpec = z.infer<typeof extractSchema>;

export const clientCertificateSchema = z
  .strictObject({
    cert: z.string().min(1).max(100_000).describe('PEM certificate (chain). May use {{secret.NAME}}.'),
    key: z.string().min(1).max(100_000).describe('PEM private key. Use {{secret.NAME}}.'),
    passphrase: z.string().max(1000).optional().describe('Passphrase of the key. Use {{secret.NAME}}.'),
  })
  .describe('Client certificate for mutual TLS.');

const connectionSettings = {
  followRedirects: z.boolean().optional().describe('Follow 3xx redirects (each hop is a new request). Default: true.'),
  maxRedirects: z.number().int().min(0).max(50).optional().describe(`Most redirects followed. Default: ${defaultCheckTimeouts.maxRedirects}.`),
  requestTimeoutMs: timeoutMs.optional().describe(`Budget of one request, redirects included. Default: ${defaultCheckTimeouts.requestTimeoutMs}.`),
  ignoreHttpsErrors: z.boolean().optional().describe('Accept invalid or self-signed certificates (the TLS details are still reported).'),
  clientCertificate: clientCertificateSchema.optional(),
  maxBodyBytes: z.number().int().min(0).max(100_000_000).optional().describe('Largest body read; more is an error. Default: 10000000.'),
  certificateWarningDays: z
    .number()
    .int()
    .min(0)
    .max(3650)
    .optional()
    .describe('Make the step `warning` when the server certificate expires within this many days (https only). Default: no warning.'),
};

export const apiSettingsSchema = z
  .strictObject({
    ...connectionSettings,
    headers: z.record(headerName, z.string().max(8000)).optional().describe('Headers sent with every request (a step`s own headers win).'),
    auth: authSchema.optional().describe('Authentication of every step without its own `auth`.'),
  })
  .describe('Settings of every request of the monitor.');
export type ApiSettings = z.infer<typeof apiSettingsSchema>;

export const apiStepSchema = z
  .strictObject({
    name: z.string().min(1, 'expected a non-empty step name').max(200).describe('Business name of the step, e.g. "Log in".'),
    request: requestSchema,
    auth: authSchema.optional(),
    assertions: z
      .array(assertionSchema)
      .max(100)
      .optional()
      .describe('Checks on the response. Without a `status` assertion, a status of 400 or more fails the step with HTTP_ERROR.'),
    extract: z.array(extractSchema).max(100).optional().describe('Values taken into variables for the later steps.'),
    timeoutMs: timeoutMs.optional().describe('Budget of this request (overrides settings.requestTimeoutMs).'),
    continueOnFailure: z.boolean().optional().describe('When true, a failure of this step is reported but the next steps still run.'),
    conditions: conditionsSchema.optional(),
  })
  .describe('One request of an API monitor: the unit that timings are reported for.');
export type ApiStep = z.infer<typeof apiStepSchema>;

const common = {
  $schema: z.string().optional().describe('Path or URL of transaction.schema.json, for editor autocompletion.'),
  name: z.string().min(1, 'expected a non-empty name').max(200).describe('Name of the monitor.'),
  description: z.string().max(2000).optional().describe('What the monitor checks.'),
  variables: checkVariablesSchema,
  timeoutMs: timeoutMs.optional().describe(`Budget of the whole check. Default: ${defaultCheckTimeouts.checkTimeoutMs}.`),
};

/** Fields every non-browser kind has (the script schema adds them to each infrastructure kind). */
export const checkCommonFields = {
  ...common,
  conditions: conditionsSchema.optional().describe('Error conditions of the check (`durationMs`, `dnsMs`, `connectMs`, `tlsMs`, `ttfbMs`...).'),
};

export const apiScriptSchema = z
  .strictObject({
    kind: z.literal('api').describe('A multi-step API monitor.'),
    ...common,
    settings: apiSettingsSchema.optional(),
    conditions: conditionsSchema.optional().describe('Error conditions of the whole monitor, judged after its last step.'),
    steps: z.array(apiStepSchema).min(1, 'expected at least one step').max(200).describe('The requests, in order.'),
  })
  .describe('A multi-step API monitor: HTTP requests in order, with assertions and variables passed along.');
export type ApiScript = z.infer<typeof apiScriptSchema>;

export const httpScriptSchema = z
  .strictObject({
    kind: z.literal('http').describe('A single HTTP(S) request.'),
    ...checkCommonFields,
    ...requestSchema.shape,
    ...connectionSettings,
    auth: authSchema.optional(),
    assertions: z
      .array(assertionSchema)
      .max(100)
      .optional()
      .describe('Checks on the response. Without a `status` assertion, a status of 400 or more fails with HTTP_ERROR.'),
  })
  .describe('One HTTP(S) request with its timing phases, TLS details and assertions.');
export type HttpScript = z.infer<typeof httpScriptSchema>;
