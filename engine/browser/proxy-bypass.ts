import ipaddr from 'ipaddr.js';

const defaultPorts: Readonly<Record<string, string>> = { 'http:': '80', 'https:': '443', 'ws:': '80', 'wss:': '443' };

function bareHost(hostname: string): string {
  const lower = hostname.toLowerCase().replace(/\.$/, '');
  return lower.startsWith('[') && lower.endsWith(']') ? lower.slice(1, -1) : lower;
}

function parseIp(text: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  try {
    return ipaddr.isValid(text) ? ipaddr.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

function globMatches(host: string, pattern: string): boolean {
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`).test(host);
}

/** One rule of Chromium's proxy bypass list against a URL (scheme, host pattern or address range, port). */
function ruleMatches(rule: string, url: URL, host: string): boolean {
  if (rule === '<local>') return !host.includes('.') && !host.includes(':');
  if (rule === '*') return true;
  let rest = rule.toLowerCase();
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//.exec(rest);
  if (scheme !== null) {
    if (`${scheme[1] ?? ''}:` !== url.protocol) return false;
    rest = rest.slice(scheme[0].length);
  }
  const address = parseIp(host);
  if (rest.includes('/')) {
    if (address === undefined) return false;
    try {
      const range = ipaddr.parseCIDR(rest);
      return range[0].kind() === address.kind() && address.match(range);
    } catch {
      return false;
    }
  }
  let port: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest);
  if (bracketed !== null) {
    rest = bracketed[1] ?? '';
    port = bracketed[2];
  } else {
    const withPort = /^([^:]+):(\d+)$/.exec(rest);
    if (withPort !== null) {
      rest = withPort[1] ?? '';
      port = withPort[2];
    }
  }
  if (port !== undefined && port !== (url.port === '' ? defaultPorts[url.protocol] : url.port)) return false;
  const literal = parseIp(rest);
  if (literal !== undefined) return address !== undefined && address.kind() === literal.kind() && address.toNormalizedString() === literal.toNormalizedString();
  // Chromium reads a leading dot as "any subdomain of".
  return globMatches(host, rest.startsWith('.') ? `*${rest}` : rest);
}

/**
 * Whether Chromium sends a request for `url` straight to the site rather than through the proxy, by the
 * bypass list given at launch (engine/browser/launch.ts always adds `<-loopback>`: nothing is bypassed
 * implicitly). Host names are matched as written in the URL, never resolved, as Chromium does.
 */
export function bypassesProxy(url: URL, bypass: string | undefined): boolean {
  const host = bareHost(url.hostname);
  const rules = (bypass ?? '')
    .split(/[,;\s]+/)
    .map((rule) => rule.trim())
    .filter((rule) => rule !== '' && rule !== '<-loopback>');
  return rules.some((rule) => ruleMatches(rule, url, host));
}
