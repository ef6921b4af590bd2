import type { Frame } from 'playwright-core';
import { EngineError } from '../../core/errors.ts';
import type { ActionOf } from '../../schema/actions.ts';
import { resolveSelector } from '../selectors.ts';
import { callTimeoutMs, outcomeOf, type ActionEnvironment, type ActionHandlers, type ActionOutcome } from './types.ts';

/** Moving where actions apply: into and out of frames, between tabs. */
export const frameTabHandlers: Pick<ActionHandlers, 'switchFrame' | 'switchToMainFrame' | 'switchTab' | 'closeTab'> = {
  switchFrame,
  switchToMainFrame(_action, { session }) {
    session.useFrame(session.page.mainFrame());
    return Promise.resolve({});
  },
  switchTab,
  async closeTab(_action, { session }) {
    const page = session.page;
    if (page === session.mainPage) throw new EngineError('SCRIPT_INVALID', 'closeTab cannot close the main tab (switch to a popup or new tab first)', 'script');
    await page.close();
    session.usePage(session.mainPage);
    return {};
  },
};

async function switchFrame(action: ActionOf<'switchFrame'>, env: ActionEnvironment): Promise<ActionOutcome> {
  const { session, deadline, timeoutMs } = env;
  const page = session.page;
  if (action.selector !== undefined) {
    const resolved = await resolveSelector(session.frame, action.selector, deadline, timeoutMs);
    const handle = await resolved.locator.first().elementHandle({ timeout: callTimeoutMs(deadline) });
    let frame = await handle?.contentFrame();
    if (frame === null || frame === undefined) {
      throw new EngineError('ELEMENT_NOT_ACTIONABLE', `element ${resolved.selector} is not an <iframe> with a document`, 'script');
    }
    // Wait for the frame's document to exist, so the next action does not race its load.
    await frame.waitForLoadState('domcontentloaded', { timeout: callTimeoutMs(deadline) }).catch(() => undefined);
    frame = (await handle?.contentFrame()) ?? frame;
    session.useFrame(frame);
    return outcomeOf(resolved);
  }
  let found: Frame | undefined;
  const ok = await deadline.poll(() => {
    found = page.frames().find((frame) =>
      action.name !== undefined ? frame.name() === action.name : frame !== page.mainFrame() && frame.url().includes(action.urlContains ?? ''),
    );
    return found !== undefined;
  }, 50);
  const what = action.name !== undefined ? `named "${action.name}"` : `whose URL contains "${action.urlContains ?? ''}"`;
  if (!ok || found === undefined) throw new EngineError('FRAME_NOT_FOUND', `no frame ${what} within ${timeoutMs} ms`, 'site');
  session.useFrame(found);
  return {};
}

async function switchTab(action: ActionOf<'switchTab'>, { session, deadline, timeoutMs }: ActionEnvironment): Promise<ActionOutcome> {
  let target;
  if (action.urlContains !== undefined) {
    const needle = action.urlContains;
    target = await session.waitForPage((page) => page.url().includes(needle), `tab whose URL contains "${needle}"`, deadline, timeoutMs);
  } else if (action.to === 'main') {
    target = session.mainPage;
  } else {
    const current = session.page;
    target = await session.waitForPage((page) => page !== current && page !== session.mainPage, 'new tab or popup opened', deadline, timeoutMs);
  }
  await target.waitForLoadState('domcontentloaded', { timeout: callTimeoutMs(deadline) }).catch(() => undefined);
  session.usePage(target);
  await target.bringToFront().catch(() => undefined);
  return {};
}
