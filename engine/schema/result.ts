import { z } from 'zod';
import { conditionOutcomeSchema } from './conditions.ts';
import { blames, errorCodes } from './error-codes.ts';

/** Bump when a field changes meaning or is removed; adding optional fields does not bump it. */
export const resultSchemaVersion = 1;

const ms = z.number().min(0);

export const errorDataSchema = z.object({
  code: z.enum(errorCodes),
  message: z.string(),
  blame: z.enum(blames),
  action: z.number().int().min(0).optional().describe('Index of the failing action within its step.'),
  selector: z.string().optional().describe('The selector involved, when there was one.'),
});
export type StepError = z.infer<typeof errorDataSchema>;

export const navigationTimingSchema = z
  .object({
    url: z.string(),
    dnsMs: ms,
    connectMs: ms,
    tlsMs: ms,
    ttfbMs: ms,
    downloadMs: ms,
    domContentLoadedMs: ms,
    loadMs: ms,
    redirectCount: z.number().int().min(0).optional(),
    redirectMs: ms.optional(),
    transferSizeBytes: z.number().int().min(0).optional(),
    httpStatus: z.number().int().optional(),
  })
  .describe('Main-frame document navigation, from the browser`s Navigation Timing (all relative to its start).');
export type NavigationTiming = z.infer<typeof navigationTimingSchema>;

export const checkStepSchema = z
  .object({
    kind: z.string().describe('The script`s kind: `api`, `http`, `tcp`, `dns`, `tls`, ...'),
    phases: z
      .record(z.string(), ms)
      .describe('Timed phases in ms on the monotonic clock, in the order they happen: dnsMs, connectMs, tlsMs, bannerMs, authMs, queryMs, ttfbMs, downloadMs, transferMs (those the check has; a failed check keeps the ones before its failure).'),
    details: z
      .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
      .describe('What the check found: TLS protocol, certificate subject/issuer/days left, banner, server version, rows... Never a password.'),
    warnings: z.array(z.string()).optional().describe('Non-fatal findings that made the step `warning` (a certificate inside its warning days).'),
    http: z
      .object({
        method: z.string(),
        url: z.string(),
        status: z.number().int().optional(),
        sizeBytes: z.number().int().min(0).optional(),
        redirects: z.number().int().min(0),
        responseTimeMs: ms.optional().describe('From the start of the request (DNS included) to the end of the body, redirects included.'),
      })
      .optional()
      .describe('The request of an API or HTTP step.'),
    assertions: z
      .array(z.object({ description: z.string(), passed: z.boolean(), actual: z.string().describe('What was found (shortened), or why nothing was.') }))
      .optional()
      .describe('The step`s assertions, as judged on the response.'),
    extracted: z.array(z.string()).optional().describe('Names of the variables the step extracted (values are not reported).'),
  })
  .describe('A step of a non-browser check (API request, HTTP, TCP, DNS, TLS, database, mail...).');
export type CheckStep = z.infer<typeof checkStepSchema>;

export const actionResultSchema = z.object({
  index: z.number().int().min(0),
  type: z.string(),
  status: z.enum(['passed', 'failed', 'skipped']),
  durationMs: ms,
  matchedSelector: z.string().optional().describe('Which alternative selector matched.'),
  matchedSelectorIndex: z.number().int().min(0).optional(),
});
export type ActionResult = z.infer<typeof actionResultSchema>;

