/**
 * Server-rendered pages of the demo intranet (sign-in, dashboard, orders, request form, popup, frames, errors).
 *
 * Ids, names, labels and texts here are a contract: example transaction scripts and tests select on them.
 * Every user-supplied value goes through {@link escapeHtml}.
 */
import { formatCents, type Order, type OrderStatus } from './data.ts';
import { escapeHtml, renderAppPage, renderPlainPage } from './layout.ts';

/** Input for {@link renderLoginPage}. */
export interface LoginPageOptions {
  /** Where to go after signing in (already validated as a safe relative path), or `undefined`. */
  readonly next?: string | undefined;
  /** Previously typed user name, kept after a failed attempt. */
  readonly username?: string | undefined;
  /** Show the invalid-credentials message. */
  readonly failed?: boolean | undefined;
}

/** The sign-in page. */
export function renderLoginPage(options: LoginPageOptions = {}): string {
  const error = options.failed
    ? '<p role="alert" class="error" id="login-error">Invalid username or password</p>\n'
    : '';
  const next = options.next === undefined ? '' : `<input type="hidden" name="next" value="${escapeHtml(options.next)}">\n`;
  return renderPlainPage({
    title: 'Sign in',
    body: `<div class="card narrow">
<h1>Sign in</h1>
<p class="muted">Use your Acme account to continue.</p>
${error}<form method="post" action="/login">
${next}<div class="field"><label for="username">Username</label><input id="username" name="username" data-testid="username" autocomplete="username" value="${escapeHtml(options.username ?? '')}"></div>
<div class="field"><label for="password">Password</label><input id="password" type="password" name="password" data-testid="password" autocomplete="current-password"></div>
<button type="submit">Sign in</button>
</form>
</div>`,
  });
}

/** Figures shown on the dashboard. */
export interface DashboardFigures {
  readonly openOrders: number;
  readonly shippedOrders: number;
  readonly revenueCents: number;
}

/** The dashboard with KPI cards and the popup triggers. */
export function renderDashboardPage(userName: string, figures: DashboardFigures): string {
  return renderAppPage({
    title: 'Dashboard',
    userName,
    active: 'dashboard',
    body: `<h1>Dashboard</h1>
<p id="welcome">Welcome back, ${escapeHtml(userName)}</p>
<section class="kpis" aria-label="Key figures">
<div class="card"><p class="kpi-label">Open orders</p><p class="kpi-value" data-testid="kpi-open-orders">${figures.openOrders}</p></div>
<div class="card"><p class="kpi-label">Shipped orders</p><p class="kpi-value" data-testid="kpi-shipped-orders">${figures.shippedOrders}</p></div>
<div class="card"><p class="kpi-label">Total order value</p><p class="kpi-value" data-testid="kpi-revenue">${formatCents(figures.revenueCents)}</p></div>
</section>
<section class="card">
<h2>Reports</h2>
<p class="muted">The quarterly report opens in a separate window.</p>
<div class="actions">
<a id="popup-link" href="/popup-target" target="_blank">Open popup report</a>
<button id="window-open" type="button">Open in window</button>
</div>
</section>`,
    script: `document.getElementById('window-open').addEventListener('click', function () {
  window.open('/popup-target', 'report', 'width=600,height=400');
});`,
  });
}

const STATUS_LABELS: Record<OrderStatus, string> = { open: 'Open', shipped: 'Shipped' };

function statusBadge(status: OrderStatus): string {
  return `<span class="badge badge-${status}">${STATUS_LABELS[status]}</span>`;
}

/** Input for {@link renderOrdersPage}. */
export interface OrdersPageOptions {
  readonly userName: string;
  readonly q: string;
  readonly status: OrderStatus | 'all';
  readonly orders: readonly Order[];
}

