import { alertFacts, type AlertMessage } from './alert-message.ts';
import type { HttpDelivery } from './http-delivery.ts';

const colors: Record<AlertMessage['severity'], string> = { critical: 'Attention', error: 'Attention', warning: 'Warning', info: 'Accent' };

/**
 * Microsoft Teams: a message with one Adaptive Card attachment, the shape both the Workflows webhook ("When a
 * Teams webhook request is received") and the older incoming webhooks accept.
 */
export function teamsDelivery(message: AlertMessage, settings: { url: string }): HttpDelivery {
  const actions = [
    message.run?.url === undefined ? undefined : { type: 'Action.OpenUrl', title: 'Open the run', url: message.run.url },
    message.monitor?.url === undefined ? undefined : { type: 'Action.OpenUrl', title: 'Open the monitor', url: message.monitor.url },
  ].filter((action) => action !== undefined);
  const card = {
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    type: 'AdaptiveCard',
    version: '1.4',
    body: [
      { type: 'TextBlock', size: 'Large', weight: 'Bolder', wrap: true, color: message.status === 'resolved' ? 'Good' : colors[message.severity], text: message.title },
      { type: 'TextBlock', wrap: true, text: message.message },
      { type: 'FactSet', facts: alertFacts(message).map((fact) => ({ title: fact.label, value: fact.value })) },
      { type: 'TextBlock', isSubtle: true, size: 'Small', wrap: true, text: `alert #${message.id} · ${message.kind} · ${message.createdAt}` },
    ],
    ...(actions.length === 0 ? {} : { actions }),
  };
  const body = { type: 'message', attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content: card }] };
  return { url: settings.url, body: JSON.stringify(body), headers: {} };
}
