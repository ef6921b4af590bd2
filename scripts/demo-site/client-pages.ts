/**
 * Demo pages whose behaviour lives in browser-side JavaScript: the single-page Reports app, the interaction
 * playground, frame contents, and the pages that provoke layout shifts and console errors.
 *
 * The inline scripts are plain ES5-ish strings (no template literals inside) so they survive being embedded in
 * these TypeScript template literals unchanged, and they never load anything from outside the site.
 */
import { renderAppPage, renderPlainPage } from './layout.ts';

/**
 * Reports SPA. The server returns this same document for `/app` and every `/app/*` path; the script renders the
 * view for `location.pathname` and handles `a[data-spa]` clicks with `history.pushState`, so moving between
 * views never triggers a full navigation (which is exactly what replay has to cope with).
 */
const REPORTS_APP_SCRIPT = `(function () {
  var root = document.getElementById('app-root');
  var renderToken = 0;
  var money = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });
  var views = {
    '/app/weekly': { period: 'weekly', title: 'Weekly summary' },
    '/app/monthly': { period: 'monthly', title: 'Monthly summary' }
  };

  function setTitle(title) { document.title = title + ' \\u00b7 Acme Intranet'; }

  function render() {
    var token = ++renderToken;
    var path = location.pathname.replace(/\\/+$/, '') || '/app';
    root.removeAttribute('aria-busy');
    if (path === '/app') {
      setTitle('Reports');
      root.innerHTML = '<h1>Reports</h1>' +
        '<p class="muted">Pick a summary. Views load in place without reloading the page.</p>' +
        '<ul id="report-links">' +
        '<li><a href="/app/weekly" data-spa>Weekly summary</a></li>' +
        '<li><a href="/app/monthly" data-spa>Monthly summary</a></li>' +
        '</ul>';
      return;
    }
    var view = views[path];
    if (!view) {
      setTitle('Report not found');
      root.innerHTML = '<h1>Report not found</h1><p><a href="/app" data-spa>Back to reports</a></p>';
      return;
    }
    setTitle(view.title);
    root.setAttribute('aria-busy', 'true');
    root.innerHTML = '<p class="muted" id="report-loading" role="status">Loading report\\u2026</p>';
    fetch('/api/report?period=' + view.period, { headers: { accept: 'application/json' } })
      .then(function (response) {
        if (!response.ok) throw new Error('HTTP ' + response.status);
        return response.json();
      })
      .then(function (data) {
        // A later navigation may have started while this request was in flight; its view wins.
        if (token !== renderToken) return;
        root.removeAttribute('aria-busy');
        root.innerHTML = '<h1></h1><div class="card"><p class="kpi-label">Total</p>' +
          '<p id="report-total" class="kpi-value"></p><p id="report-generated" class="muted"></p></div>' +
          '<p><a href="/app" data-spa>Back to reports</a></p>';
        root.querySelector('h1').textContent = view.title;
        root.querySelector('#report-total').textContent = money.format(data.total);
        root.querySelector('#report-generated').textContent = 'Generated at ' + data.generatedAt;
      })
      .catch(function (error) {
        if (token !== renderToken) return;
        root.removeAttribute('aria-busy');
        root.innerHTML = '<h1>Report unavailable</h1><p role="alert" class="error" id="report-error"></p>';
        root.querySelector('#report-error').textContent = String(error && error.message || error);
      });
  }

  document.addEventListener('click', function (event) {
    // Leave modified clicks (new tab, download…) to the browser, like real SPA routers do.
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    var link = event.target instanceof Element ? event.target.closest('a[data-spa]') : null;
    if (!link) return;
    var url = new URL(link.href);
    if (url.origin !== location.origin) return;
    event.preventDefault();
    if (url.pathname !== location.pathname) history.pushState({}, '', url.pathname);
    render();
  });
  window.addEventListener('popstate', render);
  render();
})();`;

/** The Reports single-page app shell (same HTML for every `/app` path). */
export function renderReportsAppPage(userName: string): string {
  return renderAppPage({
    title: 'Reports',
    userName,
    active: 'app',
    body: `<div id="app-root" aria-live="polite"><p class="muted">Loading…</p></div>
<noscript><p class="notice">The Reports app needs JavaScript.</p></noscript>`,
    script: REPORTS_APP_SCRIPT,
  });
}

const PLAYGROUND_SCRIPT = `(function () {
  function byId(id) { return document.getElementById(id); }

  byId('dbl-target').addEventListener('dblclick', function () {
    byId('dbl-status').textContent = 'Double-clicked';
  });

  var menu = byId('hover-menu');
  var trigger = byId('hover-trigger');
  var items = byId('hover-items');
  function setMenuOpen(open) {
    items.hidden = !open;
    trigger.setAttribute('aria-expanded', open ? 'true' : 'false');
  }
  menu.addEventListener('mouseenter', function () { setMenuOpen(true); });
  menu.addEventListener('mouseleave', function () { setMenuOpen(false); });
  // Clicking opens rather than toggles: a pointer click is preceded by a hover that already opened the menu.
  trigger.addEventListener('click', function () { setMenuOpen(true); });
  menu.addEventListener('keydown', function (event) { if (event.key === 'Escape') setMenuOpen(false); });
  items.addEventListener('click', function (event) {
    var item = event.target instanceof Element ? event.target.closest('button') : null;
    if (item) byId('menu-selection').textContent = 'Selected: ' + item.textContent;
  });

  byId('key-input').addEventListener('keydown', function (event) {
    byId('last-key').textContent = event.key;
  });

  byId('delayed-button').addEventListener('click', function () {
    setTimeout(function () {
      if (byId('delayed-text')) return;
      var text = document.createElement('p');
      text.id = 'delayed-text';
      text.textContent = 'Loaded later';
      byId('delayed-area').appendChild(text);
    }, 1000);
  });

  byId('fetch-button').addEventListener('click', function () {
    var output = byId('fetch-result');
    fetch('/api/slow-data?delayMs=300', { headers: { accept: 'application/json' } })
      .then(function (response) {
        if (!response.ok) throw new Error('HTTP ' + response.status);
        return response.json();
      })
      .then(function (data) { output.textContent = data.message; })
      .catch(function (error) { output.textContent = 'Failed: ' + (error && error.message || error); });
  });

  var hidden = byId('hidden-text');
  var reveal = byId('reveal-button');
  reveal.addEventListener('click', function () {
    hidden.hidden = !hidden.hidden;
    reveal.setAttribute('aria-expanded', hidden.hidden ? 'false' : 'true');
  });
})();`;

