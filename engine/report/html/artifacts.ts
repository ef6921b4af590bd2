/** Turns an artifact path into something an `<img src>` may use; see renderHtmlReport's `embed`. */
export type Embed = (path: string) => string | undefined;

/**
 * The URL for an artifact: what `embed` returns for it when given, otherwise the artifact path relative to the
 * report (artifacts live under the same output directory as report.html). A path that is not a plain relative
 * path (a scheme, an absolute path, `..`) is refused, so a tampered result cannot make the report fetch
 * anything from elsewhere.
 */
export function artifactUrl(path: string, embed?: Embed): string | undefined {
  const embedded = embed?.(path);
  if (embedded !== undefined) return embedded;
  const normalized = path.replace(/\\/g, '/');
  if (normalized === '' || normalized.startsWith('/') || /^[a-z][a-z0-9+.-]*:/i.test(normalized)) return undefined;
  const segments = normalized.split('/');
  if (segments.some((segment) => segment === '..')) return undefined;
  return segments.filter((segment) => segment !== '' && segment !== '.').map(encodeURIComponent).join('/');
}

/** Only plain web links become clickable; anything else (javascript:, data:, file:) stays text. */
export function isWebLink(url: string): boolean {
  return /^https?:\/\/[^\s]+$/i.test(url);
}
