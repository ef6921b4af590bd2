import type { Collector } from './collector.ts';

const screenshotTimeoutMs = 10_000;

/**
 * A screenshot at the end of a step, by the step's capture policy (`all`, `failure`, `off`). With `off`, or
 * when the privacy lock is on, no screenshot is taken at all.
 */
export function screenshotCollector(): Collector {
  return {
    name: 'screenshots',
    async afterStep(ctx, info, result) {
      const mode = info.capture.screenshots;
      if (ctx.artifacts === undefined || mode === 'off' || (mode === 'failure' && result.status !== 'failed')) return undefined;
      const bytes = await ctx.currentPage().screenshot({ timeout: Math.max(1, Math.min(screenshotTimeoutMs, ctx.remainingMs())) });
      const artifact = await ctx.artifacts.write({
        kind: 'screenshot',
        name: `step-${String(info.index + 1).padStart(2, '0')}${result.status === 'failed' ? '-failure' : ''}.png`,
        bytes,
        contentType: 'image/png',
        step: info.index,
      });
      ctx.addArtifact(artifact);
      return { screenshot: artifact.path };
    },
  };
}
