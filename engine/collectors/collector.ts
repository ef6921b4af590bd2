import type { BrowserContext, CDPSession, Page } from 'playwright-core';
import type { Clock } from '../core/clock.ts';
import type { Deadline } from '../core/deadline.ts';
import type { CapturePolicy } from '../core/privacy.ts';
import type { Redactor } from '../core/redactor.ts';
import type { Artifact, StepResult } from '../schema/result.ts';
import type { Script, Step } from '../schema/script.ts';

/** Where collectors put files. Implementations live in report/ (a directory, the outbox, memory). */
export interface ArtifactSink {
  write(input: { kind: Artifact['kind']; name: string; bytes: Uint8Array; contentType: string; step?: number }): Promise<Artifact>;
}

/** What a collector sees of the run. */
export interface CollectorContext {
  readonly runId: string;
  readonly script: Script;
  readonly context: BrowserContext;
  /** The transaction's first tab (collectors measure it; popups are followed by some). */
  readonly page: Page;
  /** The tab actions currently apply to. */
  currentPage(): Page;
  /** A CDP session on the first tab, created on first use and shared by collectors. */
  cdp(): Promise<CDPSession>;
  /** DevTools HTTP endpoint of the browser when it was launched with remote debugging (Lighthouse). */
  readonly devtoolsEndpoint: string | undefined;
  readonly clock: Clock;
  readonly redactor: Redactor;
  /** Where files go; undefined when the run keeps no artifacts. */
  readonly artifacts: ArtifactSink | undefined;
  /** Records an artifact in the run result. */
  addArtifact(artifact: Artifact): void;
  /**
   * The deadline of the hook being run: its own time limit, the run's, and — after a failed step — the short
   * fixed failure-capture budget. Its signal ends when the run is cancelled or the browser crashes.
   */
  deadline(): Deadline;
  /** What is left of the current hook's deadline, ms: collectors must not outlive it. */
  remainingMs(): number;
}

/**
 * Fields a collector adds to earlier steps' results from `finish`, by step index: work it deferred past
 * `afterStep` (encoding) so that the next step could start at once. An Error instead of fields becomes a
 * warning for that step (the step simply lacks the collector's fields).
 */
export type LateStepFields = ReadonlyMap<number, Partial<StepResult> | Error>;

export interface StepInfo {
  index: number;
  step: Step;
  capture: CapturePolicy;
}

/**
 * One concern of measurement or capture (Lighthouse's gatherer idea). A collector captures raw data; pure
 * computation lives in core/. Hooks run outside the step's timed region. A collector that throws does not
 * fail the run: its error is recorded in `result.warnings` and the step result simply lacks its fields.
 */
export interface Collector {
  readonly name: string;
  /** Time limit of each hook, ms. Default 10 s. After a failed step all hooks share a ~2 s capture budget. */
  readonly hookTimeoutMs?: number;
  /** Once, on the fresh context before the first navigation (install observers here). */
  start?(ctx: CollectorContext): Promise<void>;
  /** Before a step's timed region starts. */
  beforeStep?(ctx: CollectorContext, info: StepInfo): Promise<void>;
  /** After a step's timed region; returns fields to merge into the step result. */
  afterStep?(ctx: CollectorContext, info: StepInfo, result: Readonly<StepResult>): Promise<Partial<StepResult> | undefined>;
  /**
   * After the last step, before the context closes (write whole-run artifacts such as the HAR). May return
   * fields to merge into earlier steps' results (deferred work); `onStepEnd` listeners have not seen them.
   */
  finish?(ctx: CollectorContext, steps: readonly StepResult[]): Promise<LateStepFields | undefined | void>;
}
