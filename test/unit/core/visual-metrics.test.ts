import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pickWithinBudget, rankFilmstripFrames, thinByInterval } from '../../../engine/core/frame-selection.ts';
import {
  alignToOrigin,
  colorHistogram,
  computeVisualMetrics,
  frameProgress,
  isDuplicateFrame,
  visualMetricsFromProgress,
  type DecodedFrame,
} from '../../../engine/core/visual-metrics.ts';

type Rgb = readonly [number, number, number];
const white: Rgb = [255, 255, 255];
const red: Rgb = [255, 0, 0];
const green: Rgb = [0, 255, 0];
const blue: Rgb = [0, 0, 255];

/** A 10×10 frame whose row y has colour rows[y] (missing rows are white). */
function frame(timeMs: number, rows: readonly Rgb[]): DecodedFrame {
  const width = 10;
  const height = 10;
  const pixels = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    const [r, g, b] = rows[y] ?? white;
    for (let x = 0; x < width; x++) pixels.set([r, g, b, 255], (y * width + x) * 4);
  }
  return { timeMs, pixels, width, height };
}

/** Rows 0–4 red (50 %), 5–8 green (40 %), 9 blue (10 %), each present once its paint has happened. */
function paintedRows(painted: number): Rgb[] {
  const rows: Rgb[] = [];
  for (let y = 0; y < 10; y++) {
    const band = y < 5 ? 0 : y < 9 ? 1 : 2;
    rows.push(band < painted ? ([red, green, blue][band] ?? white) : white);
  }
  return rows;
}

describe('colour histogram', () => {
  it('leaves out pixels whose R, G and B are all at least 250 and counts every other pixel once per channel', () => {
    const histogram = colorHistogram(frame(0, [[250, 250, 250], [249, 255, 255], red]));
    assert.equal(histogram.reduce((sum, n) => sum + n, 0), 3 * 20, 'two non-white rows of 10 pixels, three channels');
    assert.equal(histogram[249], 10, 'R = 249 counted');
    assert.equal(histogram[255], 10, 'red rows: R = 255');
    assert.equal(histogram[256 + 0], 10, 'red rows: G = 0');
  });

  it('rejects a pixel buffer shorter than width × height × 4', () => {
    assert.throws(() => colorHistogram({ pixels: new Uint8Array(10), width: 2, height: 2 }), /expected 16 bytes/);
  });
});

