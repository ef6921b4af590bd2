/**
 * Turns the stream of recorded events into a transaction script. Pure: no browser, no clock of its own (events
 * carry their arrival time), so coalescing, step grouping, tab / frame switching and URL templating are unit
 * tested without Chromium.
 *
 * Rules:
 * - Typing: consecutive `input` events on the same field become ONE `setValue` with the last value, written when
 *   any other event arrives (the next action, a navigation, stop). Replay types it with real key events, so pages
 *   that react only to keys work. Password fields never carry a value; theirs is `{{secret.NAME}}`.
 * - Steps: the first top-level document opens a step with a `navigate`; each later top-level document opens a
 *   new step named after its title. A document the page navigated to (link, form, script: `initiator` `page`)
 *   gets no `navigate` of its own; one the person opened (typed URL, bookmark, back/forward, reload: `person`)
 *   always does. When the initiator is unknown, an action since the last document counts as the cause.
 * - Tabs: an action in another tab than the current one is preceded by `switchTab` (`main` for the first tab,
 *   `latest` for the newest one, else `urlContains`). A popup's first action opens a step named after its title.
 * - Frames: an action in an iframe is preceded by `switchFrame` (frame name when it looks stable, else
 *   `urlContains`), and an action back in the top document by `switchToMainFrame`.
 * - URLs on the origin of the start URL are written as `{{baseUrl}}/path`.
 */
import type { Action, Script, Step } from '../engine/index.ts';
import type { FrameRef, RecordedEvent, TargetInfo } from './events.ts';
import { isGeneratedIdentifier, rankSelectors } from './selector-ranking.ts';

export interface ScriptBuilderOptions {
  /** The URL recording started at; its origin becomes `variables.baseUrl`. */
  startUrl: string;
  /** Script name; default from the first page title. */
  name?: string | undefined;
  /** `$schema` value written into the script. */
  schema?: string | undefined;
  /** Secret used for every password fill; default derived from the field name (`password` → `PASSWORD`). */
  passwordSecret?: string | undefined;
}

interface PendingFill {
  tab: number;
  frame: FrameRef | undefined;
  key: string;
  selector: string[];
  value: string;
}

interface TabState {
  url: string;
  title: string;
  /** Arrival time of the last action recorded in this tab, or undefined. */
  lastActionAt: number | undefined;
  /** Whether an action happened since the tab's last document. */
  actedSinceDocument: boolean;
  /** Whether a step has been opened for the tab's current document yet. */
  hasStep: boolean;
}

/** Secret name for a password field: `password` → `PASSWORD`, `new-pin` → `NEW_PIN`. */
export function secretNameFor(field: string): string {
  const name = field
    .trim()
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toUpperCase()
    .replace(/[^A-Z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '');
  if (name === '' || isGeneratedIdentifier(field)) return 'PASSWORD';
  return /^[0-9]/.test(name) ? `_${name}` : name;
}

/** `http://host:1/a?b` → `{{baseUrl}}/a?b` when on the base origin; other URLs unchanged. */
export function templateUrl(url: string, baseOrigin: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url;
  }
  if (parsed.origin !== baseOrigin) return url;
  return `{{baseUrl}}${parsed.pathname}${parsed.search}${parsed.hash}`;
}

/** The origin of a URL (`variables.baseUrl`). Throws TypeError for a URL that does not parse. */
export function originOf(url: string): string {
  return new URL(url).origin;
}

function frameKey(frame: FrameRef | undefined): string {
  return frame === undefined ? '' : `${frame.name}\n${frame.url}`;
}

/** Text for an assertion: whitespace collapsed, at most ~100 characters cut at a word boundary. */
export function assertionText(text: string): string {
  const collapsed = text.replace(/\s+/g, ' ').trim();
  if (collapsed.length <= 100) return collapsed;
  const cut = collapsed.slice(0, 100);
  const space = cut.lastIndexOf(' ');
  return space > 40 ? cut.slice(0, space) : cut;
}

export class ScriptBuilder {
  readonly #options: ScriptBuilderOptions;
  readonly #baseOrigin: string;
  readonly #steps: Step[] = [];
  readonly #tabs = new Map<number, TabState>();
  #pending: PendingFill | undefined;
  /** Tab and frame the replayer will be in after the actions written so far. */
  #replayTab = 0;
  #replayFrame: FrameRef | undefined;
  #newestTab = 0;
  #firstTitle = '';
  #stopped = false;
  #stepCounter = 0;

