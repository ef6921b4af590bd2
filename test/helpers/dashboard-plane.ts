import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startControlPlane, type ControlPlane, type ControlPlaneOptions } from '../../control-plane/server.ts';
import { FakeClock } from './fake-agent.ts';

/**
 * What the dashboard tests share: a control plane on 127.0.0.1 port 0 with a fake clock (the maintenance timer
 * effectively off), signing in through the login form, and screenshots for docs/.
 */
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '../..');
export const dashboardAdminToken = 'admin-secret-for-dashboard-tests';

export interface Plane {
  cp: ControlPlane;
  clock: FakeClock;
  logs: string[];
  /** The admin API, as a non-browser client (bearer token, no Origin). */
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }>;
}

/** `loopbackAdmin` starts it without an admin token (no sign-in). */
export async function startPlane(t: TestContext, input: { clock?: FakeClock; loopbackAdmin?: boolean; options?: Partial<ControlPlaneOptions> } = {}): Promise<Plane> {
  const dataDir = await mkdtemp(join(tmpdir(), 'cp-dashboard-'));
  const clock = input.clock ?? new FakeClock();
  const logs: string[] = [];
  const cp = await startControlPlane({
    dataDir,
    clock,
    ...(input.loopbackAdmin === true ? {} : { adminToken: dashboardAdminToken }),
    log: (line) => logs.push(line),
    tickIntervalMs: 3_600_000,
    heartbeatIntervalMs: 600_000,
    ...input.options,
  });
  t.after(async () => {
    await cp.close();
    await rm(dataDir, { recursive: true, force: true });
  });
  return {
    cp,
    clock,
    logs,
    call: async (method, path, body) => {
      const response = await fetch(`${cp.url}${path}`, {
        method,
        headers: { Authorization: `Bearer ${dashboardAdminToken}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      return { status: response.status, body: (text === '' ? {} : JSON.parse(text)) as Record<string, unknown> };
    },
  };
}

/** A fresh context signed in through the login form (the dashboard sends a new visitor there). */
export async function signIn(browser: Browser, t: TestContext, p: Plane): Promise<{ context: BrowserContext; tab: Page }> {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  t.after(() => context.close());
  const tab = await context.newPage();
  await tab.goto(`${p.cp.url}/`);
  assert.equal(new URL(tab.url()).pathname, '/login', 'the dashboard asks to sign in');
  await tab.getByLabel('Admin token').fill(dashboardAdminToken);
  await Promise.all([tab.waitForURL(`${p.cp.url}/`), tab.getByRole('button', { name: 'Sign in' }).click()]);
  return { context, tab };
}

/** Where a test-made screenshot goes: test-artifacts/ always, docs/images/ too with CHECKPOINT_DOCS_IMAGES=1. */
export async function screenshot(tab: Page, name: string): Promise<void> {
  const artifactsDir = join(repoRoot, 'test-artifacts');
  await mkdir(artifactsDir, { recursive: true });
  await tab.screenshot({ path: join(artifactsDir, name), fullPage: true });
  if (process.env['CHECKPOINT_DOCS_IMAGES'] === '1') await copyFile(join(artifactsDir, name), join(repoRoot, 'docs', 'images', name));
}
