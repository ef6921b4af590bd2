/**
 * The bundled demo intranet: the site example transaction scripts and integration tests run against.
 *
 * {@link startDemoSite} starts two loopback HTTP servers in this process: the intranet itself and a second
 * "partner" server on another port, whose widget the `/frames` page embeds as a genuinely cross-origin iframe.
 * All state (sessions, request numbers, pending delays) belongs to one instance, so several sites can run side by
 * side in one process without seeing each other.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  countOrders,
  findOrder,
  findOrders,
  parseReportPeriod,
  parseStatusFilter,
  reportTotalDollars,
  totalRevenueCents,
} from './data.ts';
import {
  BodyTooLargeError,
  MAX_BODY_BYTES,
  multipartBoundary,
  MultipartError,
  parseMultipart,
  readBody,
  RequestAbortedError,
  type MultipartForm,
} from './multipart.ts';
import {
  renderConsoleErrorsPage,
  renderFrameInnerPage,
  renderLayoutShiftPage,
  renderPlaygroundPage,
  renderReportsAppPage,
  renderWidgetPage,
} from './client-pages.ts';
import {
  renderBasicAuthOkPage,
  renderBasicAuthRequiredPage,
  renderDashboardPage,
  renderErrorPage,
  renderFormPage,
  renderFormSummaryPage,
  renderFramesPage,
  renderLoginPage,
  renderNotFoundPage,
  renderOrderNotFoundPage,
  renderOrderPage,
  renderOrdersPage,
  renderPopupPage,
  renderSlowPage,
} from './pages.ts';
import { handleJsonApi } from './json-api.ts';
import {
  loginRedirectLocation,
  parseDelayMs,
  redirect,
  safeNextPath,
  sendHtml,
  sendJson,
} from './respond.ts';
import {
  BASIC_AUTH_REALM,
  checkBasicAuth,
  checkDemoCredentials,
  clearedSessionCookieHeader,
  createSessionStore,
  parseCookies,
  SESSION_COOKIE_NAME,
  sessionCookieHeader,
  type Session,
  type SessionStore,
} from './session.ts';

/** Options for {@link startDemoSite}. */
export interface DemoSiteOptions {
  /** Port of the intranet server; 0 (the default) picks a free one. */
  port?: number;
  /** Interface to listen on; default `127.0.0.1`. */
  host?: string;
  /** Port of the cross-origin partner server; 0 (the default) picks a free one. */
  crossOriginPort?: number;
}

/** A running demo site. */
export interface DemoSite {
  /** Origin of the intranet, e.g. `http://127.0.0.1:41234` (no trailing slash). */
  url: string;
  /** Origin of the partner server on another port, serving `/widget`. */
  crossOriginUrl: string;
  /** Stops both servers, dropping open (including keep-alive and still-delayed) connections. Idempotent. */
  close(): Promise<void>;
}

/** Sign-in forms are tiny; a small cap keeps an unauthenticated endpoint cheap. */
const LOGIN_BODY_LIMIT_BYTES = 64 * 1024;

/** Base for parsing request targets; only path and query are ever used. */
const URL_BASE = 'http://demo-site.invalid';

interface SiteState {
  readonly sessions: SessionStore;
  /** Origin of the partner server, used when a request's Host header cannot be trusted. */
  crossOriginUrl: string;
  crossOriginPort: number;
  /** Next number for `REQ-xxxx` ids; per instance so tests see predictable ids. */
  nextRequestNumber: number;
  /** Cancels for in-flight `delayMs` waits, so close() does not wait out a 30 s delay. */
  readonly pendingWaits: Set<() => void>;
  /** Access tokens of the OAuth2 client-credentials endpoint (json-api.ts). */
  readonly clientTokens: Set<string>;
}

interface RequestContext {
  readonly state: SiteState;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  readonly method: string;
}

type Route =
  | { readonly methods: readonly string[]; readonly auth: false; handle(ctx: RequestContext): void | Promise<void> }
  | {
      readonly methods: readonly string[];
      readonly auth: true;
      handle(ctx: RequestContext, session: Session): void | Promise<void>;
    };

class UnsupportedMediaTypeError extends Error {}

const READ = ['GET', 'HEAD'] as const;
const READ_WRITE = ['GET', 'HEAD', 'POST'] as const;

