import type { EngineError as EngineErrorType } from '../../core/errors.ts';
import { EngineError } from '../../core/errors.ts';
import type { CheckEnvironment, CheckOutcome, CheckPhase, CheckWarning } from '../check-types.ts';
import { classifyError } from './classify.ts';

type DetailValue = string | number | boolean;

/**
 * The bookkeeping of one check run: phases timed with the environment's clock, details, warnings, what the
 * check is doing now (for a timeout message), and the secrets that must never reach a message.
 */
export class CheckRun {
  readonly env: CheckEnvironment;
  /** "postgres 127.0.0.1:5432": the subject every message starts with. */
  readonly subject: string;
  readonly phases: Partial<Record<CheckPhase, number>> = {};
  readonly details: Record<string, DetailValue> = {};
  readonly warnings: CheckWarning[] = [];
  /** What the check is doing now, e.g. "waiting for the greeting"; names the stage a timeout cut. */
  activity = 'starting';
  readonly #secrets: string[] = [];
  readonly #cleanups: (() => void)[] = [];

  constructor(env: CheckEnvironment, subject: string) {
    this.env = env;
    this.subject = subject;
  }

  /** A value (a password, a passphrase) scrubbed from every message the check returns. */
  secret(value: string | undefined): void {
    if (value !== undefined && value.length > 0) this.#secrets.push(value);
  }

  /**
   * Run `close` when the deadline ends (so a hung client lets go) and when the check finishes; the last
   * registered closes first, so a TLS socket goes before the socket it wraps (Node crashes at exit otherwise).
   */
  onEnd(close: () => void): void {
    if (this.#cleanups.length === 0) this.env.deadline.signal.addEventListener('abort', this.#onAbort, { once: true });
    this.#cleanups.push(close);
  }

  readonly #onAbort = () => this.close();

  /** Time `work` as `phase` (added to what the phase already has), cut short when the deadline ends. */
  async phase<T>(phase: CheckPhase, activity: string, work: () => Promise<T>): Promise<T> {
    this.activity = activity;
    const startMs = this.env.clock.nowMs();
    const value = await this.env.deadline.race(work());
    this.addPhase(phase, this.env.clock.nowMs() - startMs);
    return value;
  }

  addPhase(phase: CheckPhase, ms: number): void {
    this.phases[phase] = round((this.phases[phase] ?? 0) + Math.max(0, ms));
  }

  /** A failure with a one-sentence message about this check. */
  fail(code: EngineErrorType['code'], what: string): EngineError {
    return new EngineError(code, `${this.subject}: ${what}`);
  }

  warn(message: string): void {
    this.warnings.push({ message: `${this.subject}: ${message}` });
  }

  detail(name: string, value: DetailValue | undefined): void {
    if (value !== undefined) this.details[name] = value;
  }

  scrub(text: string): string {
    let out = text;
    for (const secret of this.#secrets) {
      // A short secret is replaced where it stands alone, so "x" does not turn "exchanging" into "e***changing".
      out = secret.length >= 6 ? out.split(secret).join('***') : out.replace(new RegExp(`(?<![A-Za-z0-9])${escapeRegExp(secret)}(?![A-Za-z0-9])`, 'g'), '***');
    }
    return out;
  }

  close(): void {
    this.env.deadline.signal.removeEventListener('abort', this.#onAbort);
    for (const cleanup of this.#cleanups.splice(0).reverse()) {
      try {
        cleanup();
      } catch {
        // Closing a client that already failed may throw; the check's own error is what counts.
      }
    }
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

/**
 * Runs a check body and turns whatever happens into a CheckOutcome: a returned body is a pass, an EngineError
 * thrown by the body is the failure as worded, anything else is classified (refused connection, certificate
 * error, timeout...). `run` never throws: a check that fails returns its error.
 */
export async function runCheck(env: CheckEnvironment, subject: string, body: (run: CheckRun) => Promise<void>): Promise<CheckOutcome> {
  const run = new CheckRun(env, subject);
  let error: EngineError | undefined;
  try {
    env.deadline.throwIfEnded();
    await body(run);
  } catch (thrown) {
    error = toCheckError(run, thrown);
  } finally {
    run.close();
  }
  if (error !== undefined) error = new EngineError(error.code, run.scrub(oneLine(error.message)), error.blame);
  return { phases: { ...run.phases }, details: scrubDetails(run), warnings: run.warnings.map((w) => ({ message: run.scrub(w.message) })), error };
}

function toCheckError(run: CheckRun, thrown: unknown): EngineError {
  const { deadline } = run.env;
  // A failure the check worded itself stands, even when time ran out while it judged what it had.
  if (thrown instanceof EngineError && thrown !== deadline.reason) return thrown;
  // The deadline ending is the cause even when the client reports it as a reset or a closed socket.
  if (deadline.ended) {
    const reason = deadline.reason;
    if (deadline.expired) {
      // The runner's deadline says which limit ran out (the step's, or the whole script's); the check says where.
      const code = reason instanceof EngineError && reason.code.endsWith('_TIMEOUT') ? reason.code : 'STEP_TIMEOUT';
      return run.fail(code, `no answer within the time limit while ${run.activity}`);
    }
    if (reason instanceof EngineError) return reason;
    return new EngineError('RUN_ABORTED', `${run.subject}: cancelled while ${run.activity}`);
  }
  const { code, what } = classifyError(thrown, run.activity);
  return run.fail(code, what);
}

function scrubDetails(run: CheckRun): Record<string, DetailValue> {
  const out: Record<string, DetailValue> = {};
  for (const [name, value] of Object.entries(run.details)) out[name] = typeof value === 'string' ? run.scrub(value) : value;
  return out;
}

/** Server messages can span lines; a result message is one sentence on one line. */
function oneLine(text: string): string {
  // Node's hint about --use-system-ca speaks to a developer; the checkpoint's own CA setting is the remedy.
  return text.replace(/; if the root CA is installed locally, try running Node\.js with --use-system-ca/g, '').replace(/\s*[\r\n]+\s*/g, ' ').trim();
}
