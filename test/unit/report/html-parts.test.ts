import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { artifactUrl, isWebLink } from '../../../engine/report/html/artifacts.ts';
import { navigationSegments, resourceGroup } from '../../../engine/report/html/charts.ts';
import { formatBytes, formatMs, formatTick, formatTimestamp, formatVital, niceTicks, shortUrl, truncateMiddle } from '../../../engine/report/html/format.ts';
import { escapeHtml, html, join, raw } from '../../../engine/report/html/template.ts';

describe('html template', () => {
  it('escapes every interpolated string, in text and in attributes', () => {
    const hostile = `<script>alert("x")</script>' & \``;
    assert.equal(html`<p title="${hostile}">${hostile}</p>`.value, '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; &amp; &#96;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; &amp; &#96;</p>');
  });

  it('keeps nested templates and raw markup as they are and renders lists, numbers and nothing', () => {
    const inner = html`<b>${'<i>'}</b>`;
    assert.equal(html`${inner}${raw('<hr>')}${[1, '<', undefined, null, false]}${Number.NaN}`.value, '<b>&lt;i&gt;</b><hr>1&lt;');
  });

  it('joins non-empty parts with a separator', () => {
    assert.equal(join(['a', '', html`<b>b</b>`, undefined], html`<i>·</i>`).value, 'a<i>·</i><b>b</b>');
    assert.equal(escapeHtml('a&b'), 'a&amp;b');
  });
});

describe('report formatting', () => {
  it('formats sub-10 ms phases with a decimal and longer times as the console does', () => {
    assert.equal(formatMs(0), '0 ms');
    assert.equal(formatMs(0.34), '0.3 ms');
    assert.equal(formatMs(2), '2 ms');
    assert.equal(formatMs(136.3), '136 ms');
    assert.equal(formatMs(1203.15), '1.20 s');
  });

  it('formats bytes in decimal units', () => {
    assert.equal(formatBytes(0), '0 B');
    assert.equal(formatBytes(999), '999 B');
    assert.equal(formatBytes(1_000), '1.0 kB');
    assert.equal(formatBytes(48_231), '48 kB');
    assert.equal(formatBytes(1_350_000), '1.4 MB');
    assert.equal(formatBytes(-1), '—');
  });

  it('formats vitals: times as durations, CLS unitless with up to three decimals', () => {
    assert.equal(formatVital('lcpMs', 1240), '1.24 s');
    assert.equal(formatVital('inpMs', 168), '168 ms');
    assert.equal(formatVital('cls', 0.12), '0.12');
    assert.equal(formatVital('cls', 0.0031), '0.003');
  });

  it('shows timestamps in UTC without depending on the locale, and leaves unparsable ones alone', () => {
    assert.equal(formatTimestamp('2025-05-14T07:30:12.345Z'), '2025-05-14 07:30:12 UTC');
    assert.equal(formatTimestamp('2025-05-14T09:30:12+02:00'), '2025-05-14 07:30:12 UTC');
    assert.equal(formatTimestamp('yesterday'), 'yesterday');
  });

  it('shortens URLs to the path on the page`s own host and keeps both ends of long ones', () => {
    assert.equal(shortUrl('https://intranet.example/static/app.js?v=3', 'intranet.example'), '/static/app.js?v=3');
    assert.equal(shortUrl('https://cdn.example/a.png', 'intranet.example'), 'cdn.example/a.png');
    assert.equal(shortUrl('not a url', undefined), 'not a url');
    const long = truncateMiddle('abcdefghijklmnopqrstuvwxyz', 11);
    assert.equal(long.length, 11);
    assert.equal(long, 'abcdef…wxyz');
  });

  it('picks round axis ticks that cover the maximum', () => {
    assert.deepEqual(niceTicks(1203, 5), { ticks: [0, 250, 500, 750, 1000, 1250], end: 1250 });
    assert.deepEqual(niceTicks(400, 5), { ticks: [0, 100, 200, 300, 400], end: 400 });
    assert.deepEqual(niceTicks(0), { ticks: [0, 1], end: 1 });
    assert.equal(formatTick(500, 800), '500 ms');
    assert.equal(formatTick(500, 1250), '0.5 s');
    assert.equal(formatTick(0, 1250), '0');
  });
});

describe('artifact URLs', () => {
  it('keeps plain relative paths, percent-encoding each segment', () => {
    assert.equal(artifactUrl('screenshots/step 1#a.png'), 'screenshots/step%201%23a.png');
    assert.equal(artifactUrl('filmstrip\\step-1-frame-00.webp'), 'filmstrip/step-1-frame-00.webp');
    assert.equal(artifactUrl('./screenshots/a.png'), 'screenshots/a.png');
  });

  it('refuses paths that would make the report load something from elsewhere', () => {
    for (const path of ['https://evil.example/x.png', '//evil.example/x.png', '/etc/passwd', '../secrets.png', 'a/../../b.png', 'javascript:alert(1)', 'C:\\x.png', 'file:///x.png', '']) {
      assert.equal(artifactUrl(path), undefined, path);
    }
  });

  it('uses what embed returns and falls back to the relative path when it returns nothing', () => {
    assert.equal(artifactUrl('a.png', () => 'data:image/png;base64,AAAA'), 'data:image/png;base64,AAAA');
    assert.equal(artifactUrl('a.png', () => undefined), 'a.png');
  });

  it('links only plain http(s) URLs', () => {
    assert.equal(isWebLink('https://intranet.example/a'), true);
    assert.equal(isWebLink('javascript:alert(1)'), false);
    assert.equal(isWebLink('data:text/html,hi'), false);
    assert.equal(isWebLink('http://a b'), false);
  });
});

describe('chart helpers', () => {
  it('splits the connection into its TCP part and TLS, and shows redirects only when there were some', () => {
    const base = { url: 'https://a/', dnsMs: 10, connectMs: 30, tlsMs: 20, ttfbMs: 50, downloadMs: 10, domContentLoadedMs: 200, loadMs: 400 };
    assert.deepEqual(
      navigationSegments(base).map((s) => [s.key, s.ms]),
      [
        ['dns', 10],
        ['connect', 10],
        ['tls', 20],
        ['wait', 50],
        ['download', 10],
      ],
    );
    assert.equal(navigationSegments({ ...base, redirectCount: 1, redirectMs: 80 })[0]?.ms, 80);
  });

  it('groups resource types into waterfall colours', () => {
    assert.equal(resourceGroup('xhr'), 'fetch');
    assert.equal(resourceGroup('Fetch'), 'fetch');
    assert.equal(resourceGroup('stylesheet'), 'stylesheet');
    assert.equal(resourceGroup('manifest'), 'other');
  });
});
