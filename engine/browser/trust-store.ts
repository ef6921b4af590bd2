import { execFile } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { EngineError } from '../core/errors.ts';

const run = promisify(execFile);

/** The certificates of a PEM bundle, one PEM block each. */
export function splitPemCertificates(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

/**
 * Make `homeDir` a HOME whose NSS database (`$HOME/.pki/nssdb`, where Chromium on Linux reads the trust anchors
 * a user added) trusts every certificate of `pem` as a CA for TLS servers. Rebuilt from scratch each time, so a
 * CA removed from the bundle stops being trusted. Needs `certutil` (Debian: libnss3-tools). Throws
 * BROWSER_LAUNCH_FAILED (blame engine) when certutil is missing or refuses a certificate.
 */
export async function buildBrowserTrustHome(homeDir: string, pem: string, source: string): Promise<string> {
  const certificates = splitPemCertificates(pem);
  if (certificates.length === 0) throw new EngineError('BROWSER_LAUNCH_FAILED', `${source}: expected PEM certificates (-----BEGIN CERTIFICATE-----)`, 'engine');
  await rm(homeDir, { recursive: true, force: true });
  const database = join(homeDir, '.pki', 'nssdb');
  await mkdir(database, { recursive: true, mode: 0o700 });
  const certutil = async (args: string[]) => {
    try {
      await run('certutil', args, { timeout: 30_000 });
    } catch (error) {
      const missing = (error as { code?: unknown }).code === 'ENOENT';
      const detail = missing ? 'certutil not found: install it (Debian/Ubuntu: apt-get install libnss3-tools) so the browsers trust the CA' : `certutil failed: ${String((error as { stderr?: unknown }).stderr ?? error).trim().split('\n')[0] ?? ''}`;
      throw new EngineError('BROWSER_LAUNCH_FAILED', `${source}: ${detail}`, 'engine', { cause: error });
    }
  };
  await certutil(['-N', '-d', `sql:${database}`, '--empty-password']);
  for (const [index, certificate] of certificates.entries()) {
    const file = join(homeDir, `ca-${index}.pem`);
    await writeFile(file, `${certificate}\n`, { mode: 0o600 });
    // "C,," = a trusted CA for TLS servers only (not e-mail or code signing).
    await certutil(['-A', '-d', `sql:${database}`, '-n', `checkpoint-ca-${index}`, '-t', 'C,,', '-i', file]);
    await rm(file, { force: true });
  }
  return homeDir;
}
