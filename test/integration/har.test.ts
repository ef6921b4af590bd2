import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import type { Har, HarEntry } from '../../engine/core/har.ts';
import { redactedMarker, secretVariants } from '../../engine/core/redactor.ts';
import { resultSchema, type RunResult } from '../../engine/schema/result.ts';
import { startDemoSite, type DemoSite } from '../../scripts/demo-site/server.ts';
import { harSchemaProblems } from '../fixtures/cdp-network/har-fixtures.ts';
import { demoSecrets, launchBrowser, runScript } from '../helpers/engine.ts';
import { MemorySink } from '../helpers/memory-sink.ts';

/** The demo password is the canary of the sign-in form; a second one has characters every encoding changes. */
const loginCanary = demoSecrets['DEMO_PASSWORD'] ?? '';
const trickyCanary = 'Cx9!canary pw/+&=~';
const secrets: Record<string, string> = { ...demoSecrets, TRICKY_CANARY: trickyCanary };

/** Every form in which a secret could be written: the Redactor's forms, lower-case and form percent-encoding. */
function leakForms(secret: string): string[] {
  return [
    ...secretVariants(secret),
    encodeURIComponent(secret).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()),
    new URLSearchParams({ x: secret }).toString().slice(2),
  ];
}

/** The text with every run of percent-escapes decoded (so a secret encoded any way shows up plain). */
function percentDecoded(text: string): string {
  return text.replace(/(%[0-9a-fA-F]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run;
    }
  });
}

const pathOf = (e: HarEntry): string => new URL(e.request.url).pathname;

interface Recorded {
  result: RunResult;
  sink: MemorySink;
  har?: Har;
  harText?: string;
}

