import type { CaptureMode } from '../schema/script.ts';
import { parseSwitch } from '../schema/agent-config.ts';

/** What a run may capture. Anything not allowed here is never started, not merely discarded. */
export interface CapturePolicy {
  screenshots: CaptureMode;
  filmstrip: boolean;
  /** HAR and request waterfall (URLs, headers with secrets redacted; no bodies). */
  har: boolean;
}

export interface CaptureRequest {
  /** From the command line or the control plane's monitor settings. */
  screenshots?: CaptureMode | undefined;
  filmstrip?: boolean | undefined;
  har?: boolean | undefined;
}

/**
 * True when the checkpoint's privacy lock is on: `CHECKPOINT_PRIVACY_LOCK` set to `1`, `true`, `on` or
 * `yes`. The lock belongs to whoever runs the checkpoint; scripts and control-plane commands cannot lift it.
 */
export function privacyLockFromEnv(env: Readonly<Record<string, string | undefined>>): boolean {
  return parseSwitch(env['CHECKPOINT_PRIVACY_LOCK'] ?? '') === true;
}

/**
 * Effective capture for one step. Precedence: the checkpoint lock (switches images off, whatever anyone
 * asks) > the step's own setting > the run request (CLI, control plane) > the script settings > defaults
 * (screenshots on failure, filmstrip off, HAR on).
 */
export function capturePolicy(input: {
  lock: boolean;
  request: CaptureRequest;
  script: { screenshots?: CaptureMode | undefined; filmstrip?: boolean | undefined; har?: boolean | undefined } | undefined;
  step?: { screenshot?: CaptureMode | undefined; filmstrip?: boolean | undefined } | undefined;
}): CapturePolicy {
  const screenshots = input.step?.screenshot ?? input.request.screenshots ?? input.script?.screenshots ?? 'failure';
  const filmstrip = input.step?.filmstrip ?? input.request.filmstrip ?? input.script?.filmstrip ?? false;
  const har = input.request.har ?? input.script?.har ?? true;
  if (input.lock) return { screenshots: 'off', filmstrip: false, har };
  return { screenshots, filmstrip, har };
}
