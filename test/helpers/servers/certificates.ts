import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CertificatePair {
  /** Paths, for servers that read files. */
  certPath: string;
  keyPath: string;
  cert: string;
  key: string;
}

export interface TestPki {
  caCert: string;
  caCertPath: string;
  /** For the host (default localhost) and 127.0.0.1, valid now for a year. */
  server: CertificatePair;
  /** For the host, expired a year ago. */
  expired: CertificatePair;
  /** Valid, but for wrong.example only. */
  wrongHost: CertificatePair;
  /** For the host, expiring in 10 days (inside a 30-day warning). */
  expiringSoon: CertificatePair;
  /** A client certificate, for mutual TLS. */
  client: CertificatePair;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * A CA and server certificates made with the openssl CLI in `dir`. Past and near expiry dates come from
 * `openssl ca -startdate/-enddate` (OpenSSL 3.0's `x509` cannot set them).
 */
export function makeTestPki(dir: string, host = 'localhost'): TestPki {
  openssl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '30', '-subj', '/CN=Checkpoint Test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), '1000\n');
  writeFileSync(
    join(dir, 'ca.cnf'),
    ['[ca]', 'default_ca = test', '[test]', `dir = ${dir}`, 'database = $dir/index.txt', 'serial = $dir/serial', 'new_certs_dir = $dir', 'certificate = $dir/ca.crt', 'private_key = $dir/ca.key', 'default_md = sha256', 'policy = any', 'copy_extensions = copy', 'unique_subject = no', '[any]', 'commonName = supplied', ''].join('\n'),
  );
  const issue = (name: string, cn: string, san: string, dates: string[]): CertificatePair => {
    openssl(dir, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`, ...(san === '' ? [] : ['-addext', `subjectAltName=${san}`])]);
    openssl(dir, ['ca', '-batch', '-config', 'ca.cnf', '-in', `${name}.csr`, '-out', `${name}.crt`, '-notext', ...dates]);
    return { certPath: join(dir, `${name}.crt`), keyPath: join(dir, `${name}.key`), cert: readFileSync(join(dir, `${name}.crt`), 'utf8'), key: readFileSync(join(dir, `${name}.key`), 'utf8') };
  };
  const stamp = (date: Date) => `${date.toISOString().slice(0, 19).replace(/[-:T]/g, '')}Z`;
  const days = (n: number) => new Date(Date.now() + n * 86_400_000);
  return {
    caCert: readFileSync(join(dir, 'ca.crt'), 'utf8'),
    caCertPath: join(dir, 'ca.crt'),
    server: issue('server', host, `DNS:${host},IP:127.0.0.1`, ['-days', '365']),
    expired: issue('expired', host, `DNS:${host},IP:127.0.0.1`, ['-startdate', stamp(days(-400)), '-enddate', stamp(days(-35))]),
    wrongHost: issue('wrong-host', 'wrong.example', 'DNS:wrong.example', ['-days', '365']),
    expiringSoon: issue('soon', host, `DNS:${host},IP:127.0.0.1`, ['-startdate', stamp(days(-1)), '-enddate', stamp(days(10.5))]),
    client: issue('client', 'checkpoint-client', '', ['-days', '365']),
  };
}
