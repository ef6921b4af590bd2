/**
 * HAR 1.2 and the per-step request waterfall, from raw CDP Network events (pure).
 *
 * Phases follow Chrome DevTools' own HAR exporter (`front_end/models/har/Log.ts`, `buildTimings`) so numbers
 * match what a user sees in DevTools: all arithmetic stays on the browser's monotonic clock (CDP `timestamp`,
 * `ResourceTiming.requestTime` + ms ticks), only `startedDateTime` comes from `wallTime`. `connect` includes
 * `ssl`, as HAR requires; phases that did not happen are -1; `time` is the sum of the non-negative phases.
 * One deliberate difference: DevTools' `connect` starts at DNS start (so DNS is counted twice); here it starts
 * at DNS end, so the phases tile the request and `time` = end − issue.
 *
 * Privacy: no response bodies; request bodies only on request and only textual ones; `Authorization`,
 * `Proxy-Authorization`, `Cookie`, `Set-Cookie` values and every cookie value are replaced by the redacted
 * marker; secrets are masked in URLs, query strings, headers and bodies (plain, URL-encoded, base64 — the
 * Redactor's forms — and, for URLs and forms, after decoding), and the finished HAR goes through
 * `redactDeep` once more.
 */
import type { StepResult } from '../schema/result.ts';
import type { CdpHeaders, CdpRequest, CdpResourceTiming, CdpResponse, RecordedNetworkEvent } from './network-events.ts';
import { redactedMarker, type Redactor } from './redactor.ts';

// ---------------------------------------------------------------------------------------------------------
// HAR 1.2 types (with the Chrome-specific `_` fields DevTools writes)

export interface HarNameValue {
  name: string;
  value: string;
}

export interface HarCookie {
  name: string;
  value: string;
  path?: string;
  domain?: string;
  expires?: string;
  httpOnly?: boolean;
  secure?: boolean;
  sameSite?: string;
}

export interface HarPostData {
  mimeType: string;
  text: string;
  params?: HarNameValue[];
  comment?: string;
}

export interface HarRequest {
  method: string;
  url: string;
  httpVersion: string;
  cookies: HarCookie[];
  headers: HarNameValue[];
  queryString: HarNameValue[];
  postData?: HarPostData;
  headersSize: number;
  bodySize: number;
}

export interface HarResponse {
  status: number;
  statusText: string;
  httpVersion: string;
  cookies: HarCookie[];
  headers: HarNameValue[];
  content: { size: number; mimeType: string };
  redirectURL: string;
  headersSize: number;
  bodySize: number;
  /** Bytes on the wire for this hop (headers + body). */
  _transferSize: number;
  _error?: string;
}

export interface HarTimings {
  blocked: number;
  dns: number;
  connect: number;
  ssl: number;
  send: number;
  wait: number;
  receive: number;
  /** Queueing inside the browser before the request started (part of `blocked`). */
  _blocked_queueing?: number;
}

export interface HarEntry {
  pageref?: string;
  startedDateTime: string;
  time: number;
  request: HarRequest;
  response: HarResponse;
  cache: Record<string, never>;
  timings: HarTimings;
  serverIPAddress?: string;
  connection?: string;
  _resourceType: string;
  _fromCache?: 'memory' | 'disk';
  _failureText?: string;
  _blockedReason?: string;
  _canceled?: boolean;
  /** Index of the step the request started in. */
  _step?: number;
  /** Started after one step's measurement and before the next step (a late beacon): not in any step's counts. */
  _betweenSteps?: boolean;
  /** Still in flight when the HAR was written: the end is the last event seen. */
  _incomplete?: boolean;
}

export interface HarPage {
  startedDateTime: string;
  id: string;
  title: string;
  pageTimings: { onContentLoad: number; onLoad: number; comment?: string };
  _step: number;
}

export interface HarLog {
  version: '1.2';
  creator: { name: string; version: string };
  browser?: { name: string; version: string };
  pages: HarPage[];
  entries: HarEntry[];
  comment?: string;
}

export interface Har {
  log: HarLog;
}

// ---------------------------------------------------------------------------------------------------------
// Events → exchanges (one per request hop; a redirect chain is several exchanges with one request id)