/** The searchable orders list. */
export function renderOrdersPage(options: OrdersPageOptions): string {
  const statusOption = (value: string, label: string): string =>
    `<option value="${value}"${options.status === value ? ' selected' : ''}>${label}</option>`;
  const rows = options.orders
    .map(
      (order) => `<tr data-testid="order-row">
<td class="order-id"><a href="/orders/${encodeURIComponent(order.id)}">${escapeHtml(order.id)}</a></td>
<td class="customer">${escapeHtml(order.customer)}</td>
<td class="status">${statusBadge(order.status)}</td>
<td class="total">${formatCents(order.totalCents)}</td>
</tr>`,
    )
    .join('\n');
  const count = options.orders.length;
  const empty =
    count === 0 ? '<tr><td colspan="4" class="muted" id="no-results">No orders match your search.</td></tr>' : '';
  return renderAppPage({
    title: 'Orders',
    userName: options.userName,
    active: 'orders',
    body: `<h1>Orders</h1>
<form method="get" action="/orders" class="search-bar" role="search">
<input type="search" name="q" aria-label="Search orders" placeholder="Search orders" value="${escapeHtml(options.q)}">
<select name="status" aria-label="Status">
${statusOption('all', 'All statuses')}
${statusOption('open', 'Open')}
${statusOption('shipped', 'Shipped')}
</select>
<button type="submit">Search</button>
</form>
<p id="result-count">${count} ${count === 1 ? 'order' : 'orders'}</p>
<table id="orders">
<thead><tr><th scope="col">Order</th><th scope="col">Customer</th><th scope="col">Status</th><th scope="col" class="total">Total</th></tr></thead>
<tbody>
${rows}${empty}
</tbody>
</table>`,
  });
}

/** One order's detail page. */
export function renderOrderPage(userName: string, order: Order): string {
  return renderAppPage({
    title: `Order ${order.id}`,
    userName,
    active: 'orders',
    body: `<p><a href="/orders">← Back to orders</a></p>
<h1>Order ${escapeHtml(order.id)}</h1>
<div class="card">
<dl class="details">
<dt>Customer</dt><dd id="order-customer">${escapeHtml(order.customer)}</dd>
<dt>Status</dt><dd id="order-status">${statusBadge(order.status)}</dd>
<dt>Placed on</dt><dd id="order-date">${order.placedOn}</dd>
<dt>Items</dt><dd id="order-items">${order.itemCount}</dd>
<dt>Total</dt><dd id="order-total">${formatCents(order.totalCents)}</dd>
</dl>
</div>`,
  });
}

/** The 404 page for an unknown order id. */
export function renderOrderNotFoundPage(userName: string, id: string): string {
  return renderAppPage({
    title: 'Order not found',
    userName,
    active: 'orders',
    body: `<h1>Order not found</h1>
<p>There is no order <strong id="missing-order-id">${escapeHtml(id)}</strong>.</p>
<p><a href="/orders">Back to orders</a></p>`,
  });
}

/** Department choices on the request form: value → label. */
export const DEPARTMENTS: ReadonlyArray<{ value: string; label: string }> = [
  { value: 'it', label: 'IT' },
  { value: 'hr', label: 'Human resources' },
  { value: 'finance', label: 'Finance' },
];

const PRIORITIES: ReadonlyArray<{ value: string; label: string }> = [
  { value: 'low', label: 'Low' },
  { value: 'normal', label: 'Normal' },
  { value: 'high', label: 'High' },
];

/** The "New request" form. `error` shows a validation message above the form. */
export function renderFormPage(userName: string, error?: string): string {
  const departments = DEPARTMENTS.map((d) => `<option value="${d.value}">${d.label}</option>`).join('\n');
  const priorities = PRIORITIES.map(
    (p) =>
      `<div class="inline-field"><input type="radio" id="priority-${p.value}" name="priority" value="${p.value}"${p.value === 'normal' ? ' checked' : ''}><label for="priority-${p.value}">${p.label}</label></div>`,
  ).join('\n');
  return renderAppPage({
    title: 'New request',
    userName,
    active: 'form',
    body: `<h1>New request</h1>
${error === undefined ? '' : `<p role="alert" class="error" id="form-error">${escapeHtml(error)}</p>\n`}<form method="post" action="/form" enctype="multipart/form-data" class="card">
<div class="field"><label for="title">Title</label><input id="title" name="title" required></div>
<div class="field"><label for="department">Department</label><select id="department" name="department">
${departments}
</select></div>
<div class="field inline-field"><input type="checkbox" id="urgent" name="urgent" value="yes"><label for="urgent">Urgent</label></div>
<fieldset><legend>Priority</legend>
${priorities}
</fieldset>
<div class="field"><label for="due">Due date</label><input type="date" id="due" name="due"></div>
<div class="field"><label for="attachment">Attachment</label><input type="file" id="attachment" name="attachment"></div>
<div class="field"><label for="notes">Notes</label><textarea id="notes" name="notes"></textarea></div>
<button type="submit">Submit request</button>
</form>`,
  });
}

