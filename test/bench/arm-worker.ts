// One arm run (or one soak) in its own Node process, so that its CPU and memory can be counted apart from
// the demo site and the other arms (test/bench/accounting.ts). Started by pool-bench.ts with fork(); talks
// over the IPC channel (messages in worker-protocol.ts).
import type { ParentMessage, WorkerMessage } from './worker-protocol.ts';

function send(message: WorkerMessage): Promise<void> {
  return new Promise((resolve, reject) => process.send?.(message, undefined, {}, (error) => (error === null ? resolve() : reject(error))));
}

const acks: (() => void)[] = [];
/** Tell the parent where we are and wait until it has taken its reading. */
async function checkpoint(message: WorkerMessage): Promise<void> {
  const acked = new Promise<void>((resolve) => acks.push(resolve));
  await send(message);
  await acked;
}

// The parent went away (Ctrl-C, crash): stop rather than drive browsers for nobody. The parent kills what is left in the arm's cgroup.
process.on('disconnect', () => process.exit(1));

const firstMessage = new Promise<ParentMessage>((resolve) => {
  process.on('message', (message: ParentMessage) => {
    if (message.type === 'ack') acks.shift()?.();
    else resolve(message);
  });
});

async function main(): Promise<void> {
  const [{ loadBenchScript, startArm }, { BrowserPool }, { Scheduler }] = await Promise.all([import('./arms.ts'), import('../../engine/browser/pool.ts'), import('../../engine/runner/scheduler.ts')]);
  const script = await loadBenchScript();
  await send({ type: 'booted' });
  const command = await firstMessage;
  if (command.type === 'run') {
    const arm = await startArm(command.arm, command.ctx, script);
    await checkpoint({ type: 'started' });
    const started = performance.now();
    const run = await arm.run();
    const wallMs = performance.now() - started;
    await checkpoint({ type: 'ran', run, wallMs });
    await arm.close();
    await checkpoint({ type: 'closed' });
  } else if (command.type === 'soak') {
    const { transactions, concurrency, recycleAfterLeases, baseUrl, password } = command;
    const pool = new BrowserPool({ browsers: 1, contextsPerBrowser: concurrency + 1, recycleAfterLeases });
    const scheduler = new Scheduler({ leases: pool, concurrency, maxQueued: concurrency * 4 });
    const job = { script, variables: { baseUrl }, secret: () => password };
    let failures = 0;
    let done = 0;
    const recycled = () => Object.values(pool.stats.browsersRetired).reduce((a, b) => a + b, 0);
    try {
      await pool.warm();
      // Warm-up: one cycle's worth would be the ideal; a few transactions so the first snapshot is of a warm pool.
      for (let i = 0; i < concurrency * 2; i++) await scheduler.submit(job);
      await new Promise((resolve) => setTimeout(resolve, 500));
      (globalThis as { gc?: () => void }).gc?.();
      await checkpoint({ type: 'soak-sample', label: 'start', done, failures, recycled: recycled(), heapUsedBytes: process.memoryUsage().heapUsed });
      const inFlight = new Set<Promise<void>>();
      for (let i = 0; i < transactions; i++) {
        if (i > 0 && i % recycleAfterLeases === Math.floor(recycleAfterLeases / 2)) {
          // The same point of every recycle cycle, half-way through a browser's life, in the same state: no
          // transaction running, the spare context ready, Node's garbage collected. Otherwise the sample
          // mostly measures how many pages happened to be open.
          await Promise.all(inFlight);
          await new Promise((resolve) => setTimeout(resolve, 500));
          (globalThis as { gc?: () => void }).gc?.();
          await checkpoint({ type: 'soak-sample', label: 'cycle', done, failures, recycled: recycled(), heapUsedBytes: process.memoryUsage().heapUsed });
        }
        while (inFlight.size >= concurrency * 2) await Promise.race(inFlight);
        const p: Promise<void> = scheduler
          .submit(job)
          .then(
            ({ result }) => void (result.status !== 'passed' && failures++),
            () => void failures++,
          )
          .finally(() => {
            done++;
            inFlight.delete(p);
          });
        inFlight.add(p);
      }
      await Promise.all(inFlight);
      await checkpoint({ type: 'soak-sample', label: 'end', done, failures, recycled: recycled(), heapUsedBytes: process.memoryUsage().heapUsed });
      const recycledBeforeClose = recycled() - pool.stats.browsersRetired.shutdown;
      await pool.close();
      await new Promise((resolve) => setTimeout(resolve, 500));
      await checkpoint({ type: 'soak-sample', label: 'after-close', done, failures, recycled: recycledBeforeClose, heapUsedBytes: process.memoryUsage().heapUsed });
    } finally {
      await pool.close();
    }
  }
}

main().then(
  () => process.exit(0),
  async (error: unknown) => {
    await send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) }).catch(() => undefined);
    process.exit(1);
  },
);