/** One HTTP exchange: a request and (if any) its response. Redirect hops are separate exchanges. */
export interface NetworkExchange {
  requestId: string;
  /** Target (tab) + request id: request ids are only unique per CDP session. */
  key: string;
  step: number;
  inStep: boolean;
  request: CdpRequest;
  /** requestWillBeSent, monotonic seconds. */
  issueTime: number;
  /** requestWillBeSent, seconds since the epoch. */
  wallTime: number;
  resourceType: string;
  /** Headers as sent (requestWillBeSentExtraInfo), including Cookie. */
  sentHeaders?: CdpHeaders;
  response?: CdpResponse;
  /** Headers as received (responseReceivedExtraInfo), including Set-Cookie. */
  receivedHeaders?: CdpHeaders;
  receivedHeadersText?: string;
  /** Whether a responseReceivedExtraInfo belongs to this hop's response. */
  responseHasExtraInfo: boolean;
  /** When the response event arrived (for a redirect hop: the next hop's requestWillBeSent). */
  responseEventTime?: number;
  /** loadingFinished / loadingFailed / next redirect hop. */
  endTime?: number;
  lastEventTime: number;
  /** Total bytes on the wire, when the hop completed. */
  encodedDataLength?: number;
  /** Decoded body bytes (dataReceived). */
  dataLength: number;
  encodedDataReceived: number;
  failure?: { errorText: string; canceled: boolean; blockedReason?: string };
  servedFromCache: boolean;
  /** URL of the next hop, for a redirect. */
  redirectedTo?: string;
  state: 'pending' | 'finished' | 'failed' | 'redirected';
}

const keyOf = (event: RecordedNetworkEvent): string => `${event.target ?? ''}|${event.params.requestId}`;

/** Network requests that never touch the network and can be huge (inline data). */
function ignoredUrl(url: string): boolean {
  return url.startsWith('data:') || url.startsWith('blob:');
}

function newExchange(event: RecordedNetworkEvent & { method: 'Network.requestWillBeSent' }): NetworkExchange {
  const p = event.params;
  return {
    requestId: p.requestId,
    key: keyOf(event),
    step: event.step,
    inStep: event.inStep,
    request: p.request,
    issueTime: p.timestamp,
    wallTime: p.wallTime,
    resourceType: p.type ?? 'Other',
    responseHasExtraInfo: false,
    lastEventTime: p.timestamp,
    dataLength: 0,
    encodedDataReceived: 0,
    servedFromCache: false,
    state: 'pending',
  };
}

/**
 * Replay the events into exchanges, in order of issue. Handles redirects (one request id, the previous hop's
 * response on the next requestWillBeSent), ExtraInfo events arriving before or after their main event (matched
 * in order per request id), cache hits, failures and requests still in flight.
 */
