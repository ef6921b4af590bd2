/**
 * navigationTimingFrom on entries shaped like Chrome's `performance.getEntriesByType('navigation')[0].toJSON()`
 * (times in ms relative to the navigation's start).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { navigationTimingFrom } from '../../../engine/core/navigation-timing.ts';

/** HTTPS page reached through two same-origin redirects, on a fresh connection. */
const httpsWithRedirects = {
  name: 'https://intranet.example/orders?q=Globex',
  entryType: 'navigation',
  startTime: 0,
  duration: 903.15,
  initiatorType: 'navigation',
  deliveryType: '',
  nextHopProtocol: 'h2',
  renderBlockingStatus: 'non-blocking',
  workerStart: 0,
  redirectStart: 1.2,
  redirectEnd: 84.7,
  fetchStart: 85.1,
  domainLookupStart: 85.3,
  domainLookupEnd: 97.8,
  connectStart: 97.8,
  secureConnectionStart: 112.4,
  connectEnd: 161.9,
  requestStart: 162.3,
  responseStart: 298.6,
  firstInterimResponseStart: 0,
  responseEnd: 341.05,
  transferSize: 48_231,
  encodedBodySize: 47_931,
  decodedBodySize: 181_204,
  responseStatus: 200,
  serverTiming: [],
  unloadEventStart: 0,
  unloadEventEnd: 0,
  domInteractive: 512.3,
  domContentLoadedEventStart: 530.2,
  domContentLoadedEventEnd: 531.7,
  domComplete: 902.4,
  loadEventStart: 902.4,
  loadEventEnd: 903.15,
  type: 'navigate',
  redirectCount: 2,
  activationStart: 0,
  criticalCHRestart: 0,
};

/** Plain HTTP, no redirect, a 404 page: no TLS phase. */
const httpNotFound = {
  name: 'http://127.0.0.1:8080/missing',
  entryType: 'navigation',
  startTime: 0,
  duration: 48.6,
  initiatorType: 'navigation',
  nextHopProtocol: 'http/1.1',
  workerStart: 0,
  redirectStart: 0,
  redirectEnd: 0,
  fetchStart: 0.9,
  domainLookupStart: 1.1,
  domainLookupEnd: 1.4,
  connectStart: 1.4,
  secureConnectionStart: 0,
  connectEnd: 2.3,
  requestStart: 2.6,
  responseStart: 21.8,
  responseEnd: 22.5,
  transferSize: 1_318,
  encodedBodySize: 1_018,
  decodedBodySize: 1_018,
  responseStatus: 404,
  serverTiming: [],
  unloadEventStart: 0,
  unloadEventEnd: 0,
  domInteractive: 40.2,
  domContentLoadedEventStart: 40.3,
  domContentLoadedEventEnd: 40.4,
  domComplete: 48.5,
  loadEventStart: 48.5,
  loadEventEnd: 48.6,
  type: 'navigate',
  redirectCount: 0,
};

/** A reused keep-alive HTTPS connection, served from the HTTP cache, read before `load` finished. */
const reusedConnectionStillLoading = {
  ...httpsWithRedirects,
  name: 'https://intranet.example/dashboard',
  redirectStart: 0,
  redirectEnd: 0,
  redirectCount: 0,
  fetchStart: 3.5,
  domainLookupStart: 3.5,
  domainLookupEnd: 3.5,
  connectStart: 3.5,
  secureConnectionStart: 3.5,
  connectEnd: 3.5,
  requestStart: 4.25,
  responseStart: 9.75,
  responseEnd: 10.5,
  transferSize: 0,
  responseStatus: 0,
  domContentLoadedEventEnd: 0,
  loadEventEnd: 0,
};

describe('navigationTimingFrom', () => {
  it('breaks an HTTPS navigation with redirects into its phases', () => {
    assert.deepEqual(navigationTimingFrom(httpsWithRedirects), {
      url: 'https://intranet.example/orders?q=Globex',
      dnsMs: 12.5,
      connectMs: 64.1,
      tlsMs: 49.5,
      ttfbMs: 136.3,
      downloadMs: 42.45,
      domContentLoadedMs: 531.7,
      loadMs: 903.15,
      redirectCount: 2,
      redirectMs: 83.5,
      transferSizeBytes: 48_231,
      httpStatus: 200,
    });
  });

  it('measures TTFB as the server wait (requestStart → responseStart), not from navigation start', () => {
    const timing = navigationTimingFrom(httpsWithRedirects);
    assert.equal(timing.ttfbMs, 136.3);
    assert.notEqual(timing.ttfbMs, httpsWithRedirects.responseStart);
  });

  it('counts TLS inside the connect phase, so DNS + connect + TTFB + download span lookup start to response end', () => {
    const timing = navigationTimingFrom(httpsWithRedirects);
    assert.ok(timing.tlsMs <= timing.connectMs);
    const sum = timing.dnsMs + timing.connectMs + timing.ttfbMs + timing.downloadMs;
    // The 0.4 ms gap between connectEnd and requestStart belongs to no phase.
    assert.equal(Math.round(sum * 100) / 100, Math.round((httpsWithRedirects.responseEnd - httpsWithRedirects.domainLookupStart - 0.4) * 100) / 100);
  });

  it('reports no TLS and no redirect for a plain HTTP page, and keeps its 404 status', () => {
    assert.deepEqual(navigationTimingFrom(httpNotFound), {
      url: 'http://127.0.0.1:8080/missing',
      dnsMs: 0.3,
      connectMs: 0.9,
      tlsMs: 0,
      ttfbMs: 19.2,
      downloadMs: 0.7,
      domContentLoadedMs: 40.4,
      loadMs: 48.6,
      redirectCount: 0,
      redirectMs: 0,
      transferSizeBytes: 1_318,
      httpStatus: 404,
    });
  });

  it('reports zero DNS, connect and TLS for a reused connection, zero milestones before they happen, and no unknown status', () => {
    const timing = navigationTimingFrom(reusedConnectionStillLoading);
    assert.deepEqual(timing, {
      url: 'https://intranet.example/dashboard',
      dnsMs: 0,
      connectMs: 0,
      tlsMs: 0,
      ttfbMs: 5.5,
      downloadMs: 0.75,
      domContentLoadedMs: 0,
      loadMs: 0,
      redirectCount: 0,
      redirectMs: 0,
      transferSizeBytes: 0,
    });
    assert.equal('httpStatus' in timing, false);
  });

  it('leaves httpStatus out when the entry has no responseStatus (older browsers)', () => {
    const { responseStatus: _dropped, ...older } = httpNotFound;
    assert.equal('httpStatus' in navigationTimingFrom(older), false);
  });

  it('never reports a negative phase when timestamps are out of order', () => {
    const timing = navigationTimingFrom({ ...httpNotFound, responseStart: 2.0, requestStart: 2.6 });
    assert.equal(timing.ttfbMs, 0);
  });

  it('rounds a fractional transfer size to whole bytes', () => {
    assert.equal(navigationTimingFrom({ ...httpNotFound, transferSize: 300.6 }).transferSizeBytes, 301);
  });
});
