import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import type { Browser, CDPSession } from 'playwright-core';
import sharp from 'sharp';
import type { Collector, CollectorContext } from '../../engine/collectors/collector.ts';
import { filmstripCollector, type FilmstripOptions } from '../../engine/collectors/filmstrip-collector.ts';
import { ArtifactDirectory } from '../../engine/report/artifact-dir.ts';
import type { RunResult, StepResult } from '../../engine/schema/result.ts';
import { startPaintTimelineSite, type PaintTimelineSite, type RecordedPaint } from '../fixtures/paint-timeline.ts';
import { launchBrowser, runScript } from '../helpers/engine.ts';

// Accuracy tolerance. A block inserted into the DOM at t is on screen at the next compositor frame; the
// screencast stamps each frame with its presentation time, so the measured time should be t plus at most about
// one frame interval (16.7 ms at 60 Hz). On a loaded 2-core machine a frame can be late (raster, GPU process
// and the screencast's own JPEG encoding share the cores), so we allow one frame interval plus 100 ms late and
// 5 ms early (timeOrigin and frame timestamps are both rounded to about 1 ms and taken from different clocks
// in the browser process).
const frameIntervalMs = 1000 / 60;
const lateToleranceMs = frameIntervalMs + 100;
const earlyToleranceMs = 5;

interface Truth {
  paints: RecordedPaint[];
  clickMs: number | undefined;
  /** performance.timeOrigin of the document, epoch ms. */
  origin: number;
}

/** Reads the page's own record of its paints after each step (runs after the filmstrip collector). */
function truthCollector(truths: Truth[]): Collector {
  return {
    name: 'truth',
    async afterStep(ctx) {
      truths.push(
        await ctx.currentPage().evaluate(() => {
          const w = window as unknown as { __paints?: RecordedPaint[]; __clickMs?: number };
          return { paints: w.__paints ?? [], clickMs: w.__clickMs, origin: performance.timeOrigin };
        }),
      );
      return undefined;
    },
  };
}

/** Wraps a collector so that every CDP command it sends through ctx.cdp() is recorded. */
function countingCdp(inner: Collector, methods: string[]): Collector {
  const spies = new WeakMap<CDPSession, CDPSession>();
  const spy = (session: CDPSession): CDPSession => {
    let wrapped = spies.get(session);
    if (wrapped === undefined) {
      wrapped = new Proxy(session, {
        get(target, property) {
          if (property === 'send') {
            return (method: string, params?: object) => {
              methods.push(method);
              return (target.send as (m: string, p?: object) => Promise<unknown>)(method, params);
            };
          }
          const value: unknown = Reflect.get(target, property, target);
          return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
        },
      });
      spies.set(session, wrapped);
    }
    return wrapped;
  };
  const wrap = (ctx: CollectorContext): CollectorContext => ({ ...ctx, cdp: async () => spy(await ctx.cdp()) });
  return {
    name: inner.name,
    ...(inner.hookTimeoutMs === undefined ? {} : { hookTimeoutMs: inner.hookTimeoutMs }),
    beforeStep: (ctx, info) => inner.beforeStep?.(wrap(ctx), info) ?? Promise.resolve(),
    afterStep: (ctx, info, result) => inner.afterStep?.(wrap(ctx), info, result) ?? Promise.resolve(undefined),
    finish: (ctx, steps) => inner.finish?.(wrap(ctx), steps) ?? Promise.resolve(),
  };
}

function assertNear(t: TestContext, label: string, measuredMs: number | undefined, truthMs: number): void {
  assert.ok(measuredMs !== undefined, `${label}: measured`);
  t.diagnostic(`${label}: measured ${measuredMs} ms, truth ${truthMs.toFixed(1)} ms, error ${(measuredMs - truthMs).toFixed(1)} ms`);
  assert.ok(
    measuredMs >= truthMs - earlyToleranceMs && measuredMs <= truthMs + lateToleranceMs,
    `${label}: ${measuredMs} ms is not within [${(truthMs - earlyToleranceMs).toFixed(1)}, ${(truthMs + lateToleranceMs).toFixed(1)}] ms of the truth`,
  );
}

