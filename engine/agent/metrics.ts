/** Prometheus text exposition (format 0.0.4), written by hand: a dozen series do not need a client library. */

export type Labels = Readonly<Record<string, string>>;

export interface Sample {
  labels?: Labels;
  value: number;
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function formatLabels(labels: Labels | undefined): string {
  const entries = Object.entries(labels ?? {});
  return entries.length === 0 ? '' : `{${entries.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}`;
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

/** Builds one exposition: HELP, TYPE, then the samples of each metric. */
export class Exposition {
  readonly #lines: string[] = [];

  add(name: string, type: 'counter' | 'gauge', help: string, samples: readonly Sample[]): this {
    this.#lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const sample of samples) this.#lines.push(`${name}${formatLabels(sample.labels)} ${formatValue(sample.value)}`);
    return this;
  }

  histogram(name: string, help: string, histogram: Histogram): this {
    this.#lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} histogram`);
    for (const [bound, count] of histogram.cumulative()) this.#lines.push(`${name}_bucket{le="${formatValue(bound)}"} ${count}`);
    this.#lines.push(`${name}_sum ${formatValue(histogram.sum)}`, `${name}_count ${histogram.count}`);
    return this;
  }

  toString(): string {
    return `${this.#lines.join('\n')}\n`;
  }
}

/** A cumulative histogram with fixed upper bounds (seconds for latencies). */
export class Histogram {
  readonly #bounds: readonly number[];
  readonly #counts: number[];
  sum = 0;
  count = 0;

  constructor(bounds: readonly number[]) {
    this.#bounds = [...bounds].sort((a, b) => a - b);
    this.#counts = this.#bounds.map(() => 0);
  }

  observe(value: number): void {
    this.sum += value;
    this.count++;
    const index = this.#bounds.findIndex((bound) => value <= bound);
    if (index >= 0) this.#counts[index] = (this.#counts[index] ?? 0) + 1;
  }

  /** [upper bound, observations ≤ bound], ending with +Inf. */
  cumulative(): [number, number][] {
    let running = 0;
    const out: [number, number][] = this.#bounds.map((bound, index) => {
      running += this.#counts[index] ?? 0;
      return [bound, running];
    });
    out.push([Number.POSITIVE_INFINITY, this.count]);
    return out;
  }
}
