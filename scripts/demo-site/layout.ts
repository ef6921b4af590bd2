/**
 * Shared page chrome for the demo intranet: HTML escaping, the stylesheet, and the two layouts (signed-in pages
 * with the top navigation, and plain pages such as sign-in, popups and frames).
 *
 * Everything is inline: the site must load with no network beyond loopback, so there are no fonts, CDNs or
 * external files — and no favicon request either, which would otherwise show up as a 404 in recorded runs.
 */

/** Product name used in every `<title>`. */
export const SITE_NAME = 'Acme Intranet';

/** Top navigation entries, keyed by the page they belong to. */
export type NavKey = 'dashboard' | 'orders' | 'form' | 'app' | 'frames' | 'playground';

const NAV_ITEMS: ReadonlyArray<{ key: NavKey; href: string; label: string }> = [
  { key: 'dashboard', href: '/dashboard', label: 'Dashboard' },
  { key: 'orders', href: '/orders', label: 'Orders' },
  { key: 'form', href: '/form', label: 'New request' },
  { key: 'app', href: '/app', label: 'Reports app' },
  { key: 'frames', href: '/frames', label: 'Frames' },
  { key: 'playground', href: '/playground', label: 'Playground' },
];

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for use in HTML content and (quoted) attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char] ?? char);
}

/** Full document title, e.g. `Dashboard · Acme Intranet`. */
export function pageTitle(title: string): string {
  return `${title} · ${SITE_NAME}`;
}

const STYLES = `
:root {
  --bg: #f4f6fa; --surface: #ffffff; --text: #1f2933; --muted: #5f6b7a; --border: #dde3ea;
  --accent: #2457c5; --accent-dark: #1b438f; --nav: #16233a; --danger: #b42318; --danger-bg: #fdecea;
  --ok: #176a3a; --ok-bg: #e6f4ea; --warn-bg: #fff4d6; --radius: 8px;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: var(--text); background: var(--bg); line-height: 1.5;
}
* { box-sizing: border-box; }
body { margin: 0; }
a { color: var(--accent); }
a:hover { color: var(--accent-dark); }
h1 { font-size: 1.6rem; margin: 0 0 1rem; }
h2 { font-size: 1.15rem; margin: 1.5rem 0 .75rem; }
.topbar { background: var(--nav); color: #fff; }
.topbar-inner { max-width: 1200px; margin: 0 auto; padding: 0 1.25rem; display: flex; align-items: center; gap: 1rem; min-height: 56px; flex-wrap: wrap; }
.topbar-inner > nav { flex: 1 1 auto; }
.brand { font-weight: 700; letter-spacing: .02em; color: #fff; text-decoration: none; }
.brand:hover { color: #fff; }
.nav-links { display: flex; gap: .15rem; flex-wrap: wrap; margin: 0; padding: 0; list-style: none; }
.nav-links a, .user-area a { color: #cbd5e1; text-decoration: none; padding: .4rem .6rem; border-radius: 6px; display: inline-block; }
.nav-links a:hover, .user-area a:hover { color: #fff; background: rgba(255,255,255,.08); }
.nav-links a[aria-current="page"] { color: #fff; background: rgba(255,255,255,.14); }
.user-area { display: flex; align-items: center; gap: .75rem; color: #e2e8f0; }
#user-name { font-weight: 600; }
main { max-width: 1080px; margin: 0 auto; padding: 2rem 1.25rem 3rem; }
.card { background: var(--surface); border: 1px solid var(--border); border-radius: var(--radius); padding: 1.25rem 1.5rem; box-shadow: 0 1px 2px rgba(16,24,40,.04); }
.narrow { max-width: 420px; margin: 3rem auto; }
.card > h2:first-child { margin-top: 0; }
.muted { color: var(--muted); }
.kpis { display: grid; grid-template-columns: repeat(auto-fit, minmax(200px, 1fr)); gap: 1rem; margin: 1.5rem 0; }
.kpi-label { margin: 0; color: var(--muted); font-size: .9rem; }
.kpi-value { margin: .25rem 0 0; font-size: 1.9rem; font-weight: 700; }
.actions { display: flex; gap: .75rem; flex-wrap: wrap; align-items: center; }
label { font-weight: 600; display: block; margin-bottom: .3rem; }
.field { margin-bottom: 1rem; }
.inline-field { display: flex; align-items: center; gap: .5rem; }
.inline-field label { display: inline; margin: 0; font-weight: 500; }
fieldset { border: 1px solid var(--border); border-radius: var(--radius); padding: .75rem 1rem; margin: 0 0 1rem; }
legend { font-weight: 600; padding: 0 .3rem; }
input, select, textarea, button { font: inherit; }
input[type="text"], input[type="password"], input[type="search"], input[type="date"], input:not([type]), select, textarea {
  width: 100%; padding: .5rem .65rem; border: 1px solid #c4cdd8; border-radius: 6px; background: #fff; color: inherit;
}
textarea { min-height: 6rem; resize: vertical; }
input:focus, select:focus, textarea:focus, button:focus-visible, a:focus-visible, [tabindex]:focus-visible { outline: 3px solid rgba(36,87,197,.35); outline-offset: 1px; }
button, .button { background: var(--accent); color: #fff; border: 0; border-radius: 6px; padding: .55rem 1rem; cursor: pointer; font-weight: 600; text-decoration: none; display: inline-block; }
button:hover, .button:hover { background: var(--accent-dark); color: #fff; }
button.secondary { background: #e8edf5; color: var(--text); }
button.secondary:hover { background: #d8e0ec; }
.search-bar { display: flex; gap: .5rem; flex-wrap: wrap; margin-bottom: 1rem; }
.search-bar input { flex: 1 1 240px; width: auto; }
.search-bar select { width: auto; }
table { width: 100%; border-collapse: collapse; background: var(--surface); border: 1px solid var(--border); border-radius: var(--radius); overflow: hidden; }
th, td { text-align: left; padding: .6rem .9rem; border-bottom: 1px solid var(--border); }
th { background: #eef2f7; font-size: .85rem; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
td.total, th.total { text-align: right; font-variant-numeric: tabular-nums; }
tbody tr:hover { background: #f8fafc; }
.badge { display: inline-block; padding: .1rem .55rem; border-radius: 999px; font-size: .8rem; font-weight: 600; }
.badge-open { background: var(--warn-bg); color: #8a5a00; }
.badge-shipped { background: var(--ok-bg); color: var(--ok); }
dl.details { display: grid; grid-template-columns: max-content 1fr; gap: .5rem 1.5rem; margin: 0; }
dl.details dt { color: var(--muted); font-weight: 600; }
dl.details dd { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; }
.error { background: var(--danger-bg); color: var(--danger); border-radius: 6px; padding: .6rem .8rem; }
.notice { background: var(--warn-bg); border-radius: 6px; padding: .75rem 1rem; }
iframe { width: 100%; min-height: 220px; border: 1px solid var(--border); border-radius: var(--radius); background: #fff; }
.frames { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 1.5rem; }
.playground-grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(280px, 1fr)); gap: 1rem; }
.tile { min-height: 3rem; }
#dbl-target { padding: 1rem; border: 2px dashed #9fb3d9; border-radius: var(--radius); text-align: center; cursor: pointer; user-select: none; }
#hover-menu { position: relative; display: inline-block; }
#hover-items { position: absolute; left: 0; top: 100%; margin: 0; padding: .35rem; list-style: none; background: #fff; border: 1px solid var(--border); border-radius: 6px; min-width: 10rem; box-shadow: 0 6px 16px rgba(16,24,40,.12); z-index: 5; }
#hover-items[hidden] { display: none; }
#hover-items button { width: 100%; text-align: left; background: none; color: var(--text); font-weight: 500; }
#hover-items button:hover { background: #eef2f7; }
.long-list { columns: 4 10rem; padding-left: 1.5rem; }
.banner { background: var(--accent); color: #fff; padding: 1.5rem 1.25rem; font-weight: 600; min-height: 160px; border-radius: var(--radius); margin-bottom: 1rem; }
.hero { min-height: 55vh; }
footer { max-width: 1080px; margin: 0 auto; padding: 0 1.25rem 2rem; color: var(--muted); font-size: .85rem; }
`;