function paint(truth: Truth | undefined, name: string): RecordedPaint {
  const found = truth?.paints.find((p) => p.name === name);
  assert.ok(found, `the page recorded its ${name} paint`);
  return found;
}

async function assertWebpThumbnails(dir: string, step: StepResult, result: RunResult, caps = { maxFrames: 30, maxBytes: 150_000 }): Promise<number> {
  const filmstrip = step.filmstrip ?? [];
  assert.ok(filmstrip.length >= 1, 'at least one thumbnail');
  assert.ok(filmstrip.length <= caps.maxFrames, `${filmstrip.length} thumbnails, cap ${caps.maxFrames}`);
  let bytes = 0;
  for (const entry of filmstrip) {
    assert.match(entry.path, /^filmstrip\/step-\d{2}-\d{4,}ms(-b)*\.webp$/);
    const file = await readFile(join(dir, entry.path));
    assert.equal(file.subarray(0, 4).toString('latin1'), 'RIFF', `${entry.path} is a RIFF container`);
    assert.equal(file.subarray(8, 12).toString('latin1'), 'WEBP', `${entry.path} is WebP`);
    bytes += file.byteLength;
    const artifact = result.artifacts.find((a) => a.path === entry.path);
    assert.equal(artifact?.kind, 'filmstrip-frame');
    assert.equal(artifact.contentType, 'image/webp');
    assert.equal(artifact.sizeBytes, file.byteLength);
  }
  assert.ok(bytes <= caps.maxBytes, `${bytes} bytes of thumbnails, cap ${caps.maxBytes}`);
  const times = filmstrip.map((f) => f.timeMs);
  assert.deepEqual(times, [...times].sort((a, b) => a - b), 'thumbnails in time order');
  return bytes;
}

