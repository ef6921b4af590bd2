import { baseCss } from './base-styles.ts';

/**
 * The report's stylesheet: system fonts only, light and dark palettes, responsive, printable. The base it shares
 * with the control plane's dashboard comes first; below, the report's palette, sizes and layout.
 */
export const reportCss = String.raw`${baseCss}
:root {
  --bg: #f5f6f8;
  --surface: #ffffff;
  --surface-2: #f3f5f8;
  --border: #e2e6ec;
  --border-strong: #cfd5de;
  --text: #1b2230;
  --muted: #5b6677;
  --faint: #8b95a4;
  --accent: #2f6bd8;
  --accent-soft: #e8f0fd;
  --good: #0b7a4b;
  --good-bg: #e2f4ea;
  --warn: #9a5b00;
  --warn-bg: #fcf0d9;
  --bad: #c2272d;
  --bad-bg: #fce9e9;
  --skip: #6b7482;
  --skip-bg: #eceff3;
  --info: #3657a8;
  --info-bg: #e9eefb;
  --grid: rgba(27, 34, 48, 0.07);
  --shadow: 0 1px 2px rgba(16, 24, 40, 0.05), 0 1px 3px rgba(16, 24, 40, 0.04);
  --phase-redirect: #d9a21b;
  --phase-dns: #1c9a8c;
  --phase-connect: #ec8b2f;
  --phase-tls: #9a62d6;
  --phase-wait: #35a35a;
  --phase-download: #3a7de0;
  --phase-after: #dfe4ea;
  --marker-dcl: #d43f8d;
  --marker-load: #2b3a55;
  --type-document: #3a7de0;
  --type-stylesheet: #9a62d6;
  --type-script: #e0a12a;
  --type-image: #36a66b;
  --type-font: #d9587f;
  --type-fetch: #17a2b8;
  --type-media: #7f8c3a;
  --type-other: #9aa4b1;
}
@media screen and (prefers-color-scheme: dark) {
  :root {
    --bg: #0f131a;
    --surface: #161c25;
    --surface-2: #1c2430;
    --border: #273140;
    --border-strong: #364254;
    --text: #e4e9f0;
    --muted: #a0abbb;
    --faint: #748093;
    --accent: #7aa7f5;
    --accent-soft: #1d2b45;
    --good: #4fc88f;
    --good-bg: rgba(79, 200, 143, 0.14);
    --warn: #f0b75a;
    --warn-bg: rgba(240, 183, 90, 0.14);
    --bad: #ff7b7b;
    --bad-bg: rgba(255, 123, 123, 0.13);
    --skip: #95a0b0;
    --skip-bg: rgba(149, 160, 176, 0.14);
    --info: #9db8f5;
    --info-bg: rgba(122, 167, 245, 0.13);
    --grid: rgba(228, 233, 240, 0.08);
    --shadow: none;
    --phase-after: #2b3543;
    --marker-load: #dbe3ef;
  }
}
html { -webkit-text-size-adjust: 100%; }
body { font-size: 14px; font-variant-numeric: tabular-nums; }
code { font-family: var(--mono); font-size: 12.5px; }
h1, h2, h3 { margin: 0; font-weight: 600; letter-spacing: -0.01em; }
.page { max-width: 1200px; margin: 0 auto; padding: 28px 24px 48px; }
.card {
  background: var(--surface);
  border: 1px solid var(--border);
  border-radius: 12px;
  box-shadow: var(--shadow);
  padding: 22px 24px;
  margin-bottom: 18px;
}
.card-title { font-size: 15px; margin-bottom: 12px; }
.muted, .none, .zero { color: var(--faint); }
.sep { color: var(--faint); margin: 0 6px; }
.empty { color: var(--muted); margin: 4px 0 0; }

/* badges and ratings */
.badge { gap: 6px; padding: 2px 10px 2px 8px; font-size: 12px; line-height: 20px; }
.badge::before { width: 7px; height: 7px; }
.status-passed { --tone: var(--good); --tone-bg: var(--good-bg); }
.status-warning { --tone: var(--warn); --tone-bg: var(--warn-bg); }
.status-failed, .status-error { --tone: var(--bad); --tone-bg: var(--bad-bg); }
.status-skipped { --tone: var(--skip); --tone-bg: var(--skip-bg); }
.badge { color: var(--tone); background: var(--tone-bg); }
.rated.good { color: var(--good); }
.rated.needs-improvement { color: var(--warn); }
.rated.poor { color: var(--bad); font-weight: 600; }

/* run header */
.run { border-top: 4px solid var(--tone, var(--border)); }
.run.run-passed { --tone: var(--good); }
.run.run-warning { --tone: var(--warn); }
.run.run-failed, .run.run-error { --tone: var(--bad); }
.run-title { display: flex; align-items: flex-start; justify-content: space-between; gap: 16px; }
.run-title .badge { font-size: 13px; padding: 4px 14px 4px 11px; margin-top: 18px; }
.eyebrow { margin: 0 0 2px; color: var(--muted); font-size: 12px; font-weight: 600; letter-spacing: 0.06em; text-transform: uppercase; }
h1 { font-size: 24px; line-height: 1.25; overflow-wrap: anywhere; }
.facts { display: flex; flex-wrap: wrap; gap: 12px 40px; margin: 18px 0 0; }
.facts div { min-width: 0; max-width: 100%; }
.facts dt { color: var(--muted); font-size: 12px; }
.facts dd { margin: 1px 0 0; font-weight: 500; overflow-wrap: anywhere; }
.count { color: var(--tone); white-space: nowrap; }
.callout { margin-top: 16px; padding: 10px 14px; border-radius: 8px; border: 1px solid transparent; font-size: 13px; }
.callout ul { margin: 6px 0 0; padding-left: 18px; }
.callout.info { background: var(--info-bg); color: var(--text); border-color: color-mix(in srgb, var(--info) 25%, transparent); }
.callout.info strong { color: var(--info); }
.callout.warn { background: var(--warn-bg); border-color: color-mix(in srgb, var(--warn) 25%, transparent); }
.callout.warn strong { color: var(--warn); }
.conditions { list-style: none; margin: 0; padding: 0; display: grid; gap: 4px; }
.check-request { margin: 0 0 8px; display: flex; flex-wrap: wrap; gap: 6px; align-items: baseline; }
.phase-bar { display: flex; height: 14px; border-radius: 4px; overflow: hidden; background: var(--surface-2); margin: 6px 0; }
.phase-seg { display: block; height: 100%; min-width: 2px; }
.seg-0 { background: #7aa7f0; } .seg-1 { background: #f0a35e; } .seg-2 { background: #b38ae6; } .seg-3 { background: #5fc29a; } .seg-4 { background: #2f6bd8; } .seg-5 { background: #e07a7a; }
.phase-legend { list-style: none; margin: 0 0 8px; padding: 0; display: flex; flex-wrap: wrap; gap: 4px 14px; font-size: 0.9em; }
.phase-legend li { display: flex; gap: 6px; align-items: center; }
.phase-key { display: inline-block; width: 10px; height: 10px; border-radius: 2px; }
.check-details { display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); gap: 4px 16px; margin: 8px 0; }
.check-details dt { color: var(--muted); font-size: 0.85em; }
.check-details dd { margin: 0; overflow-wrap: anywhere; }
.assertions { list-style: none; margin: 8px 0 0; padding: 0; display: grid; gap: 4px; }
.assertions li { display: flex; gap: 8px; align-items: baseline; }
.assertions .ok .cond-mark { color: var(--good); }
.assertions .breach-error .cond-mark, .assertions .breach-error .actual { color: var(--bad); }
.conditions li { display: flex; gap: 8px; align-items: baseline; }
.conditions .cond-mark { width: 1.2em; text-align: center; font-weight: 700; }
.conditions .ok .cond-mark { color: var(--good); }
.conditions .breach-warning .cond-mark, .conditions .breach-warning .cond-level { color: var(--warn); }
.conditions .breach-error .cond-mark, .conditions .breach-error .cond-level { color: var(--bad); font-weight: 600; }
.conditions .unchecked { color: var(--muted); }
.conditions .cond-level { font-size: 12px; text-transform: uppercase; letter-spacing: 0.04em; min-width: 5.5em; }
.collector { font-family: var(--mono); font-size: 12px; color: var(--muted); margin-right: 4px; }
.collector::after { content: ":"; }

/* step table */
.table-wrap { overflow-x: auto; margin: 0 -8px; }
table.steps { font-size: 13.5px; }
.steps th { font-size: 12px; font-weight: 600; padding: 6px 8px; border-bottom: 1px solid var(--border-strong); white-space: nowrap; }
.steps td { padding: 9px 8px; vertical-align: top; }
.steps tbody tr:hover { background: var(--surface-2); }
.steps .num { text-align: right; white-space: nowrap; }
.steps .idx { color: var(--faint); width: 28px; }
.steps td.name { min-width: 200px; }
.steps td.name a { color: var(--text); font-weight: 500; overflow-wrap: anywhere; }
.steps td.name .sub { color: var(--bad); font-size: 12px; margin-top: 2px; overflow-wrap: anywhere; }
.steps tr.status-skipped td.name a { color: var(--muted); }
.steps td.duration { min-width: 120px; }
.dur-value { display: block; }
.minibar { display: block; height: 4px; margin-top: 4px; border-radius: 2px; background: var(--surface-2); overflow: hidden; }
.minibar span { display: block; height: 100%; border-radius: 2px; background: var(--tone); opacity: 0.75; }

/* step sections */
.step-head { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 12px; margin-bottom: 16px; }
.step-head h2 { font-size: 18px; overflow-wrap: anywhere; min-width: 0; }
.step-num {
  flex: none; display: inline-grid; place-items: center; width: 28px; height: 28px; border-radius: 50%;
  background: var(--tone-bg); color: var(--tone); font-weight: 700; font-size: 13px;
}
.step-dur { margin-left: auto; font-size: 18px; font-weight: 600; }
.step-url { flex-basis: 100%; margin: -2px 0 0 40px; font-size: 12.5px; color: var(--muted); }
.url { font-family: var(--mono); font-size: 12px; overflow-wrap: anywhere; }
.step.skipped { opacity: 0.75; padding-top: 16px; padding-bottom: 16px; }
.step.skipped .step-head { margin-bottom: 4px; }
.step.skipped .empty { margin-left: 40px; }
.panels { display: grid; gap: 16px; margin-bottom: 16px; grid-template-columns: 1fr; align-items: start; }
.panels.bottom.n2 { grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); }
.panel { border: 1px solid var(--border); border-radius: 10px; padding: 14px 16px 16px; min-width: 0; margin-bottom: 16px; }
.panels > .panel { margin-bottom: 0; }
.panel-head { display: flex; align-items: baseline; justify-content: space-between; gap: 12px; margin-bottom: 12px; }
.panel-head h3 { font-size: 12px; text-transform: uppercase; letter-spacing: 0.06em; color: var(--muted); }
.hint { color: var(--faint); font-size: 12px; text-align: right; }
.privacy-note { color: var(--info); font-size: 12.5px; margin: 0; }

/* error box */
.error-box { border: 1px solid color-mix(in srgb, var(--bad) 35%, transparent); background: var(--bad-bg); border-radius: 10px; padding: 12px 16px; margin-bottom: 16px; }
.run .error-box { margin: 16px 0 0; }
.error-head { display: flex; flex-wrap: wrap; align-items: center; gap: 6px 10px; }
.error-title { font-weight: 600; color: var(--bad); }
.error-code { background: var(--surface); border: 1px solid var(--border); border-radius: 5px; padding: 1px 6px; font-size: 12px; font-weight: 600; }
.blame, .error-action { font-size: 12px; color: var(--muted); border: 1px solid var(--border-strong); border-radius: 999px; padding: 0 8px; }
.blame-site { color: var(--bad); border-color: color-mix(in srgb, var(--bad) 40%, transparent); }
.blame-script { color: var(--warn); border-color: color-mix(in srgb, var(--warn) 40%, transparent); }
.blame-engine { color: var(--info); border-color: color-mix(in srgb, var(--info) 40%, transparent); }
.error-message { margin: 8px 0 0; white-space: pre-wrap; overflow-wrap: anywhere; font-size: 13.5px; }
.error-selector { margin: 8px 0 0; display: flex; gap: 8px; align-items: baseline; font-size: 12px; color: var(--muted); }
.error-selector code { color: var(--text); background: var(--surface); border: 1px solid var(--border); border-radius: 5px; padding: 1px 6px; overflow-wrap: anywhere; }

/* legends */
.legend { list-style: none; margin: 12px 0 0; padding: 0; display: flex; flex-wrap: wrap; gap: 6px 16px; font-size: 12px; color: var(--muted); }
.legend li { display: inline-flex; align-items: center; gap: 6px; }
.legend-value { color: var(--text); font-weight: 600; }
.legend-note { color: var(--faint); }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 3px; background: var(--c, var(--faint)); }
.swatch-marker { width: 3px; height: 12px; border-radius: 1px; }

/* navigation chart */
.nav-url { margin: -4px 0 12px; }
.nav-chart { position: relative; padding-top: 2px; }
.nav-track { position: relative; height: 26px; border-radius: 6px; background: var(--surface-2); }
.nav-track .grid, .wf-track::before {
  position: absolute; inset: 0; pointer-events: none;
  background-image: linear-gradient(to right, var(--grid) 1px, transparent 1px);
  background-size: calc(100% / var(--ticks)) 100%;
}
.nav-track .grid { content: ""; display: block; border-radius: 6px; }
.nav-seg { position: absolute; top: 4px; bottom: 4px; min-width: 2px; background: var(--c); }
.nav-seg:first-of-type { border-radius: 4px 0 0 4px; }
.phase-redirect { --c: var(--phase-redirect); }
.phase-dns { --c: var(--phase-dns); }
.phase-connect { --c: var(--phase-connect); }
.phase-tls { --c: var(--phase-tls); }
.phase-wait { --c: var(--phase-wait); }
.phase-download { --c: var(--phase-download); }
.phase-dom, .phase-load { --c: var(--phase-after); }
.phase-load { background-image: repeating-linear-gradient(135deg, transparent 0 4px, rgba(127, 127, 127, 0.16) 4px 6px); }
.marker { position: absolute; top: -3px; bottom: -3px; width: 2px; margin-left: -1px; background: var(--c); border-radius: 1px; }
.marker-dcl { --c: var(--marker-dcl); }
.marker-load { --c: var(--marker-load); }
.axis { position: relative; height: 18px; margin-top: 4px; font-size: 11px; color: var(--faint); }
.tick { position: absolute; top: 0; transform: translateX(-50%); white-space: nowrap; }
.tick.first { transform: none; }
.tick.last { transform: translateX(-100%); }
.meta { margin: 10px 0 0; font-size: 12px; color: var(--muted); }
.meta:empty { display: none; }

/* web vitals */
.vitals { list-style: none; margin: 0; padding: 0; display: grid; grid-template-columns: repeat(5, minmax(0, 1fr)); gap: 10px; }
.vital { --tone: var(--good); --tone-bg: var(--good-bg); position: relative; padding: 10px 12px 10px 14px; border-radius: 8px; background: var(--tone-bg); overflow: hidden; }
.vital::before { content: ""; position: absolute; left: 0; top: 0; bottom: 0; width: 4px; background: var(--tone); }
.vital.needs-improvement { --tone: var(--warn); --tone-bg: var(--warn-bg); }
.vital.poor { --tone: var(--bad); --tone-bg: var(--bad-bg); }
.vital-label { display: block; font-size: 12px; font-weight: 700; letter-spacing: 0.04em; color: var(--muted); }
.vital-value { display: block; font-size: 22px; font-weight: 600; line-height: 1.25; color: var(--text); }
.vital-rating { display: flex; align-items: center; gap: 5px; font-size: 12px; font-weight: 600; color: var(--tone); }
.vital-rating .dot { width: 7px; height: 7px; border-radius: 50%; background: var(--tone); }
.vital.unmeasured { --tone: var(--border-strong); --tone-bg: var(--surface-2); }
.vital.unmeasured .vital-value { color: var(--faint); }
.vital.unmeasured .vital-rating { color: var(--faint); font-weight: 500; }
.vital-title { display: block; font-size: 11px; color: var(--faint); margin-top: 2px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }

/* soft navigations */
.soft-navs { list-style: none; margin: 0; padding: 0; font-size: 13px; }
.soft-navs li { display: grid; grid-template-columns: 22px minmax(0, 1fr) auto; gap: 8px; align-items: baseline; padding: 5px 0; border-bottom: 1px solid var(--border); }
.soft-navs li:last-child { border-bottom: 0; }
.soft-idx { color: var(--faint); font-size: 12px; text-align: right; }
.soft-url { min-width: 0; }
.soft-url .url { display: block; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.soft-dur { font-weight: 600; }

/* filmstrip */
.filmstrip { display: flex; gap: 10px; overflow-x: auto; padding: 2px 2px 10px; scrollbar-width: thin; }
.frame { flex: none; margin: 0; width: 120px; }
.frame .thumb { display: block; width: 120px; height: 80px; object-fit: cover; object-position: top; border-radius: 6px; border: 1px solid var(--border-strong); background: var(--surface-2); }
.frame.changed .thumb { border-color: var(--phase-redirect); box-shadow: 0 0 0 2px color-mix(in srgb, var(--phase-redirect) 55%, transparent); }
.frame.complete.changed .thumb { border-color: var(--good); box-shadow: 0 0 0 2px color-mix(in srgb, var(--good) 50%, transparent); }
.frame figcaption { display: flex; justify-content: space-between; margin-top: 5px; font-size: 12px; }
.frame-time { font-weight: 600; }
.frame-progress { color: var(--muted); }
.thumb.missing, .shot.missing { display: grid; place-items: center; color: var(--faint); font-size: 12px; }
.visual { display: grid; grid-template-columns: minmax(0, 1fr) 240px; gap: 20px; align-items: center; margin-top: 8px; }
.curve-wrap { min-width: 0; }
.progress-chart { display: block; width: 100%; height: auto; max-height: 200px; }
.progress-chart .gridline { stroke: var(--grid); stroke-width: 1; }
.progress-chart .gridline.vertical { stroke-dasharray: 2 3; }
.progress-chart .label { fill: var(--faint); font: 11px var(--sans); }
.progress-chart .area { fill: var(--accent); opacity: 0.1; }
.progress-chart .curve { fill: none; stroke: var(--accent); stroke-width: 2; stroke-linejoin: round; }
.progress-chart .dot { fill: var(--surface); stroke: var(--accent); stroke-width: 1.5; }
.visual-metrics, .lh-metrics { margin: 0; display: grid; gap: 2px; font-size: 13px; }
.visual-metrics div, .lh-metrics div { display: flex; justify-content: space-between; gap: 12px; padding: 4px 0; border-bottom: 1px dashed var(--border); }
.visual-metrics div:last-child, .lh-metrics div:last-child { border-bottom: 0; }
.visual-metrics dt, .lh-metrics dt { color: var(--muted); }
.visual-metrics dd, .lh-metrics dd { margin: 0; font-weight: 600; }

/* waterfall */
.wf { --cols: minmax(170px, 2.4fr) 68px 80px 64px 64px minmax(180px, 3.2fr); font-size: 12px; }
.wf-row { display: grid; grid-template-columns: var(--cols); align-items: center; gap: 0 10px; min-height: 22px; padding: 0 4px; border-radius: 4px; }
.wf-row:not(.wf-head):nth-child(even) { background: color-mix(in srgb, var(--surface-2) 70%, transparent); }
.wf-row:not(.wf-head):hover { background: var(--accent-soft); }
.wf-head { color: var(--muted); font-weight: 600; min-height: 26px; border-bottom: 1px solid var(--border); border-radius: 0; margin-bottom: 2px; }
.wf-head .axis { margin: 0; height: 16px; }
.wf-url { display: flex; align-items: center; gap: 6px; min-width: 0; }
.wf-path { font-family: var(--mono); font-size: 11.5px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; min-width: 0; }
.wf-method { font-family: var(--mono); font-size: 10.5px; font-weight: 700; color: var(--muted); }
.wf-method:empty { display: none; }
.wf-dot { flex: none; width: 8px; height: 8px; border-radius: 2px; background: var(--c); }
.wf-status, .wf-size, .wf-time { text-align: right; white-space: nowrap; }
.wf-status.bad { color: var(--bad); font-weight: 600; }
.wf-status.warn { color: var(--warn); font-weight: 600; }
.wf-status.muted { color: var(--muted); }
.wf-type { color: var(--muted); white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.wf-time { font-weight: 500; }
.tag { margin-left: 4px; padding: 0 4px; border-radius: 3px; background: var(--surface-2); color: var(--muted); font-size: 10px; font-weight: 600; }
.wf-track { position: relative; height: 22px; }
.wf-track::before { content: ""; }
.wf-head .wf-track { height: 26px; display: flex; align-items: center; }
.wf-head .wf-track::before { display: none; }
.wf-head .axis { flex: 1; }
.wf-bar { position: absolute; top: 6px; height: 10px; min-width: 2px; display: flex; border-radius: 2px; overflow: hidden; }
.wf-part { display: block; height: 100%; background: var(--c); }
.part-setup { opacity: 0.28; }
.part-wait { opacity: 0.5; }
.part-receive { opacity: 1; }
.type-document { --c: var(--type-document); }
.type-stylesheet { --c: var(--type-stylesheet); }
.type-script { --c: var(--type-script); }
.type-image { --c: var(--type-image); }
.type-font { --c: var(--type-font); }
.type-fetch { --c: var(--type-fetch); }
.type-media { --c: var(--type-media); }
.type-other { --c: var(--type-other); }
.wf-row.cached .wf-bar { opacity: 0.45; }
.wf-row.failed { --c: var(--bad); }
.wf-row.failed .wf-path { color: var(--bad); text-decoration: line-through; text-decoration-color: color-mix(in srgb, var(--bad) 60%, transparent); }
.wf-row.failed .wf-bar, .failed-swatch { background: repeating-linear-gradient(135deg, var(--bad) 0 3px, color-mix(in srgb, var(--bad) 35%, transparent) 3px 6px); }
.wf-row.failed .wf-part { background: transparent; }
.legend-phases { gap: 4px !important; }
.legend-phases .swatch { --c: var(--muted); margin-left: 6px; }
.legend-phases .swatch:first-child { margin-left: 0; }

/* screenshot */
.screenshot { margin: 0; }
.screenshot a { display: block; }
.shot { display: block; width: 100%; height: auto; max-height: 420px; object-fit: contain; object-position: top left; border-radius: 8px; border: 1px solid var(--border-strong); background: var(--surface-2); }
.screenshot figcaption { margin-top: 6px; font-family: var(--mono); font-size: 11px; color: var(--faint); overflow-wrap: anywhere; }

/* actions */
.actions { list-style: none; margin: 0; padding: 0; font-size: 13px; }
.action { display: grid; grid-template-columns: 18px 22px minmax(0, 1fr) auto; gap: 8px; align-items: baseline; padding: 6px 0; border-bottom: 1px solid var(--border); }
.action:last-child { border-bottom: 0; }
.action-status { font-weight: 700; color: var(--tone); text-align: center; }
.action-idx { color: var(--faint); font-size: 12px; text-align: right; }
.action-body { display: flex; flex-wrap: wrap; align-items: baseline; gap: 4px 8px; min-width: 0; }
.action-type { font-weight: 600; }
.selector { color: var(--muted); background: var(--surface-2); padding: 1px 6px; border-radius: 4px; overflow-wrap: anywhere; }
.flag { font-size: 11px; font-weight: 600; color: var(--warn); background: var(--warn-bg); padding: 1px 7px; border-radius: 999px; }
.flag::before { content: "⚑ "; }
.action-dur { color: var(--muted); white-space: nowrap; }
.action.at-error { background: var(--bad-bg); border-radius: 6px; padding-left: 4px; padding-right: 6px; }
.action.status-skipped { color: var(--faint); }
.action.status-skipped .action-type { font-weight: 500; }

/* lighthouse */
.scores { list-style: none; margin: 0 0 12px; padding: 0; display: flex; flex-wrap: wrap; gap: 18px; }
.score { display: flex; flex-direction: column; align-items: center; gap: 4px; width: 84px; text-align: center; }
.score-label { font-size: 12px; color: var(--muted); line-height: 1.3; }
.gauge { --tone: var(--faint); position: relative; display: inline-block; width: 52px; height: 52px; }
.gauge.good { --tone: var(--good); }
.gauge.needs-improvement { --tone: var(--warn); }
.gauge.poor { --tone: var(--bad); }
.gauge svg { width: 100%; height: 100%; }
.gauge-track { fill: var(--tone-bg, var(--surface-2)); stroke: var(--border); stroke-width: 4; }
.gauge.good .gauge-track { fill: var(--good-bg); }
.gauge.needs-improvement .gauge-track { fill: var(--warn-bg); }
.gauge.poor .gauge-track { fill: var(--bad-bg); }
.gauge-value { fill: none; stroke: var(--tone); stroke-width: 4; stroke-linecap: round; }
.gauge-number { position: absolute; inset: 0; display: grid; place-items: center; font-size: 15px; font-weight: 700; color: var(--tone); }
.lh-body { display: grid; grid-template-columns: auto minmax(0, 1fr); gap: 12px 40px; align-items: start; }
.lh-body .scores { margin: 0; }
.lh-metrics { max-width: 520px; }
.lh-link { margin: 10px 0 0; font-size: 13px; }

/* files */
.artifacts { list-style: none; margin: 0; padding: 0; font-size: 13px; }
.artifacts li { display: grid; grid-template-columns: 130px minmax(0, 1fr) 70px 80px; gap: 12px; padding: 6px 0; border-bottom: 1px solid var(--border); }
.artifacts li:last-child { border-bottom: 0; }
.artifacts .kind { color: var(--muted); }
.artifacts .path { font-family: var(--mono); font-size: 12px; overflow-wrap: anywhere; }
.artifacts .step-ref { color: var(--faint); }
.artifacts .size { text-align: right; }
footer.page-foot { color: var(--faint); font-size: 12px; text-align: center; margin-top: 28px; }
footer.page-foot code { font-size: 11.5px; }

/* narrow screens */
@media (max-width: 900px) {
  .panels.top.n2, .panels.top.n3, .panels.bottom.n2 { grid-template-columns: 1fr; }
  .visual, .lh-body { grid-template-columns: 1fr; }
  .vitals { grid-template-columns: repeat(auto-fill, minmax(140px, 1fr)); }
  .wf { --cols: minmax(120px, 2fr) 48px 56px minmax(120px, 2fr); }
  .wf-type, .wf-size { display: none; }
}
@media (max-width: 600px) {
  .page { padding: 14px 10px 32px; }
  .card { padding: 16px 14px; border-radius: 10px; }
  h1 { font-size: 20px; }
  .run-title { flex-direction: column; gap: 4px; }
  .run-title .badge { margin-top: 0; }
  .step-dur { margin-left: 40px; font-size: 15px; }
  .step-url, .step.skipped .empty { margin-left: 0; }
  .wf { --cols: minmax(0, 1fr) 44px minmax(90px, 1fr); }
  .wf-time { display: none; }
  .wf-head .tick:not(.first):not(.last) { display: none; }
  .artifacts li { grid-template-columns: 1fr auto; }
  .artifacts .kind, .artifacts .step-ref { display: none; }
}

/* print: white paper, no shadows, colours kept for the charts, nothing cut across pages */
@media print {
  :root { color-scheme: light; }
  body { background: #fff; font-size: 11.5px; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  .page { max-width: none; padding: 0; }
  .card { box-shadow: none; border-color: #d5d9e0; break-inside: auto; }
  .panel, .error-box, .callout, .vital, .frame, .wf-row, .action, tr { break-inside: avoid; }
  .step { break-before: auto; }
  .filmstrip { flex-wrap: wrap; overflow: visible; }
  .table-wrap { overflow: visible; }
  a { color: inherit; }
  .wf-row:not(.wf-head):hover, .steps tbody tr:hover { background: none; }
}
`;
