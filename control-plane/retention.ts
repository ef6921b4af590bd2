import type { Clock } from '../engine/index.ts';
import type { ArtifactFiles } from './artifact-files.ts';
import type { Log } from './log.ts';
import type { ControlPlaneStore } from './store.ts';

/** How long the control plane keeps each kind of record, in days; 0 keeps it forever. */
export interface RetentionDays {
  /** Finished runs (and their results). Default 90. */
  runs: number;
  /** Result envelopes (the bulk of the database). Default 30. */
  results: number;
  /** Alerts. Default 180. */
  alerts: number;
  /** Artifact files no result has referred to for this long. Default 30. */
  artifacts: number;
  /** Instances disconnected and unseen for this long (made-up instance ids included). Default 7. */
  instances: number;
}

export const defaultRetentionDays: RetentionDays = { runs: 90, results: 30, alerts: 180, artifacts: 30, instances: 7 };

const dayMs = 86_400_000;

/** Check days from flags or the environment: a whole number ≥ 0 per kind. */
export function retentionProblem(days: Partial<RetentionDays>): string | undefined {
  for (const [kind, value] of Object.entries(days)) {
    if (value === undefined) continue;
    if (!Number.isInteger(value) || value < 0 || value > 36_500) return `retention of ${kind}: expected whole days from 0 (keep forever) to 36500, got ${String(value)}`;
  }
  return undefined;
}

/**
 * The pruning job: on the maintenance tick, at most once per `everyMs` (default an hour, measured on the
 * injected clock so tests can move it), delete what is older than the retention settings, rows first, files after.
 */
export class Retention {
  readonly #store: ControlPlaneStore;
  readonly #files: ArtifactFiles;
  readonly #clock: Clock;
  readonly #log: Log;
  readonly #days: RetentionDays;
  readonly #everyMs: number;
  #lastRunMs: number | undefined;
  #running: Promise<void> | undefined;

  constructor(options: { store: ControlPlaneStore; files: ArtifactFiles; clock: Clock; log: Log; days?: Partial<RetentionDays>; everyMs?: number }) {
    this.#store = options.store;
    this.#files = options.files;
    this.#clock = options.clock;
    this.#log = options.log;
    this.#days = { ...defaultRetentionDays, ...options.days };
    this.#everyMs = options.everyMs ?? 3_600_000;
  }

  get days(): RetentionDays {
    return { ...this.#days };
  }

  /** Called by the maintenance tick: prune when due. */
  tick(): void {
    const now = this.#clock.nowMs();
    if (this.#running !== undefined || (this.#lastRunMs !== undefined && now - this.#lastRunMs < this.#everyMs)) return;
    this.#lastRunMs = now;
    this.#running = this.prune()
      .then(() => undefined)
      .catch((error: unknown) => this.#log(`retention: pruning failed: ${error instanceof Error ? error.message : String(error)}`))
      .finally(() => (this.#running = undefined));
  }

  /** Prune now. */
  async prune(): Promise<{ runs: number; results: number; alerts: number; instances: number; artifacts: number }> {
    const wall = this.#clock.wallNow().getTime();
    const before = (days: number) => (days > 0 ? new Date(wall - days * dayMs).toISOString() : undefined);
    const cutoffs: Parameters<ControlPlaneStore['prune']>[0] = {};
    const set = (key: keyof typeof cutoffs, days: number) => {
      const cutoff = before(days);
      if (cutoff !== undefined) cutoffs[key] = cutoff;
    };
    set('runsBefore', this.#days.runs);
    set('resultsBefore', this.#days.results);
    set('alertsBefore', this.#days.alerts);
    set('artifactsBefore', this.#days.artifacts);
    set('instancesBefore', this.#days.instances);
    const pruned = await this.#store.prune(cutoffs);
    for (const file of pruned.artifactFiles) {
      const sha256 = this.#files.hashOf(file);
      // Uploaded again since its row was deleted: the new row has this very file (the same bytes), so it stays.
      await this.#files.exclusive(sha256, async () => {
        if ((await this.#store.getArtifact(sha256)) === undefined) await this.#files.remove(file);
      });
    }
    const summary = { runs: pruned.runs, results: pruned.results, alerts: pruned.alerts, instances: pruned.instances, artifacts: pruned.artifactFiles.length };
    if (Object.values(summary).some((count) => count > 0)) {
      this.#log(`retention: deleted ${summary.runs} run(s), ${summary.results} result(s), ${summary.alerts} alert(s), ${summary.instances} instance(s), ${summary.artifacts} artifact(s)`);
    }
    return summary;
  }

  /** Resolves when a pruning started by `tick` has finished. */
  async settled(): Promise<void> {
    await this.#running;
  }
}
