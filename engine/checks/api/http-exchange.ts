import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, getCACertificates, type PeerCertificate, type TLSSocket } from 'node:tls';
import { Client, type Dispatcher } from 'undici';
import { EngineError } from '../../core/errors.ts';
import type { CheckEnvironment, CheckPhase } from '../check-types.ts';

/**
 * One HTTP exchange on a fresh connection, with honest phases. undici does the HTTP (pick: maintained by the
 * Node.js project, the client behind `fetch`, and its `connect` hook hands us the socket): we open that socket
 * ourselves to the address `env.lookup` vetted, so DNS, TCP connect and the TLS handshake are timed one by one
 * on the monotonic clock, client certificates and the checkpoint's CA bundle go into the handshake, and TLS
 * still verifies against the host name. A fresh connection per request means every request shows all its
 * phases, as a first visitor's would.
 */

export interface ExchangeRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: string | undefined;
}

export interface TlsOptions {
  /** Accept certificates that do not verify (the details are still reported). */
  ignoreHttpsErrors?: boolean | undefined;
  clientCertificate?: { cert: string; key: string; passphrase?: string | undefined } | undefined;
}

export interface TlsDetails {
  protocol: string;
  cipher: string;
  subject: string;
  issuer: string;
  validTo: string;
  daysLeft: number;
  authorized: boolean;
  authorizationError?: string | undefined;
}

export interface ExchangeResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  phases: Partial<Record<CheckPhase, number>>;
  /** The address connected to (after the vetted lookup). */
  remoteAddress: string;
  tls?: TlsDetails | undefined;
}

/** An exchange that failed: what was measured before the failure, and the error to report. */
export class ExchangeFailure extends Error {
  readonly error: EngineError;
  readonly phases: Partial<Record<CheckPhase, number>>;
  readonly tls: TlsDetails | undefined;

  constructor(error: EngineError, phases: Partial<Record<CheckPhase, number>>, tls?: TlsDetails) {
    super(error.message);
    this.error = error;
    this.phases = phases;
    this.tls = tls;
  }
}

const defaultPorts: Record<string, number> = { 'http:': 80, 'https:': 443 };
const dayMs = 86_400_000;

function describeName(name: PeerCertificate['subject'] | undefined): string {
  if (name === undefined) return '';
  const cn = name.CN;
  const org = name.O;
  const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);
  return [first(cn) === undefined ? undefined : `CN=${first(cn)}`, first(org) === undefined ? undefined : `O=${first(org)}`].filter((part) => part !== undefined).join(', ');
}

function tlsDetailsOf(socket: TLSSocket, env: CheckEnvironment): TlsDetails | undefined {
  const cert = socket.getPeerCertificate();
  if (Object.keys(cert).length === 0) return undefined;
  const validToMs = Date.parse(cert.valid_to);
  return {
    protocol: socket.getProtocol() ?? '',
    cipher: socket.getCipher().name,
    subject: describeName(cert.subject),
    issuer: describeName(cert.issuer),
    validTo: Number.isNaN(validToMs) ? cert.valid_to : new Date(validToMs).toISOString(),
    daysLeft: Number.isNaN(validToMs) ? 0 : Math.floor((validToMs - env.clock.wallNow().getTime()) / dayMs),
    authorized: socket.authorized,
    ...(socket.authorized ? {} : { authorizationError: String(socket.authorizationError) }),
  };
}

/** Why a certificate was refused, in words, with OpenSSL's code for searching. */
export function certificateProblem(code: string): string {
  if (code === 'CERT_HAS_EXPIRED') return `it has expired (${code})`;
  if (code === 'CERT_NOT_YET_VALID') return `it is not valid yet (${code})`;
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `it is not for this host name (${code})`;
  if (/SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/.test(code)) return `it is not issued by a trusted CA; add the CA to the checkpoint's CA bundle (${code})`;
  return code;
}

