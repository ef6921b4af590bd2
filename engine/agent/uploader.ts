import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Backoff, retryAfterMs, type BackoffOptions } from '../core/backoff.ts';
import type { Clock } from '../core/clock.ts';
import { agentPaths, resultAckSchema, type ResultAck } from '../schema/protocol.ts';
import type { HttpClient, HttpResponse } from './http-client.ts';
import type { Outbox, OutboxRow } from './outbox.ts';
import { controlPlaneUrl } from './urls.ts';

export type UploaderEvent =
  | { type: 'delivered'; runId: string; stored: ResultAck['stored']; artifactsSent: number; artifactsSkipped: number }
  | { type: 'upload-failed'; runId: string; reason: string; retryInMs: number }
  | { type: 'poisoned'; runId: string; reason: string }
  | { type: 'artifact-missing'; runId: string; path: string; reason: string }
  | { type: 'credential-rejected'; status: number };

export interface UploaderOptions {
  outbox: Outbox;
  controlPlane: URL;
  token: string;
  instanceId: string;
  http: HttpClient;
  clock: Clock;
  backoff?: BackoffOptions;
  onEvent(event: UploaderEvent): void;
}

/** How one HTTP exchange ended, for the retry decision. */
type Verdict = { kind: 'ok' } | { kind: 'retry'; reason: string; retryAfterMs?: number | undefined } | { kind: 'poison'; reason: string } | { kind: 'rejected'; status: number };

class Stop extends Error {
  readonly verdict: Exclude<Verdict, { kind: 'ok' }>;
  constructor(verdict: Exclude<Verdict, { kind: 'ok' }>) {
    super(verdict.kind);
    this.verdict = verdict;
  }
}

function describe(response: HttpResponse): string {
  const text = response.body.toString('utf8').replace(/\s+/g, ' ').trim().slice(0, 300);
  return `HTTP ${response.status}${text === '' ? '' : `: ${text}`}`;
}

/**
 * Classify a control-plane answer: 2xx ok; 401 the credential is refused (final: stop uploading, fail
 * readiness); 408, 409, 425, 429 and 5xx are worth retrying; any other 4xx, 403 included, means the control
 * plane will never take this request (poison: keep the row, stop sending it). 403 is per request on these
 * paths (the reference control plane answers it for a run that belongs to another checkpoint), so it must
 * not stop every other result; a credential the control plane refuses outright is 401, or 401/403 on the
 * WebSocket upgrade.
 */
export function verdictFor(response: HttpResponse, nowWallMs: number, capMs: number): Verdict {
  const { status } = response;
  if (status >= 200 && status < 300) return { kind: 'ok' };
  if (status === 401) return { kind: 'rejected', status };
  if (status === 408 || status === 409 || status === 425 || status === 429 || status >= 500 || status < 100) {
    const header = response.headers['retry-after'];
    return { kind: 'retry', reason: describe(response), retryAfterMs: retryAfterMs(header, nowWallMs, capMs) };
  }
  return { kind: 'poison', reason: describe(response) };
}

/**
 * Empties the outbox over HTTP(S), oldest run first, one at a time: PUT every artifact the control plane
 * does not have yet (HEAD tells), then POST the envelope with `Idempotency-Key: <runId>`, and delete the row
 * only on a valid ResultAck. Retries with backoff; a 400-class refusal poisons the row (kept, not resent);
 * 401 stops everything.
 */
export class Uploader {
  readonly #options: UploaderOptions;
  readonly #backoff: Backoff;
  readonly #capMs: number;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #stopped = false;
  #rejected: number | undefined;
  readonly #abort = new AbortController();

  constructor(options: UploaderOptions) {
    this.#options = options;
    this.#backoff = new Backoff(options.clock, options.backoff);
    this.#capMs = options.backoff?.capMs ?? 30_000;
  }

  /** HTTP status of a credential refusal, once one happened. */
  get rejectedStatus(): number | undefined {
    return this.#rejected;
  }

  get busy(): boolean {
    return this.#loop !== undefined;
  }

