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
  'POLICY_BLOCKED',
  'DNS_FAILED',
  'CONNECT_FAILED',
  'TLS_FAILED',
  'CERTIFICATE_EXPIRING',
  'AUTH_FAILED',
  'PROTOCOL_ERROR',
  'EXTRACTION_FAILED',
  'INTERNAL',
] as const;
export type ErrorCode = (typeof errorCodes)[number];


/**
 * The one blame of each code (docs/verdicts.md, "Who is blamed"): an EngineError takes its blame from here, so
 * the same code is never `site` in one place and `script` in another.
 */
export const blameOf = {
  USAGE: 'script',
  SCRIPT_NOT_FOUND: 'script',
  SCRIPT_INVALID: 'script',
  VARIABLE_MISSING: 'script',
  SECRET_MISSING: 'script',
  FILE_NOT_FOUND: 'script',
  SELECTOR_NOT_FOUND: 'script',
  SELECTOR_INVALID: 'script',
  SELECTOR_AMBIGUOUS: 'script',
  ELEMENT_NOT_ACTIONABLE: 'script',
  ASSERTION_FAILED: 'site',
  ACTION_TIMEOUT: 'site',
  STEP_TIMEOUT: 'site',
  SCRIPT_TIMEOUT: 'site',
  NAVIGATION_FAILED: 'site',
  HTTP_ERROR: 'site',
  CONDITION_BREACHED: 'site',
  EVALUATION_FAILED: 'site',
  FRAME_NOT_FOUND: 'site',
  TAB_NOT_FOUND: 'site',
  BROWSER_NOT_FOUND: 'engine',
  BROWSER_LAUNCH_FAILED: 'engine',
  BROWSER_CRASHED: 'engine',
  QUEUE_FULL: 'engine',
  QUEUE_EXPIRED: 'engine',
  RUN_ABORTED: 'engine',
  POLICY_BLOCKED: 'script',
  DNS_FAILED: 'site',
  CONNECT_FAILED: 'site',
  TLS_FAILED: 'site',
  CERTIFICATE_EXPIRING: 'site',
  AUTH_FAILED: 'site',
  PROTOCOL_ERROR: 'site',
  EXTRACTION_FAILED: 'site',
  INTERNAL: 'engine',
} as const satisfies Record<ErrorCode, Blame>;
