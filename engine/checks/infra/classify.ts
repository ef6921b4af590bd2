import type { ErrorCode } from '../../schema/error-codes.ts';

/** Node and OpenSSL codes that mean the TCP connection could not be made or was cut. */
const connectCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EPIPE', 'ECONNABORTED', 'EADDRNOTAVAIL', 'ERR_SOCKET_CLOSED', 'ERR_STREAM_PREMATURE_CLOSE']);
const dnsCodes = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ENODATA', 'ESERVFAIL', 'EREFUSED', 'ENONAME']);

/** Certificate verification codes (OpenSSL's names as Node reports them). */
const certificateCodes = /^(CERT_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_|ERR_TLS_CERT|ERR_SSL|HOSTNAME_MISMATCH|ERR_TLS|INVALID_CA|PATH_LENGTH|CERT_UNTRUSTED)/;

export function errorCodeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

export function errorMessageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/**
 * A thrown client error (not an EngineError) as a code and a clause, for the errors every kind shares:
 * refused or reset connections, DNS, certificates. What is left is a protocol error of the server; kinds that
 * know better (an authentication reply) throw an EngineError of their own before this is reached.
 */
export function classifyError(error: unknown, activity: string): { code: ErrorCode; what: string } {
  const code = errorCodeOf(error);
  const message = errorMessageOf(error);
  if (code !== undefined && connectCodes.has(code)) return { code: 'CONNECT_FAILED', what: `the connection failed while ${activity} (${code}: ${message})` };
  if (code !== undefined && dnsCodes.has(code)) return { code: 'DNS_FAILED', what: `the name did not resolve (${code}: ${message})` };
  if ((code !== undefined && certificateCodes.test(code)) || /certificate|self[- ]signed|TLS|SSL/i.test(message)) {
    return { code: 'TLS_FAILED', what: `TLS failed while ${activity}: ${message}` };
  }
  return { code: 'PROTOCOL_ERROR', what: `the server broke off while ${activity}: ${message}` };
}
