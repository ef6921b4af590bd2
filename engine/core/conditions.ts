import type { Condition, ConditionMetric, ConditionOutcome, MetricCondition, TextCondition } from '../schema/conditions.ts';
import type { StepResult } from '../schema/result.ts';

/** What a pageText condition saw on the page (read in the browser at the end of the step). */
export interface TextObservation {
  text: string;
  present: boolean;
}

const unitOf = (metric: ConditionMetric): string => (metric.endsWith('Ms') ? ' ms' : '');
const formatValue = (metric: ConditionMetric, value: number): string => (metric === 'cls' ? String(Math.round(value * 1000) / 1000) : `${Math.round(value * 10) / 10}${unitOf(metric)}`);

/** The figure a metric condition limits, as measured in one step; undefined when the step did not measure it. */
export function stepMetric(step: Readonly<StepResult>, metric: ConditionMetric): number | undefined {
  switch (metric) {
    case 'durationMs':
      return step.durationMs;
    case 'dnsMs':
    case 'connectMs':
    case 'tlsMs':
    case 'ttfbMs':
      // A browser step's page load, or a check's own phases (API request, TCP connect, TLS handshake...).
      return step.navigation?.[metric] ?? step.check?.phases[metric];
    case 'domContentLoadedMs':
    case 'loadMs':
      return step.navigation?.[metric];
    case 'fcpMs':
    case 'lcpMs':
    case 'cls':
    case 'tbtMs':
    case 'inpMs':
      return step.vitals?.[metric];
    case 'failedRequests':
      return step.requests?.failed;
    case 'consoleErrors':
      return step.consoleErrors;
  }
}

/**
 * The transaction's figure: its duration is the sum of its steps' timed regions (capture excluded), counts
 * are summed, and navigation and vitals figures are the worst step's.
 */
export function transactionMetric(steps: readonly Readonly<StepResult>[], metric: ConditionMetric): number | undefined {
  const values = steps.filter((step) => step.status !== 'skipped').flatMap((step) => {
    const value = stepMetric(step, metric);
    return value === undefined ? [] : [value];
  });
  if (values.length === 0) return undefined;
  const summed = metric === 'durationMs' || metric === 'failedRequests' || metric === 'consoleErrors';
  return summed ? values.reduce((a, b) => a + b, 0) : Math.max(...values);
}

const metricNames: Record<ConditionMetric, string> = {
  durationMs: 'duration',
  dnsMs: 'DNS time',
  connectMs: 'connect time',
  tlsMs: 'TLS handshake time',
  ttfbMs: 'time to first byte',
  domContentLoadedMs: 'DOMContentLoaded',
  loadMs: 'load time',
  fcpMs: 'First Contentful Paint',
  lcpMs: 'Largest Contentful Paint',
  cls: 'Cumulative Layout Shift',
  tbtMs: 'Total Blocking Time',
  inpMs: 'Interaction to Next Paint',
  failedRequests: 'failed requests',
  consoleErrors: 'console errors',
};

/** Judge one metric condition against a measured value (undefined: not measured, never a breach). */
export function judgeMetric(condition: MetricCondition, actual: number | undefined, scope: string): ConditionOutcome {
  const { metric, max, level } = condition;
  const name = metricNames[metric];
  const base = { metric, level, limit: max };
  if (actual === undefined) {
    return { ...base, breached: false, message: `${scope}: ${name} was not measured, so its ${level} limit of ${formatValue(metric, max)} was not checked` };
  }
  const rounded = Math.round(actual * 1000) / 1000;
  if (actual <= max) {
    return { ...base, actual: rounded, breached: false, message: `${scope}: ${name} ${formatValue(metric, actual)} is within its ${level} limit of ${formatValue(metric, max)}` };
  }
  const overBy = Math.round((actual - max) * 1000) / 1000;
  return {
    ...base,
    actual: rounded,
    breached: true,
    overBy,
    message: `${scope}: ${name} ${formatValue(metric, actual)} is over its ${level} limit of ${formatValue(metric, max)} by ${formatValue(metric, overBy)}`,
  };
}

