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

/**
 * Masks secret values in text. Built once per run from every secret the run resolved; every reporter and
 * log line goes through it. Longer variants are replaced first so a variant that contains another is
 * masked whole.
 */
export class Redactor {
  #variants: string[] = [];

  constructor(secrets: Iterable<string> = []) {
    for (const secret of secrets) this.add(secret);
  }

  /** Start masking one more value (e.g. a secret resolved mid-run). Empty strings are ignored. */
  add(secret: string): void {
    if (secret.length === 0) return;
    const next = new Set([...this.#variants, ...secretVariants(secret)]);
    this.#variants = [...next].sort((a, b) => b.length - a.length);
  }

  get size(): number {
    return this.#variants.length;
  }

  redact(text: string): string {
    let out = text;
    for (const variant of this.#variants) {
      if (out.includes(variant)) out = out.split(variant).join(redactedMarker);
    }
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
