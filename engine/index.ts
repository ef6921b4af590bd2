/**
 * The engine's public entry: everything recorder/, control-plane/ and cli/ may use. Inside the engine, modules
 * import each other directly; from outside, only through here (test/tools/check-layers.ts enforces it).
 */
// Contracts: the script format, results, the wire protocol, error codes.
export * from './schema/actions.ts';
export * from './schema/checks/api.ts';
export * from './schema/conditions.ts';
export * from './schema/error-codes.ts';
export * from './schema/json-schema.ts';
export * from './schema/protocol.ts';
export * from './schema/result.ts';
export * from './schema/script.ts';
export * from './schema/selector.ts';
// Pure computation.
export * from './core/capacity.ts';
export * from './core/clock.ts';
export * from './core/conditions.ts';
export * from './core/deadline.ts';
export * from './core/egress-policy.ts';
export * from './core/errors.ts';
export * from './core/issue-path.ts';
export * from './core/parse-script.ts';
export * from './core/placeholder-check.ts';
export type { Redactor } from './core/redactor.ts';
export * from './core/script-problems.ts';
export * from './core/selector-syntax.ts';
// Browsers, running transactions, reporting.
export * from './browser/discover.ts';
export * from './browser/launch.ts';
export { buildBrowserTrustHome } from './browser/trust-store.ts';
export * from './browser/lease.ts';
export * from './browser/pool.ts';
export * from './browser/resource-limits.ts';
export * from './collectors/lighthouse-collector.ts';
export * from './runner/run-transaction.ts';
export * from './runner/run-check.ts';
export * from './checks/check-placeholders.ts';
export { vettedLookup } from './checks/vetted-lookup.ts';
export * from './runner/scheduler.ts';
export * from './report/artifact-dir.ts';
export * from './report/console-reporter.ts';
export * from './report/format.ts';
export * from './report/html-report.ts';
export * from './report/html-report-file.ts';
export * from './report/junit.ts';
export * from './report/html/base-styles.ts';
export * from './report/html/template.ts';
// The long-running checkpoint.
export * from './agent/agent-command.ts';
export { parseSecretsText } from './core/secrets-file.ts';
export * from './agent/version.ts';
