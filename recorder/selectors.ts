/**
 * In-page selector candidates. `collectSelectorCandidates` runs IN THE PAGE (it is serialized into the init
 * script by `recorder/in-page/recorder-script.ts`), so it must stay self-contained: no imports, no references
 * to anything outside its own body (types are erased). Ranking is done in Node by `rankSelectors`.
 *
 * For one element it produces, each with the number of elements it matches in the element's document:
 * - `testid=…` (data-testid) and `[data-test-id="…"]` / `[data-test="…"]`;
 * - `role=ROLE[name="…" s]` with the accessible name (aria-labelledby, aria-label, <label>, button value,
 *   text content, title / placeholder), matching Playwright's implicit roles for the common elements;
 * - `[placeholder="…"]`, `img[alt="…"]`;
 * - `text="…"` for links and buttons (exact, whitespace-normalized);
 * - `#id` for ids that do not look generated (checked in Node, `basis` carries the id);
 * - `input[name="…"]` (plus `[value="…"]` for radios and checkboxes);
 * - a short CSS path (tag names and :nth-of-type, anchored at the nearest stable id).
 */

/** One candidate as sent to Node (mirrors SelectorCandidate). */
export interface InPageCandidate {
  kind: 'testid' | 'role' | 'placeholder' | 'label' | 'alt' | 'text' | 'title' | 'id' | 'name' | 'css';
  selector: string;
  count: number;
  basis?: string;
}

