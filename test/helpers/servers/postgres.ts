import { chmodSync, chownSync, copyFileSync, readdirSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import type { CertificatePair } from './certificates.ts';
import { freePort } from './ports.ts';
import { asUser, missingBinary, startProcess, waitForOutput } from './process.ts';
import { makeTempDir } from './temp-dir.ts';

/** The newest PostgreSQL the distribution installed (Debian 12: 15). */
function binDir(): string {
  let versions: number[] = [];
  try {
    versions = readdirSync('/usr/lib/postgresql').map(Number).filter((version) => Number.isInteger(version));
  } catch {
    // Not installed: postgresMissing says so.
  }
  return `/usr/lib/postgresql/${Math.max(15, ...versions)}/bin`;
}
const bin = binDir();
export const postgresMissing = () => missingBinary(`${bin}/initdb`, `${bin}/postgres`);

export interface PostgresServer {
  port: number;
  user: string;
  password: string;
  database: string;
  stop(): Promise<void>;
}

/** Numeric uid/gid of a system user (root runs PostgreSQL as `postgres`: it refuses root). */
function idsOf(user: string): { uid: number; gid: number } {
  return { uid: Number(execFileSync('id', ['-u', user], { encoding: 'utf8' })), gid: Number(execFileSync('id', ['-g', user], { encoding: 'utf8' })) };
}

/**
 * PostgreSQL 15 in a temp data directory on 127.0.0.1 (a free port), TLS with `certificate`, password
 * (SCRAM) logins over TCP for `monitor`. Lean settings: fsync off, small buffers, few connections (10 unless
 * `maxConnections` says otherwise: the store tests open several pools at once).
 */
export async function startPostgres(certificate: CertificatePair, options: { maxConnections?: number } = {}): Promise<PostgresServer> {
  const dir = makeTempDir('postgres');
  const runAs = process.getuid?.() === 0 ? 'postgres' : userInfo().username;
  const password = 'pg-Secret-7';
  writeFileSync(join(dir.path, 'pwfile'), `${password}\n`);
  copyFileSync(certificate.certPath, join(dir.path, 'server.crt'));
  copyFileSync(certificate.keyPath, join(dir.path, 'server.key'));
  chmodSync(join(dir.path, 'server.key'), 0o600);
  if (process.getuid?.() === 0) {
    const { uid, gid } = idsOf(runAs);
    for (const name of ['', 'pwfile', 'server.crt', 'server.key']) chownSync(join(dir.path, name), uid, gid);
  }
  const data = join(dir.path, 'data');
  const [initCommand, initArgs] = asUser(runAs, `${bin}/initdb`, ['-D', data, '-U', 'monitor', `--pwfile=${join(dir.path, 'pwfile')}`, '--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8', '--no-sync', '--no-instructions']);
  execFileSync(initCommand, initArgs, { stdio: ['ignore', 'ignore', 'pipe'] });
  const port = await freePort();
  const settings = {
    listen_addresses: '127.0.0.1',
    port: String(port),
    unix_socket_directories: dir.path,
    ssl: 'on',
    ssl_cert_file: join(dir.path, 'server.crt'),
    ssl_key_file: join(dir.path, 'server.key'),
    shared_buffers: '8MB',
    max_connections: String(options.maxConnections ?? 10),
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    max_wal_senders: '0',
    wal_level: 'minimal',
    autovacuum: 'off',
  };
  const [command, args] = asUser(runAs, `${bin}/postgres`, ['-D', data, ...Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`])]);
  // SIGINT is PostgreSQL's fast shutdown: it does not wait for clients to leave.
  const server = startProcess(command, args, { stopSignal: 'SIGINT' });
  try {
    await waitForOutput(server, /database system is ready to accept connections/);
  } catch (error) {
    await server.stop();
    dir.remove();
    throw error;
  }
  return {
    port,
    user: 'monitor',
    password,
    database: 'postgres',
    async stop() {
      await server.stop();
      dir.remove();
    },
  };
}
