import { EngineError } from '../core/errors.ts';
import { checkPlaceholders } from '../core/placeholder-check.ts';
import { Redactor } from '../core/redactor.ts';
import { renderTemplate, type TemplateValues } from '../core/templates.ts';
import type { Script } from '../schema/script.ts';

/** Resolve every secret up front: a missing one is bad input, found before a browser is touched. */
/** The values of the secrets a script reads; any that is not set is SECRET_MISSING (blame script), naming them all. */
export function resolveSecrets(names: readonly string[], lookup: (name: string) => string | undefined): Map<string, string> {
  const values = new Map<string, string>();
  const missing = names.filter((name) => {
    const value = lookup(name);
    if (value !== undefined) values.set(name, value);
    return value === undefined;
  });
  if (missing.length > 0) {
    throw new EngineError(
      'SECRET_MISSING',
      `secret${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')} not set (expected environment variable${missing.length > 1 ? 's' : ''} ${missing.join(', ')} or entries in the secrets file)`,
      'script',
    );
  }
  return values;
}

/**
 * Validate placeholders and resolve secrets without a browser. Throws EngineError (blame script) for bad
 * input, so callers can exit 2 before launching anything.
 */
export function prepareRun(script: Script, overrides: Readonly<Record<string, string>>, secret: (name: string) => string | undefined) {
  const report = checkPlaceholders(script, overrides);
  if (report.problems.length > 0) {
    const first = report.problems[0];
    throw new EngineError('VARIABLE_MISSING', `${first?.path ?? ''}: ${first?.message ?? ''}`, 'script');
  }
  const secrets = resolveSecrets(report.secretNames, secret);
  const redactor = new Redactor(secrets.values());
  const variables = new Map<string, string>();
  const values: TemplateValues = { variable: (name) => variables.get(name), secret: (name) => secrets.get(name) };
  for (const [name, value] of Object.entries({ ...script.variables, ...overrides })) {
    variables.set(name, renderTemplate(value, values, `variables.${name}`));
  }
  const credentials = script.settings?.httpCredentials;
  if (credentials !== undefined) {
    // Basic auth sends base64("user:password"); mask that whole string too.
    const user = renderTemplate(credentials.username, values, 'settings.httpCredentials.username');
    const password = renderTemplate(credentials.password, values, 'settings.httpCredentials.password');
    if (secrets.size > 0) redactor.add(`${user}:${password}`);
  }
  return { variables, values, redactor };
}
