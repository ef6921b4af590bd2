import { randomBytes } from 'node:crypto';
import { describeIssues, parseMonitorScriptText } from '../engine/index.ts';
import { monitorInputSchema } from './api-schemas.ts';
import { checkpointsOf, placementOf } from './monitor-definition.ts';
import { checkedMonitor, monitorReferenceProblems, type MonitorConfig, type Problem } from './monitor-saving.ts';
import type { ControlPlaneStore } from './store.ts';

/** The monitor form's fields as typed (strings, kept as they are so a refused form comes back unchanged). */
export interface MonitorFormValues {
  id: string;
  name: string;
  /** The checkpoints ticked, in the order the form lists them (the monitor's own order first). */
  checkpoints: string[];
  /** How runs spread over several checkpoints; ignored with one. */
  placement: 'all' | 'round-robin';
  intervalSeconds: string;
  enabled: boolean;
  script: string;
  variables: string;
}

export type MonitorField = keyof MonitorFormValues;

/** A problem of the form, with the field it belongs to ('' when none does: shown in the summary only). */
export interface FieldProblem extends Problem {
  field: MonitorField | '';
}

export function formValuesOf(form: URLSearchParams): MonitorFormValues {
  const text = (name: string) => (form.get(name) ?? '').replace(/\r\n/g, '\n');
  return {
    id: text('id').trim(),
    name: text('name'),
    // Checkboxes send `checkpoints` once per ticked box; a client that names one sends `checkpoint`.
    checkpoints: form.has('checkpoints') ? form.getAll('checkpoints') : form.has('checkpoint') ? [text('checkpoint')] : [],
    placement: form.get('placement') === 'round-robin' ? 'round-robin' : 'all',
    intervalSeconds: text('intervalSeconds').trim(),
    enabled: form.get('enabled') === 'true',
    // An uploaded script file wins over the text area (which shows it if the form comes back).
    script: text(form.has('scriptFile') ? 'scriptFile' : 'script'),
    variables: text('variables'),
  };
}

/** What the edit form shows for a stored monitor. */
export function formValuesFromConfig(config: MonitorConfig): MonitorFormValues {
  return {
    id: config.id,
    name: config.name,
    checkpoints: checkpointsOf(config),
    placement: placementOf(config),
    intervalSeconds: String(config.intervalSeconds),
    enabled: config.enabled,
    script: JSON.stringify(config.script, null, 2),
    variables: Object.entries(config.variables ?? {})
      .map(([name, value]) => `${name}=${value}`)
      .join('\n'),
  };
}

/** A small browser script to start from on the "new monitor" form. */
export function newFormValues(checkpoint: string): MonitorFormValues {
  const script = { name: 'Home page', steps: [{ name: 'Open the home page', actions: [{ type: 'navigate', url: '{{baseUrl}}/' }] }] };
  return { id: '', name: '', checkpoints: checkpoint === '' ? [] : [checkpoint], placement: 'all', intervalSeconds: '300', enabled: true, script: JSON.stringify(script, null, 2), variables: 'baseUrl=https://intranet.example' };
}

/** The field a problem path (as the API and `checkpoint validate` print it) belongs to. */
function fieldOf(path: string): MonitorField | '' {
  const head = /^[A-Za-z]+/.exec(path)?.[0] ?? '';
  // `checkpoint` and `checkpoints[i]` are both about the checkpoints ticked.
  if (head === 'checkpoint') return 'checkpoints';
  const fields: readonly string[] = ['id', 'name', 'checkpoints', 'placement', 'intervalSeconds', 'enabled', 'script', 'variables'];
  return fields.includes(head) ? (head as MonitorField) : '';
}

