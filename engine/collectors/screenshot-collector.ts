import sharp from 'sharp';
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

async function encode(png: Buffer, format: ScreenshotFormat, quality: number | undefined): Promise<Encoded> {
  const image = sharp(png);
  const { width = 0, height = 0 } = await image.metadata();
  if (format === 'webp' && Math.max(width, height) <= webpMaxDimension) {
    return { bytes: await image.webp({ quality: quality ?? 70 }).toBuffer(), extension: 'webp', contentType: 'image/webp' };
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
 * the whole scrollable page. The capture (lossless) is encoded with sharp as WebP (quality 70) or JPEG and
 * stored as `screenshots/step-NN.webp` (`step-NN-failure.webp` for a failed step). All of it happens after
 * the step's timed region.
 */
export function screenshotCollector(options: ScreenshotCollectorOptions = {}): Collector {
  const format = options.format ?? 'webp';
  const maskColor = options.maskColor ?? defaultMaskColor;
  return {
    name: 'screenshots',
    async afterStep(ctx, info, result) {
      const mode = info.capture.screenshots;
      if (ctx.artifacts === undefined || mode === 'off' || (mode === 'failure' && result.status !== 'failed')) return undefined;
      const page = ctx.currentPage();
      if (page.isClosed()) return undefined;
      const settings = ctx.script.settings;
      const png = await page.screenshot({
        type: 'png',
        fullPage: settings?.fullPageScreenshots === true,
        mask: maskLocators(page, settings?.maskSelectors),
        maskColor,
        scale: 'css',
        timeout: Math.max(1, Math.min(screenshotTimeoutMs, ctx.remainingMs())),
      });
      const encoded = await encode(png, format, options.quality);
      const artifact = await ctx.artifacts.write({
        kind: 'screenshot',
        name: `step-${String(info.index + 1).padStart(2, '0')}${result.status === 'failed' ? '-failure' : ''}.${encoded.extension}`,
        bytes: encoded.bytes,
        contentType: encoded.contentType,
        step: info.index,
      });
      ctx.addArtifact(artifact);
      return { screenshot: artifact.path };
    },
  };
}
