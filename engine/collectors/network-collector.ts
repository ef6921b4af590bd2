import type { CDPSession, Page } from 'playwright-core';
import { buildHar, stepNetworkFromEvents, waterfallCap, type Har, type RequestBodyMode } from '../core/har.ts';
import { compactNetworkEvent, type NetworkEvent, type RecordedNetworkEvent } from '../core/network-events.ts';
import type { Collector } from './collector.ts';

export interface NetworkCollectorOptions {
  /** `omit` (default): request bodies are never written, only their type and size. `redacted`: small textual bodies with secrets masked. */
  requestBodies?: RequestBodyMode;
  /** Also record tabs the transaction opens (popups, `window.open`). Default true. */
  followPopups?: boolean;
  /** File name of the HAR artifact. Default `transaction.har`. */
  harName?: string;
  /** `log.creator` of the HAR. */
  creator?: { name: string; version: string };
  /** Rows kept in each step's `waterfall`. Default 300. */
  waterfallCap?: number;
  /**
   * Called with the finished (already redacted) HAR when HAR capture is allowed — e.g. `replay --har FILE`.
   * Runs whether or not the run has an artifact sink.
   */
  onHar?: (bytes: Uint8Array, har: Har) => Promise<void> | void;
}

interface Attached {
  session: CDPSession;
  /** Sessions we created ourselves (popups) are detached at the end; the shared first-tab session is not. */
  owned: boolean;
}

/** CDP `Network.enable` for our own session: events only, no response body buffering in the browser. */
const enableParams = { maxTotalBufferSize: 0, maxResourceBufferSize: 0 };

/**
 * Per-step network from CDP: each step's `requests` (count, bytes on the wire, failures) and `waterfall`
 * (phases as in DevTools), and at the end `transaction.har` (HAR 1.2, redacted, no bodies). Events are only
 * recorded (compacted) while the run goes; all computation happens in core/har.ts. No per-request CDP calls.
 *
 * Its `requests` replace what the built-in request collector gives (this collector runs after it). With HAR
 * capture off (`settings.har: false`, `har: false` in the run request) it still reports counts, but writes no
 * HAR and no waterfall.
 */
export function networkCollector(options: NetworkCollectorOptions = {}): Collector {
  const events: RecordedNetworkEvent[] = [];
  const attached: Attached[] = [];
  const attaching: Promise<void>[] = [];
  let step = -1;
  let inStep = false;
  let stopped = false;
  /** False until Network.enable succeeded: without events, the built-in request counts stay in place. */
  let recording = false;
  let harAllowed: boolean | undefined;
  let stepStartWallMs = 0;
  let tabs = 0;
  let onPage: ((page: Page) => void) | undefined;

  function record(target: string, event: NetworkEvent): void {
    if (stopped) return;
    if (event.method === 'Network.dataReceived') {
      // A large download sends many chunks: fold consecutive ones of one request into a single event.
      const last = events.at(-1);
      if (last?.method === 'Network.dataReceived' && last.target === target && last.params.requestId === event.params.requestId) {
        last.params.dataLength += event.params.dataLength;
        last.params.encodedDataLength += event.params.encodedDataLength;
        last.params.timestamp = Math.max(last.params.timestamp, event.params.timestamp);
        return;
      }
    }
    events.push({ ...compactNetworkEvent(event), step, inStep, target });
  }

  async function attach(session: CDPSession, owned: boolean): Promise<void> {
    const target = `tab${tabs++}`;
    attached.push({ session, owned });
    // Listeners first, so nothing between enable and subscription is lost.
    session.on('Network.requestWillBeSent', (params) => record(target, { method: 'Network.requestWillBeSent', params }));
    session.on('Network.requestWillBeSentExtraInfo', (params) => record(target, { method: 'Network.requestWillBeSentExtraInfo', params }));
    session.on('Network.responseReceived', (params) => record(target, { method: 'Network.responseReceived', params }));
    session.on('Network.responseReceivedExtraInfo', (params) => record(target, { method: 'Network.responseReceivedExtraInfo', params }));
    session.on('Network.dataReceived', (params) => record(target, { method: 'Network.dataReceived', params }));
    session.on('Network.loadingFinished', (params) => record(target, { method: 'Network.loadingFinished', params }));
    session.on('Network.loadingFailed', (params) => record(target, { method: 'Network.loadingFailed', params }));
    session.on('Network.requestServedFromCache', (params) => record(target, { method: 'Network.requestServedFromCache', params }));
    await session.send('Network.enable', enableParams);
  }

  return {
    name: 'network',
    async start(ctx) {
      await attach(await ctx.cdp(), false);
      recording = true;
      if (options.followPopups !== false) {
        onPage = (page) => {
          if (stopped || page === ctx.page) return;
          attaching.push(
            ctx.context
              .newCDPSession(page)
              .then((session) => attach(session, true))
              // A tab that closes at once is simply not recorded.
              .catch(() => undefined),
          );
        };
        ctx.context.on('page', onPage);
      }
    },
    beforeStep(ctx, info) {
      step = info.index;
      inStep = true;
      harAllowed = (harAllowed ?? true) && info.capture.har;
      stepStartWallMs = ctx.clock.wallNow().getTime();
      return Promise.resolve();
    },
    async afterStep(ctx, info, result) {
      if (!recording) return undefined;
      // Let CDP messages already read from the browser be dispatched before the step is summed up.
      await new Promise((resolve) => setImmediate(resolve));
      inStep = false;
      const startMs = result.startedAt === undefined ? stepStartWallMs : Date.parse(result.startedAt);
      const summary = stepNetworkFromEvents(events, {
        step: info.index,
        stepStartWallMs: Number.isFinite(startMs) ? startMs : stepStartWallMs,
        redactor: ctx.redactor,
        waterfall: info.capture.har,
        cap: options.waterfallCap ?? waterfallCap,
      });
      return summary.waterfall === undefined ? { requests: summary.requests } : { requests: summary.requests, waterfall: summary.waterfall };
    },
    async finish(ctx, steps) {
      stopped = true;
      if (onPage !== undefined) ctx.context.off('page', onPage);
      await Promise.all(attaching);
      await Promise.all(attached.filter((a) => a.owned).map((a) => a.session.detach().catch(() => undefined)));
      if (!recording || harAllowed !== true || (ctx.artifacts === undefined && options.onHar === undefined)) return;
      const har = buildHar(events, {
        redactor: ctx.redactor,
        steps: steps.map((s, index) => ({ index, name: s.name, startedAt: s.startedAt, navigation: s.navigation })),
        browser: { name: 'chromium', version: ctx.context.browser()?.version() ?? '' },
        requestBodies: options.requestBodies ?? 'omit',
        ...(options.creator === undefined ? {} : { creator: options.creator }),
      });
      events.length = 0;
      const bytes = new TextEncoder().encode(`${JSON.stringify(har, null, 2)}\n`);
      if (ctx.artifacts !== undefined) {
        ctx.addArtifact(await ctx.artifacts.write({ kind: 'har', name: options.harName ?? 'transaction.har', bytes, contentType: 'application/json' }));
      }
      await options.onHar?.(bytes, har);
    },
  };
}
