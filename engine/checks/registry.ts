import type { CheckDefinition } from './check-types.ts';
import { infraChecks } from './infra-registry.ts';

/**
 * Every non-browser check the runner can run, by kind: the infrastructure checks of engine/checks/infra-registry.ts
 * (whatever it lists). `api` and `http` are not here: their steps carry more than a CheckOutcome (assertions,
 * extracted variables), so engine/runner/run-check.ts runs them with engine/checks/api/run-request.ts.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each definition checks its own spec type
const byKind = new Map<string, CheckDefinition<any>>(infraChecks.map((definition) => [definition.kind, definition]));

/** The definition of an infrastructure kind, or undefined when no module provides it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the spec was validated by the kind's own schema
export function infraCheckOf(kind: string): CheckDefinition<any> | undefined {
  return byKind.get(kind);
}

/** The infrastructure kinds with a module to run them. */
export function infraCheckKinds(): string[] {
  return [...byKind.keys()];
}