describe('network collector and HAR on real Chromium', () => {
  let site: DemoSite;
  let browser: Browser;
  /** One recorded run of {@link transaction}, shared by the tests that only read it. */
  let main: Recorded;

  before(async () => {
    site = await startDemoSite({ port: 0 });
    browser = await launchBrowser();
    main = await run();
  });
  after(async () => {
    await browser.close();
    await site.close();
  });

  function transaction(settings: Record<string, unknown> = {}) {
    return {
      name: 'Network and HAR',
      settings: {
        extraHttpHeaders: { 'X-Checkpoint-Canary': '{{secret.DEMO_PASSWORD}}', 'X-Trace': '{{secret.TRICKY_CANARY}}' },
        blockedUrls: ['**/blocked-by-policy/**'],
        ...settings,
      },
      steps: [
        {
          name: 'Log in',
          actions: [
            { type: 'navigate', url: `${site.url}/login?next=/dashboard&hint={{secret.DEMO_PASSWORD}}` },
            { type: 'fill', selector: '#username', value: 'demo' },
            { type: 'fill', selector: '#password', value: '{{secret.DEMO_PASSWORD}}' },
            { type: 'click', selector: 'button[type=submit]' },
            { type: 'assertUrl', contains: '/dashboard' },
          ],
        },
        { name: 'Slow page', actions: [{ type: 'navigate', url: `${site.url}/slow?delayMs=300` }] },
        {
          name: 'API calls',
          actions: [
            {
              type: 'evaluate',
              expression: [
                'Promise.all([',
                "  fetch('/no-such-page').then((r) => r.status),",
                "  fetch('/blocked-by-policy/pixel.gif').then(() => 'loaded', () => 'blocked'),",
                "  fetch('/public/echo-headers?lookup=' + encodeURIComponent('{{secret.TRICKY_CANARY}}') + '&user=demo', { headers: { Authorization: 'Bearer {{secret.TRICKY_CANARY}}' } }).then((r) => r.text()),",
                "]).then(([missing, blocked]) => { if (missing !== 404 || blocked !== 'blocked') throw new Error(`unexpected ${missing} ${blocked}`); return 'ok'; })",
              ].join('\n'),
            },
            { type: 'navigate', url: `${site.url}/` },
            { type: 'assertUrl', contains: '/dashboard' },
          ],
        },
      ],
    };
  }

  async function run(settings: Record<string, unknown> = {}): Promise<Recorded> {
    const sink = new MemorySink();
    const result = await runScript(browser, transaction(settings), {
      secret: (name) => secrets[name],
      artifacts: sink,
      network: { requestBodies: 'redacted' },
    });
    const bytes = sink.files.get('transaction.har');
    if (bytes === undefined) return { result, sink };
    const harText = new TextDecoder().decode(bytes);
    return { result, sink, harText, har: JSON.parse(harText) as Har };
  }

  it('writes a HAR 1.2 that validates, with one page per step and one entry per request the steps counted', () => {
    const { result, har } = main;
    assert.equal(result.status, 'passed', JSON.stringify(result.steps.map((s) => s.error)));
    assert.deepEqual(result.warnings, undefined);
    assert.deepEqual(resultSchema.safeParse(result).error?.issues ?? [], [], 'the step results with waterfalls still match the result schema');
    assert.deepEqual(
      result.artifacts.filter((a) => a.kind === 'har').map((a) => [a.path, a.contentType]),
      [['transaction.har', 'application/json']],
    );
    assert.ok(har !== undefined);
    assert.deepEqual(harSchemaProblems(har), []);
    assert.deepEqual(
      har.log.pages.map((p) => [p.id, p.title]),
      [
        ['page_1', 'Log in'],
        ['page_2', 'Slow page'],
        ['page_3', 'API calls'],
      ],
    );
    assert.ok((har.log.pages[0]?.pageTimings.onLoad ?? -1) > 0, 'the login page load is placed on its page');
    const inSteps = har.log.entries.filter((e) => e._betweenSteps !== true);
    const counted = result.steps.reduce((sum, step) => sum + (step.requests?.count ?? 0), 0);
    assert.equal(inSteps.length, counted, 'every counted request is in the HAR and the other way round');
    for (const [index, step] of result.steps.entries()) {
      const entries = inSteps.filter((e) => e._step === index);
      assert.equal(entries.length, step.requests?.count, `step ${index + 1}`);
      assert.ok(entries.every((e) => e.pageref === `page_${index + 1}`));
      assert.equal(step.requests?.failed, entries.filter((e) => e._failureText !== undefined).length);
      assert.ok((step.requests?.bytes ?? 0) > 0);
    }
  });

  it('times every request so that its phases add up to its time, and measures a 300 ms server wait as wait', () => {
    const { har } = main;
    assert.ok(har !== undefined);
    for (const e of har.log.entries) {
      const { blocked, dns, connect, send, wait, receive, ssl } = e.timings;
      const sum = [blocked, dns, connect, send, wait, receive].reduce((total, t) => total + Math.max(0, t), 0);
      assert.ok(Math.abs(sum - e.time) < 0.01, `${e.request.url}: phases ${sum} vs time ${e.time}`);
      assert.ok(send >= 0 && wait >= 0 && receive >= 0, e.request.url);
      assert.equal(ssl, -1, 'plain HTTP has no TLS');
    }
    const slow = har.log.entries.find((e) => pathOf(e) === '/slow');
    assert.ok(slow !== undefined);
    assert.ok(slow.timings.wait >= 295, `wait ${slow.timings.wait} ms covers the 300 ms the server slept`);
    assert.ok(slow.timings.wait < 1500, `wait ${slow.timings.wait} ms is the server's delay, not much more`);
    assert.equal(slow.response.status, 200);
  });

  it('records the redirect hops, the 404 and the blocked request as the browser saw them', () => {
    const { har } = main;
    assert.ok(har !== undefined);
    const signIn = har.log.entries.find((e) => e.request.method === 'POST' && pathOf(e) === '/login');
    assert.ok(signIn !== undefined);
    assert.equal(signIn.response.status, 303);
    assert.equal(signIn.response.redirectURL, '/dashboard');
    const next = har.log.entries[har.log.entries.indexOf(signIn) + 1];
    assert.equal(next === undefined ? '' : pathOf(next), '/dashboard', 'the next hop follows the 303');
    // One request id, two hops: the second starts when the first ends (wall clock from CDP, 2 ms slack).
    const gapMs = Date.parse(next?.startedDateTime ?? '') - (Date.parse(signIn.startedDateTime) + signIn.time);
    assert.ok(Math.abs(gapMs) <= 2, `gap between hops ${gapMs} ms`);
    const root = har.log.entries.find((e) => pathOf(e) === '/' && e._step === 2);
    assert.equal(root?.response.status, 302);
    assert.equal(har.log.entries.find((e) => pathOf(e) === '/no-such-page')?.response.status, 404);
    const blocked = har.log.entries.find((e) => pathOf(e) === '/blocked-by-policy/pixel.gif');
    assert.equal(blocked?.response.status, 0);
    assert.match(blocked?._failureText ?? '', /ERR_BLOCKED_BY_CLIENT/);
  });

  it('keeps the canary secrets out of the HAR in every form, and redacts Cookie, Set-Cookie and Authorization', () => {
    const { har, harText, result } = main;
    assert.ok(har !== undefined && harText !== undefined);
    const decoded = percentDecoded(harText);
    for (const secret of [loginCanary, trickyCanary]) {
      for (const form of leakForms(secret)) {
        assert.ok(!harText.includes(form), `the HAR contains ${JSON.stringify(form)}`);
      }
      assert.ok(!decoded.includes(secret), 'not even after percent-decoding');
    }
    // The secret did go out: in the form body, a header and query strings, all recorded but masked.
    const signIn = har.log.entries.find((e) => e.request.method === 'POST' && pathOf(e) === '/login');
    assert.equal(signIn?.request.postData?.params?.find((p) => p.name === 'password')?.value, redactedMarker);
    assert.equal(signIn?.request.headers.find((h) => h.name === 'X-Checkpoint-Canary')?.value, redactedMarker);
    assert.deepEqual(har.log.entries.find((e) => e.request.url.includes('/login?'))?.request.queryString.find((q) => q.name === 'hint'), { name: 'hint', value: redactedMarker });
    const echo = har.log.entries.find((e) => pathOf(e) === '/public/echo-headers');
    assert.deepEqual(echo?.request.queryString, [
      { name: 'lookup', value: redactedMarker },
      { name: 'user', value: 'demo' },
    ]);
    const headers = har.log.entries.flatMap((e) => [...e.request.headers, ...e.response.headers]);
    for (const name of ['authorization', 'cookie', 'set-cookie']) {
      const found = headers.filter((h) => h.name.toLowerCase() === name);
      assert.ok(found.length > 0, `a ${name} header was recorded`);
      assert.ok(found.every((h) => h.value === redactedMarker), `${name} values are redacted`);
    }
    const cookies = har.log.entries.flatMap((e) => [...e.request.cookies, ...e.response.cookies]);
    assert.ok(cookies.some((c) => c.name === 'sid'));
    assert.ok(cookies.every((c) => c.value === redactedMarker || c.value === ''));
    assert.ok(!harText.includes('Quarterly') && !harText.includes('<html'), 'no response bodies');
    assert.ok(!JSON.stringify(result).includes(trickyCanary));
  });

  it('puts each step`s requests in its waterfall with phases, relative to the step start', () => {
    const { result } = main;
    const [login, slow, api] = result.steps;
    const loginRows = login?.waterfall ?? [];
    assert.ok(loginRows.some((w) => w.method === 'POST' && w.status === 303 && w.url.endsWith('/login')));
    assert.ok(loginRows.every((w) => w.startMs >= 0 && w.durationMs >= 0 && w.transferBytes >= 0));
    const slowRow = slow?.waterfall?.find((w) => w.url.includes('/slow'));
    assert.ok(slowRow !== undefined);
    assert.equal(slowRow.resourceType, 'document');
    assert.ok((slowRow.phases?.waitMs ?? 0) >= 295, `waterfall wait ${slowRow.phases?.waitMs}`);
    assert.ok(slowRow.durationMs >= (slowRow.phases?.waitMs ?? 0));
    assert.ok(slowRow.startMs <= (slow?.durationMs ?? 0), 'it started within the step');
    const apiRows = api?.waterfall ?? [];
    assert.deepEqual(
      apiRows.filter((w) => w.url.includes('/no-such-page') || w.url.includes('/blocked-by-policy')).map((w) => [w.status, w.failure?.includes('ERR_BLOCKED_BY_CLIENT') ?? false]),
      [
        [404, false],
        [0, true],
      ],
    );
    assert.equal(api?.requests?.failed, 1);
    assert.ok(apiRows.every((w) => !w.url.includes('Cx9')), 'waterfall URLs are redacted');
  });

  it('writes no HAR and no waterfall when the script turns HAR capture off, but still counts requests', async () => {
    const { result, sink } = await run({ har: false });
    assert.equal(result.status, 'passed');
    assert.equal(sink.files.size, 0);
    assert.ok(!result.artifacts.some((a) => a.kind === 'har'));
    assert.ok(result.steps.every((s) => s.waterfall === undefined));
    assert.ok(result.steps.every((s) => (s.requests?.count ?? 0) > 0));
  });

  it('records the requests of a tab the transaction opens', async () => {
    const sink = new MemorySink();
    const result = await runScript(
      browser,
      {
        name: 'Popup',
        steps: [
          {
            name: 'Log in',
            actions: [
              { type: 'navigate', url: `${site.url}/login` },
              { type: 'fill', selector: '#username', value: 'demo' },
              { type: 'fill', selector: '#password', value: '{{secret.DEMO_PASSWORD}}' },
              { type: 'click', selector: 'button[type=submit]' },
              { type: 'assertUrl', contains: '/dashboard' },
            ],
          },
          {
            name: 'Open the report',
            actions: [
              { type: 'click', selector: '#popup-link' },
              { type: 'switchTab', to: 'latest' },
              { type: 'assertText', selector: '#popup-text', text: 'Quarterly figures' },
              { type: 'evaluate', expression: "fetch('/public/echo-headers?from=popup').then((r) => r.status)" },
            ],
          },
        ],
      },
      { artifacts: sink },
    );
    assert.equal(result.status, 'passed', JSON.stringify(result.steps.map((s) => s.error)));
    const bytes = sink.files.get('transaction.har');
    assert.ok(bytes !== undefined);
    const har = JSON.parse(new TextDecoder().decode(bytes)) as Har;
    const fromPopup = har.log.entries.find((e) => e.request.url.endsWith('/public/echo-headers?from=popup'));
    assert.ok(fromPopup !== undefined, 'a request made in the popup is recorded');
    assert.equal(fromPopup._step, 1);
    assert.ok(result.steps[1]?.waterfall?.some((w) => w.url.endsWith('from=popup')));
  });
});
