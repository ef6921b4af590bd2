/**
 * The recorder's in-page half, injected with `context.addInitScript` into every document of the recording
 * context (top-level pages, popups, iframes). `installRecorder` runs IN THE PAGE and must stay self-contained:
 * no imports, no references outside its own body (types are erased). Its helpers arrive as parameters, built
 * from the source of other self-contained functions by {@link recorderInitScript}.
 *
 * CSP: nothing here is subject to the page's Content-Security-Policy — the init script and the binding are
 * installed by the browser, no inline handlers or `style` attributes are used, and the toolbar is styled with a
 * constructed stylesheet adopted by its closed shadow root.
 *
 * Privacy: a password field's value is never read; its events carry only the field's name.
 */
import { isGeneratedIdentifier } from '../selector-ranking.ts';
import { collectSelectorCandidates, type InPageCandidate } from '../selectors.ts';

export interface InPageRecorderConfig {
  /** Name of the binding exposed with `context.exposeBinding`. */
  binding: string;
  /** Name of the DOM event test hooks dispatch on an element (`detail`: `{ action, name? }`). */
  hookEvent: string;
  /** Show the toolbar in top-level documents. */
  toolbar: boolean;
}

export function installRecorder(
  config: InPageRecorderConfig,
  isGenerated: (value: string) => boolean,
  collect: (element: Element, isGenerated: (value: string) => boolean) => InPageCandidate[],
): void {
  const win = window as unknown as Record<string, unknown>;
  const queue: unknown[] = [];
  let flushTimer: ReturnType<typeof setTimeout> | undefined;
  const trySend = (): void => {
    const binding = win[config.binding];
    if (typeof binding !== 'function') {
      if (flushTimer === undefined) flushTimer = setTimeout(() => ((flushTimer = undefined), trySend()), 20);
      return;
    }
    while (queue.length > 0) {
      const payload = queue.shift();
      try {
        const result: unknown = (binding as (p: unknown) => unknown)(payload);
        if (result instanceof Promise) result.catch(() => undefined);
      } catch {
        // The binding is gone (document unloading): nothing to do.
      }
    }
  };
  const send = (payload: Record<string, unknown>): void => {
    queue.push(payload);
    trySend();
  };

  // --- element identity and selectors ---
  const keys = new WeakMap<Element, string>();
  let nextKey = 1;
  const keyOf = (el: Element): string => {
    let key = keys.get(el);
    if (key === undefined) {
      key = `e${nextKey++}`;
      keys.set(el, key);
    }
    return key;
  };
  const cache = new WeakMap<Element, { at: number; candidates: InPageCandidate[] }>();
  const targetOf = (el: Element, reuse: boolean): { key: string; candidates: InPageCandidate[] } => {
    const cached = cache.get(el);
    const now = Date.now();
    if (reuse && cached !== undefined && now - cached.at < 2000) return { key: keyOf(el), candidates: cached.candidates };
    let candidates: InPageCandidate[];
    try {
      candidates = collect(el, isGenerated);
    } catch {
      candidates = [];
    }
    cache.set(el, { at: now, candidates });
    return { key: keyOf(el), candidates };
  };
  const isSecretField = (el: Element): boolean =>
    el.localName === 'input' &&
    ((el.getAttribute('type') ?? '').toLowerCase() === 'password' || /(^|\s)(current|new)-password(\s|$)/.test(el.getAttribute('autocomplete') ?? ''));
  const typeOf = (el: Element): string => (el.localName === 'input' ? (el.getAttribute('type') ?? 'text').toLowerCase() : '');
  const interactive =
    'button, a[href], input, select, textarea, label, summary, [role=button], [role=link], [role=checkbox], [role=radio], [role=tab], [role=menuitem], [role=option], [role=switch], [contenteditable=""], [contenteditable=true]';
  const elementOf = (event: Event): Element | undefined => {
    const path = event.composedPath();
    const first = path[0];
    return first instanceof Element ? first : undefined;
  };

  // --- toolbar (top-level documents only) ---
  let host: Element | undefined;
  let mode: 'record' | 'assertText' | 'assertVisible' | 'stopped' = 'record';
  let status: HTMLElement | undefined;
  const setMode = (next: typeof mode): void => {
    mode = next;
    if (status !== undefined) {
      status.textContent =
        next === 'assertText' ? 'Click an element to assert its text (Esc cancels)'
        : next === 'assertVisible' ? 'Click an element to assert it is visible (Esc cancels)'
        : next === 'stopped' ? 'Stopped'
        : 'Recording';
    }
  };
  const inToolbar = (event: Event): boolean => host !== undefined && event.composedPath().includes(host);
  const buildToolbar = (): void => {
    if (!config.toolbar || window.top !== window || host !== undefined || document.documentElement === null) return;
    const element = document.createElement('checkpoint-recorder-toolbar');
    const shadow = element.attachShadow({ mode: 'closed' });
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(`
:host { all: initial; position: fixed; right: 12px; bottom: 12px; z-index: 2147483647; }
.bar { display: flex; gap: 6px; align-items: center; padding: 6px 8px; border-radius: 8px; background: #16233a; color: #fff;
  font: 12px/1.3 system-ui, sans-serif; box-shadow: 0 2px 10px rgba(0,0,0,.3); }
button { font: inherit; border: 0; border-radius: 5px; padding: 4px 8px; background: #2457c5; color: #fff; cursor: pointer; }
button.stop { background: #b42318; }
input { font: inherit; width: 110px; padding: 3px 5px; border-radius: 4px; border: 1px solid #5f6b7a; }
.status { min-width: 70px; opacity: .85; }
.dot { width: 8px; height: 8px; border-radius: 50%; background: #e5484d; }`);
    shadow.adoptedStyleSheets = [sheet];
    const bar = document.createElement('div');
    bar.className = 'bar';
    const dot = document.createElement('span');
    dot.className = 'dot';
    status = document.createElement('span');
    status.className = 'status';
    const stepName = document.createElement('input');
    stepName.placeholder = 'Step name';
    const button = (label: string, onClick: () => void, className = ''): HTMLButtonElement => {
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = label;
      if (className !== '') b.className = className;
      b.addEventListener('click', (event) => {
        event.preventDefault();
        onClick();
      });
      return b;
    };
    bar.append(
      dot,
      status,
      stepName,
      button('New step', () => {
        send({ type: 'newStep', name: stepName.value });
        stepName.value = '';
      }),
      button('Assert text', () => setMode(mode === 'assertText' ? 'record' : 'assertText')),
      button('Assert visible', () => setMode(mode === 'assertVisible' ? 'record' : 'assertVisible')),
      button('Stop', () => {
        send({ type: 'stop' });
        setMode('stopped');
      }, 'stop'),
    );
    shadow.append(bar);
    setMode(mode);
    host = element;
    document.documentElement.append(element);
  };

  // --- capture ---
  let lastEnter: { el: Element; at: number } | undefined;
  const swallow = (event: Event): void => {
    if (!event.isTrusted || inToolbar(event)) return;
    if (mode === 'assertText' || mode === 'assertVisible') {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  };
  for (const type of ['pointerdown', 'pointerup', 'mousedown', 'mouseup', 'dblclick', 'auxclick']) window.addEventListener(type, swallow, true);

  // Hover is recorded only when it opens something: within a short window after the pointer enters an
  // element, the page reveals content (a `hidden` attribute removed, a style/class change or new nodes that
  // render). Menus driven purely by CSS :hover change no DOM and are not detected.
  let hovered: Element | undefined;
  let hoverWatch: MutationObserver | undefined;
  const rendered = (node: Node): boolean => node instanceof Element && node.getClientRects().length > 0;
  window.addEventListener(
    'mouseover',
    (event) => {
      if (!event.isTrusted || inToolbar(event) || mode !== 'record') return;
      const el = elementOf(event);
      if (el === undefined || el === hovered || el === document.body || el === document.documentElement) return;
      hovered = el;
      hoverWatch?.disconnect();
      const target = targetOf(el, false);
      const watch = new MutationObserver((mutations) => {
        const revealed = mutations.some((m) =>
          m.type === 'childList'
            ? Array.from(m.addedNodes).some(rendered)
            : m.target !== el && !m.target.contains(el) && rendered(m.target) && (m.attributeName !== 'hidden' || m.oldValue !== null),
        );
        if (!revealed) return;
        watch.disconnect();
        send({ type: 'hover', target });
      });
      hoverWatch = watch;
      watch.observe(document.documentElement, { subtree: true, childList: true, attributes: true, attributeOldValue: true, attributeFilter: ['hidden', 'style', 'class', 'open', 'aria-expanded'] });
      setTimeout(() => watch.disconnect(), 400);
    },
    true,
  );

  window.addEventListener(
    'click',
    (event) => {
      if (!event.isTrusted || inToolbar(event) || mode === 'stopped') return;
      const raw = elementOf(event);
      if (raw === undefined) return;
      if (mode === 'assertText' || mode === 'assertVisible') {
        event.preventDefault();
        event.stopImmediatePropagation();
        const target = targetOf(raw, false);
        if (mode === 'assertText') send({ type: 'assertText', target, text: (raw as HTMLElement).innerText ?? raw.textContent ?? '' });
        else send({ type: 'assertVisible', target });
        setMode('record');
        return;
      }
      const el = raw.closest(interactive) ?? raw;
      if (el.localName === 'label') {
        const control = (el as HTMLLabelElement).control;
        if (control !== null) return; // the control's own change / input / focus is what matters
      }
      const type = typeOf(el);
      if (el.localName === 'select' || el.localName === 'option' || el.localName === 'textarea') return;
      if (el.localName === 'input' && !['button', 'submit', 'reset', 'image'].includes(type)) return;
      if (el.getAttribute('contenteditable') !== null) return;
      const e = event as MouseEvent;
      // Enter already recorded as a press: the click it synthesizes (on the element, or a form's implicit
      // submission on its default button) must not be recorded again.
      if (e.detail === 0 && lastEnter !== undefined && (lastEnter.el === el || Date.now() - lastEnter.at < 500) && Date.now() - lastEnter.at < 1000) return;
      const modifiers: string[] = [];
      if (e.altKey) modifiers.push('Alt');
      if (e.ctrlKey) modifiers.push('Control');
      if (e.metaKey) modifiers.push('Meta');
      if (e.shiftKey) modifiers.push('Shift');
      send({ type: 'click', target: targetOf(el, false), button: e.button === 1 ? 'middle' : e.button === 2 ? 'right' : 'left', modifiers, double: false });
    },
    true,
  );

  window.addEventListener(
    'input',
    (event) => {
      if (inToolbar(event) || mode === 'stopped') return;
      const el = elementOf(event);
      if (el === undefined) return;
      const editable = el.closest('[contenteditable=""], [contenteditable=true]');
      if (el.localName !== 'input' && el.localName !== 'textarea' && editable === null) return;
      const type = typeOf(el);
      if (['checkbox', 'radio', 'file', 'submit', 'button', 'reset', 'image', 'range', 'color'].includes(type)) return;
      if (isSecretField(el)) {
        // Never read the value of a password field: only which field it was.
        send({ type: 'input', target: targetOf(el, true), secretField: el.getAttribute('name') ?? el.getAttribute('id') ?? 'password' });
        return;
      }
      const value = editable !== null && el.localName !== 'input' && el.localName !== 'textarea' ? ((editable as HTMLElement).innerText ?? '') : (el as HTMLInputElement).value;
      send({ type: 'input', target: targetOf(editable !== null && el.localName !== 'input' && el.localName !== 'textarea' ? editable : el, true), value });
    },
    true,
  );

  window.addEventListener(
    'change',
    (event) => {
      if (inToolbar(event) || mode === 'stopped') return;
      const el = elementOf(event);
      if (el === undefined) return;
      const type = typeOf(el);
      if (el.localName === 'select') {
        const values = Array.from((el as HTMLSelectElement).selectedOptions).map((option) => option.value);
        if (values.length > 0) send({ type: 'select', target: targetOf(el, false), values });
      } else if (type === 'checkbox' || type === 'radio') {
        send({ type: 'check', target: targetOf(el, false), checked: (el as HTMLInputElement).checked });
      } else if (type === 'file') {
        const files = (el as HTMLInputElement).files;
        send({ type: 'upload', target: targetOf(el, false), fileNames: files === null ? [] : Array.from(files).map((file) => file.name) });
      }
    },
    true,
  );

  window.addEventListener(
    'keydown',
    (e) => {
      if (!e.isTrusted || inToolbar(e) || mode === 'stopped') return;
      if ((mode === 'assertText' || mode === 'assertVisible') && e.key === 'Escape') {
        setMode('record');
        e.preventDefault();
        e.stopImmediatePropagation();
        return;
      }
      if (e.key !== 'Enter' && e.key !== 'Tab' && e.key !== 'Escape') return;
      const el = elementOf(e);
      if (e.key === 'Enter' && el !== undefined && (el.localName === 'textarea' || el.closest('[contenteditable=""], [contenteditable=true]') !== null)) return;
      const modifiers = [e.altKey ? 'Alt' : '', e.ctrlKey ? 'Control' : '', e.metaKey ? 'Meta' : '', e.shiftKey ? 'Shift' : ''].filter((m) => m !== '');
      const key = [...modifiers, e.key].join('+');
      const focused = el !== undefined && el !== document.body && el !== document.documentElement ? el : undefined;
      if (e.key === 'Enter' && focused !== undefined) lastEnter = { el: focused.closest(interactive) ?? focused, at: Date.now() };
      send(focused === undefined ? { type: 'press', key } : { type: 'press', key, target: targetOf(focused, true) });
    },
    true,
  );

  // Test / automation hooks: an element dispatches `hookEvent` with `{ action }` (assertText, assertVisible,
  // newStep, stop). The event stops here; the page never sees it.
  window.addEventListener(
    config.hookEvent,
    (event) => {
      event.stopImmediatePropagation();
      const detail = (event as CustomEvent<unknown>).detail as { action?: unknown; name?: unknown } | null;
      const action = detail?.action;
      const el = elementOf(event);
      if (action === 'newStep') send({ type: 'newStep', name: typeof detail?.name === 'string' ? detail.name : '' });
      else if (action === 'stop') send({ type: 'stop' });
      else if (el !== undefined && action === 'assertText') send({ type: 'assertText', target: targetOf(el, false), text: (el as HTMLElement).innerText ?? el.textContent ?? '' });
      else if (el !== undefined && action === 'assertVisible') send({ type: 'assertVisible', target: targetOf(el, false) });
    },
    true,
  );

  const announce = (): void => {
    send({ type: 'document', url: location.href, title: document.title });
    buildToolbar();
  };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', announce, { once: true });
  else announce();
  // Back/forward from the cache restores the document without running this script again: announce it anew.
  window.addEventListener('pageshow', (event) => {
    if (event.persisted) send({ type: 'document', url: location.href, title: document.title });
  });
}

/** The init script source: `installRecorder` called with its config and the self-contained helpers. */
export function recorderInitScript(config: InPageRecorderConfig): string {
  return `(${installRecorder.toString()})(${JSON.stringify(config)}, ${isGeneratedIdentifier.toString()}, ${collectSelectorCandidates.toString()});`;
}