export function exchangesFromEvents(events: readonly RecordedNetworkEvent[]): NetworkExchange[] {
  const open = new Map<string, NetworkExchange>();
  const hopsByKey = new Map<string, NetworkExchange[]>();
  const sentExtras = new Map<string, CdpHeaders[]>();
  const receivedExtras = new Map<string, { headers: CdpHeaders; headersText?: string }[]>();
  const all: NetworkExchange[] = [];

  const push = <T>(map: Map<string, T[]>, key: string, value: T): void => {
    const list = map.get(key);
    if (list === undefined) map.set(key, [value]);
    else list.push(value);
  };

  for (const event of events) {
    const key = keyOf(event);
    switch (event.method) {
      case 'Network.requestWillBeSent': {
        const p = event.params;
        if (ignoredUrl(p.request.url)) continue;
        const previous = open.get(key);
        if (previous !== undefined && p.redirectResponse !== undefined) {
          previous.response = p.redirectResponse;
          previous.responseHasExtraInfo = p.redirectHasExtraInfo === true;
          previous.responseEventTime = p.timestamp;
          previous.endTime = p.timestamp;
          previous.lastEventTime = p.timestamp;
          previous.encodedDataLength = p.redirectResponse.encodedDataLength;
          previous.redirectedTo = p.request.url;
          previous.state = 'redirected';
        } else if (previous?.state === 'pending' && previous.response === undefined && previous.request.url === p.request.url) {
          // The same request reported again (interception can do this): keep the first.
          continue;
        }
        const exchange = newExchange(event);
        open.set(key, exchange);
        push(hopsByKey, key, exchange);
        all.push(exchange);
        break;
      }
      case 'Network.requestWillBeSentExtraInfo':
        push(sentExtras, key, event.params.headers);
        break;
      case 'Network.responseReceivedExtraInfo':
        push(receivedExtras, key, event.params.headersText === undefined ? { headers: event.params.headers } : { headers: event.params.headers, headersText: event.params.headersText });
        break;
      case 'Network.responseReceived': {
        const exchange = open.get(key);
        if (exchange === undefined || exchange.state !== 'pending') break;
        exchange.response = event.params.response;
        exchange.responseHasExtraInfo = event.params.hasExtraInfo === true;
        exchange.responseEventTime = event.params.timestamp;
        exchange.lastEventTime = Math.max(exchange.lastEventTime, event.params.timestamp);
        if (event.params.type !== '') exchange.resourceType = event.params.type;
        break;
      }
      case 'Network.dataReceived': {
        const exchange = open.get(key);
        if (exchange === undefined) break;
        exchange.dataLength += event.params.dataLength;
        exchange.encodedDataReceived += event.params.encodedDataLength;
        exchange.lastEventTime = Math.max(exchange.lastEventTime, event.params.timestamp);
        break;
      }
      case 'Network.loadingFinished': {
        const exchange = open.get(key);
        if (exchange === undefined || exchange.state !== 'pending') break;
        exchange.endTime = event.params.timestamp;
        exchange.lastEventTime = Math.max(exchange.lastEventTime, event.params.timestamp);
        exchange.encodedDataLength = event.params.encodedDataLength;
        exchange.state = 'finished';
        break;
      }
      case 'Network.loadingFailed': {
        const exchange = open.get(key);
        if (exchange === undefined || exchange.state !== 'pending') break;
        const p = event.params;
        exchange.endTime = p.timestamp;
        exchange.lastEventTime = Math.max(exchange.lastEventTime, p.timestamp);
        exchange.failure = p.blockedReason === undefined ? { errorText: p.errorText, canceled: p.canceled === true } : { errorText: p.errorText, canceled: p.canceled === true, blockedReason: p.blockedReason };
        exchange.state = 'failed';
        break;
      }
      case 'Network.requestServedFromCache': {
        const exchange = open.get(key);
        if (exchange !== undefined) exchange.servedFromCache = true;
        break;
      }
    }
  }

  // ExtraInfo events carry no hop number: the n-th one of a request id belongs to the n-th hop that has one.
  for (const [key, hops] of hopsByKey) {
    const sent = sentExtras.get(key) ?? [];
    const received = receivedExtras.get(key) ?? [];
    let s = 0;
    let r = 0;
    for (const hop of hops) {
      // A hop answered from the memory cache (whose response repeats the cached one's flags) or without extra
      // info (disk cache, interception) never went out on the network.
      const wentOut = !hop.servedFromCache && (hop.response === undefined || hop.responseHasExtraInfo);
      const headers = wentOut ? sent[s] : undefined;
      if (headers !== undefined) {
        hop.sentHeaders = headers;
        s++;
      }
      if (wentOut && hop.response !== undefined && r < received.length) {
        const extra = received[r++];
        if (extra !== undefined) {
          hop.receivedHeaders = extra.headers;
          if (extra.headersText !== undefined) hop.receivedHeadersText = extra.headersText;
        }
      }
    }
  }

  return all.sort((a, b) => a.issueTime - b.issueTime);
}

// ---------------------------------------------------------------------------------------------------------
// Timings (DevTools' algorithm)

function leastNonNegative(values: readonly number[]): number {
  return values.reduce((best, value) => (value >= 0 && value < best ? value : best), Infinity);
}

function isCached(exchange: NetworkExchange): boolean {
  return exchange.servedFromCache || exchange.response?.fromDiskCache === true || exchange.response?.fromPrefetchCache === true;
}

/** The timing object DevTools trusts: none for memory-cache hits. */
function timingOf(exchange: NetworkExchange): CdpResourceTiming | undefined {
  return exchange.servedFromCache ? undefined : exchange.response?.timing;
}

