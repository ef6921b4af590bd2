import { JSONPath } from 'jsonpath-plus';

/** What assertions and extractions read from a response. */
export interface ResponseView {
  status: number;
  /** Lower-case names. */
  headers: Readonly<Record<string, string>>;
  text: string;
  /** From the start of the request (DNS included) to the end of the body, redirects included. */
  responseTimeMs: number;
  sizeBytes: number;
}

/** The result of reading a value: found (with the value) or not, and why not. */
export type Lookup = { found: true; value: unknown } | { found: false; why: string };

const notJson = Symbol('not JSON');
const parsed = new WeakMap<ResponseView, unknown>();

function jsonOf(view: ResponseView): unknown {
  if (!parsed.has(view)) {
    let value: unknown = notJson;
    try {
      value = JSON.parse(view.text);
    } catch {
      // Stays notJson: the caller says the body is not JSON.
    }
    parsed.set(view, value);
  }
  return parsed.get(view);
}

/**
 * A JSONPath in the JSON body: its one match, or the list of every match when there are several
 * (`$.items[*].status`). `$.items.length` gives an array's length.
 */
export function readJsonPath(view: ResponseView, path: string): Lookup {
  const json = jsonOf(view);
  if (json === notJson) return { found: false, why: `the body is not JSON (it starts with ${JSON.stringify(view.text.slice(0, 40))})` };
  let matches: unknown[];
  try {
    matches = JSONPath({ path, json: json as object, wrap: true, eval: false }) as unknown[];
  } catch (error) {
    return { found: false, why: `the JSONPath ${path} is not valid: ${error instanceof Error ? error.message : String(error)}` };
  }
  if (matches.length === 0) return { found: false, why: `nothing in the body matches ${path}` };
  return { found: true, value: matches.length === 1 ? matches[0] : matches };
}

export function readHeader(view: ResponseView, name: string): Lookup {
  const value = view.headers[name.toLowerCase()];
  return value === undefined ? { found: false, why: `the response has no ${name} header` } : { found: true, value };
}

/** The first group of a regular expression on the body, or the whole match when it has no group. */
export function readRegex(view: ResponseView, pattern: string): Lookup {
  const match = new RegExp(pattern).exec(view.text);
  if (match === null) return { found: false, why: `nothing in the body matches /${pattern}/` };
  return { found: true, value: match[1] ?? match[0] };
}

/** A value as text for comparisons and messages (objects as JSON). */
export function asText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined) return '';
  if (value === null || typeof value === 'object') return JSON.stringify(value);
  return typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint' ? String(value) : '';
}
