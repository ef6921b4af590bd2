import type { AssertionOperator, AssertionSpec } from '../../schema/checks/api.ts';
import { asText, readHeader, readJsonPath, readRegex, type Lookup, type ResponseView } from './response-view.ts';

/** How one assertion came out, as the report shows it. */
export interface AssertionOutcome {
  /** e.g. `status equals 200`, `jsonPath $.items.length greaterThan 2`. */
  description: string;
  passed: boolean;
  /** What was found (shortened), or why nothing was. */
  actual: string;
}

const shorten = (text: string) => (text.length > 200 ? `${text.slice(0, 200)}…` : text);

function looselyEqual(actual: unknown, expected: string | number | boolean): boolean {
  if (typeof expected === 'number') return actual !== null && actual !== '' && Number(actual) === expected;
  if (typeof expected === 'boolean') return actual === expected || asText(actual) === String(expected);
  return asText(actual) === expected;
}

/** Compare a looked-up value; a value that was not found passes only `notExists`. */
export function compare(lookup: Lookup, operator: AssertionOperator, expected: string | number | boolean | undefined): boolean {
  if (operator === 'exists') return lookup.found;
  if (operator === 'notExists') return !lookup.found;
  // A value that is not there fails every comparison (a missing field is not "not equal": it is missing).
  if (!lookup.found || expected === undefined) return false;
  const actual = lookup.value;
  switch (operator) {
    case 'equals':
      return looselyEqual(actual, expected);
    case 'notEquals':
      return !looselyEqual(actual, expected);
    case 'contains':
      return Array.isArray(actual) ? actual.some((item) => looselyEqual(item, expected)) : asText(actual).includes(String(expected));
    case 'notContains':
      return Array.isArray(actual) ? !actual.some((item) => looselyEqual(item, expected)) : !asText(actual).includes(String(expected));
    case 'matches':
      return new RegExp(String(expected)).test(asText(actual));
    case 'lessThan':
    case 'lessThanOrEqual':
    case 'greaterThan':
    case 'greaterThanOrEqual': {
      const number = typeof actual === 'number' ? actual : actual === null || asText(actual).trim() === '' ? Number.NaN : Number(asText(actual));
      const limit = Number(expected);
      if (Number.isNaN(number)) return false;
      if (operator === 'lessThan') return number < limit;
      if (operator === 'lessThanOrEqual') return number <= limit;
      if (operator === 'greaterThan') return number > limit;
      return number >= limit;
    }
  }
}

function lookupOf(assertion: AssertionSpec, view: ResponseView): { subject: string; lookup: Lookup } {
  switch (assertion.type) {
    case 'status':
      return { subject: 'status', lookup: { found: true, value: view.status } };
    case 'header':
      return { subject: `header ${assertion.name}`, lookup: readHeader(view, assertion.name) };
    case 'jsonPath':
      return { subject: `jsonPath ${assertion.path}`, lookup: readJsonPath(view, assertion.path) };
    case 'body':
      return { subject: 'body', lookup: { found: true, value: view.text } };
    case 'regex':
      return { subject: `regex /${assertion.pattern}/`, lookup: readRegex(view, assertion.pattern) };
    case 'responseTimeMs':
      return { subject: 'responseTimeMs', lookup: { found: true, value: Math.round(view.responseTimeMs * 10) / 10 } };
    case 'sizeBytes':
      return { subject: 'sizeBytes', lookup: { found: true, value: view.sizeBytes } };
  }
}

/** Judge every assertion of a step on its response. */
export function judgeAssertions(assertions: readonly AssertionSpec[], view: ResponseView): AssertionOutcome[] {
  return assertions.map((assertion) => {
    const { subject, lookup } = lookupOf(assertion, view);
    const value = 'value' in assertion ? assertion.value : undefined;
    const description = `${subject} ${assertion.operator}${value === undefined ? '' : ` ${JSON.stringify(value)}`}`;
    const passed = compare(lookup, assertion.operator, value);
    return { description, passed, actual: lookup.found ? shorten(asText(lookup.value)) : lookup.why };
  });
}

/** One sentence for the first failed assertion: what was expected, what was found. */
export function assertionFailureMessage(failed: AssertionOutcome, stepName: string, others: number): string {
  const more = others > 0 ? ` (and ${others} more assertion${others > 1 ? 's' : ''} failed)` : '';
  return `Step "${stepName}": expected ${failed.description}, got ${JSON.stringify(failed.actual)}${more}`;
}