/** When the response headers arrived (monotonic seconds): the earlier of the event and ResourceTiming's receiveHeadersEnd. */
function responseTimeOf(exchange: NetworkExchange): number | undefined {
  if (exchange.response === undefined) return undefined;
  const timing = timingOf(exchange);
  const fromTiming = timing !== undefined && timing.receiveHeadersEnd >= 0 ? timing.requestTime + timing.receiveHeadersEnd / 1000 : undefined;
  const fromEvent = exchange.responseEventTime;
  if (fromTiming === undefined) return fromEvent;
  if (fromEvent === undefined) return fromTiming;
  return Math.min(fromTiming, fromEvent);
}

/**
 * HAR timings of one exchange, in ms. `blocked` = queueing (issue → requestTime) + stall before the first
 * of dns/connect/send; `dns`, `connect` (including `ssl`) and `ssl` are -1 when they did not happen (a reused
 * connection, a cache hit); `send`, `wait`, `receive` are never negative.
 */
export function harTimingsOf(exchange: NetworkExchange): HarTimings {
  const result: HarTimings = { blocked: -1, dns: -1, connect: -1, ssl: -1, send: 0, wait: 0, receive: 0 };
  const end = exchange.endTime ?? exchange.lastEventTime;
  const responseTime = responseTimeOf(exchange);
  const timing = timingOf(exchange);
  if (timing === undefined) {
    if (responseTime === undefined) {
      // Failed (or blocked) before any response: all of it was spent before the request got anywhere.
      result.blocked = Math.max(0, (end - exchange.issueTime) * 1000);
      return result;
    }
    // Cache hit or synthetic response: no connection phases, only waiting and reading.
    result.wait = Math.max(0, (responseTime - exchange.issueTime) * 1000);
    result.receive = Math.max(0, (end - responseTime) * 1000);
    return result;
  }
  const queued = Math.max(0, (timing.requestTime - exchange.issueTime) * 1000);
  result._blocked_queueing = queued;
  const least = leastNonNegative([timing.dnsStart, timing.connectStart, timing.sendStart]);
  const blockedStart = least === Infinity ? 0 : least;
  result.blocked = queued + blockedStart;
  if (timing.proxyEnd >= 0) result.blocked = Math.max(result.blocked, timing.proxyEnd - timing.proxyStart);

  const dnsEnd = timing.dnsEnd >= 0 ? timing.dnsEnd : -1;
  if (dnsEnd >= 0) result.dns = dnsEnd - blockedStart;
  const sslEnd = timing.sslEnd > 0 ? timing.sslEnd : -1;
  if (sslEnd >= 0) result.ssl = sslEnd - timing.sslStart;
  const connectEnd = timing.connectEnd >= 0 ? timing.connectEnd : -1;
  // DevTools starts `connect` at min(dnsEnd, blockedStart) = dnsStart, counting DNS twice; it starts at dnsEnd here,
  // so the phases tile the request without overlap and `time` equals end − issue.
  if (connectEnd >= 0) result.connect = connectEnd - (dnsEnd >= 0 ? dnsEnd : blockedStart);
  if (timing.sendEnd >= 0) {
    // QUIC can report sendStart before connectEnd (crbug.com/740792): never negative.
    result.send = Math.max(0, timing.sendEnd - Math.max(connectEnd, dnsEnd, blockedStart));
  }
  const highest = Math.max(timing.sendEnd, connectEnd, sslEnd, dnsEnd, blockedStart, 0);
  if (responseTime === undefined) {
    // No response (failed after the request went out, or still waiting): the rest is waiting.
    result.wait = Math.max(0, (end - timing.requestTime) * 1000 - highest);
    return result;
  }
  const waitEnd = (responseTime - timing.requestTime) * 1000;
  result.wait = Math.max(0, waitEnd - highest);
  result.receive = Math.max(0, (end - timing.requestTime) * 1000 - waitEnd);
  return result;
}

/** Sum of the non-negative phases (`ssl` is inside `connect`). */
export function harTimeOf(timings: HarTimings): number {
  return [timings.blocked, timings.dns, timings.connect, timings.send, timings.wait, timings.receive].reduce((sum, t) => sum + Math.max(0, t), 0);
}

/** Rounds to µs; -1 stays "did not happen", and float noise just below 0 becomes 0. */
const round3 = (ms: number): number => (ms <= -1 ? -1 : Math.round(Math.max(0, ms) * 1000) / 1000);
const round2 = (ms: number): number => Math.round(Math.max(0, ms) * 100) / 100;

