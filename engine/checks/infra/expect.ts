import type { TextExpectation } from '../../schema/checks/infra-common.ts';
import { preview } from './socket-text.ts';

/** Why `text` does not meet `expectation`, or undefined when it does. */
export function textMismatch(text: string, expectation: TextExpectation): string | undefined {
  if (expectation.equals !== undefined && text.trim() !== expectation.equals.trim()) return `is "${preview(text)}", expected exactly "${expectation.equals}"`;
  if (expectation.contains !== undefined && !text.includes(expectation.contains)) return `"${preview(text)}" does not contain "${expectation.contains}"`;
  if (expectation.matches !== undefined && !new RegExp(expectation.matches).test(text)) return `"${preview(text)}" does not match /${expectation.matches}/`;
  return undefined;
}

/** True once `text` meets the expectation; `equals` is only judged on the whole text (see tcp's reading). */
export function textMeets(text: string, expectation: TextExpectation): boolean {
  return textMismatch(text, expectation) === undefined;
}
