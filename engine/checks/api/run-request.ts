import { EngineError } from '../../core/errors.ts';
import { defaultCheckTimeouts, type AssertionSpec, type AuthSpec, type ExtractSpec, type RequestSpec } from '../../schema/checks/api.ts';
import type { CheckEnvironment, CheckOutcome, CheckPhase, CheckWarning } from '../check-types.ts';
import { assertionFailureMessage, judgeAssertions, type AssertionOutcome } from './assertions.ts';
import { extractValues } from './extract.ts';
import { exchange, ExchangeFailure, type ExchangeResponse, type TlsOptions } from './http-exchange.ts';
import type { ResponseView } from './response-view.ts';

/** A request step with every placeholder already replaced. */
export interface RequestStepSpec {
  name: string;
  /** Where the step is in the script, for messages (`steps[2]`). */
  where: string;
  request: RequestSpec;
  /** Headers of every request (settings.headers); the request's own win. */
  defaultHeaders?: Readonly<Record<string, string>> | undefined;
  auth?: AuthSpec | undefined;
  assertions?: readonly AssertionSpec[] | undefined;
  extract?: readonly ExtractSpec[] | undefined;
  followRedirects?: boolean | undefined;
  maxRedirects?: number | undefined;
  maxBodyBytes?: number | undefined;
  /** A certificate expiring within this many days makes the step `warning`. */
  certificateWarningDays?: number | undefined;
  tls: TlsOptions;
}

/** What the report shows of the HTTP side of a step. */
export interface HttpSummary {
  method: string;
  url: string;
  status?: number | undefined;
  sizeBytes?: number | undefined;
  redirects: number;
  responseTimeMs?: number | undefined;
}

export interface RequestStepOutcome extends CheckOutcome {
  http: HttpSummary;
  assertions: AssertionOutcome[];
  /** Extracted variables, for the later steps. */
  extracted: Map<string, string>;
  /** Values to mask from now on: OAuth2 tokens and the basic-auth pair. */
  sensitive: string[];
  /** The body as text, for `pageText` conditions; undefined when no response arrived. */
  bodyText?: string | undefined;
}

/** OAuth2 tokens fetched during a run, by token endpoint, client and scope: fetched once per run. */
export type TokenCache = Map<string, string>;

const redirectStatuses = new Set([301, 302, 303, 307, 308]);
/**
 * The only headers a request keeps when a redirect leads to another origin: every other one (Authorization,
 * Cookie, Proxy-Authorization, X-Api-Key, anything the script set that may carry a secret) stays with the
 * origin the script named.
 */
const crossOriginHeaders = new Set(['user-agent', 'accept', 'accept-language', 'content-type']);
const defaultMaxBodyBytes = 10_000_000;

function withQuery(spec: RequestSpec, where: string): URL {
  let url: URL;
  try {
    url = new URL(spec.url);
  } catch {
    throw new EngineError('SCRIPT_INVALID', `${where}.request.url: expected an absolute http(s) URL, got ${JSON.stringify(spec.url.slice(0, 200))}`, 'script');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new EngineError('SCRIPT_INVALID', `${where}.request.url: expected an http:// or https:// URL, got ${url.protocol}`, 'script');
  for (const [name, value] of Object.entries(spec.query ?? {})) url.searchParams.append(name, value);
  return url;
}

function bodyOf(spec: RequestSpec): { body?: string; contentType?: string } {
  const body = spec.body;
  if (body === undefined) return {};
  if (body.type === 'text') return { body: body.value, contentType: body.contentType ?? 'text/plain; charset=utf-8' };
  if (body.type === 'json') return { body: JSON.stringify(body.value), contentType: 'application/json' };
  return { body: new URLSearchParams(body.value).toString(), contentType: 'application/x-www-form-urlencoded' };
}

function hasHeader(headers: Readonly<Record<string, string>>, name: string): boolean {
  return Object.keys(headers).some((key) => key.toLowerCase() === name.toLowerCase());
}

/** Later sets win, whatever the case of the name (`Accept` replaces the default `accept`, never joins it). */
function mergeHeaders(...sets: (Readonly<Record<string, string>> | undefined)[]): Record<string, string> {
  const merged: Record<string, string> = {};
  for (const set of sets) {
    for (const [name, value] of Object.entries(set ?? {})) {
      for (const key of Object.keys(merged)) if (key.toLowerCase() === name.toLowerCase()) delete merged[key];
      merged[name] = value;
    }
  }
  return merged;
}

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}

