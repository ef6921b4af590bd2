// The sftp check against OpenSSH's sshd started in a temp dir with a host key and a client key made here.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sftpCheck } from '../../engine/checks/sftp.ts';
import { sftpCheckSchema } from '../../engine/schema/checks/sftp.ts';
import { checkEnv } from '../helpers/servers/check-env.ts';
import { assertFailed, assertNoSecret, assertPassed } from '../helpers/servers/outcome.ts';
import { freePort } from '../helpers/servers/ports.ts';
import { sshdMissing, startSshd, type SshServer } from '../helpers/servers/sshd.ts';

describe('sftp check', { skip: sshdMissing() }, () => {
  let server: SshServer;
  before(async () => {
    server = await startSshd();
  });
  after(() => server?.stop());
  const spec = (extra: Record<string, unknown> = {}) => sftpCheckSchema.parse({ host: 'localhost', port: server.port, username: server.user, privateKey: server.privateKey, hostKey: server.hostKeyFingerprint, ...extra });

  test('key login with the pinned host key, a listing and a file with the expected size and text', async () => {
    const listing = await sftpCheck.run(spec({ path: server.filesDir, expect: { contains: 'hello.txt', minEntries: 2 } }), checkEnv());
    assertPassed(listing, ['dnsMs', 'connectMs', 'bannerMs', 'tlsMs', 'authMs', 'transferMs']);
    assert.equal(listing.details.entries, 2);
    assert.equal(listing.details.hostKey, server.hostKeyFingerprint);
    assert.match(String(listing.details.banner), /^SSH-2\.0-OpenSSH_/);
    assert.deepEqual(listing.warnings, []);
    const file = await sftpCheck.run(spec({ path: join(server.filesDir, 'hello.txt'), expect: { sizeBytes: 13, contains: 'hello, sftp' } }), checkEnv());
    assertPassed(file, ['transferMs']);
    assert.equal(file.details.sizeBytes, 13);
    assertNoSecret(file, server.privateKey.split('\n')[2] ?? 'x');
  });

  test('without a pinned key the check passes with a warning naming the offered key', async () => {
    const outcome = await sftpCheck.run(spec({ hostKey: undefined }), checkEnv());
    assertPassed(outcome, ['authMs']);
    assert.match(outcome.warnings[0]?.message ?? '', new RegExp(`no host key is pinned; the server offered ${server.hostKeyFingerprint.replace(/[+/]/g, '\\$&')}`));
  });

  test('another host key than the pinned one is TLS_FAILED before any login', async () => {
    const pinned = 'SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8';
    const outcome = await sftpCheck.run(spec({ hostKey: pinned }), checkEnv());
    assertFailed(outcome, 'TLS_FAILED', new RegExp(`the host key SHA256:\\S+ is not the pinned ${pinned.replace(/[+/]/g, '\\$&')}$`), ['connectMs', 'bannerMs']);
    assert.equal(outcome.phases.authMs, undefined);
  });

  test('a wrong password is AUTH_FAILED and the password is nowhere in the outcome', async () => {
    const outcome = await sftpCheck.run(spec({ privateKey: undefined, password: 'wrong-Ssh-Password-3' }), checkEnv());
    assertFailed(outcome, 'AUTH_FAILED', /^sftp \S+@localhost:\d+: login as "\S+" was refused \(password\)$/, ['connectMs', 'bannerMs', 'tlsMs']);
    assertNoSecret(outcome, 'wrong-Ssh-Password-3');
  });

  test('a missing path or a wrong size is ASSERTION_FAILED; a closed port CONNECT_FAILED', async () => {
    const missing = await sftpCheck.run(spec({ path: join(server.filesDir, 'nope.txt') }), checkEnv());
    assertFailed(missing, 'ASSERTION_FAILED', /nope\.txt cannot be read \(No such file\)$/, ['authMs']);
    const size = await sftpCheck.run(spec({ path: join(server.filesDir, 'hello.txt'), expect: { sizeBytes: 99 } }), checkEnv());
    assertFailed(size, 'ASSERTION_FAILED', /hello\.txt is 13 bytes, expected 99$/, ['transferMs']);
    const closed = await sftpCheck.run(spec({ port: await freePort() }), checkEnv());
    assertFailed(closed, 'CONNECT_FAILED', /ECONNREFUSED/);
  });
});
