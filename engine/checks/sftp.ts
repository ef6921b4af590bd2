import { createHash } from 'node:crypto';
import { Client, type SFTPWrapper, type Stats } from 'ssh2';
import { EngineError } from '../core/errors.ts';
import { sshFingerprintPattern, type SftpCheckSpec } from '../schema/checks/sftp.ts';
import type { CheckDefinition } from './check-types.ts';
import { runCheck, type CheckRun } from './infra/check-run.ts';
import { errorMessageOf } from './infra/classify.ts';
import { connectTcp, resolveTarget } from './infra/connect.ts';
import { textMismatch } from './infra/expect.ts';
import { judgeFile, judgeListing, maxReadBytes } from './infra/storage-expect.ts';
import { preview } from './infra/socket-text.ts';

/** "SHA256:base64-without-padding", as `ssh-keygen -lf` prints a key's fingerprint. */
export function sshFingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/**
 * SFTP with `ssh2`: the pure-JavaScript SSH2 client and server most Node SSH tools build on, maintained,
 * with a host-key hook for pinning. It runs over the check's own socket to the vetted address.
 * Phases: `connectMs` TCP, `bannerMs` the server's identification line, `tlsMs` the SSH key exchange (the
 * encryption handshake), `authMs` the login, `transferMs` the listing or the download.
 */
export const sftpCheck: CheckDefinition<SftpCheckSpec> = {
  kind: 'sftp',
  run: (spec, env) =>
    runCheck(env, `sftp ${spec.username}@${spec.host}:${spec.port}`, async (run) => {
      run.secret(spec.password);
      run.secret(spec.passphrase);
      run.secret(spec.privateKey);
      if (spec.hostKey !== undefined && !sshFingerprintPattern.test(spec.hostKey)) throw new EngineError('SCRIPT_INVALID', `hostKey: "${spec.hostKey}" is not a fingerprint as ssh-keygen -lf prints it (SHA256:…)`);
      if (spec.password === undefined && spec.privateKey === undefined) throw new EngineError('SCRIPT_INVALID', `sftp ${spec.host}:${spec.port}: give "password" or "privateKey" to log in with`);
      const target = await resolveTarget(run, spec.host, spec.port);
      const socket = await connectTcp(run, target);
      const startMs = env.clock.nowMs();
      let bannerAtMs: number | undefined;
      let keyExchangedAtMs: number | undefined;
      let offeredKey: string | undefined;
      const client = new Client();
      run.onEnd(() => client.end());
      client.on('error', () => {});
      client.once('handshake', () => {
        keyExchangedAtMs = env.clock.nowMs();
      });
      let serverIdent = '';
      socket.once('data', (chunk: Buffer) => {
        bannerAtMs = env.clock.nowMs();
        serverIdent = chunk.toString('latin1').split(/\r?\n/)[0] ?? '';
      });
      const ready = new Promise<void>((resolve, reject) => {
        client.once('ready', resolve);
        client.once('error', reject);
        client.once('close', () => reject(Object.assign(new Error('the server closed the connection'), { code: 'ERR_SOCKET_CLOSED' })));
      });
      run.activity = 'exchanging keys and logging in';
      client.connect({
        sock: socket,
        username: spec.username,
        ...(spec.password === undefined ? {} : { password: spec.password }),
        ...(spec.privateKey === undefined ? {} : { privateKey: spec.privateKey }),
        ...(spec.passphrase === undefined ? {} : { passphrase: spec.passphrase }),
        hostVerifier: (key: Buffer) => {
          offeredKey = sshFingerprint(key);
          return spec.hostKey === undefined || offeredKey === spec.hostKey.replace(/=$/, '');
        },
        // The deadline bounds the check; ssh2's own timer stays out of the way.
        readyTimeout: 3_600_000,
        tryKeyboard: false,
      });
      try {
        await env.deadline.race(ready);
      } catch (error) {
        recordPhases(run, startMs, bannerAtMs, keyExchangedAtMs);
        run.detail('hostKey', offeredKey);
        if (env.deadline.ended) throw error;
        throw sshFailure(run, spec, error, offeredKey);
      } finally {
        run.detail('banner', serverIdent === '' ? undefined : preview(serverIdent));
      }
      recordPhases(run, startMs, bannerAtMs, keyExchangedAtMs, env.clock.nowMs());
      run.detail('hostKey', offeredKey);
      if (spec.hostKey === undefined) run.warn(`no host key is pinned; the server offered ${offeredKey ?? 'none'}`);
      if (spec.expectBanner !== undefined) {
        const mismatch = textMismatch(serverIdent, spec.expectBanner);
        if (mismatch !== undefined) throw run.fail('ASSERTION_FAILED', `the SSH identification ${mismatch}`);
      }
      if (spec.path !== undefined) {
        const path = spec.path;
        const sftp = await run.phase('transferMs', 'opening the SFTP session', () => new Promise<SFTPWrapper>((resolve, reject) => client.sftp((error, session) => (error ? reject(error) : resolve(session)))));
        await inspect(run, sftp, path, spec);
      }
      client.end();
    }),
};

