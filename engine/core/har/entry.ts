/** One HAR entry per exchange: request, response, sizes, timings and the Chrome `_` fields, redacted. */
import type { Redactor } from '../redactor.ts';
import { isCached, type NetworkExchange } from './exchanges.ts';
import { headerList, headerValue, requestCookies, responseCookies } from './headers.ts';
import { postDataOf, utf8Length, type RequestBodyMode } from './post-data.ts';
import { redactUrl } from './redact-url.ts';
import { harTimeOf, harTimingsOf, round3, roundTimings, transferSizeOf } from './timings.ts';
import type { HarEntry, HarNameValue, HarRequest, HarResponse } from './types.ts';

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

export interface EntryOptions {
  redactor: Redactor;
  requestBodies: RequestBodyMode;
  pageIds: ReadonlySet<string>;
}

export function entryOf(exchange: NetworkExchange, options: EntryOptions): HarEntry {
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
