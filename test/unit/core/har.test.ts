import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  buildHar,
  exchangesFromEvents,
  harTimingsOf,
  redactUrl,
  stepNetworkFromEvents,
  waterfallCap,
  type Har,
  type HarEntry,
} from '../../../engine/core/har.ts';
import { compactNetworkEvent, type NetworkEvent, type RecordedNetworkEvent } from '../../../engine/core/network-events.ts';
import { Redactor, redactedMarker, secretVariants } from '../../../engine/core/redactor.ts';
import { fixtureCanary, harSchemaProblems, loadEvents } from '../../fixtures/cdp-network/har-fixtures.ts';

const redactor = () => new Redactor([fixtureCanary]);

function har(name: string, options: Partial<Parameters<typeof buildHar>[1]> = {}): Har {
  return buildHar(loadEvents(name), { redactor: redactor(), ...options });
}

function entry(log: Har, path: string, index = 0): HarEntry {
  const found = log.log.entries.filter((e) => new URL(e.request.url).pathname === path)[index];
  assert.ok(found, `an entry for ${path} #${index}`);
  return found;
}

function phases(e: HarEntry) {
  const { blocked, dns, connect, ssl, send, wait, receive } = e.timings;
  return { blocked, dns, connect, ssl, send, wait, receive };
}

const tagged = (event: NetworkEvent, step = 0, inStep = true): RecordedNetworkEvent => ({ ...event, step, inStep });

/** A minimal request with the given ResourceTiming (ms ticks relative to requestTime), as CDP reports it. */
function syntheticRequest(timing: Partial<Record<string, number>>, times: { issue: number; requestTime: number; response: number; end: number }): RecordedNetworkEvent[] {
  const fullTiming = {
    requestTime: times.requestTime,
    proxyStart: -1,
    proxyEnd: -1,
    dnsStart: -1,
    dnsEnd: -1,
    connectStart: -1,
    connectEnd: -1,
    sslStart: -1,
    sslEnd: -1,
    sendStart: -1,
    sendEnd: -1,
    receiveHeadersEnd: -1,
    ...timing,
  };
  return [
    tagged({
      method: 'Network.requestWillBeSent',
      params: { requestId: 'r1', request: { url: 'https://app.example/x', method: 'GET', headers: {} }, timestamp: times.issue, wallTime: 1_800_000_000, type: 'XHR' },
    }),
    tagged({
      method: 'Network.responseReceived',
      params: {
        requestId: 'r1',
        timestamp: times.response,
        type: 'XHR',
        response: { url: 'https://app.example/x', status: 200, statusText: 'OK', headers: {}, mimeType: 'application/json', encodedDataLength: 100, timing: fullTiming, protocol: 'h3' },
      },
    }),
    tagged({ method: 'Network.loadingFinished', params: { requestId: 'r1', timestamp: times.end, encodedDataLength: 500 } }),
  ];
}

