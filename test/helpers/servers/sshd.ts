import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.ts';
import { missingBinary, startProcess, waitForPort } from './process.ts';
import { makeTempDir } from './temp-dir.ts';

const sshd = '/usr/sbin/sshd';
export const sshdMissing = () => missingBinary(sshd, '/usr/bin/ssh-keygen');

export interface SshServer {
  port: number;
  user: string;
  /** The client's private key (OpenSSH format), authorised for `user`. */
  privateKey: string;
  /** The host key's fingerprint as `ssh-keygen -lf` prints it. */
  hostKeyFingerprint: string;
  /** A directory with `hello.txt` (13 bytes: "hello, sftp!\n") for list/get tests. */
  filesDir: string;
  stop(): Promise<void>;
}

/**
 * OpenSSH's sshd in the foreground with a config, host key and authorised client key made in a temp dir,
 * on 127.0.0.1 (a free port), SFTP through internal-sftp, for the current user. sshd wants an absolute
 * config path and its privilege-separation directory /run/sshd.
 */
export async function startSshd(): Promise<SshServer> {
  const dir = makeTempDir('sshd');
  const keygen = (file: string) => execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'checkpoint-test', '-f', join(dir.path, file)]);
  keygen('host_key');
  keygen('client_key');
  writeFileSync(join(dir.path, 'authorized_keys'), readFileSync(join(dir.path, 'client_key.pub')));
  const fingerprint = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', join(dir.path, 'host_key.pub')], { encoding: 'utf8' }).split(' ')[1] ?? '';
  const filesDir = join(dir.path, 'files');
  mkdirSync(filesDir);
  writeFileSync(join(filesDir, 'hello.txt'), 'hello, sftp!\n');
  writeFileSync(join(filesDir, 'other.txt'), 'x');
  const user = userInfo().username;
  const port = await freePort();
  const config = join(dir.path, 'sshd_config');
  writeFileSync(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${join(dir.path, 'host_key')}`,
      `PidFile ${join(dir.path, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir.path, 'authorized_keys')}`,
      // The temp dir is not laid out the way StrictModes wants a home directory.
      'StrictModes no',
      'PubkeyAuthentication yes',
      'PasswordAuthentication yes',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      `PermitRootLogin ${user === 'root' ? 'yes' : 'no'}`,
      `AllowUsers ${user}`,
      'Subsystem sftp internal-sftp',
      'LogLevel ERROR',
      '',
    ].join('\n'),
  );
  if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const server = startProcess(sshd, ['-D', '-e', '-f', config]);
  try {
    await waitForPort(port, server);
  } catch (error) {
    await server.stop();
    dir.remove();
    throw error;
  }
  return {
    port,
    user,
    privateKey: readFileSync(join(dir.path, 'client_key'), 'utf8'),
    hostKeyFingerprint: fingerprint,
    filesDir,
    async stop() {
      await server.stop();
      dir.remove();
    },
  };
}
