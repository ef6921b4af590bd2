import type { z } from 'zod';
import { describeValue, formatIssuePath, valueAtPath } from './issue-path.ts';

/** One thing wrong with a script, located by a path inside the document. */
export interface ScriptProblem {
  /** e.g. `steps[2].actions[0].selector`, or `(root)`. */
  path: string;
  message: string;
}

/** Edit distance, for "did you mean" hints on misspelled action types and fields. */
function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previousDiagonal = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j] ?? 0;
      const cost = a[i - 1]?.toLowerCase() === b[j - 1]?.toLowerCase() ? 0 : 1;
      row[j] = Math.min(above + 1, (row[j - 1] ?? 0) + 1, previousDiagonal + cost);
      previousDiagonal = above;
    }
  }
  return row[b.length] ?? 0;
}

/** The closest candidate within a small distance, if any. */
export function closestMatch(value: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(value.length / 3)) + 1;
  for (const candidate of candidates) {
    // The distance is at least the length difference: skip hopeless candidates without the O(n·m) work.
    if (Math.abs(value.length - candidate.length) >= bestDistance) continue;
    const distance = editDistance(value, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function typeName(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : typeof value;
}

/** Turn one zod issue into a problem whose message says what was expected and what was received. */
function describeIssue(issue: z.core.$ZodIssue, input: unknown): ScriptProblem | ScriptProblem[] {
  const path = formatIssuePath(issue.path);
  const received = valueAtPath(input, issue.path);
  switch (issue.code) {
    case 'invalid_type': {
      // A required field of any type (a JSON body's `value`) is `nonoptional` to zod: say what it means.
      if (received === undefined) return { path, message: `missing: expected ${issue.expected === 'nonoptional' ? 'a value' : issue.expected}` };
      // A schema's own wording ("expected a whole number of milliseconds") beats zod's generic one.
      if (!issue.message.startsWith('Invalid input')) return { path, message: issue.message };
      if (typeof received === 'number' && !Number.isFinite(received)) return { path, message: `expected a finite ${issue.expected}, got ${received}` };
      if (issue.expected === 'int') return { path, message: `expected a whole number, got ${received as number}` };
      return { path, message: `expected ${issue.expected}, got ${typeName(received)}` };
    }
    case 'unrecognized_keys': {
      return {
        path,
        message: issue.keys
          .map((key) => `unknown field ${JSON.stringify(key.length > 60 ? `${key.slice(0, 60)}…` : key)}`)
          .join('; '),
      };
    }
    case 'invalid_union': {
      // A discriminator that may be absent (`kind` of a browser script) lists `undefined` among its options: not a value to suggest.
      const options = 'options' in issue && Array.isArray(issue.options) ? (issue.options as unknown[]).filter((option) => typeof option === 'string') : [];
      if (options.length > 0) {
        const hint = typeof received === 'string' ? closestMatch(received, options) : undefined;
        const got = received === undefined ? 'nothing' : describeValue(received);
        return {
          path,
          message: `expected one of ${options.join(', ')}; got ${got}${hint === undefined ? '' : ` (did you mean "${hint}"?)`}`,
        };
      }
      // When exactly one branch got past the type check (a list where a list is allowed), its problems are
      // the useful ones, located inside the value.
      const deeper = issue.errors.filter((branch) => !branch.every((sub) => sub.code === 'invalid_type' && sub.path.length === 0));
      if (deeper.length === 1 && deeper[0] !== undefined) {
        return deeper[0].flatMap((sub) => describeIssue({ ...sub, path: [...issue.path, ...sub.path] }, input));
      }
      if (path.endsWith('selector') || received === undefined) {
        return {
          path,
          message:
            received === undefined
              ? 'missing: expected a selector string or a list of selectors'
              : `expected a selector string or a list of selectors, got ${typeName(received)}`,
        };
      }
      const first = issue.errors[0]?.[0];
      return { path, message: first ? first.message : `unexpected ${typeName(received)}` };
    }
    case 'invalid_value': {
      const values = issue.values.map((v) => JSON.stringify(v)).join(', ');
      return { path, message: `expected one of ${values}; got ${describeValue(received)}` };
    }
    case 'invalid_key': {
      const nested = issue.issues[0]?.message;
      return { path, message: nested === undefined || nested.startsWith('Invalid') ? 'invalid key' : nested };
    }
    case 'too_small':
    case 'too_big':
    case 'invalid_format':
    case 'custom':
    case 'not_multiple_of':
    case 'invalid_element':
      return { path, message: issue.message.startsWith('Invalid') || issue.message.startsWith('Too') ? `${issue.message.replace(/^Invalid input: /, '')}` : issue.message };
  }
}

/** All problems of a failed zod parse, de-duplicated and ordered by path. */
export function describeIssues(issues: readonly z.core.$ZodIssue[], input: unknown): ScriptProblem[] {
  const seen = new Set<string>();
  const problems: ScriptProblem[] = [];
  for (const problem of issues.flatMap((issue) => describeIssue(issue, input))) {
    const key = `${problem.path}\u0000${problem.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push(problem);
  }
  return problems;
}

/** Line and column (1-based) of a character offset in a text. */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, offset));
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return { line, column };
}
