/**
 * Our selector syntax → Playwright's. CSS, `text=`, `role=`, `xpath=` and `>>` chains are Playwright's own;
 * `testid=x` is the `data-testid` attribute and a bare `//…` is XPath. Shared by the runner (actions) and
 * the collectors (masking), so both read a script's selectors the same way.
 */
export function toPlaywrightSelector(selector: string): string {
  return selector
    .split(/\s*>>\s*/)
    .map((part) => {
      if (part.startsWith('testid=')) return `internal:testid=[data-testid=${JSON.stringify(part.slice('testid='.length))}s]`;
      if (part.startsWith('//') || part.startsWith('(//')) return `xpath=${part}`;
      return part;
    })
    .join(' >> ');
}
