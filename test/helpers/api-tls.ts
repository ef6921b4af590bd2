/**
 * A certificate authority made for one test run with the openssl CLI (always installed with Node's TLS), and
 * certificates it signs: for the right host, for another host, expired, and a client certificate.
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Pem {
  cert: string;
  key: string;
}

export interface TestCa {
  ca: string;
  /** A server certificate for `host` (and 127.0.0.1), valid for two days. */
  server: Pem;
  /** The same, for another host name. */
  wrongHost: Pem;
  /** Valid in January 2020 only. */
  expired: Pem;
  /** A client certificate for mutual TLS. */
  client: Pem;
}

const keyArgs = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

async function sign(dir: string, name: string, subject: string, sans: string, dates?: { start: string; end: string }): Promise<Pem> {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const cert = join(dir, `${name}.crt`);
  await run('openssl', ['req', ...keyArgs, '-keyout', key, '-out', csr, '-subj', subject, ...(sans === '' ? [] : ['-addext', `subjectAltName=${sans}`])]);
  await run('openssl', ['ca', '-batch', '-config', join(dir, 'ca.cnf'), '-in', csr, '-out', cert, '-notext', ...(dates === undefined ? ['-days', '2'] : ['-startdate', dates.start, '-enddate', dates.end])]);
  return { cert: await readFile(cert, 'utf8'), key: await readFile(key, 'utf8') };
}

export async function makeTestCa(dir: string, host: string): Promise<TestCa> {
  await writeFile(join(dir, 'index.txt'), '');
  await writeFile(join(dir, 'serial'), '1000\n');
  await writeFile(
    join(dir, 'ca.cnf'),
    `[ ca ]\ndefault_ca = test_ca\n[ test_ca ]\ndir = ${dir}\ndatabase = ${join(dir, 'index.txt')}\nnew_certs_dir = ${dir}\nserial = ${join(dir, 'serial')}\ncertificate = ${join(dir, 'ca.crt')}\nprivate_key = ${join(dir, 'ca.key')}\ndefault_md = sha256\npolicy = any\ncopy_extensions = copy\nunique_subject = no\n[ any ]\ncommonName = supplied\norganizationName = optional\n`,
  );
  await run('openssl', ['req', '-x509', ...keyArgs, '-keyout', join(dir, 'ca.key'), '-out', join(dir, 'ca.crt'), '-subj', '/CN=Checkpoint Test CA/O=Checkpoint Tests', '-days', '3']);
  const server = await sign(dir, 'server', `/CN=${host}`, `DNS:${host},IP:127.0.0.1`);
  const wrongHost = await sign(dir, 'wrong', '/CN=other.checkpoint.test', 'DNS:other.checkpoint.test');
  const expired = await sign(dir, 'expired', `/CN=${host}`, `DNS:${host}`, { start: '20200101000000Z', end: '20200201000000Z' });
  const client = await sign(dir, 'client', '/CN=checkpoint-client', '');
  return { ca: await readFile(join(dir, 'ca.crt'), 'utf8'), server, wrongHost, expired, client };
}