describe('HAR timings from CDP ResourceTiming', () => {
  it('splits a fresh HTTPS request into blocked, dns, connect with ssl inside, send, wait and receive, and time is end minus issue', () => {
    const e = entry(har('https-page'), '/page');
    // issue 21762.640331, requestTime 21762.649878 (queued 9.547), dnsStart 84.051 … receiveHeadersEnd 93.672, loadingFinished 21762.749772.
    assert.deepEqual(phases(e), { blocked: 93.598, dns: 0.024, connect: 3.677, ssl: 3.435, send: 1.494, wait: 4.426, receive: 6.222 });
    assert.equal(e.timings._blocked_queueing, 9.547);
    assert.equal(e.time, 109.441, 'loadingFinished − requestWillBeSent');
    assert.equal(e.request.httpVersion, 'HTTP/1.1');
    assert.equal(e.connection, '26');
    assert.equal(e.serverIPAddress, '127.0.0.1');
    assert.equal(e.startedDateTime, new Date(1795737430382.127).toISOString(), 'startedDateTime comes from wallTime');
  });

  it('marks dns, connect and ssl as -1 on a reused connection and counts the stall before sendStart as blocked', () => {
    const e = entry(har('https-page'), '/app.js');
    assert.deepEqual(phases(e), { blocked: 16.027, dns: -1, connect: -1, ssl: -1, send: 0.144, wait: 0.973, receive: 3.085 });
    assert.equal(e.connection, '26', 'same connection as the document');
  });

  it('ends wait at receiveHeadersEnd when the response event arrives later, and receive at loadingFinished even when dataReceived comes after it', () => {
    const e = entry(har('login-redirect'), '/login');
    // requestTime 21400.835435; receiveHeadersEnd 13.124 ms but responseReceived only at +15.473 ms: the earlier one
    // ends wait (13.124 − sendEnd 2.11). loadingFinished at 21400.852588 ends receive; dataReceived came 23 ms later.
    assert.equal(e.timings.wait, 11.014);
    assert.equal(e.timings.receive, 4.029);
    assert.equal(e.time, 24.284);
  });

  it('keeps proxy time inside blocked and clamps a QUIC send that starts before the connection is up', () => {
    const events = syntheticRequest(
      { proxyStart: 0, proxyEnd: 3, connectStart: 3, connectEnd: 10, sslStart: 5, sslEnd: 10, sendStart: 8, sendEnd: 9, receiveHeadersEnd: 30 },
      { issue: 100, requestTime: 100.002, response: 100.04, end: 100.05 },
    );
    const [exchange] = exchangesFromEvents(events);
    assert.ok(exchange);
    const timings = harTimingsOf(exchange);
    const rounded = Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, Math.round(v * 1000) / 1000]));
    assert.deepEqual(rounded, { blocked: 5, dns: -1, connect: 7, ssl: 5, send: 0, wait: 20, receive: 18, _blocked_queueing: 2 });
    const e = buildHar(events, { redactor: new Redactor() }).log.entries[0];
    assert.equal(e?.time, 50);
    assert.equal(e?.request.httpVersion, 'HTTP/3.0');
    assert.equal(e?.request.headersSize, -1, 'HTTP/3 headers are compressed: size unknown');
  });
});

