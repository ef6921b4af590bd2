/**
 * Our selector syntax → Playwright's. CSS, `text=`, `role=`, `xpath=` and `>>` chains are Playwright's own;
 * `testid=x` is the `data-testid` attribute, a bare `//…` is XPath, and `role=*[name="…"]` is an accessible-name
 * query over every role (DevTools `aria/Name`). Shared by the runner (actions) and the collectors (masking), so
 * both read a script's selectors the same way.
 */

import { parseAnyRole, splitChain, type AnyRoleQuery } from '../schema/selector.ts';

/**
 * Roles whose accessible name Playwright's role engine computes from content or attributes, tried by `role=*`.
 * Names given by `aria-label`, `aria-labelledby` or a `<label>` are found for every role by the label engine.
 */
export const anyRoleNamedRoles: readonly string[] = [
  'link',
  'button',
  'menuitem',
  'menuitemcheckbox',
  'menuitemradio',
  'tab',
  'option',
  'treeitem',
  'checkbox',
  'radio',
  'switch',
  'heading',
  'textbox',
  'searchbox',
  'combobox',
  'spinbutton',
  'slider',
  'img',
  'cell',
  'columnheader',
  'rowheader',
];

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/**
 * A union (Playwright's `internal:or`) of one role query per named role, plus the label engine for names from
 * `aria-label` / `aria-labelledby` / `<label>` and the `alt` / `placeholder` attributes browsers name from.
 * Each keeps Playwright's accessible-name computation (whitespace normalised, hidden elements left out).
 */
function anyRoleToPlaywright(query: AnyRoleQuery): string {
  const quoted = JSON.stringify(query.name);
  const exactFlag = query.caseSensitive ? ' s' : ' i';
  // The label and attribute engines match substrings unless `s`; a whole-string case-insensitive match is a regex.
  const whole = query.caseSensitive ? `${quoted}s` : `/^${escapeRegex(query.name.trim().replace(/\s+/g, ' '))}$/i`;
  const parts = [
    ...anyRoleNamedRoles.map((role) => `role=${role}[name=${quoted}${exactFlag}]`),
    `internal:label=${whole}`,
    `internal:attr=[alt=${whole}]`,
    `internal:attr=[placeholder=${whole}]`,
  ];
  return parts.map((part, index) => (index === 0 ? part : `internal:or=${JSON.stringify(part)}`)).join(' >> ');
}

export function toPlaywrightSelector(selector: string): string {
  return splitChain(selector)
    .map((part, index) => {
      if (part.startsWith('testid=')) return `internal:testid=[data-testid=${JSON.stringify(part.slice('testid='.length))}s]`;
      if (part.startsWith('//') || part.startsWith('(//')) return `xpath=${part}`;
      const anyRole = parseAnyRole(part);
      if (anyRole === undefined) return part;
      // `internal:or` queries from the document, not from the previous part's matches: scope it in a nested chain.
      const union = anyRoleToPlaywright(anyRole);
      return index === 0 ? union : `internal:chain=${JSON.stringify(union)}`;
    })
    .join(' >> ');
}
