import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Clock } from '../engine/index.ts';
import type { Log } from './log.ts';
import type { AlertKind, AlertRecord, Store, WebhookDelivery } from './store.ts';

/** The JSON body POSTed to every webhook. */
export interface AlertPayload {
  id: number;
  kind: AlertKind;
  message: string;
  createdAt: string;
  checkpoint?: string;
  monitor?: { id: string; name?: string };
  runId?: string;
}

export interface AlertInput {
  kind: AlertKind;
  message: string;
  checkpoint?: string;
  monitorId?: string;
  runId?: string;
}

/** Posts a JSON body; resolves with the HTTP status, rejects on network errors and timeouts. */
export type PostJson = (url: string, body: string, options: { timeoutMs: number; signal: AbortSignal }) => Promise<number>;

export const postJson: PostJson = (url, body, options) =>
  new Promise<number>((resolve, reject) => {
    const target = new URL(url);
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(
      target,
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), 'User-Agent': 'checkpoint-control-plane' },
        timeout: options.timeoutMs,
        signal: options.signal,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${options.timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });

/** 2xx is delivered; 408, 429 and 5xx are worth another try; any other answer is final. */
function retryable(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/**
 * Alerts: stored, written to the log as one line, and POSTed as JSON to every configured webhook, retried with
 * backoff. A webhook that keeps failing is logged and recorded on the alert; it never throws into the caller.
 */
export class Alerts {
  readonly #store: Store;
  readonly #log: Log;
  readonly #clock: Clock;
  readonly #webhooks: readonly string[];
  readonly #retryDelaysMs: readonly number[];
  readonly #timeoutMs: number;
  readonly #post: PostJson;
  readonly #abort = new AbortController();
  readonly #pending = new Set<Promise<void>>();
  #closed = false;

  constructor(options: {
    store: Store;
    log: Log;
    clock: Clock;
    webhooks?: readonly string[];
    /** Waits before the 2nd, 3rd, … attempt. Default: 1 s, 5 s, 15 s. */
    retryDelaysMs?: readonly number[];
    timeoutMs?: number;
    post?: PostJson;
  }) {
    this.#store = options.store;
    this.#log = options.log;
    this.#clock = options.clock;
    this.#webhooks = options.webhooks ?? [];
    this.#retryDelaysMs = options.retryDelaysMs ?? [1000, 5000, 15_000];
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#post = options.post ?? postJson;
  }

  /** Record an alert, log it, and start delivering it to the webhooks (in the background). */
  raise(input: AlertInput): AlertRecord {
    // One line in the log, and a bounded text everywhere: step errors can be long and multi-line.
    const message = input.message.replace(/\s*[\r\n]+\s*/g, ' ').slice(0, 1000);
    const record = this.#store.insertAlert({ ...input, message, createdAt: this.#clock.wallNow().toISOString() });
    const subject = [input.checkpoint === undefined ? undefined : `checkpoint=${input.checkpoint}`, input.monitorId === undefined ? undefined : `monitor=${input.monitorId}`, input.runId === undefined ? undefined : `run=${input.runId}`]
      .filter((part) => part !== undefined)
      .join(' ');
    this.#log(`ALERT ${input.kind} ${subject}: ${message}`);
    if (this.#webhooks.length > 0) this.#track(this.#deliver(record));
    return record;
  }

  payload(record: AlertRecord): AlertPayload {
    const payload: AlertPayload = { id: record.id, kind: record.kind, message: record.message, createdAt: record.createdAt };
    if (record.checkpoint !== undefined) payload.checkpoint = record.checkpoint;
    if (record.monitorId !== undefined) {
      const name = this.#store.getMonitor(record.monitorId)?.name;
      payload.monitor = name === undefined ? { id: record.monitorId } : { id: record.monitorId, name };
    }
    if (record.runId !== undefined) payload.runId = record.runId;
    return payload;
  }

  #track(work: Promise<void>): void {
    this.#pending.add(work);
    void work.finally(() => this.#pending.delete(work));
  }

  async #deliver(record: AlertRecord): Promise<void> {
    const body = JSON.stringify(this.payload(record));
    const deliveries: WebhookDelivery[] = this.#webhooks.map((url) => ({ url, delivered: false, attempts: 0 }));
    const save = () => {
      if (!this.#closed) this.#store.setAlertDeliveries(record.id, deliveries);
    };
    await Promise.all(
      deliveries.map(async (delivery) => {
        for (let attempt = 0; attempt <= this.#retryDelaysMs.length && !this.#closed; attempt++) {
          if (attempt > 0) {
            try {
              await sleep(this.#retryDelaysMs[attempt - 1] ?? 0, undefined, { signal: this.#abort.signal, ref: false });
            } catch {
              return;
            }
          }
          delivery.attempts = attempt + 1;
          try {
            const status = await this.#post(delivery.url, body, { timeoutMs: this.#timeoutMs, signal: this.#abort.signal });
            delivery.status = status;
            if (status >= 200 && status < 300) {
              delivery.delivered = true;
              delete delivery.error;
              save();
              return;
            }
            delivery.error = `HTTP ${status}`;
            if (!retryable(status)) break;
          } catch (error) {
            if (this.#closed) return;
            delivery.error = error instanceof Error ? error.message : String(error);
          }
        }
        save();
        if (!this.#closed) this.#log(`alerts: webhook ${delivery.url} did not take alert ${record.id} after ${delivery.attempts} attempt(s): ${delivery.error ?? 'unknown error'}`);
      }),
    );
  }

  /** Resolves when every delivery started so far has finished (delivered or given up). */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  /** Stop retrying; in-flight requests are aborted. */
  close(): void {
    this.#closed = true;
    this.#abort.abort();
  }
}