describe('HAR redirects, failures and cache hits', () => {
  it('turns a redirect chain into one entry per hop, each with its own response, redirectURL and sizes', () => {
    const log = har('fetches');
    const hops = [entry(log, '/r1'), entry(log, '/r2'), entry(log, '/final')];
    assert.deepEqual(
      hops.map((e) => [e.response.status, e.response.redirectURL, e.response._transferSize, e.response.headersSize, e.response.bodySize]),
      [
        [302, '/r2?session=abc', 233, 233, 0],
        [301, '/final', 164, 164, 0],
        [200, '', 172, 157, 15],
      ],
    );
    // A hop ends when the next one is issued; the chain tiles without gaps.
    assert.deepEqual(phases(hops[0]!), { blocked: 8.898, dns: -1, connect: -1, ssl: -1, send: 0.109, wait: 7.093, receive: 2.224 });
    const end = Date.parse(hops[0]!.startedDateTime) + hops[0]!.time;
    assert.ok(Math.abs(Date.parse(hops[1]!.startedDateTime) - end) <= 1, 'the second hop starts when the first ends');
    assert.deepEqual(
      hops[0]!.response.cookies.map((c) => [c.name, c.value, c.path, c.httpOnly]),
      [
        ['a', redactedMarker, '/', undefined],
        ['b', redactedMarker, '/', true],
      ],
    );
    assert.deepEqual(hops[0]!.request.cookies, [], 'the cookies did not exist before the redirect');
    assert.deepEqual(hops[1]!.request.cookies, [{ name: 'a', value: redactedMarker }, { name: 'b', value: redactedMarker }]);
  });

  it('matches ExtraInfo headers to redirect hops in order, wherever they arrive', () => {
    const log = har('login-redirect');
    const post = entry(log, '/login', 1);
    const dashboard = entry(log, '/dashboard');
    assert.equal(post.request.method, 'POST');
    assert.equal(post.response.status, 303);
    assert.ok(post.response.headers.some((h) => h.name === 'Set-Cookie'), 'the 303 carried Set-Cookie');
    assert.ok(!post.request.headers.some((h) => h.name === 'Cookie'), 'no cookie was sent with the sign-in');
    assert.ok(dashboard.request.headers.some((h) => h.name === 'Cookie' && h.value === redactedMarker), 'the next hop sent it back');
    assert.ok(!dashboard.response.headers.some((h) => h.name === 'Set-Cookie'));
    assert.deepEqual(dashboard.request.cookies, [{ name: 'sid', value: redactedMarker }]);
  });

  it('reports a blocked request as failed with status 0, its error text and all its time as blocked', () => {
    const e = entry(har('fetches'), '/blocked/x');
    assert.equal(e.response.status, 0);
    assert.equal(e._failureText, 'net::ERR_BLOCKED_BY_CLIENT.Inspector');
    assert.equal(e.response._error, 'net::ERR_BLOCKED_BY_CLIENT.Inspector');
    assert.equal(e._blockedReason, 'inspector');
    assert.deepEqual(phases(e), { blocked: 13.54, dns: -1, connect: -1, ssl: -1, send: 0, wait: 0, receive: 0 });
    assert.equal(e.response.bodySize, -1);
    assert.equal(e.response._transferSize, 0);
  });

  it('reports a refused connection and a cancelled request as failures, the cancelled one flagged', () => {
    const log = har('fetches');
    assert.equal(entry(log, '/refused')._failureText, 'net::ERR_CONNECTION_REFUSED');
    assert.equal(entry(log, '/refused')._canceled, undefined);
    const hang = entry(log, '/hang');
    assert.equal(hang._failureText, 'net::ERR_ABORTED');
    assert.equal(hang._canceled, true);
    assert.equal(hang.time, 104.359);
  });

  it('keeps a response still streaming as incomplete, timed to its last data and sized by the bytes seen so far', () => {
    const e = entry(har('fetches'), '/stream');
    assert.equal(e._incomplete, true);
    assert.equal(e.response._transferSize, 157 + 1007);
    assert.equal(e.response.bodySize, -1, 'the final size is unknown');
    assert.equal(e.timings.receive, 52.339);
  });

  it('shows memory-cache hits without network phases and disk-cache hits with no bytes on the wire', () => {
    const log = har('cache');
    const scripts = log.log.entries.filter((e) => e.request.url.endsWith('/app.js'));
    assert.deepEqual(scripts.map((e) => e._fromCache), [undefined, 'memory', 'memory']);
    const memory = scripts[1]!;
    // Its responseReceived repeats the original response's ResourceTiming (an old requestTime): ignored.
    assert.deepEqual(phases(memory), { blocked: -1, dns: -1, connect: -1, ssl: -1, send: 0, wait: 0.113, receive: 0.011 });
    assert.equal(memory.response._transferSize, 0);
    assert.equal(memory.response.bodySize, 0);
    assert.equal(memory.connection, undefined, 'a cache hit used no connection');
    const images = log.log.entries.filter((e) => e.request.url.endsWith('/logo.png'));
    assert.deepEqual(images.map((e) => e._fromCache), [undefined, 'disk', 'disk', 'disk']);
    assert.deepEqual(images.map((e) => e.response._transferSize), [300, 0, 0, 0]);
    assert.equal(images[1]!.response.content.size, 300, 'the decoded size is still known');
    const counts = [0, 1, 2].map((step) => stepNetworkFromEvents(loadEvents('cache'), { step, stepStartWallMs: 0, redactor: new Redactor() }).requests);
    assert.deepEqual(counts, [
      { count: 3, bytes: 3387, failed: 0 },
      { count: 3, bytes: 284, failed: 0 },
      { count: 4, bytes: 284, failed: 0 },
    ]);
  });

  it('produces HAR 1.2 that validates against har-schema for every recorded fixture', () => {
    for (const name of ['login-redirect', 'https-page', 'fetches', 'cache']) {
      const log = har(name, { steps: [0, 1, 2].map((index) => ({ index, name: `Step ${index + 1}`, startedAt: '2026-11-26T23:50:47.000Z' })), requestBodies: 'redacted' });
      assert.deepEqual(harSchemaProblems(log), [], name);
    }
  });

  it('skips data: URLs and keeps only the HAR fields out of a CDP payload', () => {
    const events = [
      tagged({ method: 'Network.requestWillBeSent', params: { requestId: 'd', request: { url: 'data:,', method: 'GET', headers: {} }, timestamp: 1, wallTime: 1 } }),
      ...loadEvents('https-page'),
    ];
    assert.equal(exchangesFromEvents(events).length, 3);
    const raw = loadEvents('fetches').find((e) => e.method === 'Network.requestWillBeSent' && e.params.initiator?.type === 'script');
    assert.ok(raw !== undefined && raw.method === 'Network.requestWillBeSent');
    assert.ok('stack' in (raw.params.initiator ?? {}), 'the recorded initiator has a stack');
    const compact = compactNetworkEvent(raw);
    assert.ok(compact.method === 'Network.requestWillBeSent');
    assert.deepEqual(Object.keys(compact.params.initiator ?? {}), ['type']);
    assert.ok(!('mixedContentType' in compact.params.request));
  });
});