/** `NAME=value` lines (blank lines and `#` comments skipped) as variables, or the problems with them. */
export function parseVariables(text: string): { variables: Record<string, string>; problems: Problem[] } {
  const variables: Record<string, string> = {};
  const lineOf = new Map<string, number>();
  const problems: Problem[] = [];
  text.split('\n').forEach((line, index) => {
    const number = index + 1;
    if (line.trim() === '' || line.trimStart().startsWith('#')) return;
    const equals = line.indexOf('=');
    const name = equals < 0 ? '' : line.slice(0, equals).trim();
    if (name === '') {
      problems.push({ path: 'variables', message: `line ${number}: expected NAME=value` });
      return;
    }
    const earlier = lineOf.get(name);
    if (earlier !== undefined) {
      problems.push({ path: `variables.${name}`, message: `line ${number}: "${name}" is already set on line ${earlier}` });
      return;
    }
    lineOf.set(name, number);
    variables[name] = line.slice(equals + 1);
  });
  return { variables, problems };
}

/**
 * Check a submitted monitor form exactly as the API checks a PUT (same schema, same reference checks, same
 * `path: message` texts), collecting every problem rather than the first. `base` is the monitor being edited:
 * the fields the form does not show (alerting, capture, …) are kept from it.
 */
export async function checkMonitorForm(
  store: ControlPlaneStore,
  values: MonitorFormValues,
  options: { id: string | undefined; base: MonitorConfig | undefined },
): Promise<{ ok: true; config: MonitorConfig } | { ok: false; problems: FieldProblem[] }> {
  const problems: Problem[] = [];
  const id = options.id ?? (values.id === '' ? undefined : values.id);
  if (options.base === undefined && id !== undefined && (await store.getMonitor(id)) !== undefined) {
    problems.push({ path: 'id', message: `a monitor with id "${id}" already exists; choose another id or edit that monitor` });
  }
  const script = parseMonitorScriptText(values.script.trim() === '' ? 'null' : values.script);
  const scriptValue: unknown = script.ok ? script.script : undefined;
  // The script's own problems, named as the API names them (its paths start at `script`).
  if (!script.ok) problems.push(...script.problems.map((problem) => ({ path: problem.path === '(root)' ? 'script' : `script.${problem.path}`, message: problem.message })));
  const variables = parseVariables(values.variables);
  problems.push(...variables.problems);
  const interval = /^-?\d+(\.\d+)?$/.test(values.intervalSeconds) ? Number(values.intervalSeconds) : values.intervalSeconds;
  const { alerting, capture, alertOnWarning } = options.base ?? {};
  // The API's own input: one checkpoint as `checkpoint`, several as `checkpoints` (none: an empty list, refused
  // by the schema there). `all` is the default placement: it is written only when the monitor had it written.
  const several = values.checkpoints.length > 1;
  const placement = several && (values.placement === 'round-robin' || options.base?.placement === 'all') ? { placement: values.placement } : {};
  const where = values.checkpoints.length === 1 ? { checkpoint: values.checkpoints[0] } : { checkpoints: values.checkpoints };
  const input: Record<string, unknown> = {
    ...(capture === undefined ? {} : { capture }),
    ...(alertOnWarning === undefined ? {} : { alertOnWarning }),
    ...(alerting === undefined ? {} : { alerting }),
    ...(id === undefined ? {} : { id }),
    name: values.name,
    ...where,
    ...placement,
    intervalSeconds: interval,
    enabled: values.enabled,
    script: scriptValue ?? { name: 'placeholder', steps: [{ name: 'placeholder', actions: [{ type: 'navigate', url: 'https://placeholder.invalid/' }] }] },
    ...(Object.keys(variables.variables).length === 0 ? {} : { variables: variables.variables }),
  };
  const parsed = monitorInputSchema.safeParse(input);
  if (!parsed.success) {
    problems.push(...describeIssues(parsed.error.issues, input).filter((problem) => script.ok || fieldOf(problem.path) !== 'script'));
  } else if (script.ok) {
    problems.push(...(await monitorReferenceProblems(store, parsed.data)).flatMap((group) => group.problems));
  }
  const withFields = problems.map((problem) => ({ ...problem, field: fieldOf(problem.path) }));
  if (!parsed.success || withFields.length > 0) return { ok: false, problems: withFields };
  return { ok: true, config: await checkedMonitor(store, parsed.data, id ?? `m-${randomBytes(6).toString('hex')}`) };
}
