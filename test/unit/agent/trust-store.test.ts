import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { buildBrowserTrustHome, splitPemCertificates } from '../../../engine/browser/trust-store.ts';
import { EngineError } from '../../../engine/core/errors.ts';

function installed(binary: string, args: string[]): boolean {
  try {
    execFileSync(binary, args, { stdio: 'ignore' });
    return true;
  } catch (error) {
    return (error as { code?: unknown }).code !== 'ENOENT';
  }
}
const missing = !installed('openssl', ['version']) ? 'openssl is not installed' : !installed('certutil', ['-H']) ? 'certutil is not installed (libnss3-tools; bin/setup.sh installs it)' : false;

describe("the browsers' trust store (an NSS database of the agent's own)", { skip: missing }, () => {
  it('trusts every CA of a bundle as a TLS server CA, and forgets one removed from it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'checkpoint-trust-'));
    try {
      for (const name of ['one', 'two']) {
        execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, `${name}.key`), '-out', join(dir, `${name}.pem`), '-days', '1', '-subj', `/CN=CA ${name}`], { stdio: 'ignore' });
      }
      const bundle = `${await readFile(join(dir, 'one.pem'), 'utf8')}\n# a comment between certificates\n${await readFile(join(dir, 'two.pem'), 'utf8')}`;
      assert.equal(splitPemCertificates(bundle).length, 2);
      const home = join(dir, 'home');
      const list = () => execFileSync('certutil', ['-L', '-d', `sql:${join(home, '.pki', 'nssdb')}`], { encoding: 'utf8' });
      await buildBrowserTrustHome(home, bundle, 'test bundle');
      assert.match(list(), /checkpoint-ca-0\s+C,,/);
      assert.match(list(), /checkpoint-ca-1\s+C,,/);
      await buildBrowserTrustHome(home, await readFile(join(dir, 'two.pem'), 'utf8'), 'test bundle');
      assert.doesNotMatch(list(), /checkpoint-ca-1/, 'rebuilt from scratch');

      await writeFile(join(dir, 'empty.pem'), 'no certificates here');
      await assert.rejects(buildBrowserTrustHome(home, 'no certificates here', 'empty.pem'), (error: unknown) => error instanceof EngineError && error.message === 'empty.pem: expected PEM certificates (-----BEGIN CERTIFICATE-----)');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
