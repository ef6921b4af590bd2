import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Script } from '../../../../engine/schema/script.ts';
import { devtoolsRecordingSchema } from '../../../../recorder/interop/devtools-schema.ts';
import { exportDevtoolsRecording } from '../../../../recorder/interop/export-devtools.ts';
import { importDevtoolsRecording } from '../../../../recorder/interop/import-devtools.ts';
import { assertGolden, exampleNames, readExample, readRecording, recordingNames } from './support.ts';

describe('exportDevtoolsRecording', () => {
  for (const name of exampleNames) {
    it(`exports the ${name} example as its golden DevTools recording, valid for @puppeteer/replay`, () => {
      const result = exportDevtoolsRecording(readExample(name));
      assertGolden(`${name}.devtools.json`, `${JSON.stringify(result, null, 2)}\n`);
      const parsed = devtoolsRecordingSchema.safeParse(result.recording);
      assert.ok(parsed.success, JSON.stringify(parsed.error?.issues));
    });

    it(`gives the ${name} example back unchanged when the export is imported again`, () => {
      const script = readExample(name);
      const back = importDevtoolsRecording(JSON.parse(JSON.stringify(exportDevtoolsRecording(script).recording)));
      const { $schema: _schema, ...withoutSchema } = script;
      assert.deepEqual(back.script, withoutSchema);
      assert.deepEqual(back.problems, []);
    });
  }

  for (const name of recordingNames) {
    it(`round-trips the imported ${name} recording: import(export(script)) equals script`, () => {
      const { script } = importDevtoolsRecording(readRecording(name), { baseUrl: 'http://127.0.0.1:8080', passwordSecret: 'DEMO_PASSWORD' });
      const back = importDevtoolsRecording(JSON.parse(JSON.stringify(exportDevtoolsRecording(script).recording)));
      assert.deepEqual(back.script, script);
    });
  }

  it('round-trips what DevTools itself expresses even without step markers or checkpoint blocks', () => {
    const script: Script = {
      name: 'Plain',
      steps: [
        {
          name: 'Open /',
          actions: [
            { type: 'navigate', url: 'https://app.example/' },
            { type: 'click', selector: ['role=button[name="Go" s]', '#go'], button: 'right', modifiers: ['Shift'] },
            { type: 'doubleClick', selector: 'my-app >> #cell', timeoutMs: 2000 },
            { type: 'fill', selector: 'xpath=//input', value: 'hello' },
            { type: 'press', key: 'Control+A' },
            { type: 'hover', selector: 'text=Menu' },
            { type: 'scroll', x: 0, y: 300 },
            { type: 'scroll', x: 0, y: -100 },
            { type: 'scroll', selector: '#list' },
            { type: 'waitForElement', selector: '.row', state: 'attached' },
            { type: 'waitForElement', selector: '.spinner', state: 'detached' },
            { type: 'assertElement', selector: '.row', count: 3 },
            { type: 'setViewport', width: 800, height: 600 },
          ],
        },
      ],
    };
    const { recording, problems } = exportDevtoolsRecording(script, { stepMarkers: false });
    assert.deepEqual(problems, []);
    assert.ok(JSON.stringify(recording).includes('"selectors":[["my-app","#cell"]]'));
    assert.deepEqual(importDevtoolsRecording(recording).script, script);
  });

  it('exports typing, setValue, clear, role=* and element conditions as DevTools steps that import back exactly', () => {
    const script: Script = {
      name: 'Keys and conditions',
      steps: [
        {
          name: 'Open /',
          actions: [
            { type: 'navigate', url: 'https://app.example/' },
            { type: 'setValue', selector: ['#q', 'role=*[name="Search" s]'], value: 'glob' },
            { type: 'type', text: 'al' },
            { type: 'press', key: 'Enter' },
            { type: 'clear', selector: '#q' },
            { type: 'assertElement', selector: '.row', minCount: 2 },
            { type: 'assertElement', selector: '.row', maxCount: 5, attributes: { 'data-state': 'open' } },
            { type: 'assertElement', selector: '.row', count: 1, domProperties: { value: 'x', dataset: { a: 'b' } }, negate: true },
          ],
        },
      ],
    };
    const { recording, problems } = exportDevtoolsRecording(script, { stepMarkers: false });
    assert.deepEqual(problems, []);
    const steps = recording.steps as Record<string, unknown>[];
    assert.deepEqual(steps[1], { type: 'change', selectors: ['#q', 'aria/Search'], value: 'glob' });
    assert.deepEqual(
      steps.slice(2, 6).map((step) => [step.type, step['key']]),
      [['keyDown', 'a'], ['keyUp', 'a'], ['keyDown', 'l'], ['keyUp', 'l']],
    );
    assert.deepEqual(steps.slice(-3).map((step) => [step['operator'], step['count'], step['visible']]), [['>=', 2, undefined], ['<=', 5, undefined], ['==', 1, false]]);
    assert.deepEqual(importDevtoolsRecording(recording).script, script);
  });

  it('reports what DevTools cannot replay the same way, by path', () => {
    const script: Script = {
      name: 'Lossy',
      settings: { userAgent: 'bot' },
      steps: [
        {
          name: 'S',
          actions: [
            { type: 'navigate', url: '{{baseUrl}}/x', waitUntil: 'networkidle' },
            { type: 'fill', selector: '#p', value: '{{secret.PW}}' },
            { type: 'extract', variable: 'id', from: 'url' },
            { type: 'upload', selector: '#f', files: ['a.txt'] },
            { type: 'check', selector: '#c' },
            { type: 'switchFrame', selector: '#frame' },
            { type: 'click', selector: 'role=button' },
          ],
        },
      ],
    };
    const paths = exportDevtoolsRecording(script).problems.map((p) => p.path);
    for (const path of ['settings.userAgent', 'steps[0].actions[0].url', 'steps[0].actions[0].waitUntil', 'steps[0].actions[1].value', 'steps[0].actions[2]', 'steps[0].actions[3]', 'steps[0].actions[4]', 'steps[0].actions[5]', 'steps[0].actions[6].selector']) {
      assert.ok(paths.includes(path), `expected a problem at ${path}; got ${paths.join(', ')}`);
    }
  });
});