/** Judge a pageText condition against what the page showed. */
export function judgeText(condition: TextCondition, seen: TextObservation | undefined, scope: string): ConditionOutcome {
  const wanted = condition.contains !== undefined;
  const text = condition.contains ?? condition.notContains ?? '';
  const base = { metric: 'pageText' as const, level: condition.level, text };
  // A text check that cannot be made is not a pass: the page did not answer (a monitor that cannot fail is worse
  // than none).
  if (seen === undefined) return { ...base, breached: true, message: `${scope}: the page text could not be read, so ${JSON.stringify(text)} could not be checked` };
  const breached = seen.present !== wanted;
  const verb = wanted ? (breached ? 'is missing from' : 'is on') : breached ? 'is on' : 'is not on';
  return { ...base, breached, message: `${scope}: ${JSON.stringify(text)} ${verb} the page${breached ? ` (${condition.level} condition: it must${wanted ? '' : ' not'} be there)` : ''}` };
}

/** The texts a list of conditions needs read from the page. */
export function textsToRead(conditions: readonly Condition[] | undefined): string[] {
  return (conditions ?? []).flatMap((condition) => (condition.metric === 'pageText' ? [condition.contains ?? condition.notContains ?? ''] : []));
}

/** Judge a step's own conditions and the transaction's pageText conditions (which apply to every step). */
export function judgeStep(step: Readonly<StepResult>, own: readonly Condition[] | undefined, transaction: readonly Condition[] | undefined, texts: readonly TextObservation[] | undefined): ConditionOutcome[] {
  const scope = `step "${step.name}"`;
  const seen = (text: string) => texts?.find((t) => t.text === text);
  const outcomes = (own ?? []).map((condition) =>
    condition.metric === 'pageText' ? judgeText(condition, seen(condition.contains ?? condition.notContains ?? ''), scope) : judgeMetric(condition, stepMetric(step, condition.metric), scope),
  );
  for (const condition of transaction ?? []) {
    if (condition.metric === 'pageText') outcomes.push(judgeText(condition, seen(condition.contains ?? condition.notContains ?? ''), scope));
  }
  return outcomes;
}

/** Judge the transaction's metric conditions on all its steps. */
export function judgeTransaction(steps: readonly Readonly<StepResult>[], conditions: readonly Condition[] | undefined): ConditionOutcome[] {
  return (conditions ?? []).flatMap((condition) => (condition.metric === 'pageText' ? [] : [judgeMetric(condition, transactionMetric(steps, condition.metric), 'transaction')]));
}

/** The worst breach's level, if any. */
export function worstBreach(outcomes: readonly ConditionOutcome[] | undefined): 'warning' | 'error' | undefined {
  const breached = (outcomes ?? []).filter((outcome) => outcome.breached);
  if (breached.some((outcome) => outcome.level === 'error')) return 'error';
  return breached.length > 0 ? 'warning' : undefined;
}

/**
 * A step's status once its conditions are judged: an error breach fails a step whose actions passed (with
 * CONDITION_BREACHED, blame `site`: the application was too slow or wrong); a warning breach makes it
 * `warning`. A step that already failed keeps its own error.
 */
export function applyStepConditions(step: StepResult, outcomes: readonly ConditionOutcome[]): StepResult {
  if (outcomes.length === 0) return step;
  const judged: StepResult = { ...step, conditions: [...outcomes] };
  if (step.status !== 'passed') return judged;
  const worst = worstBreach(outcomes);
  if (worst === 'error') {
    const first = outcomes.find((outcome) => outcome.breached && outcome.level === 'error');
    return { ...judged, status: 'failed', error: { code: 'CONDITION_BREACHED', message: capitalise(first?.message ?? 'an error condition was breached'), blame: 'site' } };
  }
  return worst === 'warning' ? { ...judged, status: 'warning' } : judged;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * The run's status: `error` for an engine fault, `failed` when any step failed or a transaction error
 * condition was breached, `warning` when a step is `warning` or a transaction warning condition was breached.
 */
export function runStatus(steps: readonly Pick<StepResult, 'status'>[], transaction: readonly ConditionOutcome[], engineFault: boolean): 'passed' | 'warning' | 'failed' | 'error' {
  if (engineFault) return 'error';
  const worst = worstBreach(transaction);
  if (steps.some((step) => step.status === 'failed') || worst === 'error') return 'failed';
  if (steps.some((step) => step.status === 'warning') || worst === 'warning') return 'warning';
  return 'passed';
}

/** The breaches of a result, worst first, as sentences (alerts, console). */
export function breachSentences(result: { steps: readonly Pick<StepResult, 'conditions'>[]; conditions?: readonly ConditionOutcome[] | undefined }): string[] {
  const all = [...result.steps.flatMap((step) => step.conditions ?? []), ...(result.conditions ?? [])].filter((outcome) => outcome.breached);
  return [...all.filter((o) => o.level === 'error'), ...all.filter((o) => o.level === 'warning')].map((outcome) => outcome.message);
}