  constructor(options: ScriptBuilderOptions) {
    this.#options = options;
    this.#baseOrigin = originOf(options.startUrl);
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /** Feed one event, in arrival order. Events after `stop` are ignored. */
  add(event: RecordedEvent): void {
    if (this.#stopped) return;
    if (event.tab > this.#newestTab) this.#newestTab = event.tab;
    if (event.type === 'input') {
      this.#input(event);
      return;
    }
    this.#flush();
    switch (event.type) {
      case 'document':
        this.#document(event);
        return;
      case 'newStep':
        this.#openStep(event.name ?? `Step ${this.#steps.length + 1}`);
        return;
      case 'stop':
        this.#stopped = true;
        return;
      case 'click': {
        const selector = this.#selector(event.target);
        if (selector === undefined) return;
        const action: Action = event.double
          ? { type: 'doubleClick', selector }
          : {
              type: 'click',
              selector,
              ...(event.button === 'left' ? {} : { button: event.button }),
              ...(event.modifiers.length === 0 ? {} : { modifiers: event.modifiers }),
            };
        this.#emit(event, action, true);
        return;
      }
      case 'hover': {
        const selector = this.#selector(event.target);
        if (selector === undefined) return;
        this.#emit(event, { type: 'hover', selector }, true);
        return;
      }
      case 'select': {
        const selector = this.#selector(event.target);
        if (selector === undefined) return;
        const option = event.values.length === 1 ? (event.values[0] ?? '') : event.values;
        this.#emit(event, { type: 'select', selector, option }, true);
        return;
      }
      case 'check': {
        const selector = this.#selector(event.target);
        if (selector === undefined) return;
        this.#emit(event, { type: event.checked ? 'check' : 'uncheck', selector }, true);
        return;
      }
      case 'press': {
        const selector = event.target === undefined ? undefined : this.#selector(event.target);
        this.#emit(event, selector === undefined ? { type: 'press', key: event.key } : { type: 'press', selector, key: event.key }, true);
        return;
      }
      case 'upload': {
        const selector = this.#selector(event.target);
        if (selector === undefined) return;
        const names = event.fileNames.map((name) => name.replace(/[\\/]/g, '_'));
        this.#emit(
          event,
          {
            type: 'upload',
            selector,
            files: names,
            description:
              names.length === 0
                ? 'Recorded clearing the file input.'
                : `Recorded file name(s): ${names.join(', ')}. Put the file(s) next to the script or change the path(s).`,
          },
          true,
        );
        return;
      }
      case 'assertText': {
        const selector = this.#selector(event.target);
        if (selector === undefined) return;
        const text = assertionText(event.text);
        this.#emit(event, text === '' ? { type: 'assertElement', selector, state: 'visible' } : { type: 'assertText', selector, text }, false);
        return;
      }
      case 'assertVisible': {
        const selector = this.#selector(event.target);
        if (selector === undefined) return;
        this.#emit(event, { type: 'assertElement', selector, state: 'visible' }, false);
        return;
      }
      default: {
        const never: never = event;
        return never;
      }
    }
  }

  /** The script so far (pending typing included). Empty steps are dropped. */
  build(): Script {
    this.#flush();
    const steps = this.#steps.filter((step) => step.actions.length > 0).map((step) => ({ ...step, actions: [...step.actions] }));
    if (steps.length === 0) {
      steps.push({ name: 'Open the start page', actions: [{ type: 'navigate', url: templateUrl(this.#options.startUrl, this.#baseOrigin) }] });
    }
    // Step names must be unique enough to read reports: suffix repeats.
    const seen = new Map<string, number>();
    for (const step of steps) {
      const count = (seen.get(step.name) ?? 0) + 1;
      seen.set(step.name, count);
      if (count > 1) step.name = `${step.name} (${count})`.slice(0, 200);
    }
    const name = this.#options.name ?? (this.#firstTitle === '' ? `Recorded on ${new URL(this.#options.startUrl).host}` : `Recorded: ${this.#firstTitle}`);
    return {
      ...(this.#options.schema === undefined ? {} : { $schema: this.#options.schema }),
      name: name.slice(0, 200),
      variables: { baseUrl: this.#baseOrigin },
      steps,
    };
  }

  #tab(tab: number): TabState {
    let state = this.#tabs.get(tab);
    if (state === undefined) {
      state = { url: '', title: '', lastActionAt: undefined, actedSinceDocument: false, hasStep: false };
      this.#tabs.set(tab, state);
    }
    return state;
  }

  #selector(target: TargetInfo): string[] | undefined {
    const ranked = rankSelectors(target.candidates);
    return ranked.length === 0 ? undefined : ranked;
  }

  #input(event: RecordedEvent & { type: 'input' }): void {
    const selector = this.#selector(event.target);
    if (selector === undefined) return;
    const value =
      event.secretField !== undefined
        ? `{{secret.${this.#options.passwordSecret ?? secretNameFor(event.secretField)}}}`
        : (event.value ?? '');
    const pending = this.#pending;
    if (pending !== undefined && pending.tab === event.tab && frameKey(pending.frame) === frameKey(event.frame) && pending.key === event.target.key) {
      pending.value = value;
      return;
    }
    this.#flush();
    this.#pending = { tab: event.tab, frame: event.frame, key: event.target.key, selector, value };
    const tab = this.#tab(event.tab);
    tab.lastActionAt = event.at;
    tab.actedSinceDocument = true;
  }

  #flush(): void {
    const pending = this.#pending;
    if (pending === undefined) return;
    this.#pending = undefined;
    this.#write(pending.tab, pending.frame, { type: 'setValue', selector: pending.selector, value: pending.value });
  }

  #document(event: RecordedEvent & { type: 'document' }): void {
    if (event.frame !== undefined || !/^https?:/i.test(event.url)) return;
    const tab = this.#tab(event.tab);
    const previousUrl = tab.url;
    tab.url = event.url;
    tab.title = event.title;
    const caused = event.initiator === 'page' || (event.initiator === undefined && tab.actedSinceDocument);
    tab.actedSinceDocument = false;
    if (this.#firstTitle === '' && event.title.trim() !== '') this.#firstTitle = event.title.trim();
    if (event.tab !== this.#replayTab) {
      // A popup (or another tab) loaded: its step opens when the author first acts in it.
      tab.hasStep = false;
      return;
    }
    tab.hasStep = true;
    const name = this.#stepName(event.title, event.url);
    if (this.#steps.length === 0) {
      this.#openStep(name);
      this.#push({ type: 'navigate', url: templateUrl(event.url, this.#baseOrigin) });
      return;
    }
    if (caused) {
      this.#openStep(name);
      return;
    }
    if (previousUrl === event.url && !tab.actedSinceDocument && tab.lastActionAt === undefined && this.#current()?.actions.length === 0) return;
    this.#openStep(name);
    if (this.#replayFrame !== undefined) {
      this.#push({ type: 'switchToMainFrame' });
      this.#replayFrame = undefined;
    }
    this.#push({ type: 'navigate', url: templateUrl(event.url, this.#baseOrigin) });
  }

  #stepName(title: string, url: string): string {
    const trimmed = title.replace(/\s+/g, ' ').trim();
    if (trimmed !== '') return trimmed.slice(0, 200);
    try {
      return `Open ${new URL(url).pathname}`.slice(0, 200);
    } catch {
      return `Step ${this.#steps.length + 1}`;
    }
  }

  #current(): Step | undefined {
    return this.#steps.at(-1);
  }

  #openStep(name: string): void {
    this.#stepCounter++;
    const current = this.#current();
    if (current !== undefined && current.actions.length === 0) {
      current.name = name;
      return;
    }
    this.#steps.push({ name, actions: [] });
  }

  #push(action: Action): void {
    if (this.#steps.length === 0) this.#openStep(`Step ${this.#stepCounter + 1}`);
    this.#current()?.actions.push(action);
  }

  #emit(event: RecordedEvent, action: Action, isUserAction: boolean): void {
    if (isUserAction) {
      const tab = this.#tab(event.tab);
      tab.lastActionAt = event.at;
      tab.actedSinceDocument = true;
    }
    this.#write(event.tab, event.frame, action);
  }

  /** Append an action, preceded by the tab / frame switches the replayer needs to be where it happened. */
  #write(tabIndex: number, frame: FrameRef | undefined, action: Action): void {
    if (this.#steps.length === 0) {
      // Acting before any document was seen (e.g. the first load event was lost): start at the start URL.
      this.#openStep(this.#stepName(this.#tab(tabIndex).title, this.#options.startUrl));
      this.#push({ type: 'navigate', url: templateUrl(this.#options.startUrl, this.#baseOrigin) });
    }
    if (tabIndex !== this.#replayTab) {
      const tab = this.#tab(tabIndex);
      if (tabIndex !== 0 && !tab.hasStep) {
        this.#openStep(this.#stepName(tab.title, tab.url));
        tab.hasStep = true;
      }
      if (tabIndex === 0) this.#push({ type: 'switchTab', to: 'main' });
      else if (tabIndex === this.#newestTab || tab.url === '') this.#push({ type: 'switchTab', to: 'latest' });
      else this.#push({ type: 'switchTab', urlContains: templateUrl(tab.url, this.#baseOrigin) });
      this.#replayTab = tabIndex;
      this.#replayFrame = undefined;
    }
    if (frameKey(frame) !== frameKey(this.#replayFrame)) {
      if (this.#replayFrame !== undefined) this.#push({ type: 'switchToMainFrame' });
      if (frame !== undefined) {
        if (frame.name !== '' && !isGeneratedIdentifier(frame.name)) this.#push({ type: 'switchFrame', name: frame.name });
        else this.#push({ type: 'switchFrame', urlContains: frameUrlNeedle(frame.url, this.#baseOrigin) });
      }
      this.#replayFrame = frame;
    }
    this.#push(action);
  }
}

/** What a `switchFrame` by URL looks for: the frame URL without query and hash, templated. */
export function frameUrlNeedle(url: string, baseOrigin: string): string {
  try {
    const parsed = new URL(url);
    return templateUrl(`${parsed.origin}${parsed.pathname}`, baseOrigin);
  } catch {
    return url.slice(0, 2000) || 'about:blank';
  }
}