describe('HAR redaction', () => {
  it('replaces Authorization, Proxy-Authorization, Cookie and Set-Cookie values and every cookie value with the marker', () => {
    const log = har('fetches');
    const credentials = log.log.entries.flatMap((e) => [...e.request.headers, ...e.response.headers]).filter((h) => /^(authorization|proxy-authorization|cookie|set-cookie)$/i.test(h.name));
    assert.ok(credentials.length >= 8, `found ${credentials.length} credential headers`);
    assert.ok(credentials.every((h) => h.value === redactedMarker));
    const cookies = log.log.entries.flatMap((e) => [...e.request.cookies, ...e.response.cookies]);
    assert.ok(cookies.length >= 10);
    assert.ok(cookies.every((c) => c.value === redactedMarker));
    const text = JSON.stringify(log);
    assert.ok(!text.includes('Bearer tok-123'));
    assert.ok(!/\b[ab]=[12]\b/.test(text), 'no cookie value survives');
  });

  it('masks a secret in headers, URLs and query strings in its plain, URL-encoded and base64 forms', () => {
    const log = har('fetches');
    const missing = entry(log, '/missing');
    assert.equal(missing.request.headers.find((h) => h.name === 'X-Canary')?.value, redactedMarker, 'plain, in a header');
    assert.deepEqual(missing.request.queryString, [{ name: 'q', value: '1' }, { name: 'lookup', value: redactedMarker }], 'URL-encoded, in the query');
    assert.equal(entry(log, '/r1').request.headers.find((h) => h.name === 'X-Encoded')?.value, redactedMarker, 'base64, in a header');
    const text = JSON.stringify(log);
    for (const variant of secretVariants(fixtureCanary)) assert.ok(!text.includes(variant), `no ${variant}`);
  });

  it('never writes request bodies by default, only their type and size', () => {
    const post = entry(har('login-redirect'), '/login', 1);
    assert.deepEqual(post.request.postData, { mimeType: 'application/x-www-form-urlencoded', text: '', comment: 'Request body not recorded.' });
    assert.equal(post.request.bodySize, 66);
  });

  it('writes textual request bodies on request, with secrets and password-like fields masked', () => {
    const login = entry(har('login-redirect', { requestBodies: 'redacted' }), '/login', 1);
    assert.equal(login.request.postData?.text, 'next=%2Fdashboard&username=demo&password=[redacted]');
    assert.deepEqual(login.request.postData?.params, [
      { name: 'next', value: '/dashboard' },
      { name: 'username', value: 'demo' },
      { name: 'password', value: redactedMarker },
    ]);
    const json = entry(har('fetches', { requestBodies: 'redacted' }), '/slow');
    assert.equal(json.request.postData?.text, JSON.stringify({ user: 'demo', password: redactedMarker, note: `copy of ${redactedMarker}` }), 'password by its name, the canary by its value');
  });

  it('masks secrets in URLs after decoding, sensitive parameter names, and URL passwords, keeping relative URLs relative', () => {
    const r = new Redactor(['s3cr3t/x']);
    // The Redactor itself matches any percent-encoding of each character, so these are masked in the first pass.
    assert.equal(redactUrl('https://a.example/p?q=s3cr3t%2fx&keep=1', r), 'https://a.example/p?q=[redacted]&keep=1', 'lower-case percent-encoding');
    assert.equal(redactUrl('https://a.example/files/s3cr3t%2fx/view', r), 'https://a.example/files/[redacted]/view', 'in a path segment');
    assert.equal(redactUrl('https://a.example/p?q=%73%33%63%72%33%74%2F%78', r), 'https://a.example/p?q=[redacted]', 'every character encoded');
    assert.equal(redactUrl('https://a.example/files/s3cr3t%2Fx/view', r), 'https://a.example/files/[redacted]/view', 'as encodeURIComponent writes it');
    assert.equal(redactUrl('https://a.example/cb?access_token=abc&state=1', r), 'https://a.example/cb?access_token=%5Bredacted%5D&state=1');
    assert.equal(redactUrl('https://user:pw@a.example/', r), 'https://user:%5Bredacted%5D@a.example/');
    assert.equal(redactUrl('/next?api_key=k1', r), '/next?api_key=%5Bredacted%5D');
    assert.equal(redactUrl('/plain?x=1', r), '/plain?x=1');
  });
});

