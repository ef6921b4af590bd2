import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseScriptValue } from '../../../engine/core/parse-script.ts';
import { checkPlaceholders } from '../../../engine/core/placeholder-check.ts';
import type { Script } from '../../../engine/schema/script.ts';
import { richScript } from '../support/scripts.ts';

function script(value: Record<string, unknown>): Script {
  const outcome = parseScriptValue(value);
  assert.ok(outcome.ok, `fixture rejected: ${JSON.stringify(outcome.ok ? [] : outcome.problems)}`);
  return outcome.script;
}

function steps(...actionsPerStep: unknown[][]): Record<string, unknown> {
  return { name: 'x', steps: actionsPerStep.map((actions, i) => ({ name: `s${i}`, actions })) };
}

describe('checkPlaceholders', () => {
  it('accepts variables from the script and from overrides', () => {
    const s = script({ ...steps([{ type: 'navigate', url: '{{baseUrl}}/{{path}}' }]), variables: { baseUrl: 'http://x' } });
    assert.deepEqual(checkPlaceholders(s, { path: 'home' }), { problems: [], secretNames: [] });
  });

  it('reports a variable nothing defines, at the field that uses it', () => {
    const s = script(steps([{ type: 'navigate', url: '/' }, { type: 'fill', selector: '#q', value: 'find {{customer}}' }]));
    assert.deepEqual(checkPlaceholders(s, {}).problems, [
      {
        path: 'steps[0].actions[1].value',
        message: 'variable "customer" has no value here (expected it in "variables", a --var customer=… option, or an earlier extract/evaluate)',
      },
    ]);
  });

  it('accepts a variable defined by an earlier extract, even in a later step', () => {
    const s = script(steps([{ type: 'extract', variable: 'orderId', from: 'text', selector: '.id' }], [{ type: 'click', selector: 'text={{orderId}}' }]));
    assert.deepEqual(checkPlaceholders(s, {}).problems, []);
  });

  it('accepts a variable defined by an earlier evaluate', () => {
    const s = script(steps([{ type: 'evaluate', expression: 'location.host', variable: 'host' }, { type: 'assertUrl', contains: '{{host}}' }]));
    assert.deepEqual(checkPlaceholders(s, {}).problems, []);
  });

  it('rejects a variable used before the extract that defines it', () => {
    const s = script(steps([{ type: 'click', selector: 'text={{orderId}}' }], [{ type: 'extract', variable: 'orderId', from: 'url' }]));
    assert.deepEqual(checkPlaceholders(s, {}).problems.map((p) => p.path), ['steps[0].actions[0].selector']);
  });

  it('rejects an extract that uses its own variable', () => {
    const s = script(steps([{ type: 'extract', variable: 'id', from: 'text', selector: '#{{id}}' }]));
    assert.deepEqual(checkPlaceholders(s, {}).problems.map((p) => p.path), ['steps[0].actions[0].selector']);
  });

  it('locates uses inside selector lists and inline files', () => {
    const s = script(steps([{ type: 'upload', selector: ['#a', '#{{x}}'], files: [{ name: 'f', text: '{{y}}' }] }]));
    assert.deepEqual(checkPlaceholders(s, {}).problems.map((p) => p.path), ['steps[0].actions[0].selector[1]', 'steps[0].actions[0].files[0].text']);
  });

  it('checks settings too', () => {
    const s = script({ ...steps([{ type: 'closeTab' }]), settings: { httpCredentials: { username: '{{user}}', password: 'x' } } });
    assert.deepEqual(checkPlaceholders(s, {}).problems.map((p) => p.path), ['settings.httpCredentials.username']);
  });

  it('quotes a non-identifier key in the path the way schema problems do', () => {
    const s = script({ ...steps([{ type: 'closeTab' }]), settings: { extraHttpHeaders: { 'X-Tenant': '{{tenant}}' } } });
    assert.deepEqual(checkPlaceholders(s, {}).problems.map((p) => p.path), ['settings.extraHttpHeaders["X-Tenant"]']);
  });

  it('does not treat a placeholder-like action type as a use', () => {
    const s = script(steps([{ type: 'closeTab', description: 'plain' }]));
    assert.deepEqual(checkPlaceholders(s, {}).problems, []);
  });

  it('collects secret names from settings, variables and actions, sorted and without duplicates', () => {
    const s = script({
      ...steps([{ type: 'fill', selector: '#p', value: '{{secret.DEMO_PASSWORD}}' }, { type: 'fill', selector: '#q', value: '{{ secret.DEMO_PASSWORD }}' }]),
      variables: { token: 'Bearer {{secret.API_TOKEN}}' },
      settings: { httpCredentials: { username: 'u', password: '{{secret.BASIC}}' } },
    });
    assert.deepEqual(checkPlaceholders(s, {}), { problems: [], secretNames: ['API_TOKEN', 'BASIC', 'DEMO_PASSWORD'] });
  });

  it('finds every secret of the rich script and no unknown variable', () => {
    const report = checkPlaceholders(script(richScript()), {});
    assert.deepEqual(report, { problems: [], secretNames: ['API_TOKEN', 'BASIC_PASSWORD', 'DEMO_PASSWORD'] });
  });
});
