import { hostname, networkInterfaces } from 'node:os';
import type { IncomingMessage } from 'node:http';

/**
 * What a web page in the operator's browser must not be able to do to the control plane: reach it under a
 * foreign host name (DNS rebinding), change anything from another origin (CSRF), or smuggle a JSON API call in
 * a "simple" request (a `text/plain` or form body needs no CORS preflight). Pure functions of the request
 * headers; the server answers their verdicts.
 */

/** Methods that change nothing (and must keep it that way). */
export const safeMethods: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Lowercase host name as it appears in a Host header, without the port (IPv6 keeps its brackets). */
export function hostnameOf(hostHeader: string): string | undefined {
  const value = hostHeader.trim().toLowerCase();
  if (value === '') return undefined;
  if (value.startsWith('[')) {
    const end = value.indexOf(']');
    if (end < 0) return undefined;
    const rest = value.slice(end + 1);
    if (rest !== '' && !/^:\d{1,5}$/.test(rest)) return undefined;
    return value.slice(0, end + 1);
  }
  const match = /^([^:/@\s]+)(?::\d{1,5})?$/.exec(value);
  // A trailing dot names the same host ("localhost." is "localhost").
  return match?.[1]?.replace(/\.$/, '');
}

/** How a bound address or configured name is written in a Host header. */
function asHostName(name: string): string {
  const lower = name.trim().toLowerCase();
  if (lower.startsWith('[')) return lower;
  return lower.includes(':') ? `[${lower}]` : lower.replace(/\.$/, '');
}

export const loopbackHostNames: readonly string[] = ['localhost', '127.0.0.1', '[::1]'];

/**
 * The host names the control plane answers to: the loopback names, the address it is bound to, the names the
 * operator added, and — when bound to every interface — this machine's host name and interface addresses.
 * `*` among the extra names turns the check off (for a reverse proxy that already checks Host).
 */
export function allowedHostNames(input: { bindHost: string; extra?: readonly string[] }): Set<string> | 'any' {
  const extra = input.extra ?? [];
  if (extra.includes('*')) return 'any';
  const names = new Set(loopbackHostNames);
  const wildcard = input.bindHost === '0.0.0.0' || input.bindHost === '::' || input.bindHost === '';
  if (!wildcard) names.add(asHostName(input.bindHost));
  else {
    names.add(asHostName(hostname()));
    for (const addresses of Object.values(networkInterfaces())) for (const address of addresses ?? []) names.add(asHostName(address.address.replace(/%.*$/, '')));
  }
  for (const name of extra) names.add(asHostName(name));
  return names;
}

/** Refusal reason when the Host header names a host this control plane is not (DNS rebinding), else undefined. */
export function checkHost(req: IncomingMessage, allowed: Set<string> | 'any'): string | undefined {
  if (allowed === 'any') return undefined;
  const header = req.headers.host;
  const name = header === undefined ? undefined : hostnameOf(header);
  if (name === undefined) return 'the request has no valid Host header';
  if (!allowed.has(name)) return `the Host header names "${name}", which this control plane does not answer to (see --allowed-host)`;
  return undefined;
}

/**
 * Refusal reason when a state-changing request comes from another site, else undefined. Browsers send
 * `Sec-Fetch-Site` and `Origin` on every cross-origin POST, PUT or DELETE; clients that are not browsers (curl,
 * agents, scripts) send neither and are let through (they authenticate with a bearer token, or are on loopback).
 * Another port on the same host is another origin ("same-site" to the browser) and is refused too. The origin of
 * `--public-url` (the address users reach through a reverse proxy) is the control plane's own.
 */
export function checkOrigin(req: IncomingMessage, scheme: 'http' | 'https', publicOrigin?: string): string | undefined {
  if (safeMethods.has(req.method ?? 'GET')) return undefined;
  const site = header(req, 'sec-fetch-site');
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return `a ${site} request may not change anything here`;
  const origin = header(req, 'origin');
  if (origin === undefined) return undefined;
  if (origin === 'null') return 'a request from an opaque origin may not change anything here';
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return 'the Origin header is not a URL';
  }
  // Behind a TLS-terminating proxy the browser's origin is the public URL's (https://cp.example), not the
  // listener's (http://…:8400): `--public-url` names it.
  if (publicOrigin !== undefined && parsed.origin === publicOrigin) return undefined;
  const own = hostnameOf(req.headers.host ?? '');
  const ownPort = portOf(req.headers.host ?? '', scheme);
  const theirs = hostnameOf(parsed.host);
  const theirPort = parsed.port === '' ? (parsed.protocol === 'https:' ? '443' : '80') : parsed.port;
  if (parsed.protocol !== `${scheme}:` || theirs === undefined || theirs !== own || theirPort !== ownPort) return `a request from ${parsed.origin} may not change anything here`;
  return undefined;
}

/**
 * Refusal reason when a JSON API call does not say it is JSON (415), else undefined. A body of any other type, or
 * a body without a type, is refused: that is what makes a cross-origin "simple" request unable to reach the API.
 */
export function checkJsonContentType(req: IncomingMessage): string | undefined {
  if (safeMethods.has(req.method ?? 'GET')) return undefined;
  const type = header(req, 'content-type');
  const hasBody = (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0') || req.headers['transfer-encoding'] !== undefined;
  if (type === undefined) return hasBody ? 'the request body needs Content-Type: application/json' : undefined;
  const essence = type.split(';')[0]?.trim().toLowerCase();
  if (essence !== 'application/json') return `expected Content-Type: application/json, got ${JSON.stringify(essence ?? type)}`;
  return undefined;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined || first.trim() === '' ? undefined : first.trim();
}

function portOf(hostHeader: string, scheme: 'http' | 'https'): string {
  const match = /:(\d{1,5})$/.exec(hostHeader.trim());
  if (match?.[1] !== undefined && !hostHeader.trim().endsWith(']')) return String(Number(match[1]));
  return scheme === 'https' ? '443' : '80';
}
