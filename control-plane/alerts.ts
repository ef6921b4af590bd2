import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Clock } from '../engine/index.ts';
import type { Log } from './log.ts';
import type { MonitorAlerting, Severity } from './api-schemas.ts';
import { alertTitle, resolvingKinds, type AlertMessage } from './channels/alert-message.ts';
import { prepareSend, type ChannelSend } from './channels/deliver.ts';
import type { Environment } from './channels/secrets.ts';
import type { AlertKind, AlertRecord, MonitorRecord, ControlPlaneStore, WebhookDelivery } from './store.ts';
import { signatureHeader, timestampHeader, webhookSignature } from './channels/webhook.ts';

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
  /** Default: from the kind and the monitor's `alerting.severity`. */
  severity?: Severity;
  /** The monitor as it was (routing, names and incident keys still work for a monitor being deleted or moved). */
  monitor?: AlertMonitor;
}

/** What an alert needs of its monitor: routing (`alerting`), its name, and its checkpoints (the incident key). */
type AlertMonitor = Pick<MonitorRecord, 'id' | 'name' | 'alerting'> & Partial<Pick<MonitorRecord, 'checkpoint' | 'checkpoints'>>;

/**
 * What groups the alerts of one incident (PagerDuty's dedup_key; `incidentKey` in the webhook JSON): a
 * checkpoint's own, or a monitor's on one checkpoint. A monitor's first checkpoint (its only one, for most) keeps
 * the key monitors had before they could run on several, `checkpoint/monitor/<id>`, so incidents open across an
 * upgrade, or while checkpoints are added, still resolve; each other checkpoint has its own,
 * `checkpoint/monitor/<id>/<checkpoint>`, so a failure seen from one site and one from another are separate
 * incidents that resolve on their own.
 */
export function incidentKey(record: Pick<AlertRecord, 'monitorId' | 'checkpoint'>, monitor: Partial<Pick<MonitorRecord, 'checkpoint'>> | undefined): string {
  if (record.monitorId === undefined) return `checkpoint/checkpoint/${record.checkpoint ?? ''}`;
  const own = `checkpoint/monitor/${record.monitorId}`;
  if (record.checkpoint === undefined || monitor?.checkpoint === undefined || record.checkpoint === monitor.checkpoint) return own;
  return `${own}/${encodeURIComponent(record.checkpoint)}`;
}

/** The severity of an alert: a failure as its monitor says (default critical), the rest by kind. */
export function severityFor(kind: AlertKind, alerting: MonitorAlerting | undefined): Severity {
  switch (kind) {
    case 'monitor-failed':
    case 'monitor-reminder':
      return alerting?.severity ?? 'critical';
    case 'monitor-warning':
      return 'warning';
    case 'checkpoint-down':
      return 'error';
    case 'monitor-recovered':
    case 'monitor-resolved':
    case 'checkpoint-up':
      return 'info';
  }
}

/** Posts a JSON body; resolves with the HTTP status, rejects on network errors and timeouts. */
export type PostJson = (url: string, body: string, options: { timeoutMs: number; signal: AbortSignal; headers?: Record<string, string> }) => Promise<number>;

