import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchBrowser } from '../../engine/browser/launch.ts';
import { writeHtmlReport } from '../../engine/report/html-report-file.ts';
import type { RunResult } from '../../engine/schema/result.ts';
import { richResult, writeRichArtifacts } from '../fixtures/rich-result.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const artifactsDir = join(repoRoot, 'test-artifacts');

describe('HTML report in real Chromium', () => {
  let browser: Browser;
  let dir: string;
  let result: RunResult;
  let reportPath: string;

  before(async () => {
    browser = await launchBrowser();
    dir = await mkdtemp(join(tmpdir(), 'checkpoint-report-'));
    result = richResult();
    await writeRichArtifacts(dir, result);
    reportPath = await writeHtmlReport(dir, result);
    await mkdir(artifactsDir, { recursive: true });
  });
  after(async () => {
    await browser.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('writes report.html into the output directory and returns its path', async () => {
    assert.equal(reportPath, join(dir, 'report.html'));
    const text = await readFile(reportPath, 'utf8');
    assert.match(text, /^<!doctype html>/);
  });

  it('shows every step, loads every filmstrip frame and screenshot from file://, logs no error and requests nothing else', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
    try {
      const page = await context.newPage();
      const requests: string[] = [];
      const problems: string[] = [];
      page.on('request', (request) => requests.push(request.url()));
      page.on('console', (message) => {
        if (message.type() === 'error' || message.type() === 'warning') problems.push(`${message.type()}: ${message.text()}`);
      });
      page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
      await page.goto(pathToFileURL(reportPath).href, { waitUntil: 'load' });

      const headings = await page.locator('section.step h2').allTextContents();
      assert.deepEqual(
        headings,
        result.steps.map((step) => step.name),
      );
      assert.equal(await page.locator('table.steps tbody tr').count(), result.steps.length);

      const images = await page.locator('img').evaluateAll((nodes) =>
        nodes.map((node) => {
          const img = node as HTMLImageElement;
          return { src: img.currentSrc, complete: img.complete, naturalWidth: img.naturalWidth, thumb: img.classList.contains('thumb') };
        }),
      );
      const frameCount = result.steps.reduce((sum, step) => sum + (step.filmstrip?.length ?? 0), 0);
      const screenshotCount = result.steps.filter((step) => step.screenshot !== undefined).length;
      assert.equal(images.filter((image) => image.thumb).length, frameCount);
      assert.equal(images.length, frameCount + screenshotCount);
      for (const image of images) {
        assert.ok(image.complete && image.naturalWidth > 0, `image loaded: ${image.src}`);
        assert.ok(image.src.startsWith(pathToFileURL(dir).href), `image is a local artifact: ${image.src}`);
      }

      const others = requests.filter((url) => !url.startsWith('file://'));
      assert.deepEqual(others, [], 'no request other than file://');
      assert.equal(requests.length, 1 + frameCount + screenshotCount, `the report and its images only:\n${requests.join('\n')}`);
      assert.deepEqual(problems, []);

      await page.screenshot({ path: join(artifactsDir, 'report.png'), fullPage: true });
    } finally {
      await context.close();
    }
  });

  it('stays readable on a phone-sized screen in dark mode without horizontal page scrolling', async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, colorScheme: 'dark' });
    try {
      const page = await context.newPage();
      await page.goto(pathToFileURL(reportPath).href, { waitUntil: 'load' });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 0, `page scrolls sideways by ${overflow}px`);
      const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      assert.notEqual(background, 'rgb(255, 255, 255)', 'dark palette applied');
      await page.screenshot({ path: join(artifactsDir, 'report-mobile-dark.png'), fullPage: true });
    } finally {
      await context.close();
    }
  });

  it('prints to PDF', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(pathToFileURL(reportPath).href, { waitUntil: 'load' });
      const pdf = await page.pdf({ format: 'A4', printBackground: true });
      assert.ok(pdf.subarray(0, 5).toString() === '%PDF-' && pdf.length > 10_000);
    } finally {
      await context.close();
    }
  });
});
