import { Writable } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { Client, FTPError } from 'basic-ftp';
import type { EngineError } from '../core/errors.ts';
import type { FtpCheckSpec } from '../schema/checks/ftp.ts';
import type { CheckDefinition } from './check-types.ts';
import { runCheck, type CheckRun } from './infra/check-run.ts';
import { recordTls, resolveTarget, tlsOptions } from './infra/connect.ts';
import { preview } from './infra/socket-text.ts';
import { judgeFile, judgeListing, maxReadBytes } from './infra/storage-expect.ts';

/**
 * FTP and FTPS with `basic-ftp`: the maintained FTP client for Node (explicit and implicit TLS, TLS session
 * reuse on data connections, which many FTPS servers require). Phases: `connectMs` TCP (and the handshake
 * with implicit TLS), `bannerMs` the 220 greeting, `tlsMs` AUTH TLS, `authMs` USER/PASS and the session
 * settings, `transferMs` the listing or the download (passive data connection).
 */
export const ftpCheck: CheckDefinition<FtpCheckSpec> = {
  kind: 'ftp',
  run: (spec, env) =>
    runCheck(env, `ftp ${spec.host}:${spec.port}`, async (run) => {
      run.secret(spec.password);
      const target = await resolveTarget(run, spec.host, spec.port);
      const client = new Client(0);
      run.onEnd(() => client.close());
      const tls = tlsOptions(run, { servername: spec.servername ?? spec.host, verify: spec.verifyTls });
      const startMs = env.clock.nowMs();
      let connectedAtMs: number | undefined;
      run.activity = `connecting to port ${spec.port}`;
      const welcome = spec.tls === 'implicit' ? client.connectImplicitTLS(target.address, target.port, { ...tls }) : client.connect(target.address, target.port);
      client.ftp.socket.once(spec.tls === 'implicit' ? 'secureConnect' : 'connect', () => {
        connectedAtMs = env.clock.nowMs();
        run.activity = 'waiting for the greeting';
      });
      let greeting: string;
      try {
        greeting = (await env.deadline.race(welcome)).message;
      } catch (error) {
        if (connectedAtMs !== undefined) run.addPhase('connectMs', connectedAtMs - startMs);
        if (env.deadline.ended || !(error instanceof FTPError)) throw error;
        throw run.fail('PROTOCOL_ERROR', `the server did not greet with 220 (${preview(error.message)})`);
      }
      const greetedAtMs = env.clock.nowMs();
      run.addPhase('connectMs', (connectedAtMs ?? greetedAtMs) - startMs);
      run.addPhase('bannerMs', greetedAtMs - (connectedAtMs ?? greetedAtMs));
      run.detail('banner', preview(greeting));
      if (spec.tls === 'explicit') {
        try {
          await run.phase('tlsMs', 'negotiating TLS (AUTH TLS)', () => client.useTLS({ ...tls, host: target.address }));
        } catch (error) {
          if (env.deadline.ended || !(error instanceof FTPError)) throw error;
          throw run.fail('TLS_FAILED', `the server refused AUTH TLS (${preview(error.message)})`);
        }
      }
      if (spec.tls !== 'none') recordTls(run, client.ftp.socket as TLSSocket);
      try {
        await run.phase('authMs', `logging in as "${spec.username}"`, async () => {
          await client.login(spec.username, spec.password ?? (spec.username === 'anonymous' ? 'checkpoint@' : ''));
          await client.useDefaultSettings();
        });
      } catch (error) {
        if (env.deadline.ended || !(error instanceof FTPError)) throw error;
        throw loginFailure(run, spec, error);
      }
      if (spec.path !== undefined) await inspect(run, client, spec.path, spec);
      client.close();
    }),
};

function loginFailure(run: CheckRun, spec: FtpCheckSpec, error: FTPError): EngineError {
  if (error.code === 530 || error.code === 430 || error.code === 332) return run.fail('AUTH_FAILED', `login as "${spec.username}" was refused (${preview(`${error.code} ${error.message.replace(/^\d{3}[ -]/, '')}`)})`);
  return run.fail('PROTOCOL_ERROR', `the session could not be set up after login (${preview(error.message)})`);
}

async function inspect(run: CheckRun, client: Client, path: string, spec: FtpCheckSpec): Promise<void> {
  let sizeBytes: number | undefined;
  try {
    sizeBytes = await run.phase('transferMs', `asking the size of ${path}`, () => client.size(path));
  } catch (error) {
    // 550 to SIZE: a directory, or nothing there; the listing tells which.
    if (run.env.deadline.ended || !(error instanceof FTPError)) throw error;
  }
  if (sizeBytes === undefined) {
    let names: string[];
    try {
      // Into the directory first: many servers list a missing path as an empty directory.
      await run.phase('transferMs', `opening ${path}`, () => client.cd(path));
      names = (await run.phase('transferMs', `listing ${path}`, () => client.list())).map((entry) => entry.name);
    } catch (error) {
      if (run.env.deadline.ended || !(error instanceof FTPError)) throw error;
      throw run.fail('ASSERTION_FAILED', `${path} cannot be read (${preview(error.message)})`);
    }
    judgeListing(run, path, names, spec.expect);
    return;
  }
  let content: string | undefined;
  if (spec.expect?.contains !== undefined) {
    const chunks: Buffer[] = [];
    let kept = 0;
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        if (kept < maxReadBytes) chunks.push(chunk);
        kept += chunk.length;
        done();
      },
    });
    await run.phase('transferMs', `downloading ${path}`, () => client.downloadTo(sink, path));
    content = Buffer.concat(chunks).subarray(0, maxReadBytes).toString('utf8');
  }
  judgeFile(run, path, sizeBytes, content, spec.expect);
}

