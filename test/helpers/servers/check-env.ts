import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { CheckEnvironment } from '../../../engine/checks/check-types.ts';
import { systemClock } from '../../../engine/core/clock.ts';
import { Deadline } from '../../../engine/core/deadline.ts';
import { EngineError } from '../../../engine/core/errors.ts';

/**
 * The environment the runner gives a check, for tests: a deadline of `budgetMs`, the system clock, a plain
 * node:dns lookup (IPv4, no egress policy) and the test's CA certificates.
 */
export function checkEnv(options: { budgetMs?: number; caCertificates?: string[] } = {}): CheckEnvironment {
  const budgetMs = options.budgetMs ?? 20_000;
  const deadline = Deadline.start({ clock: systemClock, budgetMs, onExpire: () => new EngineError('STEP_TIMEOUT', `step timed out after ${budgetMs} ms`) });
  return {
    deadline,
    clock: systemClock,
    caCertificates: options.caCertificates ?? [],
    async lookup(host) {
      const family = isIP(host);
      if (family !== 0) return { address: host, family: family as 4 | 6, dnsMs: 0 };
      const startMs = systemClock.nowMs();
      try {
        // IPv4 only: the test servers listen on 127.0.0.1, and some hosts files list ::1 first for localhost.
        const found = await lookup(host, { family: 4 });
        return { address: found.address, family: found.family as 4 | 6, dnsMs: systemClock.nowMs() - startMs };
      } catch {
        throw new EngineError('DNS_FAILED', `${host} did not resolve`);
      }
    },
  };
}
