import { isIP, Socket } from 'node:net';
import { checkServerIdentity, connect as tlsConnect, rootCertificates, type ConnectionOptions, type PeerCertificate, type TLSSocket } from 'node:tls';
import { EngineError } from '../../core/errors.ts';
import type { CheckRun } from './check-run.ts';

const ignore = () => {};

/** Where a check connects: the vetted address, and the name TLS verifies. */
export interface Target {
  readonly host: string;
  readonly address: string;
  readonly port: number;
}

/** A port as the spec has it after rendering (a number, or a `{{variable}}` that became digits). */
export function portOf(value: number | string): number {
  const port = typeof value === 'number' ? value : Number(value.trim());
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new EngineError('SCRIPT_INVALID', `port: "${String(value)}" is not a port number (1-65535)`);
  return port;
}

/** Resolve (and vet) the host through the environment; the time is the `dnsMs` phase. */
export async function resolveTarget(run: CheckRun, host: string, portValue: number | string): Promise<Target> {
  const port = portOf(portValue);
  run.activity = `resolving ${host}`;
  const resolved = await run.env.deadline.race(run.env.lookup(host));
  run.addPhase('dnsMs', resolved.dnsMs);
  run.detail('address', resolved.address);
  return { host, address: resolved.address, port };
}

/** A TCP connection to the vetted address, timed as `connectMs`, destroyed when the deadline ends. */
export async function connectTcp(run: CheckRun, target: Target): Promise<Socket> {
  const socket = new Socket();
  run.onEnd(() => socket.destroy());
  await run.phase('connectMs', `connecting to port ${target.port}`, () =>
    new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.connect({ host: target.address, port: target.port }, () => {
        socket.off('error', reject);
        // Errors after this point reach the check through the protocol client; none may crash the process.
        socket.on('error', ignore);
        resolve();
      });
    }),
  );
  return socket;
}

export interface TlsPolicy {
  /** The name the certificate must carry (the host unless the spec names another). */
  readonly servername: string;
  /** False to accept any certificate (a self-signed test server); the details still show it. */
  readonly verify: boolean;
}

/**
 * TLS options for a client that connects to the vetted address: SNI and the identity check use the name,
 * never the address, and the checkpoint's CA certificates are trusted next to Node's roots.
 */
export function tlsOptions(run: CheckRun, policy: TlsPolicy): ConnectionOptions {
  const name = policy.servername;
  return {
    ...(isIP(name) === 0 ? { servername: name } : {}),
    ca: [...rootCertificates, ...run.env.caCertificates],
    rejectUnauthorized: policy.verify,
    checkServerIdentity: (_host, certificate) => (policy.verify ? checkServerIdentity(name, certificate) : undefined),
  };
}

/** TLS over a connected socket (implicit TLS right after connect, or after STARTTLS), timed as `tlsMs`. */
export async function startTls(run: CheckRun, socket: Socket, policy: TlsPolicy, options: { record?: boolean } = {}): Promise<TLSSocket> {
  const secure = await run.phase('tlsMs', 'negotiating TLS', () =>
    new Promise<TLSSocket>((resolve, reject) => {
      const tlsSocket = tlsConnect({ ...tlsOptions(run, policy), socket }, () => {
        tlsSocket.off('error', reject);
        tlsSocket.on('error', ignore);
        resolve(tlsSocket);
      });
      run.onEnd(() => tlsSocket.destroy());
      tlsSocket.once('error', reject);
    }),
  );
  if (options.record !== false) recordTls(run, secure);
  return secure;
}

/** The protocol and the certificate of a TLS connection, as details. */
export function recordTls(run: CheckRun, socket: TLSSocket): void {
  run.detail('tlsProtocol', socket.getProtocol() ?? undefined);
  const certificate = socket.getPeerCertificate();
  if (certificate.valid_to !== undefined) {
    const details: CertificateDetails = certificateDetails(certificate, run.env.clock.wallNow());
    run.detail('subject', details.subject);
    run.detail('issuer', details.issuer);
    run.detail('validTo', details.validTo);
    run.detail('daysLeft', details.daysLeft);
  }
}

export interface CertificateDetails {
  subject: string;
  issuer: string;
  validTo: string;
  daysLeft: number;
}

const dayMs = 24 * 60 * 60 * 1000;

export function certificateDetails(certificate: PeerCertificate, now: Date): CertificateDetails {
  const validTo = new Date(certificate.valid_to);
  return {
    subject: distinguishedName(certificate.subject),
    issuer: distinguishedName(certificate.issuer),
    validTo: validTo.toISOString(),
    daysLeft: Math.floor((validTo.getTime() - now.getTime()) / dayMs),
  };
}

/** "CN=db.example, O=Example": the fields a person recognises, in the usual order. */
function distinguishedName(name: PeerCertificate['subject'] | undefined): string {
  if (name === undefined) return '';
  const parts: string[] = [];
  for (const field of ['CN', 'O', 'OU', 'C']) {
    const value = (name as unknown as Record<string, string | string[] | undefined>)[field];
    if (value !== undefined) parts.push(`${field}=${Array.isArray(value) ? value.join('+') : value}`);
  }
  return parts.join(', ');
}
