/** Secrets out of URLs and of sensitive field names (query parameters, form fields, JSON keys). */
import { redactedMarker, type Redactor } from '../redactor.ts';

/**
 * Form fields, query parameters and JSON keys whose values are masked even when they are not a known secret
 * (`password`, `new_password`, `client_secret`, `access_token`, `api-key`, `otp`…).
 */
export function isSensitiveFieldName(name: string): boolean {
  return /^(?:.*[-_.])?(?:pass|passwd|password|passphrase|pwd|secret|token|apikey|api[-_]key|auth|credentials?|otp)$/i.test(name.trim());
}

const relativeBase = 'http://relative.invalid';

/**
 * Mask secrets in a URL: the Redactor on the text as is, then on every query value and path segment after
 * decoding (so any percent-encoding of a secret is caught), plus values of sensitive parameter names and
 * user:password in the authority. Relative URLs (`Location: /next?x=1`) stay relative.
 */
export function redactUrl(url: string, redactor: Redactor): string {
  const text = redactor.redact(url);
  const absolute = URL.canParse(text);
  if (!absolute && (!text.startsWith('/') || text.startsWith('//'))) return text;
  let parsed: URL;
  try {
    parsed = new URL(text, relativeBase);
  } catch {
    return text;
  }
  let changed = false;
  if (parsed.username !== '' || parsed.password !== '') {
    if (parsed.password !== '') parsed.password = redactedMarker;
    changed = true;
  }
  const segments = parsed.pathname.split('/').map((segment) => {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      return segment;
    }
    const masked = redactor.redact(decoded);
    if (masked === decoded) return segment;
    changed = true;
    return encodeURIComponent(masked);
  });
  if (parsed.search !== '') {
    let queryChanged = false;
    const params = [...new URLSearchParams(parsed.search)].map(([name, value]): [string, string] => {
      const maskedName = redactor.redact(name);
      const maskedValue = isSensitiveFieldName(name) && value !== '' ? redactedMarker : redactor.redact(value);
      if (maskedName !== name || maskedValue !== value) queryChanged = true;
      return [maskedName, maskedValue];
    });
    if (queryChanged) {
      parsed.search = new URLSearchParams(params).toString();
      changed = true;
    }
  }
  if (!changed) return text;
  parsed.pathname = segments.join('/');
  return absolute ? parsed.href : `${parsed.pathname}${parsed.search}${parsed.hash}`;
}
