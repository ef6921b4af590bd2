// Which frames of a step's screencast to keep: thinning while capturing (bounded memory) and choosing the
// filmstrip thumbnails under a count and byte budget. Pure.
import type { ProgressPoint } from './visual-metrics.ts';

/**
 * Keeps frames at least `minIntervalMs` apart (measured from the last kept frame), always keeping the first and
 * the last. Returns the kept indices in order. Used when a step produces more frames than the capture budget:
 * the precision of the metrics then degrades to about `minIntervalMs` instead of memory growing.
 */
export function thinByInterval(timesMs: readonly number[], minIntervalMs: number): number[] {
  const kept: number[] = [];
  let lastKeptMs = Number.NEGATIVE_INFINITY;
  for (const [index, timeMs] of timesMs.entries()) {
    const isLast = index === timesMs.length - 1;
    if (index === 0 || isLast || timeMs - lastKeptMs >= minIntervalMs) {
      kept.push(index);
      lastKeptMs = timeMs;
    }
  }
  return kept;
}

/**
 * Filmstrip candidates in priority order: the baseline (first), the final state (last), the first visual change,
 * then the frames whose progress jumped most from the frame before; ties go to the frame that stayed on screen
 * longer, then to the earlier one. Callers take from the front until their count or byte budget is spent,
 * then sort what they kept by time.
 */
export function rankFilmstripFrames(points: readonly ProgressPoint[]): number[] {
  const count = points.length;
  if (count === 0) return [];
  const head = [...new Set([0, count - 1, ...(count > 2 ? [1] : [])])];
  const rest: { index: number; jump: number; onScreenMs: number }[] = [];
  for (let index = 2; index < count - 1; index++) {
    const point = points[index];
    const previous = points[index - 1];
    const next = points[index + 1];
    if (point === undefined || previous === undefined || next === undefined) continue;
    rest.push({ index, jump: Math.abs(point.progress - previous.progress), onScreenMs: next.timeMs - point.timeMs });
  }
  rest.sort((a, b) => b.jump - a.jump || b.onScreenMs - a.onScreenMs || a.index - b.index);
  return [...head, ...rest.map((entry) => entry.index)];
}

/**
 * Greedy choice under a budget: walks `ranked` (priority order), measures each candidate with `sizeOf`
 * (e.g. encodes it) and keeps it when it still fits both caps. Stops after `maxFrames` kept, after
 * `maxAttempts` measured (default 2 × maxFrames) or after `maxMisses` candidates in a row did not fit (default
 * 4: the budget is spent). Returns the kept indices sorted ascending, with their sizes.
 */
export async function pickWithinBudget<T>(
  ranked: readonly number[],
  sizeOf: (index: number) => Promise<{ bytes: number; value: T }>,
  budget: { maxFrames: number; maxBytes: number; maxAttempts?: number; maxMisses?: number },
): Promise<{ index: number; bytes: number; value: T }[]> {
  const kept: { index: number; bytes: number; value: T }[] = [];
  let used = 0;
  let attempts = 0;
  let misses = 0;
  const maxAttempts = budget.maxAttempts ?? budget.maxFrames * 2;
  const maxMisses = budget.maxMisses ?? 4;
  for (const index of ranked) {
    if (kept.length >= budget.maxFrames || attempts >= maxAttempts || misses >= maxMisses) break;
    attempts++;
    const { bytes, value } = await sizeOf(index);
    if (used + bytes > budget.maxBytes) {
      misses++;
      continue;
    }
    misses = 0;
    used += bytes;
    kept.push({ index, bytes, value });
  }
  return kept.sort((a, b) => a.index - b.index);
}
