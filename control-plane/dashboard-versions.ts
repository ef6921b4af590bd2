/**
 * Version numbers as agents report them (`0.4.1`, `Chromium 156.0.7389.0`, `HeadlessChrome/156.0.7389.0`): the
 * first dotted run of digits, compared part by part. Text without one compares as unknown.
 */
export function versionNumbers(text: string | undefined): number[] | undefined {
  const match = /\d+(?:\.\d+)+|\d+/.exec(text ?? '');
  return match === null ? undefined : match[0].split('.').map(Number);
}

export function compareVersions(a: readonly number[], b: readonly number[]): number {
  for (let index = 0; index < Math.max(a.length, b.length); index++) {
    const difference = (a[index] ?? 0) - (b[index] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

/** The newest of the versions given (as written), or undefined when none has a number. */
export function newestVersion(texts: readonly (string | undefined)[]): string | undefined {
  let newest: { text: string; numbers: number[] } | undefined;
  for (const text of texts) {
    const numbers = versionNumbers(text);
    if (text === undefined || numbers === undefined) continue;
    if (newest === undefined || compareVersions(numbers, newest.numbers) > 0) newest = { text, numbers };
  }
  return newest?.text;
}

/** `version` is older than `newest` (both readable). */
export function isBehind(version: string | undefined, newest: string | undefined): boolean {
  const mine = versionNumbers(version);
  const best = versionNumbers(newest);
  return mine !== undefined && best !== undefined && compareVersions(mine, best) < 0;
}

/** How long a newer browser may have been around before an instance still on an older one is flagged. */
export const staleBrowserAfterMs = 14 * 86_400_000;

/** What the stale-browser check reads of an instance (store.listInstances). */
export interface SeenInstance {
  checkpoint: string;
  id: string;
  browserVersion?: string;
  firstSeen: string;
  startedAt?: string;
}

export interface StaleBrowser {
  /** The newer browser, as an instance reports it. */
  newer: string;
  /** Since when the control plane has seen an instance run it (ISO). */
  seenSince: string;
}

/** The key of an instance in the map `staleBrowsers` returns. */
export function instanceKey(checkpoint: string, id: string): string {
  return `${checkpoint}\u0000${id}`;
}

/**
 * Instances whose browser is older than two weeks, by the only clock the control plane has for browsers: when it
 * first saw an instance run each version. An instance is stale when a newer browser version has been seen on some
 * instance for more than 14 days and it still runs an older one. An instance counts as running its version from
 * the later of its first connection and its agent's start (an instance updated in place keeps its first-seen
 * time, but its agent restarted with the new browser). The newest such version is named.
 */
export function staleBrowsers(instances: readonly SeenInstance[], now: Date): Map<string, StaleBrowser> {
  const seenSince = new Map<string, { text: string; numbers: number[]; sinceMs: number }>();
  for (const instance of instances) {
    const numbers = versionNumbers(instance.browserVersion);
    if (instance.browserVersion === undefined || numbers === undefined) continue;
    const sinceMs = Math.max(Date.parse(instance.firstSeen), instance.startedAt === undefined ? Number.NEGATIVE_INFINITY : Date.parse(instance.startedAt));
    if (!Number.isFinite(sinceMs)) continue;
    const key = numbers.join('.');
    const known = seenSince.get(key);
    if (known === undefined || sinceMs < known.sinceMs) seenSince.set(key, { text: instance.browserVersion, numbers, sinceMs });
  }
  const cutoffMs = now.getTime() - staleBrowserAfterMs;
  const stale = new Map<string, StaleBrowser>();
  for (const instance of instances) {
    const mine = versionNumbers(instance.browserVersion);
    if (mine === undefined) continue;
    let newest: { text: string; numbers: number[]; sinceMs: number } | undefined;
    for (const candidate of seenSince.values()) {
      if (candidate.sinceMs >= cutoffMs || compareVersions(candidate.numbers, mine) <= 0) continue;
      if (newest === undefined || compareVersions(candidate.numbers, newest.numbers) > 0) newest = candidate;
    }
    if (newest !== undefined) stale.set(instanceKey(instance.checkpoint, instance.id), { newer: newest.text, seenSince: new Date(newest.sinceMs).toISOString() });
  }
  return stale;
}
