/**
 * Privacy on real Chromium: when capture is off (by request or by the checkpoint's lock) no image is asked for
 * and no image bytes reach any output; secrets reach no output in any encoding; and the screenshots that are
 * taken have password fields and `settings.maskSelectors` painted over (checked on the decoded pixels).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import sharp from 'sharp';
import { defaultContextOptions } from '../../engine/browser/context-options.ts';
import { ArtifactDirectory } from '../../engine/report/artifact-dir.ts';
import { runTransaction, type RunTransactionOptions } from '../../engine/runner/run-transaction.ts';
import type { RunResult } from '../../engine/schema/result.ts';
import { scriptSchema } from '../../engine/schema/script.ts';
import { startDemoSite, type DemoSite } from '../../scripts/demo-site/server.ts';
import { demoSecrets, launchBrowser, loginStep } from '../helpers/engine.ts';

/** Image signatures, raw and as they start in base64 (a data: URL in a report or HAR). */
const pngSignature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const jpegSignature = Buffer.from([0xff, 0xd8, 0xff]);
const base64Signatures = ['iVBORw0KGgo', '/9j/', 'UklGR', 'data:image/'];

/** Every image-like thing in a file: raw PNG, JPEG or WebP (RIFF….WEBP) bytes anywhere, or base64 images. */
function imagesIn(bytes: Buffer): string[] {
  const found: string[] = [];
  if (bytes.includes(pngSignature)) found.push('PNG');
  if (bytes.includes(jpegSignature)) found.push('JPEG');
  const latin1 = bytes.toString('latin1');
  if (/RIFF[\s\S]{4}WEBP/.test(latin1)) found.push('WebP');
  for (const marker of base64Signatures) if (latin1.includes(marker)) found.push(`base64 ${marker}`);
  return found;
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

/** Like `checkpoint replay --out DIR`: artifacts through an ArtifactDirectory, then result.json beside them. */
async function runWithOut(browser: Browser, out: string, script: unknown, options: Partial<RunTransactionOptions> = {}): Promise<RunResult> {
  const { result } = await runTransaction({
    script: scriptSchema.parse(script),
    browser,
    secret: (name) => demoSecrets[name],
    artifacts: new ArtifactDirectory(out),

    ...options,
  });
  await mkdir(out, { recursive: true });
  await writeFile(join(out, 'result.json'), `${JSON.stringify(result, null, 2)}\n`);
  return result;
}

/**
 * Counts every way the client could ask the browser for pixels: page, locator and element screenshots, and
 * raw CDP screenshot or screencast commands.
 */
async function spyOnImageCalls(browser: Browser): Promise<{ calls: string[]; restore: () => void }> {
  const calls: string[] = [];
  const context = await browser.newContext();
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  const restorers: (() => void)[] = [];
  const spy = (proto: object, method: string, filter?: (args: unknown[]) => string | undefined) => {
    const original = Reflect.get(proto, method) as (...args: unknown[]) => unknown;
    Reflect.set(proto, method, function (this: unknown, ...args: unknown[]) {
      const name = filter === undefined ? method : filter(args);
      if (name !== undefined) calls.push(name);
      return original.apply(this, args);
    });
    restorers.push(() => Reflect.set(proto, method, original));
  };
  spy(Object.getPrototypeOf(page) as object, 'screenshot');
  spy(Object.getPrototypeOf(page.locator('body')) as object, 'screenshot');
  spy(Object.getPrototypeOf(await page.$('html')) as object, 'screenshot');
  spy(Object.getPrototypeOf(cdp) as object, 'send', (args) => (/^Page\.(captureScreenshot|startScreencast|captureSnapshot)$/.test(String(args[0])) ? String(args[0]) : undefined));
  await context.close();
  return { calls, restore: () => restorers.forEach((restore) => restore()) };
}

/** Pixels of a decoded screenshot inside a box (inset so anti-aliased edges and focus rings are left out). */
async function pixelsIn(imagePath: string, box: { x: number; y: number; width: number; height: number }, inset = 4): Promise<number[][]> {
  const { data, info } = await sharp(imagePath).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const pixels: number[][] = [];
  for (let y = Math.ceil(box.y + inset); y < Math.floor(box.y + box.height - inset); y++) {
    for (let x = Math.ceil(box.x + inset); x < Math.floor(box.x + box.width - inset); x++) {
      const at = (y * info.width + x) * info.channels;
      pixels.push([data[at]!, data[at + 1]!, data[at + 2]!]);
    }
  }
  return pixels;
}

/** Every pixel within `tolerance` of black (the mask colour), WebP's lossy coding included. */
function assertMasked(pixels: number[][], what: string, tolerance = 24): void {
  assert.ok(pixels.length > 100, `${what}: the sampled box has pixels (${pixels.length})`);
  const off = pixels.filter((rgb) => rgb.some((channel) => channel > tolerance));
  assert.equal(off.length, 0, `${what}: ${off.length} of ${pixels.length} pixels are not the mask colour, e.g. ${JSON.stringify(off.slice(0, 3))}`);
}

/** Bounding box of an element in page coordinates, measured in a fresh context with the run's viewport. */
async function boxOf(browser: Browser, url: string, viewport: { width: number; height: number }, locate: (page: Page) => ReturnType<Page['locator']>) {
  let context: BrowserContext | undefined;
  try {
    context = await browser.newContext({ ...defaultContextOptions(), viewport });
    const page = await context.newPage();
    await page.goto(url);
    const box = await locate(page).boundingBox();
    assert.ok(box !== null, `element on ${url} has a box`);
    return box;
  } finally {
    await context?.close();
  }
}

const framedPage = `<!doctype html><title>Framed login</title><style>body{margin:0;font:16px sans-serif}</style>
<p>Account</p><input id="note" value="internal note: do not show" style="width:300px;height:40px;background:#fff;color:#000">
<div style="height:600px"></div>
<iframe id="login" src="/inner" style="width:400px;height:120px;border:0"></iframe>`;
const innerPage = `<!doctype html><style>body{margin:0;background:#fff}</style>
<input id="pw" type="password" value="hunter2hunter2hunter2" style="width:300px;height:40px;background:#fff;color:#000">`;

describe('privacy: capture off, secrets and masking (real Chromium)', () => {
  let site: DemoSite;
  let browser: Browser;
  let root: string;
  let pages: Server;
  let pagesUrl: string;
  let spy: { calls: string[]; restore: () => void };

  before(async () => {
    site = await startDemoSite({ port: 0 });
    browser = await launchBrowser();
    root = await mkdtemp(join(tmpdir(), 'checkpoint-privacy-'));
    pages = createServer((req, res) => {
      const body = req.url === '/framed' ? framedPage : req.url === '/inner' ? innerPage : undefined;
      res.writeHead(body === undefined ? 404 : 200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(body ?? 'not found');
    });
    await new Promise<void>((resolve) => pages.listen(0, '127.0.0.1', resolve));
    pagesUrl = `http://127.0.0.1:${(pages.address() as AddressInfo).port}`;
    spy = await spyOnImageCalls(browser);
  });
  after(async () => {
    spy.restore();
    await browser.close();
    await site.close();
    await new Promise((resolve) => pages.close(resolve));
    await rm(root, { recursive: true, force: true });
  });

  it('writes no image bytes anywhere and never asks for a screenshot when screenshots are off and the filmstrip is off', async () => {
    const out = join(root, 'capture-off');
    spy.calls.length = 0;
    const result = await runWithOut(
      browser,
      out,
      {
        name: 'Capture off',
        steps: [
          loginStep(site.url),
          { name: 'Reports', actions: [{ type: 'navigate', url: `${site.url}/app` }, { type: 'click', selector: 'a[href="/app/weekly"]' }, { type: 'waitForElement', selector: '#report-total' }] },
          // A failure: with screenshots `off` even a failed step gets no screenshot.
          { name: 'Fails', actions: [{ type: 'assertText', text: 'text that is not there', timeoutMs: 300 }] },
        ],
      },
      { screenshots: 'off', filmstrip: false, privacyLock: false },
    );
    assert.equal(result.status, 'failed', 'the last step fails as designed');
    assert.deepEqual(spy.calls, [], 'no screenshot or screencast call was made');
    const files = await filesUnder(out);
    assert.ok(files.some((file) => file.endsWith('result.json')));
    for (const file of files) assert.deepEqual(imagesIn(await readFile(file)), [], `image bytes in ${file}`);
    assert.deepEqual(imagesIn(Buffer.from(JSON.stringify(result))), []);
    assert.ok(result.steps.every((step) => step.screenshot === undefined && step.filmstrip === undefined));
    assert.equal(result.artifacts.filter((artifact) => artifact.kind === 'screenshot' || artifact.kind === 'filmstrip-frame').length, 0);
  });

  it('takes no screenshot under the privacy lock even when the script asks for screenshots of every step', async () => {
    const out = join(root, 'locked');
    spy.calls.length = 0;
    const result = await runWithOut(
      browser,
      out,
      {
        name: 'Locked',
        settings: { screenshots: 'all', filmstrip: true },
        steps: [
          { ...loginStep(site.url), screenshot: 'all', filmstrip: true },
          { name: 'Fails', screenshot: 'all', actions: [{ type: 'assertText', text: 'text that is not there', timeoutMs: 300 }] },
        ],
      },
      { privacyLock: true, screenshots: 'all' },
    );
    assert.equal(result.privacyLock, true);
    assert.deepEqual(spy.calls, [], 'no screenshot or screencast call was made');
    assert.ok(result.steps.every((step) => step.screenshot === undefined && step.filmstrip === undefined), JSON.stringify(result.steps));
    const files = await filesUnder(out);
    assert.deepEqual(files.filter((file) => /\.(png|jpe?g|webp)$/i.test(file)), [], 'no image files');
    for (const file of files) assert.deepEqual(imagesIn(await readFile(file)), [], `image bytes in ${file}`);
  });

  it('keeps a canary secret out of every output file and paints over the password field it was typed into', async () => {
    const canary = `Canary ${randomBytes(6).toString('hex')}/q+z`;
    const out = join(root, 'canary');
    spy.calls.length = 0;
    const result = await runWithOut(
      browser,
      out,
      {
        name: 'Canary',
        settings: { extraHttpHeaders: { 'X-Canary': '{{secret.CANARY}}' }, screenshots: 'all' },
        steps: [
          {
            name: 'Type it',
            actions: [
              { type: 'navigate', url: `${site.url}/login?ref={{secret.CANARY}}` },
              { type: 'fill', selector: '#username', value: 'demo' },
              { type: 'fill', selector: '#password', value: '{{secret.CANARY}}' },
              { type: 'evaluate', expression: "console.log('canary: {{secret.CANARY}}'); 'logged'" },
            ],
          },
          {
            // The page shows the request headers: proof the header was sent; no screenshot of it is taken.
            name: 'Echo it',
            screenshot: 'off',
            actions: [
              { type: 'navigate', url: `${site.url}/public/echo-headers?ref={{secret.CANARY}}` },
              { type: 'assertText', text: 'x-canary' },
            ],
          },
        ],
      },
      { secret: (name) => (name === 'CANARY' ? canary : demoSecrets[name]) },
    );
    assert.equal(result.status, 'passed', JSON.stringify(result.steps.map((step) => step.error)));
    assert.ok(result.steps[1]?.url?.includes('[redacted]'), `the URL is stored with the secret masked: ${result.steps[1]?.url}`);

    const forms = {
      plain: canary,
      'URL-encoded': encodeURIComponent(canary),
      'URL-encoded (URI)': encodeURI(canary),
      base64: Buffer.from(canary).toString('base64'),
      'JSON-escaped': JSON.stringify(canary).slice(1, -1),
    };
    const files = await filesUnder(out);
    assert.ok(files.length >= 2, `result.json and a screenshot: ${files.join(', ')}`);
    for (const file of files) {
      const bytes = await readFile(file);
      for (const [form, text] of Object.entries(forms)) assert.ok(!bytes.includes(Buffer.from(text)), `${form} secret in ${file}`);
    }

    const shot = result.steps[0]?.screenshot;
    assert.ok(shot !== undefined && shot.endsWith('.webp'), `a WebP screenshot of the first step: ${shot}`);
    assert.equal(result.steps[1]?.screenshot, undefined);
    const artifact = result.artifacts.find((a) => a.path === shot);
    assert.equal(artifact?.contentType, 'image/webp');
    const image = join(out, shot);
    // Positive controls: the spy and the scanner used by the capture-off tests do see a real screenshot.
    assert.deepEqual(spy.calls, ['screenshot'], 'one screenshot call, for the first step only');
    assert.deepEqual(imagesIn(await readFile(image)), ['WebP']);
    const meta = await sharp(image).metadata();
    assert.equal(meta.format, 'webp');
    const viewport = { width: meta.width, height: meta.height };
    const field = await boxOf(browser, `${site.url}/login`, viewport, (page) => page.locator('#password'));
    assertMasked(await pixelsIn(image, field), 'the password field');
    const username = await boxOf(browser, `${site.url}/login`, viewport, (page) => page.locator('#username'));
    const visible = await pixelsIn(image, username);
    assert.ok(visible.some((rgb) => rgb.every((channel) => channel > 200)), 'an ordinary field is not painted over');
  });

  it('paints over maskSelectors and password fields inside iframes in a full-page screenshot, below the fold', async () => {
    const out = join(root, 'full-page');
    const viewport = { width: 600, height: 200 };
    const result = await runWithOut(browser, out, {
      name: 'Full page',
      settings: { viewport, fullPageScreenshots: true, maskSelectors: ['#note'], screenshots: 'all' },
      steps: [{ name: 'Open', actions: [{ type: 'navigate', url: `${pagesUrl}/framed` }, { type: 'waitForElement', selector: '#login' }] }],
    });
    assert.equal(result.status, 'passed', JSON.stringify(result.warnings));
    const shot = result.steps[0]?.screenshot;
    assert.ok(shot !== undefined, JSON.stringify(result.warnings));
    const image = join(out, shot);
    const meta = await sharp(image).metadata();
    assert.ok(meta.height > viewport.height + 600, `the whole page, not the viewport (${meta.width}×${meta.height})`);
    assertMasked(await pixelsIn(image, await boxOf(browser, `${pagesUrl}/framed`, viewport, (page) => page.locator('#note'))), 'the maskSelectors element');
    const password = await boxOf(browser, `${pagesUrl}/framed`, viewport, (page) => page.frameLocator('#login').locator('#pw'));
    assert.ok(password.y > viewport.height, 'the framed password field is below the fold');
    assertMasked(await pixelsIn(image, password), 'the password field in the iframe');
  });
});

/** The text with every run of percent-escapes decoded (a secret encoded any way shows up plain). */
function percentDecoded(text: string): string {
  return text.replace(/(%[0-9a-fA-F]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run;
    }
  });
}

/** The text with HTML character references (named ones the report uses, decimal, hex) decoded. */
function entitiesDecoded(text: string): string {
  const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };
  return text.replace(/&(#[xX][0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (whole, body: string) => {
    if (body.startsWith('#x') || body.startsWith('#X')) return String.fromCodePoint(Number.parseInt(body.slice(2), 16));
    if (body.startsWith('#')) return String.fromCodePoint(Number.parseInt(body.slice(1), 10));
    return named[body] ?? whole;
  });
}

