/** Time source, injected so that schedulers and deadlines can be tested with a fake clock. */
export interface Clock {
  /** Monotonic milliseconds (arbitrary origin). */
  nowMs(): number;
  /** Wall clock, for `startedAt` fields. */
  wallNow(): Date;
}

export const systemClock: Clock = {
  nowMs: () => performance.now(),
  wallNow: () => new Date(),
};
