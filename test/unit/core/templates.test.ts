import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EngineError } from '../../../engine/core/errors.ts';
import { placeholdersIn, renderDeep, renderTemplate, type TemplateValues } from '../../../engine/core/templates.ts';

function valuesOf(variables: Record<string, string>, secrets: Record<string, string> = {}): TemplateValues {
  return {
    variable: (name) => (Object.hasOwn(variables, name) ? variables[name] : undefined),
    secret: (name) => (Object.hasOwn(secrets, name) ? secrets[name] : undefined),
  };
}

const values = valuesOf({ baseUrl: 'http://127.0.0.1:8080', customer: 'Globex', empty: '' }, { DEMO_PASSWORD: 's3cr3t' });

function thrown(fn: () => unknown): EngineError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof EngineError, `expected an EngineError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected an EngineError to be thrown');
}

describe('placeholdersIn', () => {
  it('finds variables and secrets in order', () => {
    assert.deepEqual(placeholdersIn('{{baseUrl}}/login?u={{ user }}&p={{secret.PASS}}'), [
      { kind: 'variable', name: 'baseUrl' },
      { kind: 'variable', name: 'user' },
      { kind: 'secret', name: 'PASS' },
    ]);
  });

  it('finds nothing in plain text or malformed braces', () => {
    assert.deepEqual(placeholdersIn('no {placeholders} {{ }} {{1abc}} {{a-b}} {{secret.}} here'), []);
  });

  it('reports a repeated placeholder each time it occurs', () => {
    assert.deepEqual(placeholdersIn('{{a}}{{a}}').length, 2);
  });
});

describe('renderTemplate', () => {
  it('replaces variables, with or without inner spaces', () => {
    assert.equal(renderTemplate('{{baseUrl}}/orders?q={{ customer }}', values, 'x'), 'http://127.0.0.1:8080/orders?q=Globex');
  });

  it('replaces secrets', () => {
    assert.equal(renderTemplate('pw={{secret.DEMO_PASSWORD}}', values, 'x'), 'pw=s3cr3t');
  });

  it('replaces an empty variable with nothing', () => {
    assert.equal(renderTemplate('[{{empty}}]', values, 'x'), '[]');
  });

  it('leaves text without placeholders unchanged', () => {
    assert.equal(renderTemplate('plain {text} $1 $&', values, 'x'), 'plain {text} $1 $&');
  });

  it('inserts values literally, even with $ replacement patterns in them', () => {
    assert.equal(renderTemplate('{{v}}', valuesOf({ v: "$& $1 $$ $'" }), 'x'), "$& $1 $$ $'");
  });

  it('does not render placeholders that appear inside a value', () => {
    assert.equal(renderTemplate('{{v}}', valuesOf({ v: '{{secret.X}}' }), 'x'), '{{secret.X}}');
  });

  it('throws VARIABLE_MISSING, blamed on the script, naming the location and the variable', () => {
    const error = thrown(() => renderTemplate('{{nope}}', values, 'steps[1].actions[0].value'));
    assert.equal(error.code, 'VARIABLE_MISSING');
    assert.equal(error.blame, 'script');
    assert.match(error.message, /^steps\[1\]\.actions\[0\]\.value: variable "nope" has no value/);
    assert.match(error.message, /--var nope=/);
  });

  it('throws SECRET_MISSING, blamed on the script, naming the location and the secret', () => {
    const error = thrown(() => renderTemplate('{{secret.API_KEY}}', values, 'settings.extraHttpHeaders.Authorization'));
    assert.equal(error.code, 'SECRET_MISSING');
    assert.equal(error.blame, 'script');
    assert.match(error.message, /^settings\.extraHttpHeaders\.Authorization: secret "API_KEY" is not set/);
    assert.match(error.message, /environment variable API_KEY/);
  });

  it('treats {{secret.X}} and {{X}} as different namespaces', () => {
    const error = thrown(() => renderTemplate('{{DEMO_PASSWORD}}', values, 'here'));
    assert.equal(error.code, 'VARIABLE_MISSING');
  });
});

describe('renderDeep', () => {
  it('renders every string in nested objects and lists, leaving `type` alone', () => {
    const action = { type: '{{customer}}', selector: ['text={{customer}}', '#c'], files: [{ name: '{{customer}}.txt', text: 'pw {{secret.DEMO_PASSWORD}}' }], count: 3, absent: false };
    assert.deepEqual(renderDeep(action, values, 'a'), {
      type: '{{customer}}',
      selector: ['text=Globex', '#c'],
      files: [{ name: 'Globex.txt', text: 'pw s3cr3t' }],
      count: 3,
      absent: false,
    });
  });

  it('does not modify its input', () => {
    const input = { value: '{{customer}}' };
    renderDeep(input, values, 'a');
    assert.deepEqual(input, { value: '{{customer}}' });
  });

  it('passes undefined, null and numbers through', () => {
    assert.equal(renderDeep(undefined, values, 'a'), undefined);
    assert.equal(renderDeep(null, values, 'a'), null);
    assert.equal(renderDeep(7, values, 'a'), 7);
  });

  it('names the exact nested path of a missing variable', () => {
    const error = thrown(() => renderDeep({ files: [{ name: 'a' }, { name: '{{missing}}' }] }, values, 'steps[0].actions[2]'));
    assert.equal(error.code, 'VARIABLE_MISSING');
    assert.match(error.message, /^steps\[0\]\.actions\[2\]\.files\[1\]\.name: variable "missing"/);
  });

  it('names the exact nested path of a missing secret', () => {
    const error = thrown(() => renderDeep({ httpCredentials: { password: '{{secret.BASIC}}' } }, values, 'settings'));
    assert.equal(error.code, 'SECRET_MISSING');
    assert.match(error.message, /^settings\.httpCredentials\.password: secret "BASIC"/);
  });
});
