import type { Browser } from 'playwright-core';
import { launchBrowser } from '../../engine/browser/launch.ts';
import { runTransaction, type RunTransactionOptions } from '../../engine/runner/run-transaction.ts';
import type { RunResult } from '../../engine/schema/result.ts';
import { scriptSchema, type Script } from '../../engine/schema/script.ts';

export { launchBrowser };

/** Demo-site credentials the examples read as secrets. */
export const demoSecrets: Record<string, string> = { DEMO_PASSWORD: 'demo-password', BASIC_AUTH_PASSWORD: 'basic-secret', DEMO_CLIENT_SECRET: 'demo-client-secret' };

/** Validate a literal script (so a typo in a test fails loudly) and run it in a fresh context. */
export async function runScript(
  browser: Browser,
  script: unknown,
  options: Partial<Omit<RunTransactionOptions, 'script' | 'browser'>> = {},
): Promise<RunResult> {
  const parsed: Script = scriptSchema.parse(script);
  const { result } = await runTransaction({
    script: parsed,
    browser,
    secret: (name) => demoSecrets[name],
    ...options,
  });
  return result;
}

/** The login step every demo-site test starts with. */
export function loginStep(baseUrl: string) {
  return {
    name: 'Log in',
    actions: [
      { type: 'navigate', url: `${baseUrl}/login` },
      { type: 'fill', selector: '#username', value: 'demo' },
      { type: 'fill', selector: '#password', value: '{{secret.DEMO_PASSWORD}}' },
      { type: 'click', selector: 'button[type=submit]' },
      { type: 'assertUrl', contains: '/dashboard' },
    ],
  };
}
