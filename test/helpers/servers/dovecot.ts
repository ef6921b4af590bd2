import { execFileSync } from 'node:child_process';
import { chownSync, copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import type { CertificatePair } from './certificates.ts';
import { freePort } from './ports.ts';
import { missingBinary, startProcess, waitForPort } from './process.ts';
import { makeTempDir } from './temp-dir.ts';

const dovecot = '/usr/sbin/dovecot';
export const dovecotMissing = () => missingBinary(dovecot, '/usr/lib/dovecot/imap', '/usr/lib/dovecot/pop3');

export interface MailServer {
  /** IMAP with STARTTLS, IMAP over TLS, POP3 with STLS, POP3 over TLS. */
  imapPort: number;
  imapsPort: number;
  pop3Port: number;
  pop3sPort: number;
  user: string;
  password: string;
  stop(): Promise<void>;
}

/**
 * Dovecot (IMAP and POP3) with a config, a passwd-file user and a Maildir holding two messages, all in a temp
 * dir, listening on 127.0.0.1 (free ports), TLS with `certificate`. Mail is stored as `nobody` when run as
 * root (Dovecot's login processes drop to the package's `dovenull` user); as the current user otherwise.
 */
export async function startDovecot(certificate: CertificatePair): Promise<MailServer> {
  const dir = makeTempDir('dovecot');
  const root = process.getuid?.() === 0;
  const mailUid = root ? 65534 : (process.getuid?.() ?? 0);
  const mailGid = root ? 65534 : (process.getgid?.() ?? 0);
  const password = 'imap-Secret-6';
  copyFileSync(certificate.certPath, join(dir.path, 'server.crt'));
  copyFileSync(certificate.keyPath, join(dir.path, 'server.key'));
  writeFileSync(join(dir.path, 'passwd'), `monitor:{PLAIN}${password}::::::\n`);
  const maildir = join(dir.path, 'home', 'monitor', 'Maildir');
  for (const sub of ['new', 'cur', 'tmp']) mkdirSync(join(maildir, sub), { recursive: true });
  const message = (n: number) => `From: a@test.checkpoint\r\nTo: monitor@test.checkpoint\r\nSubject: test ${n}\r\nDate: Sat, 05 Dec 2026 10:00:00 +0000\r\nMessage-ID: <${n}@test.checkpoint>\r\n\r\nhello ${n}\r\n`;
  writeFileSync(join(maildir, 'new', '1000000001.M1P1.test'), message(1));
  writeFileSync(join(maildir, 'new', '1000000002.M2P2.test'), message(2));
  if (root) {
    for (const path of [join(dir.path, 'home'), join(dir.path, 'home', 'monitor'), maildir, ...['new', 'cur', 'tmp'].map((sub) => join(maildir, sub)), join(maildir, 'new', '1000000001.M1P1.test'), join(maildir, 'new', '1000000002.M2P2.test')]) {
      chownSync(path, mailUid, mailGid);
    }
  }
  const [imapPort, imapsPort, pop3Port, pop3sPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const me = userInfo().username;
  const myGroup = execFileSync('id', ['-gn'], { encoding: 'utf8' }).trim();
  const config = join(dir.path, 'dovecot.conf');
  writeFileSync(
    config,
    [
      `base_dir = ${join(dir.path, 'run')}`,
      `state_dir = ${join(dir.path, 'state')}`,
      'log_path = /dev/stderr',
      'protocols = imap pop3',
      'listen = 127.0.0.1',
      ...(root ? [] : [`default_internal_user = ${me}`, `default_login_user = ${me}`, `default_internal_group = ${myGroup}`]),
      'ssl = yes',
      `ssl_cert = <${join(dir.path, 'server.crt')}`,
      `ssl_key = <${join(dir.path, 'server.key')}`,
      'ssl_min_protocol = TLSv1.2',
      'disable_plaintext_auth = yes',
      'auth_mechanisms = plain login',
      // Failed logins are part of the tests: no penalty delay for the next ones.
      'auth_failure_delay = 0',
      'first_valid_uid = 0',
      'passdb {',
      '  driver = passwd-file',
      `  args = scheme=PLAIN username_format=%u ${join(dir.path, 'passwd')}`,
      '}',
      'userdb {',
      '  driver = static',
      `  args = uid=${mailUid} gid=${mailGid} home=${join(dir.path, 'home')}/%u`,
      '}',
      'mail_location = maildir:~/Maildir',
      'pop3_uidl_format = %08Xu%08Xv',
      `service imap-login {\n  inet_listener imap {\n    port = ${imapPort}\n  }\n  inet_listener imaps {\n    port = ${imapsPort}\n    ssl = yes\n  }\n}`,
      `service pop3-login {\n  inet_listener pop3 {\n    port = ${pop3Port}\n  }\n  inet_listener pop3s {\n    port = ${pop3sPort}\n    ssl = yes\n  }\n}`,
      // No growing delay for logins from an address that failed some (the tests fail logins on purpose).
      'service anvil {\n  unix_listener anvil-auth-penalty {\n    mode = 0\n  }\n}',
      '',
    ].join('\n'),
  );
  const server = startProcess(dovecot, ['-F', '-c', config]);
  try {
    for (const port of [imapPort, imapsPort, pop3Port, pop3sPort]) await waitForPort(port, server);
  } catch (error) {
    await server.stop();
    dir.remove();
    throw error;
  }
  return {
    imapPort,
    imapsPort,
    pop3Port,
    pop3sPort,
    user: 'monitor',
    password,
    async stop() {
      await server.stop();
      dir.remove();
    },
  };
}