/**
 * Starts the demo intranet and its cross-origin partner server.
 *
 * @example
 * const site = await startDemoSite();
 * // … run a transaction against `${site.url}/login` …
 * await site.close();
 */
export async function startDemoSite(options: DemoSiteOptions = {}): Promise<DemoSite> {
  const host = options.host ?? '127.0.0.1';
  const state: SiteState = {
    sessions: createSessionStore(),
    crossOriginUrl: '',
    crossOriginPort: 0,
    nextRequestNumber: 1001,
    pendingWaits: new Set(),
    clientTokens: new Set(),
  };

  const mainServer = createServer((req, res) => dispatch(req, res, (ctx) => handleMainRequest(ctx), state));
  const crossServer = createServer((req, res) => dispatch(req, res, (ctx) => handleCrossOriginRequest(ctx), state));

  const crossAddress = await listen(crossServer, options.crossOriginPort ?? 0, host);
  let mainAddress: AddressInfo;
  try {
    mainAddress = await listen(mainServer, options.port ?? 0, host);
  } catch (error) {
    await closeServer(crossServer);
    throw error;
  }
  state.crossOriginPort = crossAddress.port;
  state.crossOriginUrl = originOf(crossAddress);

  let closing: Promise<void> | undefined;
  return {
    url: originOf(mainAddress),
    crossOriginUrl: state.crossOriginUrl,
    close() {
      closing ??= (async () => {
        for (const cancel of [...state.pendingWaits]) cancel();
        await Promise.all([closeServer(mainServer), closeServer(crossServer)]);
      })();
      return closing;
    },
  };
}

function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      const address = server.address();
      if (address === null || typeof address === 'string') {
        reject(new Error('Demo site server has no TCP address'));
        return;
      }
      resolve(address);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close((error) => (error === undefined ? resolve() : reject(error)));
    // close() only stops accepting; keep-alive and slow connections would otherwise hold it open.
    server.closeAllConnections();
  });
}

function originOf(address: AddressInfo): string {
  // A wildcard address is not something a browser can connect to; loopback is what a local user means.
  let hostname = address.address;
  if (hostname === '0.0.0.0') hostname = '127.0.0.1';
  if (hostname === '::') hostname = '::1';
  return `http://${hostname.includes(':') ? `[${hostname}]` : hostname}:${address.port}`;
}

/** Runs a handler with uniform error handling; never lets a rejection escape into the server. */
function dispatch(
  req: IncomingMessage,
  res: ServerResponse,
  handler: (ctx: RequestContext) => void | Promise<void>,
  state: SiteState,
): void {
  const ctx: RequestContext = {
    state,
    req,
    res,
    url: new URL(req.url ?? '/', URL_BASE),
    method: (req.method ?? 'GET').toUpperCase(),
  };
  // The async wrapper turns synchronous throws into rejections, so both paths end in handleError.
  (async () => handler(ctx))().catch((error: unknown) => handleError(ctx, error));
}

function handleError(ctx: RequestContext, error: unknown): void {
  const { res } = ctx;
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  if (error instanceof BodyTooLargeError) {
    // The rest of the body is never read, so the connection cannot be reused.
    sendHtml(res, 413, renderErrorPage('Request too large', `The limit is ${error.limitBytes} bytes.`), {
      Connection: 'close',
    });
    return;
  }
  if (error instanceof MultipartError) {
    sendHtml(res, 400, renderErrorPage('Bad request', error.message));
    return;
  }
  if (error instanceof UnsupportedMediaTypeError) {
    sendHtml(res, 415, renderErrorPage('Unsupported media type', error.message));
    return;
  }
  if (error instanceof RequestAbortedError) {
    res.destroy();
    return;
  }
  process.stderr.write(`demo-site: ${ctx.method} ${ctx.url.pathname} failed: ${String(error)}\n`);
  sendHtml(res, 500, renderErrorPage('Internal error', 'The demo site failed to handle this request.'));
}

