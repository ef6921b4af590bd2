import { appendPath } from '../core/issue-path.ts';
import { checkPlaceholders, placeholderCollector, type PlaceholderReport } from '../core/placeholder-check.ts';
import { isApiScript, isBrowserScript, type CheckScript, type MonitorScript } from '../schema/script.ts';

/** Fields every check has that are never templated. */
const commonFields = new Set(['$schema', 'kind', 'name', 'description', 'variables', 'timeoutMs', 'conditions']);

/** The templated part of a single-step check (`http` or an infrastructure kind): every field but the common ones. */
export function checkSpecOf(script: CheckScript): Record<string, unknown> {
  return Object.fromEntries(Object.entries(script).filter(([key]) => !commonFields.has(key)));
}

/** Every string inside a value, `type` keys included (a JSON body may have its own `type` field). */
function visitStrings(value: unknown, path: string, visit: (text: string, path: string) => void): void {
  if (typeof value === 'string') visit(value, path);
  else if (Array.isArray(value)) value.forEach((item, index) => visitStrings(item, appendPath(path, index), visit));
  else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) visitStrings(item, appendPath(path, key), visit);
  }
}

/**
 * Before anything runs: every `{{name}}` of a check has a value by the time it is used (the script's variables,
 * `--var`, or an `extract` of an earlier API step), and the secrets it reads, to resolve and mask up front.
 */
export function checkCheckPlaceholders(script: CheckScript, overrides: Readonly<Record<string, string>>): PlaceholderReport {
  const { known, check, report } = placeholderCollector(script.variables, overrides, 'an extract of an earlier step');
  if (isApiScript(script)) {
    visitStrings(script.settings ?? {}, 'settings', check);
    script.steps.forEach((step, index) => {
      const path = `steps[${index}]`;
      visitStrings(step.request, `${path}.request`, check);
      visitStrings(step.auth ?? {}, `${path}.auth`, check);
      visitStrings(step.assertions ?? [], `${path}.assertions`, check);
      for (const extract of step.extract ?? []) known.add(extract.name);
    });
  } else {
    for (const [key, value] of Object.entries(checkSpecOf(script))) visitStrings(value, key, check);
  }
  return report();
}

/** `checkPlaceholders` for a script of any kind (what `checkpoint validate` and the control plane check at save time). */
export function checkScriptPlaceholders(script: MonitorScript, overrides: Readonly<Record<string, string>>): PlaceholderReport {
  return isBrowserScript(script) ? checkPlaceholders(script, overrides) : checkCheckPlaceholders(script, overrides);
}
