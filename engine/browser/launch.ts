import { chromium, type Browser } from 'playwright-core';
import { EngineError } from '../core/errors.ts';
import { randomUUID } from 'node:crypto';
import { registerDevtoolsEndpoint, remoteDebuggingArgs } from './devtools-endpoint.ts';
import { discoverBrowsers, type DiscoveredBrowsers } from './discover.ts';

export interface LaunchOptions {
  headed?: boolean;
  slowMoMs?: number;
  /** Override discovery (tests, pool). */
  executablePath?: string;
  /** Open a DevTools port on loopback (needed for Lighthouse). */
  remoteDebugging?: boolean;
}

/**
 * Flags that keep Chromium quiet on a closed network (no update checks, sync or component downloads) and
 * stable in containers. `--no-sandbox` only as root, where the sandbox cannot start anyway; the Linux image
 * runs as a non-root user with the sandbox on.
 */
export function chromiumArgs(disabledFeatures: readonly string[] = []): string[] {
  const args = [
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--no-default-browser-check',
    '--disable-quic',
    '--disable-dev-shm-usage',
    // Chromium honours only the last --disable-features switch: extra features go into this one.
    `--disable-features=${['Translate', 'MediaRouter', 'OptimizationHints', ...disabledFeatures].join(',')}`,
    '--metrics-recording-only',
    '--password-store=basic',
    '--use-mock-keychain',
  ];
  if (typeof process.getuid === 'function' && process.getuid() === 0) args.push('--no-sandbox');
  return args;
}

/** Pick the executable: the headless shell for headless runs when installed (about 2.8× the throughput). */
export function chooseExecutable(browsers: DiscoveredBrowsers, headed: boolean): string {
  if (!headed && browsers.headlessShell !== undefined) return browsers.headlessShell;
  return browsers.full;
}

/** Launch one browser. Throws BROWSER_NOT_FOUND or BROWSER_LAUNCH_FAILED (blame engine). */
export async function launchBrowser(options: LaunchOptions = {}): Promise<Browser> {
  const headed = options.headed === true;
  const executablePath = options.executablePath ?? chooseExecutable(discoverBrowsers(), headed);
  const marker = `--checkpoint-browser=${randomUUID()}`;
  try {
    const browser = await chromium.launch({
      executablePath,
      headless: !headed,
      args: [...chromiumArgs(), marker, ...(options.remoteDebugging === true ? remoteDebuggingArgs : [])],
      ...(options.slowMoMs === undefined ? {} : { slowMo: options.slowMoMs }),
      timeout: 30_000,
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
    });
    if (options.remoteDebugging === true) await registerDevtoolsEndpoint(browser, marker);
    return browser;
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    const hint = headed && process.env['DISPLAY'] === undefined && process.platform === 'linux' ? ' (--headed needs a display: is DISPLAY set? Try xvfb-run.)' : '';
    throw new EngineError('BROWSER_LAUNCH_FAILED', `could not start ${executablePath}: ${reason}${hint}`, 'engine', { cause: error });
  }
}