/** Number of filler items above `#bottom-marker`, enough to need scrolling on any screen. */
const LONG_LIST_ITEMS = 200;

/** The interaction playground (double-click, hover, keys, delayed content, fetch, scrolling, visibility). */
export function renderPlaygroundPage(userName: string): string {
  const listItems = Array.from({ length: LONG_LIST_ITEMS }, (_, i) => `<li>Item ${i + 1}</li>`).join('');
  return renderAppPage({
    title: 'Playground',
    userName,
    active: 'playground',
    body: `<h1>Playground</h1>
<p data-testid="version">Build 1.4.2</p>
<div class="playground-grid">
<section class="card tile"><h2>Double-click</h2>
<div id="dbl-target" role="button" tabindex="0">Double-click me</div>
<p id="dbl-status" aria-live="polite">Waiting</p></section>

<section class="card tile"><h2>Hover menu</h2>
<div id="hover-menu"><button id="hover-trigger" type="button" aria-haspopup="true" aria-expanded="false" aria-controls="hover-items">Menu</button><ul id="hover-items" hidden>
<li><button type="button" id="menu-profile">Profile</button></li>
<li><button type="button" id="menu-settings">Settings</button></li>
</ul></div>
<p id="menu-selection" aria-live="polite"></p></section>

<section class="card tile"><h2>Keyboard</h2>
<input id="key-input" aria-label="Key input" autocomplete="off">
<p>Last key: <span id="last-key" aria-live="polite"></span></p></section>

<section class="card tile"><h2>Delayed content</h2>
<button id="delayed-button" type="button">Show later</button>
<div id="delayed-area" aria-live="polite"></div></section>

<section class="card tile"><h2>Background request</h2>
<button id="fetch-button" type="button">Load data</button>
<p id="fetch-result" aria-live="polite"></p></section>

<section class="card tile"><h2>Visibility</h2>
<button id="reveal-button" type="button" aria-expanded="false" aria-controls="hidden-text">Reveal</button>
<p id="hidden-text" hidden>Secret note</p></section>
</div>

<section><h2>Long list</h2>
<ol class="long-list" id="long-list">${listItems}</ol>
<p id="bottom-marker">End of list</p></section>`,
    script: PLAYGROUND_SCRIPT,
  });
}

/** Content of the same-origin iframe on `/frames`. */
export function renderFrameInnerPage(): string {
  return renderPlainPage({
    title: 'Inner frame',
    brandBar: false,
    body: `<h2>Inner frame</h2>
<div class="actions"><input id="frame-input" aria-label="Frame input" autocomplete="off"><button id="frame-button" type="button">Echo</button></div>
<p id="frame-output" aria-live="polite"></p>`,
    script: `document.getElementById('frame-button').addEventListener('click', function () {
  document.getElementById('frame-output').textContent = 'Echo: ' + document.getElementById('frame-input').value;
});`,
  });
}

/** The partner widget served by the cross-origin server and framed by `/frames`. */
export function renderWidgetPage(): string {
  return renderPlainPage({
    title: 'Partner widget',
    brandBar: false,
    body: `<h2>Partner widget</h2>
<p class="muted">Served from a partner origin.</p>
<button id="widget-button" type="button">Acknowledge</button>
<p id="widget-status" aria-live="polite">Pending</p>`,
    script: `document.getElementById('widget-button').addEventListener('click', function () {
  document.getElementById('widget-status').textContent = 'Acknowledged';
});`,
  });
}

/** A page that inserts a banner above its content ~300 ms after load: a genuine, measurable layout shift. */
export function renderLayoutShiftPage(): string {
  return renderPlainPage({
    title: 'Layout shift',
    body: `<div id="banner-slot"></div>
<h1>Layout shift</h1>
<section class="card hero" id="shift-content">
<p>This content moves down when the promotional banner arrives.</p>
<p>Cumulative Layout Shift counts unexpected movement of visible content like this.</p>
<button id="shift-button" type="button">A button that moves</button>
</section>`,
    // Delay from the load event (not from parsing) so the shift lands after the page first rendered.
    script: `window.addEventListener('load', function () {
  setTimeout(function () {
    var banner = document.createElement('div');
    banner.id = 'late-banner';
    banner.className = 'banner';
    banner.textContent = 'Limited offer: the late banner has arrived.';
    document.getElementById('banner-slot').appendChild(banner);
  }, 300);
});`,
  });
}

/** A page that logs a console error and throws an uncaught error after load. */
export function renderConsoleErrorsPage(): string {
  return renderPlainPage({
    title: 'Console errors',
    body: `<h1>Console errors</h1>
<p>This page writes an error to the console and throws an uncaught exception after it loads.</p>`,
    // Thrown from a timer so it is uncaught (reported as a page error) rather than failing the load handler.
    script: `window.addEventListener('load', function () {
  console.error('demo console error');
  setTimeout(function () { throw new Error('demo uncaught error'); }, 0);
});`,
  });
}
