import { readFile } from 'node:fs/promises';
import { basename, isAbsolute, resolve as resolvePath } from 'node:path';
import type { Frame, Locator } from 'playwright-core';
import { assertNever, EngineError } from '../core/errors.ts';
import type { Action, ActionOf } from '../schema/actions.ts';
import { selectorAlternatives, type Selector } from '../schema/selector.ts';
import type { NetworkTracker } from '../collectors/network-tracker.ts';
import { pollUntil } from './poll.ts';
import { describeSelector, resolveSelector, toPlaywrightSelector, type ResolvedLocator } from './selectors.ts';
import type { RunSession } from './session.ts';

export interface ActionEnvironment {
  session: RunSession;
  network: NetworkTracker;
  /** Time this action may take, already capped by step and script budgets. */
  timeoutMs: number;
  /** Directory of the script file; upload paths are relative to it. */
  scriptDir: string;
  setVariable: (name: string, value: string) => void;
}

export interface ActionOutcome {
  matchedSelector?: string;
  matchedSelectorIndex?: number;
}

const quietWindowMs = 500;

function outcomeOf(resolved: ResolvedLocator): ActionOutcome {
  return { matchedSelector: resolved.selector, matchedSelectorIndex: resolved.index };
}

function failAssertion(message: string): never {
  throw new EngineError('ASSERTION_FAILED', message, 'site');
}

function textMatches(value: string, matcher: { equals?: string | undefined; contains?: string | undefined; matches?: string | undefined }): boolean {
  if (matcher.equals !== undefined) return value === matcher.equals;
  if (matcher.contains !== undefined) return value.includes(matcher.contains);
  if (matcher.matches !== undefined) return new RegExp(matcher.matches).test(value);
  return false;
}

function describeMatcher(matcher: { equals?: string | undefined; contains?: string | undefined; matches?: string | undefined }): string {
  if (matcher.equals !== undefined) return `equal ${JSON.stringify(matcher.equals)}`;
  if (matcher.contains !== undefined) return `contain ${JSON.stringify(matcher.contains)}`;
  return `match /${matcher.matches ?? ''}/`;
}

/** Run one element action on the alternative that matched first. */
async function onElement(
  env: ActionEnvironment,
  selector: Selector,
  act: (locator: Locator, timeoutMs: number) => Promise<unknown>,
): Promise<ActionOutcome> {
  if (typeof selector === 'string') {
    // One selector: let Playwright wait for the element itself (no extra round trips), and tell "not there"
    // from "there but not actionable" only when it fails.
    const locator = env.session.frame.locator(toPlaywrightSelector(selector));
    try {
      await act(locator, env.timeoutMs);
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === 'TimeoutError' || /Timeout [\d.]+ms exceeded/.test(error.message));
      if (timedOut && (await locator.count().catch(() => 0)) === 0) {
        throw new EngineError('SELECTOR_NOT_FOUND', `no element matches ${selector} within ${env.timeoutMs} ms`, 'script', { cause: error });
      }
      throw error;
    }
    return { matchedSelector: selector, matchedSelectorIndex: 0 };
  }
  const started = performance.now();
  const resolved = await resolveSelector(env.session.frame, selector, env.timeoutMs);
  const leftMs = Math.max(1, Math.floor(env.timeoutMs - (performance.now() - started)));
  await act(resolved.locator, leftMs);
  return outcomeOf(resolved);
}

async function pageText(frame: Frame): Promise<string> {
  return frame.evaluate(() => document.body?.innerText ?? '');
}

async function uploadFiles(env: ActionEnvironment, action: ActionOf<'upload'>) {
  const files: { name: string; mimeType: string; buffer: Buffer }[] = [];
  for (const [index, file] of action.files.entries()) {
    if (typeof file === 'string') {
      const path = isAbsolute(file) ? file : resolvePath(env.scriptDir, file);
      try {
        files.push({ name: basename(path), mimeType: 'application/octet-stream', buffer: await readFile(path) });
      } catch {
        throw new EngineError('FILE_NOT_FOUND', `files[${index}]: cannot read "${file}" (looked for ${path})`, 'script');
      }
    } else {
      files.push({ name: file.name, mimeType: file.mimeType ?? 'text/plain', buffer: Buffer.from(file.text, 'utf8') });
    }
  }
  return files;
}