export const stepResultSchema = z.object({
  name: z.string(),
  status: z
    .enum(['passed', 'warning', 'failed', 'skipped'])
    .describe('`warning`: the actions passed but a warning condition was breached; `failed`: an action or an error condition failed.'),
  startedAt: z.string().optional(),
  durationMs: ms.describe('Time spent in the step`s actions (capture excluded).'),
  url: z.string().optional().describe('URL of the page at the end of the step.'),
  navigation: navigationTimingSchema.optional(),
  softNavigations: z
    .array(z.object({ url: z.string(), durationMs: ms.describe('From the URL change until the DOM settled.') }))
    .optional()
    .describe('Client-side (SPA) route changes during the step: history.pushState / replaceState / popstate.'),
  vitals: z
    .object({
      fcpMs: ms.optional().describe('First Contentful Paint, from navigation start.'),
      lcpMs: ms.optional().describe('Largest Contentful Paint, from navigation start.'),
      cls: z.number().min(0).optional().describe('Cumulative Layout Shift (largest session window: gap 1 s, max 5 s).'),
      tbtMs: ms.optional().describe('Total Blocking Time: sum of long-task time over 50 ms during the step.'),
      inpMs: ms.optional().describe('Interaction to Next Paint of the step`s interactions.'),
    })
    .optional(),
  requests: z.object({ count: z.number().int(), bytes: z.number().int(), failed: z.number().int() }).optional(),
  consoleErrors: z.number().int().min(0).optional().describe('Console errors and uncaught exceptions in the page during the step.'),
  conditions: z.array(conditionOutcomeSchema).optional().describe('The step`s error conditions, as judged on its measurements.'),
  waterfall: z
    .array(
      z.object({
        url: z.string(),
        method: z.string(),
        status: z.number().int().describe('HTTP status; 0 when the request failed.'),
        resourceType: z.string(),
        startMs: ms.describe('Start, relative to the step start.'),
        durationMs: ms,
        transferBytes: z.number().int().min(0),
        fromCache: z.boolean().optional(),
        failure: z.string().optional(),
        phases: z
          .object({ blockedMs: ms, dnsMs: ms, connectMs: ms, tlsMs: ms, sendMs: ms, waitMs: ms, receiveMs: ms })
          .partial()
          .optional(),
      }),
    )
    .optional()
    .describe('The step`s requests for a waterfall chart (capped; the HAR has them all).'),
  screenshot: z.string().optional().describe('Artifact path of the step screenshot.'),
  filmstrip: z
    .array(z.object({ timeMs: ms.describe('From the step`s navigation start (or step start).'), path: z.string(), visualProgress: z.number().min(0).max(100).optional() }))
    .optional(),
  visualMetrics: z
    .object({
      firstVisualChangeMs: ms,
      speedIndex: ms,
      visuallyComplete85Ms: ms,
      visuallyComplete95Ms: ms,
      lastVisualChangeMs: ms,
    })
    .optional()
    .describe('From the filmstrip, histogram method (WebPageTest).'),
  lighthouse: z
    .object({
      mode: z.enum(['navigation', 'timespan']),
      scores: z.record(z.string(), z.number().min(0).max(1).nullable()).describe('Category scores, 0–1.'),
      metrics: z.record(z.string(), z.number()).describe('Key metrics in ms (CLS unitless).'),
      reportJson: z.string().optional(),
      reportHtml: z.string().optional(),
    })
    .optional(),
  check: checkStepSchema.optional(),
  actions: z.array(actionResultSchema),
  error: errorDataSchema.optional(),
});
export type StepResult = z.infer<typeof stepResultSchema>;

export const artifactSchema = z.object({
  kind: z.enum(['screenshot', 'filmstrip-frame', 'har', 'report', 'lighthouse', 'log']),
  path: z.string().describe('Relative to the output directory.'),
  step: z.number().int().min(0).optional(),
  contentType: z.string(),
  sizeBytes: z.number().int().min(0),
});
export type Artifact = z.infer<typeof artifactSchema>;

export const resultSchema = z.object({
  schemaVersion: z.literal(resultSchemaVersion),
  runId: z.string(),
  script: z.string().describe('Name of the transaction.'),
  kind: z.string().optional().describe('The script`s kind when it is not a browser transaction (`api`, `http`, `tcp`...).'),
  status: z
    .enum(['passed', 'warning', 'failed', 'error'])
    .describe('`warning`: every step passed but a warning condition was breached; `failed`: the site or an assertion or an error condition failed; `error`: the engine could not complete the run.'),
  startedAt: z.string(),
  durationMs: ms,
  checkpoint: z.object({ name: z.string().optional(), instanceId: z.string().optional(), version: z.string() }).optional(),
  browser: z.object({ name: z.string(), version: z.string() }).optional().describe('The browser that ran the transaction; absent for non-browser kinds.'),
  queueWaitMs: ms.optional().describe('Time spent queued before the run started (not part of durationMs).'),
  leaseWaitMs: ms.optional().describe('Time to obtain a fresh browser context (not part of durationMs).'),
  privacyLock: z.boolean().optional().describe('True when the checkpoint`s privacy lock kept every image capture off.'),
  steps: z.array(stepResultSchema),
  warnings: z
    .array(z.object({ collector: z.string(), message: z.string() }))
    .optional()
    .describe('Measurements that could not be taken; the run itself is unaffected.'),
  artifacts: z.array(artifactSchema),
  conditions: z.array(conditionOutcomeSchema).optional().describe('The transaction`s own error conditions, as judged after its last step.'),
  error: errorDataSchema.optional().describe('Set when the run could not complete for a reason outside any step.'),
});
export type RunResult = z.infer<typeof resultSchema>;
export type RunStatus = RunResult['status'];