/** Fetch (or reuse) an OAuth2 client-credentials token. Throws AUTH_FAILED / PROTOCOL_ERROR. */
async function clientCredentialsToken(auth: Extract<AuthSpec, { type: 'oauth2-client-credentials' }>, env: CheckEnvironment, tls: TlsOptions, cache: TokenCache, where: string): Promise<string> {
  const key = JSON.stringify([auth.tokenUrl, auth.clientId, auth.scope ?? '', auth.audience ?? '']);
  const cached = cache.get(key);
  if (cached !== undefined) return cached;
  let url: URL;
  try {
    url = new URL(auth.tokenUrl);
  } catch {
    throw new EngineError('SCRIPT_INVALID', `${where}.auth.tokenUrl: expected an absolute http(s) URL`, 'script');
  }
  const form = new URLSearchParams({ grant_type: 'client_credentials' });
  if (auth.scope !== undefined) form.set('scope', auth.scope);
  if (auth.audience !== undefined) form.set('audience', auth.audience);
  let response: ExchangeResponse;
  try {
    // RFC 6749 section 2.3.1: every server supports the client's credentials in a basic Authorization header.
    response = await exchange(
      {
        method: 'POST',
        url,
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', authorization: basic(encodeURIComponent(auth.clientId), encodeURIComponent(auth.clientSecret)) },
        body: form.toString(),
      },
      env,
      tls,
      1_000_000,
    );
  } catch (error) {
    const failure = error instanceof ExchangeFailure ? error.error : (error as Error);
    throw new EngineError(failure instanceof EngineError ? failure.code : 'AUTH_FAILED', `the OAuth2 token request to ${url.origin}${url.pathname} failed: ${failure.message}`);
  }
  const text = response.body.toString('utf8');
  if (response.status >= 400) {
    let reason = '';
    try {
      const parsed = JSON.parse(text) as { error?: unknown; error_description?: unknown };
      reason = [parsed.error, parsed.error_description].filter((part) => typeof part === 'string').join(': ');
    } catch {
      // No JSON error body: the status says enough.
    }
    throw new EngineError('AUTH_FAILED', `the OAuth2 token endpoint ${url.origin}${url.pathname} refused the client "${auth.clientId}" (HTTP ${response.status}${reason === '' ? '' : `, ${reason}`})`);
  }
  let token: unknown;
  try {
    token = (JSON.parse(text) as { access_token?: unknown }).access_token;
  } catch {
    token = undefined;
  }
  if (typeof token !== 'string' || token === '') throw new EngineError('PROTOCOL_ERROR', `the OAuth2 token endpoint ${url.origin}${url.pathname} answered without an access_token`);
  cache.set(key, token);
  return token;
}

function round(phases: Partial<Record<CheckPhase, number>>): Partial<Record<CheckPhase, number>> {
  return Object.fromEntries(Object.entries(phases).map(([name, value]) => [name, Math.round(value * 100) / 100]));
}

function tlsDetails(response: { tls?: ExchangeResponse['tls'] } | undefined): Record<string, string | number | boolean> {
  const tls = response?.tls;
  if (tls === undefined) return {};
  return {
    tlsProtocol: tls.protocol,
    tlsCipher: tls.cipher,
    certificateSubject: tls.subject,
    certificateIssuer: tls.issuer,
    certificateValidTo: tls.validTo,
    certificateDaysLeft: tls.daysLeft,
    certificateTrusted: tls.authorized,
    ...(tls.authorizationError === undefined ? {} : { certificateProblem: tls.authorizationError }),
  };
}

/**
 * Run one request step: authenticate, send, follow redirects when asked, judge the assertions, extract the
 * variables. Never throws for a failed check: the outcome carries the error (a throw is a bug).
 */
