import type { Locator } from 'playwright-core';
import type { Deadline } from '../../core/deadline.ts';
import { assertNever, EngineError } from '../../core/errors.ts';
import { onElement } from './element.ts';
import { callTimeoutMs, type ActionHandlers } from './types.ts';

/**
 * Longest text typed key by key by `setValue`; a longer value is inserted at once except its last
 * `typedTailChars` characters, which are typed (each key costs a few ms, and the page still sees key events).
 */
const maxTypedChars = 256;
const typedTailChars = 32;

/** Text typed key by key and values set as a person would set them. */
export const typingHandlers: Pick<ActionHandlers, 'type' | 'setValue' | 'select'> = {
  /** Real key events, into the focused element or at the end of the given one. */
  async type(action, env) {
    const delay = action.delayMs ?? 0;
    if (action.selector === undefined) {
      await env.session.page.keyboard.type(action.text, { delay });
      return {};
    }
    return onElement(env, action.selector, async (l) => {
      await focusAtEnd(l, env.deadline);
      await l.page().keyboard.type(action.text, { delay });
    });
  },
  setValue: (action, env) => onElement(env, action.selector, (l) => setControlValue(l, action.value, env.deadline)),
  select: (action, env) => onElement(env, action.selector, (l) => chooseOptions(l, typeof action.option === 'string' ? [action.option] : action.option, env.deadline)),
};

/** Choose options of a <select> by value first, then by label, so scripts may use either. */
async function chooseOptions(locator: Locator, wanted: readonly string[], deadline: Deadline): Promise<void> {
  const values = await locator.evaluate((element, options) => {
    if (!(element instanceof HTMLSelectElement)) return null;
    return options.map((option) => {
      const byValue = [...element.options].find((o) => o.value === option);
      const byLabel = [...element.options].find((o) => o.label === option || o.text.trim() === option);
      return (byValue ?? byLabel)?.value ?? null;
    });
  }, wanted, { timeout: callTimeoutMs(deadline) });
  if (values === null) throw new EngineError('ELEMENT_NOT_ACTIONABLE', 'element is not a <select>', 'script');
  const missing = wanted.filter((_, i) => values[i] === null);
  if (missing.length > 0) throw new EngineError('ASSERTION_FAILED', `the list has no option ${missing.map((m) => JSON.stringify(m)).join(', ')}`, 'site');
  await locator.selectOption(values.filter((v): v is string => v !== null), { timeout: callTimeoutMs(deadline) });
}

/** Focus an element and put the caret after its text, so typing appends as after a person clicks at the end. */
async function focusAtEnd(locator: Locator, deadline: Deadline): Promise<void> {
  await locator.focus({ timeout: callTimeoutMs(deadline) });
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
  }, undefined, { timeout: callTimeoutMs(deadline) });
  if (needsEndKey) await locator.press('End', { timeout: callTimeoutMs(deadline) });
}

type ControlKind =
  | { kind: 'select' | 'checkbox' | 'radio' | 'other' | 'file' }
  | { kind: 'text'; value: string }
  | { kind: 'none'; tag: string };

/**
 * The `setValue` action (DevTools `change`): what the element is decides how a person would set it, and that
 * is only known in the page at replay.
 */
async function setControlValue(locator: Locator, value: string, deadline: Deadline): Promise<void> {
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
  }, undefined, { timeout: callTimeoutMs(deadline) });
  switch (control.kind) {
    case 'select':
      return chooseOptions(locator, [value], deadline);
    case 'checkbox':
    case 'radio': {
      const checked = !['false', 'off', ''].includes(value.trim().toLowerCase());
      if (!checked && control.kind === 'radio') throw new EngineError('ELEMENT_NOT_ACTIONABLE', 'a radio button cannot be unchecked: set another radio button of its group', 'script');
      return locator.setChecked(checked, { timeout: callTimeoutMs(deadline) });
    }
    case 'file':
      throw new EngineError('ELEMENT_NOT_ACTIONABLE', 'element is a file input: set its files with `upload`', 'script');
    case 'none':
      throw new EngineError('ELEMENT_NOT_ACTIONABLE', `element is a <${control.tag}>, which has no value to set (expected an input, textarea, select or contenteditable element)`, 'script');
    case 'other':
      // date, time, range, color…: no keys type these; Playwright sets the value and fires input and change.
      return locator.fill(value, { timeout: callTimeoutMs(deadline) });
    case 'text':
      return typeControlValue(locator, value, control.value, deadline);
    default:
      return assertNever(control, 'control kind');
  }
}

async function typeControlValue(locator: Locator, value: string, current: string, deadline: Deadline): Promise<void> {
  if (value === '') return locator.clear({ timeout: callTimeoutMs(deadline) });
  let text = value;
  if (current !== '' && value.length > current.length && value.startsWith(current)) {
    await focusAtEnd(locator, deadline);
    text = value.slice(current.length);
  } else if (current !== '') {
    // Select what is there: the first key replaces it, as when a person selects all and types.
    await locator.selectText({ timeout: callTimeoutMs(deadline) });
  } else {
    await locator.focus({ timeout: callTimeoutMs(deadline) });
  }
  const keyboard = locator.page().keyboard;
  if (text.length > maxTypedChars) {
    await keyboard.insertText(text.slice(0, -typedTailChars));
    text = text.slice(-typedTailChars);
  }
  await keyboard.type(text);
}