  /** Start delivering if idle (after a commit). Does not cut a backoff wait short. */
  trigger(): void {
    if (this.#loop !== undefined || this.#stopped || this.#rejected !== undefined) return;
    this.#loop = this.#run().finally(() => {
      this.#loop = undefined;
    });
  }

  /** The link to the control plane is back: retry now instead of at the end of the backoff wait. */
  wake(): void {
    this.#wake?.();
    this.trigger();
  }

  /**
   * Deliver what can be delivered within `timeoutMs` (drain). True when nothing deliverable is left.
   */
  async flush(timeoutMs: number): Promise<boolean> {
    const deadline = this.#options.clock.nowMs() + timeoutMs;
    this.wake();
    while (this.#loop !== undefined && this.#options.clock.nowMs() < deadline) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.#loop, new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(1, Math.min(100, deadline - this.#options.clock.nowMs())))))]);
      clearTimeout(timer);
    }
    return this.#options.outbox.next() === undefined;
  }

  /** Stop: cancel the request in flight and any wait. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#abort.abort();
    this.#wake?.();
    await this.#loop;
  }

  async #sleep(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    });
    this.#wake = undefined;
  }

  async #run(): Promise<void> {
    const { outbox } = this.#options;
    while (!this.#stopped && this.#rejected === undefined && !outbox.closed) {
      const row = outbox.next();
      if (row === undefined) return;
      let verdict: Verdict;
      try {
        verdict = await this.#deliver(row);
      } catch (error) {
        verdict = error instanceof Stop ? error.verdict : { kind: 'retry', reason: error instanceof Error ? error.message : String(error) };
      }
      if (this.#stopped || outbox.closed) return;
      switch (verdict.kind) {
        case 'ok':
          this.#backoff.succeeded();
          break;
        case 'poison':
          outbox.poison(row.runId, verdict.reason);
          this.#options.onEvent({ type: 'poisoned', runId: row.runId, reason: verdict.reason });
          break;
        case 'rejected':
          this.#rejected = verdict.status;
          outbox.recordFailure(row.runId, `credential rejected (HTTP ${verdict.status})`);
          this.#options.onEvent({ type: 'credential-rejected', status: verdict.status });
          return;
        case 'retry': {
          outbox.recordFailure(row.runId, verdict.reason);
          const delay = Math.max(this.#backoff.nextDelayMs(), verdict.retryAfterMs ?? 0);
          this.#options.onEvent({ type: 'upload-failed', runId: row.runId, reason: verdict.reason, retryInMs: delay });
          await this.#sleep(delay);
          break;
        }
      }
    }
  }

  #headers(extra: Record<string, string> = {}): Record<string, string> {
    return { Authorization: `Bearer ${this.#options.token}`, 'X-Checkpoint-Instance': this.#options.instanceId, ...extra };
  }

  async #exchange(method: 'HEAD' | 'PUT' | 'POST', path: string, headers: Record<string, string>, body?: Uint8Array | string): Promise<HttpResponse> {
    try {
      return await this.#options.http.request({
        method,
        url: controlPlaneUrl(this.#options.controlPlane, path),
        headers: this.#headers(headers),
        ...(body === undefined ? {} : { body }),
        signal: this.#abort.signal,
      });
    } catch (error) {
      const code = (error as { code?: string }).code;
      throw new Stop({ kind: 'retry', reason: `${method} ${path}: ${code === undefined ? '' : `${code} `}${error instanceof Error ? error.message : String(error)}`.trim() });
    }
  }

  #check(response: HttpResponse, what: string): void {
    const verdict = verdictFor(response, this.#options.clock.wallNow().getTime(), this.#capMs);
    if (verdict.kind === 'ok') return;
    if (verdict.kind === 'rejected') throw new Stop(verdict);
    throw new Stop({ ...verdict, reason: `${what}: ${verdict.reason}` });
  }

  async #deliver(row: OutboxRow): Promise<Verdict> {
    const { outbox } = this.#options;
    let sent = 0;
    let skipped = 0;
    for (const ref of row.artifacts) {
      const path = agentPaths.artifact(ref.sha256);
      // HEAD is only an optimisation: 200 means the control plane has the bytes; any other answer
      // (404, or a control plane that does not let agents HEAD) means PUT, which is idempotent anyway.
      const head = await this.#exchange('HEAD', path, {});
      if (head.status === 200) {
        skipped++;
        continue;
      }
      let bytes: Buffer;
      try {
        bytes = await readFile(outbox.artifactPath(ref.sha256));
      } catch (error) {
        await outbox.dropArtifact(row.runId, ref.path);
        this.#options.onEvent({ type: 'artifact-missing', runId: row.runId, path: ref.path, reason: (error as { code?: string }).code ?? String(error) });
        continue;
      }
      if (createHash('sha256').update(bytes).digest('hex') !== ref.sha256) {
        await outbox.dropArtifact(row.runId, ref.path);
        this.#options.onEvent({ type: 'artifact-missing', runId: row.runId, path: ref.path, reason: 'the file no longer matches its SHA-256' });
        continue;
      }
      const put = await this.#exchange('PUT', path, { 'Content-Type': ref.contentType }, bytes);
      this.#check(put, `PUT ${path}`);
      sent++;
    }
    // Re-read: artifacts found missing above are gone from the envelope and counted as dropped.
    const current = outbox.get(row.runId);
    if (current === undefined) return { kind: 'ok' };
    const response = await this.#exchange('POST', agentPaths.results, { 'Content-Type': 'application/json', 'Idempotency-Key': row.runId }, JSON.stringify(current.envelope));
    this.#check(response, `POST ${agentPaths.results}`);
    let ack: ResultAck;
    try {
      const parsed = resultAckSchema.safeParse(JSON.parse(response.body.toString('utf8')));
      if (!parsed.success || parsed.data.runId !== row.runId) throw new Error('not a ResultAck for this run');
      ack = parsed.data;
    } catch (error) {
      return { kind: 'retry', reason: `POST ${agentPaths.results}: HTTP ${response.status} without a valid acknowledgement (${error instanceof Error ? error.message : String(error)})` };
    }
    await outbox.ack(row.runId);
    this.#options.onEvent({ type: 'delivered', runId: row.runId, stored: ack.stored, artifactsSent: sent, artifactsSkipped: skipped });
    return { kind: 'ok' };
  }
}
