/**
 * Who is at fault when something goes wrong. `site`: the monitored application misbehaved (the thing a
 * checkpoint exists to notice); `script`: the transaction script is wrong or out of date; `engine`: the
 * checkpoint itself (browser missing or crashed, internal bug). Only engine faults are worth retrying.
 */
export const blames = ['site', 'script', 'engine'] as const;
export type Blame = (typeof blames)[number];

/** Error codes. UPPER_SNAKE; stable: they appear in result.json and alert rules. */
export const errorCodes = [
  'USAGE',
  'SCRIPT_NOT_FOUND',
  'SCRIPT_INVALID',
  'VARIABLE_MISSING',
  'SECRET_MISSING',
  'FILE_NOT_FOUND',
  'SELECTOR_NOT_FOUND',
  'SELECTOR_INVALID',
  'SELECTOR_AMBIGUOUS',
  'ELEMENT_NOT_ACTIONABLE',
  'ASSERTION_FAILED',
  'ACTION_TIMEOUT',
  'STEP_TIMEOUT',
  'SCRIPT_TIMEOUT',
  'NAVIGATION_FAILED',
  'HTTP_ERROR',
  'CONDITION_BREACHED',
  'EVALUATION_FAILED',
  'FRAME_NOT_FOUND',
  'TAB_NOT_FOUND',
  'BROWSER_NOT_FOUND',
  'BROWSER_LAUNCH_FAILED',
  'BROWSER_CRASHED',
  'QUEUE_FULL',
  'QUEUE_EXPIRED',
  'RUN_ABORTED',
  'INTERNAL',
] as const;
export type ErrorCode = (typeof errorCodes)[number];

