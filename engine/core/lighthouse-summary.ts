/** The parts of a Lighthouse result (LHR) we keep in the step result. */
export interface LighthouseResultLike {
  categories: Record<string, { score: number | null } | undefined>;
  audits: Record<string, { numericValue?: number } | undefined>;
}

/** Audit id → our metric name. Times in ms; CLS unitless. */
const metricAudits: Record<string, string> = {
  'first-contentful-paint': 'fcpMs',
  'largest-contentful-paint': 'lcpMs',
  'total-blocking-time': 'tbtMs',
  'cumulative-layout-shift': 'cls',
  'speed-index': 'speedIndexMs',
  'interaction-to-next-paint': 'inpMs',
  'server-response-time': 'serverResponseMs',
};

/** Category scores (0–1, null when not scored) and the key metrics present in the LHR. */
export function summarizeLighthouse(lhr: LighthouseResultLike): { scores: Record<string, number | null>; metrics: Record<string, number> } {
  const scores: Record<string, number | null> = {};
  for (const [id, category] of Object.entries(lhr.categories)) if (category !== undefined) scores[id] = category.score;
  const metrics: Record<string, number> = {};
  for (const [auditId, name] of Object.entries(metricAudits)) {
    const value = lhr.audits[auditId]?.numericValue;
    if (typeof value === 'number' && Number.isFinite(value)) metrics[name] = Math.round(value * 1000) / 1000;
  }
  return { scores, metrics };
}

/** Audits that carry page images: skipped whenever screenshots are not allowed. */
export const lighthouseImageAudits = ['screenshot-thumbnails', 'final-screenshot', 'full-page-screenshot'] as const;