/** JSON string escapes (\" \\ \/ \uXXXX) decoded, once. */
function jsonDecoded(text: string): string {
  return text.replace(/\\(u[0-9a-fA-F]{4}|["\\/])/g, (_whole, body: string) => (body.startsWith('u') ? String.fromCharCode(Number.parseInt(body.slice(1), 16)) : body));
}

describe('privacy: a secret with every character encoders treat differently (real Chromium, the replay command)', () => {
  // ' " { space & < > + / and non-ASCII: Chromium's query encoding, form encoding, encodeURIComponent, JSON and
  // HTML escaping each write a different subset of these differently.
  const secret = `Tr'ck"y{pw} a&b<c>d+e/f\\g=é€😀`;
  let browser: Browser;
  let root: string;
  let server: Server;
  let url: string;

  before(async () => {
    browser = await launchBrowser();
    root = await mkdtemp(join(tmpdir(), 'checkpoint-encoded-secret-'));
    server = createServer((req, res) => {
      const parsed = new URL(req.url ?? '/', 'http://x');
      res.setHeader('content-type', 'text/html; charset=utf-8');
      if (parsed.pathname === '/form') {
        res.end('<title>form</title><form action="/echo" method="get"><input id="q" name="q"><button id="go" type="submit">Go</button></form>');
        return;
      }
      // The page shows what it received, so the secret also reaches page text (and a failure message).
      res.end(`<title>echo</title><p id="got">echoed ${parsed.searchParams.get('q')?.length ?? 0} characters</p>`);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await browser.close();
    await new Promise((resolve) => server.close(resolve));
    await rm(root, { recursive: true, force: true });
  });

  it('keeps it out of result.json, the --json output, report.html and the HAR in every encoding', async () => {
    const { replay } = await import('../../cli/replay-command.ts');
    const scriptPath = join(root, 'encoded.json');
    const secretsPath = join(root, 'secrets.json');
    await writeFile(secretsPath, JSON.stringify({ TRICKY: secret }));
    await writeFile(
      scriptPath,
      JSON.stringify({
        name: 'Encoded secret',
        settings: { extraHttpHeaders: { 'X-Canary': '{{secret.TRICKY}}' } },
        steps: [
          { name: 'Query string', actions: [{ type: 'navigate', url: `${url}/form?k={{secret.TRICKY}}&plain=1#{{secret.TRICKY}}` }] },
          {
            name: 'Form',
            actions: [
              { type: 'fill', selector: '#q', value: '{{secret.TRICKY}}' },
              { type: 'click', selector: '#go' },
              { type: 'waitForUrl', contains: '/echo' },
              { type: 'assertText', text: 'echoed' },
            ],
          },
          // A failure whose message carries the secret (the assertion text).
          { name: 'Fails', actions: [{ type: 'assertText', text: 'not here {{secret.TRICKY}}', timeoutMs: 300 }] },
        ],
      }),
    );
    const out = join(root, 'out');
    const harPath = join(root, 'run.har');
    let stdout = '';
    let stderr = '';
    const { result } = await replay(
      scriptPath,
      { vars: {}, out, headed: false, json: true, secrets: secretsPath, har: harPath, screenshots: 'off' },
      { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text), color: false },
      browser,
    );
    assert.equal(result.steps[1]?.status, 'passed', JSON.stringify(result.steps[1]?.error));
    assert.equal(result.steps[2]?.status, 'failed');
    const outputs: Record<string, string> = {
      'result.json': await readFile(join(out, 'result.json'), 'utf8'),
      'report.html': await readFile(join(out, 'report.html'), 'utf8'),
      HAR: await readFile(harPath, 'utf8'),
      '--json output': stdout,
      'console output': stderr,
    };
    assert.ok(outputs['HAR']?.includes('/echo?q='), 'the HAR has the form submission');
    assert.ok(outputs['result.json']?.includes('[redacted]'), 'the secret was there to be masked');
    const forms: Record<string, string> = {
      raw: secret,
      encodeURIComponent: encodeURIComponent(secret),
      'lower-case percent': encodeURIComponent(secret).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()),
      form: new URLSearchParams({ q: secret }).toString().slice(2),
      "Chromium's query encoding": new URL(`http://h/?k=${secret}`).search.slice(3),
      "Chromium's fragment encoding": new URL(`http://h/#${secret}`).hash.slice(1),
      'JSON string': JSON.stringify(secret).slice(1, -1),
      'JSON in JSON': JSON.stringify(JSON.stringify(secret)).slice(1, -1),
      HTML: secret.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;'),
      base64: Buffer.from(secret).toString('base64'),
      'twice percent-encoded': encodeURIComponent(encodeURIComponent(secret)),
    };
    const decoders: Record<string, (text: string) => string> = {
      'percent-decoded': percentDecoded,
      'entity-decoded': entitiesDecoded,
      'JSON-decoded': jsonDecoded,
      'entity- then percent-decoded': (text) => percentDecoded(entitiesDecoded(text)),
      'JSON- then percent-decoded': (text) => percentDecoded(jsonDecoded(text)),
      'form-decoded': (text) => percentDecoded(text.replace(/\+/g, ' ')),
    };
    // Distinctive pieces: what would give the secret away even if a neighbour swallowed one end of it.
    const pieces = ["Tr'ck", 'y{pw}', 'a&b<c>d', 'f\\g=é€😀'];
    for (const [name, text] of Object.entries(outputs)) {
      const bytes = Buffer.from(text);
      for (const [form, encoded] of Object.entries(forms)) assert.ok(!bytes.includes(Buffer.from(encoded)), `${form} form of the secret in ${name}`);
      for (const [how, decode] of Object.entries(decoders)) {
        const decoded = decode(text);
        for (const piece of pieces) {
          const at = decoded.indexOf(piece);
          assert.ok(at < 0, `"${piece}" of the secret in ${name} (${how}): …${JSON.stringify(decoded.slice(Math.max(0, at - 200), at + 80))} / raw ${JSON.stringify(text.slice(Math.max(0, at - 200), at + 120))}`);
        }
      }
    }
  });
});
