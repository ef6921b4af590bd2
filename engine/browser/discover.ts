import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { EngineError } from '../core/errors.ts';

/** Names looked up on PATH, best first. The headless shell is much faster for headless runs (TOOLCHAIN.md). */
const headedNames = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable', 'chrome'];
const headlessShellNames = ['chromium-headless-shell', 'headless_shell'];

/** Usual install locations when PATH does not have them (containers often have a minimal PATH). */
const wellKnownPaths: Record<string, string[]> = {
  linux: [
    '/usr/bin/chromium',
    '/usr/bin/chromium-browser',
    '/usr/lib/chromium/chromium',
    '/snap/bin/chromium',
    '/usr/bin/google-chrome',
    '/usr/bin/google-chrome-stable',
    '/opt/google/chrome/chrome',
  ],
  darwin: [
    '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
    '/Applications/Chromium.app/Contents/MacOS/Chromium',
  ],
  win32: [
    'C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe',
    'C:\\Program Files (x86)\\Google\\Chrome\\Application\\chrome.exe',
    'C:\\Program Files\\Chromium\\Application\\chrome.exe',
  ],
};
const wellKnownHeadlessShellPaths = ['/usr/bin/chromium-headless-shell', '/usr/lib/chromium/chromium-headless-shell'];

export interface BrowserDiscoveryEnvironment {
  env: Record<string, string | undefined>;
  platform: NodeJS.Platform;
  isExecutable(path: string): boolean;
}

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, process.platform === 'win32' ? constants.F_OK : constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export const realEnvironment: BrowserDiscoveryEnvironment = {
  env: process.env,
  platform: process.platform,
  isExecutable: isExecutableFile,
};

function onPath(names: readonly string[], environment: BrowserDiscoveryEnvironment): string | undefined {
  const dirs = (environment.env['PATH'] ?? '').split(delimiter).filter((d) => d !== '');
  const suffixes = environment.platform === 'win32' ? ['.exe', ''] : [''];
  for (const name of names) {
    for (const dir of dirs) {
      for (const suffix of suffixes) {
        const candidate = join(dir, name + suffix);
        if (environment.isExecutable(candidate)) return candidate;
      }
    }
  }
  return undefined;
}

/** The advice printed when no browser is found. */
export function installAdvice(platform: NodeJS.Platform): string {
  if (platform === 'linux') {
    return 'Install one with `apt-get install -y chromium chromium-headless-shell` (Debian/Ubuntu, as root), or set CHROME_PATH to a Chrome or Chromium executable.';
  }
  return 'Install Google Chrome or Chromium, or set CHROME_PATH to its executable.';
}

export interface DiscoveredBrowsers {
  /** Full Chromium/Chrome: needed for --headed. */
  full: string;
  /** The headless shell when installed (and CHROME_PATH is not forcing a browser): used for headless runs. */
  headlessShell?: string;
}

/**
 * Find the browser to drive. `CHROME_PATH` wins and must point at an executable; then chromium/chrome on
 * PATH, then the usual install locations. Throws BROWSER_NOT_FOUND (blame engine) with install advice.
 */
export function discoverBrowsers(environment: BrowserDiscoveryEnvironment = realEnvironment): DiscoveredBrowsers {
  const forced = environment.env['CHROME_PATH'];
  if (forced !== undefined && forced !== '') {
    if (!environment.isExecutable(forced)) {
      throw new EngineError(
        'BROWSER_NOT_FOUND',
        `CHROME_PATH is set to "${forced}", which is not an executable file. ${installAdvice(environment.platform)}`,
        'engine',
      );
    }
    return { full: forced };
  }
  const full =
    onPath(headedNames, environment) ??
    (wellKnownPaths[environment.platform] ?? []).find((path) => environment.isExecutable(path));
  const headlessShell =
    onPath(headlessShellNames, environment) ?? wellKnownHeadlessShellPaths.find((path) => environment.isExecutable(path));
  if (full === undefined) {
    if (headlessShell !== undefined) return { full: headlessShell, headlessShell };
    throw new EngineError('BROWSER_NOT_FOUND', `No Chrome or Chromium browser was found. ${installAdvice(environment.platform)}`, 'engine');
  }
  return headlessShell === undefined ? { full } : { full, headlessShell };
}
