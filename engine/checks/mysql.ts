import { rootCertificates } from 'node:tls';
import type { TLSSocket } from 'node:tls';
import mysql from 'mysql2/promise';
import type { EngineError } from '../core/errors.ts';
import type { MysqlCheckSpec } from '../schema/checks/mysql.ts';
import type { CheckDefinition } from './check-types.ts';
import { runCheck, type CheckRun } from './infra/check-run.ts';
import { errorCodeOf, errorMessageOf } from './infra/classify.ts';
import { connectTcp, recordTls, resolveTarget } from './infra/connect.ts';
import { judgeRows } from './infra/sql-expect.ts';

/** mysql2 codes of a refused login. */
const loginRefused = new Set(['ER_ACCESS_DENIED_ERROR', 'ER_DBACCESS_DENIED_ERROR', 'ER_BAD_DB_ERROR', 'ER_ACCESS_DENIED_NO_PASSWORD_ERROR', 'ER_HOST_NOT_PRIVILEGED', 'ER_NOT_SUPPORTED_AUTH_MODE']);

/**
 * MySQL and MariaDB with `mysql2`: the maintained, widely used pure-JavaScript driver (the older `mysql` is
 * unmaintained and lacks caching_sha2_password). It takes a ready socket: the check connects to the vetted
 * address itself (`connectMs`), times the server's handshake packet (`bannerMs`), then the driver's TLS
 * upgrade and login as one (`authMs`); the host given to the driver is the certificate name.
 */
export const mysqlCheck: CheckDefinition<MysqlCheckSpec> = {
  kind: 'mysql',
  run: (spec, env) =>
    runCheck(env, `mysql ${spec.host}:${spec.port}`, async (run) => {
      run.secret(spec.password);
      const target = await resolveTarget(run, spec.host, spec.port);
      const socket = await connectTcp(run, target);
      const startMs = env.clock.nowMs();
      let handshakeAtMs: number | undefined;
      socket.once('data', () => {
        handshakeAtMs = env.clock.nowMs();
      });
      const verify = spec.tls === 'verify';
      run.activity = 'waiting for the handshake and logging in';
      let connection: mysql.Connection;
      try {
        connection = await env.deadline.race(
          mysql.createConnection({
            stream: socket,
            host: spec.servername ?? spec.host,
            port: target.port,
            user: spec.username,
            password: spec.password ?? '',
            ...(spec.database === undefined ? {} : { database: spec.database }),
            ...(spec.tls === 'disable' ? {} : { ssl: { ca: [...rootCertificates, ...env.caCertificates], rejectUnauthorized: verify, verifyIdentity: verify } }),
            // The deadline bounds the check, not the driver's timer.
            connectTimeout: 3_600_000,
          }),
        );
      } catch (error) {
        if (handshakeAtMs !== undefined) run.addPhase('bannerMs', handshakeAtMs - startMs);
        if (env.deadline.ended) throw error;
        throw loginFailure(run, spec, error);
      }
      run.onEnd(() => connection.destroy());
      const doneMs = env.clock.nowMs();
      run.addPhase('bannerMs', (handshakeAtMs ?? doneMs) - startMs);
      run.addPhase('authMs', doneMs - (handshakeAtMs ?? doneMs));
      run.detail('tls', spec.tls !== 'disable');
      // The promise wrapper keeps the core connection (its TLS socket and server version) as `connection`.
      const core = (connection as unknown as { connection?: { stream?: unknown; _handshakePacket?: { serverVersion?: unknown } | null } }).connection;
      const stream = core?.stream;
      if (spec.tls !== 'disable' && stream !== undefined && typeof (stream as TLSSocket).getProtocol === 'function') recordTls(run, stream as TLSSocket);
      const serverVersion = core?._handshakePacket?.serverVersion;
      if (typeof serverVersion === 'string') run.detail('serverVersion', serverVersion);
      if (spec.query !== undefined) {
        const query = spec.query;
        let rows: unknown[][];
        try {
          rows = await run.phase('queryMs', 'running the query', async () => (await connection.query({ sql: query, rowsAsArray: true }))[0] as unknown[][]);
        } catch (error) {
          if (env.deadline.ended) throw error;
          throw run.fail('ASSERTION_FAILED', `the query failed: ${errorMessageOf(error)}`);
        }
        judgeRows(run, rows, spec.expect);
      }
      await env.deadline.race(connection.end()).catch(() => {});
    }),
};

function loginFailure(run: CheckRun, spec: MysqlCheckSpec, error: unknown): EngineError {
  const code = errorCodeOf(error) ?? '';
  const message = errorMessageOf(error);
  if (loginRefused.has(code)) return run.fail('AUTH_FAILED', `login as "${spec.username}" was refused: ${message}`);
  if (code === 'HANDSHAKE_NO_SSL_SUPPORT') return run.fail('TLS_FAILED', 'the server does not accept TLS connections (set "tls" to "disable" to connect without)');
  throw error;
}
