import pg from 'pg';

export interface PostgresStoreOptions {
  /** Connections this replica keeps open at most (default 10). Every replica has its own pool: the server's `max_connections` must cover them all. */
  poolSize?: number;
  /** The server cancels a statement that runs longer (default 30 s): a stuck query fails instead of holding a connection. */
  statementTimeoutMs?: number;
  /** How long to wait for a connection, from the pool or a new one (default 10 s). */
  connectTimeoutMs?: number;
  /**
   * The client gives up on a query after this long (default: the statement timeout + 5 s). The server's statement
   * timeout cannot end a query whose connection died silently; this can, together with TCP keepalive.
   */
  queryTimeoutMs?: number;
  /** Shown in `pg_stat_activity` (default `checkpoint-control-plane`); an `application_name` in the URL wins. */
  applicationName?: string;
  /** Scheduler decisions succeed only while this replica holds the lease (see `FencedError`). */
  fence?: { lease: string; holder: string };
  /** An idle connection failed (the server restarted, the network dropped it). The pool replaces it; the default ignores it. */
  onIdleError?: (error: Error) => void;
}

/**
 * The URL as it may be shown: the password (in the authority or as a `password` parameter) replaced by `***`.
 * Works on text that is not a valid URL too, since a malformed URL is exactly what ends up in an error message.
 */
export function redactPostgresUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    if (parsed.searchParams.has('password')) parsed.searchParams.set('password', '***');
    return parsed.toString();
  } catch {
    // Not a URL: cut the authority's password (up to the last '@' before the host) and any password parameter.
    return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/?#@]*:)[^/?#]*@/i, '$1***@').replace(/([?&]password=)[^&#]*/gi, '$1***');
  }
}

/** The password in a URL (decoded), to scrub from messages a driver or server writes. */
function passwordOf(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    const password = parsed.searchParams.get('password') ?? decodeURIComponent(parsed.password);
    return password === '' ? undefined : password;
  } catch {
    return /^[a-z][a-z0-9+.-]*:\/\/[^:/?#@]*:([^/?#]*)@/i.exec(url)?.[1];
  }
}

/** Errors that mean "the server refused these credentials" (SQLSTATE class 28) or "no such database" (3D000). */
const refusedLogin = /^(28|3D000)/;

/** Why `openPostgresStore` could not open the database; the message names the URL without its password. */
export class PostgresConnectError extends Error {
  readonly code: 'AUTH_FAILED' | 'CONNECT_FAILED' | 'MIGRATION_FAILED';

  constructor(code: PostgresConnectError['code'], message: string) {
    super(message);
    this.name = 'PostgresConnectError';
    this.code = code;
  }
}

/**
 * A clear error for a failure to connect or migrate, naming the URL without its password. The driver's error
 * is not kept as `cause` (its fields are printed with the error and are not ours to vouch for); its message,
 * code and SQLSTATE are, with the password scrubbed in case a server or a future driver echoes it.
 */
export function connectError(url: string, stage: 'connect' | 'migrate', error: unknown): PostgresConnectError {
  const where = redactPostgresUrl(url);
  const details = error as { message?: unknown; code?: unknown };
  let message = typeof details.message === 'string' && details.message !== '' ? details.message : String(error);
  const password = passwordOf(url);
  if (password !== undefined) message = message.split(password).join('***');
  const code = typeof details.code === 'string' ? details.code : undefined;
  if (stage === 'migrate') return new PostgresConnectError('MIGRATION_FAILED', `cannot migrate the PostgreSQL database at ${where}: ${message}${code === undefined ? '' : ` (${code})`}`);
  if (code !== undefined && refusedLogin.test(code)) return new PostgresConnectError('AUTH_FAILED', `PostgreSQL at ${where} refused the login: ${message} (${code}); check the user, password and database in the URL`);
  return new PostgresConnectError('CONNECT_FAILED', `cannot connect to PostgreSQL at ${where}: ${message}${code === undefined ? '' : ` (${code})`}`);
}

/**
 * A pool on `url` (libpq-style: `postgres://user:password@host:port/database?sslmode=…&sslrootcert=…`). node-postgres
 * parses the URL itself, TLS parameters included (`sslrootcert` is read as the CA file); parameters in the URL win
 * over these options.
 */
export function createPool(url: string, options: PostgresStoreOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    statement_timeout: options.statementTimeoutMs ?? 30_000,
    // A transaction left open by a crashed request must not hold its row locks for long.
    idle_in_transaction_session_timeout: 60_000,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    query_timeout: options.queryTimeoutMs ?? (options.statementTimeoutMs ?? 30_000) + 5_000,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    application_name: options.applicationName ?? 'checkpoint-control-plane',
  });
  const onIdleError = options.onIdleError;
  // Without a listener an idle connection's error would be thrown as an uncaught exception.
  pool.on('error', (error) => onIdleError?.(error));
  return pool;
}
