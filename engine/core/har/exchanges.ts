/** CDP Network events → exchanges: one per request hop; a redirect chain is several exchanges with one request id. */
import { egressAbortErrorText, egressBlockedText } from '../egress-policy.ts';
import type { CdpHeaders, CdpRequest, CdpResponse, RecordedNetworkEvent } from '../network-events.ts';

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

/** Target (tab) + request id: the key of a request across its events. */
export const keyOf = (event: RecordedNetworkEvent): string => `${event.target ?? ''}|${event.params.requestId}`;

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
        // The egress guard's refusals say so, instead of Chromium's generic "access denied".
        const errorText = p.errorText === egressAbortErrorText ? egressBlockedText : p.errorText;
        exchange.failure = p.blockedReason === undefined ? { errorText, canceled: p.canceled === true } : { errorText, canceled: p.canceled === true, blockedReason: p.blockedReason };
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

/** Answered from a cache (memory, disk or prefetch) rather than the network. */
export function isCached(exchange: NetworkExchange): boolean {
  return exchange.servedFromCache || exchange.response?.fromDiskCache === true || exchange.response?.fromPrefetchCache === true;
}
