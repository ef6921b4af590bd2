import { z } from 'zod';
import { monitorDefinitionSchema } from '../engine/index.ts';

/** Names and ids appear in URLs, logs and alert texts: keep them to a safe alphabet. */
const slug = (what: string, max: number) =>
  z
    .string()
    .regex(new RegExp(`^[A-Za-z0-9][A-Za-z0-9._-]{0,${max - 1}}$`), `expected a ${what} of letters, digits, ".", "_" or "-" (at most ${max} characters, starting with a letter or digit)`);

export const checkpointNameSchema = slug('checkpoint name', 63);
export const monitorIdSchema = slug('monitor id', 100);

/** POST /api/v1/checkpoints */
export const createCheckpointSchema = z.strictObject({ name: checkpointNameSchema });

/** Fields GET adds: accepted and ignored on write, so what GET returns can be PUT back unchanged. */
const readOnly = z.unknown().optional().describe('Read-only: set by the control plane, ignored on write.');

// ---- alerting (docs/alerting.md) ----

export const severitySchema = z.enum(['critical', 'error', 'warning', 'info']).describe('As PagerDuty Events v2 names them; also shown in Slack, Teams and email.');
export type Severity = z.infer<typeof severitySchema>;

export const channelIdSchema = slug('channel id', 100);
export const windowIdSchema = slug('maintenance window id', 100);

/** Text that may be, or contain, `{{env.NAME}}`: resolved from the control plane's environment when sending. */
const secretText = (what: string) =>
  z
    .string()
    .min(1)
    .max(4000)
    .describe(`${what}. May be or contain {{env.NAME}}: read from the control plane's environment when an alert is sent, so files and the database hold only the reference.`);

const httpUrl = (what: string) => secretText(`${what} (http:// or https://)`);

const channelCommon = {
  id: channelIdSchema,
  name: z.string().min(1).max(200).optional().describe('Shown in the dashboard and logs; default: the id.'),
  createdAt: readOnly,
  updatedAt: readOnly,
};

export const webhookChannelSchema = z.strictObject({
  ...channelCommon,
  type: z.literal('webhook'),
  url: httpUrl('Where the JSON is POSTed'),
  secret: secretText('HMAC-SHA256 key: each POST carries X-Checkpoint-Timestamp and X-Checkpoint-Signature: sha256=hex(HMAC(key, timestamp + "." + body))').optional(),
  headers: z.record(z.string().regex(/^[A-Za-z0-9-]{1,100}$/, 'expected an HTTP header name'), secretText('Header value')).optional().describe('Extra request headers, e.g. an Authorization for the receiver.'),
});

export const slackChannelSchema = z.strictObject({ ...channelCommon, type: z.literal('slack'), url: httpUrl('Slack incoming-webhook URL (itself a secret: prefer {{env.NAME}})') });

export const teamsChannelSchema = z.strictObject({
  ...channelCommon,
  type: z.literal('teams'),
  url: httpUrl('Microsoft Teams incoming-webhook or Workflows ("Post to a channel when a webhook request is received") URL'),
});

export const emailChannelSchema = z.strictObject({
  ...channelCommon,
  type: z.literal('email'),
  smtp: z.strictObject({
    host: z.string().min(1).max(255),
    port: z.number().int().min(1).max(65_535).optional().describe('Default 587 (465 when secure).'),
    secure: z.boolean().optional().describe('TLS from the first byte (port 465). Default false: STARTTLS when the server offers it.'),
    requireTls: z.boolean().optional().describe('Refuse to send unless STARTTLS succeeds. Default false.'),
    user: secretText('SMTP user').optional(),
    password: secretText('SMTP password').optional(),
  }),
  from: z.string().min(3).max(320),
  to: z.array(z.string().min(3).max(320)).min(1).max(50),
});

export const pagerDutyEventsUrl = 'https://events.pagerduty.com/v2/enqueue';

export const pagerDutyChannelSchema = z.strictObject({
  ...channelCommon,
  type: z.literal('pagerduty'),
  routingKey: secretText('Integration (routing) key of an Events API v2 integration'),
  url: z.string().url().optional().describe(`Events API v2 endpoint. Default ${pagerDutyEventsUrl}.`),
});

/** A notification channel: PUT /api/v1/channels/:id, or `channels` in a `checkpoint apply` file. */
export const channelSchema = z
  .discriminatedUnion('type', [webhookChannelSchema, slackChannelSchema, teamsChannelSchema, emailChannelSchema, pagerDutyChannelSchema])
  .describe('Where alerts go. Secrets are best given as {{env.NAME}} references.');
export type Channel = z.infer<typeof channelSchema>;

