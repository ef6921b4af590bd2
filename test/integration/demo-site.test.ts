/**
 * HTTP-level tests of the bundled demo intranet site (no browser): the contract that example transaction
 * scripts rely on — paths, ids, texts, redirects, cookies, uploads and delays.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startDemoSite, type DemoSite } from '../../scripts/demo-site/main.ts';

let site: DemoSite;
let sessionCookie: string;

/** Signs in as the demo user and returns the `sid=…` cookie pair. */
async function signIn(): Promise<string> {
  const response = await fetch(`${site.url}/login`, {
    method: 'POST',
    body: new URLSearchParams({ username: 'demo', password: 'demo-password' }),
    redirect: 'manual',
  });
  assert.equal(response.status, 303);
  const setCookie = response.headers.get('set-cookie') ?? '';
  const pair = setCookie.split(';')[0] ?? '';
  assert.match(pair, /^sid=[A-Za-z0-9_-]{16,}$/);
  return pair;
}

/** Requests a path as the signed-in user (GET unless `init` says otherwise). */
function getSignedIn(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set('cookie', sessionCookie);
  return fetch(`${site.url}${path}`, { ...init, headers, redirect: 'manual' });
}

before(async () => {
  site = await startDemoSite();
  sessionCookie = await signIn();
});

after(async () => {
  await site.close();
});

