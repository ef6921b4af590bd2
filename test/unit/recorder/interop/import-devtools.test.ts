import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { devtoolsRecordingSchema } from '../../../../recorder/interop/devtools-schema.ts';
import { DevtoolsImportError, importDevtoolsRecording } from '../../../../recorder/interop/import-devtools.ts';
import { importSelectors } from '../../../../recorder/interop/selector-map.ts';
import { assertGolden, readRecording, recordingNames } from './support.ts';

const options = { baseUrl: 'http://127.0.0.1:8080', passwordSecret: 'DEMO_PASSWORD' };

function actionsOf(steps: unknown[]) {
  const { script } = importDevtoolsRecording({ title: 't', steps });
  return script.steps.flatMap((step) => step.actions);
}

describe('importDevtoolsRecording', () => {
  for (const name of recordingNames) {
    it(`imports the ${name} recording exactly as its golden file says`, () => {
      const result = importDevtoolsRecording(readRecording(name), options);
      assertGolden(`${name}.import.json`, `${JSON.stringify(result, null, 2)}\n`);
    });
  }

  it('accepts the demo recordings with the strict mirror of @puppeteer/replay, and rejects the every-step fixture (unknown type, click without offsets)', () => {
    for (const name of ['login-and-search', 'request-form', 'frames-and-popup']) assert.ok(devtoolsRecordingSchema.safeParse(readRecording(name)).success, name);
    assert.equal(devtoolsRecordingSchema.safeParse(readRecording('every-step-type')).success, false);
  });

  it('reports every construct it cannot express by path instead of dropping it silently', () => {
    const { problems } = importDevtoolsRecording(readRecording('every-step-type'), options);
    const paths = problems.map((problem) => problem.path);
    for (const path of [
      'steps[0].deviceScaleFactor',
      'steps[0].isMobile',
      'steps[0].hasTouch',
      'steps[1]',
      'steps[4].deviceType',
      'steps[4].duration',
      'steps[5].button',
      'steps[20]',
      'steps[27]',
      'steps[29].selectors',
      'steps[32]',
      'steps[33].type',
      'steps[34].offsetX',
    ]) {
      assert.ok(paths.includes(path), `expected a problem at ${path}; got ${paths.join(', ')}`);
    }
    assert.ok(!paths.includes('steps[0].isLandscape'), 'a default value is not a problem');
  });

  it('combines held modifiers into one press, ignores a lone keyUp and turns a held Shift into click modifiers', () => {
    const actions = actionsOf([
      { type: 'keyUp', key: 'x' },
      { type: 'keyDown', key: 'Control' },
      { type: 'keyDown', key: 'A' },
      { type: 'keyUp', key: 'A' },
      { type: 'keyUp', key: 'Control' },
      { type: 'keyDown', key: 'Shift' },
      { type: 'click', selectors: ['#row'], offsetX: 1, offsetY: 1 },
      { type: 'keyUp', key: 'Shift' },
      { type: 'keyDown', key: 'Escape' },
      { type: 'keyUp', key: 'Escape' },
    ]);
    assert.deepEqual(actions, [
      { type: 'press', key: 'Control+A' },
      { type: 'click', selector: '#row', modifiers: ['Shift'] },
      { type: 'press', key: 'Escape' },
    ]);
  });

  it('starts a business step at each navigate and each navigation in assertedEvents, named from the title or the URL', () => {
    const { script } = importDevtoolsRecording({
      title: 'Steps',
      steps: [
        { type: 'navigate', url: 'https://app.example/login' },
        { type: 'click', selectors: ['#go'], offsetX: 1, offsetY: 1, assertedEvents: [{ type: 'navigation', url: 'https://app.example/home', title: 'Home' }] },
        { type: 'keyDown', key: 'Enter' },
        { type: 'keyUp', key: 'Enter', assertedEvents: [{ type: 'navigation', url: 'https://app.example/search?q=1' }] },
      ],
    });
    assert.deepEqual(
      script.steps.map((step) => step.name),
      ['Open /login', 'Go to Home', 'Go to /search?q=1'],
    );
    assert.deepEqual(script.steps[1]?.actions.at(-1), { type: 'waitForUrl', equals: 'https://app.example/home' });
  });

  it('maps DevTools selector prefixes and shadow-DOM chains to our selectors', () => {
    assert.deepEqual(importSelectors([['aria/Sign in[role="button"]'], ['xpath///*[@id="q"]'], ['pierce/#deep'], ['text/Orders'], ['my-app', '#inner'], ['aria/Email']]).alternatives, [
      'role=button[name="Sign in" s]',
      'xpath=//*[@id="q"]',
      '#deep',
      'text=Orders',
      'my-app >> #inner',
      'role=*[name="Email" s]',
    ]);
  });

  it('keeps every waitForElement meaning exactly: count with its operator, visible, attributes and properties', () => {
    const selectors = [['.result']];
    const actions = actionsOf([
      { type: 'navigate', url: 'http://127.0.0.1:8080/' },
      { type: 'waitForElement', selectors, operator: '>=', count: 3 },
      { type: 'waitForElement', selectors, operator: '==', count: 2, visible: false },
      { type: 'waitForElement', selectors, operator: '<=', count: 5 },
      { type: 'waitForElement', selectors },
      { type: 'waitForElement', selectors, visible: false },
      { type: 'waitForElement', selectors, count: 1, operator: '==', properties: { textContent: '9.99', dataset: { currency: 'EUR' } }, attributes: { 'data-currency': 'EUR' } },
    ]);
    assert.deepEqual(actions.slice(1), [
      { type: 'assertElement', selector: '.result', minCount: 3 },
      { type: 'assertElement', selector: '.result', count: 2, negate: true },
      { type: 'assertElement', selector: '.result', maxCount: 5 },
      { type: 'assertElement', selector: '.result', minCount: 1 },
      { type: 'assertElement', selector: '.result', minCount: 1, negate: true },
      { type: 'assertElement', selector: '.result', count: 1, attributes: { 'data-currency': 'EUR' }, domProperties: { textContent: '9.99', dataset: { currency: 'EUR' } } },
    ]);
  });

  it('fails the import, naming the step path, when an assertion cannot be carried over (never weakens or drops it)', () => {
    const recording = {
      title: 't',
      steps: [
        { type: 'navigate', url: 'http://127.0.0.1:8080/' },
        { type: 'click', selectors: [['#go']], offsetX: 1, offsetY: 1 },
        { type: 'waitForElement', selectors: [['::-p-text(Shipping)']], count: 2, operator: '==' },
      ],
    };
    assert.throws(
      () => importDevtoolsRecording(recording),
      (error: unknown) => {
        assert.ok(error instanceof DevtoolsImportError);
        assert.match(error.message, /cannot be imported without changing what it checks/);
        assert.equal(error.problems[0]?.path, 'steps[2].selectors');
        assert.equal(error.problems[0]?.error, true);
        return true;
      },
    );
  });

  it('imports a change as setValue, whatever element it is (the element decides at replay)', () => {
    const actions = actionsOf([
      { type: 'navigate', url: 'http://127.0.0.1:8080/' },
      { type: 'change', selectors: [['#status']], value: 'open' },
      { type: 'change', selectors: [['aria/Search']], value: 'Glob' },
    ]);
    assert.deepEqual(actions.slice(1), [
      { type: 'setValue', selector: '#status', value: 'open' },
      { type: 'setValue', selector: 'role=*[name="Search" s]', value: 'Glob' },
    ]);
  });

  it('enters frames by their index path and tabs by their URL, and comes back', () => {
    const actions = actionsOf([
      { type: 'click', frame: [1, 0], selectors: ['#a'], offsetX: 1, offsetY: 1 },
      { type: 'click', target: 'https://pop.example/x', selectors: ['#b'], offsetX: 1, offsetY: 1 },
      { type: 'click', selectors: ['#c'], offsetX: 1, offsetY: 1 },
    ]);
    assert.deepEqual(actions, [
      { type: 'switchFrame', selector: 'iframe >> nth=1' },
      { type: 'switchFrame', selector: 'iframe >> nth=0' },
      { type: 'click', selector: '#a' },
      { type: 'switchToMainFrame' },
      { type: 'switchTab', urlContains: 'https://pop.example/x' },
      { type: 'click', selector: '#b' },
      { type: 'switchTab', to: 'main' },
      { type: 'click', selector: '#c' },
    ]);
  });

  it('throws DevtoolsImportError for JSON that is not a recording, or one with nothing replayable', () => {
    assert.throws(() => importDevtoolsRecording({ name: 'a checkpoint script', steps: 'x' }), DevtoolsImportError);
    assert.throws(() => importDevtoolsRecording({ title: 'empty', steps: [{ type: 'customStep', name: 'x', parameters: {} }] }), (error: unknown) => {
      assert.ok(error instanceof DevtoolsImportError);
      assert.equal(error.problems[0]?.path, 'steps[0]');
      return true;
    });
  });
});
