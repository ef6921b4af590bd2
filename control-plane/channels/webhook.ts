import { createHmac } from 'node:crypto';
import type { AlertMessage } from './alert-message.ts';
import type { HttpDelivery } from './http-delivery.ts';

export const signatureHeader = 'X-Checkpoint-Signature';
export const timestampHeader = 'X-Checkpoint-Timestamp';

/** `sha256=` + hex HMAC-SHA256 of `<timestamp>.<body>`: the timestamp is signed so a captured request cannot be replayed later. */
export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** The generic webhook: the alert as JSON (docs/alerting.md), signed when the channel has a secret. */
export function webhookDelivery(message: AlertMessage, settings: { url: string; secret?: string; headers?: Record<string, string> }, now: Date): HttpDelivery {
  const body = JSON.stringify({ version: 2, ...message });
  const timestamp = String(Math.floor(now.getTime() / 1000));
  const headers: Record<string, string> = { ...settings.headers, 'X-Checkpoint-Event': message.kind, 'X-Checkpoint-Delivery': String(message.id), [timestampHeader]: timestamp };
  if (settings.secret !== undefined) headers[signatureHeader] = webhookSignature(settings.secret, timestamp, body);
  return { url: settings.url, body, headers };
}