function urlPart(href: string, part: ActionOf<'extract'>['urlPart'], param: string | undefined): string {
  const url = new URL(href);
  switch (part) {
    case undefined:
    case 'href':
      return url.href;
    case 'origin':
      return url.origin;
    case 'host':
      return url.host;
    case 'pathname':
      return url.pathname;
    case 'search':
      return url.search;
    case 'hash':
      return url.hash;
    case 'param':
      return url.searchParams.get(param ?? '') ?? '';
    default:
      return assertNever(part, 'url part');
  }
}

async function extractValue(env: ActionEnvironment, action: ActionOf<'extract'>): Promise<{ value: string; outcome: ActionOutcome }> {
  if (action.from === 'url') return { value: urlPart(env.session.frame.url(), action.urlPart, action.param), outcome: {} };
  if (action.selector === undefined) throw new EngineError('SCRIPT_INVALID', 'extract needs a selector', 'script');
  const resolved = await resolveSelector(env.session.frame, action.selector, env.timeoutMs);
  const element = resolved.locator.first();
  let value: string;
  switch (action.from) {
    case 'text':
      value = (await element.innerText({ timeout: env.timeoutMs })).trim();
      break;
    case 'value':
      value = await element.inputValue({ timeout: env.timeoutMs });
      break;
    case 'attribute':
      value = (await element.getAttribute(action.attribute ?? '', { timeout: env.timeoutMs })) ?? '';
      break;
    default:
      return assertNever(action.from, 'extract source');
  }
  return { value, outcome: outcomeOf(resolved) };
}

function applyPattern(value: string, pattern: string | undefined): string {
  if (pattern === undefined) return value;
  const match = new RegExp(pattern).exec(value);
  if (match === null) failAssertion(`value ${JSON.stringify(value.slice(0, 200))} does not match /${pattern}/`);
  return match[1] ?? match[0];
}

function stringify(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  return JSON.stringify(value) ?? '';
}

async function switchFrame(env: ActionEnvironment, action: ActionOf<'switchFrame'>): Promise<ActionOutcome> {
  const page = env.session.page;
  if (action.selector !== undefined) {
    const resolved = await resolveSelector(env.session.frame, action.selector, env.timeoutMs);
    const handle = await resolved.locator.first().elementHandle({ timeout: env.timeoutMs });
    let frame = await handle?.contentFrame();
    if (frame === null || frame === undefined) {
      throw new EngineError('ELEMENT_NOT_ACTIONABLE', `element ${resolved.selector} is not an <iframe> with a document`, 'script');
    }
    // Wait for the frame's document to exist, so the next action does not race its load.
    await frame.waitForLoadState('domcontentloaded', { timeout: env.timeoutMs }).catch(() => undefined);
    frame = (await handle?.contentFrame()) ?? frame;
    env.session.useFrame(frame);
    return outcomeOf(resolved);
  }
  let found: Frame | undefined;
  const ok = await pollUntil(() => {
    found = page.frames().find((frame) =>
      action.name !== undefined ? frame.name() === action.name : frame !== page.mainFrame() && frame.url().includes(action.urlContains ?? ''),
    );
    return found !== undefined;
  }, env.timeoutMs, 50);
  const what = action.name !== undefined ? `named "${action.name}"` : `whose URL contains "${action.urlContains ?? ''}"`;
  if (!ok || found === undefined) throw new EngineError('FRAME_NOT_FOUND', `no frame ${what} within ${env.timeoutMs} ms`, 'site');
  env.session.useFrame(found);
  return {};
}

