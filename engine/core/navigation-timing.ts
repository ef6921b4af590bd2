import type { NavigationTiming } from '../schema/result.ts';

/** The fields of a PerformanceNavigationTiming entry we read (all in ms relative to its startTime = 0). */
export interface RawNavigationEntry {
  name: string;
  startTime: number;
  redirectStart: number;
  redirectEnd: number;
  redirectCount: number;
  domainLookupStart: number;
  domainLookupEnd: number;
  connectStart: number;
  connectEnd: number;
  secureConnectionStart: number;
  requestStart: number;
  responseStart: number;
  responseEnd: number;
  domContentLoadedEventEnd: number;
  loadEventEnd: number;
  transferSize: number;
  responseStatus?: number;
}

const round = (ms: number): number => Math.round(Math.max(0, ms) * 100) / 100;

/** Difference of two timestamps, 0 when the phase did not happen (either end is 0). */
function phase(start: number, end: number): number {
  return start > 0 && end > 0 ? round(end - start) : 0;
}

/**
 * Break a navigation down the way DevTools does. `ttfbMs` is the server wait (requestStart → responseStart,
 * DevTools' "Waiting for server response"), not the time from navigation start. As in DevTools' "Initial
 * connection", `connectMs` includes the TLS handshake; `tlsMs` is that handshake alone. Milestones
 * (DOMContentLoaded, load) are from navigation start.
 */
export function navigationTimingFrom(entry: RawNavigationEntry): NavigationTiming {
  const start = entry.startTime;
  const timing: NavigationTiming = {
    url: entry.name,
    dnsMs: phase(entry.domainLookupStart, entry.domainLookupEnd),
    connectMs: phase(entry.connectStart, entry.connectEnd),
    tlsMs: entry.secureConnectionStart > 0 ? phase(entry.secureConnectionStart, entry.connectEnd) : 0,
    ttfbMs: phase(entry.requestStart, entry.responseStart),
    downloadMs: phase(entry.responseStart, entry.responseEnd),
    domContentLoadedMs: entry.domContentLoadedEventEnd > 0 ? round(entry.domContentLoadedEventEnd - start) : 0,
    loadMs: entry.loadEventEnd > 0 ? round(entry.loadEventEnd - start) : 0,
    redirectCount: entry.redirectCount,
    redirectMs: phase(entry.redirectStart, entry.redirectEnd),
    transferSizeBytes: Math.max(0, Math.round(entry.transferSize)),
  };
  if (entry.responseStatus !== undefined && entry.responseStatus > 0) timing.httpStatus = entry.responseStatus;
  return timing;
}
