import type { Frame } from 'playwright-core';

export interface TextMatcher {
  equals?: string | undefined;
  contains?: string | undefined;
  matches?: string | undefined;
}

export function textMatches(value: string, matcher: TextMatcher): boolean {
  if (matcher.equals !== undefined) return value === matcher.equals;
  if (matcher.contains !== undefined) return value.includes(matcher.contains);
  if (matcher.matches !== undefined) return new RegExp(matcher.matches).test(value);
  return false;
}

export function describeMatcher(matcher: TextMatcher): string {
  if (matcher.equals !== undefined) return `equal ${JSON.stringify(matcher.equals)}`;
  if (matcher.contains !== undefined) return `contain ${JSON.stringify(matcher.contains)}`;
  return `match /${matcher.matches ?? ''}/`;
}

/** The visible text of a frame's document. */
export async function pageText(frame: Frame): Promise<string> {
  return frame.evaluate(() => document.body?.innerText ?? '');
}
