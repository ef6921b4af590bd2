import type { Clock } from '../core/clock.ts';
import type { Deadline } from '../core/deadline.ts';
import type { EngineError } from '../core/errors.ts';

/**
 * The contract between the runner and a non-browser check (API request, TCP, DNS, TLS, SMTP, IMAP, POP3, SFTP,
 * FTP, PostgreSQL, MySQL, ...). A check is one module in engine/checks/ that turns a validated, already
 * templated spec into a CheckOutcome; the runner turns that into a step of the usual result shape.
 */
export interface CheckEnvironment {
  /** The check's budget and its one way to be cancelled: pass `deadline.signal` to every client. */
  readonly deadline: Deadline;
  /** Monotonic time for phase timings (`clock.nowMs()`); the wall clock only for certificate dates. */
  readonly clock: Clock;
  /**
   * Resolves a host name and vets every address against the checkpoint's egress policy (throws an EngineError
   * POLICY_BLOCKED or DNS_FAILED). A check connects to the address this returns, never to the name again, so
   * what was vetted is what is reached; TLS still verifies against the name (`servername`).
   */
  lookup(host: string): Promise<ResolvedAddress>;
  /** Extra trusted CA certificates (PEM) of the checkpoint, added to Node's own roots. */
  readonly caCertificates: readonly string[];
}

export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
  /** Time spent resolving; 0 for an IP literal. */
  readonly dnsMs: number;
}

/** Phase names a check may time, in the order they happen. All in ms, measured with `env.clock`. */
export type CheckPhase = 'dnsMs' | 'connectMs' | 'tlsMs' | 'bannerMs' | 'authMs' | 'queryMs' | 'ttfbMs' | 'downloadMs' | 'transferMs';

export interface CheckWarning {
  /** One sentence a person can act on, e.g. "the certificate of db.example expires in 12 days (warning at 30)". */
  readonly message: string;
}

export interface CheckOutcome {
  /** The phases that completed (a failed check keeps the ones before its failure). */
  readonly phases: Partial<Record<CheckPhase, number>>;
  /**
   * What a reader of the report wants to see: TLS protocol, certificate subject/issuer/daysLeft, banner, server
   * version, row count, answers... Never a secret or a password.
   */
  readonly details: Readonly<Record<string, string | number | boolean>>;
  /** Non-fatal findings that make the step a `warning` (a certificate inside its warning days). */
  readonly warnings: readonly CheckWarning[];
  /** Set when the check failed: a one-sentence message, a code and the blame (engine/schema/error-codes.ts). */
  readonly error?: EngineError | undefined;
}

/** One kind of check: `run` never throws for a failed check (it returns `error`); a throw is a bug. */
export interface CheckDefinition<Spec> {
  readonly kind: string;
  run(spec: Spec, env: CheckEnvironment): Promise<CheckOutcome>;
}
