import ipaddr from 'ipaddr.js';

/**
 * Where the checkpoint's browser (and its non-browser checks) may connect. A checkpoint sits inside a company
 * network: it must reach the monitored systems and nothing else, least of all the cloud metadata service that
 * hands out the host's credentials. Pure: every decision here is made on strings and parsed addresses, the
 * callers resolve names and apply the verdict.
 */
export interface EgressPolicyConfig {
  /** Host names always allowed, whatever they resolve to: exact (`intranet.example`) or `*.example` (any subdomain). */
  readonly allowHosts?: readonly string[];
  /** Host names always denied (same forms); wins over every allow rule. */
  readonly denyHosts?: readonly string[];
  /** Address ranges allowed even where a built-in rule denies them (`169.254.10.0/24`); a bare address is a /32 or /128. */
  readonly allowCidrs?: readonly string[];
  /** Address ranges denied (wins over `allowCidrs`). */
  readonly denyCidrs?: readonly string[];
  /** Loopback, RFC 1918, carrier-grade NAT and IPv6 unique-local addresses. Default true (internal systems are the point). */
  readonly allowPrivate?: boolean;
}

export type EgressVerdict = { readonly allowed: true } | { readonly allowed: false; readonly rule: string };

/** What a URL is loaded as: only subresources may be `data:` or `blob:`. */
export type RequestKind = 'navigation' | 'subresource' | 'websocket';

const allowed: EgressVerdict = { allowed: true };
const deny = (rule: string): EgressVerdict => ({ allowed: false, rule });

/** Names of cloud metadata services (GCP, AWS, Azure, OpenStack, Oracle): denied unless allowed by host. */
const metadataHosts = ['metadata.google.internal', 'metadata.goog', 'metadata', 'instance-data', 'instance-data.ec2.internal', 'metadata.azure.com', 'metadata.platformequinix.com'];

/** Metadata addresses outside link-local (link-local is denied as a whole): AWS IPv6, Alibaba, Oracle legacy. */
const metadataAddresses = ['169.254.169.254', '169.254.170.2', 'fd00:ec2::254', '100.100.100.200', '192.0.0.192'].map((text) => ipaddr.parse(text));

const schemesByKind: Record<RequestKind, readonly string[]> = {
  // about:blank sends nothing (a script may start from it); every other page is http(s).
  navigation: ['http:', 'https:', 'about:'],
  subresource: ['http:', 'https:', 'data:', 'blob:', 'about:'],
  websocket: ['ws:', 'wss:'],
};

/** The scheme rule alone (the same for every policy): what `navigate` refuses before anything is sent. */
export function checkScheme(url: string, kind: RequestKind): EgressVerdict {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return deny(`"${url}" is not a valid URL`);
  }
  const schemes = schemesByKind[kind];
  const what = kind === 'navigation' ? 'pages' : kind === 'websocket' ? 'WebSockets' : 'requests';
  if (!schemes.includes(parsed.protocol)) return deny(`scheme ${parsed.protocol} is not allowed for ${what} (allowed: ${schemes.join(', ').replace('about:', 'about:blank')})`);
  if (kind === 'navigation' && parsed.protocol === 'about:' && parsed.href !== 'about:blank') return deny(`${parsed.href} is not allowed for pages (allowed: http:, https:, about:blank)`);
  return allowed;
}

type Address = ipaddr.IPv4 | ipaddr.IPv6;
type Cidr = [Address, number];

function parseCidr(text: string, where: string): Cidr {
  const trimmed = text.trim();
  try {
    if (trimmed.includes('/')) return ipaddr.parseCIDR(trimmed);
    const address = ipaddr.parse(trimmed);
    return [address, address.kind() === 'ipv4' ? 32 : 128];
  } catch {
    throw new Error(`${where}: "${text}" is not an address range (expected e.g. 10.0.0.0/8, 169.254.169.254 or fd00::/8)`);
  }
}

