import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseScriptValue } from '../../../engine/core/parse-script.ts';
import { parsePageEvent, type PageEvent, type TargetInfo } from '../../../recorder/events.ts';
import { ScriptBuilder, assertionText, secretNameFor, templateUrl } from '../../../recorder/script-builder.ts';

const base = 'http://127.0.0.1:8080';
const target = (selector: string, key = selector): TargetInfo => ({ key, candidates: [{ kind: 'id', selector, count: 1, basis: selector.slice(1) }] });

/** A builder fed with events one millisecond apart. */
function build(events: (PageEvent & { tab?: number; frame?: { name: string; url: string } })[], options: { passwordSecret?: string } = {}) {
  const builder = new ScriptBuilder({ startUrl: `${base}/login`, ...options });
  let at = 1000;
  for (const event of events) builder.add({ tab: 0, ...event, at: at++ });
  const script = builder.build();
  const parsed = parseScriptValue(script);
  assert.ok(parsed.ok, JSON.stringify(parsed.ok ? '' : parsed.problems));
  return script;
}

describe('ScriptBuilder', () => {
  it('coalesces typing into one setValue per field, written at the next action', () => {
    const script = build([
      { type: 'document', url: `${base}/login`, title: 'Sign in' },
      { type: 'input', target: target('#username'), value: 'd' },
      { type: 'input', target: target('#username'), value: 'de' },
      { type: 'input', target: target('#username'), value: 'demo' },
      { type: 'input', target: target('#password'), secretField: 'password' },
      { type: 'input', target: target('#password'), secretField: 'password' },
      { type: 'click', target: target('#submit'), button: 'left', modifiers: [], double: false },
      { type: 'document', url: `${base}/dashboard`, title: 'Dashboard' },
      { type: 'input', target: target('#q'), value: 'Glob' },
    ]);
    assert.deepEqual(script.variables, { baseUrl: base });
    assert.deepEqual(script.steps, [
      {
        name: 'Sign in',
        actions: [
          { type: 'navigate', url: '{{baseUrl}}/login' },
          { type: 'setValue', selector: ['#username'], value: 'demo' },
          { type: 'setValue', selector: ['#password'], value: '{{secret.PASSWORD}}' },
          { type: 'click', selector: ['#submit'] },
        ],
      },
      { name: 'Dashboard', actions: [{ type: 'setValue', selector: ['#q'], value: 'Glob' }] },
    ]);
  });

  it('uses the configured password secret', () => {
    const script = build([{ type: 'document', url: `${base}/login`, title: 'Sign in' }, { type: 'input', target: target('#pw'), secretField: 'pw' }], { passwordSecret: 'DEMO_PASSWORD' });
    assert.deepEqual(script.steps[0]?.actions[1], { type: 'setValue', selector: ['#pw'], value: '{{secret.DEMO_PASSWORD}}' });
  });

  it('tells navigations apart by who started them, not by time: a URL typed right after a click is recorded', () => {
    const builder = new ScriptBuilder({ startUrl: `${base}/` });
    builder.add({ type: 'document', url: `${base}/`, title: 'Home', initiator: 'person', tab: 0, at: 0 });
    builder.add({ type: 'click', target: target('#a'), button: 'left', modifiers: [], double: false, tab: 0, at: 100 });
    builder.add({ type: 'document', url: `${base}/a`, title: 'A', initiator: 'page', tab: 0, at: 300 });
    builder.add({ type: 'click', target: target('#b'), button: 'left', modifiers: [], double: false, tab: 0, at: 400 });
    builder.add({ type: 'document', url: `${base}/typed`, title: 'Typed', initiator: 'person', tab: 0, at: 500 });
    builder.add({ type: 'document', url: `${base}/refresh`, title: 'Refreshed', initiator: 'page', tab: 0, at: 600_000 });
    const script = builder.build();
    assert.deepEqual(
      script.steps.map((step) => [step.name, step.actions.map((a) => a.type)]),
      [['Home', ['navigate', 'click']], ['A', ['click']], ['Typed', ['navigate']]],
    );
    assert.deepEqual(script.steps[2]?.actions[0], { type: 'navigate', url: '{{baseUrl}}/typed' });
  });

  it('without a known initiator, an action since the last document is taken as the cause', () => {
    const builder = new ScriptBuilder({ startUrl: `${base}/` });
    builder.add({ type: 'document', url: `${base}/`, title: 'Home', tab: 0, at: 0 });
    builder.add({ type: 'click', target: target('#a'), button: 'left', modifiers: [], double: false, tab: 0, at: 100 });
    builder.add({ type: 'document', url: `${base}/a`, title: 'A', tab: 0, at: 300 });
    builder.add({ type: 'document', url: 'http://other.example/x', title: 'Other', tab: 0, at: 60_000 });
    const script = builder.build();
    assert.deepEqual(
      script.steps.map((step) => [step.name, step.actions.map((a) => a.type)]),
      [['Home', ['navigate', 'click']], ['Other', ['navigate']]],
    );
    assert.deepEqual(script.steps[1]?.actions[0], { type: 'navigate', url: 'http://other.example/x' });
  });

  it('switches tabs and frames, and starts a step for a popup', () => {
    const frame = { name: 'inner', url: `${base}/frame-inner` };
    const unnamed = { name: '', url: `${base}/widget?x=1` };
    const script = build([
      { type: 'document', url: `${base}/login`, title: 'Dashboard' },
      { type: 'click', target: target('#popup'), button: 'left', modifiers: [], double: false },
      { type: 'document', url: `${base}/popup`, title: 'Popup', tab: 1 },
      { type: 'assertText', target: target('#text'), text: '  Quarterly\n figures ', tab: 1 },
      { type: 'click', target: target('#frames'), button: 'left', modifiers: [], double: false },
      { type: 'input', target: target('#in'), value: 'hi', frame },
      { type: 'click', target: target('#go'), button: 'left', modifiers: [], double: false, frame: unnamed },
      { type: 'assertVisible', target: target('#h1') },
    ]);
    assert.deepEqual(script.steps.map((s) => s.name), ['Dashboard', 'Popup']);
    assert.deepEqual(script.steps[1]?.actions, [
      { type: 'switchTab', to: 'latest' },
      { type: 'assertText', selector: ['#text'], text: 'Quarterly figures' },
      { type: 'switchTab', to: 'main' },
      { type: 'click', selector: ['#frames'] },
      { type: 'switchFrame', name: 'inner' },
      { type: 'setValue', selector: ['#in'], value: 'hi' },
      { type: 'switchToMainFrame' },
      { type: 'switchFrame', urlContains: '{{baseUrl}}/widget' },
      { type: 'click', selector: ['#go'] },
      { type: 'switchToMainFrame' },
      { type: 'assertElement', selector: ['#h1'], state: 'visible' },
    ]);
  });

  it('records select, check, uncheck, press, upload and new steps', () => {
    const script = build([
      { type: 'document', url: `${base}/form`, title: 'Form' },
      { type: 'select', target: target('#dept'), values: ['finance'] },
      { type: 'check', target: target('#urgent'), checked: true },
      { type: 'check', target: target('#urgent'), checked: false },
      { type: 'newStep', name: 'Attach' },
      { type: 'upload', target: target('#file'), fileNames: ['report.csv'] },
      { type: 'press', key: 'Escape' },
      { type: 'stop' },
      { type: 'click', target: target('#ignored'), button: 'left', modifiers: [], double: false },
    ]);
    assert.deepEqual(script.steps[0]?.actions.slice(1), [
      { type: 'select', selector: ['#dept'], option: 'finance' },
      { type: 'check', selector: ['#urgent'] },
      { type: 'uncheck', selector: ['#urgent'] },
    ]);
    assert.equal(script.steps[1]?.name, 'Attach');
    const upload = script.steps[1]?.actions[0];
    assert.equal(upload?.type, 'upload');
    assert.deepEqual(upload?.type === 'upload' ? upload.files : undefined, ['report.csv']);
    assert.deepEqual(script.steps[1]?.actions[1], { type: 'press', key: 'Escape' });
    assert.equal(script.steps[1]?.actions.length, 2, 'events after stop are ignored');
  });

  it('produces a valid script when nothing was recorded', () => {
    const script = build([]);
    assert.deepEqual(script.steps, [{ name: 'Open the start page', actions: [{ type: 'navigate', url: '{{baseUrl}}/login' }] }]);
  });
});

