import { pagerDutyEventsUrl, type Channel } from '../api-schemas.ts';
import type { AlertMessage } from './alert-message.ts';
import { sendEmail } from './email.ts';
import type { HttpDelivery } from './http-delivery.ts';
import { pagerDutyDelivery } from './pagerduty.ts';
import { resolveEnv, type Environment } from './secrets.ts';
import { slackDelivery } from './slack.ts';
import { teamsDelivery } from './teams.ts';
import { webhookDelivery } from './webhook.ts';

/** What sending one alert to one channel takes: a JSON POST, or an email. */
export type ChannelSend = { kind: 'http'; request: HttpDelivery } | { kind: 'email'; send: (options: { timeoutMs: number }) => Promise<void> };

/** The channel with every `{{env.NAME}}` replaced (throws naming the first unset variable). */
function resolved<T>(value: T, env: Environment): T {
  if (typeof value === 'string') return resolveEnv(value, env) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => resolved(item, env)) as T;
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, resolved(item, env)])) as T;
  return value;
}

/**
 * How `channel` carries `message`, or undefined when it does not (PagerDuty escalates on its own, so
 * reminders are not re-sent to it). Throws when a secret reference cannot be resolved.
 */
export function prepareSend(channel: Channel, message: AlertMessage, env: Environment, now: Date): ChannelSend | undefined {
  const settings = resolved(channel, env);
  switch (settings.type) {
    case 'webhook':
      return {
        kind: 'http',
        request: webhookDelivery(message, { url: settings.url, ...(settings.secret === undefined ? {} : { secret: settings.secret }), ...(settings.headers === undefined ? {} : { headers: settings.headers }) }, now),
      };
    case 'slack':
      return { kind: 'http', request: slackDelivery(message, settings) };
    case 'teams':
      return { kind: 'http', request: teamsDelivery(message, settings) };
    case 'pagerduty':
      if (message.kind === 'monitor-reminder') return undefined;
      return { kind: 'http', request: pagerDutyDelivery(message, { url: settings.url ?? pagerDutyEventsUrl, routingKey: settings.routingKey }) };
    case 'email':
      return { kind: 'email', send: (options) => sendEmail(message, settings, options) };
  }
}
