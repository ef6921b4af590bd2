import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EngineError } from '../../../engine/core/errors.ts';
import { classifyError } from '../../../engine/checks/infra/classify.ts';
import { runCheck } from '../../../engine/checks/infra/check-run.ts';
import { textMismatch } from '../../../engine/checks/infra/expect.ts';
import { sshFingerprint } from '../../../engine/checks/sftp.ts';
import { checkEnv } from '../../helpers/servers/check-env.ts';

test('a key fingerprint is written as ssh-keygen -lf prints it', () => {
  // `ssh-keygen -lf` of "ssh-ed25519 <this blob>" prints SHA256:+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU.
  const blob = Buffer.from('AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl', 'base64');
  assert.equal(sshFingerprint(blob), 'SHA256:+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU');
});

test('text expectations say what was received and what was expected', () => {
  assert.equal(textMismatch('220 mail ready', { contains: 'ready' }), undefined);
  assert.equal(textMismatch('220 mail ready', { contains: 'Postfix' }), '"220 mail ready" does not contain "Postfix"');
  assert.equal(textMismatch(' ok \r\n', { equals: 'ok' }), undefined);
  assert.match(textMismatch('SSH-1.99-x', { matches: '^SSH-2\\.0' }) ?? '', /does not match \/\^SSH-2\\\.0\//);
});

test('client errors are classified by their Node code or message', () => {
  assert.equal(classifyError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }), 'connecting').code, 'CONNECT_FAILED');
  assert.equal(classifyError(Object.assign(new Error('getaddrinfo ENOTFOUND x'), { code: 'ENOTFOUND' }), 'resolving').code, 'DNS_FAILED');
  assert.equal(classifyError(Object.assign(new Error('certificate has expired'), { code: 'CERT_HAS_EXPIRED' }), 'negotiating TLS').code, 'TLS_FAILED');
  assert.equal(classifyError(new Error('unexpected reply'), 'logging in').code, 'PROTOCOL_ERROR');
});

test('runCheck never throws, scrubs secrets from messages and details, and keeps one line', async () => {
  const outcome = await runCheck(checkEnv(), 'demo h:1', (run) => {
    run.secret('s3cret-Value');
    run.detail('echo', 'server said s3cret-Value');
    run.addPhase('connectMs', 1.234);
    throw new Error('line one\r\nwith s3cret-Value inside');
  });
  assert.equal(outcome.error?.code, 'PROTOCOL_ERROR');
  assert.equal(outcome.error?.message, 'demo h:1: the server broke off while starting: line one with *** inside');
  assert.equal(outcome.details.echo, 'server said ***');
  assert.equal(outcome.phases.connectMs, 1.2);
});

test('a short secret is scrubbed where it stands alone, not inside words', async () => {
  const outcome = await runCheck(checkEnv(), 'demo h:1', (run) => {
    run.secret('x1');
    throw new Error('exchanging keys failed for password x1');
  });
  assert.equal(outcome.error?.message, 'demo h:1: the server broke off while starting: exchanging keys failed for password ***');
});

test('an EngineError thrown by the body stands; a deadline that ran out is STEP_TIMEOUT naming the activity', async () => {
  const own = await runCheck(checkEnv(), 'demo h:1', (run) => {
    throw run.fail('ASSERTION_FAILED', 'the answer was wrong');
  });
  assert.equal(own.error?.message, 'demo h:1: the answer was wrong');
  assert.equal(own.error?.blame, 'site');
  const env = checkEnv({ budgetMs: 50 });
  let closed = false;
  const slow = await runCheck(env, 'demo h:1', async (run) => {
    run.onEnd(() => {
      closed = true;
    });
    await run.phase('bannerMs', 'waiting for the banner', () => new Promise(() => {}));
  });
  assert.equal(slow.error?.code, 'STEP_TIMEOUT');
  assert.equal(slow.error?.message, 'demo h:1: no answer within the time limit while waiting for the banner');
  assert.ok(closed, 'the client was closed when the deadline ended');
  assert.ok(slow.error instanceof EngineError);
});

test('a deadline that ran out keeps the timeout code the runner chose (a script timeout stays one)', async () => {
  const { Deadline } = await import('../../../engine/core/deadline.ts');
  const { systemClock } = await import('../../../engine/core/clock.ts');
  const env = { ...checkEnv(), deadline: Deadline.start({ clock: systemClock, budgetMs: 30, onExpire: () => new EngineError('SCRIPT_TIMEOUT', 'the script ran out of time') }) };
  const outcome = await runCheck(env, 'demo h:1', (run) => run.phase('authMs', 'logging in', () => new Promise<void>(() => {})));
  assert.equal(outcome.error?.code, 'SCRIPT_TIMEOUT');
  assert.equal(outcome.error?.message, 'demo h:1: no answer within the time limit while logging in');
});