describe('demo site: startup', () => {
  it('serves on loopback with distinct origins for the site and the partner server', () => {
    assert.match(site.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(site.crossOriginUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(site.url, site.crossOriginUrl);
  });
});

describe('demo site: sign-in', () => {
  it('shows the sign-in form with labelled fields', async () => {
    const response = await fetch(`${site.url}/login`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(response.headers.get('cache-control'), 'no-store');
    const html = await response.text();
    assert.match(html, /<h1>Sign in<\/h1>/);
    assert.match(html, /<title>Sign in · Acme Intranet<\/title>/);
    assert.match(html, /<label for="username">Username<\/label><input id="username" name="username" data-testid="username"/);
    assert.match(html, /<input id="password" type="password" name="password" data-testid="password"/);
    assert.match(html, /<button type="submit">Sign in<\/button>/);
  });

  it('sets an HttpOnly session cookie and redirects to the dashboard on good credentials', async () => {
    const response = await fetch(`${site.url}/login`, {
      method: 'POST',
      body: new URLSearchParams({ username: 'demo', password: 'demo-password' }),
      redirect: 'manual',
    });
    assert.equal(response.status, 303);
    assert.equal(response.headers.get('location'), '/dashboard');
    const setCookie = response.headers.get('set-cookie') ?? '';
    assert.match(setCookie, /^sid=[^;]+; HttpOnly; Path=\/; SameSite=Lax$/);
  });

  it('re-renders the form with an error on bad credentials', async () => {
    const response = await fetch(`${site.url}/login`, {
      method: 'POST',
      body: new URLSearchParams({ username: 'demo', password: 'wrong' }),
      redirect: 'manual',
    });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('set-cookie'), null);
    const html = await response.text();
    assert.match(html, /<p role="alert" class="error" id="login-error">Invalid username or password<\/p>/);
  });

  it('returns to a safe relative next path, but never to another origin', async () => {
    const post = (next: string): Promise<Response> =>
      fetch(`${site.url}/login`, {
        method: 'POST',
        body: new URLSearchParams({ username: 'demo', password: 'demo-password', next }),
        redirect: 'manual',
      });
    assert.equal((await post('/orders?q=globex')).headers.get('location'), '/orders?q=globex');
    assert.equal((await post('//evil.example/x')).headers.get('location'), '/dashboard');
    assert.equal((await post('https://evil.example/')).headers.get('location'), '/dashboard');
    assert.equal((await post('/\\evil.example')).headers.get('location'), '/dashboard');
  });

  it('redirects to sign-in, remembering the page, without a session', async () => {
    const response = await fetch(`${site.url}/orders?q=globex`, { redirect: 'manual' });
    assert.equal(response.status, 302);
    const location = response.headers.get('location') ?? '';
    assert.match(location, /^\/login\?next=/);
    assert.equal(new URL(location, site.url).searchParams.get('next'), '/orders?q=globex');
  });

  it('redirects / according to the session', async () => {
    assert.equal((await fetch(`${site.url}/`, { redirect: 'manual' })).headers.get('location'), '/login');
    assert.equal((await getSignedIn('/')).headers.get('location'), '/dashboard');
  });

  it('signs out by clearing the cookie and forgetting the session', async () => {
    const cookie = await signIn();
    const logout = await fetch(`${site.url}/logout`, { headers: { cookie }, redirect: 'manual' });
    assert.equal(logout.status, 303);
    assert.equal(logout.headers.get('location'), '/login');
    assert.match(logout.headers.get('set-cookie') ?? '', /^sid=;.*Max-Age=0/);
    const after = await fetch(`${site.url}/dashboard`, { headers: { cookie }, redirect: 'manual' });
    assert.equal(after.status, 302);
  });
});

describe('demo site: signed-in pages', () => {
  it('renders the dashboard with navigation, user name and KPIs', async () => {
    const response = await getSignedIn('/dashboard');
    assert.equal(response.status, 200);
    const html = await response.text();
    assert.match(html, /<title>Dashboard · Acme Intranet<\/title>/);
    assert.match(html, /<h1>Dashboard<\/h1>/);
    assert.match(html, /<p id="welcome">Welcome back, demo<\/p>/);
    assert.match(html, /<span id="user-name">demo<\/span>/);
    for (const [href, text] of [
      ['/dashboard', 'Dashboard'],
      ['/orders', 'Orders'],
      ['/form', 'New request'],
      ['/app', 'Reports app'],
      ['/frames', 'Frames'],
      ['/playground', 'Playground'],
      ['/logout', 'Sign out'],
    ] as const) {
      assert.ok(html.includes(`href="${href}"`) && html.includes(`>${text}</a>`), `nav link ${text}`);
    }
    assert.match(html, /data-testid="kpi-open-orders">15</);
    assert.match(html, /<a id="popup-link" href="\/popup-target" target="_blank">Open popup report<\/a>/);
    assert.match(html, /window\.open\('\/popup-target', 'report', 'width=600,height=400'\)/);
  });

  it('filters orders by customer and id, case-insensitively', async () => {
    const count = async (query: string): Promise<{ text: string; rows: number }> => {
      const html = await (await getSignedIn(`/orders${query}`)).text();
      return {
        text: /<p id="result-count">([^<]*)<\/p>/.exec(html)?.[1] ?? '',
        rows: html.match(/<tr data-testid="order-row">/g)?.length ?? 0,
      };
    };
    assert.deepEqual(await count(''), { text: '30 orders', rows: 30 });
    assert.deepEqual(await count('?q=GLOBEX'), { text: '6 orders', rows: 6 });
    assert.deepEqual(await count('?q=so-1001'), { text: '1 order', rows: 1 });
    assert.deepEqual(await count('?q=globex&status=open'), { text: '3 orders', rows: 3 });
    assert.deepEqual(await count('?status=shipped'), { text: '15 orders', rows: 15 });
    assert.deepEqual(await count('?q=nobody'), { text: '0 orders', rows: 0 });
  });

  it('renders order rows with the agreed cells and money format', async () => {
    const html = await (await getSignedIn('/orders?q=SO-1001')).text();
    assert.match(html, /<table id="orders">/);
    assert.match(html, /<td class="order-id"><a href="\/orders\/SO-1001">SO-1001<\/a><\/td>/);
    assert.match(html, /<td class="customer">Globex<\/td>/);
    assert.match(html, /<td class="total">\$1,234\.50<\/td>/);
    assert.match(html, /<input type="search" name="q" aria-label="Search orders" placeholder="Search orders" value="SO-1001">/);
  });

  it('escapes the search text it echoes back', async () => {
    const html = await (await getSignedIn(`/orders?q=${encodeURIComponent('"><script>x</script>')}`)).text();
    assert.ok(!html.includes('<script>x</script>'));
    assert.ok(html.includes('&quot;&gt;&lt;script&gt;x&lt;/script&gt;'));
  });

  it('shows an order detail page, and 404 for an unknown order', async () => {
    const found = await getSignedIn('/orders/SO-1001');
    assert.equal(found.status, 200);
    const html = await found.text();
    assert.match(html, /<h1>Order SO-1001<\/h1>/);
    assert.match(html, /<dd id="order-total">\$1,234\.50<\/dd>/);
    assert.match(html, /<dd id="order-customer">Globex<\/dd>/);

    const missing = await getSignedIn('/orders/SO-9999');
    assert.equal(missing.status, 404);
    assert.match(await missing.text(), /<h1>Order not found<\/h1>/);
  });

  it('returns 404 for unknown paths', async () => {
    const response = await getSignedIn('/no-such-page');
    assert.equal(response.status, 404);
    assert.equal(response.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.match(await response.text(), /<h1>Not found<\/h1>/);
  });
});

describe('demo site: request form', () => {
  it('renders the form fields', async () => {
    const html = await (await getSignedIn('/form')).text();
    assert.match(html, /<form method="post" action="\/form" enctype="multipart\/form-data"/);
    assert.match(html, /<input id="title" name="title" required>/);
    assert.match(html, /<option value="hr">Human resources<\/option>/);
    assert.match(html, /<input type="checkbox" id="urgent" name="urgent" value="yes">/);
    assert.match(html, /<input type="radio" id="priority-high" name="priority" value="high"/);
    assert.match(html, /<input type="file" id="attachment" name="attachment">/);
    assert.match(html, /<button type="submit">Submit request<\/button>/);
  });

  it('accepts a multipart submission with a file and summarises it, escaped', async () => {
    const form = new FormData();
    form.set('title', 'New laptop <fast>');
    form.set('department', 'finance');
    form.set('urgent', 'yes');
    form.set('priority', 'high');
    form.set('due', '2026-12-24');
    form.set('notes', 'Line one\r\nLine "two" & more');
    form.set('attachment', new Blob(['hello, world'], { type: 'text/plain' }), 'quote.txt');
    const response = await getSignedIn('/form', { method: 'POST', body: form });
    assert.equal(response.status, 200);
    const html = await response.text();
    assert.match(html, /<h1>Request submitted<\/h1>/);
    assert.match(html, /<dl id="summary"/);
    assert.match(html, /<dd id="summary-title">New laptop &lt;fast&gt;<\/dd>/);
    assert.match(html, /<dd id="summary-department">Finance<\/dd>/);
    assert.match(html, /<dd id="summary-urgent">yes<\/dd>/);
    assert.match(html, /<dd id="summary-priority">high<\/dd>/);
    assert.match(html, /<dd id="summary-due">2026-12-24<\/dd>/);
    assert.match(html, /<dd id="summary-attachment">quote\.txt \(12 bytes\)<\/dd>/);
    assert.match(html, /<dd id="summary-notes">Line one\r\nLine &quot;two&quot; &amp; more<\/dd>/);
    assert.match(html, /<p id="request-id">REQ-\d{4}<\/p>/);
  });

  it('keeps binary file content intact and reports "none" without a file', async () => {
    const bytes = new Uint8Array(1000).map((_, i) => i % 256);
    const withFile = new FormData();
    withFile.set('title', 'Binary');
    withFile.set('attachment', new Blob([bytes]), 'data.bin');
    const html = await (await getSignedIn('/form', { method: 'POST', body: withFile })).text();
    assert.match(html, /<dd id="summary-attachment">data\.bin \(1000 bytes\)<\/dd>/);

    const withoutFile = new FormData();
    withoutFile.set('title', 'No file');
    withoutFile.set('attachment', new Blob([]), '');
    const html2 = await (await getSignedIn('/form', { method: 'POST', body: withoutFile })).text();
    assert.match(html2, /<dd id="summary-attachment">none<\/dd>/);
    assert.match(html2, /<dd id="summary-urgent">no<\/dd>/);
  });

  it('rejects bodies over 5 MB with 413', async () => {
    const form = new FormData();
    form.set('title', 'Too big');
    form.set('attachment', new Blob([new Uint8Array(5 * 1024 * 1024 + 1)]), 'big.bin');
    const response = await getSignedIn('/form', { method: 'POST', body: form });
    assert.equal(response.status, 413);
  });

  it('rejects a malformed multipart body with 400', async () => {
    const response = await getSignedIn('/form', {
      method: 'POST',
      body: '--xyz\r\nContent-Disposition: form-data; name="title"\r\n\r\nunterminated',
      headers: { 'content-type': 'multipart/form-data; boundary=xyz' },
    });
    assert.equal(response.status, 400);
  });
});

describe('demo site: timing and special pages', () => {
  it('delays /slow by delayMs before answering', async () => {
    const startMs = performance.now();
    const response = await fetch(`${site.url}/slow?delayMs=200`);
    const elapsedMs = performance.now() - startMs;
    assert.equal(response.status, 200);
    assert.ok(elapsedMs >= 190, `took ${elapsedMs} ms`);
    assert.match(await response.text(), /<p id="delay">Served after 200 ms<\/p>/);
  });

  it('treats an invalid delay as zero', async () => {
    const html = await (await fetch(`${site.url}/slow?delayMs=soon`)).text();
    assert.match(html, /Served after 0 ms/);
  });

  it('protects /basic-auth with HTTP basic authentication', async () => {
    const anonymous = await fetch(`${site.url}/basic-auth`);
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.headers.get('www-authenticate'), 'Basic realm="Acme"');

    const wrong = await fetch(`${site.url}/basic-auth`, {
      headers: { authorization: `Basic ${Buffer.from('admin:nope').toString('base64')}` },
    });
    assert.equal(wrong.status, 401);

    const good = await fetch(`${site.url}/basic-auth`, {
      headers: { authorization: `Basic ${Buffer.from('admin:basic-secret').toString('base64')}` },
    });
    assert.equal(good.status, 200);
    assert.match(await good.text(), /<h1>Basic auth OK<\/h1>/);
  });

  it('echoes request headers as JSON without a session', async () => {
    const response = await fetch(`${site.url}/public/echo-headers`, { headers: { 'x-checkpoint-test': 'yes' } });
    assert.equal(response.status, 200);
    const headers = (await response.json()) as Record<string, string>;
    assert.equal(headers['x-checkpoint-test'], 'yes');
  });

  it('serves the layout-shift and console-error pages without a session', async () => {
    const shift = await (await fetch(`${site.url}/layout-shift`)).text();
    assert.match(shift, /<h1>Layout shift<\/h1>/);
    const errors = await (await fetch(`${site.url}/console-errors`)).text();
    assert.match(errors, /console\.error\('demo console error'\)/);
    assert.match(errors, /new Error\('demo uncaught error'\)/);
  });
});

describe('demo site: frames, popup, playground', () => {
  it('embeds a same-origin frame and a cross-origin widget from the partner server', async () => {
    const html = await (await getSignedIn('/frames')).text();
    assert.match(html, /<iframe id="inner-frame" name="inner" title="Inner frame" src="\/frame-inner">/);
    assert.ok(html.includes(`<iframe id="cross-frame" name="cross" title="Partner widget" src="${site.crossOriginUrl}/widget">`));

    const inner = await (await getSignedIn('/frame-inner')).text();
    assert.match(inner, /<input id="frame-input" aria-label="Frame input"/);
    assert.match(inner, /<button id="frame-button" type="button">Echo<\/button>/);
  });

  it('serves the widget on the other port without a session', async () => {
    assert.notEqual(new URL(site.crossOriginUrl).port, new URL(site.url).port);
    const response = await fetch(`${site.crossOriginUrl}/widget`);
    assert.equal(response.status, 200);
    const html = await response.text();
    assert.match(html, /<h2>Partner widget<\/h2>/);
    assert.match(html, /<button id="widget-button" type="button">Acknowledge<\/button>/);
    assert.match(html, /<p id="widget-status"[^>]*>Pending<\/p>/);
    assert.equal((await fetch(`${site.crossOriginUrl}/dashboard`)).status, 404);
  });

  it('serves the popup target and the playground', async () => {
    const popup = await (await getSignedIn('/popup-target')).text();
    assert.match(popup, /<h1>Popup report<\/h1>/);
    assert.match(popup, /<p id="popup-text">Quarterly figures<\/p>/);

    const playground = await (await getSignedIn('/playground')).text();
    for (const fragment of [
      '<div id="dbl-target" role="button" tabindex="0">Double-click me</div>',
      '<button id="delayed-button" type="button">Show later</button>',
      '<p id="bottom-marker">End of list</p>',
      '<p id="hidden-text" hidden>Secret note</p>',
      '<p data-testid="version">Build 1.4.2</p>',
      "fetch('/api/slow-data?delayMs=300'",
    ]) {
      assert.ok(playground.includes(fragment), fragment);
    }
  });
});

describe('demo site: Reports app and APIs', () => {
  it('returns the same SPA document for every /app path', async () => {
    const root = await (await getSignedIn('/app')).text();
    const weekly = await getSignedIn('/app/weekly');
    assert.equal(weekly.status, 200);
    const weeklyHtml = await weekly.text();
    assert.equal(weeklyHtml, root);
    assert.match(weeklyHtml, /<div id="app-root"/);
    assert.match(weeklyHtml, /history\.pushState/);
    assert.match(weeklyHtml, /a\[data-spa\]/);
  });

  it('serves report JSON to a signed-in user', async () => {
    const response = await getSignedIn('/api/report?period=weekly');
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    const report = (await response.json()) as { period: string; total: number; generatedAt: string };
    assert.equal(report.period, 'weekly');
    assert.equal(typeof report.total, 'number');
    assert.ok(report.total > 0);
    assert.ok(!Number.isNaN(Date.parse(report.generatedAt)));

    const monthly = (await (await getSignedIn('/api/report?period=monthly')).json()) as { total: number };
    assert.ok(monthly.total > report.total);
    assert.equal((await getSignedIn('/api/report?period=daily')).status, 400);
  });

  it('answers API calls without a session with 401 JSON', async () => {
    const response = await fetch(`${site.url}/api/report?period=weekly`, { redirect: 'manual' });
    assert.equal(response.status, 401);
  });

  it('delays /api/slow-data', async () => {
    const startMs = performance.now();
    const data = (await (await getSignedIn('/api/slow-data?delayMs=100')).json()) as { delayMs: number };
    assert.ok(performance.now() - startMs >= 95);
    assert.equal(data.delayMs, 100);
  });
});

describe('demo site: lifecycle', () => {
  it('closes promptly with keep-alive and delayed requests open, and keeps instances separate', async () => {
    const other = await startDemoSite();
    // The shared suite cookie belongs to the other instance and must not work here.
    const foreign = await fetch(`${other.url}/dashboard`, { headers: { cookie: sessionCookie }, redirect: 'manual' });
    assert.equal(foreign.status, 302);
    await (await fetch(`${other.url}/login`)).text(); // leaves a keep-alive connection in the pool
    const pending = fetch(`${other.url}/slow?delayMs=20000`).then(
      () => 'answered',
      () => 'dropped',
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    const startMs = performance.now();
    await other.close();
    assert.ok(performance.now() - startMs < 10_000, 'close() does not wait for the 20 s delay');
    assert.equal(await pending, 'dropped');
    await other.close(); // idempotent
  });
});
