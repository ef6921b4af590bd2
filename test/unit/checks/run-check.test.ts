/**
 * The runner's side of the check contract (engine/checks/check-types.ts), with fake infrastructure checks: a spec
 * rendered with variables and secrets, phases and details into a step of the usual shape, warnings, errors,
 * conditions, a check that throws, a deadline that runs out, and secrets masked.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CheckDefinition, CheckEnvironment, CheckOutcome } from '../../../engine/checks/check-types.ts';
import { EngineError } from '../../../engine/core/errors.ts';
import { runCheck } from '../../../engine/runner/run-check.ts';
import type { CheckScript } from '../../../engine/schema/script.ts';

interface FakeSpec {
  host: string;
  port: number;
  password?: string;
}

function fake(run: (spec: FakeSpec, env: CheckEnvironment) => Promise<CheckOutcome>): (kind: string) => CheckDefinition<FakeSpec> | undefined {
  return (kind) => (kind === 'tcp' ? { kind: 'tcp', run } : undefined);
}

const script = (extra: Record<string, unknown> = {}) => ({ kind: 'tcp', name: 'Database port', host: '{{dbHost}}', port: 5432, variables: { dbHost: 'db.internal' }, ...extra }) as CheckScript;
const lookup = () => Promise.resolve({ address: '127.0.0.1', family: 4 as const, dnsMs: 0 });

describe('runCheck with an infrastructure kind', () => {
  it('renders the spec, and turns phases, details and warnings into one step', async () => {
    const seen: FakeSpec[] = [];
    const { result } = await runCheck({
      script: script({ password: '{{secret.DB_PASSWORD}}', conditions: [{ metric: 'connectMs', max: 1000, level: 'error' }] }),
      secret: (name) => (name === 'DB_PASSWORD' ? 's3cret-pw' : undefined),
      lookup,
      infraCheck: fake(async (spec, env) => {
        seen.push(spec);
        assert.equal((await env.lookup(spec.host)).address, '127.0.0.1');
        assert.ok(env.deadline.remainingMs() > 0);
        return { phases: { dnsMs: 1, connectMs: 2.5 }, details: { banner: `hello, password ${spec.password ?? ''}` }, warnings: [{ message: 'the certificate expires in 12 days (warning at 30)' }] };
      }),
    });
    assert.deepEqual(seen, [{ host: 'db.internal', port: 5432, password: 's3cret-pw' }]);
    assert.equal(result.kind, 'tcp');
    assert.equal(result.browser, undefined);
    assert.equal(result.status, 'warning');
    const step = result.steps[0];
    assert.equal(step?.name, 'Database port');
    assert.equal(step?.status, 'warning');
    assert.deepEqual(step?.check?.phases, { dnsMs: 1, connectMs: 2.5 });
    assert.deepEqual(step?.check?.warnings, ['the certificate expires in 12 days (warning at 30)']);
    assert.equal(step?.check?.details['banner'], 'hello, password [redacted]');
    assert.equal(step?.conditions?.[0]?.actual, 2.5);
    assert.ok(!JSON.stringify(result).includes('s3cret-pw'));
  });

  it('fails the step with the check`s own error and blame, and judges conditions on its phases', async () => {
    const failed = await runCheck({
      script: script(),
      secret: () => undefined,
      lookup,
      infraCheck: fake(() => Promise.resolve({ phases: { dnsMs: 1 }, details: {}, warnings: [], error: new EngineError('CONNECT_FAILED', 'the connection to db.internal:5432 was refused') })),
    });
    assert.equal(failed.result.status, 'failed');
    assert.deepEqual(failed.result.steps[0]?.error, { code: 'CONNECT_FAILED', message: 'the connection to db.internal:5432 was refused', blame: 'site' });
    assert.deepEqual(failed.result.steps[0]?.check?.phases, { dnsMs: 1 });

    const slow = await runCheck({
      script: script({ conditions: [{ metric: 'connectMs', max: 10, level: 'error' }] }),
      secret: () => undefined,
      lookup,
      infraCheck: fake(() => Promise.resolve({ phases: { connectMs: 25 }, details: {}, warnings: [] })),
    });
    assert.equal(slow.result.steps[0]?.error?.code, 'CONDITION_BREACHED');
  });

  it('makes a throwing check and a kind without a module engine faults (status error)', async () => {
    const thrown = await runCheck({ script: script(), secret: () => undefined, lookup, infraCheck: fake(() => Promise.reject(new TypeError('oops'))) });
    assert.equal(thrown.result.status, 'error');
    assert.equal(thrown.result.steps[0]?.error?.code, 'INTERNAL');
    assert.match(thrown.result.steps[0]?.error?.message ?? '', /the tcp check failed unexpectedly: oops/);
    const missing = await runCheck({ script: script({ kind: 'smtp' }), secret: () => undefined, lookup, infraCheck: fake(() => Promise.reject(new Error('unreachable'))) });
    assert.equal(missing.result.status, 'error');
    assert.deepEqual(missing.result.steps[0]?.error, { code: 'INTERNAL', message: 'this checkpoint has no module to run a "smtp" check', blame: 'engine' });
  });

  it('gives the check the script`s budget through env.deadline, and reports SCRIPT_TIMEOUT when a check honours it', async () => {
    const started = performance.now();
    const { result } = await runCheck({
      script: script({ timeoutMs: 200 }),
      secret: () => undefined,
      lookup,
      infraCheck: fake(
        (_spec, env) =>
          new Promise((resolve) => {
            env.deadline.signal.addEventListener('abort', () => resolve({ phases: {}, details: {}, warnings: [], error: env.deadline.reason as EngineError }), { once: true });
          }),
      ),
    });
    assert.equal(result.steps[0]?.error?.code, 'SCRIPT_TIMEOUT');
    assert.ok(performance.now() - started < 3_000);
  });

  it('refuses a script whose secret is not set before running anything', async () => {
    let ran = false;
    await assert.rejects(
      runCheck({ script: script({ password: '{{secret.NOPE}}' }), secret: () => undefined, lookup, infraCheck: fake(() => ((ran = true), Promise.resolve({ phases: {}, details: {}, warnings: [] }))) }),
      (error: unknown) => error instanceof EngineError && error.code === 'SECRET_MISSING' && error.blame === 'script',
    );
    assert.equal(ran, false);
  });
});
