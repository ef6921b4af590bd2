import type { Socket } from 'node:net';
import { EngineError } from '../core/errors.ts';
import type { Pop3CheckSpec } from '../schema/checks/pop3.ts';
import type { CheckDefinition } from './check-types.ts';
import { runCheck, type CheckRun } from './infra/check-run.ts';
import { connectTcp, resolveTarget, startTls, type TlsPolicy } from './infra/connect.ts';
import { preview, SocketText } from './infra/socket-text.ts';

/**
 * POP3 over the check's own socket. No POP3 client on npm is both maintained and widely used, and the check
 * needs five single-line commands (greeting, STLS, USER, PASS, STAT, QUIT), so they are written here over
 * node:net/node:tls; TLS itself is Node's, with the same verification as every other kind.
 */
export const pop3Check: CheckDefinition<Pop3CheckSpec> = {
  kind: 'pop3',
  run: (spec, env) =>
    runCheck(env, `pop3 ${spec.host}:${spec.port}`, async (run) => {
      run.secret(spec.password);
      if (spec.username !== undefined && spec.tls === 'none') {
        throw new EngineError('SCRIPT_INVALID', `pop3 ${spec.host}:${spec.port}: refusing to send a password without TLS; set "tls" to "starttls" or "implicit"`);
      }
      const policy: TlsPolicy = { servername: spec.servername ?? spec.host, verify: spec.verifyTls };
      const target = await resolveTarget(run, spec.host, spec.port);
      let socket: Socket = await connectTcp(run, target);
      if (spec.tls === 'implicit') socket = await startTls(run, socket, policy);
      const text = new SocketText(socket);
      const greeting = await run.phase('bannerMs', 'waiting for the greeting', () => text.line());
      run.detail('banner', preview(greeting));
      if (!greeting.startsWith('+OK')) throw run.fail('PROTOCOL_ERROR', `the server did not greet with +OK ("${preview(greeting)}")`);
      if (spec.tls === 'starttls') {
        const answer = await command(run, text, 'STLS', 'tlsMs', 'asking for STLS');
        if (!answer.startsWith('+OK')) throw run.fail('TLS_FAILED', `the server refused STLS ("${preview(answer)}")`);
        // The plain socket is TLS's now; nothing may read it any more.
        const secure = await startTls(run, socket, policy);
        text.switchTo(secure);
        socket = secure;
      }
      run.detail('secure', spec.tls !== 'none');
      if (spec.username !== undefined) {
        const user = await command(run, text, `USER ${spec.username}`, 'authMs', `logging in as "${spec.username}"`);
        const pass = user.startsWith('+OK') ? await command(run, text, `PASS ${spec.password ?? ''}`, 'authMs', `logging in as "${spec.username}"`) : user;
        if (!pass.startsWith('+OK')) throw run.fail('AUTH_FAILED', `login as "${spec.username}" was refused ("${preview(pass)}")`);
        const stat = await command(run, text, 'STAT', 'authMs', 'reading the mailbox size');
        const counts = /^\+OK (\d+) (\d+)/.exec(stat);
        if (counts !== null) {
          run.detail('messages', Number(counts[1]));
          run.detail('sizeBytes', Number(counts[2]));
        }
      }
      text.write('QUIT\r\n');
      socket.end();
    }),
};

async function command(run: CheckRun, text: SocketText, line: string, phase: 'tlsMs' | 'authMs', activity: string): Promise<string> {
  text.write(`${line}\r\n`);
  return run.phase(phase, activity, () => text.line());
}
