import { alertFacts, type AlertMessage } from './alert-message.ts';
import type { HttpDelivery } from './http-delivery.ts';

/** Slack mrkdwn treats &, < and > as markup: escape them in anything that came from a script or a site. */
function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const marks: Record<AlertMessage['severity'], string> = { critical: ':red_circle:', error: ':large_orange_circle:', warning: ':large_yellow_circle:', info: ':large_blue_circle:' };

/** Slack incoming webhook: `text` for notifications and old clients, Block Kit `blocks` for the message itself. */
export function slackDelivery(message: AlertMessage, settings: { url: string }): HttpDelivery {
  const mark = message.status === 'resolved' ? ':white_check_mark:' : marks[message.severity];
  const facts = alertFacts(message).filter((fact) => fact.label !== 'Error');
  const blocks: unknown[] = [
    { type: 'header', text: { type: 'plain_text', text: message.title.slice(0, 150), emoji: true } },
    { type: 'section', text: { type: 'mrkdwn', text: `${mark} ${escapeMrkdwn(message.message).slice(0, 2900)}` } },
    {
      type: 'section',
      fields: facts.slice(0, 10).map((fact) => ({
        type: 'mrkdwn',
        text: `*${fact.label}*\n${fact.url === undefined ? escapeMrkdwn(fact.value) : `<${fact.url}|${escapeMrkdwn(fact.value)}>`}`.slice(0, 2000),
      })),
    },
  ];
  if (message.error !== undefined) {
    const code = `*${escapeMrkdwn(message.error.code)}* (blame: ${escapeMrkdwn(message.error.blame)})`;
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `${code}\n\`\`\`${escapeMrkdwn(message.error.message).replace(/`/g, "'").slice(0, 2800)}\`\`\`` } });
  }
  const links = [
    message.run?.url === undefined ? undefined : { type: 'button', text: { type: 'plain_text', text: 'Open the run' }, url: message.run.url, ...(message.status === 'firing' ? { style: 'danger' } : {}) },
    message.monitor?.url === undefined ? undefined : { type: 'button', text: { type: 'plain_text', text: 'Open the monitor' }, url: message.monitor.url },
  ].filter((link) => link !== undefined);
  if (links.length > 0) blocks.push({ type: 'actions', elements: links });
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `alert #${message.id} · ${message.kind} · ${message.createdAt}` }] });
  const text = `[${message.status === 'resolved' ? 'RESOLVED' : message.severity.toUpperCase()}] ${message.title}`;
  return { url: settings.url, body: JSON.stringify({ text: escapeMrkdwn(text), blocks }), headers: {} };
}
