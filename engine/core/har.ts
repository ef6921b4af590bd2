/**
 * HAR 1.2 and the per-step request waterfall, from raw CDP Network events (pure).
 *
 * Phases follow Chrome DevTools' own HAR exporter (`front_end/models/har/Log.ts`, `buildTimings`) so numbers
 * match what a user sees in DevTools: all arithmetic stays on the browser's monotonic clock (CDP `timestamp`,
 * `ResourceTiming.requestTime` + ms ticks), only `startedDateTime` comes from `wallTime`. `connect` includes
 * `ssl`, as HAR requires; phases that did not happen are -1; `time` is the sum of the non-negative phases.
 * One deliberate difference: DevTools' `connect` starts at DNS start (so DNS is counted twice); here it starts
 * at DNS end, so the phases tile the request and `time` = end − issue.
 *
 * Privacy: no response bodies; request bodies only on request and only textual ones; `Authorization`,
 * `Proxy-Authorization`, `Cookie`, `Set-Cookie` values and every cookie value are replaced by the redacted
 * marker; secrets are masked in URLs, query strings, headers and bodies (plain, URL-encoded, base64 — the
 * Redactor's forms — and, for URLs and forms, after decoding), and the finished HAR goes through
 * `redactDeep` once more.
 *
 * The parts live in core/har/, one concern each: types, exchanges (events → request hops), timings, redact-url,
 * headers (and cookies), post-data, entry, log (pages and the whole HAR), step-network (counts and waterfall).
 */
export type { Har, HarCookie, HarEntry, HarLog, HarNameValue, HarPage, HarPostData, HarRequest, HarResponse, HarTimings } from './har/types.ts';
export { exchangesFromEvents, type NetworkExchange } from './har/exchanges.ts';
export { harTimeOf, harTimingsOf, transferSizeOf } from './har/timings.ts';
export { isSensitiveFieldName, redactUrl } from './har/redact-url.ts';
export { credentialHeaderNames } from './har/headers.ts';
export type { RequestBodyMode } from './har/post-data.ts';
export { pageIdOf } from './har/entry.ts';
export { buildHar, type BuildHarOptions, type HarStepInfo } from './har/log.ts';
export { stepNetworkFromEvents, waterfallCap, type RequestCounts, type StepNetwork, type StepNetworkOptions, type WaterfallEntry } from './har/step-network.ts';
