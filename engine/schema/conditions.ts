import { z } from 'zod';

/**
 * Error conditions (Uptrends' term): limits judged on the real measurements after a step has run, so a slow
 * step is still measured to the end and the next steps still run. A breached `error` condition fails the
 * transaction (and so alerts after the retry on a second instance); a breached `warning` gives the distinct
 * status `warning`.
 */
export const conditionLevelSchema = z
  .enum(['warning', 'error'])
  .describe('`error`: a breach fails the transaction. `warning`: a breach gives the status `warning`; it alerts only when the monitor asks for it.');
export type ConditionLevel = z.infer<typeof conditionLevelSchema>;

/** Measured figures a condition can limit. Names are those of the result fields they read. */
export const conditionMetrics = [
  'durationMs',
  'dnsMs',
  'connectMs',
  'tlsMs',
  'ttfbMs',
  'domContentLoadedMs',
  'loadMs',
  'fcpMs',
  'lcpMs',
  'cls',
  'tbtMs',
  'inpMs',
  'failedRequests',
  'consoleErrors',
] as const;
export type ConditionMetric = (typeof conditionMetrics)[number];

export const metricConditionSchema = z
  .strictObject({
    metric: z
      .enum(conditionMetrics)
      .describe(
        'What is limited. `durationMs`: the step`s timed region (of a transaction: the sum of its steps). `dnsMs`, `connectMs`, `tlsMs`, `ttfbMs`: phases of the step`s page load, or of a check`s request or connection. `domContentLoadedMs`, `loadMs`: Navigation Timing of the step`s page load. `fcpMs`, `lcpMs`, `cls`, `tbtMs`, `inpMs`: web vitals. `failedRequests`: requests that failed or answered 400 or more. `consoleErrors`: console errors and uncaught exceptions in the page. For a transaction, navigation and vitals figures are the worst step`s, counts are summed.',
      ),
    max: z.number().min(0).describe('The largest value that does not breach the condition (ms for *Ms metrics, a count, or a CLS score).'),
    level: conditionLevelSchema,
  })
  .describe('A limit on a measured figure.');

export const textConditionSchema = z
  .strictObject({
    metric: z.literal('pageText').describe('The visible text of the page at the end of the step (of a transaction: at the end of every step).'),
    contains: z.string().min(1).max(2000).optional().describe('Text that must be on the page.'),
    notContains: z.string().min(1).max(2000).optional().describe('Text that must not be on the page (e.g. "Exception").'),
    level: conditionLevelSchema,
  })
  .refine((condition) => (condition.contains === undefined) !== (condition.notContains === undefined), {
    message: 'expected exactly one of `contains` or `notContains`',
  })
  .describe('Text required on, or forbidden on, the page.');

export const conditionSchema = z.union([metricConditionSchema, textConditionSchema]).describe('An error condition.');
export type Condition = z.infer<typeof conditionSchema>;
export type MetricCondition = z.infer<typeof metricConditionSchema>;
export type TextCondition = z.infer<typeof textConditionSchema>;

export const conditionsSchema = z
  .array(conditionSchema)
  .max(50)
  .describe('Error conditions judged on the measurements after the run; a breach never stops the steps from running.');

/** How a condition came out; every evaluated condition is reported, breached or not. */
export const conditionOutcomeSchema = z.object({
  metric: z.union([z.enum(conditionMetrics), z.literal('pageText')]),
  level: conditionLevelSchema,
  breached: z.boolean(),
  limit: z.number().optional().describe('The `max` of a metric condition.'),
  actual: z.number().optional().describe('The measured value; absent when the step did not measure it.'),
  overBy: z.number().optional().describe('How far over the limit (actual − limit), when breached.'),
  text: z.string().optional().describe('The text of a pageText condition.'),
  message: z.string().describe('One sentence: what was limited, what was measured.'),
});
export type ConditionOutcome = z.infer<typeof conditionOutcomeSchema>;