function roundTimings(timings: HarTimings): HarTimings {
  const out: HarTimings = {
    blocked: round3(timings.blocked),
    dns: round3(timings.dns),
    connect: round3(timings.connect),
    ssl: round3(timings.ssl),
    send: round3(timings.send),
    wait: round3(timings.wait),
    receive: round3(timings.receive),
  };
  if (timings._blocked_queueing !== undefined) out._blocked_queueing = round3(timings._blocked_queueing);
  return out;
}

/** Bytes on the wire for one hop: the final count when it completed, what was seen so far otherwise. */
export function transferSizeOf(exchange: NetworkExchange): number {
  if (isCached(exchange)) return 0;
  if (exchange.encodedDataLength !== undefined) return exchange.encodedDataLength;
  return (exchange.response?.encodedDataLength ?? 0) + exchange.encodedDataReceived;
}

// ---------------------------------------------------------------------------------------------------------
// Redaction helpers

/** Headers whose values are never written, whatever they contain. */
export const credentialHeaderNames: ReadonlySet<string> = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie']);

/** Headers that hold a URL (redacted like one). */
const urlHeaderNames: ReadonlySet<string> = new Set(['referer', 'location', 'content-location', 'origin']);

/**
 * Form fields, query parameters and JSON keys whose values are masked even when they are not a known secret
 * (`password`, `new_password`, `client_secret`, `access_token`, `api-key`, `otp`…).
 */
export function isSensitiveFieldName(name: string): boolean {
  return /^(?:.*[-_.])?(?:pass|passwd|password|passphrase|pwd|secret|token|apikey|api[-_]key|auth|credentials?|otp)$/i.test(name.trim());
}

const relativeBase = 'http://relative.invalid';

/**
 * Mask secrets in a URL: the Redactor on the text as is, then on every query value and path segment after
 * decoding (so any percent-encoding of a secret is caught), plus values of sensitive parameter names and
 * user:password in the authority. Relative URLs (`Location: /next?x=1`) stay relative.
 */
export function redactUrl(url: string, redactor: Redactor): string {
  const text = redactor.redact(url);
  const absolute = URL.canParse(text);
  if (!absolute && (!text.startsWith('/') || text.startsWith('//'))) return text;
  let parsed: URL;
  try {
    parsed = new URL(text, relativeBase);
  } catch {
    return text;
  }
  let changed = false;
  if (parsed.username !== '' || parsed.password !== '') {
    if (parsed.password !== '') parsed.password = redactedMarker;
    changed = true;
  }
  const segments = parsed.pathname.split('/').map((segment) => {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      return segment;
    }
    const masked = redactor.redact(decoded);
    if (masked === decoded) return segment;
    changed = true;
    return encodeURIComponent(masked);
  });
  if (parsed.search !== '') {
    let queryChanged = false;
    const params = [...new URLSearchParams(parsed.search)].map(([name, value]): [string, string] => {
      const maskedName = redactor.redact(name);
      const maskedValue = isSensitiveFieldName(name) && value !== '' ? redactedMarker : redactor.redact(value);
      if (maskedName !== name || maskedValue !== value) queryChanged = true;
      return [maskedName, maskedValue];
    });
    if (queryChanged) {
      parsed.search = new URLSearchParams(params).toString();
      changed = true;
    }
  }
  if (!changed) return text;
  parsed.pathname = segments.join('/');
  return absolute ? parsed.href : `${parsed.pathname}${parsed.search}${parsed.hash}`;
}

function headerList(headers: CdpHeaders, redactor: Redactor): HarNameValue[] {
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

function headerValue(headers: CdpHeaders | undefined, name: string): string | undefined {
  if (headers === undefined) return undefined;
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === lower) return value;
  return undefined;
}

const maskCookieValue = (value: string): string => (value === '' ? '' : redactedMarker);