/** Waits `delayMs`, resolving `false` early if the client goes away or the site closes. */
function waitMs(ctx: RequestContext, delayMs: number): Promise<boolean> {
  const { res, state } = ctx;
  if (delayMs <= 0) return Promise.resolve(!res.destroyed);
  return new Promise((resolve) => {
    const finish = (completed: boolean): void => {
      clearTimeout(timer);
      state.pendingWaits.delete(cancel);
      res.off('close', cancel);
      resolve(completed);
    };
    const cancel = (): void => finish(false);
    const timer = setTimeout(() => finish(true), delayMs);
    state.pendingWaits.add(cancel);
    res.once('close', cancel);
  });
}

async function handleMainRequest(ctx: RequestContext): Promise<void> {
  const path = ctx.url.pathname;
  if ((path.startsWith('/api/v1/') || path === '/oauth/token') && (await handleJsonApi(ctx.state, ctx.req, ctx.res, ctx.url, ctx.method))) return;
  const route = findRoute(path);
  if (route === undefined) {
    sendHtml(ctx.res, 404, renderNotFoundPage());
    return;
  }
  if (!route.methods.includes(ctx.method)) {
    sendHtml(ctx.res, 405, renderErrorPage('Method not allowed', `${ctx.method} is not supported here.`), {
      Allow: route.methods.join(', '),
    });
    return;
  }
  if (!route.auth) {
    await route.handle(ctx);
    return;
  }
  const session = currentSession(ctx);
  if (session === undefined) {
    if (path.startsWith('/api/')) {
      // An API caller (fetch) cannot use a sign-in page; tell it plainly instead of redirecting to HTML.
      sendJson(ctx.res, 401, { error: 'Not signed in' });
    } else {
      redirect(ctx.res, 302, loginRedirectLocation(`${path}${ctx.url.search}`));
    }
    return;
  }
  await route.handle(ctx, session);
}

function currentSession(ctx: RequestContext): Session | undefined {
  return ctx.state.sessions.get(parseCookies(ctx.req.headers.cookie).get(SESSION_COOKIE_NAME));
}

const ROUTES: ReadonlyMap<string, Route> = new Map<string, Route>([
  ['/', { methods: READ, auth: false, handle: handleRoot }],
  ['/favicon.ico', { methods: READ, auth: false, handle: handleNoContent }],
  ['/login', { methods: READ_WRITE, auth: false, handle: handleLogin }],
  ['/logout', { methods: READ_WRITE, auth: false, handle: handleLogout }],
  ['/slow', { methods: READ, auth: false, handle: handleSlow }],
  ['/basic-auth', { methods: READ, auth: false, handle: handleBasicAuth }],
  ['/layout-shift', { methods: READ, auth: false, handle: (ctx) => sendHtml(ctx.res, 200, renderLayoutShiftPage()) }],
  ['/console-errors', { methods: READ, auth: false, handle: (ctx) => sendHtml(ctx.res, 200, renderConsoleErrorsPage()) }],
  ['/public/echo-headers', { methods: READ_WRITE, auth: false, handle: (ctx) => sendJson(ctx.res, 200, ctx.req.headers) }],
  ['/dashboard', { methods: READ, auth: true, handle: handleDashboard }],
  ['/orders', { methods: READ, auth: true, handle: handleOrders }],
  ['/form', { methods: READ_WRITE, auth: true, handle: handleForm }],
  ['/frames', { methods: READ, auth: true, handle: handleFrames }],
  ['/frame-inner', { methods: READ, auth: true, handle: (ctx) => sendHtml(ctx.res, 200, renderFrameInnerPage()) }],
  ['/popup-target', { methods: READ, auth: true, handle: (ctx) => sendHtml(ctx.res, 200, renderPopupPage()) }],
  [
    '/playground',
    { methods: READ, auth: true, handle: (ctx, session) => sendHtml(ctx.res, 200, renderPlaygroundPage(session.username)) },
  ],
  ['/api/report', { methods: READ, auth: true, handle: handleReportApi }],
  ['/api/slow-data', { methods: READ, auth: true, handle: handleSlowDataApi }],
]);

const APP_ROUTE: Route = {
  methods: READ,
  auth: true,
  handle: (ctx, session) => sendHtml(ctx.res, 200, renderReportsAppPage(session.username)),
};
const ORDER_DETAIL_ROUTE: Route = { methods: READ, auth: true, handle: handleOrderDetail };

