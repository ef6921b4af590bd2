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
  /** Proxy and trusted CAs of the test traffic. */
  network?: BrowserNetwork | undefined;
}

/** How the browsers reach the monitored sites on an enterprise network (docs/security.md). */
export interface BrowserNetwork {
  /** Proxy of the test traffic: http://, https:// or socks5:// (credentials in the URL are sent as proxy auth). */
  proxy?: string | undefined;
  /** Hosts reached without the proxy, comma-separated (Chromium's bypass rules: `.corp.example`, `10.0.0.0/8`, `localhost`). */
  proxyBypass?: string | undefined;
  /** A HOME whose NSS database ($HOME/.pki/nssdb) trusts the operator's CA (trust-store.ts makes it). */
  homeDir?: string | undefined;
}

/** The network each browser was launched with (Playwright does not tell): the egress guard needs its proxy. */
const launchedNetworks = new WeakMap<Browser, BrowserNetwork>();

/** Note the network `browser` was launched with (launchBrowser and the pool do). */
export function rememberNetwork(browser: Browser, network: BrowserNetwork | undefined): void {
  if (network !== undefined) launchedNetworks.set(browser, network);
}

/** The network `browser` was launched with, when it was launched here with one. */
export function networkOf(browser: Browser): BrowserNetwork | undefined {
  return launchedNetworks.get(browser);
}

/**
 * Playwright launch options for `network`. One list says what skips the proxy, nothing implicit: Chromium's
 * `<-loopback>` rule cancels its built-in bypass of localhost and 127.0.0.0/8 (which Playwright keeps
 * whenever the list names any loopback host), so `127.0.0.1` in the list bypasses that address and no other.
 */
export function networkLaunchOptions(network: BrowserNetwork | undefined): { proxy?: { server: string; bypass?: string; username?: string; password?: string }; env: Record<string, string> } {
  const env: Record<string, string> = network?.homeDir === undefined ? {} : { HOME: network.homeDir };
  if (network?.proxy === undefined) return { env };
  const url = new URL(network.proxy);
  const username = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  const server = `${url.protocol}//${url.host}`;
  return {
    proxy: { server, bypass: ['<-loopback>', ...(network.proxyBypass ?? '').split(',').map((host) => host.trim()).filter((host) => host !== '')].join(','), ...(username === '' ? {} : { username, password }) },
    env,
  };
}

/**
 * The environment of a launched browser: this process's, without the agent's own CHECKPOINT_* settings (its
 * token above all: a browser has no use for it, and /proc/<pid>/environ of every renderer would carry it).
 */
export function browserEnv(extra: Readonly<Record<string, string>> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) if (value !== undefined && !/^CHECKPOINT_/i.test(name)) env[name] = value;
  return { ...env, ...extra };
}

/** Whether Chromium must run without its sandbox here: as root it cannot start one (Linux, macOS). */
export function sandboxUnavailable(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
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
  if (sandboxUnavailable()) args.push('--no-sandbox');
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
  const network = networkLaunchOptions(options.network);
  try {
    const browser = await chromium.launch({
      ...(network.proxy === undefined ? {} : { proxy: network.proxy }),
      env: browserEnv(network.env),
      executablePath,
      headless: !headed,
      args: [...chromiumArgs(), marker, ...(options.remoteDebugging === true ? remoteDebuggingArgs : [])],
      ...(options.slowMoMs === undefined ? {} : { slowMo: options.slowMoMs }),
      timeout: 30_000,
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
    });
    rememberNetwork(browser, options.network);
    if (options.remoteDebugging === true) await registerDevtoolsEndpoint(browser, marker);
    return browser;
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    const hint = headed && process.env['DISPLAY'] === undefined && process.platform === 'linux' ? ' (--headed needs a display: is DISPLAY set? Try xvfb-run.)' : '';
    throw new EngineError('BROWSER_LAUNCH_FAILED', `could not start ${executablePath}: ${reason}${hint}`, 'engine', { cause: error });
  }
}
