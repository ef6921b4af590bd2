/**
 * Raw CDP Network events as the network collector records them: the subset of each event's fields the HAR and
 * the step waterfall need (shapes follow devtools-protocol `Network.pdl`, so recorded CDP payloads fit as they
 * are), tagged with the step they belong to. Pure data: no browser import here.
 */

/** `Network.ResourceTiming`: `requestTime` is a baseline in seconds (monotonic); the rest are ms relative to it, -1 = did not happen. */
export interface CdpResourceTiming {
  requestTime: number;
  proxyStart: number;
  proxyEnd: number;
  dnsStart: number;
  dnsEnd: number;
  connectStart: number;
  connectEnd: number;
  sslStart: number;
  sslEnd: number;
  workerStart?: number;
  workerReady?: number;
  sendStart: number;
  sendEnd: number;
  receiveHeadersStart?: number;
  receiveHeadersEnd: number;
}

export type CdpHeaders = Record<string, string>;

export interface CdpRequest {
  url: string;
  method: string;
  headers: CdpHeaders;
  /** Small bodies only; Chrome leaves it out of long ones (see `hasPostData`). */
  postData?: string;
  hasPostData?: boolean;
  /** Body parts, each `bytes` in base64. */
  postDataEntries?: { bytes?: string }[];
}

export interface CdpResponse {
  url: string;
  status: number;
  statusText: string;
  headers: CdpHeaders;
  mimeType: string;
  connectionReused?: boolean;
  connectionId?: number;
  remoteIPAddress?: string;
  remotePort?: number;
  fromDiskCache?: boolean;
  fromServiceWorker?: boolean;
  fromPrefetchCache?: boolean;
  /** Bytes received so far for this request (headers, at response time). */
  encodedDataLength: number;
  timing?: CdpResourceTiming;
  /** `http/1.1`, `h2`, `h3`… */
  protocol?: string;
}

export interface RequestWillBeSentParams {
  requestId: string;
  request: CdpRequest;
  /** Monotonic seconds. */
  timestamp: number;
  /** Wall clock, seconds since the epoch (only this event carries it). */
  wallTime: number;
  initiator?: { type: string; url?: string; lineNumber?: number };
  redirectHasExtraInfo?: boolean;
  /** Set when this event is the next hop of a redirect: the response of the previous hop. */
  redirectResponse?: CdpResponse;
  /** Resource type (`Document`, `Script`, `XHR`, `Fetch`…). */
  type?: string;
  frameId?: string;
}

export interface RequestWillBeSentExtraInfoParams {
  requestId: string;
  /** The headers actually sent, including `Cookie`. */
  headers: CdpHeaders;
}

export interface ResponseReceivedParams {
  requestId: string;
  timestamp: number;
  type: string;
  response: CdpResponse;
  hasExtraInfo?: boolean;
}

export interface ResponseReceivedExtraInfoParams {
  requestId: string;
  /** The headers actually received, including `Set-Cookie`. */
  headers: CdpHeaders;
  statusCode?: number;
  /** Raw status line and headers (HTTP/1.x only). */
  headersText?: string;
}

export interface DataReceivedParams {
  requestId: string;
  timestamp: number;
  dataLength: number;
  encodedDataLength: number;
}

export interface LoadingFinishedParams {
  requestId: string;
  timestamp: number;
  /** Total bytes received for the request (headers and body, as transferred). */
  encodedDataLength: number;
}

export interface LoadingFailedParams {
  requestId: string;
  timestamp: number;
  type?: string;
  errorText: string;
  canceled?: boolean;
  blockedReason?: string;
}

export interface RequestServedFromCacheParams {
  requestId: string;
}

