import type { BrowserContextOptions } from 'playwright-core';
import type { Settings } from '../schema/script.ts';

export const defaultViewport = { width: 1280, height: 720 } as const;

/** Script settings (already rendered) → options of a fresh Playwright context. */
export function contextOptionsFrom(settings: Settings | undefined): BrowserContextOptions {
  const options: BrowserContextOptions = {
    viewport: settings?.viewport ?? defaultViewport,
    // Service workers would let one run's cache answer the next run's requests inside a reused profile;
    // contexts are fresh anyway, but blocking them also keeps network timings honest.
    serviceWorkers: 'block',
    acceptDownloads: false,
  };
  if (settings?.userAgent !== undefined) options.userAgent = settings.userAgent;
  if (settings?.locale !== undefined) options.locale = settings.locale;
  if (settings?.timezoneId !== undefined) options.timezoneId = settings.timezoneId;
  if (settings?.extraHttpHeaders !== undefined) options.extraHTTPHeaders = settings.extraHttpHeaders;
  if (settings?.httpCredentials !== undefined) options.httpCredentials = settings.httpCredentials;
  if (settings?.ignoreHttpsErrors !== undefined) options.ignoreHTTPSErrors = settings.ignoreHttpsErrors;
  return options;
}

/** The options of a script without settings: what warm spare contexts are prepared with. */
export function defaultContextOptions(): BrowserContextOptions {
  return contextOptionsFrom(undefined);
}
