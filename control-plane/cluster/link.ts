import type { ControlMessage } from '../../engine/index.ts';
import type { Hub, InstanceLink, LiveInstance } from '../hub.ts';
import type { Log } from '../log.ts';
import { messageOf } from './lease.ts';
import type { RemoteInstanceReport } from './messages.ts';

/** Hands a command for a remote instance to that instance's replica. */
export type PublishSend = (replica: string, message: { type: 'send'; key: string; message: ControlMessage }) => Promise<void>;

interface Remote {
  instance: LiveInstance;
  replica: string;
}

/**
 * The leader's view of every instance in the cluster: those connected to this replica (its hub) and those other
 * replicas report. A command for a remote instance goes over the bus to its replica. A remote instance that no
 * report has mentioned for `deadAfterMs` (its replica died, or the link did) is forgotten by `expire`.
 */
export class ClusterLink implements InstanceLink {
  readonly #hub: Hub;
  readonly #publish: PublishSend;
  readonly #nowMs: () => number;
  readonly #log: Log;
  readonly #remote = new Map<string, Remote>();

  constructor(options: { hub: Hub; publish: PublishSend; nowMs: () => number; log: Log }) {
    this.#hub = options.hub;
    this.#publish = options.publish;
    this.#nowMs = options.nowMs;
    this.#log = options.log;
  }

  instances(checkpoint?: string): LiveInstance[] {
    const local = this.#hub.instances(checkpoint);
    const localKeys = new Set(local.map((instance) => instance.key));
    const remote = [...this.#remote.values()].map((entry) => entry.instance).filter((instance) => !localKeys.has(instance.key) && (checkpoint === undefined || instance.checkpoint === checkpoint));
    return [...local, ...remote];
  }

  get(key: string): LiveInstance | undefined {
    return this.#hub.get(key) ?? this.#remote.get(key)?.instance;
  }

  /** Local instances directly; remote ones through their replica (true means handed over, as for a socket). */
  send(key: string, message: ControlMessage): boolean {
    if (this.#hub.get(key) !== undefined) return this.#hub.send(key, message);
    const remote = this.#remote.get(key);
    if (remote === undefined) return false;
    this.#publish(remote.replica, { type: 'send', key, message }).catch((error: unknown) => {
      this.#log(`cluster: could not pass ${message.type} for ${key} to replica ${remote.replica}: ${messageOf(error)}`);
    });
    return true;
  }

  /** A report of a remote instance; returns it and whether it is new to the leader (ready, or seen again after expiring). */
  report(replica: string, report: RemoteInstanceReport): { instance: LiveInstance; isNew: boolean } {
    const now = this.#nowMs();
    const existing = this.#remote.get(report.key);
    const instance: LiveInstance = {
      key: report.key,
      checkpoint: report.checkpoint,
      id: report.id,
      hello: report.hello,
      connectedAtMs: existing?.instance.connectedAtMs ?? now,
      lastSeenMs: now,
    };
    const heartbeat = report.lastHeartbeat ?? existing?.instance.lastHeartbeat;
    if (heartbeat !== undefined) instance.lastHeartbeat = heartbeat;
    this.#remote.set(report.key, { instance, replica });
    return { instance, isNew: existing === undefined || existing.replica !== replica };
  }

  /** The instance left its replica (or connected here instead); returns what the leader knew of it. */
  forget(key: string): LiveInstance | undefined {
    const existing = this.#remote.get(key);
    this.#remote.delete(key);
    return existing?.instance;
  }

  /** Remote instances not reported for `deadAfterMs`: removed and returned. */
  expire(deadAfterMs: number): LiveInstance[] {
    const now = this.#nowMs();
    const gone: LiveInstance[] = [];
    for (const [key, entry] of this.#remote) {
      if (now - entry.instance.lastSeenMs < deadAfterMs) continue;
      this.#remote.delete(key);
      gone.push(entry.instance);
    }
    return gone;
  }
}