async function switchTab(env: ActionEnvironment, action: ActionOf<'switchTab'>): Promise<ActionOutcome> {
  const session = env.session;
  let target;
  if (action.urlContains !== undefined) {
    const needle = action.urlContains;
    target = await session.waitForPage((page) => page.url().includes(needle), env.timeoutMs, `tab whose URL contains "${needle}"`);
  } else if (action.to === 'main') {
    target = session.mainPage;
  } else {
    const current = session.page;
    target = await session.waitForPage((page) => page !== current && page !== session.mainPage, env.timeoutMs, 'new tab or popup opened');
  }
  await target.waitForLoadState('domcontentloaded', { timeout: env.timeoutMs }).catch(() => undefined);
  session.usePage(target);
  await target.bringToFront().catch(() => undefined);
  return {};
}

/** Choose options of a <select> by value first, then by label, so scripts may use either. */
async function chooseOptions(locator: Locator, wanted: readonly string[], timeoutMs: number): Promise<void> {
  const values = await locator.evaluate((element, options) => {
    if (!(element instanceof HTMLSelectElement)) return null;
    return options.map((option) => {
      const byValue = [...element.options].find((o) => o.value === option);
      const byLabel = [...element.options].find((o) => o.label === option || o.text.trim() === option);
      return (byValue ?? byLabel)?.value ?? null;
    });
  }, wanted, { timeout: timeoutMs });
  if (values === null) throw new EngineError('ELEMENT_NOT_ACTIONABLE', 'element is not a <select>', 'script');
  const missing = wanted.filter((_, i) => values[i] === null);
  if (missing.length > 0) throw new EngineError('ASSERTION_FAILED', `the list has no option ${missing.map((m) => JSON.stringify(m)).join(', ')}`, 'site');
  await locator.selectOption(values.filter((v): v is string => v !== null), { timeout: timeoutMs });
}

/**
 * Longest text typed key by key by `setValue`; a longer value is inserted at once except its last
 * `typedTailChars` characters, which are typed (each key costs a few ms, and the page still sees key events).
 */
const maxTypedChars = 256;
const typedTailChars = 32;

/** Focus an element and put the caret after its text, so typing appends as after a person clicks at the end. */
async function focusAtEnd(locator: Locator, timeoutMs: number): Promise<void> {
  await locator.focus({ timeout: timeoutMs });
  const needsEndKey = await locator.evaluate((element) => {
    if (element instanceof HTMLInputElement || element instanceof HTMLTextAreaElement) {
      const end = element.value.length;
      try {
        element.setSelectionRange(end, end);
        return false;
      } catch {
        // email / number inputs have no selection API; the End key moves the caret instead.
        return end > 0;
      }
    }
    if (element instanceof HTMLElement && element.isContentEditable) {
      const range = document.createRange();
      range.selectNodeContents(element);
      range.collapse(false);
      window.getSelection()?.removeAllRanges();
      window.getSelection()?.addRange(range);
    }
    return false;
  }, undefined, { timeout: timeoutMs });
  if (needsEndKey) await locator.press('End', { timeout: timeoutMs });
}

/** The `type` action: real key events, into the focused element or at the end of the given one. */
async function typeText(env: ActionEnvironment, action: ActionOf<'type'>): Promise<ActionOutcome> {
  const delay = action.delayMs ?? 0;
  if (action.selector === undefined) {
    await env.session.page.keyboard.type(action.text, { delay });
    return {};
  }
  return onElement(env, action.selector, async (l, t) => {
    await focusAtEnd(l, t);
    await l.page().keyboard.type(action.text, { delay });
  });
}

type ControlKind =
  | { kind: 'select' | 'checkbox' | 'radio' | 'other' | 'file' }
  | { kind: 'text'; value: string }
  | { kind: 'none'; tag: string };

/**
 * The `setValue` action (DevTools `change`): what the element is decides how a person would set it, and that
 * is only known in the page at replay.
 */
