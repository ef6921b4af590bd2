import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Clock } from '../core/clock.ts';
import { EngineError } from '../core/errors.ts';
import type { ResolvedAddress } from './check-types.ts';

/**
 * A host-name lookup through the system resolver, timed on the monotonic clock, with no egress policy. The one
 * place the runner gets `CheckEnvironment.lookup` from until the policy-vetted lookup (engine/checks/vetted-lookup.ts)
 * takes its place: swap the import in engine/runner/run-check.ts.
 */
export function plainLookup(clock: Clock): (host: string) => Promise<ResolvedAddress> {
  return async (host: string): Promise<ResolvedAddress> => {
    const bare = host.replace(/^\[|\]$/g, '');
    const literal = isIP(bare);
    if (literal !== 0) return { address: bare, family: literal === 6 ? 6 : 4, dnsMs: 0 };
    const startMs = clock.nowMs();
    try {
      const found = await lookup(bare);
      return { address: found.address, family: found.family === 6 ? 6 : 4, dnsMs: clock.nowMs() - startMs };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
      const reason = code === 'ENOTFOUND' ? 'no such host' : code === 'EAI_AGAIN' ? 'the DNS server did not answer in time' : code;
      throw new EngineError('DNS_FAILED', `the name ${bare} could not be resolved (${reason})`);
    }
  };
}