describe('visual progress and metrics', () => {
  it('gives exact metrics for solid bands painted at 100, 400 and 900 ms', () => {
    const frames = [frame(0, paintedRows(0)), frame(100, paintedRows(1)), frame(400, paintedRows(2)), frame(900, paintedRows(3))];
    const out = computeVisualMetrics(frames);
    assert.ok(out);
    assert.deepEqual(
      out.progress.map((p) => p.progress),
      [0, 50, 90, 100],
    );
    assert.deepEqual(out.metrics, {
      firstVisualChangeMs: 100,
      // 100 ms at 0 %, 300 ms at 50 %, 500 ms at 90 %.
      speedIndex: 100 + 150 + 50,
      visuallyComplete85Ms: 400,
      visuallyComplete95Ms: 900,
      lastVisualChangeMs: 900,
    });
  });

  it('floors progress to whole percent, as visualmetrics.py does', () => {
    // 1 of 3 rows of the final state: 33.3 % → 33.
    const final = [red, green, blue];
    const out = computeVisualMetrics([frame(0, []), frame(10, [red]), frame(20, final)]);
    assert.deepEqual(
      out?.progress.map((p) => p.progress),
      [0, 33, 100],
    );
  });

  it('measures progress from the first frame, not from white: a page that starts grey and turns red', () => {
    const grey: Rgb = [128, 128, 128];
    const all = (c: Rgb) => Array.from({ length: 10 }, () => c);
    const half = [...Array.from({ length: 5 }, () => red), ...Array.from({ length: 5 }, () => grey)];
    const out = computeVisualMetrics([frame(0, all(grey)), frame(200, half), frame(600, all(red))]);
    assert.deepEqual(
      out?.progress.map((p) => p.progress),
      [0, 50, 100],
    );
    assert.equal(out?.metrics.speedIndex, 200 + 200);
  });

  it('counts a frame with the final colours in other places as complete (the histogram method ignores layout)', () => {
    const moved = computeVisualMetrics([frame(0, []), frame(100, [red]), frame(300, [white, red])]);
    assert.deepEqual(
      moved?.progress.map((p) => p.progress),
      [0, 100, 100],
    );
    assert.equal(moved?.metrics.visuallyComplete95Ms, 100);
    assert.equal(moved?.metrics.lastVisualChangeMs, 300, 'the move is still the last visual change');
  });

  it('reports 100 % for every frame when the last frame has the first frame`s histogram', () => {
    const out = computeVisualMetrics([frame(0, [red]), frame(50, [green]), frame(80, [red])]);
    assert.deepEqual(
      out?.progress.map((p) => p.progress),
      [100, 100, 100],
    );
    assert.equal(out?.metrics.speedIndex, 0);
  });

  it('resets a visually-complete milestone when progress falls back below it', () => {
    const metrics = visualMetricsFromProgress([
      { timeMs: 0, progress: 0 },
      { timeMs: 100, progress: 96 },
      { timeMs: 200, progress: 80 },
      { timeMs: 300, progress: 90 },
      { timeMs: 400, progress: 100 },
    ]);
    assert.equal(metrics?.visuallyComplete85Ms, 300);
    assert.equal(metrics?.visuallyComplete95Ms, 400);
    assert.equal(metrics?.speedIndex, 100 + 4 + 20 + 10);
  });

  it('reports every metric as the baseline time when nothing changed, and nothing for no frames', () => {
    assert.deepEqual(visualMetricsFromProgress([{ timeMs: 0, progress: 100 }]), {
      firstVisualChangeMs: 0,
      speedIndex: 0,
      visuallyComplete85Ms: 0,
      visuallyComplete95Ms: 0,
      lastVisualChangeMs: 0,
    });
    assert.equal(visualMetricsFromProgress([]), undefined);
    assert.equal(computeVisualMetrics([]), undefined);
  });

  it('counts the time before a late baseline frame as 0 % in the Speed Index', () => {
    const metrics = visualMetricsFromProgress([
      { timeMs: 40, progress: 0 },
      { timeMs: 140, progress: 100 },
    ]);
    assert.equal(metrics?.speedIndex, 140);
    assert.equal(metrics?.firstVisualChangeMs, 140);
  });

  it('truncates the Speed Index to whole ms', () => {
    const metrics = visualMetricsFromProgress([
      { timeMs: 0, progress: 0 },
      { timeMs: 10.7, progress: 100 },
    ]);
    assert.equal(metrics?.speedIndex, 10);
  });

  it('agrees between frameProgress and computeVisualMetrics for the same histograms', () => {
    const first = colorHistogram(frame(0, []));
    const last = colorHistogram(frame(0, paintedRows(3)));
    assert.equal(frameProgress(colorHistogram(frame(0, paintedRows(2))), first, last), 90);
  });
});

describe('frame de-duplication', () => {
  it('treats up to 0.05 % of the pixels (at least 5) as noise and anything more as a change', () => {
    assert.equal(isDuplicateFrame(0, 100), true);
    assert.equal(isDuplicateFrame(5, 100), true, 'the 5-pixel floor');
    assert.equal(isDuplicateFrame(6, 100), false);
    assert.equal(isDuplicateFrame(45, 400 * 225), true, '0.05 % of 90 000 pixels');
    assert.equal(isDuplicateFrame(46, 400 * 225), false);
    assert.equal(isDuplicateFrame(10, 100, { minPixels: 0, fraction: 0.1 }), true);
    assert.equal(isDuplicateFrame(11, 100, { minPixels: 0, fraction: 0.1 }), false);
  });
});

