/**
 * The demo intranet's JSON API, for the API monitor examples (scripts/examples/api-*.json, http-*.json):
 *
 * - `GET /api/v1/status`: public health document.
 * - `POST /api/v1/login`: `{ "username", "password" }` (the sign-in form's credentials) → `{ "token" }`.
 * - `GET /api/v1/orders?status=&q=` and `GET /api/v1/orders/:id`: need `Authorization: Bearer <token>` from the login.
 * - `POST /oauth/token`: OAuth2 client credentials (RFC 6749 section 4.4), client `demo-client`, secret
 *   `demo-client-secret`, in a basic Authorization header or the form → `{ "access_token", "token_type", "expires_in" }`.
 * - `GET /api/v1/reports/summary`: needs a bearer token from `/oauth/token`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { countOrders, findOrder, findOrders, totalRevenueCents, type Order } from './data.ts';
import { readBody } from './multipart.ts';
import { sendJson } from './respond.ts';
import { checkDemoCredentials, type SessionStore } from './session.ts';

export const DEMO_CLIENT_ID = 'demo-client';
/** Public on purpose: this is a demo site. */
export const DEMO_CLIENT_SECRET = 'demo-client-secret';

const API_BODY_LIMIT_BYTES = 64 * 1024;

/** What the API handlers need of a site instance. */
export interface ApiState {
  readonly sessions: SessionStore;
  /** Access tokens handed out by `/oauth/token`. */
  readonly clientTokens: Set<string>;
}

function bearerOf(req: IncomingMessage): string | undefined {
  const match = /^\s*bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  return match?.[1];
}

function orderJson(order: Order) {
  return { id: order.id, customer: order.customer, status: order.status, total: order.totalCents / 100, placedOn: order.placedOn, itemCount: order.itemCount };
}

async function jsonBody(req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  const text = (await readBody(req, API_BODY_LIMIT_BYTES)).toString('utf8');
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Handles a request under `/api/v1/` or `/oauth/`; false when the path is not one of them. */
export async function handleJsonApi(state: ApiState, req: IncomingMessage, res: ServerResponse, url: URL, method: string): Promise<boolean> {
  const path = url.pathname;
  if (path === '/api/v1/status') {
    if (method !== 'GET' && method !== 'HEAD') return methodNotAllowed(res, 'GET, HEAD');
    sendJson(res, 200, { status: 'ok', service: 'demo-intranet', orders: { open: countOrders('open'), shipped: countOrders('shipped') } });
    return true;
  }
  if (path === '/api/v1/login') {
    if (method !== 'POST') return methodNotAllowed(res, 'POST');
    const body = await jsonBody(req);
    if (body === undefined) {
      sendJson(res, 400, { error: 'expected a JSON object with username and password' });
      return true;
    }
    const { username, password } = body;
    if (typeof username !== 'string' || typeof password !== 'string' || !checkDemoCredentials(username, password)) {
      sendJson(res, 401, { error: 'invalid username or password' });
      return true;
    }
    sendJson(res, 200, { token: state.sessions.create(username).id, user: username });
    return true;
  }
  if (path === '/oauth/token') {
    if (method !== 'POST') return methodNotAllowed(res, 'POST');
    const form = new URLSearchParams((await readBody(req, API_BODY_LIMIT_BYTES)).toString('utf8'));
    let clientId = form.get('client_id') ?? '';
    let clientSecret = form.get('client_secret') ?? '';
    const basic = /^\s*basic\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (basic?.[1] !== undefined) {
      const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      clientId = decodeURIComponent(decoded.slice(0, colon));
      clientSecret = decodeURIComponent(decoded.slice(colon + 1));
    }
    if (form.get('grant_type') !== 'client_credentials') {
      sendJson(res, 400, { error: 'unsupported_grant_type' });
      return true;
    }
    if (clientId !== DEMO_CLIENT_ID || clientSecret !== DEMO_CLIENT_SECRET) {
      sendJson(res, 401, { error: 'invalid_client', error_description: 'unknown client or wrong secret' });
      return true;
    }
    const token = `ct-${crypto.randomUUID()}`;
    state.clientTokens.add(token);
    sendJson(res, 200, { access_token: token, token_type: 'Bearer', expires_in: 3600, scope: form.get('scope') ?? 'reports.read' });
    return true;
  }
  if (!path.startsWith('/api/v1/')) return false;
  if (path !== '/api/v1/orders' && path !== '/api/v1/reports/summary' && !/^\/api\/v1\/orders\/[^/]+$/.test(path)) {
    sendJson(res, 404, { error: 'no such API endpoint' });
    return true;
  }
  if (method !== 'GET' && method !== 'HEAD') return methodNotAllowed(res, 'GET, HEAD');
  const token = bearerOf(req);
  if (path === '/api/v1/reports/summary') {
    if (token === undefined || !state.clientTokens.has(token)) {
      sendJson(res, 401, { error: 'a client-credentials bearer token is required' }, { 'WWW-Authenticate': 'Bearer' });
      return true;
    }
    sendJson(res, 200, { revenue: totalRevenueCents() / 100, currency: 'USD', openOrders: countOrders('open'), shippedOrders: countOrders('shipped') });
    return true;
  }
  if (token === undefined || state.sessions.get(token) === undefined) {
    sendJson(res, 401, { error: 'a bearer token from POST /api/v1/login is required' }, { 'WWW-Authenticate': 'Bearer' });
    return true;
  }
  if (path === '/api/v1/orders') {
    const items = findOrders({ q: url.searchParams.get('q') ?? undefined, status: url.searchParams.get('status') ?? undefined }).map(orderJson);
    sendJson(res, 200, { count: items.length, items });
    return true;
  }
  const detail = /^\/api\/v1\/orders\/([^/]+)$/.exec(path);
  if (detail?.[1] !== undefined) {
    const order = findOrder(decodeURIComponent(detail[1]));
    if (order === undefined) sendJson(res, 404, { error: `no order ${detail[1]}` });
    else sendJson(res, 200, orderJson(order));
    return true;
  }
  return false;
}

function methodNotAllowed(res: ServerResponse, allow: string): true {
  sendJson(res, 405, { error: 'method not allowed' }, { Allow: allow });
  return true;
}
