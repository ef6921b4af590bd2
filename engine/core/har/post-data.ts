/** Request bodies for the HAR: omitted, or (on request) textual ones only, with secrets and sensitive fields masked. */
import { redactedMarker, type Redactor } from '../redactor.ts';
import type { NetworkExchange } from './exchanges.ts';
import { headerValue } from './headers.ts';
import { isSensitiveFieldName } from './redact-url.ts';
import type { HarPostData } from './types.ts';

export const utf8Length = (text: string): number => new TextEncoder().encode(text).byteLength;

function decodeBase64Utf8(parts: readonly { bytes?: string }[]): string | undefined {
  try {
    const chunks = parts.map((part) => Uint8Array.from(atob(part.bytes ?? ''), (c) => c.charCodeAt(0)));
    const bytes = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0));
    let offset = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, offset);
      offset += chunk.byteLength;
    }
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

const isUrlEncodedForm = (mimeType: string): boolean => /^application\/x-www-form-urlencoded\b/i.test(mimeType);
const isJson = (mimeType: string): boolean => /^application\/([\w.+-]+\+)?json\b/i.test(mimeType);
const isTextual = (mimeType: string): boolean => isUrlEncodedForm(mimeType) || isJson(mimeType) || /^(text\/|application\/([\w.+-]+\+)?xml\b|application\/graphql\b)/i.test(mimeType);

function redactFormText(text: string, redactor: Redactor): string {
  const masked = redactor.redact(text);
  let changed = false;
  const params = [...new URLSearchParams(masked)].map(([name, value]): [string, string] => {
    const maskedValue = isSensitiveFieldName(name) && value !== '' ? redactedMarker : redactor.redact(value);
    const maskedName = redactor.redact(name);
    if (maskedValue !== value || maskedName !== name) changed = true;
    return [maskedName, maskedValue];
  });
  return changed ? new URLSearchParams(params).toString() : masked;
}

function redactJsonValue(value: unknown, redactor: Redactor, sensitive: boolean): unknown {
  if (typeof value === 'string') return sensitive && value !== '' ? redactedMarker : redactor.redact(value);
  if (typeof value === 'number' || typeof value === 'boolean') return sensitive ? redactedMarker : value;
  if (Array.isArray(value)) return value.map((item: unknown) => redactJsonValue(item, redactor, sensitive));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [redactor.redact(key), redactJsonValue(item, redactor, sensitive || isSensitiveFieldName(key))]));
  }
  return value;
}

function redactJsonText(text: string, redactor: Redactor): string {
  const masked = redactor.redact(text);
  let parsed: unknown;
  try {
    parsed = JSON.parse(masked);
  } catch {
    return masked;
  }
  const redacted = JSON.stringify(redactJsonValue(parsed, redactor, false));
  return redacted === JSON.stringify(parsed) ? masked : redacted;
}

export type RequestBodyMode = 'omit' | 'redacted';

export function postDataOf(exchange: NetworkExchange, mode: RequestBodyMode, redactor: Redactor): { postData?: HarPostData; bodySize: number } {
  const request = exchange.request;
  const headers = exchange.sentHeaders ?? request.headers;
  const raw = request.postData ?? (request.postDataEntries === undefined ? undefined : decodeBase64Utf8(request.postDataEntries));
  if (request.hasPostData !== true && raw === undefined) return { bodySize: 0 };
  const contentLength = Number(headerValue(headers, 'content-length') ?? headerValue(request.headers, 'content-length'));
  const bodySize = Number.isInteger(contentLength) && contentLength >= 0 ? contentLength : raw === undefined ? -1 : utf8Length(raw);
  const mimeType = headerValue(headers, 'content-type') ?? headerValue(request.headers, 'content-type') ?? '';
  if (mode === 'omit') return { bodySize, postData: { mimeType, text: '', comment: 'Request body not recorded.' } };
  if (raw === undefined || !isTextual(mimeType)) {
    return { bodySize, postData: { mimeType, text: '', comment: 'Request body not recorded (binary, multipart or larger than 64 KiB).' } };
  }
  if (isUrlEncodedForm(mimeType)) {
    const text = redactFormText(raw, redactor);
    return { bodySize, postData: { mimeType, text, params: [...new URLSearchParams(text)].map(([name, value]) => ({ name, value })) } };
  }
  return { bodySize, postData: { mimeType, text: isJson(mimeType) ? redactJsonText(raw, redactor) : redactor.redact(raw) } };
}
