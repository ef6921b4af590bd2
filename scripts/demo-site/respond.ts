/**
 * Small HTTP helpers for the demo site: uniform response headers, redirects and query parsing.
 */
import type { ServerResponse } from 'node:http';

/** Longest delay `/slow` and `/api/slow-data` will honour, so a typo cannot park a connection for hours. */
export const MAX_DELAY_MS = 30_000;

/** Extra response headers, e.g. `Set-Cookie` or `WWW-Authenticate`. */
export type ExtraHeaders = Readonly<Record<string, string | readonly string[]>>;

// Every response is no-store: monitoring must measure the server, not the browser cache.
const COMMON_HEADERS = {
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
};

function send(res: ServerResponse, status: number, contentType: string, body: string, headers: ExtraHeaders): void {
  const payload = Buffer.from(body, 'utf8');
  res.writeHead(status, {
    ...COMMON_HEADERS,
    'Content-Type': contentType,
    'Content-Length': String(payload.length),
    ...headers,
  });
  res.end(payload);
}

/** Sends an HTML document. */
export function sendHtml(res: ServerResponse, status: number, html: string, headers: ExtraHeaders = {}): void {
  send(res, status, 'text/html; charset=utf-8', html, headers);
}

/** Sends a JSON value. */
export function sendJson(res: ServerResponse, status: number, value: unknown, headers: ExtraHeaders = {}): void {
  send(res, status, 'application/json; charset=utf-8', `${JSON.stringify(value, null, 2)}\n`, headers);
}

/** Sends a redirect with an empty body. */
export function redirect(res: ServerResponse, status: 302 | 303, location: string, headers: ExtraHeaders = {}): void {
  res.writeHead(status, { ...COMMON_HEADERS, Location: location, 'Content-Length': '0', ...headers });
  res.end();
}

/** Parses a `delayMs` query value: a non-negative number of milliseconds, capped; anything invalid means 0. */
export function parseDelayMs(value: string | null): number {
  if (value === null || value.trim() === '') return 0;
  const delayMs = Number(value);
  if (!Number.isFinite(delayMs) || delayMs < 0) return 0;
  return Math.min(Math.floor(delayMs), MAX_DELAY_MS);
}

/**
 * Returns `next` when it is a path on this site (`/orders?q=x`), otherwise `undefined`.
 * Rejects absolute and protocol-relative URLs (`//evil`, `/\evil`) so sign-in cannot become an open redirect.
 */
export function safeNextPath(next: string | null | undefined): string | undefined {
  if (next === null || next === undefined || !next.startsWith('/')) return undefined;
  if (next.startsWith('//') || next.includes('\\') || [...next].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) return undefined;
  const base = 'http://demo-site.invalid';
  let url: URL;
  try {
    url = new URL(next, base);
  } catch {
    return undefined;
  }
  if (url.origin !== base) return undefined;
  return `${url.pathname}${url.search}${url.hash}`;
}

/** `/login?next=…` for a path; slashes stay readable, everything else is percent-encoded. */
export function loginRedirectLocation(pathWithQuery: string): string {
  return `/login?next=${encodeURIComponent(pathWithQuery).replace(/%2F/gi, '/')}`;
}