/** Network errors as one sentence with the code they deserve. */
export function networkError(error: unknown, target: string): EngineError {
  if (error instanceof EngineError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? '';
  const reason = error instanceof Error ? error.message : String(error);
  if (code === 'ECONNREFUSED') return new EngineError('CONNECT_FAILED', `the connection to ${target} was refused`);
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET') return new EngineError('CONNECT_FAILED', `the connection to ${target} was closed by the server (${code})`);
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'ETIMEDOUT') return new EngineError('CONNECT_FAILED', `${target} could not be reached (${code})`);
  if (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS') || /certificate|ssl|tls/i.test(reason)) return new EngineError('TLS_FAILED', `the TLS handshake with ${target} failed: ${reason}`);
  if (code.startsWith('UND_ERR_') || code === 'HPE_INVALID_CONSTANT' || code.startsWith('HPE_')) return new EngineError('PROTOCOL_ERROR', `${target} did not answer with valid HTTP: ${reason}`);
  return new EngineError('CONNECT_FAILED', `the request to ${target} failed: ${reason}`);
}

/**
 * Send one request and read the whole response (at most `maxBodyBytes`). Resolves with the response and its
 * phases; rejects with ExchangeFailure (the phases measured so far and the error) — never anything else.
 */
export async function exchange(request: ExchangeRequest, env: CheckEnvironment, tls: TlsOptions, maxBodyBytes: number): Promise<ExchangeResponse> {
  const { clock, deadline } = env;
  const phases: Partial<Record<CheckPhase, number>> = {};
  const url = request.url;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = url.port === '' ? (defaultPorts[url.protocol] ?? 80) : Number(url.port);
  const target = `${host}:${port}`;
  const secure = url.protocol === 'https:';
  let tlsDetails: TlsDetails | undefined;
  let readyAtMs: number | undefined;
  let client: Client | undefined;
  const fail = (error: unknown): never => {
    const reason = deadline.ended ? deadline.reason : undefined;
    throw new ExchangeFailure(reason instanceof EngineError ? reason : networkError(error, target), phases, tlsDetails);
  };
  try {
    deadline.throwIfEnded();
    const resolved = await deadline.race(env.lookup(host));
    phases.dnsMs = resolved.dnsMs;
    const remoteAddress = resolved.address;
    const connector = (_options: unknown, callback: (...args: [null, Socket | TLSSocket] | [Error, null]) => void): void => {
      let settled = false;
      const done = (error: Error | null, socket?: Socket | TLSSocket) => {
        if (settled) return;
        settled = true;
        deadline.signal.removeEventListener('abort', onAbort);
        if (error === null && socket !== undefined) callback(null, socket);
        else callback(error ?? new Error('no socket'), null);
      };
      const connectStartMs = clock.nowMs();
      const raw = netConnect({ host: resolved.address, port, family: resolved.family });
      const onAbort = () => {
        raw.destroy();
        done(deadline.reason ?? new Error('aborted'));
      };
      deadline.signal.addEventListener('abort', onAbort, { once: true });
      raw.once('error', (error: Error) => done(error));
      raw.once('connect', () => {
        phases.connectMs = clock.nowMs() - connectStartMs;
        if (!secure) {
          readyAtMs = clock.nowMs();
          done(null, raw);
          return;
        }
        const tlsStartMs = clock.nowMs();
        const extraCa = env.caCertificates;
        const socket = tlsConnect({
          socket: raw,
          ...(isIP(host) === 0 ? { servername: host } : {}),
          host,
          // We judge the certificate ourselves after the handshake, so its details are known even when it fails.
          rejectUnauthorized: false,
          ALPNProtocols: ['http/1.1'],
          // Node's default store (its roots and NODE_EXTRA_CA_CERTS) plus the checkpoint's own CAs.
          ...(extraCa.length > 0 ? { ca: [...getCACertificates('default'), ...extraCa] } : {}),
          ...(tls.clientCertificate === undefined
            ? {}
            : { cert: tls.clientCertificate.cert, key: tls.clientCertificate.key, ...(tls.clientCertificate.passphrase === undefined ? {} : { passphrase: tls.clientCertificate.passphrase }) }),
        });
        socket.once('error', (error: Error) => done(error));
        socket.once('secureConnect', () => {
          phases.tlsMs = clock.nowMs() - tlsStartMs;
          tlsDetails = tlsDetailsOf(socket, env);
          if (!socket.authorized && tls.ignoreHttpsErrors !== true) {
            socket.destroy();
            const why = String(socket.authorizationError);
            const subject = tlsDetails === undefined ? '' : ` (certificate ${tlsDetails.subject}, issued by ${tlsDetails.issuer}, valid to ${tlsDetails.validTo.slice(0, 10)})`;
            done(new EngineError('TLS_FAILED', `the certificate of ${target} was not accepted: ${certificateProblem(why)}${subject}`));
            return;
          }
          readyAtMs = clock.nowMs();
          done(null, socket);
        });
      });
    };
    client = new Client(url.origin, { connect: connector as never, pipelining: 1, headersTimeout: 0, bodyTimeout: 0 });
    const options: Dispatcher.RequestOptions = {
      path: `${url.pathname}${url.search}`,
      method: request.method,
      headers: request.headers,
      signal: deadline.signal,
      ...(request.body === undefined ? {} : { body: request.body }),
    };
    const response = await deadline.race(client.request(options));
    const headersAtMs = clock.nowMs();
    phases.ttfbMs = headersAtMs - (readyAtMs ?? headersAtMs);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of response.body) {
      const bytes = chunk as Buffer;
      size += bytes.length;
      if (size > maxBodyBytes) {
        response.body.destroy();
        throw new EngineError('PROTOCOL_ERROR', `the response of ${target} is larger than ${maxBodyBytes} bytes (settings.maxBodyBytes)`);
      }
      chunks.push(bytes);
    }
    phases.downloadMs = clock.nowMs() - headersAtMs;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(response.headers)) {
      if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
    }
    return { status: response.statusCode, headers, body: Buffer.concat(chunks), phases, remoteAddress, tls: tlsDetails };
  } catch (error) {
    return fail(error);
  } finally {
    void client?.destroy().catch(() => undefined);
  }
}
