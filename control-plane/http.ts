import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import { describeIssues } from '../engine/index.ts';

/** An error the API answers with `{ error: { code, message, path } }`. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly path: string | undefined;
  readonly problems: readonly { path: string; message: string }[] | undefined;

  constructor(status: number, code: string, message: string, options: { path?: string; problems?: readonly { path: string; message: string }[] } = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.path = options.path;
    this.problems = options.problems;
  }
}

export const notFound = (what: string): ApiError => new ApiError(404, 'not-found', `${what} not found`);

/** Security headers every response carries. */
const baseHeaders = { 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' } as const;

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...baseHeaders, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendHtml(res: ServerResponse, status: number, html: string, csp: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    ...baseHeaders,
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': Buffer.byteLength(html),
    'Content-Security-Policy': csp,
    'X-Frame-Options': 'SAMEORIGIN',
    // With no-referrer, Chromium sends `Origin: null` on the dashboard's own form posts, which the origin check
    // must refuse; same-origin keeps the referrer (and the origin) inside the dashboard only.
    'Referrer-Policy': 'same-origin',
    ...headers,
  });
  res.end(html);
}

export function sendError(res: ServerResponse, error: ApiError, headers: Record<string, string> = {}): void {
  const body: { error: { code: string; message: string; path?: string; problems?: readonly { path: string; message: string }[] } } = {
    error: { code: error.code, message: error.message },
  };
  if (error.path !== undefined) body.error.path = error.path;
  if (error.problems !== undefined && error.problems.length > 1) body.error.problems = error.problems;
  sendJson(res, error.status, body, headers);
}

/** Read a request body up to `maxBytes` (413 beyond). */
export async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) throw new ApiError(413, 'body-too-large', `the request body is larger than ${maxBytes} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const bytes = chunk as Buffer;
    size += bytes.byteLength;
    if (size > maxBytes) throw new ApiError(413, 'body-too-large', `the request body is larger than ${maxBytes} bytes`);
    chunks.push(bytes);
  }
  return Buffer.concat(chunks);
}

export function parseJsonText(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch (error) {
    throw new ApiError(400, 'invalid-json', `the request body is not valid JSON: ${error instanceof Error ? error.message : String(error)}`, { path: '(root)' });
  }
}

export async function readJson(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  return parseJsonText(await readBody(req, maxBytes));
}

/** Validate with a zod schema; a failure becomes a 400 naming the first bad path (all of them in `problems`). */
export function parseWith<T extends z.ZodType>(schema: T, value: unknown, code = 'invalid-request'): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = describeIssues(parsed.error.issues, value);
  const first = problems[0] ?? { path: '(root)', message: 'invalid' };
  throw new ApiError(400, code, `${first.path}: ${first.message}`, { path: first.path, problems });
}

export function bearerToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Constant-time comparison of two secrets (compared as hashes, so lengths never leak). */
export function secretsEqual(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/** A fresh agent token: 256 random bits, URL-safe. */
export function newToken(prefix: string): string {
  return `${prefix}_${randomBytes(32).toString('base64url')}`;
}

export function cookies(req: IncomingMessage): Map<string, string> {
  const jar = new Map<string, string>();
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const index = part.indexOf('=');
    if (index <= 0) continue;
    const name = part.slice(0, index).trim();
    const value = part.slice(index + 1).trim();
    try {
      jar.set(name, decodeURIComponent(value));
    } catch {
      jar.set(name, value);
    }
  }
  return jar;
}

export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || isLoopbackAddress(host);
}