async function setControlValue(locator: Locator, value: string, timeoutMs: number): Promise<void> {
  const control = await locator.evaluate((element): ControlKind => {
    if (element instanceof HTMLSelectElement) return { kind: 'select' };
    if (element instanceof HTMLTextAreaElement) return { kind: 'text', value: element.value };
    if (element instanceof HTMLInputElement) {
      const type = element.type.toLowerCase();
      if (type === 'checkbox' || type === 'radio' || type === 'file') return { kind: type };
      if (['text', 'search', 'email', 'url', 'tel', 'password', 'number'].includes(type)) return { kind: 'text', value: element.value };
      return { kind: 'other' };
    }
    if (element instanceof HTMLElement && element.isContentEditable) return { kind: 'text', value: element.innerText };
    return { kind: 'none', tag: element.localName };
  }, undefined, { timeout: timeoutMs });
  switch (control.kind) {
    case 'select':
      return chooseOptions(locator, [value], timeoutMs);
    case 'checkbox':
    case 'radio': {
      const checked = !['false', 'off', ''].includes(value.trim().toLowerCase());
      if (!checked && control.kind === 'radio') throw new EngineError('ELEMENT_NOT_ACTIONABLE', 'a radio button cannot be unchecked: set another radio button of its group', 'script');
      return locator.setChecked(checked, { timeout: timeoutMs });
    }
    case 'file':
      throw new EngineError('ELEMENT_NOT_ACTIONABLE', 'element is a file input: set its files with `upload`', 'script');
    case 'none':
      throw new EngineError('ELEMENT_NOT_ACTIONABLE', `element is a <${control.tag}>, which has no value to set (expected an input, textarea, select or contenteditable element)`, 'script');
    case 'other':
      // date, time, range, color…: no keys type these; Playwright sets the value and fires input and change.
      return locator.fill(value, { timeout: timeoutMs });
    case 'text':
      return typeControlValue(locator, value, control.value, timeoutMs);
    default:
      return assertNever(control, 'control kind');
  }
}

async function typeControlValue(locator: Locator, value: string, current: string, timeoutMs: number): Promise<void> {
  if (value === '') return locator.clear({ timeout: timeoutMs });
  let text = value;
  if (current !== '' && value.length > current.length && value.startsWith(current)) {
    await focusAtEnd(locator, timeoutMs);
    text = value.slice(current.length);
  } else if (current !== '') {
    // Select what is there: the first key replaces it, as when a person selects all and types.
    await locator.selectText({ timeout: timeoutMs });
  } else {
    await locator.focus({ timeout: timeoutMs });
  }
  const keyboard = locator.page().keyboard;
  if (text.length > maxTypedChars) {
    await keyboard.insertText(text.slice(0, -typedTailChars));
    text = text.slice(-typedTailChars);
  }
  await keyboard.type(text);
}

type ElementCondition = Pick<ActionOf<'assertElement'>, 'count' | 'minCount' | 'maxCount' | 'attributes' | 'domProperties' | 'negate'>;

/** Whether an assertElement checks a condition on the matching elements (rather than visibility). */
function isElementCondition(action: ActionOf<'assertElement'>): boolean {
  return [action.count, action.minCount, action.maxCount, action.attributes, action.domProperties, action.negate].some((v) => v !== undefined);
}

function describeCondition(condition: ElementCondition, selector: Selector): string {
  const { count, minCount, maxCount } = condition;
  const number =
    count !== undefined ? `${count}`
    : minCount !== undefined && maxCount !== undefined ? `between ${minCount} and ${maxCount}`
    : maxCount !== undefined ? `at most ${maxCount}`
    : `at least ${minCount ?? 1}`;
  const withAttributes = condition.attributes === undefined ? '' : ` with attributes ${JSON.stringify(condition.attributes)}`;
  const withProperties = condition.domProperties === undefined ? '' : ` with DOM properties ${JSON.stringify(condition.domProperties)}`;
  return `${number} elements matching ${describeSelector(selector)}${withAttributes}${withProperties}`;
}

/**
 * assertElement with a count, attributes, properties or negate: DevTools `waitForElement` semantics. The
 * elements are those of the first alternative matching any (hidden ones included); the condition is the
 * count check and every element having the attributes and properties; `negate` wants it false.
 */