export async function runRequestStep(spec: RequestStepSpec, env: CheckEnvironment, tokens: TokenCache): Promise<RequestStepOutcome> {
  const { clock } = env;
  const method = spec.request.method ?? 'GET';
  const http: HttpSummary = { method, url: spec.request.url, redirects: 0 };
  const sensitive: string[] = [];
  const details: Record<string, string | number | boolean> = {};
  let phases: Partial<Record<CheckPhase, number>> = {};
  let assertions: AssertionOutcome[] = [];
  const base = () => ({ http, assertions, sensitive, details, phases: round(phases), warnings: [] });
  try {
    let url = withQuery(spec.request, spec.where);
    http.url = url.href;
    const { body, contentType } = bodyOf(spec.request);
    const headers = mergeHeaders({ 'user-agent': 'private-checkpoint', accept: '*/*' }, spec.defaultHeaders, spec.request.headers);
    if (contentType !== undefined && !hasHeader(headers, 'content-type')) headers['content-type'] = contentType;
    const auth = spec.auth;
    if (auth !== undefined && !hasHeader(headers, 'authorization')) {
      if (auth.type === 'basic') {
        headers['authorization'] = basic(auth.username, auth.password);
        sensitive.push(`${auth.username}:${auth.password}`);
      } else if (auth.type === 'bearer') {
        headers['authorization'] = `Bearer ${auth.token}`;
      } else {
        const tokenStartMs = clock.nowMs();
        const token = await clientCredentialsToken(auth, env, spec.tls, tokens, spec.where);
        sensitive.push(token);
        details['authTokenMs'] = Math.round((clock.nowMs() - tokenStartMs) * 100) / 100;
        headers['authorization'] = `Bearer ${token}`;
      }
    }
    // The response time starts with the request itself: fetching an OAuth2 token is reported apart (authTokenMs).
    const startMs = clock.nowMs();
    let currentMethod = method;
    let currentBody = body;
    let response: ExchangeResponse;
    const maxRedirects = spec.maxRedirects ?? defaultCheckTimeouts.maxRedirects;
    for (;;) {
      const hopStartMs = clock.nowMs();
      try {
        response = await exchange({ method: currentMethod, url, headers, body: currentBody }, env, spec.tls, spec.maxBodyBytes ?? defaultMaxBodyBytes);
      } catch (error) {
        if (error instanceof ExchangeFailure) {
          phases = error.phases;
          Object.assign(details, tlsDetails(error));
        }
        throw error instanceof ExchangeFailure ? error.error : error;
      }
      phases = response.phases;
      const location = response.headers['location'];
      if (spec.followRedirects === false || !redirectStatuses.has(response.status) || location === undefined) break;
      if (http.redirects >= maxRedirects) throw new EngineError('PROTOCOL_ERROR', `${url.origin}${url.pathname} redirected more than ${maxRedirects} times (settings.maxRedirects)`);
      http.redirects++;
      details['redirectMs'] = Math.round(((details['redirectMs'] as number | undefined ?? 0) + clock.nowMs() - hopStartMs) * 100) / 100;
      const next = new URL(location, url);
      if (url.protocol === 'https:' && next.protocol === 'http:') {
        throw new EngineError('PROTOCOL_ERROR', `${url.origin}${url.pathname} redirected from https to plain http (${next.origin}${next.pathname}): not followed, the request and its headers would travel unencrypted`);
      }
      // 303 always, and 301/302 after a POST as browsers do, turn into a GET without a body.
      if (response.status === 303 || ((response.status === 301 || response.status === 302) && currentMethod === 'POST')) {
        currentMethod = 'GET';
        currentBody = undefined;
        for (const name of Object.keys(headers)) if (name.toLowerCase() === 'content-type') delete headers[name];
      }
      // Credentials, and whatever the script set, are not sent to another origin (nor back once they left).
      if (next.origin !== url.origin) for (const name of Object.keys(headers)) if (!crossOriginHeaders.has(name.toLowerCase())) delete headers[name];
      url = next;
    }
    const responseTimeMs = clock.nowMs() - startMs;
    const text = response.body.toString('utf8');
    const view: ResponseView = { status: response.status, headers: response.headers, text, responseTimeMs, sizeBytes: response.body.length };
    Object.assign(http, { url: url.href, status: response.status, sizeBytes: response.body.length, responseTimeMs: Math.round(responseTimeMs * 100) / 100 });
    Object.assign(details, { status: response.status, remoteAddress: response.remoteAddress, ...tlsDetails(response) });
    if (http.redirects > 0) details['redirects'] = http.redirects;
    const warnings: CheckWarning[] = [];
    const daysLeft = response.tls?.daysLeft;
    if (spec.certificateWarningDays !== undefined && daysLeft !== undefined && daysLeft <= spec.certificateWarningDays) {
      warnings.push({ message: `the certificate of ${url.hostname} expires in ${daysLeft} day${daysLeft === 1 ? '' : 's'} (warning at ${spec.certificateWarningDays})` });
    }
    const outcome = (error?: EngineError, extracted = new Map<string, string>()): RequestStepOutcome => ({ ...base(), warnings, extracted, bodyText: text, ...(error === undefined ? {} : { error }) });
    assertions = judgeAssertions(spec.assertions ?? [], view);
    const failed = assertions.filter((assertion) => !assertion.passed);
    const first = failed[0];
    if (first !== undefined) return outcome(new EngineError('ASSERTION_FAILED', assertionFailureMessage(first, spec.name, failed.length - 1)));
    if (response.status >= 400 && !(spec.assertions ?? []).some((assertion) => assertion.type === 'status')) {
      return outcome(new EngineError('HTTP_ERROR', `Step "${spec.name}": ${method} ${url.origin}${url.pathname} answered HTTP ${response.status} (add a status assertion to expect it)`));
    }
    try {
      return outcome(undefined, extractValues(spec.extract ?? [], view, spec.where));
    } catch (error) {
      return outcome(error instanceof EngineError ? error : new EngineError('EXTRACTION_FAILED', String(error)));
    }
  } catch (error) {
    const engineError = error instanceof EngineError ? error : new EngineError('INTERNAL', error instanceof Error ? error.message : String(error), 'engine');
    return { ...base(), extracted: new Map(), error: engineError };
  }
}
