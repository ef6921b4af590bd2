/**
 * A control-plane URL for `path`, keeping any path prefix of the base (`https://cp.example/checkpoint` +
 * `/api/v1/results` → `https://cp.example/checkpoint/api/v1/results`). `ws` switches http→ws, https→wss.
 */
export function controlPlaneUrl(base: URL, path: string, scheme: 'http' | 'ws' = 'http'): URL {
  const url = new URL(base.href);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}${path}`;
  url.search = '';
  url.hash = '';
  if (scheme === 'ws') url.protocol = url.protocol === 'https:' || url.protocol === 'wss:' ? 'wss:' : 'ws:';
  else url.protocol = url.protocol === 'wss:' || url.protocol === 'https:' ? 'https:' : 'http:';
  return url;
}

/** Parse the `--control-plane` option: an absolute http(s) or ws(s) URL without credentials. */
export function parseControlPlaneUrl(text: string): URL | string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `--control-plane: expected an absolute URL such as https://control-plane.example:8443, got ${JSON.stringify(text)}`;
  }
  if (!['http:', 'https:', 'ws:', 'wss:'].includes(url.protocol)) return `--control-plane: expected an http(s) URL, got ${JSON.stringify(text)}`;
  if (url.username !== '' || url.password !== '') return '--control-plane: put the token in --token (or CHECKPOINT_TOKEN), not in the URL';
  return url;
}
