/**
 * Shared script builders for the unit and robustness tests: one minimal valid example of every action
 * type, a rich script that uses them all, and helpers to wrap a single action into a whole script.
 */
import assert from 'node:assert/strict';
import type { ParseScriptOutcome } from '../../../engine/core/parse-script.ts';
import type { ScriptProblem } from '../../../engine/core/script-problems.ts';
import type { ActionType } from '../../../engine/schema/actions.ts';

/** The smallest valid action of each type. Typed so that a new action type fails to compile until added. */
export const minimalActions = {
  navigate: { type: 'navigate', url: 'https://intranet.example/' },
  click: { type: 'click', selector: '#submit' },
  doubleClick: { type: 'doubleClick', selector: '.order-row' },
  fill: { type: 'fill', selector: '#search', value: 'Globex' },
  type: { type: 'type', text: 'Globex' },
  clear: { type: 'clear', selector: '#search' },
  setValue: { type: 'setValue', selector: '#search', value: 'Globex' },
  press: { type: 'press', key: 'Enter' },
  select: { type: 'select', selector: '#country', option: 'NL' },
  check: { type: 'check', selector: '#agree' },
  uncheck: { type: 'uncheck', selector: '#newsletter' },
  hover: { type: 'hover', selector: 'nav >> text=Reports' },
  scroll: { type: 'scroll', y: 400 },
  upload: { type: 'upload', selector: 'input[type=file]', files: ['fixtures/report.csv'] },
  waitForElement: { type: 'waitForElement', selector: '#results' },
  waitForText: { type: 'waitForText', text: 'Saved' },
  waitForUrl: { type: 'waitForUrl', contains: '/done' },
  waitForTime: { type: 'waitForTime', durationMs: 250 },
  waitForNetworkIdle: { type: 'waitForNetworkIdle' },
  assertText: { type: 'assertText', text: 'Welcome back' },
  assertElement: { type: 'assertElement', selector: '#welcome' },
  assertUrl: { type: 'assertUrl', equals: 'https://intranet.example/home' },
  assertTitle: { type: 'assertTitle', matches: '^Orders' },
  extract: { type: 'extract', variable: 'pageUrl', from: 'url' },
  evaluate: { type: 'evaluate', expression: 'document.title' },
  switchFrame: { type: 'switchFrame', name: 'payment' },
  switchToMainFrame: { type: 'switchToMainFrame' },
  switchTab: { type: 'switchTab' },
  closeTab: { type: 'closeTab' },
  setViewport: { type: 'setViewport', width: 390, height: 844 },
} as const satisfies { [T in ActionType]: { type: T } & Record<string, unknown> };

/** A script with one step holding the given actions. */
export function scriptWith(...actions: unknown[]): Record<string, unknown> {
  return { name: 'Unit test transaction', steps: [{ name: 'Only step', actions }] };
}