export function collectSelectorCandidates(element: Element, isGenerated: (value: string) => boolean): InPageCandidate[] {
  const doc = element.ownerDocument;
  const root: Document | ShadowRoot = element.getRootNode() instanceof ShadowRoot ? (element.getRootNode() as ShadowRoot) : doc;
  const out: InPageCandidate[] = [];
  const norm = (text: string | null | undefined): string => (text ?? '').replace(/\s+/g, ' ').trim();
  const quote = (value: string): string => `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, ' ')}"`;
  const countCss = (css: string): number => {
    try {
      return root.querySelectorAll(css).length;
    } catch {
      return 0;
    }
  };
  const tag = element.localName;
  const inputType = (el: Element): string => (el.localName === 'input' ? (el.getAttribute('type') ?? 'text').toLowerCase() : '');

  // --- roles (after Playwright's roleUtils, common elements only) ---
  const implicitRole = (el: Element): string => {
    const name = el.localName;
    if (name === 'a' || name === 'area') return el.hasAttribute('href') ? 'link' : '';
    if (name === 'button') return 'button';
    if (name === 'select') return el.hasAttribute('multiple') || Number(el.getAttribute('size') ?? '0') > 1 ? 'listbox' : 'combobox';
    if (name === 'textarea') return 'textbox';
    if (/^h[1-6]$/.test(name)) return 'heading';
    if (name === 'img') return el.getAttribute('alt') === '' ? 'presentation' : 'img';
    if (name === 'option') return 'option';
    if (name === 'summary') return 'button';
    if (name === 'input') {
      const type = inputType(el);
      const byType: Record<string, string> = { button: 'button', image: 'button', reset: 'button', submit: 'button', checkbox: 'checkbox', radio: 'radio', range: 'slider', number: 'spinbutton', file: 'button' };
      if (type === 'hidden') return '';
      if (byType[type] !== undefined) return byType[type] ?? '';
      if (['email', 'tel', 'text', 'url', ''].includes(type) && el.hasAttribute('list')) return 'combobox';
      return type === 'search' ? (el.hasAttribute('list') ? 'combobox' : 'searchbox') : 'textbox';
    }
    return '';
  };
  const roleOf = (el: Element): string => {
    const explicit = (el.getAttribute('role') ?? '').trim().toLowerCase().split(/\s+/)[0] ?? '';
    return explicit !== '' ? explicit : implicitRole(el);
  };
  const nameFromContentRoles = new Set(['button', 'link', 'heading', 'checkbox', 'radio', 'tab', 'menuitem', 'menuitemcheckbox', 'menuitemradio', 'option', 'switch', 'treeitem', 'cell', 'gridcell', 'columnheader', 'rowheader', 'tooltip']);
  const isHiddenForName = (el: Element): boolean => {
    if (el.getAttribute('aria-hidden') === 'true') return true;
    const view = el.ownerDocument.defaultView;
    if (view === null) return false;
    const style = view.getComputedStyle(el);
    return style.display === 'none' || style.visibility === 'hidden';
  };
  const textOf = (node: Node, depth: number): string => {
    if (depth > 20) return '';
    if (node.nodeType === Node.TEXT_NODE) return node.textContent ?? '';
    if (node.nodeType !== Node.ELEMENT_NODE) return '';
    const el = node as Element;
    if (['script', 'style', 'noscript', 'template'].includes(el.localName)) return '';
    if (isHiddenForName(el)) return '';
    const label = el.getAttribute('aria-label');
    if (depth > 0 && label !== null && label.trim() !== '') return ` ${label} `;
    if (el.localName === 'img') return ` ${el.getAttribute('alt') ?? ''} `;
    if (depth > 0 && el.localName === 'input') {
      const type = inputType(el);
      if (['button', 'submit', 'reset'].includes(type)) return ` ${(el as HTMLInputElement).value} `;
      return '';
    }
    let text = '';
    for (const child of Array.from(el.childNodes)) text += textOf(child, depth + 1);
    const display = el.ownerDocument.defaultView?.getComputedStyle(el).display ?? 'inline';
    return display === 'inline' ? text : ` ${text} `;
  };
  const accessibleName = (el: Element, role: string): string => {
    const labelledBy = el.getAttribute('aria-labelledby');
    if (labelledBy !== null && labelledBy.trim() !== '') {
      const parts = labelledBy
        .trim()
        .split(/\s+/)
        .map((id) => el.ownerDocument.getElementById(id))
        .map((ref) => (ref === null ? '' : norm(textOf(ref, 0))));
      const joined = norm(parts.join(' '));
      if (joined !== '') return joined;
    }
    const ariaLabel = norm(el.getAttribute('aria-label'));
    if (ariaLabel !== '') return ariaLabel;
    const name = el.localName;
    if (name === 'input' || name === 'select' || name === 'textarea') {
      const type = inputType(el);
      if (['button', 'submit', 'reset'].includes(type)) {
        const value = (el as HTMLInputElement).value;
        return norm(value !== '' ? value : type === 'submit' ? 'Submit' : type === 'reset' ? 'Reset' : '');
      }
      if (type === 'image') return norm(el.getAttribute('alt') ?? el.getAttribute('value') ?? 'Submit');
      const labels = (el as HTMLInputElement).labels;
      if (labels !== null && labels.length > 0) {
        const text = norm(Array.from(labels).map((label) => textOf(label, 0)).join(' '));
        if (text !== '') return text;
      }
      const title = norm(el.getAttribute('title'));
      if (title !== '') return title;
      return norm(el.getAttribute('placeholder'));
    }
    if (name === 'img') return norm(el.getAttribute('alt') ?? el.getAttribute('title'));
    if (nameFromContentRoles.has(role)) {
      const text = norm(textOf(el, 0));
      if (text !== '') return text;
    }
    return norm(el.getAttribute('title'));
  };

  // 1. test ids
  for (const attribute of ['data-testid', 'data-test-id', 'data-test']) {
    const value = element.getAttribute(attribute);
    if (value === null || value.trim() === '') continue;
    const css = `[${attribute}=${quote(value)}]`;
    out.push({ kind: 'testid', selector: attribute === 'data-testid' ? `testid=${value}` : css, count: countCss(css) });
  }

  // 2. role + accessible name
  const role = roleOf(element);
  if (role !== '' && role !== 'presentation' && role !== 'none' && role !== 'generic') {
    const name = accessibleName(element, role);
    if (name !== '' && name.length <= 120) {
      let count = 0;
      for (const other of Array.from(root.querySelectorAll('*'))) {
        if (roleOf(other) === role && accessibleName(other, role) === name) count++;
        if (count > 1) break;
      }
      out.push({ kind: 'role', selector: `role=${role}[name=${quote(name)} s]`, count });
    }
  }

  // 3. placeholder, alt
  const placeholder = element.getAttribute('placeholder');
  if (placeholder !== null && placeholder.trim() !== '' && (tag === 'input' || tag === 'textarea')) {
    const css = `[placeholder=${quote(placeholder)}]`;
    out.push({ kind: 'placeholder', selector: css, count: countCss(css) });
  }
  const alt = element.getAttribute('alt');
  if (tag === 'img' && alt !== null && alt.trim() !== '') {
    const css = `img[alt=${quote(alt)}]`;
    out.push({ kind: 'alt', selector: css, count: countCss(css) });
  }

  // 4. text, for links and buttons
  const isClickable = tag === 'a' || tag === 'button' || role === 'button' || role === 'link' || role === 'tab' || role === 'menuitem';
  if (isClickable) {
    const text = norm(element.textContent);
    if (text !== '' && text.length <= 80) {
      let count = 0;
      for (const other of Array.from(root.querySelectorAll('body *'))) {
        if (['script', 'style', 'noscript', 'template'].includes(other.localName)) continue;
        if (norm(other.textContent) !== text) continue;
        if (Array.from(other.children).some((child) => norm(child.textContent) === text)) continue;
        count++;
      }
      out.push({ kind: 'text', selector: `text=${quote(text)}`, count });
    }
  }

  // 5. stable id
  const id = element.getAttribute('id');
  if (id !== null && id !== '') {
    const css = `#${CSS.escape(id)}`;
    out.push({ kind: 'id', selector: css, count: countCss(css), basis: id });
  }

  // 6. name attribute of form controls
  const nameAttribute = element.getAttribute('name');
  if (nameAttribute !== null && nameAttribute !== '' && ['input', 'select', 'textarea', 'button'].includes(tag)) {
    const type = inputType(element);
    let css = `${tag}[name=${quote(nameAttribute)}]`;
    if ((type === 'radio' || type === 'checkbox') && element.hasAttribute('value')) css += `[value=${quote(element.getAttribute('value') ?? '')}]`;
    out.push({ kind: 'name', selector: css, count: countCss(css), basis: nameAttribute });
  }

  // 7. short CSS path, anchored at the nearest stable id
  const segments: string[] = [];
  let current: Element | null = element;
  let cssPath = '';
  for (let depth = 0; current !== null && depth < 8; depth++) {
    const currentId = current.getAttribute('id');
    if (current !== element && currentId !== null && currentId !== '' && !isGenerated(currentId) && countCss(`#${CSS.escape(currentId)}`) === 1) {
      segments.unshift(`#${CSS.escape(currentId)}`);
      cssPath = segments.join(' > ');
      break;
    }
    let segment = current.localName;
    const parent: Element | null = current.parentElement;
    if (parent !== null) {
      const sameTag = Array.from(parent.children).filter((child) => child.localName === current?.localName);
      if (sameTag.length > 1) segment += `:nth-of-type(${sameTag.indexOf(current) + 1})`;
    }
    segments.unshift(segment);
    cssPath = segments.join(' > ');
    if (countCss(cssPath) === 1) break;
    if (current.localName === 'body' || current.localName === 'html') break;
    current = parent;
  }
  if (cssPath !== '') out.push({ kind: 'css', selector: cssPath, count: countCss(cssPath) });
  return out;
}
