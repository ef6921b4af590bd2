import type { Socket } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { EngineError } from '../core/errors.ts';
import type { SmtpCheckSpec } from '../schema/checks/smtp.ts';
import type { CheckDefinition } from './check-types.ts';
import { runCheck, type CheckRun } from './infra/check-run.ts';
import { errorCodeOf, errorMessageOf } from './infra/classify.ts';
import { certificateDetails, connectTcp, resolveTarget, startTls, tlsOptions, type TlsPolicy } from './infra/connect.ts';
import { textMismatch } from './infra/expect.ts';
import { preview } from './infra/socket-text.ts';

/**
 * SMTP with nodemailer's SMTPConnection: the most used SMTP client on npm, maintained, and it implements the
 * parts that are easy to get wrong (multi-line replies, STARTTLS with the pre-TLS buffer dropped, AUTH PLAIN/
 * LOGIN/CRAM-MD5 picking). The check opens the socket itself (to the vetted address, timing connect and
 * implicit TLS) and hands it over.
 */
export const smtpCheck: CheckDefinition<SmtpCheckSpec> = {
  kind: 'smtp',
  run: (spec, env) =>
    runCheck(env, `smtp ${spec.host}:${spec.port}`, async (run) => {
      run.secret(spec.password);
      if (spec.username !== undefined && spec.tls === 'none') {
        throw new EngineError('SCRIPT_INVALID', `smtp ${spec.host}:${spec.port}: refusing to send a password without TLS; set "tls" to "starttls" or "implicit"`);
      }
      const policy: TlsPolicy = { servername: spec.servername ?? spec.host, verify: spec.verifyTls };
      const target = await resolveTarget(run, spec.host, spec.port);
      let socket: Socket = await connectTcp(run, target);
      if (spec.tls === 'implicit') socket = await startTls(run, socket, policy);

      const startMs = env.clock.nowMs();
      let greeting = '';
      let greetingAtMs: number | undefined;
      socket.once('data', (chunk: Buffer) => {
        greetingAtMs = env.clock.nowMs();
        greeting = chunk.toString('latin1').split(/\r?\n/)[0] ?? '';
      });
      const connection = new SMTPConnection({
        connection: socket,
        host: target.address,
        port: target.port,
        secure: spec.tls === 'implicit',
        secured: spec.tls === 'implicit',
        servername: policy.servername,
        requireTLS: spec.tls === 'starttls',
        ignoreTLS: spec.tls === 'none',
        tls: withCertificateDetails(run, tlsOptions(run, policy)),
        ...(spec.ehloName === undefined ? {} : { name: spec.ehloName }),
        // The deadline bounds the check; the library's own timers must not end it first with another story.
        connectionTimeout: 3_600_000,
        greetingTimeout: 3_600_000,
        socketTimeout: 3_600_000,
        logger: false,
      });
      run.onEnd(() => connection.close());
      const connected = new Promise<void>((resolve, reject) => {
        connection.once('error', reject);
        connection.connect((error) => (error ? reject(error) : resolve()));
      });
      run.activity = spec.tls === 'starttls' ? 'waiting for the greeting, EHLO and STARTTLS' : 'waiting for the greeting and EHLO';
      try {
        await env.deadline.race(connected);
      } catch (error) {
        if (greetingAtMs !== undefined) run.addPhase('bannerMs', greetingAtMs - startMs);
        throw smtpFailure(run, error, greeting);
      }
      const doneMs = env.clock.nowMs();
      const bannerAtMs = greetingAtMs ?? doneMs;
      run.addPhase('bannerMs', bannerAtMs - startMs);
      // After the greeting: EHLO, and with STARTTLS the upgrade and the second EHLO.
      run.addPhase(spec.tls === 'starttls' ? 'tlsMs' : 'bannerMs', doneMs - bannerAtMs);
      run.detail('banner', preview(greeting));
      run.detail('secure', connection.secure);
      run.detail('authOffered', connection.allowsAuth);
      if (spec.expectBanner !== undefined) {
        const mismatch = textMismatch(greeting, spec.expectBanner);
        if (mismatch !== undefined) throw run.fail('ASSERTION_FAILED', `the greeting ${mismatch}`);
      }
      if (spec.username !== undefined) {
        const username = spec.username;
        try {
          await run.phase('authMs', `logging in as "${username}"`, () => new Promise<void>((resolve, reject) => connection.login({ user: username, pass: spec.password ?? '' }, (error) => (error ? reject(error) : resolve()))));
        } catch (error) {
          if (env.deadline.ended) throw error;
          if (errorCodeOf(error) === 'EAUTH') throw run.fail('AUTH_FAILED', `login as "${username}" was refused (${serverReply(error)})`);
          throw smtpFailure(run, error, greeting);
        }
        run.detail('authenticated', true);
      }
      connection.quit();
    }),
};

/**
 * The library upgrades the socket itself after STARTTLS; the identity check is where the certificate passes
 * by, so its details are taken there (for a verified certificate: an unverified one is not shown to it).
 */
function withCertificateDetails(run: CheckRun, options: ConnectionOptions): ConnectionOptions {
  const check = options.checkServerIdentity;
  return {
    ...options,
    checkServerIdentity: (host, certificate) => {
      const details = certificateDetails(certificate, run.env.clock.wallNow());
      run.detail('subject', details.subject);
      run.detail('issuer', details.issuer);
      run.detail('validTo', details.validTo);
      run.detail('daysLeft', details.daysLeft);
      return check?.(host, certificate);
    },
  };
}

function serverReply(error: unknown): string {
  const response = (error as { response?: unknown }).response;
  return typeof response === 'string' && response !== '' ? preview(response) : errorMessageOf(error);
}

function smtpFailure(run: CheckRun, error: unknown, greeting: string): EngineError {
  if (run.env.deadline.ended) return error as EngineError;
  const code = errorCodeOf(error) ?? '';
  const cause = (error as { cause?: unknown }).cause ?? error;
  switch (code) {
    case 'ETLS':
      return run.fail('TLS_FAILED', `STARTTLS failed: ${errorMessageOf(cause).replace(/^Error initiating TLS - /, '')}`);
    case 'EPROTOCOL':
      return run.fail('PROTOCOL_ERROR', `the server did not greet with 220 (${preview(greeting || serverReply(error))})`);
    case 'EAUTH':
      return run.fail('AUTH_FAILED', serverReply(error));
    case 'ECONNECTION':
      if (/STARTTLS/i.test(errorMessageOf(error))) return run.fail('TLS_FAILED', `the server does not offer STARTTLS (${preview(serverReply(error))})`);
      return run.fail('PROTOCOL_ERROR', `the server ended the session: ${preview(serverReply(error))}`);
    default:
      if (/certificate|self[- ]signed|altnames|TLS|SSL/i.test(errorMessageOf(error))) return run.fail('TLS_FAILED', `TLS failed: ${errorMessageOf(error)}`);
      return run.fail('PROTOCOL_ERROR', `the SMTP session failed while ${run.activity}: ${errorMessageOf(error)}`);
  }
}
