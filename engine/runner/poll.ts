import { systemClock } from '../core/clock.ts';
import { Deadline } from '../core/deadline.ts';
import { EngineError } from '../core/errors.ts';

/**
 * Re-check a condition until it holds or `timeoutMs` runs out, on a deadline of its own (see Deadline.poll).
 * Assertions retry like this because pages settle asynchronously: a single look would make monitors flaky.
 */
export async function pollUntil(check: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs = 100): Promise<boolean> {
  const deadline = Deadline.start({ clock: systemClock, budgetMs: timeoutMs, onExpire: () => new EngineError('ACTION_TIMEOUT', `gave up after ${timeoutMs} ms`, 'site') });
  try {
    return await deadline.poll(check, intervalMs);
  } finally {
    deadline.dispose();
  }
}
