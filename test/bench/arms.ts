import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import PQueue from 'p-queue';
import { chromium } from 'playwright-core';
import { chooseExecutable, chromiumArgs } from '../../engine/browser/launch.ts';
import { discoverBrowsers } from '../../engine/browser/discover.ts';
import { singleBrowserProvider } from '../../engine/browser/lease.ts';
import { BrowserPool } from '../../engine/browser/pool.ts';
import { parseScriptText } from '../../engine/core/parse-script.ts';
import { runTransaction } from '../../engine/runner/run-transaction.ts';
import { Scheduler } from '../../engine/runner/scheduler.ts';
import type { Script } from '../../engine/schema/script.ts';
import type { Page as PuppeteerPage } from 'puppeteer-core';
import { playwrightTransaction, puppeteerTransaction } from './hand-written.ts';

export const armNames = ['ours', 'browser-per-tx', 'puppeteer-cluster', 'playwright-hand'] as const;
export type ArmName = (typeof armNames)[number];

export interface ArmRun {
  /** Wall time of each transaction, ms (from when it started running, queue excluded). */
  transactionMs: number[];
  /** Time to get a context ready for each transaction, ms, where the arm can tell. */
  leaseWaitMs: number[];
  failures: string[];
}

export interface ArmContext {
  baseUrl: string;
  password: string;
  transactions: number;
  concurrency: number;
}

const scriptUrl = new URL('../../scripts/examples/login-and-search-orders.json', import.meta.url);

export async function loadBenchScript(): Promise<Script> {
  const parsed = parseScriptText(await readFile(fileURLToPath(scriptUrl), 'utf8'));
  if (!parsed.ok) throw new Error(`bench script invalid: ${JSON.stringify(parsed.problems)}`);
  return { ...parsed.script, settings: { ...parsed.script.settings, screenshots: 'off' } };
}

export function benchExecutable(): string {
  return chooseExecutable(discoverBrowsers(), false);
}

/** A started arm: `run` does the measured transactions, `close` tears down what `start` set up. */
export interface StartedArm {
  run(): Promise<ArmRun>;
  close(): Promise<void>;
}

async function timed(fn: () => Promise<void>, into: ArmRun): Promise<void> {
  const started = performance.now();
  try {
    await fn();
  } catch (error) {
    into.failures.push(error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error));
  } finally {
    into.transactionMs.push(performance.now() - started);
  }
}

/** (a) Our engine: warm pool with a spare context, scheduler lane, runner with timings on, screenshots off. */
async function startOurs(ctx: ArmContext, script: Script): Promise<StartedArm> {
  const pool = new BrowserPool({ browsers: 1, contextsPerBrowser: ctx.concurrency + 1, recycleAfterLeases: 1_000_000, launchStaggerMs: 0 });
  await pool.warm();
  const scheduler = new Scheduler({ leases: pool, concurrency: ctx.concurrency, maxQueued: ctx.transactions + 1 });
  return {
    async run() {
      const out: ArmRun = { transactionMs: [], leaseWaitMs: [], failures: [] };
      await Promise.all(
        Array.from({ length: ctx.transactions }, () =>
          scheduler.submit({ script, variables: { baseUrl: ctx.baseUrl }, secret: () => ctx.password }).then(
            ({ result }) => {
              out.transactionMs.push(result.durationMs + (result.leaseWaitMs ?? 0));
              out.leaseWaitMs.push(result.leaseWaitMs ?? 0);
              if (result.status !== 'passed') out.failures.push(result.steps.find((s) => s.error)?.error?.message ?? result.status);
            },
            (error: unknown) => out.failures.push(String(error)),
          ),
        ),
      );
      return out;
    },
    close: () => pool.close(),
  };
}

/** (b) A fresh browser per transaction, same runner. */
function startBrowserPerTx(ctx: ArmContext, script: Script): Promise<StartedArm> {
  const executablePath = benchExecutable();
  return Promise.resolve({
    async run() {
      const out: ArmRun = { transactionMs: [], leaseWaitMs: [], failures: [] };
      const queue = new PQueue({ concurrency: ctx.concurrency });
      await Promise.all(
        Array.from({ length: ctx.transactions }, () =>
          queue.add(() =>
            timed(async () => {
              const launchStarted = performance.now();
              const browser = await chromium.launch({ executablePath, headless: true, args: chromiumArgs() });
              out.leaseWaitMs.push(performance.now() - launchStarted);
              try {
                const { result } = await runTransaction({ script, browser: singleBrowserProvider(browser), variables: { baseUrl: ctx.baseUrl }, secret: () => ctx.password });
                if (result.status !== 'passed') throw new Error(result.steps.find((s) => s.error)?.error?.message ?? result.status);
              } finally {
                await browser.close();
              }
            }, out),
          ),
        ),
      );
      return out;
    },
    close: () => Promise.resolve(),
  });
}

/** (c) puppeteer-cluster with CONCURRENCY_CONTEXT on puppeteer-core and the same Chromium. */
async function startPuppeteerCluster(ctx: ArmContext): Promise<StartedArm> {
  const [{ Cluster }, puppeteer] = await Promise.all([import('puppeteer-cluster'), import('puppeteer-core')]);
  const cluster = await Cluster.launch({
    concurrency: Cluster.CONCURRENCY_CONTEXT,
    maxConcurrency: ctx.concurrency,
    puppeteer: puppeteer.default,
    puppeteerOptions: { executablePath: benchExecutable(), headless: 'shell', args: chromiumArgs() },
    retryLimit: 0,
    timeout: 60_000,
  });
  return {
    async run() {
      const out: ArmRun = { transactionMs: [], leaseWaitMs: [], failures: [] };
      await Promise.all(
        Array.from({ length: ctx.transactions }, () =>
          cluster.execute(undefined, ({ page }: { page: PuppeteerPage }) => timed(() => puppeteerTransaction(page, ctx.baseUrl, ctx.password), out)),
        ),
      );
      return out;
    },
    async close() {
      await cluster.idle();
      await cluster.close();
    },
  };
}

/** (d) A hand-written Playwright script: one browser, a fresh context per transaction, nothing else. */
async function startPlaywrightHand(ctx: ArmContext): Promise<StartedArm> {
  const browser = await chromium.launch({ executablePath: benchExecutable(), headless: true, args: chromiumArgs() });
  return {
    async run() {
      const out: ArmRun = { transactionMs: [], leaseWaitMs: [], failures: [] };
      const queue = new PQueue({ concurrency: ctx.concurrency });
      await Promise.all(
        Array.from({ length: ctx.transactions }, () =>
          queue.add(() =>
            timed(async () => {
              const contextStarted = performance.now();
              const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, serviceWorkers: 'block' });
              const page = await context.newPage();
              out.leaseWaitMs.push(performance.now() - contextStarted);
              try {
                await playwrightTransaction(page, ctx.baseUrl, ctx.password);
              } finally {
                await context.close();
              }
            }, out),
          ),
        ),
      );
      return out;
    },
    close: () => browser.close(),
  };
}

export async function startArm(name: ArmName, ctx: ArmContext, script: Script): Promise<StartedArm> {
  switch (name) {
    case 'ours':
      return startOurs(ctx, script);
    case 'browser-per-tx':
      return startBrowserPerTx(ctx, script);
    case 'puppeteer-cluster':
      return startPuppeteerCluster(ctx);
    case 'playwright-hand':
      return startPlaywrightHand(ctx);
  }
}
