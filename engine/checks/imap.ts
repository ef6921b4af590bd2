import type { Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { ImapFlow, type ImapTransport } from 'imapflow';
import { EngineError } from '../core/errors.ts';
import type { ImapCheckSpec } from '../schema/checks/imap.ts';
import type { CheckDefinition } from './check-types.ts';
import { runCheck, type CheckRun } from './infra/check-run.ts';
import { errorMessageOf } from './infra/classify.ts';
import { connectTcp, portOf, recordTls, resolveTarget, startTls, tlsOptions, type TlsPolicy } from './infra/connect.ts';
import { preview, SocketText } from './infra/socket-text.ts';

/**
 * IMAP. A login goes through `imapflow` (maintained by the nodemailer author, the IMAP client most Node mail
 * tools use; it handles capabilities, SASL and STARTTLS), over a transport that hands it the check's socket
 * to the vetted address and times the STARTTLS handshake. Without credentials there is nothing for imapflow
 * to do (it always logs in), so the check reads the greeting and does STARTTLS itself — two commands.
 */
export const imapCheck: CheckDefinition<ImapCheckSpec> = {
  kind: 'imap',
  run: (spec, env) =>
    runCheck(env, `imap ${spec.host}:${spec.port}`, async (run) => {
      run.secret(spec.password);
      if (spec.username !== undefined && spec.tls === 'none') {
        throw new EngineError('SCRIPT_INVALID', `imap ${spec.host}:${spec.port}: refusing to send a password without TLS; set "tls" to "starttls" or "implicit"`);
      }
      const policy: TlsPolicy = { servername: spec.servername ?? spec.host, verify: spec.verifyTls };
      const target = await resolveTarget(run, spec.host, spec.port);
      let socket: Socket = await connectTcp(run, target);
      if (spec.tls === 'implicit') socket = await startTls(run, socket, policy);
      run.detail('secure', spec.tls !== 'none');
      if (spec.username === undefined) await probe(run, socket, spec, policy);
      else await login(run, socket, spec, policy, spec.username);
    }),
};

/** Greeting and STARTTLS by hand, for a check without credentials. */
async function probe(run: CheckRun, plain: Socket, spec: ImapCheckSpec, policy: TlsPolicy): Promise<void> {
  let socket = plain;
  const text = new SocketText(socket);
  const greeting = await run.phase('bannerMs', 'waiting for the greeting', () => text.line());
  run.detail('banner', preview(greeting));
  if (!/^\* (OK|PREAUTH)\b/i.test(greeting)) throw run.fail('PROTOCOL_ERROR', `the server did not greet with * OK ("${preview(greeting)}")`);
  if (spec.tls === 'starttls') {
    text.write('c1 STARTTLS\r\n');
    const answer = await run.phase('tlsMs', 'asking for STARTTLS', () => text.until((buffer) => {
      const match = /^c1 .*\r?\n/m.exec(buffer);
      return match === null ? undefined : { consumed: match.index + match[0].length, value: match[0].trim() };
    }));
    if (!/^c1 OK\b/i.test(answer)) throw run.fail('TLS_FAILED', `the server refused STARTTLS ("${preview(answer)}")`);
    const secure = await startTls(run, socket, policy);
    text.switchTo(secure);
    socket = secure;
  }
  text.write('c2 LOGOUT\r\n');
  socket.end();
}

async function login(run: CheckRun, socket: Socket, spec: ImapCheckSpec, policy: TlsPolicy, username: string): Promise<void> {
  const { env } = run;
  const startMs = env.clock.nowMs();
  let greetedAtMs: number | undefined;
  let greeting = '';
  socket.once('data', (chunk: Buffer) => {
    greetedAtMs = env.clock.nowMs();
    greeting = chunk.toString('latin1').split(/\r?\n/)[0] ?? '';
  });
  let upgradeMs = 0;
  let upgraded: TLSSocket | undefined;
  const transport: ImapTransport = {
    connect(_options, onConnect) {
      setImmediate(onConnect);
      return socket;
    },
    upgrade(plain, _options, onSecure) {
      const upgradeStartMs = env.clock.nowMs();
      run.activity = 'negotiating TLS (STARTTLS)';
      const secure = tlsConnect({ ...tlsOptions(run, policy), socket: plain }, () => {
        upgradeMs = env.clock.nowMs() - upgradeStartMs;
        run.activity = `logging in as "${username}"`;
        onSecure();
      });
      upgraded = secure;
      run.onEnd(() => secure.destroy());
      return secure;
    },
  };
  const client = new ImapFlow({
    host: spec.host,
    port: portOf(spec.port),
    secure: spec.tls === 'implicit',
    doSTARTTLS: spec.tls === 'starttls',
    auth: { user: username, pass: spec.password ?? '' },
    transport,
    logger: false,
    disableAutoIdle: true,
    // The deadline bounds the check, not the library's timers.
    connectionTimeout: 3_600_000,
    greetingTimeout: 3_600_000,
    socketTimeout: 3_600_000,
  });
  client.on('error', () => {});
  run.onEnd(() => client.close());
  run.activity = `waiting for the greeting and logging in as "${username}"`;
  try {
    await env.deadline.race(client.connect());
  } catch (error) {
    if (greetedAtMs !== undefined) run.addPhase('bannerMs', greetedAtMs - startMs);
    if (greeting !== '') run.detail('banner', preview(greeting));
    if (upgradeMs > 0) run.addPhase('tlsMs', upgradeMs);
    if (env.deadline.ended) throw error;
    throw imapFailure(run, username, error);
  }
  const doneMs = env.clock.nowMs();
  const greetedMs = greetedAtMs ?? doneMs;
  run.addPhase('bannerMs', greetedMs - startMs);
  if (upgradeMs > 0) run.addPhase('tlsMs', upgradeMs);
  run.addPhase('authMs', doneMs - greetedMs - upgradeMs);
  run.detail('banner', preview(greeting));
  if (upgraded !== undefined) recordTls(run, upgraded);
  run.detail('authenticated', client.authenticated !== false);
  if (spec.mailbox !== undefined) {
    const mailbox = spec.mailbox;
    try {
      const status = await run.phase('queryMs', `reading the status of ${mailbox}`, () => client.status(mailbox, { messages: true, unseen: true }));
      if (status === false) throw new Error('no such mailbox');
      run.detail('messages', status.messages);
      run.detail('unseen', status.unseen);
    } catch (error) {
      if (env.deadline.ended) throw error;
      throw run.fail('ASSERTION_FAILED', `the mailbox ${mailbox} cannot be opened (${errorMessageOf(error)})`);
    }
  }
  await env.deadline.race(client.logout()).catch(() => {});
}

function imapFailure(run: CheckRun, username: string, error: unknown): EngineError {
  const failure = error as { authenticationFailed?: unknown; responseText?: unknown; code?: unknown };
  if (failure.authenticationFailed === true) {
    const reason = typeof failure.responseText === 'string' && failure.responseText !== '' ? failure.responseText : errorMessageOf(error);
    return run.fail('AUTH_FAILED', `login as "${username}" was refused (${preview(reason)})`);
  }
  if (/STARTTLS/i.test(errorMessageOf(error))) return run.fail('TLS_FAILED', `STARTTLS failed: ${errorMessageOf(error)}`);
  throw error;
}