/** Options for {@link renderAppPage}. */
export interface AppPageOptions {
  /** Page name; the document title becomes `<title> · Acme Intranet`. */
  readonly title: string;
  /** Signed-in user, shown in `#user-name`. */
  readonly userName: string;
  /** Navigation entry to mark as current. */
  readonly active?: NavKey | undefined;
  /** Trusted HTML for the `<main>` element. */
  readonly body: string;
  /** Trusted inline script, run at the end of the body. */
  readonly script?: string | undefined;
}

/** Options for {@link renderPlainPage}. */
export interface PlainPageOptions {
  readonly title: string;
  /** Trusted HTML for the `<main>` element. */
  readonly body: string;
  readonly script?: string | undefined;
  /** Show the brand bar (without navigation). Off for pages shown inside frames and popups. */
  readonly brandBar?: boolean | undefined;
}

function document(title: string, content: string, script: string | undefined): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(pageTitle(title))}</title>
<link rel="icon" href="data:,">
<style>${STYLES}</style>
</head>
<body>
${content}
${script === undefined ? '' : `<script>\n${script}\n</script>\n`}</body>
</html>
`;
}

/** A signed-in page: top navigation, user name, sign-out link, and the given main content. */
export function renderAppPage(options: AppPageOptions): string {
  const links = NAV_ITEMS.map(
    (item) =>
      `<li><a href="${item.href}"${item.key === options.active ? ' aria-current="page"' : ''}>${item.label}</a></li>`,
  ).join('');
  const header = `<header class="topbar">
<div class="topbar-inner">
<a class="brand" href="/dashboard">${SITE_NAME}</a>
<nav aria-label="Main"><ul class="nav-links">${links}</ul></nav>
<div class="user-area"><span>Signed in as <span id="user-name">${escapeHtml(options.userName)}</span></span><a href="/logout">Sign out</a></div>
</div>
</header>`;
  return document(options.title, `${header}\n<main>\n${options.body}\n</main>`, options.script);
}

/** A page without navigation: sign-in, errors, popups, frame content and the no-session test pages. */
export function renderPlainPage(options: PlainPageOptions): string {
  const header =
    options.brandBar === false
      ? ''
      : `<header class="topbar"><div class="topbar-inner"><span class="brand">${SITE_NAME}</span></div></header>\n`;
  return document(options.title, `${header}<main>\n${options.body}\n</main>`, options.script);
}
