/** What a masked secret looks like in every output. */
export const redactedMarker = '[redacted]';

/**
 * The forms in which a secret can leak: as typed, URL-encoded (both flavours), base64, JSON-escaped and
 * HTML-escaped. Base64 depends on alignment, so the secret is also encoded at the three byte offsets and
 * the stable middle of each encoding is masked.
 */
export function secretVariants(secret: string): string[] {
  const variants = new Set<string>([secret]);
  variants.add(encodeURIComponent(secret));
  variants.add(encodeURIComponent(secret).replace(/%20/g, '+'));
  variants.add(encodeURI(secret));
  variants.add(JSON.stringify(secret).slice(1, -1));
  variants.add(JSON.stringify(JSON.stringify(secret).slice(1, -1)).slice(1, -1));
  variants.add(secret.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;'));
  const bytes = Buffer.from(secret, 'utf8');
  if (bytes.length >= 3) {
    for (let offset = 0; offset < 3; offset++) {
      const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
      // Characters that depend only on the secret: skip the ones mixed with the padding prefix and the tail.
      const start = Math.ceil((offset * 4) / 3) + (offset === 0 ? 0 : 1);
      const end = Math.floor(((offset + bytes.length) * 4) / 3) - 1;
      const stable = encoded.slice(start, Math.max(start, end));
      if (stable.length >= 4) variants.add(stable);
    }
    variants.add(bytes.toString('base64'));
    variants.add(bytes.toString('base64url'));
  }
  return [...variants].filter((v) => v.length > 0);
}

const windows1252 = new TextDecoder('windows-1252');
const regexSpecial = /[.*+?^${}()|[\]\\/]/g;
const literal = (text: string) => text.replace(regexSpecial, '\\$&');
/** A hex number matching either case (`3[cC]`), for percent-escapes and entities written either way. */
const hexEitherCase = (value: number, width = 2) =>
  value
    .toString(16)
    .padStart(width, '0')
    .replace(/[a-f]/g, (d) => `[${d}${d.toUpperCase()}]`);
const htmlNamed: Readonly<Record<string, readonly string[]>> = { '&': ['&amp;'], '<': ['&lt;'], '>': ['&gt;'], '"': ['&quot;'], "'": ['&apos;'], '\u00a0': ['&nbsp;'] };
const jsonShort: Readonly<Record<string, string>> = { '"': '\\"', '\\': '\\\\', '/': '\\/', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' };

/**
 * Every way one character of a secret is written by the encoders a secret passes through before it reaches an
 * output, as a regular expression alternation: as is; percent-encoded (either hex case, and encoded twice:
 * `%2527`); `+` for a space (forms); HTML entities (named, decimal, hex); JSON escapes (`\"`, `\u0027`), and
 * those escapes HTML-escaped or JSON-escaped once more. Chromium, the HAR and the reports each encode a
 * different subset of characters (Chromium's query encoding leaves `{` as is and turns `'` into `%27`,
 * encodeURIComponent does the opposite), so each character is matched in any of its forms independently.
 */
function characterPattern(ch: string): string {
  const forms = new Set<string>([literal(ch)]);
  const bytes = [...Buffer.from(ch, 'utf8')];
  forms.add(bytes.map((b) => `%${hexEitherCase(b)}`).join(''));
  forms.add(bytes.map((b) => `%25${hexEitherCase(b)}`).join(''));
  if (ch === ' ') forms.add('\\+');
  if (bytes.length > 1) {
    // HTTP header values are bytes: DevTools and the HAR show a UTF-8 secret's bytes as Latin-1/Windows-1252 text.
    forms.add(literal(Buffer.from(bytes).toString('latin1')));
    forms.add(literal(windows1252.decode(Uint8Array.from(bytes))));
  }
  // The URL parser turns a backslash in the path of an http(s) URL into a slash.
  if (ch === '\\') forms.add('/');
  const codePoint = ch.codePointAt(0) ?? 0;
  forms.add(`&#0*${codePoint};`);
  forms.add(`&#[xX]0*${hexEitherCase(codePoint, 1)};`);
  for (const named of htmlNamed[ch] ?? []) forms.add(literal(named));
  const units = [...Array(ch.length).keys()].map((i) => ch.charCodeAt(i));
  const unicodeEscape = units.map((u) => `\\\\u${hexEitherCase(u, 4)}`).join('');
  forms.add(unicodeEscape);
  // The same escape inside a JSON string that is itself JSON-escaped (a log line holding a JSON body).
  forms.add(units.map((u) => `\\\\\\\\u${hexEitherCase(u, 4)}`).join(''));
  const short = jsonShort[ch];
  if (short !== undefined) {
    forms.add(literal(short));
    forms.add(literal(JSON.stringify(short).slice(1, -1)));
    if (ch === '"') forms.add(literal('\\&quot;'));
  }
  return `(?:${[...forms].join('|')})`;
}

/** One regular expression matching the secret with each character in any of its encoded forms. */
export function secretPattern(secret: string): RegExp {
  return new RegExp([...secret].map(characterPattern).join(''), 'g');
}

/**
 * Masks secret values in text. Built once per run from every secret the run resolved; every reporter and
 * log line goes through it. Longer variants are replaced first so a variant that contains another is
 * masked whole.
 */
export class Redactor {
  #variants: string[] = [];
  #patterns: RegExp[] = [];

  constructor(secrets: Iterable<string> = []) {
    for (const secret of secrets) this.add(secret);
  }

  /** Start masking one more value (e.g. a secret resolved mid-run). Empty strings are ignored. */
  add(secret: string): void {
    if (secret.length === 0) return;
    const next = new Set([...this.#variants, ...secretVariants(secret)]);
    this.#variants = [...next].sort((a, b) => b.length - a.length);
    this.#patterns.push(secretPattern(secret));
  }

  get size(): number {
    return this.#variants.length;
  }

  redact(text: string): string {
    let out = text;
    for (const variant of this.#variants) {
      if (out.includes(variant)) out = out.split(variant).join(redactedMarker);
    }
    // Mixed encodings (some characters escaped, others not) that no single variant above covers.
    for (const pattern of this.#patterns) out = out.replace(pattern, redactedMarker);
    return out;
  }

  /** Redact every string in a JSON-like value (keys too). Walks the value, so the result is always valid. */
  redactDeep<T>(value: T): T {
    if (this.#variants.length === 0) return value;
    return this.#walk(value) as T;
  }

  #walk(value: unknown): unknown {
    if (typeof value === 'string') return this.redact(value);
    if (Array.isArray(value)) return value.map((item: unknown) => this.#walk(item));
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [this.redact(key), this.#walk(item)]));
    }
    return value;
  }
}
