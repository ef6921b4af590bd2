import type { ResultEnvelope } from '../engine/index.ts';
import { ApiError } from './http.ts';
import type { RunRecord } from './store.ts';

/** How far an agent's clock may be ahead before its times are not believed. */
export const clockSkewMs = 5 * 60_000;

/**
 * Whether a checkpoint instance may deliver this result: only for a run this control plane dispatched to that
 * checkpoint AND that instance, for the monitor and attempt it was dispatched for, from the instance the request
 * says it is. Anything else — a run never dispatched, another checkpoint's or another instance's run — is refused
 * (403: the agent's outbox sets it aside instead of retrying).
 */
export function resultRefusal(input: { envelope: ResultEnvelope; run: RunRecord | undefined; checkpoint: string; headerInstance: string | undefined }): ApiError | undefined {
  const { envelope, run, checkpoint, headerInstance } = input;
  if (envelope.result.runId !== envelope.runId) {
    return new ApiError(400, 'run-id-mismatch', `result.runId: the result says "${envelope.result.runId}", the envelope "${envelope.runId}"`, { path: 'result.runId' });
  }
  if (headerInstance !== undefined && headerInstance !== envelope.instanceId) {
    return new ApiError(403, 'instance-mismatch', `instanceId: the envelope says "${envelope.instanceId}", the X-Checkpoint-Instance header "${headerInstance}"`, { path: 'instanceId' });
  }
  if (run === undefined || run.checkpoint !== checkpoint) {
    return new ApiError(403, 'not-dispatched', `runId: run ${envelope.runId} was not dispatched to checkpoint ${checkpoint}`, { path: 'runId' });
  }
  if (run.instance !== envelope.instanceId) {
    return new ApiError(403, 'not-dispatched', `instanceId: run ${envelope.runId} was dispatched to another instance than "${envelope.instanceId}"`, { path: 'instanceId' });
  }
  if (run.monitorId !== envelope.monitorId || run.attempt !== envelope.attempt) {
    return new ApiError(403, 'not-dispatched', `monitorId: run ${envelope.runId} was dispatched as attempt ${run.attempt} of monitor ${run.monitorId}`, { path: 'monitorId' });
  }
  return undefined;
}

/**
 * The finish time to record: the agent's, clamped between the dispatch and now (plus nothing: a result cannot
 * have finished after it arrived). Agent clocks drift and agents can lie; times the scheduler and the dashboard
 * rely on come from this control plane's clock or are bounded by it.
 */
export function clampedFinishedAt(envelope: ResultEnvelope, run: RunRecord, nowIso: string): { finishedAt: string; clamped: boolean } {
  const claimed = Date.parse(envelope.finishedAt);
  const earliest = Date.parse(run.dispatchedAt);
  const latest = Date.parse(nowIso);
  if (!Number.isFinite(claimed)) return { finishedAt: nowIso, clamped: true };
  if (claimed > latest) return { finishedAt: nowIso, clamped: claimed - latest > clockSkewMs };
  if (claimed < earliest) return { finishedAt: run.dispatchedAt, clamped: earliest - claimed > clockSkewMs };
  return { finishedAt: new Date(claimed).toISOString(), clamped: false };
}
