/** HAR 1.2 types, with the Chrome-specific `_` fields DevTools writes. */

export interface HarNameValue {
  name: string;
  value: string;
}

export interface HarCookie {
  name: string;
  value: string;
  path?: string;
  domain?: string;
  expires?: string;
  httpOnly?: boolean;
  secure?: boolean;
  sameSite?: string;
}

export interface HarPostData {
  mimeType: string;
  text: string;
  params?: HarNameValue[];
  comment?: string;
}

export interface HarRequest {
  method: string;
  url: string;
  httpVersion: string;
  cookies: HarCookie[];
  headers: HarNameValue[];
  queryString: HarNameValue[];
  postData?: HarPostData;
  headersSize: number;
  bodySize: number;
}

export interface HarResponse {
  status: number;
  statusText: string;
  httpVersion: string;
  cookies: HarCookie[];
  headers: HarNameValue[];
  content: { size: number; mimeType: string };
  redirectURL: string;
  headersSize: number;
  bodySize: number;
  /** Bytes on the wire for this hop (headers + body). */
  _transferSize: number;
  _error?: string;
}

export interface HarTimings {
  blocked: number;
  dns: number;
  connect: number;
  ssl: number;
  send: number;
  wait: number;
  receive: number;
  /** Queueing inside the browser before the request started (part of `blocked`). */
  _blocked_queueing?: number;
}

export interface HarEntry {
  pageref?: string;
  startedDateTime: string;
  time: number;
  request: HarRequest;
  response: HarResponse;
  cache: Record<string, never>;
  timings: HarTimings;
  serverIPAddress?: string;
  connection?: string;
  _resourceType: string;
  _fromCache?: 'memory' | 'disk';
  _failureText?: string;
  _blockedReason?: string;
  _canceled?: boolean;
  /** Index of the step the request started in. */
  _step?: number;
  /** Started after one step's measurement and before the next step (a late beacon): not in any step's counts. */
  _betweenSteps?: boolean;
  /** Still in flight when the HAR was written: the end is the last event seen. */
  _incomplete?: boolean;
}

export interface HarPage {
  startedDateTime: string;
  id: string;
  title: string;
  pageTimings: { onContentLoad: number; onLoad: number; comment?: string };
  _step: number;
}

export interface HarLog {
  version: '1.2';
  creator: { name: string; version: string };
  browser?: { name: string; version: string };
  pages: HarPage[];
  entries: HarEntry[];
  comment?: string;
}

export interface Har {
  log: HarLog;
}
