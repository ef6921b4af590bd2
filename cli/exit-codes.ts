import type { EngineError, RunStatus } from '../engine/index.ts';

/** Documented exit codes (README "Exit codes"). */
export const exitCodes = {
  passed: 0,
  /** The transaction failed: the site or an assertion. */
  failed: 1,
  /** Bad input or usage: a malformed script, a wrong flag, a missing variable or secret. */
  badInput: 2,
  /** Engine fault: no browser, browser crashed, internal error. */
  engineFault: 3,
} as const;

/** `warning` (a warning condition breached, every step passed) exits 0: the transaction worked. */
export function exitCodeForStatus(status: RunStatus): number {
  if (status === 'passed' || status === 'warning') return exitCodes.passed;
  return status === 'failed' ? exitCodes.failed : exitCodes.engineFault;
}

export function exitCodeForError(error: EngineError): number {
  return error.blame === 'engine' ? exitCodes.engineFault : exitCodes.badInput;
}
