/**
 * Re-check a condition until it holds or time runs out. Assertions retry like this because pages settle
 * asynchronously: a single look would make monitors flaky.
 */
export async function pollUntil(check: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs = 100): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  // Look again quickly at first (most conditions hold within a few ms of a navigation or click), then back
  // off to `intervalMs` so a long wait costs few browser round trips.
  let nextIntervalMs = Math.min(10, intervalMs);
  for (;;) {
    let ok: boolean;
    try {
      ok = await check();
    } catch {
      // A navigation destroyed the execution context; look again in the new document.
      ok = false;
    }
    if (ok) return true;
    const leftMs = deadline - performance.now();
    if (leftMs <= 0) return false;
    await new Promise((resolve) => setTimeout(resolve, Math.min(nextIntervalMs, leftMs)));
    nextIntervalMs = Math.min(intervalMs, nextIntervalMs * 2);
  }
}

/**
 * Race a promise against a deadline. Browser calls that can hang without honouring their own timeout
 * (evaluate in a page stuck in a loop, a dialog) must not hang the run.
 */
export async function withDeadline<T>(work: Promise<T>, timeoutMs: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(onTimeout()), timeoutMs);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
    // The losing promise may reject later; nobody awaits it.
    work.catch(() => undefined);
  }
}
