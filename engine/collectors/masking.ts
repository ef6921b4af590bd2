import type { Locator, Page } from 'playwright-core';
import { toPlaywrightSelector } from '../core/selector-syntax.ts';

/**
 * Fields that are always painted over in captured images: password inputs, and inputs whose autocomplete
 * token says they hold a password (a "show password" toggle turns `type` into `text` but keeps it).
 */
export const alwaysMaskedSelector = 'input[type="password"], input[autocomplete*="password" i]';

/** The colour of masked areas (a flat, opaque box). */
export const defaultMaskColor = '#000000';

/** Frames whose fields are masked; more than this (ad farms) and the screenshot is refused rather than half-masked. */
const maxMaskedFrames = 64;

/** Our selector syntax → Playwright's, as the runner reads it. */
export const maskSelectorFor = toPlaywrightSelector;

/**
 * Locators of everything to paint over in `page`, in every frame (login forms often live in iframes): the
 * password fields and each of the script's `maskSelectors`. Playwright's screenshot `mask` overlays these
 * with an opaque box in the page just before the capture and removes the boxes right after; an invalid
 * selector or a frame that cannot be searched makes the screenshot fail, so nothing is captured half-masked.
 */
export function maskLocators(page: Page, maskSelectors: readonly string[] = []): Locator[] {
  const frames = page.frames().filter((frame) => !frame.isDetached());
  if (frames.length > maxMaskedFrames) {
    throw new Error(`the page has ${frames.length} frames; screenshots mask at most ${maxMaskedFrames}, so none is taken`);
  }
  const selectors = [alwaysMaskedSelector, ...maskSelectors.map(maskSelectorFor)];
  return frames.flatMap((frame) => selectors.map((selector) => frame.locator(selector)));
}