describe('helpers', () => {
  it('templates URLs on the base origin only', () => {
    assert.equal(templateUrl(`${base}/orders?q=a#x`, base), '{{baseUrl}}/orders?q=a#x');
    assert.equal(templateUrl('http://127.0.0.1:9999/x', base), 'http://127.0.0.1:9999/x');
  });
  it('derives secret names from field names', () => {
    assert.equal(secretNameFor('password'), 'PASSWORD');
    assert.equal(secretNameFor('newPin'), 'NEW_PIN');
    assert.equal(secretNameFor('user-pass'), 'USER_PASS');
    assert.equal(secretNameFor('ember1234'), 'PASSWORD');
  });
  it('shortens assertion text', () => {
    assert.equal(assertionText('a  b\n c'), 'a b c');
    assert.ok(assertionText('word '.repeat(50)).length <= 100);
  });
  it('rejects malformed page events', () => {
    assert.equal(parsePageEvent({ type: 'click' }), undefined);
    assert.equal(parsePageEvent({ type: 'nope' }), undefined);
    assert.equal(parsePageEvent('x'), undefined);
    assert.deepEqual(parsePageEvent({ type: 'input', target: { key: 'k', candidates: [{ kind: 'bogus', selector: 'x', count: 1 }] }, secretField: 'pw', value: 'leak' }), {
      type: 'input',
      target: { key: 'k', candidates: [] },
      secretField: 'pw',
    });
  });
});
