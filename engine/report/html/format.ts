import { formatDurationMs } from '../format.ts';
import { vitalThresholds, type VitalName } from '../../core/vitals-thresholds.ts';

/** Durations for phases that are often tiny: `0.4 ms`, `12 ms`, `1.23 s`. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  if (ms > 0 && ms < 10) return `${Number(ms.toFixed(1))} ms`;
  return formatDurationMs(ms);
}

/** `0 B`, `812 B`, `48.2 kB`, `1.35 MB` (decimal units, as DevTools shows them). */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '—';
  if (bytes < 1000) return `${Math.round(bytes)} B`;
  const units = ['kB', 'MB', 'GB'] as const;
  let value = bytes;
  let unit: string = 'B';
  for (const next of units) {
    if (value < 1000) break;
    value /= 1000;
    unit = next;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${unit}`;
}

/** A vital as people read it: `1.24 s`, `180 ms`, CLS `0.12`. */
export function formatVital(name: VitalName, value: number): string {
  if (vitalThresholds[name].unit === '') return String(Number(value.toFixed(3)));
  return formatDurationMs(value);
}

/** The threshold of a vital for a tooltip: `2.5 s`, `0.1`. */
export function formatThreshold(name: VitalName, value: number): string {
  return vitalThresholds[name].unit === '' ? String(value) : formatDurationMs(value);
}

/** `2025-05-14T09:30:12.345Z` → `2025-05-14 09:30:12 UTC` (deterministic: no locale, no local time zone). */
export function formatTimestamp(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** Keep the start and the end of a long string: `https://intranet/very/long…/file.js`. */
export function truncateMiddle(text: string, max: number): string {
  if (text.length <= max) return text;
  const keepEnd = Math.floor((max - 1) * 0.4);
  const keepStart = max - 1 - keepEnd;
  return `${text.slice(0, keepStart)}…${text.slice(text.length - keepEnd)}`;
}

/** A URL shortened for a table row: path and query for the page's own host, host + path for third parties. */
export function shortUrl(url: string, pageHost: string | undefined, max = 64): string {
  if (url.startsWith('data:')) return truncateMiddle(url, Math.min(max, 32));
  let shown = url;
  try {
    const parsed = new URL(url);
    const rest = `${parsed.pathname}${parsed.search}`;
    shown = parsed.host === pageHost && parsed.host !== '' ? rest : `${parsed.host}${rest}`;
  } catch {
    // Not a URL we can parse: show it as it is.
  }
  return truncateMiddle(shown, max);
}

/** The host of a URL, or undefined. */
export function hostOf(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    return new URL(url).host;
  } catch {
    return undefined;
  }
}

/** `1 request`, `3 requests`. */
export function plural(count: number, word: string, pluralWord = `${word}s`): string {
  return `${count} ${count === 1 ? word : pluralWord}`;
}

/**
 * "Nice" axis ticks from 0 to at least `max`: steps of 1, 2 or 5 × 10ⁿ, about `target` of them.
 * Returns the tick values and the axis end (the last tick).
 */
export function niceTicks(max: number, target = 6): { ticks: number[]; end: number } {
  if (!(max > 0) || !Number.isFinite(max)) return { ticks: [0, 1], end: 1 };
  const rough = max / target;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= rough) ?? 10 * power;
  const end = Math.ceil(max / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let value = 0; value <= end + step / 2; value += step) ticks.push(Number(value.toPrecision(12)));
  return { ticks, end };
}

/** Axis label for a tick in ms: `0`, `250 ms`, `1.5 s`. */
export function formatTick(ms: number, end: number): string {
  if (ms === 0) return '0';
  if (end >= 1000) return `${Number((ms / 1000).toFixed(2))} s`;
  return `${Number(ms.toFixed(1))} ms`;
}
