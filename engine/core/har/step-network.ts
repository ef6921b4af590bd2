/** One step's network for its result: request counts and the (capped) waterfall. */
import type { StepResult } from '../../schema/result.ts';
import type { RecordedNetworkEvent } from '../network-events.ts';
import type { Redactor } from '../redactor.ts';
import { exchangesFromEvents, isCached, keyOf, type NetworkExchange } from './exchanges.ts';
import { redactUrl } from './redact-url.ts';
import { harTimeOf, harTimingsOf, round2, transferSizeOf } from './timings.ts';

export type WaterfallEntry = NonNullable<StepResult['waterfall']>[number];
export type RequestCounts = NonNullable<StepResult['requests']>;

/** The step result keeps at most this many waterfall rows (the HAR has them all). */
export const waterfallCap = 300;

export interface StepNetworkOptions {
  step: number;
  /** Wall-clock ms of the step start: waterfall `startMs` is relative to it. */
  stepStartWallMs: number;
  redactor: Redactor;
  /** Build the waterfall (false when HAR capture is off: counts only). Default true. */
  waterfall?: boolean;
  cap?: number;
}

export interface StepNetwork {
  requests: RequestCounts;
  waterfall?: WaterfallEntry[];
}

function waterfallEntryOf(exchange: NetworkExchange, stepStartWallMs: number, redactor: Redactor): WaterfallEntry {
  const timings = harTimingsOf(exchange);
  const failed = exchange.failure !== undefined;
  const entry: WaterfallEntry = {
    url: redactUrl(exchange.request.url, redactor),
    method: exchange.request.method,
    status: failed && exchange.response === undefined ? 0 : (exchange.response?.status ?? 0),
    resourceType: exchange.resourceType.toLowerCase(),
    startMs: round2(exchange.wallTime * 1000 - stepStartWallMs),
    durationMs: round2(harTimeOf(timings)),
    transferBytes: Math.max(0, Math.round(transferSizeOf(exchange))),
  };
  if (isCached(exchange)) entry.fromCache = true;
  if (exchange.failure !== undefined) entry.failure = redactor.redact(exchange.failure.errorText);
  const phases: NonNullable<WaterfallEntry['phases']> = {};
  if (timings.blocked >= 0) phases.blockedMs = round2(timings.blocked);
  if (timings.dns >= 0) phases.dnsMs = round2(timings.dns);
  if (timings.connect >= 0) phases.connectMs = round2(timings.connect);
  if (timings.ssl >= 0) phases.tlsMs = round2(timings.ssl);
  phases.sendMs = round2(timings.send);
  phases.waitMs = round2(timings.wait);
  phases.receiveMs = round2(timings.receive);
  entry.phases = phases;
  return entry;
}

/**
 * One step's network: every request hop that started during the step (not between steps) is counted;
 * `bytes` are bytes on the wire (headers and body; 0 for cache hits); `failed` counts failed and blocked
 * requests. The waterfall keeps the first `cap` hops by start time.
 */
export function stepNetworkFromEvents(events: readonly RecordedNetworkEvent[], options: StepNetworkOptions): StepNetwork {
  // Only the events of requests that started in this step (their later events may come in any step).
  const keys = new Set<string>();
  for (const event of events) {
    if (event.method === 'Network.requestWillBeSent' && event.step === options.step && event.inStep) keys.add(keyOf(event));
  }
  const exchanges = exchangesFromEvents(events.filter((event) => keys.has(keyOf(event)))).filter((x) => x.step === options.step && x.inStep);
  const requests: RequestCounts = {
    count: exchanges.length,
    bytes: exchanges.reduce((sum, x) => sum + Math.max(0, Math.round(transferSizeOf(x))), 0),
    failed: exchanges.filter((x) => x.failure !== undefined).length,
  };
  if (options.waterfall === false) return { requests };
  const waterfall = exchanges
    .map((x) => waterfallEntryOf(x, options.stepStartWallMs, options.redactor))
    .sort((a, b) => a.startMs - b.startMs)
    .slice(0, options.cap ?? waterfallCap);
  return { requests, waterfall: options.redactor.redactDeep(waterfall) };
}
