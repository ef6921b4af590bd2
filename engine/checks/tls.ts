import { checkServerIdentity, type DetailedPeerCertificate } from 'node:tls';
import type { TlsCheckSpec } from '../schema/checks/tls.ts';
import type { CheckDefinition } from './check-types.ts';
import { runCheck } from './infra/check-run.ts';
import { certificateDetails, connectTcp, resolveTarget, startTls } from './infra/connect.ts';

const protocolRank: Record<string, number> = { TLSv1: 1, 'TLSv1.1': 2, 'TLSv1.2': 3, 'TLSv1.3': 4 };

/**
 * A TLS port's certificate, with Node's TLS: the handshake accepts any certificate so the check can report
 * what it got and judge each point itself (expiry first, as it is the one with a warning stage, then chain,
 * name and protocol), each with a message naming the point that failed.
 */
export const tlsCheck: CheckDefinition<TlsCheckSpec> = {
  kind: 'tls',
  run: (spec, env) =>
    runCheck(env, `tls ${spec.host}:${spec.port}`, async (run) => {
      const servername = spec.servername ?? spec.host;
      const target = await resolveTarget(run, spec.host, spec.port);
      const socket = await connectTcp(run, target);
      // Its own details below name the protocol and the certificate; the shared ones would repeat them.
      const secure = await startTls(run, socket, { servername, verify: false }, { record: false });
      const certificate: DetailedPeerCertificate = secure.getPeerCertificate(true);
      const protocol = secure.getProtocol() ?? 'unknown';
      const authorizationError = secure.authorizationError;
      const chainTrusted = secure.authorized;
      secure.end();
      if (certificate.valid_to === undefined) throw run.fail('TLS_FAILED', 'the server sent no certificate');
      const details = certificateDetails(certificate, env.clock.wallNow());
      run.detail('protocol', protocol);
      run.detail('subject', details.subject);
      run.detail('issuer', details.issuer);
      run.detail('validFrom', new Date(certificate.valid_from).toISOString());
      run.detail('validTo', details.validTo);
      run.detail('daysLeft', details.daysLeft);
      run.detail('subjectAltNames', certificate.subjectaltname);
      run.detail('fingerprint256', certificate.fingerprint256);
      run.detail('chainTrusted', chainTrusted);

      const nowMs = env.clock.wallNow().getTime();
      const expiredDaysAgo = Math.floor((nowMs - new Date(details.validTo).getTime()) / 86_400_000);
      const validFrom = new Date(certificate.valid_from);
      if (validFrom.getTime() > nowMs) throw run.fail('TLS_FAILED', `the certificate is not valid before ${validFrom.toISOString()}`);
      if (nowMs > new Date(details.validTo).getTime()) throw run.fail('CERTIFICATE_EXPIRING', `the certificate expired on ${details.validTo} (${expiredDaysAgo} days ago)`);
      if (details.daysLeft <= spec.errorDays) throw run.fail('CERTIFICATE_EXPIRING', `the certificate expires in ${details.daysLeft} days, on ${details.validTo} (error at ${spec.errorDays} days)`);
      if (spec.checkChain && !chainTrusted) {
        throw run.fail('TLS_FAILED', `the certificate chain is not trusted (${String(authorizationError ?? 'unknown reason')}; issuer ${details.issuer})`);
      }
      if (spec.checkHostname) {
        const mismatch = checkServerIdentity(servername, certificate);
        if (mismatch !== undefined) throw run.fail('TLS_FAILED', `the certificate is not for ${servername} (${certificate.subjectaltname ?? details.subject})`);
      }
      if (spec.minProtocol !== undefined && (protocolRank[protocol] ?? 0) < (protocolRank[spec.minProtocol] ?? 0)) {
        throw run.fail('TLS_FAILED', `the server negotiated ${protocol}, below the minimum ${spec.minProtocol}`);
      }
      if (details.daysLeft <= spec.warnDays) run.warn(`the certificate expires in ${details.daysLeft} days, on ${details.validTo} (warning at ${spec.warnDays} days)`);
    }),
};