function findRoute(path: string): Route | undefined {
  const exact = ROUTES.get(path);
  if (exact !== undefined) return exact;
  if (path === '/app' || path.startsWith('/app/')) return APP_ROUTE;
  if (/^\/orders\/[^/]+$/.test(path)) return ORDER_DETAIL_ROUTE;
  return undefined;
}

function handleRoot(ctx: RequestContext): void {
  redirect(ctx.res, 302, currentSession(ctx) === undefined ? '/login' : '/dashboard');
}

function handleNoContent(ctx: RequestContext): void {
  ctx.res.writeHead(204, { 'Cache-Control': 'no-store' });
  ctx.res.end();
}

async function handleLogin(ctx: RequestContext): Promise<void> {
  if (ctx.method !== 'POST') {
    sendHtml(ctx.res, 200, renderLoginPage({ next: safeNextPath(ctx.url.searchParams.get('next')) }));
    return;
  }
  const form = await readForm(ctx.req, LOGIN_BODY_LIMIT_BYTES);
  const username = firstField(form, 'username');
  const password = firstField(form, 'password');
  // The form carries `next` as a hidden field; a query parameter works too for hand-written scripts.
  const next = safeNextPath(firstField(form, 'next') || ctx.url.searchParams.get('next'));
  if (!checkDemoCredentials(username, password)) {
    sendHtml(ctx.res, 200, renderLoginPage({ next, username, failed: true }));
    return;
  }
  // A fresh id on every sign-in, so a session id planted before sign-in is worthless afterwards.
  ctx.state.sessions.destroy(parseCookies(ctx.req.headers.cookie).get(SESSION_COOKIE_NAME));
  const session = ctx.state.sessions.create(username);
  redirect(ctx.res, 303, next ?? '/dashboard', { 'Set-Cookie': sessionCookieHeader(session.id) });
}

function handleLogout(ctx: RequestContext): void {
  ctx.state.sessions.destroy(parseCookies(ctx.req.headers.cookie).get(SESSION_COOKIE_NAME));
  redirect(ctx.res, 303, '/login', { 'Set-Cookie': clearedSessionCookieHeader() });
}

async function handleSlow(ctx: RequestContext): Promise<void> {
  const delayMs = parseDelayMs(ctx.url.searchParams.get('delayMs'));
  // Headers are sent only after the delay, so the wait shows up as time to first byte.
  if (!(await waitMs(ctx, delayMs))) return;
  sendHtml(ctx.res, 200, renderSlowPage(delayMs));
}

function handleBasicAuth(ctx: RequestContext): void {
  if (!checkBasicAuth(ctx.req.headers.authorization)) {
    sendHtml(ctx.res, 401, renderBasicAuthRequiredPage(), {
      'WWW-Authenticate': `Basic realm="${BASIC_AUTH_REALM}"`,
    });
    return;
  }
  sendHtml(ctx.res, 200, renderBasicAuthOkPage());
}

function handleDashboard(ctx: RequestContext, session: Session): void {
  sendHtml(
    ctx.res,
    200,
    renderDashboardPage(session.username, {
      openOrders: countOrders('open'),
      shippedOrders: countOrders('shipped'),
      revenueCents: totalRevenueCents(),
    }),
  );
}

function handleOrders(ctx: RequestContext, session: Session): void {
  const q = ctx.url.searchParams.get('q') ?? '';
  const status = parseStatusFilter(ctx.url.searchParams.get('status'));
  sendHtml(ctx.res, 200, renderOrdersPage({ userName: session.username, q, status, orders: findOrders({ q, status }) }));
}

function handleOrderDetail(ctx: RequestContext, session: Session): void {
  const rawId = ctx.url.pathname.slice('/orders/'.length);
  let id: string;
  try {
    id = decodeURIComponent(rawId);
  } catch {
    id = rawId;
  }
  const order = findOrder(id);
  if (order === undefined) {
    sendHtml(ctx.res, 404, renderOrderNotFoundPage(session.username, id));
    return;
  }
  sendHtml(ctx.res, 200, renderOrderPage(session.username, order));
}

