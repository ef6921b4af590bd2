/**
 * Sessions, cookies and the demo credentials.
 *
 * Everything lives in memory inside one {@link SessionStore}; each demo-site instance creates its own store so
 * that two sites in one process (parallel tests, two checkpoints) never see each other's sign-ins.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Name of the session cookie. */
export const SESSION_COOKIE_NAME = 'sid';

/** User name accepted by the sign-in form. */
export const DEMO_USERNAME = 'demo';
/** Password accepted by the sign-in form. Public on purpose: this is a demo site. */
export const DEMO_PASSWORD = 'demo-password';
/** User name for `/basic-auth`. */
export const BASIC_AUTH_USERNAME = 'admin';
/** Password for `/basic-auth`. */
export const BASIC_AUTH_PASSWORD = 'basic-secret';
/** Realm announced in `WWW-Authenticate` for `/basic-auth`. */
export const BASIC_AUTH_REALM = 'Acme';

/** A signed-in user's session. */
export interface Session {
  readonly id: string;
  readonly username: string;
  lastSeenMs: number;
}

/** In-memory session storage for one demo-site instance. */
export interface SessionStore {
  /** Starts a new session for `username` and returns it. */
  create(username: string): Session;
  /** The live session with this id (refreshing its idle timer), or `undefined`. */
  get(id: string | undefined): Session | undefined;
  /** Ends a session; unknown ids are ignored. */
  destroy(id: string | undefined): void;
  /** Number of live sessions (for tests and diagnostics). */
  readonly size: number;
}

/** Tuning for {@link createSessionStore}. */
export interface SessionStoreOptions {
  /** Sessions unused for this long are forgotten. Default 1 hour. */
  idleTimeoutMs?: number;
  /** Upper bound on live sessions; the least recently used are dropped first. Default 10,000. */
  maxSessions?: number;
  /** Clock, injectable for tests. */
  now?: () => number;
}

/**
 * Creates an empty session store.
 *
 * Scheduled transactions sign in every few minutes for months and rarely sign out, so the store expires idle
 * sessions and caps its size instead of growing without bound.
 */
export function createSessionStore(options: SessionStoreOptions = {}): SessionStore {
  const idleTimeoutMs = options.idleTimeoutMs ?? 60 * 60 * 1000;
  const maxSessions = options.maxSessions ?? 10_000;
  const now = options.now ?? Date.now;
  // A Map iterates in insertion order; re-inserting on use keeps the least recently used session first.
  const sessions = new Map<string, Session>();

  function prune(): void {
    const cutoffMs = now() - idleTimeoutMs;
    for (const [id, session] of sessions) {
      if (session.lastSeenMs >= cutoffMs && sessions.size <= maxSessions) break;
      sessions.delete(id);
    }
  }

  return {
    create(username) {
      prune();
      const session: Session = { id: randomBytes(24).toString('base64url'), username, lastSeenMs: now() };
      sessions.set(session.id, session);
      prune();
      return session;
    },
    get(id) {
      if (id === undefined) return undefined;
      const session = sessions.get(id);
      if (session === undefined) return undefined;
      if (now() - session.lastSeenMs > idleTimeoutMs) {
        sessions.delete(id);
        return undefined;
      }
      session.lastSeenMs = now();
      sessions.delete(id);
      sessions.set(id, session);
      return session;
    },
    destroy(id) {
      if (id !== undefined) sessions.delete(id);
    },
    get size() {
      return sessions.size;
    },
  };
}

/** Parses a `Cookie` request header into name → value (first occurrence wins, as browsers send the most specific first). */
export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  if (header === undefined) return cookies;
  for (const pair of header.split(';')) {
    const equals = pair.indexOf('=');
    if (equals <= 0) continue;
    const name = pair.slice(0, equals).trim();
    let value = pair.slice(equals + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    if (name !== '' && !cookies.has(name)) cookies.set(name, value);
  }
  return cookies;
}

/** `Set-Cookie` value that stores the session id. */
export function sessionCookieHeader(sessionId: string): string {
  return `${SESSION_COOKIE_NAME}=${sessionId}; HttpOnly; Path=/; SameSite=Lax`;
}

/** `Set-Cookie` value that removes the session cookie. */
export function clearedSessionCookieHeader(): string {
  return `${SESSION_COOKIE_NAME}=; HttpOnly; Path=/; SameSite=Lax; Max-Age=0`;
}

/** Compares secrets in constant time; hashing first makes unequal lengths safe for timingSafeEqual. */
function secretEquals(actual: string, expected: string): boolean {
  const a = createHash('sha256').update(actual).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** True when the sign-in form credentials are the demo user's. */
export function checkDemoCredentials(username: string, password: string): boolean {
  // Evaluate both comparisons so timing does not reveal which half was wrong.
  const userOk = secretEquals(username, DEMO_USERNAME);
  const passwordOk = secretEquals(password, DEMO_PASSWORD);
  return userOk && passwordOk;
}

/** True when an `Authorization` header carries the `/basic-auth` credentials. */
export function checkBasicAuth(header: string | undefined): boolean {
  if (header === undefined) return false;
  const match = /^\s*basic\s+([A-Za-z0-9+/=._~-]+)\s*$/i.exec(header);
  if (match?.[1] === undefined) return false;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  // The password may itself contain ':'; only the first one separates user from password (RFC 7617).
  const colon = decoded.indexOf(':');
  if (colon < 0) return false;
  const userOk = secretEquals(decoded.slice(0, colon), BASIC_AUTH_USERNAME);
  const passwordOk = secretEquals(decoded.slice(colon + 1), BASIC_AUTH_PASSWORD);
  return userOk && passwordOk;
}
