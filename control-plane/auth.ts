import type { IncomingMessage } from 'node:http';
import { bearerToken, cookies, isLoopbackAddress, secretsEqual, sha256Hex } from './http.ts';
import type { CheckpointRecord, Store } from './store.ts';

export const sessionCookie = 'checkpoint_session';

/**
 * Who may do what. Agents authenticate with their checkpoint's token (only its sha256 is stored). Admins use
 * the admin token as a bearer token, or — for the dashboard and for GET requests only — a session cookie
 * derived from it (set by `/login?token=`). Without an admin token, admin access is limited to loopback clients.
 */
export class Auth {
  readonly #store: Store;
  readonly #adminToken: string | undefined;
  /** The cookie value: a hash of the admin token, so the token itself never sits in a cookie jar. */
  readonly #session: string | undefined;

  constructor(store: Store, adminToken: string | undefined) {
    this.#store = store;
    this.#adminToken = adminToken;
    this.#session = adminToken === undefined ? undefined : sha256Hex(`checkpoint-dashboard-session:${adminToken}`);
  }

  get adminTokenRequired(): boolean {
    return this.#adminToken !== undefined;
  }

  /** The checkpoint whose token the request carries. */
  agent(req: IncomingMessage): CheckpointRecord | undefined {
    const token = bearerToken(req);
    return token === undefined ? undefined : this.#store.checkpointByTokenHash(sha256Hex(token));
  }

  admin(req: IncomingMessage): boolean {
    if (this.#adminToken === undefined || this.#session === undefined) return isLoopbackAddress(req.socket.remoteAddress);
    const token = bearerToken(req);
    if (token !== undefined) return secretsEqual(token, this.#adminToken);
    const method = req.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD') return false;
    const session = cookies(req).get(sessionCookie);
    return session !== undefined && secretsEqual(session, this.#session);
  }

  /** The session cookie value for a correct admin token, else undefined. */
  login(token: string): string | undefined {
    if (this.#adminToken === undefined || this.#session === undefined) return undefined;
    return secretsEqual(token, this.#adminToken) ? this.#session : undefined;
  }
}