/** `*.example.com`, `example.com` or `.example.com` (the same as `*.`), lower case, without a trailing dot. */
function parseHostPattern(text: string, where: string): string {
  const pattern = text.trim().toLowerCase().replace(/\.$/, '');
  if (!/^(\*\.|\.)?[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?$/.test(pattern) && !ipaddr.isValid(pattern.replace(/^\[|\]$/g, ''))) {
    throw new Error(`${where}: "${text}" is not a host name pattern (expected intranet.example or *.example)`);
  }
  return pattern.startsWith('.') ? `*${pattern}` : pattern;
}

function hostMatches(host: string, pattern: string): boolean {
  if (pattern.startsWith('*.')) {
    const suffix = pattern.slice(1);
    return host.endsWith(suffix) && host.length > suffix.length;
  }
  return host === pattern;
}

/** An IPv4 address carried inside an IPv6 one (mapped, compatible, NAT64, 6to4): that is where packets go. */
function embeddedIpv4(address: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  const range = address.range();
  const p = address.parts;
  const fromParts = (high: number, low: number) => new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
  if (range === 'ipv4Mapped' || range === 'rfc6145' || range === 'rfc6052') return fromParts(p[6] ?? 0, p[7] ?? 0);
  if (range === '6to4') return fromParts(p[1] ?? 0, p[2] ?? 0);
  // IPv4-compatible (::a.b.c.d, deprecated): everything zero but the last 32 bits.
  if (p.slice(0, 6).every((part) => part === 0) && ((p[6] ?? 0) !== 0 || (p[7] ?? 0) > 1)) return fromParts(p[6] ?? 0, p[7] ?? 0);
  return undefined;
}

/**
 * Parse an address in any form a URL, a resolver or a person writes it: dotted, decimal, octal, hex and short
 * IPv4 forms, IPv6 with or without brackets and zone id. Undefined when `text` is a host name.
 */
export function parseAddress(text: string): Address | undefined {
  let candidate = text.trim().replace(/\.$/, '');
  if (candidate.startsWith('[') && candidate.endsWith(']')) candidate = candidate.slice(1, -1);
  // A zone id (fe80::1%eth0, URL-encoded as %25eth0) names an interface; the address is what is checked.
  candidate = candidate.replace(/%(25)?[^%]*$/, '');
  if (candidate.includes(':')) {
    return ipaddr.IPv6.isValid(candidate) ? ipaddr.IPv6.parse(candidate) : undefined;
  }
  // The WHATWG host parser (what the browser applies) turns 0xa9fea9fe, 2852039166, 0251.0376.0251.0376 and
  // 169.254.43518 into dotted form; a name stays a name.
  try {
    const host = new URL(`http://${candidate}/`).hostname;
    return ipaddr.IPv4.isValidFourPartDecimal(host) ? ipaddr.IPv4.parse(host) : undefined;
  } catch {
    return undefined;
  }
}

/** A host as the browser sees it: lower case, IPv4 in dotted form, no brackets or trailing dot. */
export function normalizeHost(host: string): string {
  const address = parseAddress(host);
  if (address !== undefined) return address.toString();
  return host.trim().toLowerCase().replace(/\.$/, '');
}

/**
 * An operator's allow and deny rules on top of the built-in ones, checked in this order:
 * 1. scheme (http/https; data:, blob:, about: for subresources; ws/wss for WebSockets);
 * 2. `denyHosts`, then `allowHosts` (an allowed host skips the address rules: the operator vouches for it);
 * 3. the built-in metadata host names;
 * 4. for each address (literal, or every address the name resolves to): `denyCidrs`, then `allowCidrs`, then
 *    the built-in rules (metadata addresses, link-local, unspecified; private ranges only with `allowPrivate: false`).
 */
export class EgressPolicy {
  readonly #allowHosts: readonly string[];
  readonly #denyHosts: readonly string[];
  readonly #allowCidrs: readonly Cidr[];
  readonly #denyCidrs: readonly Cidr[];
  readonly #allowPrivate: boolean;

  /** Throws an Error naming the bad entry (`denyCidrs[2]: …`) when a rule cannot be parsed. */
  constructor(config: EgressPolicyConfig = {}) {
    this.#allowHosts = (config.allowHosts ?? []).map((text, i) => parseHostPattern(text, `allowHosts[${i}]`));
    this.#denyHosts = (config.denyHosts ?? []).map((text, i) => parseHostPattern(text, `denyHosts[${i}]`));
    this.#allowCidrs = (config.allowCidrs ?? []).map((text, i) => parseCidr(text, `allowCidrs[${i}]`));
    this.#denyCidrs = (config.denyCidrs ?? []).map((text, i) => parseCidr(text, `denyCidrs[${i}]`));
    this.#allowPrivate = config.allowPrivate ?? true;
  }

  /**
   * Verdict on a URL before any name is resolved: scheme, host rules, and the address when the host is a
   * literal. `needsResolution` is true when the host is a name that no host rule decided: its addresses must
   * then pass `checkAddress` (after DNS) too.
   */
  checkUrl(url: string, kind: RequestKind): EgressVerdict & { readonly needsResolution: boolean; readonly host?: string } {
    const scheme = checkScheme(url, kind);
    if (!scheme.allowed) return { ...scheme, needsResolution: false };
    const parsed = new URL(url);
    if (!['http:', 'https:', 'ws:', 'wss:'].includes(parsed.protocol)) return { ...allowed, needsResolution: false };
    return this.checkHost(parsed.hostname);
  }

  /** Host rules and, for an address literal, the address rules. See `checkUrl`. */
  checkHost(rawHost: string): EgressVerdict & { readonly needsResolution: boolean; readonly host: string } {
    const host = normalizeHost(rawHost);
    const byName = this.#checkName(host);
    if (byName !== undefined) return { ...byName, needsResolution: false, host };
    const address = parseAddress(host);
    if (address === undefined) return { ...allowed, needsResolution: true, host };
    return { ...this.checkAddress(address.toString()), needsResolution: false, host };
  }

  /** The host rules alone: a verdict, or undefined when the address decides. */
  #checkName(host: string): EgressVerdict | undefined {
    const denied = this.#denyHosts.find((pattern) => hostMatches(host, pattern));
    if (denied !== undefined) return deny(`host ${host} matches the denied host ${denied}`);
    if (this.#allowHosts.some((pattern) => hostMatches(host, pattern))) return allowed;
    if (metadataHosts.includes(host)) return deny(`${host} is a cloud metadata service (denied by default; allow the host explicitly to reach it)`);
    return undefined;
  }

  /**
   * Verdict on one address a host resolved to (any textual form). For a name whose host rule allowed it,
   * callers skip this (see `checkHost`). An address that cannot be parsed is denied.
   */
  checkAddress(text: string, host?: string): EgressVerdict {
    const address = parseAddress(text);
    const via = host !== undefined && host !== text ? ` (${host})` : '';
    if (address === undefined) return deny(`"${text}"${via} is not an IP address`);
    const candidates: Address[] = [address];
    if (address.kind() === 'ipv6') {
      const inner = embeddedIpv4(address as ipaddr.IPv6);
      if (inner !== undefined) candidates.push(inner);
    }
    for (const candidate of candidates) {
      const verdict = this.#checkOne(candidate);
      if (!verdict.allowed) {
        const shown = candidate === address ? candidate.toString() : `${address.toString()} (${candidate.toString()})`;
        return deny(`${shown}${via} ${verdict.rule}`);
      }
    }
    return allowed;
  }

  #checkOne(address: Address): EgressVerdict {
    const inRange = (cidr: Cidr) => cidr[0].kind() === address.kind() && address.match(cidr);
    const denied = this.#denyCidrs.find(inRange);
    if (denied !== undefined) return deny(`is in the denied range ${denied[0].toString()}/${denied[1]}`);
    if (this.#allowCidrs.some(inRange)) return allowed;
    const hint = `(denied by default; allow it with an allowed CIDR such as ${address.toString()}/${address.kind() === 'ipv4' ? 32 : 128})`;
    if (metadataAddresses.some((m) => m.kind() === address.kind() && m.toString() === address.toString())) return deny(`is a cloud metadata address ${hint}`);
    const range = address.range();
    if (range === 'linkLocal') return deny(`is link-local (${address.kind() === 'ipv4' ? '169.254.0.0/16' : 'fe80::/10'}) ${hint}`);
    if (range === 'unspecified') return deny('is the unspecified address (it reaches the local host)');
    if (range === 'broadcast' || range === 'multicast') return deny(`is a ${range} address`);
    if (!this.#allowPrivate && (range === 'loopback' || range === 'private' || range === 'carrierGradeNat' || range === 'uniqueLocal')) {
      return deny(`is a ${range === 'uniqueLocal' ? 'unique-local' : range === 'carrierGradeNat' ? 'carrier-grade NAT' : range} address (private addresses are denied by this checkpoint's policy)`);
    }
    return allowed;
  }
}

/** The policy every checkpoint gets unless configured: private and loopback allowed, link-local and metadata denied. */
export const defaultEgressPolicy = new EgressPolicy();

/** The failure text a blocked request carries in the waterfall and the HAR. */
export const egressBlockedText = "blocked by the checkpoint's egress policy";

/**
 * How the guard aborts a refused request (Playwright's error code) and the text Chromium then reports for it.
 * ERR_ACCESS_DENIED is otherwise only raised for local files, never for an http(s) request, so the network
 * collector can tell the policy's refusals from other failures (and from `settings.blockedUrls`, which uses
 * ERR_BLOCKED_BY_CLIENT).
 */
export const egressAbortCode = 'accessdenied';
export const egressAbortErrorText = 'net::ERR_ACCESS_DENIED';

/** The egress settings of the agent's configuration (engine/schema/agent-config.ts), as a policy. Throws on a bad rule. */
export function egressPolicyFromSettings(settings: {
  readonly egressAllowHosts?: readonly string[] | undefined;
  readonly egressDenyHosts?: readonly string[] | undefined;
  readonly egressAllowCidrs?: readonly string[] | undefined;
  readonly egressDenyCidrs?: readonly string[] | undefined;
  readonly egressDenyPrivate?: boolean | undefined;
}): EgressPolicy {
  return new EgressPolicy({
    allowHosts: settings.egressAllowHosts ?? [],
    denyHosts: settings.egressDenyHosts ?? [],
    allowCidrs: settings.egressAllowCidrs ?? [],
    denyCidrs: settings.egressDenyCidrs ?? [],
    allowPrivate: settings.egressDenyPrivate !== true,
  });
}
