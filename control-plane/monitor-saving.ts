import { checkScriptPlaceholders, type MonitorDefinition } from '../engine/index.ts';
import type { MonitorAlerting, MonitorInput } from './api-schemas.ts';
import { outcomeOf, type Outcome } from './api-query.ts';
import { ApiError } from './http.ts';
import type { AgentControl } from './hub.ts';
import type { Log } from './log.ts';
import { checkpointsOf, definitionFromInput, definitionFromRecord } from './monitor-definition.ts';
import type { SchedulerControl } from './scheduler.ts';
import type { MonitorRecord, ControlPlaneStore } from './store.ts';

/** What a monitor is defined as: what PUT takes and GET gives back, without the control plane's bookkeeping. */
export type MonitorConfig = MonitorDefinition & { alerting?: MonitorAlerting };

export interface Problem {
  path: string;
  message: string;
}

/** What saving a monitor touches; shared by the REST API and the dashboard's forms, so both behave the same. */
export interface MonitorSavingDeps {
  store: ControlPlaneStore;
  hub: AgentControl;
  scheduler: SchedulerControl;
  log: Log;
}

export function monitorConfig(monitor: MonitorRecord): MonitorConfig {
  const definition = definitionFromRecord(monitor);
  return monitor.alerting === undefined ? definition : { ...definition, alerting: monitor.alerting };
}

/**
 * The checks a monitor passes as a whole, beyond its schema, in the order they are reported: the checkpoint and
 * channels it names exist, and every `{{variable}}` its script uses has a value (the message `checkpoint
 * validate` prints). Each group has its API error code.
 */
export async function monitorReferenceProblems(store: ControlPlaneStore, input: MonitorInput): Promise<{ code: string; problems: Problem[] }[]> {
  const groups: { code: string; problems: Problem[] }[] = [];
  const named = input.checkpoints === undefined ? (input.checkpoint === undefined ? [] : [{ path: 'checkpoint', name: input.checkpoint }]) : input.checkpoints.map((name, index) => ({ path: `checkpoints[${index}]`, name }));
  for (const { path, name } of named) {
    if ((await store.getCheckpoint(name)) !== undefined) continue;
    groups.push({ code: 'unknown-checkpoint', problems: [{ path, message: `no checkpoint named "${name}"; create it first (POST /api/v1/checkpoints)` }] });
    break;
  }
  const channels = input.alerting?.channels ?? [];
  let missing = -1;
  for (const [index, channel] of channels.entries()) {
    if ((await store.getChannel(channel)) !== undefined) continue;
    missing = index;
    break;
  }
  if (missing >= 0) {
    groups.push({
      code: 'unknown-channel',
      problems: [{ path: `alerting.channels[${missing}]`, message: `no channel with id "${channels[missing] ?? ''}"; create it first (PUT /api/v1/channels/:id)` }],
    });
  }
  // The monitor's variables are the script's values at run time: a placeholder without one would only fail there.
  const placeholders = checkScriptPlaceholders(input.script, input.variables ?? {}).problems.map((problem) => ({ path: `script.${problem.path}`, message: problem.message }));
  if (placeholders.length > 0) groups.push({ code: 'unknown-variable', problems: placeholders });
  return groups;
}

/** The definition to store under `id`, or an ApiError (400) naming the first problem of `monitorReferenceProblems`. */
export async function checkedMonitor(store: ControlPlaneStore, input: MonitorInput, id: string): Promise<MonitorConfig> {
  const first = (await monitorReferenceProblems(store, input))[0];
  const problem = first?.problems[0];
  if (first !== undefined && problem !== undefined) {
    const options = first.code === 'unknown-variable' ? { path: problem.path, problems: first.problems } : { path: problem.path };
    throw new ApiError(400, first.code, `${problem.path}: ${problem.message}`, options);
  }
  const definition = definitionFromInput(input, id);
  return input.alerting === undefined ? definition : { ...definition, alerting: input.alerting };
}

/** Tell the agents of the checkpoints involved and the scheduler that a monitor was created or changed. */
export async function announceMonitor(deps: MonitorSavingDeps, monitor: MonitorRecord, previous: MonitorRecord | undefined): Promise<void> {
  for (const checkpoint of new Set([...checkpointsOf(monitor), ...(previous === undefined ? [] : checkpointsOf(previous))])) await deps.hub.pushMonitors(checkpoint);
  await deps.scheduler.monitorChanged(monitor.id, previous === undefined ? 'created' : 'updated', previous);
}

/** Create or replace a checked monitor; `who` prefixes the log line (`api`, `dashboard`). */
export async function storeMonitor(
  deps: MonitorSavingDeps,
  next: MonitorConfig,
  nowIso: string,
  who: string,
): Promise<{ monitor: MonitorRecord | undefined; previous: MonitorRecord | undefined; outcome: Outcome; changes: string[] }> {
  const previous = await deps.store.getMonitor(next.id);
  const { outcome, changes } = outcomeOf(previous === undefined ? undefined : monitorConfig(previous), next);
  let monitor = previous;
  if (outcome === 'created') monitor = await deps.store.insertMonitor(next, nowIso);
  else if (outcome === 'changed') monitor = await deps.store.updateMonitor(next, nowIso);
  if (monitor !== undefined && outcome !== 'unchanged') {
    await announceMonitor(deps, monitor, previous);
    deps.log(`${who}: monitor ${next.id} (${monitor.name}) ${outcome}${outcome === 'changed' ? ` (${changes.join(', ')})` : ''}`);
  }
  return { monitor, previous, outcome, changes };
}

/** Delete a monitor and tell its checkpoint's agents and the scheduler. */
export async function removeMonitor(deps: MonitorSavingDeps, monitor: MonitorRecord, who: string): Promise<void> {
  await deps.store.deleteMonitor(monitor.id);
  for (const checkpoint of checkpointsOf(monitor)) await deps.hub.pushMonitors(checkpoint);
  await deps.scheduler.monitorChanged(monitor.id, 'deleted', monitor);
  deps.log(`${who}: monitor ${monitor.id} (${monitor.name}) deleted`);
}
