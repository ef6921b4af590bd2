/** The whole HAR log of a run: one page per step that ran, one entry per request hop. */
import type { RecordedNetworkEvent } from '../network-events.ts';
import type { Redactor } from '../redactor.ts';
import { entryOf, pageIdOf, type EntryOptions } from './entry.ts';
import { exchangesFromEvents, type NetworkExchange } from './exchanges.ts';
import type { RequestBodyMode } from './post-data.ts';
import { round3 } from './timings.ts';
import type { Har, HarLog, HarPage } from './types.ts';

/** What the HAR needs of a step: its page. */
export interface HarStepInfo {
  index: number;
  name: string;
  /** Wall-clock start of the step (ISO); steps without one (skipped) get no page. */
  startedAt?: string | undefined;
  /** Navigation Timing of the step's document, if it navigated (DOMContentLoaded / load from navigation start). */
  navigation?: { url: string; domContentLoadedMs: number; loadMs: number } | undefined;
}

export interface BuildHarOptions {
  redactor: Redactor;
  steps?: readonly HarStepInfo[];
  creator?: { name: string; version: string };
  browser?: { name: string; version: string };
  /** `omit` (default): request bodies are never written, only their type and size. `redacted`: textual bodies up to 64 KiB, secrets masked. */
  requestBodies?: RequestBodyMode;
}

/** The step's main document hop: where its Navigation Timing starts (first hop of the redirect chain). */
function navigationStartWallMs(exchanges: readonly NetworkExchange[], step: HarStepInfo): number | undefined {
  const navigation = step.navigation;
  if (navigation === undefined) return undefined;
  const documents = exchanges.filter((x) => x.step === step.index && x.resourceType === 'Document');
  const final = documents.filter((x) => x.redirectedTo === undefined && x.request.url === navigation.url).at(-1);
  if (final === undefined) return undefined;
  const first = documents.find((x) => x.key === final.key);
  return (first ?? final).wallTime * 1000;
}

function pageOf(step: HarStepInfo & { startedAt: string }, exchanges: readonly NetworkExchange[]): HarPage {
  const stepStartMs = Date.parse(step.startedAt);
  const navStartMs = navigationStartWallMs(exchanges, step);
  const page: HarPage = {
    startedDateTime: new Date(stepStartMs).toISOString(),
    id: pageIdOf(step.index),
    title: step.name,
    pageTimings: { onContentLoad: -1, onLoad: -1 },
    _step: step.index,
  };
  if (step.navigation !== undefined && navStartMs !== undefined) {
    const offset = Math.max(0, navStartMs - stepStartMs);
    page.pageTimings = { onContentLoad: round3(offset + step.navigation.domContentLoadedMs), onLoad: round3(offset + step.navigation.loadMs) };
  }
  return page;
}

/** A HAR 1.2 log of the whole run: one page per step that ran, one entry per request hop, redacted. */
export function buildHar(events: readonly RecordedNetworkEvent[], options: BuildHarOptions): Har {
  const exchanges = exchangesFromEvents(events);
  const pages = (options.steps ?? [])
    .filter((step): step is HarStepInfo & { startedAt: string } => step.startedAt !== undefined && Number.isFinite(Date.parse(step.startedAt)))
    .map((step) => pageOf(step, exchanges));
  const pageIds = new Set(pages.map((page) => page.id));
  const entryOptions: EntryOptions = { redactor: options.redactor, requestBodies: options.requestBodies ?? 'omit', pageIds };
  const log: HarLog = {
    version: '1.2',
    creator: options.creator ?? { name: 'private-checkpoint', version: '0' },
    pages,
    entries: exchanges.map((exchange) => entryOf(exchange, entryOptions)),
    comment: 'From CDP Network events. Credentials, cookie values and secrets are redacted; no response bodies.',
  };
  if (options.browser !== undefined) log.browser = options.browser;
  return options.redactor.redactDeep({ log });
}
