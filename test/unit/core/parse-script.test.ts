/** parseScriptText: JSON text in, a script or located problems out; never throws on bad input. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { maxScriptBytes, parseScriptText } from '../../../engine/core/parse-script.ts';
import { minimalActions, problemsOf, scriptWith } from '../support/scripts.ts';

function onlyProblem(text: string): { path: string; message: string } {
  const problems = problemsOf(parseScriptText(text));
  assert.equal(problems.length, 1, JSON.stringify(problems));
  return problems[0]!;
}

describe('parseScriptText', () => {
  it('parses a valid script text', () => {
    const outcome = parseScriptText(JSON.stringify(scriptWith(minimalActions.navigate), null, 2));
    assert.ok(outcome.ok);
    assert.equal(outcome.script.steps[0]?.actions[0]?.type, 'navigate');
  });

  it('reports invalid JSON as one problem at (root) starting with "invalid JSON"', () => {
    const problem = onlyProblem('{"name": "x", "steps": [');
    assert.equal(problem.path, '(root)');
    assert.match(problem.message, /^invalid JSON/);
  });

  it('gives the line and column of a syntax error when the parser reports a position', () => {
    const problem = onlyProblem('{\n  "name": "x",\n  "steps" []\n}');
    assert.deepEqual(problem, { path: '(root)', message: "invalid JSON at line 3, column 11: Expected ':' after property name" });
  });

  it('rejects a trailing comma in an object with its position', () => {
    assert.deepEqual(onlyProblem('{"a":1,}'), { path: '(root)', message: 'invalid JSON at line 1, column 8: Expected double-quoted property name' });
  });

  it('rejects an empty text as invalid JSON', () => {
    assert.deepEqual(onlyProblem(''), { path: '(root)', message: 'invalid JSON: Unexpected end of JSON input' });
  });

  it('rejects whitespace only as invalid JSON', () => {
    assert.match(onlyProblem(' \n\t ').message, /^invalid JSON: Unexpected end of JSON input$/);
  });

  it('rejects text after the JSON value', () => {
    assert.match(onlyProblem('{"name":"x"}\n\ngarbage').message, /^invalid JSON at line 3, column 1: Unexpected non-whitespace character after JSON/);
  });

  it('rejects binary garbage without throwing', () => {
    assert.match(onlyProblem('\u0000\u0001\u00ff\ufffd').message, /^invalid JSON/);
  });

  it('does not accept a byte order mark itself (loadScriptFile strips it)', () => {
    assert.match(onlyProblem(`\uFEFF${JSON.stringify(scriptWith(minimalActions.closeTab))}`).message, /^invalid JSON/);
  });

  it('does not quote the source snippet V8 appends to "Unexpected token" messages', () => {
    const problem = onlyProblem('{"a":\n}');
    assert.equal(problem.message, "invalid JSON: Unexpected token '}'");
  });

  it('reports a trailing comma in a list without quoting the script', () => {
    const problem = onlyProblem('{\n  "name": "x",\n  "steps": [1,]\n}');
    assert.equal(problem.message, "invalid JSON: Unexpected token ']'");
  });

  it('keeps every invalid-JSON message on one line', () => {
    const problem = onlyProblem('{"name": "x",\n "steps": [\n}');
    assert.doesNotMatch(problem.message, /\n/);
    assert.doesNotMatch(problem.message, /is not valid JSON/);
  });

  it('rejects a text larger than the limit without parsing it', () => {
    const text = `{"name":"${'x'.repeat(maxScriptBytes)}"}`;
    assert.deepEqual(onlyProblem(text), { path: '(root)', message: `expected a script of at most ${maxScriptBytes} bytes, got ${text.length}` });
  });

  it('validates the parsed value and reports schema problems by path', () => {
    assert.deepEqual(problemsOf(parseScriptText('{"name":"x","steps":[{"name":"s","actions":[{"type":"fill","selector":"#q"}]}]}')), [
      { path: 'steps[0].actions[0].value', message: 'missing: expected string' },
    ]);
  });

  it('turns JSON 1e400 (Infinity) into a problem rather than a crash', () => {
    const problems = problemsOf(parseScriptText('{"name":"x","timeoutMs":1e400,"steps":[{"name":"s","actions":[{"type":"closeTab"}]}]}'));
    assert.deepEqual(problems.map((p) => p.path), ['timeoutMs']);
  });

  it('ignores a "__proto__" key rather than polluting prototypes', () => {
    const problems = problemsOf(parseScriptText('{"name":"x","__proto__":{"polluted":true},"steps":[{"name":"s","actions":[{"type":"closeTab"}]}]}'));
    assert.deepEqual(problems, [{ path: '(root)', message: 'unknown field "__proto__"' }]);
    assert.equal((Object.prototype as Record<string, unknown>)['polluted'], undefined);
  });
});
