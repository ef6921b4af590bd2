/**
 * HAR timings of an exchange, after Chrome DevTools' `buildTimings`: monotonic clock only, `connect` includes
 * `ssl` and starts at DNS end (so the phases tile the request), -1 for phases that did not happen.
 */
import type { CdpResourceTiming } from '../network-events.ts';
import { isCached, type NetworkExchange } from './exchanges.ts';
import type { HarTimings } from './types.ts';

function leastNonNegative(values: readonly number[]): number {
  return values.reduce((best, value) => (value >= 0 && value < best ? value : best), Infinity);
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
export const round3 = (ms: number): number => (ms <= -1 ? -1 : Math.round(Math.max(0, ms) * 1000) / 1000);
export const round2 = (ms: number): number => Math.round(Math.max(0, ms) * 100) / 100;

export function roundTimings(timings: HarTimings): HarTimings {
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