export const postJson: PostJson = (url, body, options) =>
  new Promise<number>((resolve, reject) => {
    const target = new URL(url);
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(
      target,
      {
        method: 'POST',
        headers: { ...options.headers, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), 'User-Agent': 'checkpoint-control-plane' },
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
 * A `--webhook` URL as alert records and logs show it: its origin only. Chat webhooks carry their secret in the
 * path (hooks.slack.com/services/…), and alert records are readable through the API.
 */
export function shownWebhookUrl(url: string): string {
  if (!URL.canParse(url)) return 'webhook';
  const parsed = new URL(url);
  return parsed.pathname === '/' && parsed.search === '' ? parsed.origin : `${parsed.origin}/…`;
}

/** One way an alert leaves: a legacy webhook (v1 JSON) or a channel. */
interface Target {
  delivery: WebhookDelivery;
  /** Sends once: the HTTP status, or `sent` for email; undefined when this target skips the alert. */
  send: () => Promise<number | 'sent'>;
}

/**
 * Alerts: stored, written to the log as one line, and delivered to the legacy webhooks (`--webhook`, the v1
 * JSON body) and to the notification channels (control-plane/channels: signed webhook, Slack, Teams, email,
 * PagerDuty), each retried with backoff. A target that keeps failing is logged and recorded on the alert; it
 * never throws into the caller.
 */
export class Alerts {
  readonly #store: ControlPlaneStore;
  readonly #log: Log;
  readonly #clock: Clock;
  readonly #webhooks: readonly string[];
  readonly #webhookSecret: string | undefined;
  readonly #retryDelaysMs: readonly number[];
  readonly #timeoutMs: number;
  readonly #post: PostJson;
  readonly #env: Environment;
  #baseUrl: string | undefined;
  readonly #abort = new AbortController();
  readonly #pending = new Set<Promise<void>>();
  #closed = false;

  constructor(options: {
    store: ControlPlaneStore;
    log: Log;
    clock: Clock;
    webhooks?: readonly string[];
    /** Signs the `webhooks` POSTs like a webhook channel's (X-Checkpoint-Timestamp, X-Checkpoint-Signature). */
    webhookSecret?: string;
    /** Waits before the 2nd, 3rd, … attempt. Default: 1 s, 5 s, 15 s. */
    retryDelaysMs?: readonly number[];
    timeoutMs?: number;
    post?: PostJson;
    /** Where `{{env.NAME}}` in channel settings is looked up. Default: process.env. */
    env?: Environment;
    /** The control plane's public base URL, for links in messages. */
    baseUrl?: string;
  }) {
    this.#store = options.store;
    this.#log = options.log;
    this.#clock = options.clock;
    this.#webhooks = options.webhooks ?? [];
    this.#webhookSecret = options.webhookSecret;
    this.#retryDelaysMs = options.retryDelaysMs ?? [1000, 5000, 15_000];
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#post = options.post ?? postJson;
    this.#env = options.env ?? process.env;
    this.#baseUrl = options.baseUrl?.replace(/\/+$/, '');
  }

  /** The base URL links point to, when none was configured (the listening URL, known only once listening). */
  defaultBaseUrl(url: string): void {
    this.#baseUrl ??= url.replace(/\/+$/, '');
  }

  /** Record an alert, log it, and start delivering it (in the background). */
  async raise(input: AlertInput): Promise<AlertRecord> {
    // One line in the log, and a bounded text everywhere: step errors can be long and multi-line.
    const message = input.message.replace(/\s*[\r\n]+\s*/g, ' ').slice(0, 1000);
    const monitor = input.monitor ?? (input.monitorId === undefined ? undefined : await this.#store.getMonitor(input.monitorId));
    const severity = input.severity ?? severityFor(input.kind, monitor?.alerting);
    const record = await this.#store.insertAlert({
      kind: input.kind,
      message,
      severity,
      createdAt: this.#clock.wallNow().toISOString(),
      ...(input.checkpoint === undefined ? {} : { checkpoint: input.checkpoint }),
      ...(input.monitorId === undefined ? {} : { monitorId: input.monitorId }),
      ...(input.runId === undefined ? {} : { runId: input.runId }),
    });
    const subject = [input.checkpoint === undefined ? undefined : `checkpoint=${input.checkpoint}`, input.monitorId === undefined ? undefined : `monitor=${input.monitorId}`, input.runId === undefined ? undefined : `run=${input.runId}`]
      .filter((part) => part !== undefined)
      .join(' ');
    this.#log(`ALERT ${input.kind} ${subject}: ${message}`);
    const targets = await this.#targets(record, monitor);
    if (targets.length > 0) this.#track(this.#deliver(record, targets));
    return record;
  }

  /** The v1 body of the legacy `--webhook` URLs (unchanged, so existing receivers keep working). */
  async payload(record: AlertRecord): Promise<AlertPayload> {
    const payload: AlertPayload = { id: record.id, kind: record.kind, message: record.message, createdAt: record.createdAt };
    if (record.checkpoint !== undefined) payload.checkpoint = record.checkpoint;
    if (record.monitorId !== undefined) {
      const name = (await this.#store.getMonitor(record.monitorId))?.name;
      payload.monitor = name === undefined ? { id: record.monitorId } : { id: record.monitorId, name };
    }
    if (record.runId !== undefined) payload.runId = record.runId;
    return payload;
  }

  /** The alert as channels format it: links, the failed step and its error from the stored result. */
  async message(record: AlertRecord, given?: Pick<MonitorRecord, 'id' | 'name'> & Partial<Pick<MonitorRecord, 'checkpoint' | 'checkpoints'>>): Promise<AlertMessage> {
    const base = this.#baseUrl;
    const link = (path: string) => (base === undefined ? {} : { url: `${base}${path}` });
    // The monitor given (as it was, when deleted or changed) decides the incident key only if it says where it ran.
    const monitor = given?.checkpoint !== undefined || record.monitorId === undefined ? given : ((await this.#store.getMonitor(record.monitorId)) ?? given);
    const name = monitor?.name ?? record.monitorId;
    const message: AlertMessage = {
      id: record.id,
      kind: record.kind,
      severity: record.severity,
      status: resolvingKinds.has(record.kind) ? 'resolved' : 'firing',
      title: alertTitle(record.kind, { ...(name === undefined ? {} : { monitor: name }), ...(record.checkpoint === undefined ? {} : { checkpoint: record.checkpoint }) }),
      message: record.message,
      createdAt: record.createdAt,
      incidentKey: incidentKey(record, monitor),
      ...(base === undefined ? {} : { baseUrl: base }),
    };
    if (record.checkpoint !== undefined) message.checkpoint = record.checkpoint;
    if (record.monitorId !== undefined) message.monitor = { id: record.monitorId, name: name ?? record.monitorId, ...link(`/monitors/${encodeURIComponent(record.monitorId)}`) };
    if (record.runId !== undefined) {
      const run = await this.#store.getRun(record.runId);
      message.run = { id: record.runId, ...link(`/runs/${encodeURIComponent(record.runId)}`), ...(run === undefined ? {} : { attempt: run.attempt }), ...(run?.instance === undefined ? {} : { instance: run.instance }) };
      const result = (await this.#store.getResult(record.runId))?.envelope.result;
      if (result !== undefined && resolvingKinds.has(record.kind) === false) {
        const index = result.steps.findIndex((step) => step.status === 'failed');
        const step = result.steps[index];
        if (step !== undefined) message.step = { index, name: step.name };
        const error = step?.error ?? result.error;
        if (error !== undefined) message.error = { code: error.code, blame: error.blame, message: error.message.slice(0, 1000) };
      }
    }
    return message;
  }

  async #targets(record: AlertRecord, monitor: AlertMonitor | undefined): Promise<Target[]> {
    const payload = this.#webhooks.length === 0 ? undefined : await this.payload(record);
    const targets: Target[] = this.#webhooks.map((url) => {
      const body = JSON.stringify(payload);
      const secret = this.#webhookSecret;
      // Signed at each attempt, so a retry carries a fresh timestamp the receiver's replay window accepts.
      const signed = (secretValue: string): Record<string, string> => {
        const timestamp = String(Math.floor(this.#clock.wallNow().getTime() / 1000));
        return { [timestampHeader]: timestamp, [signatureHeader]: webhookSignature(secretValue, timestamp, body) };
      };
      return {
        delivery: { url: shownWebhookUrl(url), delivered: false, attempts: 0 },
        send: () => this.#post(url, body, { timeoutMs: this.#timeoutMs, signal: this.#abort.signal, ...(secret === undefined ? {} : { headers: signed(secret) }) }),
      };
    });
    const wanted = record.monitorId === undefined ? undefined : monitor?.alerting?.channels;
    const channels = (await this.#store.listChannels()).filter((stored) => wanted === undefined || wanted.includes(stored.definition.id));
    if (channels.length === 0) return targets;
    const message = await this.message(record, monitor);
    for (const { definition: channel } of channels) {
      const delivery: WebhookDelivery = { url: `channel:${channel.id}`, channel: channel.id, delivered: false, attempts: 0 };
      let prepared: ChannelSend | undefined;
      try {
        prepared = prepareSend(channel, message, this.#env, this.#clock.wallNow());
      } catch (error) {
        delivery.error = error instanceof Error ? error.message : String(error);
        targets.push({ delivery, send: () => Promise.reject(new PermanentError(delivery.error ?? 'not sendable')) });
        continue;
      }
      if (prepared === undefined) continue;
      const send = prepared;
      targets.push({
        delivery,
        send:
          send.kind === 'http'
            ? () => this.#post(send.request.url, send.request.body, { timeoutMs: this.#timeoutMs, signal: this.#abort.signal, headers: send.request.headers })
            : async () => {
                try {
                  await send.send({ timeoutMs: this.#timeoutMs });
                } catch (error) {
                  // SMTP 5xx is a refusal that another try will not change; anything else may be transient.
                  const code = (error as { responseCode?: number }).responseCode;
                  throw code !== undefined && code >= 500 ? new PermanentError(error instanceof Error ? error.message : String(error)) : error;
                }
                return 'sent' as const;
              },
      });
    }
    return targets;
  }

  #track(work: Promise<void>): void {
    this.#pending.add(work);
    void work.finally(() => this.#pending.delete(work));
  }

  async #deliver(record: AlertRecord, targets: readonly Target[]): Promise<void> {
    const deliveries = targets.map((target) => target.delivery);
    // Recording the outcome is best effort: the alert itself is stored, and the store may be closing.
    const save = async () => {
      if (this.#closed) return;
      try {
        await this.#store.setAlertDeliveries(record.id, deliveries);
      } catch (error) {
        this.#log(`alerts: could not record the deliveries of alert ${record.id}: ${error instanceof Error ? error.message : String(error)}`);
      }
    };
    await Promise.all(
      targets.map(async ({ delivery, send }) => {
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
            const status = await send();
            if (status !== 'sent') delivery.status = status;
            if (status === 'sent' || (status >= 200 && status < 300)) {
              delivery.delivered = true;
              delete delivery.error;
              await save();
              return;
            }
            delivery.error = `HTTP ${status}`;
            if (!retryable(status)) break;
          } catch (error) {
            if (this.#closed) return;
            delivery.error = error instanceof Error ? error.message : String(error);
            if (error instanceof PermanentError) break;
          }
        }
        await save();
        if (!this.#closed) this.#log(`alerts: ${delivery.channel === undefined ? `webhook ${delivery.url}` : `channel ${delivery.channel}`} did not take alert ${record.id} after ${delivery.attempts} attempt(s): ${delivery.error ?? 'unknown error'}`);
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

/** A failure that another attempt will not fix (a missing secret, an SMTP 5xx). */
class PermanentError extends Error {}