export type NetworkEvent =
  | { method: 'Network.requestWillBeSent'; params: RequestWillBeSentParams }
  | { method: 'Network.requestWillBeSentExtraInfo'; params: RequestWillBeSentExtraInfoParams }
  | { method: 'Network.responseReceived'; params: ResponseReceivedParams }
  | { method: 'Network.responseReceivedExtraInfo'; params: ResponseReceivedExtraInfoParams }
  | { method: 'Network.dataReceived'; params: DataReceivedParams }
  | { method: 'Network.loadingFinished'; params: LoadingFinishedParams }
  | { method: 'Network.loadingFailed'; params: LoadingFailedParams }
  | { method: 'Network.requestServedFromCache'; params: RequestServedFromCacheParams };

export type NetworkEventMethod = NetworkEvent['method'];

/** The CDP events the collector subscribes to. */
export const networkEventMethods = [
  'Network.requestWillBeSent',
  'Network.requestWillBeSentExtraInfo',
  'Network.responseReceived',
  'Network.responseReceivedExtraInfo',
  'Network.dataReceived',
  'Network.loadingFinished',
  'Network.loadingFailed',
  'Network.requestServedFromCache',
] as const satisfies readonly NetworkEventMethod[];

/** Where an event belongs: `step` is the step current when it arrived (-1 before the first step). */
export interface NetworkEventTag {
  step: number;
  /** False for events between two steps (after one step's measurement, before the next step starts). */
  inStep: boolean;
  /** Which tab's CDP session reported it (request ids are only unique per session). Default: the first tab. */
  target?: string;
}

export type RecordedNetworkEvent = NetworkEvent & NetworkEventTag;

/** Bodies above this are not kept (the HAR never holds large request bodies). */
export const maxRecordedPostDataBytes = 64 * 1024;

function pickTiming(timing: CdpResourceTiming | undefined): CdpResourceTiming | undefined {
  if (timing === undefined) return undefined;
  const out: CdpResourceTiming = {
    requestTime: timing.requestTime,
    proxyStart: timing.proxyStart,
    proxyEnd: timing.proxyEnd,
    dnsStart: timing.dnsStart,
    dnsEnd: timing.dnsEnd,
    connectStart: timing.connectStart,
    connectEnd: timing.connectEnd,
    sslStart: timing.sslStart,
    sslEnd: timing.sslEnd,
    sendStart: timing.sendStart,
    sendEnd: timing.sendEnd,
    receiveHeadersEnd: timing.receiveHeadersEnd,
  };
  if (timing.workerStart !== undefined) out.workerStart = timing.workerStart;
  if (timing.workerReady !== undefined) out.workerReady = timing.workerReady;
  if (timing.receiveHeadersStart !== undefined) out.receiveHeadersStart = timing.receiveHeadersStart;
  return out;
}

function pickResponse(response: CdpResponse): CdpResponse {
  const out: CdpResponse = {
    url: response.url,
    status: response.status,
    statusText: response.statusText,
    headers: { ...response.headers },
    mimeType: response.mimeType,
    encodedDataLength: response.encodedDataLength,
  };
  const timing = pickTiming(response.timing);
  if (timing !== undefined) out.timing = timing;
  if (response.connectionReused !== undefined) out.connectionReused = response.connectionReused;
  if (response.connectionId !== undefined) out.connectionId = response.connectionId;
  if (response.remoteIPAddress !== undefined) out.remoteIPAddress = response.remoteIPAddress;
  if (response.remotePort !== undefined) out.remotePort = response.remotePort;
  if (response.fromDiskCache !== undefined) out.fromDiskCache = response.fromDiskCache;
  if (response.fromServiceWorker !== undefined) out.fromServiceWorker = response.fromServiceWorker;
  if (response.fromPrefetchCache !== undefined) out.fromPrefetchCache = response.fromPrefetchCache;
  if (response.protocol !== undefined) out.protocol = response.protocol;
  return out;
}

const utf8Length = (text: string): number => new TextEncoder().encode(text).byteLength;

