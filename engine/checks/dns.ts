import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import { EngineError } from '../core/errors.ts';
import { dnsServerPattern, type DnsCheckSpec } from '../schema/checks/dns.ts';
import type { CheckDefinition } from './check-types.ts';
import { runCheck, type CheckRun } from './infra/check-run.ts';
import { errorCodeOf, errorMessageOf } from './infra/classify.ts';

/**
 * DNS lookup with node:dns's Resolver (c-ares): it asks the given server directly for any record type, with
 * no cache and no /etc/hosts in the way, which is what a DNS monitor must see. The server's address is vetted
 * by the egress policy like any other target.
 */
export const dnsCheck: CheckDefinition<DnsCheckSpec> = {
  kind: 'dns',
  run: (spec, env) =>
    runCheck(env, `dns ${spec.recordType} ${spec.query}${spec.server === undefined ? '' : ` @${spec.server}`}`, async (run) => {
      const resolver = new Resolver({ timeout: Math.max(100, Math.min(5000, Math.floor(env.deadline.remainingMs()))), tries: 2 });
      run.onEnd(() => resolver.cancel());
      if (spec.server !== undefined) {
        if (!dnsServerPattern.test(spec.server)) throw new EngineError('SCRIPT_INVALID', `server: "${spec.server}" is not an IP address, ip:port or [ipv6]:port`);
        const { host, port } = splitServer(spec.server);
        run.activity = 'checking the DNS server address';
        const vetted = await env.deadline.race(env.lookup(host));
        resolver.setServers([vetted.family === 6 ? `[${vetted.address}]:${port}` : `${vetted.address}:${port}`]);
      }
      let answers: string[];
      try {
        answers = await run.phase('dnsMs', 'waiting for the DNS answer', () => query(resolver, spec));
      } catch (error) {
        if (env.deadline.ended) throw error;
        throw dnsFailure(run, spec, error);
      }
      run.detail('answers', answers.join('; '));
      run.detail('answerCount', answers.length);
      const mismatch = expectationMismatch(spec, answers);
      if (mismatch !== undefined) throw run.fail('ASSERTION_FAILED', mismatch);
    }),
};

function splitServer(server: string): { host: string; port: number } {
  const bracketed = /^\[(.+)\](?::(\d+))?$/.exec(server);
  if (bracketed !== null) return { host: bracketed[1] ?? '', port: Number(bracketed[2] ?? 53) };
  if (isIP(server) === 6) return { host: server, port: 53 };
  const [host = '', port] = server.split(':');
  return { host, port: Number(port ?? 53) };
}

/** The answers in the one-line forms the result shows and `expect` compares. */
async function query(resolver: Resolver, spec: DnsCheckSpec): Promise<string[]> {
  const name = spec.query;
  switch (spec.recordType) {
    case 'A':
      return resolver.resolve4(name);
    case 'AAAA':
      return resolver.resolve6(name);
    case 'CNAME':
      return resolver.resolveCname(name);
    case 'NS':
      return resolver.resolveNs(name);
    case 'PTR':
      return isIP(name) === 0 ? resolver.resolvePtr(name) : resolver.reverse(name);
    case 'MX':
      return (await resolver.resolveMx(name)).sort((a, b) => a.priority - b.priority).map((mx) => `${mx.priority} ${mx.exchange}`);
    case 'TXT':
      return (await resolver.resolveTxt(name)).map((chunks) => chunks.join(''));
    case 'SRV':
      return (await resolver.resolveSrv(name)).map((srv) => `${srv.priority} ${srv.weight} ${srv.port} ${srv.name}`);
    case 'SOA': {
      const soa = await resolver.resolveSoa(name);
      return [`${soa.nsname} ${soa.hostmaster} ${soa.serial} ${soa.refresh} ${soa.retry} ${soa.expire} ${soa.minttl}`];
    }
    case 'CAA':
      return (await resolver.resolveCaa(name)).map((caa) => {
        const [tag = '', value = ''] = Object.entries(caa).find(([key]) => key !== 'critical') ?? [];
        return `${caa.critical} ${tag} ${String(value)}`;
      });
    case 'NAPTR':
      return (await resolver.resolveNaptr(name)).map((n) => `${n.order} ${n.preference} "${n.flags}" "${n.service}" "${n.regexp}" ${n.replacement}`);
  }
}

function dnsFailure(run: CheckRun, spec: DnsCheckSpec, error: unknown) {
  const code = errorCodeOf(error) ?? '';
  switch (code) {
    case 'ENOTFOUND':
      return run.fail('DNS_FAILED', `${spec.query} does not exist (NXDOMAIN)`);
    case 'ENODATA':
      return run.fail('DNS_FAILED', `${spec.query} exists but has no ${spec.recordType} records`);
    case 'ETIMEOUT':
    case 'ECONNREFUSED':
      return run.fail('DNS_FAILED', `the DNS server did not answer (${code})`);
    case 'ESERVFAIL':
    case 'EREFUSED':
      return run.fail('DNS_FAILED', `the DNS server answered ${code === 'ESERVFAIL' ? 'SERVFAIL' : 'REFUSED'}`);
    default:
      return run.fail('DNS_FAILED', `the lookup failed: ${errorMessageOf(error)}`);
  }
}

/** Names compare case-insensitively and without the root dot; other answers exactly. */
function normalise(answer: string): string {
  return answer.trim().replace(/\.$/, '').toLowerCase();
}

function expectationMismatch(spec: DnsCheckSpec, answers: string[]): string | undefined {
  const expect = spec.expect;
  if (expect === undefined) return undefined;
  const got = new Set(answers.map(normalise));
  const shown = answers.length === 0 ? 'no answers' : `answers ${answers.join(', ')}`;
  if (expect.minAnswers !== undefined && answers.length < expect.minAnswers) return `${shown}, expected at least ${expect.minAnswers}`;
  const missing = (expect.contains ?? []).filter((answer) => !got.has(normalise(answer)));
  if (missing.length > 0) return `${shown}, missing ${missing.join(', ')}`;
  if (expect.equals !== undefined) {
    const want = new Set(expect.equals.map(normalise));
    if (want.size !== got.size || [...want].some((answer) => !got.has(answer))) return `${shown}, expected exactly ${expect.equals.join(', ')}`;
  }
  return undefined;
}
