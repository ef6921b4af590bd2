/**
 * The standard rating thresholds for Core Web Vitals and the other user-centric metrics we report, as published
 * on web.dev and used by the `web-vitals` library, CrUX and Lighthouse: a value at or below `good` is good, a
 * value above `poor` is poor, anything between needs improvement.
 */
export const vitalNames = ['fcpMs', 'lcpMs', 'cls', 'tbtMs', 'inpMs'] as const;
export type VitalName = (typeof vitalNames)[number];

export const vitalRatings = ['good', 'needs-improvement', 'poor'] as const;
export type VitalRating = (typeof vitalRatings)[number];

export interface VitalThreshold {
  /** Short label as people know it: `LCP`. */
  label: string;
  /** Full name: `Largest Contentful Paint`. */
  title: string;
  /** `ms` for times; `''` for unitless scores (CLS). */
  unit: 'ms' | '';
  /** Upper bound of "good" (inclusive). */
  good: number;
  /** Values strictly above this are "poor". */
  poor: number;
}

export const vitalThresholds: Readonly<Record<VitalName, VitalThreshold>> = {
  fcpMs: { label: 'FCP', title: 'First Contentful Paint', unit: 'ms', good: 1800, poor: 3000 },
  lcpMs: { label: 'LCP', title: 'Largest Contentful Paint', unit: 'ms', good: 2500, poor: 4000 },
  cls: { label: 'CLS', title: 'Cumulative Layout Shift', unit: '', good: 0.1, poor: 0.25 },
  tbtMs: { label: 'TBT', title: 'Total Blocking Time', unit: 'ms', good: 200, poor: 600 },
  inpMs: { label: 'INP', title: 'Interaction to Next Paint', unit: 'ms', good: 200, poor: 500 },
};

/** Rate one value: `good` when ≤ the good bound, `poor` when > the poor bound, otherwise `needs-improvement`. */
export function rateVital(name: VitalName, value: number): VitalRating {
  const threshold = vitalThresholds[name];
  if (value > threshold.poor) return 'poor';
  if (value > threshold.good) return 'needs-improvement';
  return 'good';
}

/**
 * Lighthouse's colouring of a category score (0–1): 0.9 and above is good, below 0.5 is poor
 * (`null`, a category that could not be scored, has no rating).
 */
export function rateLighthouseScore(score: number | null): VitalRating | undefined {
  if (score === null || !Number.isFinite(score)) return undefined;
  if (score >= 0.9) return 'good';
  if (score >= 0.5) return 'needs-improvement';
  return 'poor';
}