function pickRequest(request: CdpRequest): CdpRequest {
  const out: CdpRequest = { url: request.url, method: request.method, headers: { ...request.headers } };
  if (request.hasPostData !== undefined) out.hasPostData = request.hasPostData;
  if (request.postData !== undefined) {
    if (utf8Length(request.postData) <= maxRecordedPostDataBytes) out.postData = request.postData;
  } else if (request.postDataEntries !== undefined) {
    // base64 is 4/3 of the bytes: keep the parts only when the whole body is small.
    const base64Chars = request.postDataEntries.reduce((sum, entry) => sum + (entry.bytes?.length ?? 0), 0);
    if (base64Chars <= (maxRecordedPostDataBytes * 4) / 3 + 4) out.postDataEntries = request.postDataEntries.map((entry) => (entry.bytes === undefined ? {} : { bytes: entry.bytes }));
  }
  return out;
}

/**
 * Copy only what the HAR needs out of a CDP event payload (no initiator stacks, security details, cookie
 * lists or large bodies), so a long run keeps little in memory and nothing it will never write.
 */
export function compactNetworkEvent(event: NetworkEvent): NetworkEvent {
  switch (event.method) {
    case 'Network.requestWillBeSent': {
      const p = event.params;
      const params: RequestWillBeSentParams = { requestId: p.requestId, request: pickRequest(p.request), timestamp: p.timestamp, wallTime: p.wallTime };
      if (p.initiator !== undefined) {
        params.initiator = { type: p.initiator.type };
        if (p.initiator.url !== undefined) params.initiator.url = p.initiator.url;
        if (p.initiator.lineNumber !== undefined) params.initiator.lineNumber = p.initiator.lineNumber;
      }
      if (p.redirectHasExtraInfo !== undefined) params.redirectHasExtraInfo = p.redirectHasExtraInfo;
      if (p.redirectResponse !== undefined) params.redirectResponse = pickResponse(p.redirectResponse);
      if (p.type !== undefined) params.type = p.type;
      if (p.frameId !== undefined) params.frameId = p.frameId;
      return { method: event.method, params };
    }
    case 'Network.requestWillBeSentExtraInfo':
      return { method: event.method, params: { requestId: event.params.requestId, headers: { ...event.params.headers } } };
    case 'Network.responseReceived': {
      const p = event.params;
      const params: ResponseReceivedParams = { requestId: p.requestId, timestamp: p.timestamp, type: p.type, response: pickResponse(p.response) };
      if (p.hasExtraInfo !== undefined) params.hasExtraInfo = p.hasExtraInfo;
      return { method: event.method, params };
    }
    case 'Network.responseReceivedExtraInfo': {
      const p = event.params;
      const params: ResponseReceivedExtraInfoParams = { requestId: p.requestId, headers: { ...p.headers } };
      if (p.statusCode !== undefined) params.statusCode = p.statusCode;
      if (p.headersText !== undefined) params.headersText = p.headersText;
      return { method: event.method, params };
    }
    case 'Network.dataReceived': {
      const p = event.params;
      return { method: event.method, params: { requestId: p.requestId, timestamp: p.timestamp, dataLength: p.dataLength, encodedDataLength: p.encodedDataLength } };
    }
    case 'Network.loadingFinished': {
      const p = event.params;
      return { method: event.method, params: { requestId: p.requestId, timestamp: p.timestamp, encodedDataLength: p.encodedDataLength } };
    }
    case 'Network.loadingFailed': {
      const p = event.params;
      const params: LoadingFailedParams = { requestId: p.requestId, timestamp: p.timestamp, errorText: p.errorText };
      if (p.type !== undefined) params.type = p.type;
      if (p.canceled !== undefined) params.canceled = p.canceled;
      if (p.blockedReason !== undefined) params.blockedReason = p.blockedReason;
      return { method: event.method, params };
    }
    case 'Network.requestServedFromCache':
      return { method: event.method, params: { requestId: event.params.requestId } };
  }
}