/** Per-monitor alerting: `alerting` on a monitor. */
export const monitorAlertingSchema = z
  .strictObject({
    afterFailures: z
      .number()
      .int()
      .min(1)
      .max(100)
      .optional()
      .describe('Alert after this many failed checks in a row. Default 2: a first failure is re-run at once on another instance and its failure alerts.'),
    reminderMinutes: z.number().int().min(1).max(10_080).optional().describe('While still failing, alert again every this many minutes. Default: no reminders.'),
    severity: severitySchema.optional().describe('Severity of this monitor`s failure alerts. Default critical.'),
    channels: z.array(channelIdSchema).max(50).optional().describe('Channel ids this monitor alerts; default: every channel.'),
  })
  .describe('When and where this monitor alerts.');
export type MonitorAlerting = z.infer<typeof monitorAlertingSchema>;

export const weekdays = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
const clockTime = z.string().regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$/, 'expected a time of day as HH:MM (00:00 to 23:59)');

function validTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const isoInstant = z.iso.datetime({ offset: true, message: 'expected an ISO 8601 date and time, e.g. 2026-12-24T18:00:00Z' });

/** PUT /api/v1/maintenance/:id, or `maintenanceWindows` in a `checkpoint apply` file. */
export const maintenanceWindowSchema = z
  .strictObject({
    id: windowIdSchema,
    name: z.string().min(1).max(200).optional(),
    createdAt: readOnly,
    updatedAt: readOnly,
    active: readOnly,
    monitors: z.array(monitorIdSchema).min(1).max(1000).optional().describe('Monitor ids it silences; absent: every monitor, and checkpoint down/up alerts.'),
    startsAt: isoInstant.optional().describe('One-off window: start (with endsAt).'),
    endsAt: isoInstant.optional().describe('One-off window: end (exclusive).'),
    weekly: z
      .strictObject({
        days: z.array(z.enum(weekdays)).min(1).max(7),
        from: clockTime.describe('Start, HH:MM.'),
        to: clockTime.describe('End, HH:MM (exclusive); earlier than `from` means the next day.'),
        timeZone: z.string().refine(validTimeZone, 'expected an IANA time zone such as UTC or Europe/Paris').optional().describe('Default UTC.'),
      })
      .optional()
      .describe('Recurring window, e.g. every Sunday 02:00–04:00.'),
  })
  .superRefine((window, context) => {
    const once = window.startsAt !== undefined || window.endsAt !== undefined;
    if (once && window.weekly !== undefined) context.addIssue({ code: 'custom', message: 'give either startsAt/endsAt or weekly, not both', path: ['weekly'] });
    else if (!once && window.weekly === undefined) context.addIssue({ code: 'custom', message: 'expected startsAt and endsAt (one-off) or weekly (recurring)', path: ['startsAt'] });
    else if (once && (window.startsAt === undefined || window.endsAt === undefined)) {
      context.addIssue({ code: 'custom', message: 'a one-off window needs both startsAt and endsAt', path: [window.startsAt === undefined ? 'startsAt' : 'endsAt'] });
    } else if (once && Date.parse(window.endsAt ?? '') <= Date.parse(window.startsAt ?? '')) {
      context.addIssue({ code: 'custom', message: 'expected endsAt after startsAt', path: ['endsAt'] });
    }
    if (window.weekly !== undefined && window.weekly.from === window.weekly.to) context.addIssue({ code: 'custom', message: 'expected `to` different from `from`', path: ['weekly', 'to'] });
  })
  .describe('A time during which runs are kept but raise no alert.');
export type MaintenanceWindow = z.infer<typeof maintenanceWindowSchema>;

/**
 * POST /api/v1/monitors and PUT /api/v1/monitors/:id: the protocol's monitor definition (engine/schema), strict
 * (an unknown field is an error, not silently dropped), with `id` optional (generated when absent) and
 * `enabled` defaulting to true.
 */
export const monitorInputSchema = z
  .strictObject({
    ...monitorDefinitionSchema.shape,
    id: monitorIdSchema.optional(),
    checkpoint: checkpointNameSchema.optional().describe('The checkpoint that runs it. Give this or `checkpoints`.'),
    checkpoints: z
      .array(checkpointNameSchema)
      .min(1, 'expected at least one checkpoint')
      .max(20, 'expected at most 20 checkpoints')
      .optional()
      .describe('Several checkpoints (internal and external, several sites): see `placement`. Give this or `checkpoint`; GET shows both, `checkpoint` being the first.'),
    enabled: z.boolean().default(true),
    alerting: monitorAlertingSchema.optional(),
    // What GET adds: accepted and ignored, so a monitor fetched with GET can be PUT back unchanged.
    health: readOnly,
    checkpointHealth: readOnly,
    status: readOnly,
    checkpointStatus: readOnly,
    createdAt: readOnly,
    updatedAt: readOnly,
    lastRun: readOnly,
  })
  .superRefine((monitor, context) => {
    const list = monitor.checkpoints;
    if (list === undefined) {
      if (monitor.checkpoint === undefined) context.addIssue({ code: 'custom', message: 'expected `checkpoint` (one checkpoint) or `checkpoints` (several)', path: ['checkpoint'] });
      return;
    }
    const seen = new Set<string>();
    for (const [index, name] of list.entries()) {
      if (seen.has(name)) context.addIssue({ code: 'custom', message: `"${name}" is listed twice`, path: ['checkpoints', index] });
      seen.add(name);
    }
    if (monitor.checkpoint !== undefined && monitor.checkpoint !== list[0]) {
      context.addIssue({ code: 'custom', message: `expected the first of \`checkpoints\` ("${list[0] ?? ''}") or no \`checkpoint\``, path: ['checkpoint'] });
    }
  });
