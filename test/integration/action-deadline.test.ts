/**
 * The action's deadline reaches every wait inside the action: a cancel ends a polling assertion at once (and
 * the polling stops), and a wait longer than the step's budget ends as a step timeout.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { systemClock } from '../../engine/core/clock.ts';
import { Deadline } from '../../engine/core/deadline.ts';
import { EngineError } from '../../engine/core/errors.ts';
import type { NetworkTracker } from '../../engine/collectors/network-tracker.ts';
import { executeAction } from '../../engine/runner/actions.ts';
import { RunSession } from '../../engine/runner/session.ts';
import { launchBrowser, runScript } from '../helpers/engine.ts';

let browser: Browser;
let server: Server;
let baseUrl: string;

before(async () => {
  server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html' });
    response.end('<!doctype html><title>Loading</title><p>Hello</p>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await launchBrowser();
});
after(async () => {
  await browser.close();
  await new Promise((resolve) => server.close(resolve));
});

describe('the action deadline', () => {
  it('a cancel during a polling assertion rejects at once with its reason and stops the polling', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(baseUrl);
      const session = new RunSession(context, page);
      let titleReads = 0;
      const readTitle = page.title.bind(page);
      page.title = () => {
        titleReads++;
        return readTitle();
      };
      const deadline = Deadline.start({ clock: systemClock, budgetMs: 60_000, onExpire: () => new EngineError('ACTION_TIMEOUT', 'timed out after 60000 ms', 'site') });
      const assertion = executeAction(
        { type: 'assertTitle', equals: 'Never' },
        { session, network: {} as NetworkTracker, deadline, timeoutMs: 60_000, clock: systemClock, scriptDir: '.', setVariable: () => undefined },
      );
      assertion.catch(() => undefined);
      while (titleReads < 3) await sleep(10);
      deadline.abort(new EngineError('RUN_ABORTED', 'the run was cancelled', 'engine'));
      await assert.rejects(assertion, (error: unknown) => error instanceof EngineError && error.code === 'RUN_ABORTED');
      const readsAtCancel = titleReads;
      // Several poll intervals later nobody reads the title any more.
      await sleep(500);
      assert.equal(titleReads, readsAtCancel);
    } finally {
      await context.close();
    }
  });

  it('a run cancelled during a long assertText ends with RUN_ABORTED, not after the assertion timeout', async () => {
    const controller = new AbortController();
    const result = await runScript(
      browser,
      {
        name: 'Cancelled',
        steps: [
          { name: 'Open', actions: [{ type: 'navigate', url: baseUrl }] },
          { name: 'Wait for text', timeoutMs: 120_000, actions: [{ type: 'assertText', text: 'never on the page', timeoutMs: 120_000 }] },
        ],
        timeoutMs: 300_000,
      },
      {
        signal: controller.signal,
        listener: {
          onStepStart: ({ index }) => {
            if (index === 1) setTimeout(() => controller.abort(new EngineError('RUN_ABORTED', 'the run was cancelled', 'engine')), 300);
          },
        },
      },
    );
    assert.equal(result.steps[1]?.error?.code, 'RUN_ABORTED', JSON.stringify(result.steps[1]?.error));
  });

  it('a wait longer than the step budget ends as a step timeout naming the budget', async () => {
    const result = await runScript(browser, {
      name: 'Long wait',
      steps: [{ name: 'Wait', timeoutMs: 800, actions: [{ type: 'waitForTime', durationMs: 10_000 }] }],
    });
    const error = result.steps[0]?.error;
    assert.equal(error?.code, 'STEP_TIMEOUT', JSON.stringify(error));
    assert.match(error?.message ?? '', /the step's 800 ms budget ran out/);
    assert.doesNotMatch(error?.message ?? '', /did not answer/);
  });
});