describe('filmstrip and visual metrics on real Chromium', () => {
  let site: PaintTimelineSite;
  let browser: Browser;
  const dirs: string[] = [];
  const outDir = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'checkpoint-filmstrip-'));
    dirs.push(dir);
    return dir;
  };

  before(async () => {
    site = await startPaintTimelineSite();
    browser = await launchBrowser();
  });
  after(async () => {
    await browser.close();
    await site.close();
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  async function run(script: unknown, options: { dir?: string; collector?: FilmstripOptions; request?: boolean; lock?: boolean } = {}) {
    const truths: Truth[] = [];
    const methods: string[] = [];
    const result = await runScript(browser, script, {
      collectors: [countingCdp(filmstripCollector(options.collector), methods), truthCollector(truths)],
      ...(options.dir === undefined ? {} : { artifacts: new ArtifactDirectory(options.dir) }),
      ...(options.request === undefined ? {} : { filmstrip: options.request }),
      privacyLock: options.lock ?? false,
    });
    return { result, truths, methods };
  }

  it('times first visual change, visually complete and Speed Index of a navigation within a frame of the painted truth', async (t) => {
    const dir = await outDir();
    const { result, truths, methods } = await run(
      {
        name: 'Paint timeline',
        settings: { filmstrip: true },
        steps: [{ name: 'Load', actions: [{ type: 'navigate', url: `${site.url}/timeline?at=100,400,900` }, { type: 'waitForElement', selector: '#block-3' }] }],
      },
      { dir },
    );
    assert.equal(result.status, 'passed', JSON.stringify(result.steps[0]?.error));
    assert.equal(result.warnings, undefined, JSON.stringify(result.warnings));
    const step = result.steps[0];
    assert.ok(step?.visualMetrics, 'visual metrics');
    const truth = truths[0];
    // Truth: when each block entered the DOM, ms after navigation start (performance.now()).
    const red = paint(truth, 'red').domMs;
    const green = paint(truth, 'green').domMs;
    const blue = paint(truth, 'blue').domMs;
    assertNear(t, 'first visual change (red, 50 %)', step.visualMetrics.firstVisualChangeMs, red);
    assertNear(t, 'visually complete 85 (green, 90 %)', step.visualMetrics.visuallyComplete85Ms, green);
    assertNear(t, 'visually complete 95 (blue, 100 %)', step.visualMetrics.visuallyComplete95Ms, blue);
    assertNear(t, 'last visual change (blue)', step.visualMetrics.lastVisualChangeMs, blue);
    // Ideal Speed Index with the bands' areas: 0 % until red, 50 % until green, 90 % until blue.
    const idealSpeedIndex = red + (green - red) * 0.5 + (blue - green) * 0.1;
    t.diagnostic(`speed index: measured ${step.visualMetrics.speedIndex}, ideal ${idealSpeedIndex.toFixed(1)}`);
    // Each late frame adds up to its lateness once per band; floored progress and JPEG edges add ~2 % of 500 ms.
    assert.ok(step.visualMetrics.speedIndex >= idealSpeedIndex - earlyToleranceMs && step.visualMetrics.speedIndex <= idealSpeedIndex + lateToleranceMs + 20);

    // The progress curve follows the bands' areas: 0, ~50, ~90, 100.
    const filmstrip = step.filmstrip ?? [];
    assert.deepEqual(filmstrip[0], { timeMs: 0, path: filmstrip[0]?.path, visualProgress: 0 });
    assert.equal(filmstrip[filmstrip.length - 1]?.visualProgress, 100);
    const progress = filmstrip.map((f) => f.visualProgress ?? -1);
    assert.ok(progress.some((p) => p >= 45 && p <= 55), `a frame near 50 %: ${progress.join(', ')}`);
    assert.ok(progress.some((p) => p >= 85 && p <= 92), `a frame near 90 %: ${progress.join(', ')}`);
    await assertWebpThumbnails(dir, step, result);
    assert.equal(methods.filter((m) => m === 'Page.startScreencast').length, 1);
    assert.equal(methods.filter((m) => m === 'Page.stopScreencast').length, 1);
  });

  it('times a step without navigation from the step start (a click that paints 100 and 500 ms later)', async (t) => {
    const dir = await outDir();
    const { result, truths } = await run(
      {
        name: 'Single-page update',
        steps: [
          { name: 'Open', actions: [{ type: 'navigate', url: `${site.url}/timeline?at=0` }, { type: 'waitForElement', selector: '#block-1' }] },
          { name: 'Update', filmstrip: true, actions: [{ type: 'click', selector: '#go' }, { type: 'waitForElement', selector: '#spa-2' }] },
        ],
      },
      { dir },
    );
    assert.equal(result.status, 'passed', JSON.stringify(result.steps.map((s) => s.error)));
    assert.equal(result.steps[0]?.filmstrip, undefined, 'the first step did not ask for a filmstrip');
    const step = result.steps[1];
    assert.ok(step?.visualMetrics && step.startedAt !== undefined);
    const truth = truths[1];
    assert.ok(truth);
    // Truth relative to the step start: the page's epoch time of each paint minus the step's startedAt.
    const stepStart = Date.parse(step.startedAt);
    const fromStepStart = (ms: number) => truth.origin + ms - stepStart;
    assertNear(t, 'first visual change (magenta)', step.visualMetrics.firstVisualChangeMs, fromStepStart(paint(truth, 'magenta').domMs));
    assertNear(t, 'last visual change (cyan)', step.visualMetrics.lastVisualChangeMs, fromStepStart(paint(truth, 'cyan').domMs));
    assertNear(t, 'visually complete 95 (cyan)', step.visualMetrics.visuallyComplete95Ms, fromStepStart(paint(truth, 'cyan').domMs));
    assert.ok(step.filmstrip?.every((f) => f.path.startsWith('filmstrip/step-02-')));
    await assertWebpThumbnails(dir, step, result);
  });

  it('keeps at most 30 thumbnails per step on a page that changes every frame, first and last included', async (t) => {
    const dir = await outDir();
    const { result } = await run(
      {
        name: 'Busy',
        settings: { filmstrip: true },
        steps: [{ name: 'Busy', actions: [{ type: 'navigate', url: `${site.url}/busy?ms=1500` }, { type: 'waitForElement', selector: '#done' }] }],
      },
      { dir },
    );
    assert.equal(result.status, 'passed');
    const step = result.steps[0];
    assert.ok(step?.visualMetrics);
    const bytes = await assertWebpThumbnails(dir, step, result);
    const filmstrip = step.filmstrip ?? [];
    t.diagnostic(`${filmstrip.length} thumbnails, ${bytes} bytes`);
    assert.equal(filmstrip.length, 30, 'about 90 changed frames, capped at 30');
    assert.equal(filmstrip[0]?.timeMs, 0, 'the baseline is kept');
    assert.equal(filmstrip[filmstrip.length - 1]?.timeMs, step.visualMetrics.lastVisualChangeMs, 'the final state is kept');
    assert.ok(step.visualMetrics.lastVisualChangeMs >= 1400, 'the page changed for about 1.5 s');
    const files = await readdir(join(dir, 'filmstrip'));
    assert.equal(files.length, filmstrip.length, 'no file beyond the kept thumbnails');
  });

  it('keeps thumbnails within 150 KB per step when every frame is incompressible noise', async (t) => {
    const dir = await outDir();
    const { result } = await run(
      {
        name: 'Noise',
        settings: { filmstrip: true, filmstripWidth: 640 },
        steps: [{ name: 'Noise', actions: [{ type: 'navigate', url: `${site.url}/noise?ms=1000` }, { type: 'waitForElement', selector: '#done' }] }],
      },
      { dir },
    );
    assert.equal(result.status, 'passed');
    assert.equal(result.warnings, undefined, JSON.stringify(result.warnings));
    const step = result.steps[0];
    assert.ok(step);
    const bytes = await assertWebpThumbnails(dir, step, result);
    t.diagnostic(`${step.filmstrip?.length} thumbnails, ${bytes} bytes`);
    assert.ok((step.filmstrip?.length ?? 0) >= 2, 'first and last still fit');
  });

  it('honours smaller caps passed to the collector: first and last frame only', async () => {
    const dir = await outDir();
    const { result } = await run(
      {
        name: 'Capped',
        settings: { filmstrip: true },
        steps: [{ name: 'Load', actions: [{ type: 'navigate', url: `${site.url}/timeline?at=50,150,250` }, { type: 'waitForElement', selector: '#block-3' }] }],
      },
      { dir, collector: { maxFrames: 2 } },
    );
    const step = result.steps[0];
    assert.deepEqual(
      step?.filmstrip?.map((f) => f.visualProgress),
      [0, 100],
    );
    assert.ok(step.visualMetrics !== undefined && step.visualMetrics.firstVisualChangeMs < step.visualMetrics.lastVisualChangeMs, 'metrics still use every frame');
  });

  it('paints over maskSelectors elements, in the page and in iframes, in every thumbnail', async () => {
    /** Pixels close to the secret box's green, over all thumbnails of the run's first step. */
    async function greenPixels(maskSelectors: string[] | undefined): Promise<{ green: number; thumbnails: number }> {
      const dir = await outDir();
      const { result } = await run(
        {
          name: 'Masked',
          settings: { filmstrip: true, ...(maskSelectors === undefined ? {} : { maskSelectors }) },
          steps: [{ name: 'Load', actions: [{ type: 'navigate', url: `${site.url}/secret` }, { type: 'waitForElement', selector: '#late' }] }],
        },
        { dir },
      );
      assert.equal(result.status, 'passed');
      let green = 0;
      const filmstrip = result.steps[0]?.filmstrip ?? [];
      for (const entry of filmstrip) {
        const { data, info } = await sharp(join(dir, entry.path)).raw().toBuffer({ resolveWithObject: true });
        for (let i = 0; i + 2 < data.length; i += info.channels) {
          if ((data[i] ?? 255) < 60 && (data[i + 1] ?? 0) > 150 && (data[i + 2] ?? 255) < 60) green++;
        }
      }
      return { green, thumbnails: filmstrip.length };
    }
    const unmasked = await greenPixels(undefined);
    assert.ok(unmasked.thumbnails >= 2 && unmasked.green > 1000, `the detector sees the box when it is not masked (${unmasked.green} px)`);
    const pageOnly = await greenPixels(['#secret']);
    assert.ok(pageOnly.green > 100 && pageOnly.green < unmasked.green, `the box inside the iframe is still seen (${pageOnly.green} px)`);
    const masked = await greenPixels(['#secret', '#secret-in-frame']);
    assert.ok(masked.thumbnails >= 2);
    assert.equal(masked.green, 0, 'no pixel of the masked box in any thumbnail');
  });

  it('computes visual metrics but writes no image when the run keeps no artifacts', async () => {
    const { result } = await run({
      name: 'No sink',
      settings: { filmstrip: true },
      steps: [{ name: 'Load', actions: [{ type: 'navigate', url: `${site.url}/timeline?at=50` }, { type: 'waitForElement', selector: '#block-1' }] }],
    });
    assert.equal(result.steps[0]?.filmstrip, undefined);
    assert.ok(result.steps[0]?.visualMetrics);
    assert.equal(result.artifacts.length, 0);
  });

  it('starts no screencast and writes no frame when the filmstrip is off, per step or by the privacy lock', async () => {
    const script = {
      name: 'Filmstrip off',
      settings: { filmstrip: true },
      steps: [
        { name: 'Off for this step', filmstrip: false, actions: [{ type: 'navigate', url: `${site.url}/timeline?at=50` }, { type: 'waitForElement', selector: '#block-1' }] },
        { name: 'On', actions: [{ type: 'navigate', url: `${site.url}/still` }] },
      ],
    };
    const dir = await outDir();
    const mixed = await run(script, { dir });
    assert.equal(mixed.result.status, 'passed');
    assert.equal(mixed.result.steps[0]?.filmstrip, undefined);
    assert.equal(mixed.result.steps[0]?.visualMetrics, undefined);
    assert.ok(mixed.result.steps[1]?.filmstrip);
    assert.equal(mixed.methods.filter((m) => m === 'Page.startScreencast').length, 1, 'only the step that may record started a screencast');
    assert.ok(mixed.result.artifacts.filter((a) => a.kind === 'filmstrip-frame').every((a) => a.step === 1));

    const offDir = await outDir();
    const requestedOff = await run(script, { dir: offDir, request: false });
    const lockedDir = await outDir();
    const locked = await run({ ...script, steps: script.steps.map((s) => ({ ...s, filmstrip: true })) }, { dir: lockedDir, request: true, lock: true });
    for (const [label, outcome, where] of [
      ['request off', requestedOff, offDir],
      ['privacy lock', locked, lockedDir],
    ] as const) {
      assert.equal(outcome.result.status, 'passed', label);
      assert.deepEqual(outcome.methods, [], `${label}: no CDP command at all`);
      assert.ok(
        outcome.result.steps.every((s) => s.filmstrip === undefined && s.visualMetrics === undefined),
        `${label}: no filmstrip fields`,
      );
      assert.equal(outcome.result.artifacts.filter((a) => a.kind === 'filmstrip-frame').length, 0, `${label}: no frame artifacts`);
      await assert.rejects(readdir(join(where, 'filmstrip')), { code: 'ENOENT' }, `${label}: no filmstrip folder`);
    }
  });
});
