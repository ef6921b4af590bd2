import type { IncomingMessage } from 'node:http';
import { bearerToken, cookies, isLoopbackAddress, secretsEqual, sha256Hex } from './http.ts';
import type { Session, Sessions } from './sessions.ts';
import type { CheckpointRecord, ControlPlaneStore } from './store.ts';

export const sessionCookie = 'checkpoint_session';

/**
 * Who may do what. Agents authenticate with their checkpoint's token (only its sha256 is stored; a rotated
 * token keeps working until its grace period ends). Admins use the admin token as a bearer token, or — for the
 * dashboard, and for GET requests of the API (artifact images) — a server-side session started by signing in
 * with a POSTed form. Without an admin token, admin access is limited to loopback clients.
 */
export class Auth {
  readonly #store: ControlPlaneStore;
  readonly #adminToken: string | undefined;
  readonly #sessions: Sessions;
  readonly #nowIso: () => string;

  constructor(store: ControlPlaneStore, adminToken: string | undefined, sessions: Sessions, nowIso: () => string) {
    this.#store = store;
    this.#adminToken = adminToken;
    this.#sessions = sessions;
    this.#nowIso = nowIso;
  }

  get adminTokenRequired(): boolean {
    return this.#adminToken !== undefined;
  }

  get sessions(): Sessions {
    return this.#sessions;
  }

  /** The checkpoint whose token (current, or previous within its grace period) the request carries. */
  async agent(req: IncomingMessage): Promise<CheckpointRecord | undefined> {
    const token = bearerToken(req);
    return token === undefined ? undefined : await this.#store.checkpointByTokenHash(sha256Hex(token), this.#nowIso());
  }

  /** The dashboard session the request's cookie names, if live. */
  session(req: IncomingMessage): Session | undefined {
    return this.#sessions.get(cookies(req).get(sessionCookie));
  }

  admin(req: IncomingMessage): boolean {
    if (this.#adminToken === undefined) return isLoopbackAddress(req.socket.remoteAddress);
    const token = bearerToken(req);
    if (token !== undefined) return secretsEqual(token, this.#adminToken);
    const method = req.method ?? 'GET';
    // A cookie rides along on requests the user did not mean to make: it grants reading only. Dashboard forms
    // that change something check their CSRF token on top (dashboard.ts).
    if (method !== 'GET' && method !== 'HEAD') return false;
    return this.session(req) !== undefined;
  }

  /** Whether a submitted admin token is the right one (sign-in). Always false without an admin token. */
  tokenMatches(token: string): boolean {
    return this.#adminToken !== undefined && secretsEqual(token, this.#adminToken);
  }
}
