import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CertificatePair } from './certificates.ts';
import { freePort } from './ports.ts';
import { missingBinary, startProcess, waitForOutput } from './process.ts';
import { makeTempDir } from './temp-dir.ts';

const installDb = '/usr/bin/mariadb-install-db';
const mariadbd = '/usr/sbin/mariadbd';
export const mariadbMissing = () => missingBinary(installDb, mariadbd);

export interface MariadbServer {
  port: number;
  user: string;
  password: string;
  database: string;
  stop(): Promise<void>;
}

/**
 * MariaDB in a temp data directory on 127.0.0.1 (a free port), TLS with `certificate`, a `monitor` user with a
 * password and a `shop` database with one table. Runs as `mysql` when started as root (mariadbd refuses root
 * unless told). Lean: tiny buffer pool, no performance schema, no binary log.
 */
export async function startMariadb(certificate: CertificatePair): Promise<MariadbServer> {
  const dir = makeTempDir('mariadb');
  const root = process.getuid?.() === 0;
  const userArgs = root ? ['--user=mysql'] : [];
  const password = 'maria-Secret-5';
  copyFileSync(certificate.certPath, join(dir.path, 'server.crt'));
  copyFileSync(certificate.keyPath, join(dir.path, 'server.key'));
  chmodSync(join(dir.path, 'server.key'), 0o600);
  writeFileSync(
    join(dir.path, 'init.sql'),
    [
      `CREATE USER IF NOT EXISTS 'monitor'@'%' IDENTIFIED BY '${password}';`,
      'CREATE DATABASE IF NOT EXISTS shop;',
      'CREATE TABLE IF NOT EXISTS shop.orders (id INT PRIMARY KEY);',
      'INSERT IGNORE INTO shop.orders VALUES (1), (2), (3);',
      "GRANT SELECT ON shop.* TO 'monitor'@'%';",
      '',
    ].join('\n'),
  );
  if (root) {
    const uid = Number(execFileSync('id', ['-u', 'mysql'], { encoding: 'utf8' }));
    const gid = Number(execFileSync('id', ['-g', 'mysql'], { encoding: 'utf8' }));
    for (const name of ['', 'server.crt', 'server.key', 'init.sql']) chownSync(join(dir.path, name), uid, gid);
  }
  const data = join(dir.path, 'data');
  const lean = ['--innodb-buffer-pool-size=8M', '--innodb-log-file-size=8M', '--performance-schema=OFF', '--skip-log-bin', '--skip-name-resolve', '--innodb-flush-log-at-trx-commit=0', '--loose-innodb-doublewrite=0'];
  execFileSync(installDb, ['--no-defaults', `--datadir=${data}`, ...userArgs, '--auth-root-authentication-method=normal', '--skip-test-db', '--skip-name-resolve', ...lean.filter((arg) => arg.startsWith('--innodb'))], { stdio: ['ignore', 'ignore', 'pipe'] });
  const port = await freePort();
  const server = startProcess(mariadbd, [
    '--no-defaults',
    `--datadir=${data}`,
    ...userArgs,
    `--port=${port}`,
    '--bind-address=127.0.0.1',
    `--socket=${join(dir.path, 'mysqld.sock')}`,
    `--pid-file=${join(dir.path, 'mysqld.pid')}`,
    `--ssl-cert=${join(dir.path, 'server.crt')}`,
    `--ssl-key=${join(dir.path, 'server.key')}`,
    `--init-file=${join(dir.path, 'init.sql')}`,
    '--max-connections=20',
    ...lean,
  ]);
  try {
    await waitForOutput(server, /ready for connections/);
  } catch (error) {
    await server.stop();
    dir.remove();
    throw error;
  }
  return {
    port,
    user: 'monitor',
    password,
    database: 'shop',
    async stop() {
      await server.stop();
      dir.remove();
    },
  };
}
