import sharp from 'sharp';
import type { StepResult } from '../schema/result.ts';
import { BetweenSteps } from './between-steps.ts';
import type { Collector } from './collector.ts';
import { defaultMaskColor, maskLocators } from './masking.ts';

const screenshotTimeoutMs = 10_000;
/** WebP cannot be larger than this in either dimension; taller full-page captures are stored as JPEG. */
const webpMaxDimension = 16_383;

export type ScreenshotFormat = 'webp' | 'jpeg';

export interface ScreenshotCollectorOptions {
  /** Image format of stored screenshots. Default `webp`. */
  format?: ScreenshotFormat;
  /** Encoder quality, 1–100. Default 70 (WebP) / 75 (JPEG). */
  quality?: number;
  /** Colour painted over password fields and `settings.maskSelectors`. Default black. */
  maskColor?: string;
}

interface Encoded {
  bytes: Uint8Array;
  extension: string;
  contentType: string;
}

async function encode(png: Buffer, format: ScreenshotFormat, quality: number | undefined, between?: BetweenSteps): Promise<Encoded> {
  await between?.wait();
  const image = sharp(png);
  const { width = 0, height = 0 } = await image.metadata();
  if (format === 'webp' && Math.max(width, height) <= webpMaxDimension) {
    // effort 2 (of 0–6): about half the CPU of the default 4 for some 5–10 % more bytes; the encode runs
    // while later steps do, so its CPU is what matters.
    return { bytes: await image.webp({ quality: quality ?? 70, effort: 2 }).toBuffer(), extension: 'webp', contentType: 'image/webp' };
  }
  return { bytes: await image.jpeg({ quality: quality ?? 75, mozjpeg: true }).toBuffer(), extension: 'jpg', contentType: 'image/jpeg' };
}

/**
 * A screenshot at the end of a step, by the step's capture policy (`all`, `failure`, `off`). With `off`, or
 * when the privacy lock is on (the policy then says `off`), or without an artifact sink, no screenshot is
 * taken at all — the browser is never asked for pixels.
 *
 * Before the capture, password fields and every element of `settings.maskSelectors` (in every frame) are
 * painted over with an opaque box; the boxes are removed right after. `settings.fullPageScreenshots` captures
 * the whole scrollable page. The capture (lossless, in afterStep, outside the step's timed region) is encoded
 * with sharp as WebP (quality 70) or JPEG in the background, between later steps' timed regions (never during
 * one, so that step timings stay unaffected); `finish` awaits the
 * encodes, stores them as `screenshots/step-NN.webp` and returns each step's `screenshot` path as a late field.
 * A failed step's screenshot (`step-NN-failure.webp`) is encoded and stored at once instead, so that it
 * survives an engine fault later in the run.
 */
export function screenshotCollector(options: ScreenshotCollectorOptions = {}): Collector {
  const format = options.format ?? 'webp';
  const maskColor = options.maskColor ?? defaultMaskColor;
  /** Encodes under way, by step index, with the name each will be stored under. */
  const pending = new Map<number, { name: string; encoded: Promise<Encoded> }>();
  const between = new BetweenSteps();
  return {
    name: 'screenshots',
    beforeStep() {
      between.stepStarts();
      return Promise.resolve();
    },
    async afterStep(ctx, info, result) {
      between.stepEnded();
      const mode = info.capture.screenshots;
      if (ctx.artifacts === undefined || mode === 'off' || (mode === 'failure' && result.status !== 'failed')) return undefined;
      const page = ctx.currentPage();
      if (page.isClosed()) return undefined;
      const settings = ctx.script.settings;
      const capture = (timeoutMs: number) =>
        ctx.deadline().within(
          timeoutMs + 250,
          () => new Error(`the screenshot did not finish within ${Math.round(timeoutMs)} ms`),
          page.screenshot({
            type: 'png',
            fullPage: settings?.fullPageScreenshots === true,
            mask: maskLocators(page, settings?.maskSelectors),
            maskColor,
            scale: 'css',
            timeout: Math.max(1, Math.floor(timeoutMs)),
          }),
        );
      // A failure often comes while the page is changing (an error page committing after the click that led
      // to it): a capture that meets a navigation is tried again, each try with half of what is left, so one
      // that hangs cannot take the whole capture window.
      let png: Buffer | undefined;
      for (let attempt = 1; png === undefined; attempt++) {
        const lastTry = result.status !== 'failed' || attempt === 3;
        try {
          png = await capture(Math.min(screenshotTimeoutMs, lastTry ? ctx.remainingMs() : ctx.remainingMs() / 2));
        } catch (error) {
          if (lastTry || ctx.deadline().ended || page.isClosed()) throw error;
        }
      }
      const name = `step-${String(info.index + 1).padStart(2, '0')}${result.status === 'failed' ? '-failure' : ''}`;
      const encoded = encode(png, format, options.quality, between);
      if (result.status === 'failed') {
        // A failure's screenshot is stored at once: it must survive an engine fault that would skip finish.
        const image = await encoded;
        const artifact = await ctx.artifacts.write({ kind: 'screenshot', name: `${name}.${image.extension}`, bytes: image.bytes, contentType: image.contentType, step: info.index });
        ctx.addArtifact(artifact);
        return { screenshot: artifact.path };
      }
      // Awaited (and its error reported) in finish; never an unhandled rejection meanwhile.
      encoded.catch(() => undefined);
      pending.set(info.index, { name, encoded });
      return undefined;
    },

    async finish(ctx) {
      between.stepEnded();
      const late = new Map<number, Partial<StepResult> | Error>();
      const sink = ctx.artifacts;
      const work = [...pending].sort((a, b) => a[0] - b[0]);
      pending.clear();
      if (sink === undefined) return late;
      for (const [index, { name, encoded }] of work) {
        try {
          const image = await encoded;
          const artifact = await sink.write({ kind: 'screenshot', name: `${name}.${image.extension}`, bytes: image.bytes, contentType: image.contentType, step: index });
          ctx.addArtifact(artifact);
          late.set(index, { screenshot: artifact.path });
        } catch (error) {
          late.set(index, error instanceof Error ? error : new Error(String(error)));
        }
      }
      return late;
    },
  };
}
