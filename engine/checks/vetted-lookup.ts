import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { systemClock, type Clock } from '../core/clock.ts';
import { EngineError } from '../core/errors.ts';
import { defaultEgressPolicy, type EgressPolicy } from '../core/egress-policy.ts';
import type { ResolvedAddress } from './check-types.ts';

/** Every address of a name, as node:dns `lookup(host, { all: true })` gives them. */
export type Resolve = (host: string) => Promise<readonly { address: string; family: number }[]>;

const systemResolve: Resolve = (host) => dnsLookup(host, { all: true, verbatim: true });

export interface VettedLookupOptions {
  /** Resolver (tests); default node:dns lookup, which follows /etc/hosts and the system resolver. */
  resolve?: Resolve;
  clock?: Clock;
}

/**
 * `lookup` of CheckEnvironment: resolve a host and vet EVERY address against the egress policy before the
 * check connects to the one returned. A name with one denied address among allowed ones is refused whole (a
 * resolver that mixes a public and a metadata address must not win a race). Literal addresses in any encoding
 * (0xa9fea9fe, [::ffff:a9fe:a9fe]) are normalised first. Throws EngineError POLICY_BLOCKED naming the host and
 * the rule, or DNS_FAILED.
 */
export function vettedLookup(policy: EgressPolicy = defaultEgressPolicy, options: VettedLookupOptions = {}): (host: string) => Promise<ResolvedAddress> {
  const resolve = options.resolve ?? systemResolve;
  const clock = options.clock ?? systemClock;
  return async (rawHost) => {
    const byHost = policy.checkHost(rawHost);
    if (!byHost.allowed) throw new EngineError('POLICY_BLOCKED', `egress policy: ${byHost.rule}`, 'script');
    const host = byHost.host;
    // Only what net.connect takes as an address: anything else (1.2.3.4.5) it would resolve, unvetted.
    const family = isIP(host);
    if (family !== 0) return { address: host, family: family === 6 ? 6 : 4, dnsMs: 0 };
    const startedMs = clock.nowMs();
    let answers: readonly { address: string; family: number }[];
    try {
      answers = await resolve(host);
    } catch (error) {
      const code = (error as { code?: string }).code;
      throw new EngineError('DNS_FAILED', `could not resolve ${host}${code === undefined ? '' : ` (${code})`}`, 'site', { cause: error });
    }
    const dnsMs = Math.round((clock.nowMs() - startedMs) * 100) / 100;
    if (answers.length === 0) throw new EngineError('DNS_FAILED', `${host} has no address`, 'site');
    // A host the operator allowed by name skips the address rules (needsResolution false), the rest are vetted.
    if (byHost.needsResolution) {
      for (const answer of answers) {
        const verdict = policy.checkAddress(answer.address, host);
        if (!verdict.allowed) throw new EngineError('POLICY_BLOCKED', `egress policy: ${verdict.rule}`, 'script');
      }
    }
    const first = answers[0];
    if (first === undefined) throw new EngineError('DNS_FAILED', `${host} has no address`, 'site');
    return { address: first.address, family: first.family === 6 ? 6 : 4, dnsMs };
  };
}
