// Image helpers for capture collectors (sharp for decoding and encoding, pixelmatch for frame comparison).
// Everything here runs after a step's timed region.
import pixelmatch from 'pixelmatch';
import sharp from 'sharp';

/** Raw RGBA pixels of an image. */
export interface RawImage {
  pixels: Uint8Array;
  width: number;
  height: number;
}

/** A rectangle in the image's own pixels. */
export interface PixelRect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Decodes a JPEG, PNG or WebP into RGBA, scaled down (never up) to at most `maxWidth` pixels wide. */
export async function decodeToRgba(bytes: Uint8Array, maxWidth: number): Promise<RawImage> {
  const { data, info } = await sharp(bytes)
    .resize({ width: Math.max(1, Math.round(maxWidth)), withoutEnlargement: true, kernel: 'linear' })
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { pixels: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height };
}

/** Per-channel difference above which a pixel has clearly changed (10 % of the range). */
const clearChange = 25;

/**
 * Number of pixels that differ between two images of the same size (pixelmatch, perceptual threshold 0.1,
 * anti-aliasing ignored). Images of different sizes differ everywhere.
 *
 * pixelmatch's anti-aliasing detection is costly on busy frames, so callers that only need to compare the
 * count with a limit can pass `bounds`: when at most `enoughBelow` pixels differ at all, that exact count is
 * returned (pixelmatch could not count more); when more than `clearlyAbove` pixels differ by over 10 % in some
 * channel, that count is returned (far more than anti-aliasing explains). Only in between does pixelmatch run.
 */
export function differingPixels(a: RawImage, b: RawImage, threshold = 0.1, bounds?: { enoughBelow: number; clearlyAbove: number }): number {
  if (a.width !== b.width || a.height !== b.height) return Math.max(a.width * a.height, b.width * b.height);
  if (bounds !== undefined) {
    let changed = 0;
    let clearly = 0;
    const p = a.pixels;
    const q = b.pixels;
    for (let offset = 0; offset < p.length; offset += 4) {
      const dr = Math.abs((p[offset] ?? 0) - (q[offset] ?? 0));
      const dg = Math.abs((p[offset + 1] ?? 0) - (q[offset + 1] ?? 0));
      const db = Math.abs((p[offset + 2] ?? 0) - (q[offset + 2] ?? 0));
      if (dr === 0 && dg === 0 && db === 0) continue;
      changed++;
      if (dr > clearChange || dg > clearChange || db > clearChange) clearly++;
    }
    if (changed <= bounds.enoughBelow) return changed;
    if (clearly > bounds.clearlyAbove) return clearly;
  }
  return pixelmatch(a.pixels, b.pixels, null, a.width, a.height, { threshold });
}

/** Paints opaque rectangles (black by default) over an RGBA image in place. */
export function paintOver(image: RawImage, rects: readonly PixelRect[], rgb: readonly [number, number, number] = [0, 0, 0]): void {
  for (const rect of rects) {
    const x0 = Math.max(0, Math.floor(rect.x));
    const y0 = Math.max(0, Math.floor(rect.y));
    const x1 = Math.min(image.width, Math.ceil(rect.x + rect.width));
    const y1 = Math.min(image.height, Math.ceil(rect.y + rect.height));
    for (let y = y0; y < y1; y++) {
      for (let x = x0; x < x1; x++) {
        const offset = (y * image.width + x) * 4;
        image.pixels[offset] = rgb[0];
        image.pixels[offset + 1] = rgb[1];
        image.pixels[offset + 2] = rgb[2];
        image.pixels[offset + 3] = 255;
      }
    }
  }
}

/**
 * A WebP thumbnail of an encoded image, `width` pixels wide at most (never enlarged). `masks` are rectangles
 * as fractions of the image (0–1, e.g. an element's box divided by the viewport size); they are painted over
 * in `maskColor` (default black) before encoding, so no masked pixel is ever written.
 */
export async function webpThumbnail(
  bytes: Uint8Array,
  options: { width: number; quality: number; masks?: readonly PixelRect[]; maskColor?: readonly [number, number, number] },
): Promise<Uint8Array> {
  const image = await decodeToRgba(bytes, options.width);
  if (options.masks !== undefined && options.masks.length > 0) {
    paintOver(
      image,
      options.masks.map((m) => ({ x: m.x * image.width, y: m.y * image.height, width: m.width * image.width, height: m.height * image.height })),
      options.maskColor,
    );
  }
  const out = await sharp(image.pixels, { raw: { width: image.width, height: image.height, channels: 4 } })
    .removeAlpha()
    .webp({ quality: options.quality, effort: 2 })
    .toBuffer();
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}
