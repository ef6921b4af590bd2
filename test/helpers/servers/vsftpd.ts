import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CertificatePair } from './certificates.ts';
import { freePort } from './ports.ts';
import { missingBinary, startProcess, waitForPort, type ServerProcess } from './process.ts';
import { makeTempDir } from './temp-dir.ts';

const vsftpd = '/usr/sbin/vsftpd';
export const vsftpdMissing = () => missingBinary(vsftpd);

export interface FtpServer {
  /** Explicit FTPS (AUTH TLS) and plain FTP. */
  port: number;
  /** Implicit FTPS. */
  implicitPort: number;
  stop(): Promise<void>;
}

/**
 * Two vsftpd instances (explicit and implicit TLS) serving a read-only anonymous root with `pub/hello.txt`
 * (13 bytes: "hello, ftp!!\n"), on 127.0.0.1. Anonymous only: vsftpd's local users need PAM and system
 * accounts, which a test must not create; any other user is refused with 530 (the AUTH_FAILED case).
 */
export async function startVsftpd(certificate: CertificatePair): Promise<FtpServer> {
  const dir = makeTempDir('vsftpd');
  const root = join(dir.path, 'root');
  mkdirSync(join(root, 'pub'), { recursive: true });
  writeFileSync(join(root, 'pub', 'hello.txt'), 'hello, ftp!!\n');
  writeFileSync(join(root, 'pub', 'other.txt'), 'x');
  mkdirSync(join(dir.path, 'empty'));
  const start = async (name: string, implicit: boolean): Promise<{ port: number; server: ServerProcess }> => {
    const port = await freePort();
    const pasvPort = await freePort();
    const config = join(dir.path, `${name}.conf`);
    writeFileSync(
      config,
      [
        'listen=YES',
        'listen_ipv6=NO',
        'listen_address=127.0.0.1',
        `listen_port=${port}`,
        'background=NO',
        'anonymous_enable=YES',
        'no_anon_password=YES',
        `anon_root=${root}`,
        'local_enable=NO',
        'write_enable=NO',
        `secure_chroot_dir=${join(dir.path, 'empty')}`,
        'nopriv_user=nobody',
        // The Debian package's `ftp` account (home /srv/ftp); anon_root then moves it to the test's files.
        'ftp_username=ftp',
        'pasv_enable=YES',
        'pasv_address=127.0.0.1',
        `pasv_min_port=${pasvPort}`,
        `pasv_max_port=${pasvPort}`,
        // Containers rarely allow the namespaces and the seccomp filter vsftpd would set up.
        ...(process.getuid?.() === 0 ? [] : ['run_as_launching_user=YES']),
        'seccomp_sandbox=NO',
        'isolate=NO',
        'isolate_network=NO',
        'xferlog_enable=NO',
        'ssl_enable=YES',
        `implicit_ssl=${implicit ? 'YES' : 'NO'}`,
        `rsa_cert_file=${certificate.certPath}`,
        `rsa_private_key_file=${certificate.keyPath}`,
        'allow_anon_ssl=YES',
        'force_anon_logins_ssl=NO',
        'force_anon_data_ssl=NO',
        'ssl_tlsv1=YES',
        'ssl_sslv2=NO',
        'ssl_sslv3=NO',
        'require_ssl_reuse=NO',
        '',
      ].join('\n'),
    );
    const server = startProcess(vsftpd, [config]);
    await waitForPort(port, server);
    return { port, server };
  };
  const servers: ServerProcess[] = [];
  const stop = async () => {
    await Promise.all(servers.map((server) => server.stop()));
    dir.remove();
  };
  try {
    const explicit = await start('explicit', false);
    servers.push(explicit.server);
    const implicit = await start('implicit', true);
    servers.push(implicit.server);
    return { port: explicit.port, implicitPort: implicit.port, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
