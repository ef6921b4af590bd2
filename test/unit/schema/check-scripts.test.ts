import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { parseMonitorScriptValue, parseScriptValue } from '../../../engine/core/parse-script.ts';
import { describeIssues } from '../../../engine/core/script-problems.ts';
import { transactionJsonSchema } from '../../../engine/schema/json-schema.ts';
import { buildMonitorScriptSchema, isBrowserScript, kindOf, stepNamesOf } from '../../../engine/schema/script.ts';

const api = (steps: unknown[], extra: Record<string, unknown> = {}) => ({ kind: 'api', name: 'API', steps, ...extra });
const get = (url = 'http://127.0.0.1/x') => ({ name: 'Get', request: { url } });

function problemsOf(value: unknown): string[] {
  const outcome = parseMonitorScriptValue(value);
  assert.equal(outcome.ok, false, 'expected the script to be rejected');
  return outcome.ok ? [] : outcome.problems.map((problem) => `${problem.path}: ${problem.message}`);
}

describe('script kinds', () => {
  it('keeps browser the default: a script without kind is a browser transaction, `kind: "browser"` too', () => {
    const plain = parseMonitorScriptValue({ name: 'T', steps: [{ name: 's', actions: [{ type: 'navigate', url: 'http://x' }] }] });
    assert.ok(plain.ok && isBrowserScript(plain.script) && kindOf(plain.script) === 'browser');
    const explicit = parseMonitorScriptValue({ kind: 'browser', name: 'T', steps: [{ name: 's', actions: [{ type: 'navigate', url: 'http://x' }] }] });
    assert.ok(explicit.ok && isBrowserScript(explicit.script));
  });

  it('accepts an API monitor with variables, settings, auth, assertions and extracts', () => {
    const outcome = parseMonitorScriptValue(
      api(
        [
          {
            name: 'Log in',
            request: { method: 'POST', url: '{{baseUrl}}/login', body: { type: 'json', value: { user: 'a', password: '{{secret.PW}}' } } },
            assertions: [{ type: 'status', operator: 'equals', value: 200 }, { type: 'jsonPath', path: '$.token', operator: 'exists' }],
            extract: [{ name: 'token', from: 'json', path: '$.token' }],
          },
          { name: 'Orders', request: { url: '{{baseUrl}}/orders', query: { status: 'open' } }, auth: { type: 'bearer', token: '{{token}}' } },
        ],
        { variables: { baseUrl: 'http://127.0.0.1' }, settings: { followRedirects: false, requestTimeoutMs: 5000 } },
      ),
    );
    assert.ok(outcome.ok, JSON.stringify(outcome.ok ? '' : outcome.problems));
    assert.equal(kindOf(outcome.script), 'api');
    assert.deepEqual(stepNamesOf(outcome.script), ['Log in', 'Orders']);
  });

  it('names the path of every problem inside an API script', () => {
    const problems = problemsOf(
      api([
        get(),
        get(),
        { name: 'Bad', request: { url: 'ftp://x', body: { type: 'jsn' } }, assertions: [{ type: 'jsonPath', path: '$.n', operator: 'lessThan', value: 'ten' }], extract: [{ name: '1x', from: 'json', path: '$.a' }] },
      ]),
    );
    assert.ok(problems.includes('steps[2].request.url: expected an http:// or https:// URL (or one starting with a {{variable}})'), problems.join('\n'));
    assert.ok(problems.some((p) => p.startsWith('steps[2].request.body.type: expected one of text, json, form') && p.includes('did you mean "json"')), problems.join('\n'));
    assert.ok(problems.includes('steps[2].assertions[0].value: expected a number with operator lessThan'), problems.join('\n'));
    assert.ok(problems.some((p) => p.startsWith('steps[2].extract[0].name: expected a name made of letters')), problems.join('\n'));
  });

  it('says a JSON body without its value is missing a value', () => {
    assert.deepEqual(problemsOf(api([{ name: 'a', request: { url: 'http://x', body: { type: 'json' } } }])), ['steps[0].request.body.value: missing: expected a value']);
  });

  it('rejects an unknown kind with the list of kinds and a suggestion', () => {
    assert.deepEqual(problemsOf({ kind: 'htp', name: 'x', url: 'http://x' }), ['kind: expected one of browser, api, http, tcp, dns, tls, smtp, imap, pop3, sftp, ftp, postgres, mysql; got "htp" (did you mean "http"?)']);
  });

  it('rejects a value comparison without a value and a bad regular expression', () => {
    const problems = problemsOf(api([{ ...get(), assertions: [{ type: 'header', name: 'x', operator: 'equals' }, { type: 'regex', pattern: '(', operator: 'exists' }] }]));
    assert.ok(problems.includes('steps[0].assertions[0].value: expected a value to compare with (operator equals)'), problems.join('\n'));
    assert.ok(problems.includes('steps[0].assertions[1].pattern: expected a valid regular expression'), problems.join('\n'));
  });

  it('takes a single HTTP check flat, with an unknown field named', () => {
    const ok = parseMonitorScriptValue({ kind: 'http', name: 'Status', url: 'https://x/status', assertions: [{ type: 'status', operator: 'equals', value: 200 }], followRedirects: false });
    assert.ok(ok.ok && kindOf(ok.script) === 'http');
    assert.deepEqual(stepNamesOf(ok.ok ? ok.script : ({} as never)), ['Status']);
    assert.deepEqual(problemsOf({ kind: 'http', name: 'Status', url: 'https://x', steps: [] }), ['(root): unknown field "steps"']);
  });

  it('keeps parseScriptValue (the recorder and exporters) to browser transactions', () => {
    const outcome = parseScriptValue(api([get()]));
    assert.equal(outcome.ok, false);
  });

  it('makes each infrastructure kind of the registry a flat kind with the common fields', () => {
    const schema = buildMonitorScriptSchema({ tcp: z.strictObject({ host: z.string().describe('Host.'), port: z.number().int().describe('Port.') }).describe('A TCP connect.') });
    const ok = schema.safeParse({ kind: 'tcp', name: 'SSH port', host: '127.0.0.1', port: 22, timeoutMs: 5000, conditions: [{ metric: 'connectMs', max: 100, level: 'warning' }] });
    assert.ok(ok.success, JSON.stringify(ok.error?.issues));
    const bad = schema.safeParse({ kind: 'tcp', name: 'SSH port', host: '127.0.0.1', port: 'ssh', extra: 1 });
    assert.ok(!bad.success);
    const problems = describeIssues(bad.error.issues, {}).map((p) => p.path);
    assert.ok(problems.includes('port') && problems.includes('(root)'), problems.join(', '));
    const wrongKind = schema.safeParse({ kind: 'tcpp', name: 'x' });
    assert.match(describeIssues(wrongKind.error?.issues ?? [], { kind: 'tcpp' })[0]?.message ?? '', /expected one of browser, api, http, tcp; got "tcpp" \(did you mean "tcp"\?\)/);
  });

  it('puts every kind in the JSON Schema', () => {
    const text = JSON.stringify(transactionJsonSchema());
    for (const kind of ['"browser"', '"api"', '"http"', 'oauth2-client-credentials', 'jsonPath', 'responseTimeMs']) assert.ok(text.includes(kind), `${kind} missing from the JSON Schema`);
  });
});
