/**
 * `upload` reads files only from one directory: the script's own (local replay) or the configured uploads
 * directory (an agent). Absolute paths, `../` and symlinks out of it are refused with POLICY_BLOCKED before
 * anything is read; without a directory, only inline files can be uploaded.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import type { RunResult } from '../../engine/schema/result.ts';
import { launchBrowser, runScript } from '../helpers/engine.ts';

describe('upload reads only from its directory (real Chromium)', () => {
  let browser: Browser;
  let server: Server;
  let url: string;
  let root: string;
  let scriptDir: string;
  let outside: string;

  before(async () => {
    browser = await launchBrowser();
    root = await mkdtemp(join(tmpdir(), 'checkpoint-upload-'));
    scriptDir = join(root, 'scripts');
    outside = join(root, 'private');
    await mkdir(join(scriptDir, 'files'), { recursive: true });
    await mkdir(outside);
    await writeFile(join(scriptDir, 'files', 'report.csv'), 'a,b\n1,2\n');
    await writeFile(join(outside, 'secret.txt'), 'not for upload');
    await symlink(join(outside, 'secret.txt'), join(scriptDir, 'files', 'link-out.txt'));
    await symlink(outside, join(scriptDir, 'dir-link'));
    server = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end('<title>upload</title><input type="file" id="f" multiple>');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  after(async () => {
    await browser.close();
    await new Promise((resolve) => server.close(resolve));
    await rm(root, { recursive: true, force: true });
  });

  const upload = (files: unknown[], options: { scriptPath?: string; uploadsDir?: string } = { scriptPath: join(scriptDir, 'upload.json') }) =>
    runScript(
      browser,
      {
        name: 'Upload',
        steps: [
          {
            name: 'Attach',
            actions: [
              { type: 'navigate', url },
              { type: 'upload', selector: '#f', files },
              { type: 'evaluate', expression: "[...document.querySelector('#f').files].map((f) => f.name + ':' + f.size).join(',')", variable: 'picked' },
              { type: 'assertText', text: 'upload', selector: 'title' },
            ],
          },
        ],
      },
      options,
    );

  function assertRefused(result: RunResult, pattern: RegExp): void {
    const error = result.steps[0]?.error;
    assert.equal(result.status, 'failed');
    assert.equal(error?.code, 'POLICY_BLOCKED', JSON.stringify(error));
    assert.equal(error?.blame, 'script');
    assert.match(error?.message ?? '', pattern);
  }

  it('uploads a file inside the script directory, by relative or absolute path', async () => {
    for (const file of ['files/report.csv', join(scriptDir, 'files', 'report.csv'), './files/../files/report.csv']) {
      const result = await upload([file]);
      assert.equal(result.steps[0]?.actions[1]?.status, 'passed', `${file}: ${JSON.stringify(result.steps[0]?.error)}`);
    }
  });

  it('refuses an absolute path outside it, naming the file and the allowed directory', async () => {
    assertRefused(await upload(['/etc/passwd']), new RegExp(`files\\[0\\]: "/etc/passwd" is outside the allowed uploads directory ${scriptDir}`));
    assertRefused(await upload([join(outside, 'secret.txt')]), /is outside the allowed uploads directory/);
  });

  it('refuses ../ out of it, also for a file that does not exist (nothing outside is probed)', async () => {
    assertRefused(await upload(['../private/secret.txt']), /"\.\.\/private\/secret\.txt" is outside the allowed uploads directory/);
    assertRefused(await upload(['../../../../no/such/file']), /is outside the allowed uploads directory/);
  });

  it('resolves symlinks before the check: a link inside pointing out is refused', async () => {
    assertRefused(await upload(['files/link-out.txt']), /"files\/link-out\.txt" is outside the allowed uploads directory/);
    assertRefused(await upload(['dir-link/secret.txt']), /is outside the allowed uploads directory/);
  });

  it('uses the configured uploads directory instead of the script directory when one is given', async () => {
    const passed = await upload(['secret.txt'], { uploadsDir: outside, scriptPath: join(scriptDir, 'upload.json') });
    assert.equal(passed.steps[0]?.actions[1]?.status, 'passed', JSON.stringify(passed.steps[0]?.error));
    assertRefused(await upload(['../scripts/files/report.csv'], { uploadsDir: outside }), new RegExp(`outside the allowed uploads directory ${outside}`));
  });

  it('refuses file paths when there is no directory at all (an agent without one), inline files still work', async () => {
    assertRefused(await upload(['report.csv'], {}), /cannot upload "report\.csv": no uploads directory is configured/);
    const inline = await upload([{ name: 'note.txt', text: 'hello' }], {});
    assert.equal(inline.steps[0]?.actions[1]?.status, 'passed', JSON.stringify(inline.steps[0]?.error));
  });
});
