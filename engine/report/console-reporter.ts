import type { Redactor } from '../core/redactor.ts';
import type { RunListener } from '../runner/run-transaction.ts';
import type { RunResult, StepResult } from '../schema/result.ts';
import { formatDurationMs, formatTable } from './format.ts';

export interface ConsoleReporterOptions {
  write: (text: string) => void;
  color: boolean;
}

const symbols = { passed: '✔', warning: '!', failed: '✘', skipped: '–' } as const;
const colors = { passed: 32, warning: 33, failed: 31, skipped: 90 } as const;

function paint(on: boolean, code: number, text: string): string {
  return on ? `\u001b[${code}m${text}\u001b[0m` : text;
}

/** Live per-step progress (for stderr) and a summary table at the end. */
export class ConsoleReporter implements RunListener {
  #options: ConsoleReporterOptions;
  #redactor: Redactor | undefined;
  #stepCount = 0;

  constructor(options: ConsoleReporterOptions) {
    this.#options = options;
  }

  /** Set once secrets are known; everything printed afterwards is masked. */
  useRedactor(redactor: Redactor): void {
    this.#redactor = redactor;
  }

  #print(text: string): void {
    this.#options.write(`${this.#redactor === undefined ? text : this.#redactor.redact(text)}\n`);
  }

  onRunStart(info: { runId: string; script: string; stepCount: number }): void {
    this.#stepCount = info.stepCount;
    this.#print(`▶ ${info.script} (${info.stepCount} step${info.stepCount === 1 ? '' : 's'})`);
  }

  onStepStart(info: { index: number; name: string }): void {
    if (process.env['CHECKPOINT_VERBOSE'] !== undefined) this.#print(`  … ${info.index + 1}/${this.#stepCount} ${info.name}`);
  }

  onStepEnd(info: { index: number; result: StepResult }): void {
    const { result } = info;
    const color = colors[result.status];
    const line = `  ${paint(this.#options.color, color, symbols[result.status])} ${info.index + 1}/${this.#stepCount} ${result.name}  ${formatDurationMs(result.durationMs)}`;
    this.#print(line);
    if (result.error !== undefined) this.#print(`    ${paint(this.#options.color, 31, result.error.message)}`);
    for (const outcome of result.conditions ?? []) {
      if (outcome.breached && result.error?.message.toLowerCase() !== outcome.message.toLowerCase()) {
        this.#print(`    ${paint(this.#options.color, outcome.level === 'error' ? 31 : 33, `${outcome.level}: ${outcome.message}`)}`);
      }
    }
  }

  /** The closing summary: one row per step, then the verdict. */
  summary(result: RunResult): void {
    const rows: string[][] = [['#', 'step', 'status', 'duration', 'ttfb', 'load', 'requests']];
    result.steps.forEach((step, index) => {
      rows.push([
        String(index + 1),
        step.name,
        step.status,
        step.status === 'skipped' ? '' : formatDurationMs(step.durationMs),
        step.navigation === undefined ? (step.check?.phases['ttfbMs'] === undefined ? '' : formatDurationMs(step.check.phases['ttfbMs'])) : formatDurationMs(step.navigation.ttfbMs),
        step.navigation === undefined ? '' : formatDurationMs(step.navigation.loadMs),
        step.requests === undefined ? '' : String(step.requests.count),
      ]);
    });
    this.#print('');
    this.#print(formatTable(rows));
    const verdictColor = result.status === 'passed' ? 32 : result.status === 'warning' ? 33 : 31;
    const verdict = paint(this.#options.color, verdictColor, result.status === 'warning' ? 'PASSED WITH WARNINGS' : result.status.toUpperCase());
    this.#print(`\n${verdict} ${result.script} in ${formatDurationMs(result.durationMs)}`);
    for (const outcome of result.conditions ?? []) {
      if (outcome.breached) this.#print(`  ${paint(this.#options.color, outcome.level === 'error' ? 31 : 33, `${outcome.level}: ${outcome.message}`)}`);
    }
    if (result.error !== undefined) this.#print(`  ${result.error.code}: ${result.error.message}`);
  }
}
