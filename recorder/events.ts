/**
 * What the in-page recorder sends to Node (through the exposed binding), and the envelope Node adds (which tab,
 * which frame, when). Types plus a defensive parser: the page is untrusted, so every payload is checked before
 * it reaches the script builder.
 */
import type { CandidateKind, SelectorCandidate } from './selector-ranking.ts';

/** The element an event happened on: its selector candidates as measured in its document. */
export interface TargetInfo {
  candidates: SelectorCandidate[];
  /** Stable key of the field within its document (coalesces typing into one fill). */
  key: string;
}

export type PageEvent =
  | { type: 'click'; target: TargetInfo; button: 'left' | 'right' | 'middle'; modifiers: ('Alt' | 'Control' | 'Meta' | 'Shift')[]; double: boolean }
  /** Typing in a field; `value` is absent for password fields (masked in the page), which carry `secretField`. */
  | { type: 'input'; target: TargetInfo; value?: string; secretField?: string }
  | { type: 'select'; target: TargetInfo; values: string[] }
  | { type: 'check'; target: TargetInfo; checked: boolean }
  | { type: 'press'; target?: TargetInfo; key: string }
  | { type: 'upload'; target: TargetInfo; fileNames: string[] }
  | { type: 'assertText'; target: TargetInfo; text: string }
  | { type: 'assertVisible'; target: TargetInfo }
  | { type: 'hover'; target: TargetInfo }
  | { type: 'newStep'; name?: string }
  | { type: 'stop' }
  /**
   * A new document finished parsing, or came back from the back/forward cache (sent by every document; only
   * top-level ones make steps). Node adds `initiator` for top-level documents: `page` when the page asked for
   * the navigation (link, form, script, refresh), `person` when the browser did (typed URL, bookmark,
   * back/forward, reload), absent when unknown.
   */
  | { type: 'document'; url: string; title: string; initiator?: NavigationInitiator };

export type NavigationInitiator = 'page' | 'person';

/** Where an event came from, added by Node from the binding's source. */
export interface FrameRef {
  /** The frame's name attribute (may be empty). */
  name: string;
  url: string;
}

export type RecordedEvent = PageEvent & {
  /** Index of the tab in opening order (0 = the first tab). */
  tab: number;
  /** The frame, or undefined for the top-level document. */
  frame?: FrameRef | undefined;
  /** Node's clock when the event arrived, ms. */
  at: number;
};

const kinds: ReadonlySet<string> = new Set<CandidateKind>(['testid', 'role', 'placeholder', 'label', 'alt', 'text', 'title', 'id', 'name', 'css']);
const buttons: ReadonlySet<string> = new Set(['left', 'right', 'middle']);
const modifierNames: ReadonlySet<string> = new Set(['Alt', 'Control', 'Meta', 'Shift']);
const maxText = 100_000;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown, max = maxText): string | undefined {
  return typeof value === 'string' && value.length <= max ? value : undefined;
}

function strings(value: unknown, maxItems = 100): string[] | undefined {
  if (!Array.isArray(value) || value.length > maxItems) return undefined;
  const out: string[] = [];
  for (const item of value) {
    const s = str(item, 10_000);
    if (s === undefined) return undefined;
    out.push(s);
  }
  return out;
}

function target(value: unknown): TargetInfo | undefined {
  if (!isRecord(value)) return undefined;
  const key = str(value['key'], 4000);
  if (key === undefined || !Array.isArray(value['candidates'])) return undefined;
  const candidates: SelectorCandidate[] = [];
  for (const raw of value['candidates'].slice(0, 30)) {
    if (!isRecord(raw)) continue;
    const kind = str(raw['kind'], 20);
    const selector = str(raw['selector'], 2000);
    const count = raw['count'];
    const basis = str(raw['basis'], 2000);
    if (kind === undefined || !kinds.has(kind) || selector === undefined || selector === '' || typeof count !== 'number') continue;
    candidates.push({ kind: kind as CandidateKind, selector, count, ...(basis === undefined ? {} : { basis }) });
  }
  return { key, candidates };
}

/** Check a payload from the page; undefined when it is not a well-formed event. */
export function parsePageEvent(value: unknown): PageEvent | undefined {
  if (!isRecord(value)) return undefined;
  const t = target(value['target']);
  switch (value['type']) {
    case 'click': {
      if (t === undefined) return undefined;
      const button = str(value['button'], 10) ?? 'left';
      const modifiers = (strings(value['modifiers'], 4) ?? []).filter((m) => modifierNames.has(m)) as ('Alt' | 'Control' | 'Meta' | 'Shift')[];
      return { type: 'click', target: t, button: buttons.has(button) ? (button as 'left') : 'left', modifiers, double: value['double'] === true };
    }
    case 'input': {
      if (t === undefined) return undefined;
      const secretField = str(value['secretField'], 200);
      if (secretField !== undefined) return { type: 'input', target: t, secretField };
      const v = str(value['value']);
      return v === undefined ? undefined : { type: 'input', target: t, value: v };
    }
    case 'select': {
      const values = strings(value['values']);
      return t === undefined || values === undefined || values.length === 0 ? undefined : { type: 'select', target: t, values };
    }
    case 'check':
      return t === undefined ? undefined : { type: 'check', target: t, checked: value['checked'] === true };
    case 'press': {
      const key = str(value['key'], 100);
      if (key === undefined || key === '') return undefined;
      return t === undefined ? { type: 'press', key } : { type: 'press', target: t, key };
    }
    case 'upload': {
      const fileNames = strings(value['fileNames'], 20);
      return t === undefined || fileNames === undefined ? undefined : { type: 'upload', target: t, fileNames };
    }
    case 'assertText': {
      const text = str(value['text']);
      return t === undefined || text === undefined ? undefined : { type: 'assertText', target: t, text };
    }
    case 'assertVisible':
      return t === undefined ? undefined : { type: 'assertVisible', target: t };
    case 'hover':
      return t === undefined ? undefined : { type: 'hover', target: t };
    case 'newStep': {
      const name = str(value['name'], 200);
      return name === undefined || name.trim() === '' ? { type: 'newStep' } : { type: 'newStep', name: name.trim() };
    }
    case 'stop':
      return { type: 'stop' };
    case 'document': {
      const url = str(value['url'], 8000);
      const title = str(value['title'], 1000) ?? '';
      return url === undefined ? undefined : { type: 'document', url, title };
    }
    default:
      return undefined;
  }
}