async function assertElementCondition(env: ActionEnvironment, action: ActionOf<'assertElement'>): Promise<ActionOutcome> {
  const alternatives = selectorAlternatives(action.selector);
  const { count, minCount, maxCount, attributes, domProperties: properties } = action;
  const negate = action.negate === true;
  let seen = 0;
  let mismatched = 0;
  let outcome: ActionOutcome = {};
  let invalid: EngineError | undefined;
  const ok = await pollUntil(async () => {
    seen = 0;
    mismatched = 0;
    let locator: Locator | undefined;
    for (const [index, selector] of alternatives.entries()) {
      let resolved;
      try {
        resolved = await resolveSelector(env.session.frame, selector, 0);
      } catch (error) {
        if (error instanceof EngineError && error.code === 'SELECTOR_INVALID') {
          invalid = error;
          return true;
        }
        continue;
      }
      locator = resolved.locator;
      seen = await locator.count();
      outcome = { matchedSelector: selector, matchedSelectorIndex: index };
      break;
    }
    const countHolds = count !== undefined ? seen === count : seen >= (minCount ?? (maxCount === undefined ? 1 : 0)) && (maxCount === undefined || seen <= maxCount);
    let holds = countHolds;
    if (holds && locator !== undefined && (attributes !== undefined || properties !== undefined)) {
      // Plain types: the JSON type of `properties` is too deep for Playwright's argument typing.
      const expectedArg: { attributes: Record<string, string> | undefined; properties: unknown } = { attributes, properties };
      mismatched = await locator.evaluateAll(
        (elements, expected) => {
          const deepMatch = (want: unknown, have: unknown): boolean => {
            if (want === have) return true;
            if (typeof want !== 'object' || want === null || typeof have !== 'object' || have === null) return false;
            return Object.entries(want).every(([key, value]) => deepMatch(value, (have as Record<string, unknown>)[key]));
          };
          return elements.filter(
            (element) =>
              !Object.entries(expected.attributes ?? {}).every(([name, value]) => element.getAttribute(name) === value) ||
              (expected.properties !== undefined && !deepMatch(expected.properties, element)),
          ).length;
        },
        expectedArg,
      );
      holds = mismatched === 0;
    }
    return holds !== negate;
  }, env.timeoutMs);
  if (invalid !== undefined) throw invalid;
  if (!ok) {
    const condition = describeCondition(action, action.selector);
    const found = `found ${seen}${mismatched > 0 ? `, ${mismatched} of them not matching` : ''}`;
    failAssertion(negate ? `expected NOT ${condition}, but that still held after ${env.timeoutMs} ms (${found})` : `expected ${condition}, ${found} (after ${env.timeoutMs} ms)`);
  }
  return outcome;
}

/**
 * Execute one action (already rendered: no placeholders left). Throws EngineError with a message that
 * does not yet name the step or action; the runner adds that.
 */
