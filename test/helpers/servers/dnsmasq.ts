import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './ports.ts';
import { missingBinary, startProcess, waitForPort, type ServerProcess } from './process.ts';
import { makeTempDir } from './temp-dir.ts';

export const dnsmasqBinary = '/usr/sbin/dnsmasq';
export const dnsmasqMissing = () => missingBinary(dnsmasqBinary);

export interface DnsServer {
  /** `127.0.0.1:port` for a check's `server`. */
  server: string;
  port: number;
  stop(): Promise<void>;
}

/**
 * dnsmasq on 127.0.0.1 answering only from its own configuration (no upstream, no /etc/hosts): A, MX, TXT,
 * SRV and CNAME records under `test.checkpoint`.
 */
export async function startDnsmasq(): Promise<DnsServer> {
  const dir = makeTempDir('dnsmasq');
  const port = await freePort({ udp: true });
  const config = join(dir.path, 'dnsmasq.conf');
  writeFileSync(
    config,
    [
      `port=${port}`,
      'listen-address=127.0.0.1',
      'bind-interfaces',
      'no-resolv',
      'no-hosts',
      'no-poll',
      'log-facility=-',
      `pid-file=${join(dir.path, 'dnsmasq.pid')}`,
      // Anything not configured here is answered NXDOMAIN, never forwarded.
      'local=/test.checkpoint/',
      'address=/www.test.checkpoint/192.0.2.10',
      'host-record=db.test.checkpoint,192.0.2.20,2001:db8::20',
      'mx-host=test.checkpoint,mail.test.checkpoint,10',
      'host-record=mail.test.checkpoint,192.0.2.25',
      'txt-record=test.checkpoint,"v=spf1 -all"',
      'srv-host=_imaps._tcp.test.checkpoint,mail.test.checkpoint,993,0,5',
      'cname=alias.test.checkpoint,db.test.checkpoint',
      '',
    ].join('\n'),
  );
  const user = process.getuid?.() === 0 ? ['--user=nobody', '--group=nogroup'] : [];
  const server: ServerProcess = startProcess(dnsmasqBinary, ['-k', `--conf-file=${config}`, ...user]);
  try {
    await waitForPort(port, server);
  } catch (error) {
    await server.stop();
    dir.remove();
    throw error;
  }
  return {
    server: `127.0.0.1:${port}`,
    port,
    async stop() {
      await server.stop();
      dir.remove();
    },
  };
}
