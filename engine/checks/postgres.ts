import { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import pg from 'pg';
import { type EngineError } from '../core/errors.ts';
import type { PostgresCheckSpec } from '../schema/checks/postgres.ts';
import type { CheckDefinition } from './check-types.ts';
import { runCheck, type CheckRun } from './infra/check-run.ts';
import { errorCodeOf, errorMessageOf } from './infra/classify.ts';
import { recordTls, resolveTarget, tlsOptions } from './infra/connect.ts';
import { judgeRows } from './infra/sql-expect.ts';

/** SQLSTATE classes of a refused login: 28 (invalid authorization), 3D000 (no such database). */
const loginRefused = /^(28|3D000)/;

/**
 * PostgreSQL with `pg` (node-postgres): the standard pure-JavaScript driver, maintained for over a decade,
 * with SCRAM, TLS options passed to Node's TLS as given, and a socket factory — the check hands it a socket
 * to the vetted address and times the TCP connect itself. The driver negotiates TLS and logs in as one call:
 * `authMs` covers both (and `tlsMs` is split out when the certificate is verified, from the identity check).
 */
export const postgresCheck: CheckDefinition<PostgresCheckSpec> = {
  kind: 'postgres',
  run: (spec, env) =>
    runCheck(env, `postgres ${spec.host}:${spec.port}`, async (run) => {
      run.secret(spec.password);
      const target = await resolveTarget(run, spec.host, spec.port);
      const socket = new Socket();
      let connectedAtMs: number | undefined;
      let tlsDoneAtMs: number | undefined;
      socket.once('connect', () => {
        connectedAtMs = env.clock.nowMs();
      });
      const verifiedTls = tlsOptions(run, { servername: spec.servername ?? spec.host, verify: spec.tls === 'verify' });
      const checkIdentity = verifiedTls.checkServerIdentity;
      const client = new pg.Client({
        host: target.address,
        port: target.port,
        user: spec.username,
        password: spec.password ?? '',
        database: spec.database ?? spec.username,
        stream: () => socket,
        ssl:
          spec.tls === 'disable'
            ? false
            : {
                ...verifiedTls,
                checkServerIdentity: (host, certificate) => {
                  tlsDoneAtMs = env.clock.nowMs();
                  return checkIdentity?.(host, certificate);
                },
              },
        application_name: 'checkpoint',
        // The deadline bounds the check; the driver's own timers stay out of the way.
        connectionTimeoutMillis: 0,
      });
      client.on('error', () => {});
      run.onEnd(() => {
        socket.destroy();
        void client.end().catch(() => {});
      });
      run.activity = `connecting to port ${spec.port}`;
      const connectStartMs = env.clock.nowMs();
      try {
        await env.deadline.race(client.connect());
      } catch (error) {
        if (connectedAtMs !== undefined) run.addPhase('connectMs', connectedAtMs - connectStartMs);
        if (env.deadline.ended) {
          run.activity = connectedAtMs === undefined ? `connecting to port ${spec.port}` : `logging in as "${spec.username}"`;
          throw error;
        }
        throw loginFailure(run, spec, error, connectedAtMs !== undefined);
      }
      const doneMs = env.clock.nowMs();
      const connectedMs = connectedAtMs ?? doneMs;
      run.addPhase('connectMs', connectedMs - connectStartMs);
      if (tlsDoneAtMs !== undefined) run.addPhase('tlsMs', tlsDoneAtMs - connectedMs);
      run.addPhase('authMs', doneMs - (tlsDoneAtMs ?? connectedMs));
      const stream = (client as unknown as { connection?: { stream?: unknown } }).connection?.stream;
      run.detail('tls', spec.tls !== 'disable');
      if (spec.tls !== 'disable' && stream !== undefined && typeof (stream as TLSSocket).getProtocol === 'function') recordTls(run, stream as TLSSocket);
      run.detail('serverVersion', await env.deadline.race(serverVersion(client)));
      if (spec.query !== undefined) {
        const query = spec.query;
        let rows: unknown[][];
        try {
          rows = await run.phase('queryMs', 'running the query', async () => (await client.query({ text: query, rowMode: 'array' })).rows as unknown[][]);
        } catch (error) {
          if (env.deadline.ended) throw error;
          throw run.fail('ASSERTION_FAILED', `the query failed: ${errorMessageOf(error)}`);
        }
        judgeRows(run, rows, spec.expect);
      }
      await client.end().catch(() => {});
    }),
};

async function serverVersion(client: pg.Client): Promise<string | undefined> {
  try {
    const result = await client.query<{ server_version: string }>('show server_version');
    return result.rows[0]?.server_version;
  } catch {
    return undefined;
  }
}

function loginFailure(run: CheckRun, spec: PostgresCheckSpec, error: unknown, connected: boolean): EngineError {
  const code = errorCodeOf(error) ?? '';
  const message = errorMessageOf(error);
  if (loginRefused.test(code)) return run.fail('AUTH_FAILED', `login as "${spec.username}" was refused: ${message}`);
  if (/does not support SSL/i.test(message)) return run.fail('TLS_FAILED', 'the server does not accept TLS connections (set "tls" to "disable" to connect without)');
  if (/no pg_hba\.conf entry/i.test(message)) return run.fail('AUTH_FAILED', `the server refuses this client: ${message}`);
  if (!connected) return run.fail('CONNECT_FAILED', `the connection failed (${code === '' ? message : `${code}: ${message}`})`);
  // Connected, then a certificate or protocol problem: the generic rules know the TLS codes.
  throw error;
}