export type MonitorInput = z.infer<typeof monitorInputSchema>;

/** `?limit=` on list endpoints. */
export const limitSchema = z.coerce.number().int('expected a whole number').min(1).max(1000);

/** POST /api/v1/checkpoints/:name/drain */
export const drainSchema = z.strictObject({
  instance: z.string().min(1).max(200).optional().describe('Only this instance; default: every connected instance of the checkpoint.'),
  reason: z.string().max(500).optional(),
});

// ---- query strings: every parameter is declared; an unknown one is a 400 naming it ----

const runStates = ['dispatched', 'running', 'passed', 'warning', 'failed', 'error', 'lost'] as const;

/** `a,b` (or the parameter repeated) as a list of allowed values. */
const listOf = <T extends readonly [string, ...string[]]>(values: T) =>
  z
    .string()
    .transform((text) => text.split(',').map((part) => part.trim()).filter((part) => part !== ''))
    .pipe(z.array(z.enum(values)).min(1));

const since = z.iso.datetime({ offset: true, message: 'expected an ISO 8601 date and time, e.g. 2026-12-05T00:00:00Z' });

/** GET /api/v1/runs and GET /api/v1/monitors/:id/runs */
export const runsQuerySchema = z.strictObject({
  status: listOf(runStates).optional().describe(`Comma-separated: ${runStates.join(', ')}.`),
  monitor: monitorIdSchema.optional(),
  checkpoint: checkpointNameSchema.optional(),
  instance: z.string().min(1).max(200).optional(),
  reason: listOf(['schedule', 'retry', 'manual', 'redispatch', 'unsolicited']).optional(),
  since: since.optional().describe('Runs dispatched at or after this time.'),
  until: since.optional().describe('Runs dispatched before this time.'),
  limit: limitSchema.optional().describe('At most this many, newest first. Default 50.'),
});
export type RunsQuery = z.infer<typeof runsQuerySchema>;

/** GET /api/v1/monitors */
export const monitorsQuerySchema = z.strictObject({
  checkpoint: checkpointNameSchema.optional().describe('Monitors that run on this checkpoint (alone or among others).'),
  enabled: z.enum(['true', 'false']).optional(),
  health: listOf(['ok', 'warning', 'failing']).optional(),
  status: listOf(['ok', 'warning', 'failing', 'checkpoint-down', 'disabled']).optional().describe('As `status` in a monitor: `checkpoint-down` where its checkpoint is down.'),
});

/** POST /api/v1/monitors/:id/run */
export const runNowQuerySchema = z.strictObject({
  checkpoint: checkpointNameSchema.optional().describe('Run on this one of its checkpoints; default: the first of them with a free instance.'),
});

const alertKinds = ['monitor-failed', 'monitor-warning', 'monitor-reminder', 'monitor-recovered', 'monitor-resolved', 'checkpoint-down', 'checkpoint-up'] as const;

/** GET /api/v1/alerts */
export const alertsQuerySchema = z.strictObject({
  monitor: monitorIdSchema.optional(),
  checkpoint: checkpointNameSchema.optional(),
  kind: listOf(alertKinds).optional(),
  since: since.optional(),
  limit: limitSchema.optional().describe('Default 100.'),
});

/** `?dryRun=true` on PUT: validate and compare, store nothing. */
export const putQuerySchema = z.strictObject({ dryRun: z.enum(['true', 'false']).optional() });
export const emptyQuerySchema = z.strictObject({});

/** POST /api/v1/checkpoints/:name/token (rotation) */
export const rotateTokenSchema = z.strictObject({
  graceSeconds: z
    .number()
    .int('expected whole seconds')
    .min(0)
    .max(30 * 86_400)
    .default(3600)
    .describe('How long the previous token keeps working, so instances can be given the new one. 0 refuses it at once. Default 3600.'),
});
