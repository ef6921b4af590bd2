// Every kind against a server that accepts connections and never says a word: the check ends with
// STEP_TIMEOUT soon after its deadline, naming what it waited for, and closes its connection (the server
// sees it go), so no client outlives its check.
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { infraChecks } from '../../engine/checks/infra-registry.ts';
import { infraCheckSchemas } from '../../engine/schema/checks/infra.ts';
import { checkEnv } from '../helpers/servers/check-env.ts';
import { assertFailed } from '../helpers/servers/outcome.ts';

const specs: Record<string, (port: number) => Record<string, unknown>> = {
  tcp: (port) => ({ host: '127.0.0.1', port, expect: { contains: 'hello' } }),
  tls: (port) => ({ host: 'localhost', port }),
  smtp: (port) => ({ host: 'localhost', port, username: 'monitor', password: 'silent-Secret-1' }),
  imap: (port) => ({ host: 'localhost', port, tls: 'starttls', username: 'monitor', password: 'silent-Secret-1' }),
  pop3: (port) => ({ host: 'localhost', port, tls: 'starttls', username: 'monitor', password: 'silent-Secret-1' }),
  sftp: (port) => ({ host: 'localhost', port, username: 'monitor', password: 'silent-Secret-1' }),
  ftp: (port) => ({ host: 'localhost', port }),
  postgres: (port) => ({ host: 'localhost', port, username: 'monitor', password: 'silent-Secret-1' }),
  mysql: (port) => ({ host: 'localhost', port, username: 'monitor', password: 'silent-Secret-1' }),
};

describe('a silent server', () => {
  let server: Server;
  let port = 0;
  const open = new Set<Socket>();
  before(async () => {
    server = createServer((socket) => {
      open.add(socket);
      socket.on('error', () => {});
      socket.once('close', () => open.delete(socket));
      // Read (and drop) what the client sends, so its end of the connection is noticed.
      socket.resume();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    port = typeof address === 'object' && address !== null ? address.port : 0;
  });
  after(async () => {
    for (const socket of open) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  test('covers every kind but dns (which has its own no-answer test)', () => {
    assert.deepEqual(Object.keys(specs).sort(), infraChecks.map((check) => check.kind).filter((kind) => kind !== 'dns').sort());
  });

  for (const [kind, spec] of Object.entries(specs)) {
    test(`${kind}: STEP_TIMEOUT within the deadline, and the connection is closed`, async () => {
      const check = infraChecks.find((candidate) => candidate.kind === kind);
      const schema = infraCheckSchemas[kind];
      assert.ok(check && schema);
      const startMs = performance.now();
      const outcome = await check.run(schema.parse(spec(port)), checkEnv({ budgetMs: 600 }));
      const tookMs = performance.now() - startMs;
      assertFailed(outcome, 'STEP_TIMEOUT', new RegExp(`^${kind} .*: no answer within the time limit while \\S`), ['connectMs']);
      assert.ok(tookMs < 5_000, `${kind} returned ${Math.round(tookMs)} ms after a 600 ms deadline`);
      const closedBy = Date.now() + 3_000;
      while (open.size > 0 && Date.now() < closedBy) await new Promise((resolve) => setTimeout(resolve, 20));
      const left = open.size;
      // A leak must not fail the next kind's test too.
      for (const socket of open) socket.destroy();
      assert.equal(left, 0, `${kind} left its connection open`);
    });
  }
});
