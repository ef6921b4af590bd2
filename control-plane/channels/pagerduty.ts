import type { AlertMessage } from './alert-message.ts';
import type { HttpDelivery } from './http-delivery.ts';

/**
 * PagerDuty Events API v2: `trigger` while firing, `resolve` when it is over, one dedup_key per monitor and
 * checkpoint (or per checkpoint) so a failure, its re-triggers and its recovery are one incident.
 */
export function pagerDutyDelivery(message: AlertMessage, settings: { url: string; routingKey: string }): HttpDelivery {
  const base = { routing_key: settings.routingKey, dedup_key: message.incidentKey };
  const event =
    message.status === 'resolved'
      ? { ...base, event_action: 'resolve' }
      : {
          ...base,
          event_action: 'trigger',
          payload: {
            summary: `${message.title}: ${message.message}`.slice(0, 1024),
            source: message.run?.instance ?? message.checkpoint ?? 'checkpoint control plane',
            severity: message.severity,
            timestamp: message.createdAt,
            ...(message.monitor === undefined ? {} : { component: message.monitor.name }),
            ...(message.checkpoint === undefined ? {} : { group: message.checkpoint }),
            class: message.kind,
            custom_details: {
              alert: message.id,
              ...(message.monitor === undefined ? {} : { monitor: message.monitor.id }),
              ...(message.checkpoint === undefined ? {} : { checkpoint: message.checkpoint }),
              ...(message.run === undefined ? {} : { run: message.run.id }),
              ...(message.step === undefined ? {} : { step: `${message.step.index + 1}. ${message.step.name}` }),
              ...(message.error === undefined ? {} : { error: `${message.error.code} (${message.error.blame}): ${message.error.message}` }),
            },
          },
          client: 'Private checkpoint',
          ...(message.baseUrl === undefined ? {} : { client_url: message.baseUrl }),
          links: [
            ...(message.run?.url === undefined ? [] : [{ href: message.run.url, text: 'The run' }]),
            ...(message.monitor?.url === undefined ? [] : [{ href: message.monitor.url, text: 'The monitor' }]),
          ],
        };
  return { url: settings.url, body: JSON.stringify(event), headers: {} };
}
