/** Browser discovery against a fake file system and environment (no real browser needed). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { discoverBrowsers, installAdvice, type BrowserDiscoveryEnvironment } from '../../../engine/browser/discover.ts';
import { EngineError } from '../../../engine/core/errors.ts';

function fakeEnvironment(executables: readonly string[], env: Record<string, string | undefined> = {}, platform: NodeJS.Platform = 'linux'): BrowserDiscoveryEnvironment & { probed: string[] } {
  const present = new Set(executables);
  const probed: string[] = [];
  return {
    env,
    platform,
    probed,
    isExecutable: (path) => {
      probed.push(path);
      return present.has(path);
    },
  };
}

function discoveryError(environment: BrowserDiscoveryEnvironment): EngineError {
  try {
    discoverBrowsers(environment);
  } catch (error) {
    assert.ok(error instanceof EngineError, String(error));
    return error;
  }
  assert.fail('expected BROWSER_NOT_FOUND');
}

describe('discoverBrowsers', () => {
  it('uses CHROME_PATH when it points at an executable, ignoring everything on PATH', () => {
    const environment = fakeEnvironment(['/opt/custom/chrome', '/usr/bin/chromium', '/usr/bin/chromium-headless-shell'], { CHROME_PATH: '/opt/custom/chrome', PATH: '/usr/bin' });
    assert.deepEqual(discoverBrowsers(environment), { full: '/opt/custom/chrome' });
  });

  it('fails with BROWSER_NOT_FOUND and install advice when CHROME_PATH points at nothing', () => {
    const error = discoveryError(fakeEnvironment(['/usr/bin/chromium'], { CHROME_PATH: '/nowhere/chrome', PATH: '/usr/bin' }));
    assert.equal(error.code, 'BROWSER_NOT_FOUND');
    assert.equal(error.blame, 'engine');
    assert.match(error.message, /^CHROME_PATH is set to "\/nowhere\/chrome", which is not an executable file\./);
    assert.match(error.message, /apt-get install -y chromium chromium-headless-shell/);
  });

  it('ignores an empty CHROME_PATH', () => {
    assert.deepEqual(discoverBrowsers(fakeEnvironment(['/usr/local/bin/chromium'], { CHROME_PATH: '', PATH: '/usr/local/bin' })), { full: '/usr/local/bin/chromium' });
  });

  it('finds chromium on PATH, searching directories in order', () => {
    const environment = fakeEnvironment(['/home/me/bin/chromium', '/usr/local/bin/chromium'], { PATH: '/home/me/bin:/usr/local/bin' });
    assert.deepEqual(discoverBrowsers(environment), { full: '/home/me/bin/chromium' });
  });

  it('prefers chromium over google-chrome when both are on PATH', () => {
    const environment = fakeEnvironment(['/a/google-chrome', '/b/chromium'], { PATH: '/a:/b' });
    assert.equal(discoverBrowsers(environment).full, '/b/chromium');
  });

  it('reports the headless shell next to the full browser', () => {
    const environment = fakeEnvironment(['/usr/local/bin/chromium', '/usr/local/bin/chromium-headless-shell'], { PATH: '/usr/local/bin' });
    assert.deepEqual(discoverBrowsers(environment), { full: '/usr/local/bin/chromium', headlessShell: '/usr/local/bin/chromium-headless-shell' });
  });

  it('falls back to well-known install locations when PATH has nothing', () => {
    const environment = fakeEnvironment(['/usr/lib/chromium/chromium', '/usr/lib/chromium/chromium-headless-shell'], { PATH: '/bin' });
    assert.deepEqual(discoverBrowsers(environment), { full: '/usr/lib/chromium/chromium', headlessShell: '/usr/lib/chromium/chromium-headless-shell' });
  });

  it('uses the headless shell as the only browser when no full browser exists', () => {
    const environment = fakeEnvironment(['/usr/bin/chromium-headless-shell'], {});
    assert.deepEqual(discoverBrowsers(environment), { full: '/usr/bin/chromium-headless-shell', headlessShell: '/usr/bin/chromium-headless-shell' });
  });

  it('finds Chrome in the macOS application folder', () => {
    const mac = '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome';
    assert.deepEqual(discoverBrowsers(fakeEnvironment([mac], { PATH: '/usr/bin' }, 'darwin')), { full: mac });
  });

  it('fails with BROWSER_NOT_FOUND and apt-get advice on Linux when nothing is installed', () => {
    const environment = fakeEnvironment([], { PATH: '/usr/bin:/bin' });
    const error = discoveryError(environment);
    assert.equal(error.code, 'BROWSER_NOT_FOUND');
    assert.equal(error.blame, 'engine');
    assert.match(error.message, /^No Chrome or Chromium browser was found\. Install one with `apt-get install/);
    assert.ok(environment.probed.includes('/usr/bin/chromium'), 'PATH must have been searched');
    assert.ok(environment.probed.includes('/opt/google/chrome/chrome'), 'well-known locations must have been searched');
  });

  it('fails without apt-get advice on macOS', () => {
    const error = discoveryError(fakeEnvironment([], { PATH: '/usr/bin' }, 'darwin'));
    assert.equal(error.code, 'BROWSER_NOT_FOUND');
    assert.doesNotMatch(error.message, /apt-get/);
    assert.match(error.message, /set CHROME_PATH/);
  });

  it('treats a missing PATH as empty', () => {
    assert.equal(discoveryError(fakeEnvironment([], {})).code, 'BROWSER_NOT_FOUND');
  });
});

describe('installAdvice', () => {
  it('names the Debian packages on Linux and CHROME_PATH everywhere', () => {
    assert.match(installAdvice('linux'), /apt-get install -y chromium chromium-headless-shell/);
    for (const platform of ['linux', 'darwin', 'win32'] as const) assert.match(installAdvice(platform), /CHROME_PATH/);
  });
});
