/** Headers and cookies for the HAR: credential headers and every cookie value masked, URL headers redacted like URLs. */
import type { CdpHeaders } from '../network-events.ts';
import { redactedMarker, type Redactor } from '../redactor.ts';
import { redactUrl } from './redact-url.ts';
import type { HarCookie, HarNameValue } from './types.ts';

/** Headers whose values are never written, whatever they contain. */
export const credentialHeaderNames: ReadonlySet<string> = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie']);

/** Headers that hold a URL (redacted like one). */
const urlHeaderNames: ReadonlySet<string> = new Set(['referer', 'location', 'content-location', 'origin']);

export function headerList(headers: CdpHeaders, redactor: Redactor): HarNameValue[] {
  const out: HarNameValue[] = [];
  for (const [name, joined] of Object.entries(headers)) {
    // CDP joins repeated headers (Set-Cookie) with a newline.
    for (const value of joined.split('\n')) {
      const lower = name.toLowerCase();
      let masked: string;
      if (credentialHeaderNames.has(lower)) masked = redactedMarker;
      else if (urlHeaderNames.has(lower)) masked = redactUrl(value, redactor);
      else masked = redactor.redact(value);
      out.push({ name, value: masked });
    }
  }
  return out;
}

export function headerValue(headers: CdpHeaders | undefined, name: string): string | undefined {
  if (headers === undefined) return undefined;
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === lower) return value;
  return undefined;
}

const maskCookieValue = (value: string): string => (value === '' ? '' : redactedMarker);

export function requestCookies(cookieHeader: string | undefined): HarCookie[] {
  if (cookieHeader === undefined) return [];
  const cookies: HarCookie[] = [];
  for (const part of cookieHeader.split(/;\s*/)) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    const name = (eq < 0 ? '' : part.slice(0, eq)).trim();
    const value = eq < 0 ? part : part.slice(eq + 1);
    cookies.push({ name, value: maskCookieValue(value.trim()) });
  }
  return cookies;
}

export function responseCookies(setCookieHeader: string | undefined, wallMs: number): HarCookie[] {
  if (setCookieHeader === undefined) return [];
  const cookies: HarCookie[] = [];
  for (const line of setCookieHeader.split('\n')) {
    const [first = '', ...attributes] = line.split(';');
    const eq = first.indexOf('=');
    if (first.trim() === '') continue;
    const cookie: HarCookie = { name: (eq < 0 ? '' : first.slice(0, eq)).trim(), value: maskCookieValue((eq < 0 ? first : first.slice(eq + 1)).trim()) };
    for (const attribute of attributes) {
      const aeq = attribute.indexOf('=');
      const key = (aeq < 0 ? attribute : attribute.slice(0, aeq)).trim().toLowerCase();
      const value = aeq < 0 ? '' : attribute.slice(aeq + 1).trim();
      if (key === 'path') cookie.path = value;
      else if (key === 'domain') cookie.domain = value;
      else if (key === 'httponly') cookie.httpOnly = true;
      else if (key === 'secure') cookie.secure = true;
      else if (key === 'samesite') cookie.sameSite = value;
      else if (key === 'expires' && cookie.expires === undefined) {
        const ms = Date.parse(value);
        if (Number.isFinite(ms)) cookie.expires = new Date(ms).toISOString();
      } else if (key === 'max-age') {
        const seconds = Number(value);
        if (Number.isFinite(seconds)) cookie.expires = new Date(wallMs + seconds * 1000).toISOString();
      }
    }
    cookies.push(cookie);
  }
  return cookies;
}