export async function executeAction(action: Action, env: ActionEnvironment): Promise<ActionOutcome> {
  const { session } = env;
  const timeout = env.timeoutMs;
  switch (action.type) {
    case 'navigate': {
      const base = session.page.url();
      const url = /^[a-z][a-z0-9+.-]*:/i.test(action.url) || base === 'about:blank' ? action.url : new URL(action.url, base).href;
      try {
        // A page answering 400 or more fails the step through the runner's HttpErrorWatcher, which applies to
        // every action and honours settings.allowHttpStatuses.
        await session.page.goto(url, { timeout, waitUntil: action.waitUntil ?? 'load' });
      } catch (error) {
        if (error instanceof EngineError) throw error;
        const message = error instanceof Error ? error.message : String(error);
        if (/Timeout [\d.]+ms exceeded/.test(message)) throw error;
        if (/Download is starting/.test(message)) {
          throw new EngineError('NAVIGATION_FAILED', `${url} answered with a file download (Content-Disposition: attachment), not a page`, 'site', { cause: error });
        }
        const reason = /net::[A-Z_]+/.exec(message)?.[0] ?? (message.split('\n')[0] ?? message).replace(/^page\.goto: /, '');
        if (/Cannot navigate to invalid URL|invalid URL/i.test(message)) throw new EngineError('SCRIPT_INVALID', `cannot open ${url}: ${reason}`, 'script', { cause: error });
        throw new EngineError('NAVIGATION_FAILED', `could not open ${url}: ${reason}`, 'site', { cause: error });
      }
      return {};
    }
    case 'click':
      return onElement(env, action.selector, (l, t) =>
        l.click({ timeout: t, ...(action.button ? { button: action.button } : {}), ...(action.modifiers ? { modifiers: action.modifiers } : {}) }),
      );
    case 'doubleClick':
      return onElement(env, action.selector, (l, t) => l.dblclick({ timeout: t }));
    case 'fill':
      return onElement(env, action.selector, (l, t) => l.fill(action.value, { timeout: t }));
    case 'type':
      return typeText(env, action);
    case 'clear':
      return onElement(env, action.selector, (l, t) => l.clear({ timeout: t }));
    case 'setValue':
      return onElement(env, action.selector, (l, t) => setControlValue(l, action.value, t));
    case 'press':
      if (action.selector === undefined) {
        await session.page.keyboard.press(action.key);
        return {};
      }
      return onElement(env, action.selector, (l, t) => l.press(action.key, { timeout: t }));
    case 'select':
      return onElement(env, action.selector, (l, t) => chooseOptions(l, typeof action.option === 'string' ? [action.option] : action.option, t));
    case 'check':
      return onElement(env, action.selector, (l, t) => l.check({ timeout: t }));
    case 'uncheck':
      return onElement(env, action.selector, (l, t) => l.uncheck({ timeout: t }));
    case 'hover':
      return onElement(env, action.selector, (l, t) => l.hover({ timeout: t }));
    case 'scroll':
      if (action.selector !== undefined) return onElement(env, action.selector, (l, t) => l.scrollIntoViewIfNeeded({ timeout: t }));
      await session.frame.evaluate(([x, y]) => window.scrollBy(x, y), [action.x ?? 0, action.y ?? 0] as const);
      return {};
    case 'upload': {
      const files = await uploadFiles(env, action);
      return onElement(env, action.selector, (l, t) => l.setInputFiles(files, { timeout: t }));
    }
    case 'waitForElement': {
      const state = action.state ?? 'visible';
      if (state === 'hidden' || state === 'detached') {
        const frame = session.frame;
        const locators = (typeof action.selector === 'string' ? [action.selector] : action.selector).map((s) => s);
        const ok = await pollUntil(async () => {
          for (const selector of locators) {
            const resolved = await resolveSelector(frame, selector, 0).catch(() => undefined);
            if (resolved === undefined) continue;
            if (state === 'detached' || (await resolved.locator.first().isVisible())) return false;
          }
          return true;
        }, timeout);
        if (!ok) throw new EngineError('ACTION_TIMEOUT', `${describeSelector(action.selector)} is still ${state === 'hidden' ? 'visible' : 'attached'} after ${timeout} ms`, 'site');
        return {};
      }
      return onElement(env, action.selector, (l, t) => l.first().waitFor({ state, timeout: t }));
    }
    case 'waitForText': {
      const frame = session.frame;
      if (action.selector !== undefined) {
        return onElement(env, action.selector, async (l, t) => {
          if (!(await pollUntil(async () => (await l.first().innerText()).includes(action.text), t))) {
            throw new EngineError('ACTION_TIMEOUT', `text ${JSON.stringify(action.text)} did not appear in ${describeSelector(action.selector ?? '')} within ${timeout} ms`, 'site');
          }
        });
      }
      if (!(await pollUntil(async () => (await pageText(frame)).includes(action.text), timeout))) {
        throw new EngineError('ACTION_TIMEOUT', `text ${JSON.stringify(action.text)} did not appear within ${timeout} ms`, 'site');
      }
      return {};
    }
    case 'waitForUrl':
      if (!(await pollUntil(() => textMatches(session.page.url(), action), timeout, 50))) {
        throw new EngineError('ACTION_TIMEOUT', `URL did not ${describeMatcher(action)} within ${timeout} ms (it is ${session.page.url()})`, 'site');
      }
      return {};
    case 'waitForTime': {
      // setTimeout may fire a little early against performance.now(); wait until the full time has passed.
      const endMs = performance.now() + action.durationMs;
      for (let leftMs = action.durationMs; leftMs > 0; leftMs = endMs - performance.now()) {
        await new Promise((resolve) => setTimeout(resolve, Math.ceil(leftMs)));
      }
      return {};
    }
    case 'waitForNetworkIdle':
      if (!(await pollUntil(() => env.network.quietForMs() >= quietWindowMs, timeout, 50))) {
        throw new EngineError('ACTION_TIMEOUT', `the network did not go idle within ${timeout} ms (${env.network.inFlight} ${env.network.inFlight === 1 ? 'request' : 'requests'} still open)`, 'site');
      }
      return {};
    case 'assertText': {
      const absent = action.absent === true;
      const read = action.selector === undefined ? () => pageText(session.frame) : undefined;
      let outcome: ActionOutcome = {};
      let reader: () => Promise<string> = read ?? (() => Promise.resolve(''));
      if (read === undefined && action.selector !== undefined) {
        const resolved = await resolveSelector(session.frame, action.selector, timeout);
        outcome = outcomeOf(resolved);
        reader = () => resolved.locator.first().innerText();
      }
      const where = action.selector === undefined ? 'the page' : describeSelector(action.selector);
      const ok = await pollUntil(async () => (await reader()).includes(action.text) !== absent, timeout);
      if (!ok) failAssertion(`expected ${where} ${absent ? 'not to contain' : 'to contain'} text ${JSON.stringify(action.text)} within ${timeout} ms`);
      return outcome;
    }
    case 'assertElement': {
      if (isElementCondition(action)) return assertElementCondition(env, action);
      const state = action.state ?? 'visible';
      if (state === 'hidden') {
        return executeAction({ type: 'waitForElement', selector: action.selector, state: 'hidden' }, env).catch((error: unknown) => {
          if (error instanceof EngineError && error.code === 'ACTION_TIMEOUT') failAssertion(`expected ${describeSelector(action.selector)} to be hidden within ${timeout} ms`);
          throw error;
        });
      }
      try {
        return await onElement(env, action.selector, (l, t) => l.first().waitFor({ state: 'visible', timeout: t }));
      } catch (error) {
        if (error instanceof EngineError && error.code === 'SELECTOR_NOT_FOUND') failAssertion(`expected ${describeSelector(action.selector)} to be visible, but ${error.message}`);
        if (error instanceof Error && /Timeout [\d.]+ms exceeded/.test(error.message)) failAssertion(`expected ${describeSelector(action.selector)} to be visible within ${timeout} ms, but it stayed hidden`);
        throw error;
      }
    }
    case 'assertUrl':
      if (!(await pollUntil(() => textMatches(session.page.url(), action), timeout, 50))) {
        failAssertion(`expected the URL to ${describeMatcher(action)}, but it is ${session.page.url()}`);
      }
      return {};
    case 'assertTitle': {
      let title = '';
      const ok = await pollUntil(async () => textMatches((title = await session.page.title()), action), timeout, 50);
      if (!ok) failAssertion(`expected the title to ${describeMatcher(action)}, but it is ${JSON.stringify(title)}`);
      return {};
    }
    case 'extract': {
      const { value, outcome } = await extractValue(env, action);
      env.setVariable(action.variable, applyPattern(value, action.pattern));
      return outcome;
    }
    case 'evaluate': {
      let value: unknown;
      try {
        value = await session.frame.evaluate(action.expression);
      } catch (error) {
        const message = error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
        throw new EngineError('EVALUATION_FAILED', `the expression threw: ${message.replace(/^(frame|page)\.evaluate: /, '')}`, 'site', { cause: error });
      }
      if (action.variable !== undefined) env.setVariable(action.variable, stringify(value));
      return {};
    }
    case 'switchFrame':
      return switchFrame(env, action);
    case 'switchToMainFrame':
      session.useFrame(session.page.mainFrame());
      return {};
    case 'switchTab':
      return switchTab(env, action);
    case 'closeTab': {
      const page = session.page;
      if (page === session.mainPage) throw new EngineError('SCRIPT_INVALID', 'closeTab cannot close the main tab (switch to a popup or new tab first)', 'script');
      await page.close();
      session.usePage(session.mainPage);
      return {};
    }
    case 'setViewport':
      await session.page.setViewportSize({ width: action.width, height: action.height });
      return {};
    default:
      return assertNever(action, 'action');
  }
}
