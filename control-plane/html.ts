/**
 * An escape-by-default HTML template tag for the dashboard. Everything shown there (names, URLs, error
 * messages, instance ids) may come from a script author or a monitored page and is treated as hostile.
 */
export class Html {
  readonly value: string;

  constructor(value: string) {
    this.value = value;
  }

  toString(): string {
    return this.value;
  }
}

export type HtmlValue = Html | string | number | boolean | null | undefined | readonly HtmlValue[];

const escapes: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => escapes[c] ?? c);
}

function render(value: HtmlValue): string {
  if (value instanceof Html) return value.value;
  if (value === undefined || value === null || value === false || value === true) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  if (typeof value === 'string') return escapeHtml(value);
  return value.map(render).join('');
}

/** `html\`<a href="${url}">${text}</a>\``: every interpolated value is escaped unless it is already Html. */
export function html(strings: TemplateStringsArray, ...values: readonly HtmlValue[]): Html {
  let out = strings[0] ?? '';
  values.forEach((value, index) => {
    out += render(value) + (strings[index + 1] ?? '');
  });
  return new Html(out);
}

/** Trusted markup only (our CSS, numbers we computed). */
export function raw(markup: string): Html {
  return new Html(markup);
}

/** A dashboard-internal link built from path segments, each URL-encoded. */
export function href(...segments: readonly string[]): string {
  return `/${segments.map(encodeURIComponent).join('/')}`;
}
