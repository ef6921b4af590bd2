/**
 * A tiny HTML template tag that escapes by default, for the report and the control plane's dashboard. Every
 * string that reaches a page from a result or a script may have come from a web page or a script author (titles,
 * URLs, error messages, selectors, instance ids) and is treated as hostile: interpolated values are escaped
 * unless they are already `SafeHtml` produced by this module.
 */
export class SafeHtml {
  readonly value: string;

  constructor(value: string) {
    this.value = value;
  }

  toString(): string {
    return this.value;
  }
}

const escapes: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

/** Escape text for an element body or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => escapes[c] ?? c);
}

/** Values a template accepts: nothing (renders empty), text, numbers, safe HTML, or lists of those. */
export type HtmlValue = SafeHtml | string | number | boolean | null | undefined | readonly HtmlValue[];

function render(value: HtmlValue): string {
  if (value instanceof SafeHtml) return value.value;
  if (value === undefined || value === null || value === false || value === true) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  if (typeof value === 'string') return escapeHtml(value);
  return value.map(render).join('');
}

/** `html\`<p title="${text}">${text}</p>\``: escapes each value; attributes must be quoted in the template. */
export function html(strings: TemplateStringsArray, ...values: readonly HtmlValue[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '');
  });
  return new SafeHtml(out);
}

/** Trusted markup (our own CSS, generated SVG numbers). Never pass result strings. */
export function raw(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

/** Join pieces with a separator. */
export function join(parts: readonly HtmlValue[], separator: HtmlValue = ''): SafeHtml {
  const rendered = parts.map(render).filter((part) => part !== '');
  return new SafeHtml(rendered.join(render(separator)));
}
