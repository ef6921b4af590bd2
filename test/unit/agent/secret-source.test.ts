import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SecretSource } from '../../../engine/agent/secret-source.ts';

const env = { AWS_SECRET_ACCESS_KEY: 'aws-canary', DB_PASSWORD: 'db-pass', API_KEY: 'api-key', CHECKPOINT_TOKEN: 'the-token', SAME_AS_TOKEN: 'the-token' };

describe('SecretSource: the secrets an agent gives scripts', () => {
  it('gives the secrets file and the allow-listed variables, and nothing else of the environment', () => {
    const secrets = new SecretSource({ file: new Map([['FROM_FILE', 'file-value'], ['DB_PASSWORD', 'pinned']]), envNames: ['DB_PASSWORD', 'API_KEY', 'NOT_SET'], env, token: 'the-token' });
    assert.equal(secrets.lookup('FROM_FILE'), 'file-value');
    assert.equal(secrets.lookup('DB_PASSWORD'), 'pinned', 'the file wins over the environment');
    assert.equal(secrets.lookup('API_KEY'), 'api-key');
    assert.equal(secrets.lookup('AWS_SECRET_ACCESS_KEY'), undefined, 'in the environment but not listed');
    assert.equal(secrets.lookup('NOT_SET'), undefined);
    assert.equal(secrets.size, 3);
  });

  it('never gives out the agent configuration or its token, even when listed', () => {
    const secrets = new SecretSource({ file: new Map([['CHECKPOINT_TOKEN', 'x'], ['COPY', 'the-token']]), envNames: ['SAME_AS_TOKEN'], env, token: 'the-token' });
    assert.equal(secrets.lookup('CHECKPOINT_TOKEN'), undefined);
    assert.equal(secrets.lookup('checkpoint_token'), undefined);
    assert.equal(secrets.lookup('SAME_AS_TOKEN'), undefined);
    assert.equal(secrets.lookup('COPY'), undefined);
  });

  it('with nothing listed gives nothing, even with a full environment', () => {
    const secrets = new SecretSource({ env, token: 't' });
    for (const name of Object.keys(env)) assert.equal(secrets.lookup(name), undefined, name);
    assert.equal(secrets.size, 0);
  });

  it('explains SECRET_MISSING with the way to allow it, naming the secret and never its value', () => {
    const error = new SecretSource({ envNames: ['DB_PASSWORD'], env: { ...env, DB_PASSWORD: undefined }, token: 't' }).missing(['AWS_SECRET_ACCESS_KEY']);
    assert.equal(error.code, 'SECRET_MISSING');
    assert.equal(error.blame, 'script');
    assert.equal(
      error.message,
      'secret "AWS_SECRET_ACCESS_KEY" is not given to scripts by this checkpoint: the agent passes only the secrets its operator lists. Add it to the agent\'s secrets file (--secrets-file, CHECKPOINT_SECRETS_FILE) or name the environment variable in its allow-list (--secret-env AWS_SECRET_ACCESS_KEY, or CHECKPOINT_SECRETS_ENV=AWS_SECRET_ACCESS_KEY), then restart the agent',
    );
    assert.doesNotMatch(error.message, /aws-canary/);
    const listed = new SecretSource({ envNames: ['DB_PASSWORD', 'API_KEY'], env: {}, token: 't' }).missing(['DB_PASSWORD', 'API_KEY']);
    assert.match(listed.message, /^secrets "DB_PASSWORD", "API_KEY" are listed in the allow-list but not set in the agent's environment/);
  });
});