function recordPhases(run: CheckRun, startMs: number, bannerAtMs: number | undefined, keyExchangedAtMs: number | undefined, readyAtMs?: number): void {
  if (bannerAtMs === undefined) return;
  run.addPhase('bannerMs', bannerAtMs - startMs);
  if (keyExchangedAtMs === undefined) return;
  run.addPhase('tlsMs', keyExchangedAtMs - bannerAtMs);
  if (readyAtMs !== undefined) run.addPhase('authMs', readyAtMs - keyExchangedAtMs);
}

async function inspect(run: CheckRun, sftp: SFTPWrapper, path: string, spec: SftpCheckSpec): Promise<void> {
  const call = <T>(work: (done: (error: Error | null | undefined, value: T) => void) => void) => () => new Promise<T>((resolve, reject) => work((error, value) => (error ? reject(error) : resolve(value))));
  let stats: Stats;
  try {
    stats = await run.phase('transferMs', `reading ${path}`, call<Stats>((done) => sftp.stat(path, done)));
  } catch (error) {
    if (run.env.deadline.ended) throw error;
    throw run.fail('ASSERTION_FAILED', `${path} cannot be read (${errorMessageOf(error)})`);
  }
  if (stats.isDirectory()) {
    const entries = await run.phase('transferMs', `listing ${path}`, call<{ filename: string }[]>((done) => sftp.readdir(path, done)));
    judgeListing(run, path, entries.map((entry) => entry.filename), spec.expect);
    return;
  }
  let content: string | undefined;
  if (spec.expect?.contains !== undefined) {
    content = await run.phase('transferMs', `downloading ${path}`, () =>
      new Promise<string>((resolve, reject) => {
        const chunks: Buffer[] = [];
        const stream = sftp.createReadStream(path, { start: 0, end: Math.min(stats.size, maxReadBytes) - 1 });
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.once('error', reject);
        stream.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      }),
    );
  }
  judgeFile(run, path, stats.size, content, spec.expect);
}

function sshFailure(run: CheckRun, spec: SftpCheckSpec, error: unknown, offeredKey: string | undefined): EngineError {
  const level = (error as { level?: unknown }).level;
  const message = errorMessageOf(error);
  if (level === 'client-authentication') return run.fail('AUTH_FAILED', `login as "${spec.username}" was refused (${spec.privateKey === undefined ? 'password' : 'private key'})`);
  if (spec.hostKey !== undefined && offeredKey !== undefined && offeredKey !== spec.hostKey.replace(/=$/, '')) {
    return run.fail('TLS_FAILED', `the host key ${offeredKey} is not the pinned ${spec.hostKey}`);
  }
  if (/private key|passphrase|unsupported key/i.test(message)) return new EngineError('SCRIPT_INVALID', `${run.subject}: the private key cannot be used (${message})`);
  if (level === 'protocol' || level === 'client-timeout' || level === 'handshake') return run.fail('PROTOCOL_ERROR', `the SSH handshake failed: ${message}`);
  throw error;
}
