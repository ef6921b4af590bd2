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
