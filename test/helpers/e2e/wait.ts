import { setTimeout as delay } from 'node:timers/promises';

export interface WaitOptions {
  /** Give up after this long. Default 30 s. */
  timeoutMs?: number;
  /** Pause between checks. Default 100 ms. */
  intervalMs?: number;
  /** Extra text for the timeout message (process logs, the last state seen). */
  details?: () => string;
}

/** Pause for `ms` (only where the scenario itself is a duration, e.g. "the control plane is down for 60 s"). */
export function sleep(ms: number): Promise<void> {
  return delay(Math.max(0, ms));
}

/**
 * Poll `check` until it returns something other than undefined, then return that. Bounded: after `timeoutMs`
 * it throws, naming `what`, the last error a check threw (a control plane that is restarting refuses
 * connections, so errors count as "not yet") and `details()`. Never used to assert on speed: the timeouts
 * are generous limits, not expectations.
 */
export async function waitUntil<T>(what: string, check: () => Promise<T | undefined> | T | undefined, options: WaitOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const intervalMs = options.intervalMs ?? 100;
  const deadline = performance.now() + timeoutMs;
  let lastError: unknown;
  for (let attempt = 0; ; attempt++) {
    try {
      const value = await check();
      if (value !== undefined) return value;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    if (performance.now() >= deadline) {
      const why = lastError === undefined ? '' : `; last check failed with: ${lastError instanceof Error ? lastError.message : JSON.stringify(lastError)}`;
      const details = options.details?.() ?? '';
      throw new Error(`timed out after ${timeoutMs} ms (${attempt + 1} checks) waiting for ${what}${why}${details === '' ? '' : `\n${details}`}`);
    }
    await delay(intervalMs);
  }
}
