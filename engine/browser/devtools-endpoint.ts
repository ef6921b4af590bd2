import { readFile } from 'node:fs/promises';
import type { Browser } from 'playwright-core';
import { findBrowserProcess } from './browser-process.ts';

/**
 * Browsers launched with a DevTools port (for Lighthouse, which needs its own puppeteer connection: a
 * Playwright page cannot be handed to it). Chromium picks a free port (`--remote-debugging-port=0`) and
 * writes it to `DevToolsActivePort` in its profile, which we find through the launch marker.
 */
const endpoints = new WeakMap<Browser, string>();

export const remoteDebuggingArgs = ['--remote-debugging-port=0', '--remote-debugging-address=127.0.0.1'];

export async function registerDevtoolsEndpoint(browser: Browser, marker: string): Promise<string | undefined> {
  const found = findBrowserProcess(marker);
  if (found?.userDataDir === undefined) return undefined;
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      const [port] = (await readFile(`${found.userDataDir}/DevToolsActivePort`, 'utf8')).split('\n');
      if (port !== undefined && /^\d+$/.test(port)) {
        const url = `http://127.0.0.1:${port}`;
        endpoints.set(browser, url);
        return url;
      }
    } catch {
      // Not written yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return undefined;
}

/** The DevTools HTTP endpoint of a browser launched with remote debugging, if any. */
export function devtoolsEndpointOf(browser: Browser): string | undefined {
  return endpoints.get(browser);
}