async function handleForm(ctx: RequestContext, session: Session): Promise<void> {
  if (ctx.method !== 'POST') {
    sendHtml(ctx.res, 200, renderFormPage(session.username));
    return;
  }
  const form = await readForm(ctx.req, MAX_BODY_BYTES);
  const title = firstField(form, 'title').trim();
  if (title === '') {
    sendHtml(ctx.res, 400, renderFormPage(session.username, 'Title is required'));
    return;
  }
  // A file input with nothing chosen still sends a part with an empty file name and no content.
  const file = form.files.find((f) => f.fieldName === 'attachment' && (f.fileName !== '' || f.data.length > 0));
  const requestId = `REQ-${ctx.state.nextRequestNumber++}`;
  sendHtml(
    ctx.res,
    200,
    renderFormSummaryPage(session.username, {
      requestId,
      title,
      department: firstField(form, 'department'),
      urgent: firstField(form, 'urgent') === 'yes',
      priority: firstField(form, 'priority'),
      due: firstField(form, 'due'),
      attachment: file === undefined ? undefined : { fileName: file.fileName, sizeBytes: file.data.length },
      notes: firstField(form, 'notes'),
    }),
  );
}

function handleFrames(ctx: RequestContext, session: Session): void {
  sendHtml(ctx.res, 200, renderFramesPage(session.username, crossOriginUrlFor(ctx)));
}

/**
 * The partner origin as seen by this client: same host name the browser used (so a site reached as
 * `localhost` or through a container name embeds a reachable widget), partner port. Falls back to the
 * listening address when the Host header is missing or odd.
 */
function crossOriginUrlFor(ctx: RequestContext): string {
  const hostHeader = ctx.req.headers.host;
  if (hostHeader === undefined || !/^[A-Za-z0-9.\-[\]:]+$/.test(hostHeader)) return ctx.state.crossOriginUrl;
  try {
    const hostname = new URL(`http://${hostHeader}`).hostname;
    return `http://${hostname}:${ctx.state.crossOriginPort}`;
  } catch {
    return ctx.state.crossOriginUrl;
  }
}

function handleReportApi(ctx: RequestContext): void {
  const period = parseReportPeriod(ctx.url.searchParams.get('period'));
  if (period === undefined) {
    sendJson(ctx.res, 400, { error: 'period must be "weekly" or "monthly"' });
    return;
  }
  sendJson(ctx.res, 200, { period, total: reportTotalDollars(period), generatedAt: new Date().toISOString() });
}

async function handleSlowDataApi(ctx: RequestContext): Promise<void> {
  const delayMs = parseDelayMs(ctx.url.searchParams.get('delayMs'));
  if (!(await waitMs(ctx, delayMs))) return;
  sendJson(ctx.res, 200, { delayMs, message: `Loaded after ${delayMs} ms`, servedAt: new Date().toISOString() });
}

function handleCrossOriginRequest(ctx: RequestContext): void {
  const path = ctx.url.pathname;
  if (path === '/favicon.ico') {
    handleNoContent(ctx);
    return;
  }
  if (path !== '/widget') {
    sendHtml(ctx.res, 404, renderNotFoundPage());
    return;
  }
  if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
    sendHtml(ctx.res, 405, renderErrorPage('Method not allowed', `${ctx.method} is not supported here.`), {
      Allow: 'GET, HEAD',
    });
    return;
  }
  sendHtml(ctx.res, 200, renderWidgetPage());
}

/** Reads an urlencoded or multipart form body. */
async function readForm(req: IncomingMessage, limitBytes: number): Promise<MultipartForm> {
  const contentType = req.headers['content-type'] ?? '';
  const boundary = multipartBoundary(contentType);
  if (boundary !== undefined) return parseMultipart(await readBody(req, limitBytes), boundary);
  if (/^application\/x-www-form-urlencoded\s*(;|$)/i.test(contentType)) {
    const fields = new Map<string, string[]>();
    for (const [name, value] of new URLSearchParams((await readBody(req, limitBytes)).toString('utf8'))) {
      const values = fields.get(name);
      if (values === undefined) fields.set(name, [value]);
      else values.push(value);
    }
    return { fields, files: [] };
  }
  throw new UnsupportedMediaTypeError('Send the form as multipart/form-data or application/x-www-form-urlencoded.');
}

function firstField(form: MultipartForm, name: string): string {
  return form.fields.get(name)?.[0] ?? '';
}