/** What a submitted request contained; strings are raw user input (escaped when rendered). */
export interface RequestSummary {
  readonly requestId: string;
  readonly title: string;
  readonly department: string;
  readonly urgent: boolean;
  readonly priority: string;
  readonly due: string;
  readonly attachment?: { readonly fileName: string; readonly sizeBytes: number } | undefined;
  readonly notes: string;
}

/** The confirmation page after `POST /form`. */
export function renderFormSummaryPage(userName: string, summary: RequestSummary): string {
  const orNone = (value: string): string => (value === '' ? 'none' : escapeHtml(value));
  const department = DEPARTMENTS.find((d) => d.value === summary.department)?.label ?? summary.department;
  const attachment =
    summary.attachment === undefined
      ? 'none'
      : `${escapeHtml(summary.attachment.fileName)} (${summary.attachment.sizeBytes} ${summary.attachment.sizeBytes === 1 ? 'byte' : 'bytes'})`;
  return renderAppPage({
    title: 'Request submitted',
    userName,
    active: 'form',
    body: `<h1>Request submitted</h1>
<p>Your request has been recorded as</p>
<p id="request-id">${escapeHtml(summary.requestId)}</p>
<div class="card">
<dl id="summary" class="details">
<dt>Title</dt><dd id="summary-title">${orNone(summary.title)}</dd>
<dt>Department</dt><dd id="summary-department">${orNone(department)}</dd>
<dt>Urgent</dt><dd id="summary-urgent">${summary.urgent ? 'yes' : 'no'}</dd>
<dt>Priority</dt><dd id="summary-priority">${orNone(summary.priority)}</dd>
<dt>Due date</dt><dd id="summary-due">${orNone(summary.due)}</dd>
<dt>Attachment</dt><dd id="summary-attachment">${attachment}</dd>
<dt>Notes</dt><dd id="summary-notes">${orNone(summary.notes)}</dd>
</dl>
</div>
<p><a href="/form">Submit another request</a></p>`,
  });
}

/** The page opened by the dashboard's popup link and `window.open` button. */
export function renderPopupPage(): string {
  return renderPlainPage({
    title: 'Popup report',
    brandBar: false,
    body: `<h1>Popup report</h1>
<p id="popup-text">Quarterly figures</p>
<button id="close-button" type="button">Close</button>`,
    script: `document.getElementById('close-button').addEventListener('click', function () { window.close(); });`,
  });
}

/** The page with a same-origin and a cross-origin iframe. */
export function renderFramesPage(userName: string, crossOriginUrl: string): string {
  return renderAppPage({
    title: 'Frames',
    userName,
    active: 'frames',
    body: `<h1>Frames</h1>
<p class="muted">The left frame is served by this site; the right one comes from a partner on another origin.</p>
<div class="frames">
<section><h2>Inner frame</h2><iframe id="inner-frame" name="inner" title="Inner frame" src="/frame-inner"></iframe></section>
<section><h2>Partner widget</h2><iframe id="cross-frame" name="cross" title="Partner widget" src="${escapeHtml(crossOriginUrl)}/widget"></iframe></section>
</div>`,
  });
}

/** The `/slow` page. */
export function renderSlowPage(delayMs: number): string {
  return renderPlainPage({
    title: 'Slow page',
    body: `<h1>Slow page</h1>
<p id="delay">Served after ${delayMs} ms</p>`,
  });
}

/** `/basic-auth` after successful authentication. */
export function renderBasicAuthOkPage(): string {
  return renderPlainPage({
    title: 'Basic auth OK',
    body: `<h1>Basic auth OK</h1>
<p id="basic-auth-status">You are authenticated with HTTP basic authentication.</p>`,
  });
}

/** `/basic-auth` body sent with the 401 challenge. */
export function renderBasicAuthRequiredPage(): string {
  return renderPlainPage({
    title: 'Authentication required',
    body: `<h1>Authentication required</h1>
<p>This page needs HTTP basic authentication.</p>`,
  });
}

/** Generic 404 page. */
export function renderNotFoundPage(): string {
  return renderPlainPage({
    title: 'Not found',
    body: `<h1>Not found</h1>
<p>The page you asked for does not exist.</p>
<p><a href="/">Go to the start page</a></p>`,
  });
}

/** Generic error page for 4xx/5xx answers other than 404 (405, 413, 415, 500…). */
export function renderErrorPage(heading: string, message: string): string {
  return renderPlainPage({
    title: heading,
    body: `<h1>${escapeHtml(heading)}</h1>
<p id="error-message">${escapeHtml(message)}</p>`,
  });
}