describe('HAR pages and step network summaries', () => {
  it('makes one page per step that ran and points each entry at its step`s page', () => {
    const log = har('cache', {
      steps: [
        { index: 0, name: 'Open', startedAt: '2026-11-26T23:57:23.100Z', navigation: { url: 'http://127.0.0.1:8080/page', domContentLoadedMs: 40, loadMs: 60 } },
        { index: 1, name: 'Again', startedAt: '2026-11-26T23:57:23.200Z' },
        { index: 2, name: 'Reload', startedAt: '2026-11-26T23:57:23.280Z' },
        { index: 3, name: 'Skipped' },
      ],
    });
    assert.deepEqual(
      log.log.pages.map((p) => [p.id, p.title]),
      [
        ['page_1', 'Open'],
        ['page_2', 'Again'],
        ['page_3', 'Reload'],
      ],
    );
    assert.deepEqual(
      log.log.entries.map((e) => e.pageref),
      ['page_1', 'page_1', 'page_1', 'page_2', 'page_2', 'page_2', 'page_3', 'page_3', 'page_3', 'page_3'],
    );
    // The document was requested 35.656 ms after the step started (wallTime 1795737443.135656): page timings shift by that.
    assert.deepEqual(log.log.pages[0]?.pageTimings, { onContentLoad: 75.656, onLoad: 95.656 });
    assert.deepEqual(log.log.pages[1]?.pageTimings, { onContentLoad: -1, onLoad: -1 });
  });

  it('sums a step`s requests, bytes on the wire and failures, and lists its waterfall relative to the step start', () => {
    const events = loadEvents('fetches');
    const first = events.find((e) => e.method === 'Network.requestWillBeSent');
    assert.ok(first?.method === 'Network.requestWillBeSent');
    const summary = stepNetworkFromEvents(events, { step: 0, stepStartWallMs: first.params.wallTime * 1000 - 10, redactor: redactor() });
    assert.deepEqual(summary.requests, { count: 9, bytes: 233 + 164 + 172 + 178 + 171 + 1164, failed: 3 });
    const waterfall = summary.waterfall ?? [];
    assert.equal(waterfall.length, 9);
    assert.deepEqual(waterfall[0], {
      url: 'http://127.0.0.1:8080/r1',
      method: 'GET',
      status: 302,
      resourceType: 'fetch',
      startMs: 10,
      durationMs: 18.32,
      transferBytes: 233,
      phases: { blockedMs: 8.9, sendMs: 0.11, waitMs: 7.09, receiveMs: 2.22 },
    });
    assert.deepEqual(
      waterfall.filter((w) => w.failure !== undefined).map((w) => [new URL(w.url).pathname, w.status, w.failure]),
      [
        ['/blocked/x', 0, 'net::ERR_BLOCKED_BY_CLIENT.Inspector'],
        ['/refused', 0, 'net::ERR_CONNECTION_REFUSED'],
        ['/hang', 0, 'net::ERR_ABORTED'],
      ],
    );
    assert.equal(waterfall.find((w) => w.url.includes('/missing'))?.url, 'http://127.0.0.1:8080/missing?q=1&lookup=[redacted]');
    assert.ok(waterfall.every((w, i) => i === 0 || w.startMs >= (waterfall[i - 1]?.startMs ?? 0)), 'sorted by start');
  });

  it('leaves requests started between steps out of the step counts but keeps them in the HAR, flagged', () => {
    const events = loadEvents('fetches').map((e) => (e.params.requestId === '9655.17' ? { ...e, inStep: false } : e));
    assert.equal(stepNetworkFromEvents(events, { step: 0, stepStartWallMs: 0, redactor: redactor() }).requests.count, 8);
    const stream = entry(buildHar(events, { redactor: redactor() }), '/stream');
    assert.equal(stream._betweenSteps, true);
    assert.equal(stream._step, 0);
  });

  it('caps the waterfall, and gives counts only when HAR capture is off', () => {
    const events = loadEvents('fetches');
    assert.equal(waterfallCap, 300);
    assert.equal(stepNetworkFromEvents(events, { step: 0, stepStartWallMs: 0, redactor: redactor(), cap: 2 }).waterfall?.length, 2);
    const countsOnly = stepNetworkFromEvents(events, { step: 0, stepStartWallMs: 0, redactor: redactor(), waterfall: false });
    assert.equal(countsOnly.waterfall, undefined);
    assert.equal(countsOnly.requests.count, 9);
    assert.equal(stepNetworkFromEvents(events, { step: 1, stepStartWallMs: 0, redactor: redactor() }).requests.count, 0, 'another step saw none of them');
  });
});
