import { randomUUID } from 'node:crypto';
import type { Browser as PuppeteerBrowser, Page as PuppeteerPage } from 'puppeteer-core';
import { lighthouseImageAudits, summarizeLighthouse, type LighthouseResultLike } from '../core/lighthouse-summary.ts';
import type { Step } from '../schema/script.ts';
import type { Collector, CollectorContext, StepInfo } from './collector.ts';

export interface LighthouseCollectorOptions {
  /** Audit every step that navigates (`replay --lighthouse`), not only steps with `"lighthouse": true`. */
  allNavigatingSteps?: boolean;
}

function stepNavigates(step: Step): boolean {
  return step.actions.some((action) => action.type === 'navigate');
}

interface Connection {
  browser: PuppeteerBrowser;
  page: PuppeteerPage;
}

/**
 * Lighthouse needs a puppeteer Page (a Playwright page cannot be handed over), so we connect puppeteer-core
 * to the same browser through its loopback DevTools port and find our tab by a marker we set in it.
 */
async function connect(ctx: CollectorContext): Promise<Connection> {
  if (ctx.devtoolsEndpoint === undefined) {
    throw new Error('Lighthouse needs a browser launched with remote debugging (use --lighthouse, or a pool with remoteDebugging)');
  }
  const puppeteer = await import('puppeteer-core');
  const browser = await puppeteer.default.connect({ browserURL: ctx.devtoolsEndpoint, defaultViewport: null });
  const marker = randomUUID();
  const playwrightPage = ctx.currentPage();
  await playwrightPage.evaluate((id) => {
    (window as unknown as Record<string, string>)['__checkpointLighthouse'] = id;
  }, marker);
  for (const page of await browser.pages()) {
    const found = await page.evaluate(() => (window as unknown as Record<string, string | undefined>)['__checkpointLighthouse']).catch(() => undefined);
    if (found === marker) return { browser, page };
  }
  await browser.disconnect();
  throw new Error('could not find the transaction`s tab through the DevTools port');
}

function lighthouseSettings(info: StepInfo, mode: 'navigation' | 'timespan') {
  const imagesAllowed = info.capture.screenshots !== 'off';
  return {
    config: {
      extends: 'lighthouse:default',
      settings: {
        formFactor: 'desktop' as const,
        // The transaction already sets viewport, user agent and network: Lighthouse must not change them.
        screenEmulation: { disabled: true },
        emulatedUserAgent: false as const,
        throttlingMethod: 'provided' as const,
        disableStorageReset: true,
        // Timespan mode supports only these; accessibility and SEO need a navigation or snapshot.
        onlyCategories: mode === 'navigation' ? ['performance', 'accessibility', 'best-practices', 'seo'] : ['performance', 'best-practices'],
        ...(imagesAllowed ? {} : { skipAudits: [...lighthouseImageAudits], disableFullPageScreenshot: true }),
      },
    },
  };
}

/**
 * Runs Lighthouse 13 for the steps that ask for it: navigation mode for a step that navigates (after the
 * step, outside its timed region, the tab reloads its URL under Lighthouse), timespan mode otherwise (the
 * timespan wraps the step's actions, so that step's duration includes Lighthouse's tracing overhead).
 * Lighthouse is imported only when a step needs it. When screenshots are not allowed, the audits that carry
 * page images are skipped, so the stored reports contain none.
 */
export function lighthouseCollector(options: LighthouseCollectorOptions = {}): Collector {
  let timespan: { connection: Connection; end: () => Promise<{ lhr: unknown } | undefined> } | undefined;
  const wanted = (info: StepInfo) => info.step.lighthouse === true || (options.allNavigatingSteps === true && stepNavigates(info.step));

  async function store(ctx: CollectorContext, info: StepInfo, mode: 'navigation' | 'timespan', runnerResult: { lhr: unknown } | undefined) {
    if (runnerResult === undefined) throw new Error('Lighthouse returned no result');
    const lighthouse = await import('lighthouse');
    const lhr = runnerResult.lhr as LighthouseResultLike & Parameters<typeof lighthouse.generateReport>[0];
    const summary = summarizeLighthouse(lhr);
    const base = `step-${String(info.index + 1).padStart(2, '0')}`;
    const out: { mode: typeof mode; scores: Record<string, number | null>; metrics: Record<string, number>; reportJson?: string; reportHtml?: string } = { mode, ...summary };
    if (ctx.artifacts !== undefined) {
      const json = await ctx.artifacts.write({ kind: 'lighthouse', name: `${base}.report.json`, bytes: Buffer.from(ctx.redactor.redact(JSON.stringify(lhr))), contentType: 'application/json', step: info.index });
      const html = await ctx.artifacts.write({ kind: 'lighthouse', name: `${base}.report.html`, bytes: Buffer.from(ctx.redactor.redact(lighthouse.generateReport(lhr, 'html'))), contentType: 'text/html', step: info.index });
      ctx.addArtifact(json);
      ctx.addArtifact(html);
      out.reportJson = json.path;
      out.reportHtml = html.path;
    }
    return { lighthouse: out };
  }

  return {
    name: 'lighthouse',
    hookTimeoutMs: 180_000,
    async beforeStep(ctx, info) {
      if (!wanted(info) || stepNavigates(info.step)) return;
      const connection = await connect(ctx);
      const lighthouse = await import('lighthouse');
      const flow = await lighthouse.startTimespan(connection.page, lighthouseSettings(info, 'timespan'));
      timespan = { connection, end: () => flow.endTimespan() };
    },
    async afterStep(ctx, info) {
      if (timespan !== undefined) {
        const current = timespan;
        timespan = undefined;
        try {
          return await store(ctx, info, 'timespan', await current.end());
        } finally {
          await current.connection.browser.disconnect();
        }
      }
      if (!wanted(info) || !stepNavigates(info.step)) return undefined;
      const url = ctx.currentPage().url();
      if (!url.startsWith('http')) return undefined;
      const connection = await connect(ctx);
      try {
        const lighthouse = await import('lighthouse');
        const runnerResult = await lighthouse.navigation(connection.page, url, lighthouseSettings(info, 'navigation'));
        return await store(ctx, info, 'navigation', runnerResult);
      } finally {
        await connection.browser.disconnect();
      }
    },
  };
}
