import { EngineError } from '../core/errors.ts';

/**
 * The secrets an agent gives to scripts: exactly what the operator listed — the entries of its secrets file
 * and the environment variables named in its allow-list — never the rest of its environment (cloud keys,
 * database URLs, its own token). A monitor is written on the control plane, so anyone who can edit monitors
 * could otherwise read any variable of the agent through `{{secret.NAME}}` and send it to a site.
 */
export class SecretSource {
  readonly #file: ReadonlyMap<string, string>;
  readonly #envNames: ReadonlySet<string>;
  readonly #env: Readonly<Record<string, string | undefined>>;
  readonly #token: string;

  constructor(options: { file?: ReadonlyMap<string, string> | undefined; envNames?: readonly string[] | undefined; env: Readonly<Record<string, string | undefined>>; token: string }) {
    this.#file = options.file ?? new Map();
    this.#envNames = new Set(options.envNames ?? []);
    this.#env = options.env;
    this.#token = options.token;
  }

  /** How many secrets scripts can read (for the start line; never their values). */
  get size(): number {
    return new Set([...this.#file.keys(), ...[...this.#envNames].filter((name) => this.#env[name] !== undefined)]).size;
  }

  /** The value of an allowed secret; undefined for anything not listed, the agent's configuration and its token. */
  lookup = (name: string): string | undefined => {
    if (/^CHECKPOINT_/i.test(name)) return undefined;
    const value = this.#file.get(name) ?? (this.#envNames.has(name) && Object.hasOwn(this.#env, name) ? this.#env[name] : undefined);
    return value === this.#token ? undefined : value;
  };

  /** SECRET_MISSING for `names` (none of them available), saying how the operator allows them. Names only, never values. */
  missing(names: readonly string[]): EngineError {
    const quoted = names.map((name) => `"${name}"`).join(', ');
    const plural = names.length > 1;
    const listed = names.filter((name) => this.#envNames.has(name));
    const why = listed.length === names.length ? `listed in the allow-list but not set in the agent's environment` : `not given to scripts by this checkpoint`;
    return new EngineError(
      'SECRET_MISSING',
      `secret${plural ? 's' : ''} ${quoted} ${plural ? 'are' : 'is'} ${why}: the agent passes only the secrets its operator lists. ` +
        `Add ${plural ? 'them' : 'it'} to the agent's secrets file (--secrets-file, CHECKPOINT_SECRETS_FILE) or name the environment variable${plural ? 's' : ''} in ` +
        `its allow-list (--secret-env ${names.join(',')}, or CHECKPOINT_SECRETS_ENV=${names.join(',')}), then restart the agent`,
      'script',
    );
  }
}
