/** Render a path like `['steps', 2, 'actions', 0, 'selector']` as `steps[2].actions[0].selector`. */
export function formatIssuePath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && key.length <= 60 && /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key)) out += out === '' ? key : `.${key}`;
    else {
      const text = String(key);
      out += `[${JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text)}]`;
    }
  }
  return out === '' ? '(root)' : out;
}

/** Read the value found at `path` inside `root`, or `undefined` when the path leads nowhere. */
export function valueAtPath(root: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = root;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

/** A short, safe description of a received value for messages (never dumps huge input). */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') {
    const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
    return `${JSON.stringify(shown)}${value.length > 40 ? ` (${value.length} characters)` : ''}`;
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return `${typeof value} ${value}`;
  return `a ${typeof value}`;
}

/** Extend a rendered path by one key, quoting it the way formatIssuePath does. */
export function appendPath(base: string, key: string | number): string {
  const tail = formatIssuePath([key]);
  return base === '' || base === '(root)' ? tail : tail.startsWith('[') ? `${base}${tail}` : `${base}.${tail}`;
}
