import type { Script } from '../schema/script.ts';
import type { ScriptProblem } from './script-problems.ts';
import { appendPath } from './issue-path.ts';
import { placeholdersIn } from './templates.ts';

export interface PlaceholderReport {
  /** Variables used before anything gives them a value. */
  problems: ScriptProblem[];
  /** Every secret the script reads, to resolve (and mask) before the browser starts. */
  secretNames: string[];
}

function visitStrings(value: unknown, path: string, visit: (text: string, path: string) => void): void {
  if (typeof value === 'string') visit(value, path);
  else if (Array.isArray(value)) value.forEach((item, index) => visitStrings(item, appendPath(path, index), visit));
  else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) if (key !== 'type') visitStrings(item, appendPath(path, key), visit);
  }
}

/**
 * Check, before anything runs, that every `{{name}}` has a value by the time it is used: from the script's
 * variables, a `--var` override, or an earlier extract/evaluate. Catching this up front turns a mid-run
 * failure (after minutes of browsing) into an immediate, located bad-input error.
 */
export function checkPlaceholders(script: Script, overrides: Readonly<Record<string, string>>): PlaceholderReport {
  const { known, check, report } = placeholderCollector(script.variables, overrides, 'an earlier extract/evaluate');
  visitStrings(script.settings ?? {}, 'settings', check);
  script.steps.forEach((step, stepIndex) => {
    step.actions.forEach((action, actionIndex) => {
      const path = `steps[${stepIndex}].actions[${actionIndex}]`;
      visitStrings(action, path, check);
      if ((action.type === 'extract' || action.type === 'evaluate') && action.variable !== undefined) known.add(action.variable);
    });
  });
  return report();
}

/**
 * What every kind's placeholder check shares: the names known so far (the script's variables and `--var`), a
 * `check(text, path)` that records secrets and unknown variables, and the report. Secrets the variables read are
 * counted too.
 */
export function placeholderCollector(variables: Readonly<Record<string, string>> | undefined, overrides: Readonly<Record<string, string>>, laterSource: string) {
  const known = new Set([...Object.keys(variables ?? {}), ...Object.keys(overrides)]);
  const secrets = new Set<string>();
  const problems: ScriptProblem[] = [];
  const check = (text: string, path: string) => {
    for (const placeholder of placeholdersIn(text)) {
      if (placeholder.kind === 'secret') secrets.add(placeholder.name);
      else if (!known.has(placeholder.name)) {
        problems.push({ path, message: `variable "${placeholder.name}" has no value here (expected it in "variables", a --var ${placeholder.name}=… option, or ${laterSource})` });
      }
    }
  };
  for (const value of Object.values(variables ?? {})) {
    for (const placeholder of placeholdersIn(value)) if (placeholder.kind === 'secret') secrets.add(placeholder.name);
  }
  const report = (): PlaceholderReport => ({ problems, secretNames: [...secrets].sort() });
  return { known, check, report };
}
