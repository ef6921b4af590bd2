/**
 * What the checkpoint's outbox keeps when it grows past its byte cap (pure; the outbox in engine/agent
 * applies it). Results (the summaries the control plane alerts on) are never dropped; artifacts
 * (screenshots, filmstrips, HAR) are, oldest run first, and every drop is counted.
 *
 * Artifacts are content-addressed and may be shared by several runs (two identical screenshots are one
 * file): a file's bytes count once, and dropping one run's reference frees the bytes only when no kept run
 * still refers to the file.
 */

export interface OutboxArtifactSize {
  sha256: string;
  sizeBytes: number;
}

export interface OutboxRowSize {
  runId: string;
  /** Commit time; smaller is older. Ties keep the given order. */
  createdAtMs: number;
  /** Bytes of the result envelope itself. */
  resultBytes: number;
  /** Artifacts the row still holds. */
  artifacts: readonly OutboxArtifactSize[];
}

export interface OutboxDropPlan {
  /** Runs whose artifacts go, oldest first. */
  dropArtifactsOf: string[];
  /** Artifact references dropped, per run. */
  droppedPerRun: Record<string, number>;
  bytesBefore: number;
  bytesAfter: number;
  /** Still over the cap with every artifact gone: only results are left, and they are kept. */
  overCap: boolean;
}

/** Bytes the rows occupy: every result plus every distinct artifact file. */
export function outboxBytes(rows: readonly OutboxRowSize[]): number {
  const files = new Map<string, number>();
  let total = 0;
  for (const row of rows) {
    total += row.resultBytes;
    for (const artifact of row.artifacts) files.set(artifact.sha256, artifact.sizeBytes);
  }
  for (const size of files.values()) total += size;
  return total;
}

/** Bytes of the results alone (what is left when every artifact is gone). */
export function resultBytes(rows: readonly OutboxRowSize[]): number {
  return rows.reduce((sum, row) => sum + row.resultBytes, 0);
}

/**
 * Which runs lose their artifacts so the outbox fits in `capBytes`: the oldest runs first, until the total
 * is at or under the cap. Runs without artifacts are passed over. Results are never dropped; when they alone
 * exceed the cap the plan drops every artifact and says `overCap` (the agent then stops taking runs).
 */
export function planOutboxDrops(rows: readonly OutboxRowSize[], capBytes: number): OutboxDropPlan {
  const ordered = rows.map((row, index) => ({ row, index })).sort((a, b) => a.row.createdAtMs - b.row.createdAtMs || a.index - b.index);
  // References per file among the rows that keep their artifacts.
  const refs = new Map<string, number>();
  const sizes = new Map<string, number>();
  for (const { row } of ordered) {
    for (const artifact of row.artifacts) {
      refs.set(artifact.sha256, (refs.get(artifact.sha256) ?? 0) + 1);
      sizes.set(artifact.sha256, artifact.sizeBytes);
    }
  }
  const bytesBefore = outboxBytes(rows);
  let bytes = bytesBefore;
  const dropArtifactsOf: string[] = [];
  const droppedPerRun: Record<string, number> = {};
  for (const { row } of ordered) {
    if (bytes <= capBytes) break;
    if (row.artifacts.length === 0) continue;
    for (const artifact of row.artifacts) {
      const left = (refs.get(artifact.sha256) ?? 1) - 1;
      refs.set(artifact.sha256, left);
      if (left === 0) bytes -= sizes.get(artifact.sha256) ?? 0;
    }
    dropArtifactsOf.push(row.runId);
    droppedPerRun[row.runId] = row.artifacts.length;
  }
  return { dropArtifactsOf, droppedPerRun, bytesBefore, bytesAfter: bytes, overCap: bytes > capBytes };
}
