/**
 * The rules the run report and the control plane's dashboard share, said once: the font tokens, the base
 * typography, the pill (dashboard) / badge (report) shape and the table basics. Each page puts this first and
 * then its own rules: its palette (the tokens these rules read: `--bg`, `--text`, `--muted`, `--border`,
 * `--accent`), its sizes (font size, pill and badge padding and dot size, cell padding) and its layout.
 */
export const baseCss = String.raw`
:root {
  color-scheme: light dark;
  --mono: ui-monospace, "SFMono-Regular", "Cascadia Mono", "Segoe UI Mono", Menlo, Consolas, "Liberation Mono", monospace;
  --sans: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", "Noto Sans", "Liberation Sans", Arial, sans-serif;
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text); font-family: var(--sans); line-height: 1.5; -webkit-font-smoothing: antialiased; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
.pill, .badge { display: inline-flex; align-items: center; border-radius: 999px; font-weight: 600; white-space: nowrap; }
.pill::before, .badge::before { content: ""; border-radius: 50%; background: currentColor; }
table { width: 100%; border-collapse: collapse; }
th { text-align: left; color: var(--muted); }
td { border-bottom: 1px solid var(--border); }
tbody tr:last-child td { border-bottom: 0; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
`;