/** A rich, valid script that uses every action type, most optional fields and every settings field. */
export function richScript(): Record<string, unknown> {
  return {
    $schema: '../transaction.schema.json',
    name: 'Every action type',
    description: 'Exercises every action type and most optional fields.',
    variables: { baseUrl: 'https://intranet.example', customer: 'Globex' },
    timeoutMs: 600_000,
    settings: {
      viewport: { width: 1280, height: 800 },
      userAgent: 'checkpoint-test/1.0',
      locale: 'en-GB',
      timezoneId: 'Europe/Amsterdam',
      extraHttpHeaders: { 'X-Checkpoint': 'yes', Authorization: 'Bearer {{secret.API_TOKEN}}' },
      httpCredentials: { username: 'monitor', password: '{{secret.BASIC_PASSWORD}}' },
      ignoreHttpsErrors: true,
      blockedUrls: ['**/analytics/**', '*.png'],
      actionTimeoutMs: 15_000,
      navigationTimeoutMs: 45_000,
      screenshots: 'all',
    },
    steps: [
      {
        name: 'Open and log in',
        timeoutMs: 90_000,
        screenshot: 'failure',
        actions: [
          { type: 'navigate', url: '{{baseUrl}}/login', waitUntil: 'domcontentloaded', description: 'Open the login page', timeoutMs: 20_000 },
          { type: 'setViewport', width: 1024, height: 768 },
          { type: 'fill', selector: ['testid=username', '#username'], value: 'monitor' },
          { type: 'fill', selector: '#password', value: '{{secret.DEMO_PASSWORD}}' },
          { type: 'clear', selector: '#search' },
          { type: 'type', selector: '#search', text: 'Glob', delayMs: 10 },
          { type: 'setValue', selector: 'role=*[name="Status" s]', value: 'open' },
          { type: 'check', selector: '#remember' },
          { type: 'uncheck', selector: '#newsletter' },
          { type: 'press', key: 'Enter', selector: '#password' },
          { type: 'waitForUrl', matches: '/dashboard$' },
          { type: 'assertTitle', contains: 'Dashboard' },
        ],
      },
      {
        name: 'Search orders',
        continueOnFailure: true,
        actions: [
          { type: 'click', selector: 'role=link[name="Orders"]', button: 'left', modifiers: ['Shift'] },
          { type: 'hover', selector: '.menu' },
          { type: 'select', selector: '#status', option: ['open', 'paid'] },
          { type: 'doubleClick', selector: '.order-row >> nth=0' },
          { type: 'scroll', selector: '#footer', x: 0, y: 200 },
          { type: 'waitForElement', selector: '#results', state: 'visible' },
          { type: 'waitForText', text: '{{customer}}', selector: '#results' },
          { type: 'waitForNetworkIdle', timeoutMs: 5000 },
          { type: 'waitForTime', durationMs: 100, description: 'let the animation finish' },
          { type: 'assertText', text: 'No orders', absent: true },
          { type: 'assertElement', selector: '.order-row', count: 3 },
          { type: 'assertElement', selector: '.order-row', minCount: 1, attributes: { 'data-state': 'open' }, domProperties: { dataset: { kind: 'order' } }, negate: false },
          { type: 'extract', variable: 'orderId', from: 'text', selector: '.order-id', pattern: '#(\\d+)' },
          { type: 'extract', variable: 'orderHref', from: 'attribute', selector: 'a.order', attribute: 'href' },
          { type: 'extract', variable: 'page', from: 'url', urlPart: 'param', param: 'page' },
          { type: 'evaluate', expression: 'document.querySelectorAll(".order-row").length', variable: 'rows' },
          { type: 'assertUrl', contains: 'q={{customer}}' },
        ],
      },
      {
        name: 'Upload, frames and tabs',
        actions: [
          { type: 'upload', selector: 'input[type=file]', files: ['fixtures/a.csv', { name: 'b.txt', mimeType: 'text/plain', text: 'order {{orderId}}' }] },
          { type: 'switchFrame', selector: 'iframe#payment' },
          { type: 'click', selector: 'text=Pay' },
          { type: 'switchToMainFrame' },
          { type: 'switchFrame', urlContains: '/widget' },
          { type: 'switchToMainFrame' },
          { type: 'click', selector: 'text=Open report' },
          { type: 'switchTab', to: 'latest' },
          { type: 'assertText', text: 'Report {{orderId}}' },
          { type: 'closeTab' },
          { type: 'switchTab', urlContains: '/dashboard' },
        ],
      },
    ],
  };
}

/** Assert a parse failed and return its problems. */
export function problemsOf(outcome: ParseScriptOutcome): ScriptProblem[] {
  if (outcome.ok) assert.fail(`expected the script to be rejected, but it was accepted: ${JSON.stringify(outcome.script).slice(0, 300)}`);
  return outcome.problems;
}

/**
 * Assert the outcome is a rejection with exactly one problem, at `path`, whose message matches `message`.
 * Extra problems are a failure too: they would be noise in front of a user.
 */
export function assertSingleProblem(outcome: ParseScriptOutcome, path: string, message: RegExp): void {
  const problems = problemsOf(outcome);
  assert.equal(problems.length, 1, `expected one problem, got ${JSON.stringify(problems)}`);
  assert.equal(problems[0]?.path, path, `wrong path in ${JSON.stringify(problems)}`);
  assert.match(problems[0]?.message ?? '', message);
}