function requestCookies(cookieHeader: string | undefined): HarCookie[] {
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

function responseCookies(setCookieHeader: string | undefined, wallMs: number): HarCookie[] {
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

const utf8Length = (text: string): number => new TextEncoder().encode(text).byteLength;

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

function postDataOf(exchange: NetworkExchange, mode: RequestBodyMode, redactor: Redactor): { postData?: HarPostData; bodySize: number } {
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

// ---------------------------------------------------------------------------------------------------------
// HAR entries

function httpVersionOf(exchange: NetworkExchange): string {
  const statusLine = /^(HTTP\/\d(?:\.\d)?)\s/.exec(exchange.receivedHeadersText ?? '');
  if (statusLine?.[1] !== undefined) return statusLine[1];
  const protocol = (exchange.response?.protocol ?? '').toLowerCase();
  if (protocol === '') return '';
  if (protocol === 'h2') return 'HTTP/2.0';
  if (protocol === 'h3' || protocol.startsWith('h3-') || protocol === 'quic') return 'HTTP/3.0';
  return protocol.toUpperCase();
}

/** Size of the request line and headers as sent on an HTTP/1.x connection; -1 when unknown (HTTP/2 compresses them). */
function requestHeadersSize(exchange: NetworkExchange, httpVersion: string): number {
  if (exchange.sentHeaders === undefined || !httpVersion.startsWith('HTTP/1')) return -1;
  let target: string;
  try {
    const url = new URL(exchange.request.url);
    target = `${url.pathname}${url.search}`;
  } catch {
    return -1;
  }
  let size = utf8Length(`${exchange.request.method} ${target} ${httpVersion}\r\n`) + 2;
  for (const [name, joined] of Object.entries(exchange.sentHeaders)) {
    for (const value of joined.split('\n')) size += utf8Length(`${name}: ${value}\r\n`);
  }
  return size;
}

function serverAddress(exchange: NetworkExchange): string | undefined {
  const address = (exchange.response?.remoteIPAddress ?? '').replace(/^\[|\]$/g, '');
  return /^[0-9a-fA-F:.]+$/.test(address) && address !== '' ? address : undefined;
}

export const pageIdOf = (step: number): string => `page_${step + 1}`;

interface EntryOptions {
  redactor: Redactor;
  requestBodies: RequestBodyMode;
  pageIds: ReadonlySet<string>;
}

function entryOf(exchange: NetworkExchange, options: EntryOptions): HarEntry {
  const { redactor } = options;
  const response = exchange.response;
  const timings = harTimingsOf(exchange);
  const httpVersion = httpVersionOf(exchange);
  const sentHeaders = exchange.sentHeaders ?? exchange.request.headers;
  const url = redactUrl(exchange.request.url, redactor);
  let queryString: HarNameValue[];
  try {
    queryString = [...new URL(url).searchParams].map(([name, value]) => ({ name, value }));
  } catch {
    queryString = [];
  }
  const { postData, bodySize: requestBodySize } = postDataOf(exchange, options.requestBodies, redactor);
  const request: HarRequest = {
    method: exchange.request.method,
    url,
    httpVersion,
    cookies: requestCookies(headerValue(sentHeaders, 'cookie')),
    headers: headerList(sentHeaders, redactor),
    queryString,
    headersSize: requestHeadersSize(exchange, httpVersion),
    bodySize: requestBodySize,
  };
  if (postData !== undefined) request.postData = postData;

  const cached = isCached(exchange);
  const transferSize = transferSizeOf(exchange);
  const receivedHeaders = exchange.receivedHeaders ?? response?.headers ?? {};
  const responseHeadersSize = exchange.receivedHeadersText === undefined ? -1 : utf8Length(exchange.receivedHeadersText);
  let responseBodySize: number;
  if (cached || response?.status === 304) responseBodySize = 0;
  else if (response === undefined || responseHeadersSize < 0 || exchange.encodedDataLength === undefined) responseBodySize = -1;
  else responseBodySize = Math.max(0, exchange.encodedDataLength - responseHeadersSize);
  const location = headerValue(receivedHeaders, 'location');
  const harResponse: HarResponse = {
    status: response?.status ?? 0,
    statusText: response?.statusText ?? '',
    httpVersion,
    cookies: responseCookies(headerValue(receivedHeaders, 'set-cookie'), exchange.wallTime * 1000),
    headers: headerList(receivedHeaders, redactor),
    content: {
      size: exchange.dataLength > 0 ? exchange.dataLength : Math.max(0, responseBodySize),
      mimeType: response?.mimeType !== undefined && response.mimeType !== '' ? response.mimeType : 'x-unknown',
    },
    redirectURL: location !== undefined ? redactUrl(location, redactor) : exchange.redirectedTo !== undefined ? redactUrl(exchange.redirectedTo, redactor) : '',
    headersSize: response === undefined ? -1 : responseHeadersSize,
    bodySize: responseBodySize,
    _transferSize: transferSize,
  };
  if (exchange.failure !== undefined) harResponse._error = exchange.failure.errorText;

  const rounded = roundTimings(timings);
  const entry: HarEntry = {
    startedDateTime: new Date(exchange.wallTime * 1000).toISOString(),
    time: round3(harTimeOf(rounded)),
    request,
    response: harResponse,
    cache: {},
    timings: rounded,
    _resourceType: exchange.resourceType.toLowerCase(),
  };
  const pageId = pageIdOf(exchange.step);
  if (options.pageIds.has(pageId)) entry.pageref = pageId;
  const address = serverAddress(exchange);
  if (address !== undefined) entry.serverIPAddress = address;
  // A cache hit repeats the connection of the response it copies: not a connection this request used.
  if (!cached && response?.connectionId !== undefined && response.connectionId !== 0) entry.connection = String(response.connectionId);
  if (cached) entry._fromCache = exchange.servedFromCache && response?.fromDiskCache !== true ? 'memory' : 'disk';
  if (exchange.failure !== undefined) {
    entry._failureText = exchange.failure.errorText;
    if (exchange.failure.blockedReason !== undefined) entry._blockedReason = exchange.failure.blockedReason;
    if (exchange.failure.canceled) entry._canceled = true;
  }
  if (exchange.step >= 0) entry._step = exchange.step;
  if (!exchange.inStep) entry._betweenSteps = true;
  if (exchange.state === 'pending') entry._incomplete = true;
  return entry;
}

// ---------------------------------------------------------------------------------------------------------
// Pages and the whole log

/** What the HAR needs of a step: its page. */
export interface HarStepInfo {
  index: number;
  name: string;
  /** Wall-clock start of the step (ISO); steps without one (skipped) get no page. */
  startedAt?: string | undefined;
  /** Navigation Timing of the step's document, if it navigated (DOMContentLoaded / load from navigation start). */
  navigation?: { url: string; domContentLoadedMs: number; loadMs: number } | undefined;
}

export interface BuildHarOptions {
  redactor: Redactor;
  steps?: readonly HarStepInfo[];
  creator?: { name: string; version: string };
  browser?: { name: string; version: string };
  /** `omit` (default): request bodies are never written, only their type and size. `redacted`: textual bodies up to 64 KiB, secrets masked. */
  requestBodies?: RequestBodyMode;
}

/** The step's main document hop: where its Navigation Timing starts (first hop of the redirect chain). */
function navigationStartWallMs(exchanges: readonly NetworkExchange[], step: HarStepInfo): number | undefined {
  const navigation = step.navigation;
  if (navigation === undefined) return undefined;
  const documents = exchanges.filter((x) => x.step === step.index && x.resourceType === 'Document');
  const final = documents.filter((x) => x.redirectedTo === undefined && x.request.url === navigation.url).at(-1);
  if (final === undefined) return undefined;
  const first = documents.find((x) => x.key === final.key);
  return (first ?? final).wallTime * 1000;
}

function pageOf(step: HarStepInfo & { startedAt: string }, exchanges: readonly NetworkExchange[]): HarPage {
  const stepStartMs = Date.parse(step.startedAt);
  const navStartMs = navigationStartWallMs(exchanges, step);
  const page: HarPage = {
    startedDateTime: new Date(stepStartMs).toISOString(),
    id: pageIdOf(step.index),
    title: step.name,
    pageTimings: { onContentLoad: -1, onLoad: -1 },
    _step: step.index,
  };
  if (step.navigation !== undefined && navStartMs !== undefined) {
    const offset = Math.max(0, navStartMs - stepStartMs);
    page.pageTimings = { onContentLoad: round3(offset + step.navigation.domContentLoadedMs), onLoad: round3(offset + step.navigation.loadMs) };
  }
  return page;
}

/** A HAR 1.2 log of the whole run: one page per step that ran, one entry per request hop, redacted. */
export function buildHar(events: readonly RecordedNetworkEvent[], options: BuildHarOptions): Har {
  const exchanges = exchangesFromEvents(events);
  const pages = (options.steps ?? [])
    .filter((step): step is HarStepInfo & { startedAt: string } => step.startedAt !== undefined && Number.isFinite(Date.parse(step.startedAt)))
    .map((step) => pageOf(step, exchanges));
  const pageIds = new Set(pages.map((page) => page.id));
  const entryOptions: EntryOptions = { redactor: options.redactor, requestBodies: options.requestBodies ?? 'omit', pageIds };
  const log: HarLog = {
    version: '1.2',
    creator: options.creator ?? { name: 'private-checkpoint', version: '0' },
    pages,
    entries: exchanges.map((exchange) => entryOf(exchange, entryOptions)),
    comment: 'From CDP Network events. Credentials, cookie values and secrets are redacted; no response bodies.',
  };
  if (options.browser !== undefined) log.browser = options.browser;
  return options.redactor.redactDeep({ log });
}

// ---------------------------------------------------------------------------------------------------------
// Per-step waterfall and counts

export type WaterfallEntry = NonNullable<StepResult['waterfall']>[number];
export type RequestCounts = NonNullable<StepResult['requests']>;

/** The step result keeps at most this many waterfall rows (the HAR has them all). */
export const waterfallCap = 300;

export interface StepNetworkOptions {
  step: number;
  /** Wall-clock ms of the step start: waterfall `startMs` is relative to it. */
  stepStartWallMs: number;
  redactor: Redactor;
  /** Build the waterfall (false when HAR capture is off: counts only). Default true. */
  waterfall?: boolean;
  cap?: number;
}

export interface StepNetwork {
  requests: RequestCounts;
  waterfall?: WaterfallEntry[];
}

function waterfallEntryOf(exchange: NetworkExchange, stepStartWallMs: number, redactor: Redactor): WaterfallEntry {
  const timings = harTimingsOf(exchange);
  const failed = exchange.failure !== undefined;
  const entry: WaterfallEntry = {
    url: redactUrl(exchange.request.url, redactor),
    method: exchange.request.method,
    status: failed && exchange.response === undefined ? 0 : (exchange.response?.status ?? 0),
    resourceType: exchange.resourceType.toLowerCase(),
    startMs: round2(exchange.wallTime * 1000 - stepStartWallMs),
    durationMs: round2(harTimeOf(timings)),
    transferBytes: Math.max(0, Math.round(transferSizeOf(exchange))),
  };
  if (isCached(exchange)) entry.fromCache = true;
  if (exchange.failure !== undefined) entry.failure = redactor.redact(exchange.failure.errorText);
  const phases: NonNullable<WaterfallEntry['phases']> = {};
  if (timings.blocked >= 0) phases.blockedMs = round2(timings.blocked);
  if (timings.dns >= 0) phases.dnsMs = round2(timings.dns);
  if (timings.connect >= 0) phases.connectMs = round2(timings.connect);
  if (timings.ssl >= 0) phases.tlsMs = round2(timings.ssl);
  phases.sendMs = round2(timings.send);
  phases.waitMs = round2(timings.wait);
  phases.receiveMs = round2(timings.receive);
  entry.phases = phases;
  return entry;
}

/**
 * One step's network: every request hop that started during the step (not between steps) is counted;
 * `bytes` are bytes on the wire (headers and body; 0 for cache hits); `failed` counts failed and blocked
 * requests. The waterfall keeps the first `cap` hops by start time.
 */
export function stepNetworkFromEvents(events: readonly RecordedNetworkEvent[], options: StepNetworkOptions): StepNetwork {
  // Only the events of requests that started in this step (their later events may come in any step).
  const keys = new Set<string>();
  for (const event of events) {
    if (event.method === 'Network.requestWillBeSent' && event.step === options.step && event.inStep) keys.add(keyOf(event));
  }
  const exchanges = exchangesFromEvents(events.filter((event) => keys.has(keyOf(event)))).filter((x) => x.step === options.step && x.inStep);
  const requests: RequestCounts = {
    count: exchanges.length,
    bytes: exchanges.reduce((sum, x) => sum + Math.max(0, Math.round(transferSizeOf(x))), 0),
    failed: exchanges.filter((x) => x.failure !== undefined).length,
  };
  if (options.waterfall === false) return { requests };
  const waterfall = exchanges
    .map((x) => waterfallEntryOf(x, options.stepStartWallMs, options.redactor))
    .sort((a, b) => a.startMs - b.startMs)
    .slice(0, options.cap ?? waterfallCap);
  return { requests, waterfall: options.redactor.redactDeep(waterfall) };
}
