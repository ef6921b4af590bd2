import { baseCss } from '../engine/index.ts';

/**
 * The dashboard's only stylesheet (inline: the pages load nothing from anywhere). Calm, legible, light and dark.
 * The base it shares with the run report comes first; below, the dashboard's palette, sizes and layout.
 */
export const dashboardCss = `${baseCss}
:root {
  --bg: #f5f6f8; --card: #ffffff; --border: #e2e5ea; --text: #1d2630; --muted: #6b7580; --faint: #f0f2f5;
  --accent: #2f6690; --accent-soft: #e4eef6; --pass: #2f855a; --pass-soft: #e3f3ea; --fail: #c0392b; --fail-soft: #fbe7e5;
  --warn: #b7791f; --warn-soft: #fbf1dc; --lost-soft: #eceef1;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #14181d; --card: #1b2027; --border: #2b323b; --text: #e3e7ec; --muted: #8c96a1; --faint: #222830;
    --accent: #6fa8d6; --accent-soft: #1f3140; --pass: #5cbf8a; --pass-soft: #17302a; --fail: #ef7a6d; --fail-soft: #3a1f1c;
    --warn: #e0b050; --warn-soft: #35291a; --lost-soft: #262c34;
  }
}
html { font-size: 15px; }
body { font-size: 1rem; }
header.top { background: var(--card); border-bottom: 1px solid var(--border); }
header.top .bar { max-width: 1180px; margin: 0 auto; padding: 0.8rem 1.5rem; display: flex; align-items: center; gap: 2rem; }
.brand { font-weight: 650; letter-spacing: -0.01em; color: var(--text); display: flex; align-items: center; gap: 0.55rem; }
.brand svg { display: block; }
nav { display: flex; gap: 1.25rem; }
nav a { color: var(--muted); font-weight: 500; padding: 0.2rem 0; border-bottom: 2px solid transparent; }
nav a.current { color: var(--text); border-bottom-color: var(--accent); }
nav a:hover { color: var(--text); text-decoration: none; }
header.top .stamp { margin-left: auto; color: var(--muted); font-size: 0.85rem; }
main { max-width: 1180px; margin: 0 auto; padding: 1.5rem; }
h1 { font-size: 1.45rem; font-weight: 650; letter-spacing: -0.015em; margin: 0.2rem 0 1.2rem; }
h2 { font-size: 1.02rem; font-weight: 620; margin: 2rem 0 0.75rem; display: flex; align-items: baseline; gap: 0.6rem; }
h2 .count { color: var(--muted); font-weight: 500; font-size: 0.9rem; }
.tiles { display: grid; grid-template-columns: repeat(4, minmax(0, 1fr)); gap: 1rem; }
.tile { background: var(--card); border: 1px solid var(--border); border-radius: 10px; padding: 0.9rem 1.1rem; }
.tile .label { color: var(--muted); font-size: 0.82rem; }
.tile .value { font-size: 1.6rem; font-weight: 620; letter-spacing: -0.02em; margin-top: 0.15rem; font-variant-numeric: tabular-nums; }
.tile .value small { font-size: 0.95rem; color: var(--muted); font-weight: 500; }
.tile.bad .value { color: var(--fail); }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(420px, 1fr)); gap: 1rem; align-items: start; }
.nowrap { white-space: nowrap; }
.chart-box { padding: 0.2rem 1.1rem 0.9rem; }
.chart { display: block; max-height: 160px; }
.card { background: var(--card); border: 1px solid var(--border); border-radius: 10px; overflow: hidden; }
.card > .head { display: flex; align-items: center; justify-content: space-between; padding: 0.8rem 1rem; border-bottom: 1px solid var(--border); }
.card > .head .name { font-weight: 600; }
.card > .empty { padding: 1rem; color: var(--muted); font-size: 0.9rem; }
table { font-size: 0.92rem; }
th { font-weight: 550; font-size: 0.78rem; text-transform: uppercase; letter-spacing: 0.04em; padding: 0.55rem 1rem; background: var(--faint); border-bottom: 1px solid var(--border); }
td { padding: 0.6rem 1rem; vertical-align: middle; }
.table-card { background: var(--card); border: 1px solid var(--border); border-radius: 10px; overflow: hidden; }
.pill { gap: 0.35rem; font-size: 0.78rem; padding: 0.1rem 0.55rem; }
.pill::before { width: 6px; height: 6px; }
.pill.passed, .pill.up, .pill.online, .pill.delivered { color: var(--pass); background: var(--pass-soft); }
.pill.failed, .pill.error, .pill.down, .pill.monitor-failed, .pill.checkpoint-down { color: var(--fail); background: var(--fail-soft); }
.pill.running, .pill.dispatched, .pill.manual { color: var(--accent); background: var(--accent-soft); }
.pill.lost, .pill.unknown, .pill.offline, .pill.disabled, .pill.none { color: var(--muted); background: var(--lost-soft); }
.pill.monitor-recovered, .pill.checkpoint-up { color: var(--pass); background: var(--pass-soft); }
.pill.late, .pill.draining, .pill.warning, .pill.monitor-warning { color: var(--warn); background: var(--warn-soft); }
.dot { display: inline-block; width: 8px; height: 8px; border-radius: 50%; margin-right: 0.45rem; vertical-align: middle; }
.dot.on { background: var(--pass); box-shadow: 0 0 0 3px var(--pass-soft); }
.dot.off { background: var(--muted); opacity: 0.5; }
.load { display: inline-flex; align-items: center; gap: 0.5rem; font-variant-numeric: tabular-nums; }
.load .bar { width: 64px; height: 6px; border-radius: 3px; background: var(--faint); overflow: hidden; border: 1px solid var(--border); }
.load .bar span { display: block; height: 100%; background: var(--accent); }
.muted { color: var(--muted); }
.small { font-size: 0.85rem; }
.mono { font-family: var(--mono); font-size: 0.85em; }
.trend { display: block; }
.alerts { list-style: none; margin: 0; padding: 0; }
.alerts li { display: grid; grid-template-columns: 8.5rem 1fr auto; gap: 1rem; align-items: baseline; padding: 0.7rem 1rem; border-bottom: 1px solid var(--border); }
.alerts li:last-child { border-bottom: none; }
.alerts .when { color: var(--muted); font-size: 0.85rem; font-variant-numeric: tabular-nums; }
.alerts .msg { overflow-wrap: anywhere; }
dl.facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 0.9rem 1.5rem; margin: 0; padding: 1rem 1.1rem; }
dl.facts dt { color: var(--muted); font-size: 0.78rem; text-transform: uppercase; letter-spacing: 0.04em; }
dl.facts dd { margin: 0.1rem 0 0; font-weight: 550; overflow-wrap: anywhere; }
.crumbs { color: var(--muted); font-size: 0.88rem; margin-bottom: 0.3rem; }
.title-row { display: flex; align-items: center; gap: 0.8rem; flex-wrap: wrap; }
.title-row h1 { margin-bottom: 0.2rem; }
iframe.report { width: 100%; height: 82vh; border: 1px solid var(--border); border-radius: 10px; background: #fff; }
.error-text { color: var(--fail); overflow-wrap: anywhere; }
.shots { display: flex; flex-wrap: wrap; gap: 0.8rem; padding: 1rem; }
.shots figure { margin: 0; }
.shots img { max-width: 320px; border: 1px solid var(--border); border-radius: 6px; display: block; }
.shots figcaption { color: var(--muted); font-size: 0.8rem; margin-top: 0.25rem; }
.notice { background: var(--warn-soft); color: var(--text); border: 1px solid var(--border); border-radius: 10px; padding: 0.75rem 1rem; margin-bottom: 1rem; font-size: 0.92rem; }
form.login { max-width: 360px; margin: 12vh auto; background: var(--card); border: 1px solid var(--border); border-radius: 12px; padding: 1.6rem; display: grid; gap: 0.8rem; }
form.login input { font: inherit; padding: 0.55rem 0.7rem; border: 1px solid var(--border); border-radius: 8px; background: var(--bg); color: var(--text); }
form.login button { font: inherit; font-weight: 600; padding: 0.55rem 0.7rem; border: none; border-radius: 8px; background: var(--accent); color: #fff; cursor: pointer; }
.actions { display: flex; flex-wrap: wrap; align-items: center; gap: 0.6rem; margin: 0.4rem 0 1rem; }
.actions form { margin: 0; }
button, a.button { font: inherit; font-size: 0.9rem; font-weight: 550; padding: 0.4rem 0.85rem; border: 1px solid var(--border); border-radius: 8px; background: var(--card); color: var(--text); cursor: pointer; text-decoration: none; display: inline-block; line-height: 1.3; }
a.button.small { font-size: 0.8rem; padding: 0.15rem 0.6rem; }
button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
button.danger, a.button.danger { color: var(--fail); border-color: var(--fail); }
button.danger { background: var(--fail); color: #fff; }
button:hover, a.button:hover { filter: brightness(0.96); text-decoration: none; }
button:focus-visible, a:focus-visible, input:focus-visible, select:focus-visible, textarea:focus-visible, .error-summary:focus { outline: 3px solid var(--accent); outline-offset: 2px; }
form.edit { padding: 1.2rem 1.3rem; display: grid; gap: 1.1rem; max-width: 860px; }
form.edit .field { display: grid; gap: 0.3rem; }
form.edit label { font-weight: 600; }
form.edit .hint { margin: 0; color: var(--muted); font-size: 0.85rem; }
form.edit input[type=text], form.edit select, form.edit textarea { font: inherit; padding: 0.5rem 0.65rem; border: 1px solid var(--border); border-radius: 8px; background: var(--bg); color: var(--text); width: 100%; box-sizing: border-box; }
form.edit textarea.mono { font-family: var(--mono); font-size: 0.85rem; line-height: 1.45; }
form.edit label.upload { font-weight: 500; font-size: 0.88rem; color: var(--muted); margin-top: 0.3rem; }
form.edit .check { display: inline-flex; gap: 0.5rem; align-items: center; }
form.edit .field.invalid { border-left: 4px solid var(--fail); padding-left: 0.8rem; }
form.edit .field.invalid input, form.edit .field.invalid textarea, form.edit .field.invalid select { border-color: var(--fail); }
.field-error { list-style: none; margin: 0; padding: 0; color: var(--fail); font-weight: 600; font-size: 0.88rem; overflow-wrap: anywhere; }
.error-summary { border: 3px solid var(--fail); border-radius: 10px; background: var(--card); padding: 0.9rem 1.1rem; margin-bottom: 1.2rem; max-width: 860px; }
.error-summary h2 { margin: 0 0 0.5rem; color: var(--fail); }
.error-summary ul { margin: 0; padding-left: 1.2rem; }
.error-summary a { color: var(--fail); text-decoration: underline; overflow-wrap: anywhere; }
.notice.done { background: var(--pass-soft); }
.range-bar { display: flex; flex-wrap: wrap; align-items: center; justify-content: space-between; gap: 0.8rem; margin: 0.2rem 0 0.8rem; }
nav.ranges { display: inline-flex; gap: 0; border: 1px solid var(--border); border-radius: 8px; overflow: hidden; background: var(--card); }
nav.ranges a { padding: 0.3rem 0.8rem; border-bottom: none; color: var(--text); }
nav.ranges a + a { border-left: 1px solid var(--border); }
nav.ranges a.current { background: var(--accent); color: #fff; }
form.filter { display: inline-flex; align-items: center; gap: 0.5rem; margin: 0; }
form.filter select { font: inherit; padding: 0.3rem 0.5rem; border: 1px solid var(--border); border-radius: 8px; background: var(--card); color: var(--text); }
.range-tiles { margin-bottom: 1rem; }
ul.legend { list-style: none; display: flex; flex-wrap: wrap; gap: 0.3rem 1.1rem; margin: 0.5rem 0 0; padding: 0; font-size: 0.85rem; color: var(--muted); }
ul.legend .swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 0.4rem; vertical-align: -1px; }
form.edit fieldset.choices { border: none; margin: 0; padding: 0; min-width: 0; }
form.edit fieldset.choices legend { font-weight: 600; padding: 0; margin-bottom: 0.3rem; }
form.edit .choice { display: flex; gap: 0.5rem; align-items: center; }
form.edit .choice label { font-weight: 500; }
form.edit .choice input { width: 1.1rem; height: 1.1rem; margin: 0; }
form.run-now { display: inline-flex; gap: 0.4rem; align-items: center; }
form.run-now select { font: inherit; padding: 0.3rem 0.5rem; border: 1px solid var(--border); border-radius: 8px; background: var(--card); color: var(--text); }
.range-note { margin: -0.4rem 0 1rem; }
table.vitals td.spark { width: 130px; }
table.checkpoints tr.current td { background: var(--accent-soft); }
table.checkpoints a[aria-current] { font-weight: 700; }
.stale-note { font-size: 0.8rem; color: var(--warn); max-width: 26rem; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
@media (max-width: 900px) { .grid { grid-template-columns: 1fr; } }
@media (max-width: 800px) { .tiles { grid-template-columns: repeat(2, minmax(0, 1fr)); } .alerts li { grid-template-columns: 1fr; gap: 0.2rem; } .hide-narrow { display: none; } }
`;
