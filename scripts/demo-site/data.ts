/**
 * Fixed, deterministic order data for the demo intranet.
 *
 * Example scripts and tests assert on these exact values (ids, customers, totals, counts), so the list is
 * literal rather than generated at random: change it only together with the scripts that depend on it.
 */

/** Lifecycle state of an order as shown in the orders table. */
export type OrderStatus = 'open' | 'shipped';

/** One sales order. Money is kept in integer cents so totals never suffer floating-point drift. */
export interface Order {
  /** Order number such as `SO-1001`. */
  readonly id: string;
  readonly customer: string;
  readonly status: OrderStatus;
  readonly totalCents: number;
  /** Calendar date the order was placed, `YYYY-MM-DD`. */
  readonly placedOn: string;
  readonly itemCount: number;
}

/** Filter accepted by {@link findOrders}; `status` is `all` when absent or unrecognised. */
export interface OrderQuery {
  readonly q?: string | undefined;
  readonly status?: string | undefined;
}

/** Reporting periods served by the Reports app and `/api/report`. */
export type ReportPeriod = 'weekly' | 'monthly';

// [customer, status, totalCents, itemCount]; ids and dates follow from the position so they stay in step.
const ORDER_ROWS: ReadonlyArray<readonly [string, OrderStatus, number, number]> = [
  ['Globex', 'open', 123_450, 3],
  ['Initech', 'shipped', 48_999, 1],
  ['Umbrella', 'open', 275_000, 7],
  ['Hooli', 'shipped', 9_950, 1],
  ['Stark Industries', 'open', 1_249_900, 12],
  ['Globex', 'shipped', 36_075, 2],
  ['Initech', 'open', 152_020, 4],
  ['Umbrella', 'shipped', 88_840, 3],
  ['Hooli', 'open', 21_500, 2],
  ['Stark Industries', 'shipped', 504_210, 6],
  ['Globex', 'open', 77_730, 2],
  ['Initech', 'shipped', 310_000, 5],
  ['Umbrella', 'open', 4_599, 1],
  ['Hooli', 'shipped', 199_999, 4],
  ['Stark Industries', 'open', 66_610, 2],
  ['Globex', 'shipped', 145_025, 3],
  ['Initech', 'open', 23_380, 1],
  ['Umbrella', 'shipped', 912_345, 9],
  ['Hooli', 'open', 55_500, 2],
  ['Stark Industries', 'shipped', 1_800_000, 15],
  ['Globex', 'shipped', 40_210, 1],
  ['Initech', 'open', 118_875, 3],
  ['Umbrella', 'shipped', 7_250, 1],
  ['Hooli', 'open', 264_300, 6],
  ['Stark Industries', 'shipped', 93_015, 2],
  ['Globex', 'open', 15_990, 1],
  ['Initech', 'shipped', 412_500, 8],
  ['Umbrella', 'open', 68_840, 2],
  ['Hooli', 'shipped', 250_075, 5],
  ['Stark Industries', 'open', 34_500, 1],
];

const FIRST_ORDER_NUMBER = 1001;
const FIRST_ORDER_DAY_MS = Date.UTC(2026, 9, 1);
const DAY_MS = 24 * 60 * 60 * 1000;

/** All demo orders, oldest first (`SO-1001` … `SO-1030`). */
export const ORDERS: readonly Order[] = ORDER_ROWS.map(([customer, status, totalCents, itemCount], index) => ({
  id: `SO-${FIRST_ORDER_NUMBER + index}`,
  customer,
  status,
  totalCents,
  placedOn: new Date(FIRST_ORDER_DAY_MS + index * DAY_MS).toISOString().slice(0, 10),
  itemCount,
}));

const currencyFormat = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });

/** Formats integer cents as US dollars, e.g. `123450` → `$1,234.50`. */
export function formatCents(cents: number): string {
  return currencyFormat.format(cents / 100);
}

/** Normalises a `status` query value; anything unknown means "all" so a bad link still shows orders. */
export function parseStatusFilter(value: string | null | undefined): OrderStatus | 'all' {
  return value === 'open' || value === 'shipped' ? value : 'all';
}

/** Orders whose id or customer contains `q` (case-insensitive) and whose status matches. */
export function findOrders(query: OrderQuery): Order[] {
  const needle = (query.q ?? '').trim().toLowerCase();
  const status = parseStatusFilter(query.status);
  return ORDERS.filter(
    (order) =>
      (status === 'all' || order.status === status) &&
      (needle === '' || order.id.toLowerCase().includes(needle) || order.customer.toLowerCase().includes(needle)),
  );
}

/** The order with this id (case-insensitive), or `undefined`. */
export function findOrder(id: string): Order | undefined {
  const wanted = id.trim().toUpperCase();
  return ORDERS.find((order) => order.id === wanted);
}

/** Number of orders with the given status. */
export function countOrders(status: OrderStatus): number {
  return ORDERS.filter((order) => order.status === status).length;
}

/** Sum of all order totals in cents. */
export function totalRevenueCents(): number {
  return ORDERS.reduce((sum, order) => sum + order.totalCents, 0);
}

/** Parses a report period; `undefined` for anything else. */
export function parseReportPeriod(value: string | null | undefined): ReportPeriod | undefined {
  return value === 'weekly' || value === 'monthly' ? value : undefined;
}

/**
 * Report total in dollars for a period: the newest 7 orders for "weekly", the newest 30 for "monthly".
 * Deterministic so that scripts can assert the figure.
 */
export function reportTotalDollars(period: ReportPeriod): number {
  const days = period === 'weekly' ? 7 : 30;
  const cents = ORDERS.slice(-days).reduce((sum, order) => sum + order.totalCents, 0);
  return cents / 100;
}
