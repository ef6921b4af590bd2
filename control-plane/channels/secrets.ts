/** `{{env.NAME}}` in channel settings: the value comes from the control plane's environment when sending. */
const reference = /\{\{\s*env\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

export type Environment = Readonly<Record<string, string | undefined>>;

const ownCredentials = new Set(['CHECKPOINT_ADMIN_TOKEN', 'CHECKPOINT_METRICS_TOKEN', 'CHECKPOINT_WEBHOOK_SECRET', 'CHECKPOINT_DATABASE_URL']);

/** The environment variables a text refers to. */
export function envReferences(text: string): string[] {
  return [...text.matchAll(reference)].map((match) => match[1] ?? '');
}

/** Replace every `{{env.NAME}}`; an unset or empty variable is an error naming it (never a silent empty URL). */
export function resolveEnv(text: string, env: Environment): string {
  return text.replace(reference, (_whole, name: string) => {
    // The control plane's own credentials are never channel values (a channel's URL could carry them away).
    if (ownCredentials.has(name.toUpperCase())) throw new Error(`environment variable ${name} is a credential of the control plane itself and cannot be used in a channel`);
    const value = env[name];
    if (value === undefined || value === '') throw new Error(`environment variable ${name} is not set on the control plane`);
    return value;
  });
}

/** Every string in a JSON value, with its path (`smtp.password`, `headers.Authorization`). */
export function stringsIn(value: unknown, path = ''): { path: string; text: string }[] {
  if (typeof value === 'string') return [{ path, text: value }];
  if (Array.isArray(value)) return value.flatMap((item, index) => stringsIn(item, `${path}[${index}]`));
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([key, item]) => stringsIn(item, path === '' ? key : `${path}.${key}`));
  }
  return [];
}
