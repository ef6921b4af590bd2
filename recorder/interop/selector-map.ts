// Selector translation between DevTools Recorder selectors (`aria/`, `xpath/`, `pierce/`, `text/`, CSS, arrays
// scoped through shadow roots) and ours (CSS, `text=`, `role=`, `testid=`, `xpath=`, `a >> b`, alternatives).
import { anyRoleSelector, parseAnyRole, splitChain } from '../../engine/index.ts';
import type { DevtoolsSelector } from './devtools-schema.ts';

/** Most alternatives our schema accepts for one selector. */
export const maxAlternatives = 10;
const maxSelectorLength = 2000;

export interface ImportedSelector {
  /** Our alternatives, best first; empty when none could be translated. */
  alternatives: string[];
  /** What could not be translated, one message each. */
  problems: string[];
}

const ariaPattern = /^(.*?)\[role="((?:[^"\\]|\\.)*)"\]$/s;

function quote(text: string): string {
  return JSON.stringify(text);
}

/** One DevTools selector part → ours. */
function importPart(part: string): string | { problem: string } {
  if (part.startsWith('aria/')) {
    const body = part.slice('aria/'.length);
    const withRole = ariaPattern.exec(body);
    if (withRole !== null) {
      const role = (withRole[2] ?? '').replace(/\\(.)/g, '$1');
      const name = withRole[1] ?? '';
      return name === '' ? `role=${role}` : `role=${role}[name=${quote(name)} s]`;
    }
    // Without a role: that accessible name, whatever the role (Puppeteer queries the accessibility tree).
    return anyRoleSelector(body);
  }
  if (part.startsWith('xpath/')) return `xpath=${part.slice('xpath/'.length)}`;
  // Playwright's CSS engine pierces open shadow roots already.
  if (part.startsWith('pierce/')) return part.slice('pierce/'.length);
  if (part.startsWith('text/')) return `text=${part.slice('text/'.length)}`;
  if (part.includes('::-p-')) return { problem: `Puppeteer-only selector syntax in ${quote(part)}` };
  return part;
}

/** DevTools `selectors` → our alternatives (string parts of a chain become `a >> b`). */
export function importSelectors(selectors: readonly DevtoolsSelector[]): ImportedSelector {
  const alternatives: string[] = [];
  const problems: string[] = [];
  for (const selector of selectors) {
    const parts = typeof selector === 'string' ? [selector] : selector;
    const translated: string[] = [];
    let ok = true;
    for (const part of parts) {
      const result = importPart(part);
      if (typeof result !== 'string') {
        problems.push(`${result.problem}: that alternative is left out`);
        ok = false;
        break;
      }
      translated.push(result);
    }
    if (!ok) continue;
    const joined = translated.join(' >> ');
    if (joined.length > maxSelectorLength) {
      problems.push(`selector ${quote(joined.slice(0, 60))}… is longer than ${maxSelectorLength} characters: that alternative is left out`);
      continue;
    }
    if (!alternatives.includes(joined)) alternatives.push(joined);
  }
  // @puppeteer/replay races all alternatives, so their order carries no meaning; ours prefers earlier ones and
  // an accessible-name query over every role costs several role queries: it goes after the cheap ones.
  const ordered = [...alternatives.filter((a) => !a.startsWith('role=*')), ...alternatives.filter((a) => a.startsWith('role=*'))];
  alternatives.splice(0, alternatives.length, ...ordered);
  if (alternatives.length > maxAlternatives) {
    problems.push(`${alternatives.length} alternatives, at most ${maxAlternatives} are kept: ${alternatives.slice(maxAlternatives).join(' | ')} left out`);
    alternatives.length = maxAlternatives;
  }
  return { alternatives, problems };
}

export interface ExportedSelector {
  selectors: DevtoolsSelector[];
  problems: string[];
}

const rolePattern = /^role=([a-z]+)(?:\[name=("(?:[^"\\]|\\.)*")\s*([si])?\])?$/;
const labelPattern = /^internal:label=("(?:[^"\\]|\\.)*")s?$/;
const quotedTextPattern = /^text=("(?:[^"\\]|\\.)*")$/;

/** Playwright-only CSS extensions DevTools (plain querySelector) does not understand. */
const playwrightCss = /:(has-text|text|text-is|text-matches|visible|nth-match|light|left-of|right-of|above|below|near)\(|:visible\b/;

function exportPart(part: string): string | { problem: string } {
  const trimmed = part.trim();
  if (trimmed.startsWith('testid=')) return `[data-testid=${quote(trimmed.slice('testid='.length))}]`;
  if (trimmed.startsWith('xpath=')) return `xpath/${trimmed.slice('xpath='.length)}`;
  if (trimmed.startsWith('//') || trimmed.startsWith('(//')) return `xpath/${trimmed}`;
  const label = labelPattern.exec(trimmed);
  if (label !== null) return `aria/${JSON.parse(label[1] ?? '""') as string}`;
  const anyRole = parseAnyRole(trimmed);
  if (anyRole !== undefined) return `aria/${anyRole.name}`;
  const role = rolePattern.exec(trimmed);
  if (role !== null) {
    if (role[2] === undefined) return { problem: `${quote(trimmed)} has no name; DevTools aria selectors need one` };
    const name = JSON.parse(role[2]) as string;
    return `aria/${name}[role="${role[1] ?? ''}"]`;
  }
  if (trimmed.startsWith('role=')) return { problem: `${quote(trimmed)} uses role options DevTools cannot express` };
  const quotedText = quotedTextPattern.exec(trimmed);
  if (quotedText !== null) return `text/${JSON.parse(quotedText[1] ?? '""') as string}`;
  if (trimmed.startsWith('text=')) return `text/${trimmed.slice('text='.length)}`;
  if (/^(nth|visible|internal:[a-z-]+|id|data-testid|data-test-id|data-test)=/.test(trimmed)) {
    return { problem: `${quote(trimmed)} is a Playwright selector engine DevTools does not have` };
  }
  if (playwrightCss.test(trimmed)) return { problem: `${quote(trimmed)} uses Playwright-only CSS pseudo-classes` };
  return trimmed;
}

/** Our selector (or alternatives) → DevTools `selectors`; untranslatable alternatives are reported. */
export function exportSelector(selector: string | readonly string[]): ExportedSelector {
  const alternatives = typeof selector === 'string' ? [selector] : [...selector];
  // `text="X"` next to `internal:label="X"s` is the fallback importSelectors added for `aria/X`.
  const labels = new Set(alternatives.map((a) => labelPattern.exec(a)?.[1]).filter((v) => v !== undefined));
  const selectors: DevtoolsSelector[] = [];
  const problems: string[] = [];
  for (const alternative of alternatives) {
    const quotedText = quotedTextPattern.exec(alternative);
    if (quotedText !== null && labels.has(quotedText[1] ?? '')) continue;
    const parts = splitChain(alternative);
    const out: string[] = [];
    let failed: string | undefined;
    for (const part of parts) {
      const result = exportPart(part);
      if (typeof result !== 'string') {
        failed = result.problem;
        break;
      }
      out.push(result);
    }
    if (failed !== undefined) {
      problems.push(`${failed}: alternative ${quote(alternative)} left out`);
      continue;
    }
    selectors.push(out.length === 1 ? (out[0] ?? '') : out);
  }
  return { selectors, problems };
}
