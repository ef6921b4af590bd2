import type { TcpCheckSpec } from '../schema/checks/tcp.ts';
import type { CheckDefinition } from './check-types.ts';
import { runCheck } from './infra/check-run.ts';
import { connectTcp, resolveTarget } from './infra/connect.ts';
import { textMeets, textMismatch } from './infra/expect.ts';
import { preview, SocketText } from './infra/socket-text.ts';

/**
 * TCP connect, and optionally a banner: Node's own socket, nothing to pick. With `expect`, the check reads
 * until the text holds, the server closes, or the deadline ends; `bannerMs` runs from connected (or sent) to
 * the text holding.
 */
export const tcpCheck: CheckDefinition<TcpCheckSpec> = {
  kind: 'tcp',
  run: (spec, env) =>
    runCheck(env, `tcp ${spec.host}:${spec.port}`, async (run) => {
      const target = await resolveTarget(run, spec.host, spec.port);
      const socket = await connectTcp(run, target);
      const expectation = spec.expect;
      if (expectation === undefined && spec.send === undefined) return;
      const text = new SocketText(socket);
      if (spec.send !== undefined) socket.write(spec.send);
      if (expectation === undefined) return;
      let received: string;
      try {
        received = await run.phase('bannerMs', 'waiting for the expected text', () =>
          text.until((buffer) => (textMeets(buffer, expectation) ? { consumed: buffer.length, value: buffer } : undefined)),
        );
      } catch (error) {
        // The server said its piece and closed: judge what it said.
        const said = (error as { received?: string }).received;
        if (said !== undefined && !run.env.deadline.ended) {
          run.detail('banner', preview(said));
          throw run.fail('ASSERTION_FAILED', `the server's answer ${textMismatch(said, expectation) ?? 'ended early'}`);
        }
        if (run.env.deadline.ended && text.text !== '') {
          run.detail('banner', preview(text.text));
          if (run.env.deadline.expired) throw run.fail('ASSERTION_FAILED', `the server's answer ${textMismatch(text.text, expectation) ?? 'was incomplete'} (no more text within the time limit)`);
        }
        throw error;
      }
      run.detail('banner', preview(received));
      socket.end();
    }),
};
