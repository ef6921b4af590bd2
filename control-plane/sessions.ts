import { createHash, createHmac, randomBytes } from 'node:crypto';
import { secretsEqual } from './http.ts';

export interface Session {
  /** sha256 of the cookie value: the value itself is never kept, so a memory dump yields no usable cookie. */
  idHash: string;
  createdAtMs: number;
  lastUsedAtMs: number;
  /** Synchroniser token of this session's forms. */
  csrfToken: string;
}

export interface SessionOptions {
  /** A session ends this long after sign-in, whatever happens. Default 12 h. */
  maxAgeMs?: number;
  /** …or after this long unused. Default 2 h. */
  idleMs?: number;
  /** Oldest sessions go first beyond this many. Default 1000. */
  maxSessions?: number;
  nowMs: () => number;
}

function hashOf(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/**
 * Dashboard sessions, server-side: the cookie carries 256 random bits, the server keeps their hash with the times
 * that end the session (absolute and idle) and the session's CSRF token. Kept in memory: a restart signs everyone
 * out, which is the safe direction.
 */
export class Sessions {
  readonly #sessions = new Map<string, Session>();
  readonly #maxAgeMs: number;
  readonly #idleMs: number;
  readonly #maxSessions: number;
  readonly #nowMs: () => number;
  /** Key of the pre-sign-in CSRF tokens (login form), new per process. */
  readonly #loginKey = randomBytes(32);

  constructor(options: SessionOptions) {
    this.#maxAgeMs = options.maxAgeMs ?? 12 * 3_600_000;
    this.#idleMs = options.idleMs ?? 2 * 3_600_000;
    this.#maxSessions = options.maxSessions ?? 1000;
    this.#nowMs = options.nowMs;
  }

  get maxAgeSeconds(): number {
    return Math.floor(this.#maxAgeMs / 1000);
  }

  /** Start a session: returns the cookie value (shown once) and the session. */
  create(): { cookieValue: string; session: Session } {
    const now = this.#nowMs();
    this.#sweep(now);
    while (this.#sessions.size >= this.#maxSessions) {
      const oldest = this.#sessions.keys().next().value;
      if (oldest === undefined) break;
      this.#sessions.delete(oldest);
    }
    const cookieValue = randomBytes(32).toString('base64url');
    const session: Session = { idHash: hashOf(cookieValue), createdAtMs: now, lastUsedAtMs: now, csrfToken: randomBytes(32).toString('base64url') };
    this.#sessions.set(session.idHash, session);
    return { cookieValue, session };
  }

  /** The live session a cookie value names (and mark it used), or undefined when unknown or expired. */
  get(cookieValue: string | undefined): Session | undefined {
    if (cookieValue === undefined || cookieValue === '') return undefined;
    const idHash = hashOf(cookieValue);
    const session = this.#sessions.get(idHash);
    if (session === undefined) return undefined;
    const now = this.#nowMs();
    if (now - session.createdAtMs >= this.#maxAgeMs || now - session.lastUsedAtMs >= this.#idleMs) {
      this.#sessions.delete(idHash);
      return undefined;
    }
    session.lastUsedAtMs = now;
    return session;
  }

  /** End a session (sign out). */
  destroy(cookieValue: string | undefined): void {
    if (cookieValue !== undefined) this.#sessions.delete(hashOf(cookieValue));
  }

  /** End every session (token rotation of the admin, shutdown). */
  clear(): void {
    this.#sessions.clear();
  }

  get size(): number {
    return this.#sessions.size;
  }

  /** A form's token matches its session's (constant time). */
  csrfValid(session: Session, submitted: string | undefined): boolean {
    return submitted !== undefined && submitted !== '' && secretsEqual(submitted, session.csrfToken);
  }

  /**
   * The login form has no session yet: its token is bound to a random pre-sign-in cookie (double submit, signed
   * with a per-process key so a cookie planted by a sibling origin without the matching token is useless).
   */
  loginCsrfToken(preCookie: string): string {
    return createHmac('sha256', this.#loginKey).update(`login:${preCookie}`).digest('base64url');
  }

  loginCsrfValid(preCookie: string | undefined, submitted: string | undefined): boolean {
    if (preCookie === undefined || preCookie === '' || submitted === undefined || submitted === '') return false;
    return secretsEqual(submitted, this.loginCsrfToken(preCookie));
  }

  #sweep(now: number): void {
    for (const [key, session] of this.#sessions) {
      if (now - session.createdAtMs >= this.#maxAgeMs || now - session.lastUsedAtMs >= this.#idleMs) this.#sessions.delete(key);
    }
  }
}
