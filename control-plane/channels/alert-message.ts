import type { Severity } from '../api-schemas.ts';
import type { AlertKind } from '../store.ts';

/** One alert as every channel formats it: what happened, where, how bad, and links to look at it. */
export interface AlertMessage {
  id: number;
  kind: AlertKind;
  severity: Severity;
  /** `firing` opens or repeats an incident; `resolved` closes it (recovery, disable, delete, checkpoint up). */
  status: 'firing' | 'resolved';
  /** One short line naming the checkpoint the monitor was seen from: "Login failed on intranet-eu". */
  title: string;
  /** The control plane's one-line explanation. */
  message: string;
  createdAt: string;
  checkpoint?: string;
  monitor?: { id: string; name: string; url?: string };
  run?: { id: string; url?: string; attempt?: number; instance?: string };
  /** The step that failed (first one), 0-based index. */
  step?: { index: number; name: string };
  error?: { code: string; blame: string; message: string };
  /** Groups the alerts of one incident: a monitor's on one checkpoint, or a checkpoint's (PagerDuty dedup_key); alerts.ts `incidentKey`. */
  incidentKey: string;
  /** The control plane's public base URL, when known. */
  baseUrl?: string;
}

export const resolvingKinds: ReadonlySet<AlertKind> = new Set(['monitor-recovered', 'monitor-resolved', 'checkpoint-up']);

/** "Login failed on intranet-eu", "Checkpoint intranet-eu is down", … */
export function alertTitle(kind: AlertKind, subject: { monitor?: string; checkpoint?: string }): string {
  const monitor = subject.monitor ?? 'monitor';
  const on = subject.checkpoint === undefined ? '' : ` on ${subject.checkpoint}`;
  switch (kind) {
    case 'monitor-failed':
      return `${monitor} failed${on}`;
    case 'monitor-warning':
      return `${monitor} passed with warnings${on}`;
    case 'monitor-reminder':
      return `${monitor} is still failing${on}`;
    case 'monitor-recovered':
      return `${monitor} recovered${on}`;
    case 'monitor-resolved':
      return `${monitor}${on}: alert resolved`;
    case 'checkpoint-down':
      return `Checkpoint ${subject.checkpoint ?? ''} is down`;
    case 'checkpoint-up':
      return `Checkpoint ${subject.checkpoint ?? ''} is back up`;
  }
}

/** The facts every format lists, in order, without empty ones. */
export function alertFacts(message: AlertMessage): { label: string; value: string; url?: string }[] {
  const facts: { label: string; value: string; url?: string }[] = [{ label: 'Severity', value: message.severity }];
  if (message.monitor !== undefined) facts.push({ label: 'Monitor', value: message.monitor.name, ...(message.monitor.url === undefined ? {} : { url: message.monitor.url }) });
  if (message.checkpoint !== undefined) facts.push({ label: 'Checkpoint', value: message.checkpoint });
  if (message.run?.instance !== undefined) facts.push({ label: 'Instance', value: message.run.instance });
  if (message.step !== undefined) facts.push({ label: 'Failed step', value: `${message.step.index + 1}. ${message.step.name}` });
  if (message.error !== undefined) facts.push({ label: 'Error', value: `${message.error.code} (${message.error.blame}): ${message.error.message}` });
  return facts;
}