describe('time alignment', () => {
  it('collapses frames before the origin into one baseline at 0 — the last of them', () => {
    assert.deepEqual(alignToOrigin([1000, 1040, 1100, 1250], 1050), [
      { index: 1, timeMs: 0 },
      { index: 2, timeMs: 50 },
      { index: 3, timeMs: 200 },
    ]);
  });

  it('keeps a frame exactly at the origin as the baseline and sorts frames by time', () => {
    assert.deepEqual(alignToOrigin([1300, 1000, 1200], 1000), [
      { index: 1, timeMs: 0 },
      { index: 2, timeMs: 200 },
      { index: 0, timeMs: 300 },
    ]);
  });

  it('uses the first frame at its own time when no frame precedes the origin', () => {
    assert.deepEqual(alignToOrigin([1100, 1200], 1000), [
      { index: 0, timeMs: 100 },
      { index: 1, timeMs: 200 },
    ]);
    assert.deepEqual(alignToOrigin([], 1000), []);
  });
});

describe('frame selection', () => {
  it('thins frames to a minimum interval from the last kept one, always keeping the first and the last', () => {
    assert.deepEqual(thinByInterval([0, 10, 20, 30, 40, 50, 55], 25), [0, 3, 6]);
    assert.deepEqual(thinByInterval([0], 100), [0]);
    assert.deepEqual(thinByInterval([], 100), []);
  });

  it('ranks the baseline, the final state and the first change first, then the biggest progress jumps', () => {
    const points = [0, 10, 12, 60, 61, 90, 100].map((progress, i) => ({ timeMs: i * 100, progress }));
    // Jumps after index 1: 2→2, 3→48, 4→1, 5→29 (index 6 is the last).
    assert.deepEqual(rankFilmstripFrames(points), [0, 6, 1, 3, 5, 2, 4]);
    assert.deepEqual(rankFilmstripFrames([{ timeMs: 0, progress: 100 }]), [0]);
    assert.deepEqual(
      rankFilmstripFrames([
        { timeMs: 0, progress: 0 },
        { timeMs: 5, progress: 100 },
      ]),
      [0, 1],
    );
  });

  it('breaks ties by how long a frame stayed on screen, then by time', () => {
    const points = [
      { timeMs: 0, progress: 0 },
      { timeMs: 100, progress: 50 },
      { timeMs: 200, progress: 50 },
      { timeMs: 210, progress: 50 },
      { timeMs: 500, progress: 50 },
      { timeMs: 600, progress: 100 },
    ];
    assert.deepEqual(rankFilmstripFrames(points), [0, 5, 1, 3, 4, 2]);
  });

  it('keeps frames within the count and byte budget, skipping a frame that does not fit, sorted by index', async () => {
    const sizes = [40, 40, 100, 30, 30, 30];
    const measured: number[] = [];
    const kept = await pickWithinBudget(
      [0, 5, 2, 1, 3, 4],
      (index) => {
        measured.push(index);
        return Promise.resolve({ bytes: sizes[index] ?? 0, value: `frame ${index}` });
      },
      { maxFrames: 3, maxBytes: 120 },
    );
    assert.deepEqual(
      kept.map((k) => k.index),
      [0, 1, 5],
      'frame 2 (100 bytes) does not fit after 0 and 5; 1 does; then the count cap',
    );
    assert.ok(kept.reduce((sum, k) => sum + k.bytes, 0) <= 120);
    assert.deepEqual(measured, [0, 5, 2, 1], 'stops measuring once the count cap is reached');
    assert.equal(kept[0]?.value, 'frame 0');
  });

  it('stops measuring after maxAttempts candidates', async () => {
    let calls = 0;
    const kept = await pickWithinBudget(
      [0, 1, 2, 3, 4],
      () => {
        calls++;
        return Promise.resolve({ bytes: 1000, value: null });
      },
      { maxFrames: 5, maxBytes: 10, maxAttempts: 3 },
    );
    assert.deepEqual(kept, []);
    assert.equal(calls, 3);
  });
});
