import {
  GraphQLBoolean,
  GraphQLEnumType,
  GraphQLError,
  GraphQLInt,
  GraphQLList,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLScalarType,
  GraphQLSchema,
  GraphQLString,
  Kind,
} from 'graphql';
import { setTimeout as delay } from 'node:timers/promises';
import { formatPrice } from '../../domain/catalogue.js';
import { NotFoundError } from '../../domain/errors.js';
import { customerMayCancel, isFinal, ORDER_STATUSES } from '../../domain/lifecycle.js';
import { customerNameOf, isOrderId, isOrderOf, type StoredOrder } from '../../domain/order.js';
import { readOrder, type CustomerApi, type OrderApi, type StaffApi } from '../order-api.js';
import type { OrderEvents } from '../order-events.js';
import type { StatusWatcher, Viewer } from '../status-watch.js';

/** How long a subscription waits, at most, for an order that is not stored yet. */
export const MAX_WAIT_SECONDS = 60;

function orderIdOf(value: unknown): string {
  if (typeof value !== 'string' || !isOrderId(value)) throw new GraphQLError('An order id is a UUID, such as 3f2b8c1e-6d4a-4f7b-9c2d-1a2b3c4d5e6f');
  return value;
}

// A scalar, so a malformed id is a validation error (a 400) before anything runs.
const OrderId = new GraphQLScalarType({
  name: 'OrderId',
  description: 'An order number: a UUID.',
  serialize: orderIdOf,
  parseValue: orderIdOf,
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING) throw new GraphQLError('An order id is a string: a UUID');
    return orderIdOf(ast.value);
  },
});

const OrderStatus = new GraphQLEnumType({
  name: 'OrderStatus',
  values: Object.fromEntries(ORDER_STATUSES.map((status) => [status, { value: status }])),
});

const StatusEntry = new GraphQLObjectType<{ status: string; at: string; by?: { role: string } | undefined; reason?: string | undefined }>({
  name: 'StatusEntry',
  fields: {
    status: { type: new GraphQLNonNull(OrderStatus) },
    at: { type: new GraphQLNonNull(GraphQLString), description: 'When the order entered this status (ISO 8601, UTC).' },
    // The role only: a member of staff's address is not the customer's to read.
    byRole: { type: GraphQLString, description: 'Who made this change by hand: "customer" or "staff"; null for the kitchen\'s timer.', resolve: (entry) => entry.by?.role ?? null },
    reason: { type: GraphQLString, description: 'Why, when a change made by hand gave a reason (a cancellation).' },
  },
});

interface Line {
  productId: string;
  productName: string;
  quantity: number;
  unitPriceCents: number;
  totalCents: number;
  currency: string;
}

const OrderLine = new GraphQLObjectType<Line>({
  name: 'OrderLine',
  fields: {
    productId: { type: new GraphQLNonNull(GraphQLString) },
    productName: { type: new GraphQLNonNull(GraphQLString) },
    quantity: { type: new GraphQLNonNull(GraphQLInt) },
    unitPriceCents: { type: new GraphQLNonNull(GraphQLInt) },
    totalCents: { type: new GraphQLNonNull(GraphQLInt) },
    unitPrice: { type: new GraphQLNonNull(GraphQLString), description: 'The unit price, formatted in its currency.', resolve: (line) => formatPrice(line.unitPriceCents, line.currency) },
    total: { type: new GraphQLNonNull(GraphQLString), description: "The line's total, formatted in its currency.", resolve: (line) => formatPrice(line.totalCents, line.currency) },
  },
});

const nonNull = <T>(type: T) => ({ type: new GraphQLNonNull(type as never) });

const Order = new GraphQLObjectType<StoredOrder, GraphQLContext>({
  name: 'Order',
  fields: {
    id: { type: new GraphQLNonNull(OrderId), resolve: (order) => order.order_id },
    customerId: { ...nonNull(GraphQLString), resolve: (order) => order.customer_id },
    customerName: { type: GraphQLString, description: 'Who the receipt names: the account holder, or an integration\'s customer id.', resolve: (order, _args, { viewer }) => customerNameOf(order, viewer?.name !== undefined && isOrderOf(order, viewer.id) ? { name: viewer.name } : undefined) ?? null },
    status: nonNull(OrderStatus),
    version: { ...nonNull(GraphQLInt), description: 'Rises by one with every change of status.' },
    final: { ...nonNull(GraphQLBoolean), description: 'True once the order is COMPLETED or CANCELLED.', resolve: (order) => isFinal(order.status) },
    cancellable: {
      ...nonNull(GraphQLBoolean),
      description: 'True while the signed-in viewer may cancel it: their own order, not yet started by the kitchen.',
      resolve: (order, _args, { viewer }) => customerMayCancel(order.status) && viewer !== undefined && isOrderOf(order, viewer.id),
    },
    statusHistory: { type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(StatusEntry))), resolve: (order) => order.status_history },
    dueAt: { type: GraphQLString, description: 'When the kitchen moves the order on next; null once it is final.', resolve: (order) => order.due_at ?? null },
    lines: {
      type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(OrderLine))),
      resolve: (order): Line[] =>
        order.lines.map((line) => ({ productId: line.product_id, productName: line.product_name, quantity: line.quantity, unitPriceCents: line.unit_price_cents, totalCents: line.line_total_cents, currency: order.currency })),
    },
    totalCents: { ...nonNull(GraphQLInt), resolve: (order) => order.total_cents },
    currency: nonNull(GraphQLString),
    total: { ...nonNull(GraphQLString), description: 'The total, formatted in its currency.', resolve: (order) => formatPrice(order.total_cents, order.currency) },
    orderDate: { ...nonNull(GraphQLString), resolve: (order) => order.order_date },
    receivedAt: { ...nonNull(GraphQLString), resolve: (order) => order.received_at },
  },
});

/** What each operation is given: the order API and the process's shared status watches. */
// A type, not an interface: the transports want a context assignable to Record<PropertyKey, unknown>.
export type GraphQLContext = {
  api: OrderApi & CustomerApi & StaffApi;
  watcher: StatusWatcher;
  /** The order events this process receives: the staff board reads its list again at each. */
  events: OrderEvents;
  /** The signed-in customer, or undefined: their own orders are read with their token. */
  viewer: Viewer | undefined;
  requestId: string | undefined;
  /** Aborted when the request's connection closes: what ends a subscription's own waiting. */
  closed: AbortSignal;
};

/**
 * Turns a watch into the subscription's stream: each new version, then the end at a final status.
 * Another account's order is never found, as one never placed: both wait, then end with one null.
 */
async function* followOrder(watcher: StatusWatcher, orderId: string, waitSeconds: number, viewer: Viewer | undefined): AsyncGenerator<{ orderStatus: StoredOrder | null }> {
  const pending: (StoredOrder | null | Error)[] = [];
  let wake: (() => void) | undefined;
  const push = (value: StoredOrder | null | Error) => {
    pending.push(value);
    wake?.();
  };
  const stop = watcher.watch(orderId, { next: push, notFound: () => push(null), failed: push }, { waitMs: waitSeconds * 1000, viewer });
  try {
    for (;;) {
      while (pending.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      const value = pending.shift()!;
      if (value instanceof Error) throw value;
      yield { orderStatus: value };
      if (value === null || isFinal(value.status)) return;
    }
  } finally {
    stop();
  }
}

/**
 * How long an open staff board waits for an event before it reads its list anyway: changes come as
 * events within a second, a new order only with this read (web processes are not sent every order
 * received: see OrderDigest). A shop has a board or two open: about 8,600 reads a day each.
 */
export const STAFF_BOARD_SAFETY_NET_MS = 10_000;
/** A kitchen run moves many orders at once: the board reads once after their events, not once each. */
const STAFF_BOARD_SETTLE_MS = 100;

/**
 * The open orders for a member of staff: now, then again after each order event this process
 * receives (or the safety net). Ends when the connection closes, or with an error when their session does.
 */
async function* followOpenOrders(api: StaffApi, events: OrderEvents, viewer: Viewer, closed: AbortSignal): AsyncGenerator<{ openOrders: StoredOrder[] }> {
  let seen: string | undefined;
  // Set by any event, even one that comes while the list is being read: that read may predate it.
  let changed: boolean;
  let wake: (() => void) | undefined;
  const stopListening = events.listen(() => {
    changed = true;
    wake?.();
  });
  try {
    // Between reads the generator waits, not at a yield, so the stream's end cannot reach it there: the connection's own signal does.
    while (!closed.aborted) {
      changed = false;
      const { orders } = await api.openOrders(viewer.idToken);
      const now = orders.map((order) => `${order.order_id}:${order.version}`).join(',');
      if (now !== seen) {
        seen = now;
        yield { openOrders: orders };
      }
      if (!changed) {
        const waiting = new AbortController();
        wake = () => waiting.abort();
        await delay(STAFF_BOARD_SAFETY_NET_MS, undefined, { signal: AbortSignal.any([closed, waiting.signal]), ref: false }).catch(() => undefined);
        wake = undefined;
      }
      await delay(STAFF_BOARD_SETTLE_MS, undefined, { signal: closed, ref: false }).catch(() => undefined);
    }
  } finally {
    stopListening();
  }
}

export const schema = new GraphQLSchema({
  query: new GraphQLObjectType<unknown, GraphQLContext>({
    name: 'Query',
    fields: {
      order: {
        type: Order,
        description: 'An order with its status and history; null while no order with this id is stored.',
        args: { id: { type: new GraphQLNonNull(OrderId) } },
        resolve: (_root, { id }: { id: string }, { api, viewer, requestId }) => readOrder(api, viewer, id, requestId ? { requestId } : {}),
      },
    },
  }),
  subscription: new GraphQLObjectType<unknown, GraphQLContext>({
    name: 'Subscription',
    fields: {
      orderStatus: {
        type: Order,
        description:
          'The order now, then again at each change of status; the stream ends after a final status. ' +
          `While the order is not stored it waits up to waitSeconds (at most ${MAX_WAIT_SECONDS}); if it never appears, one null ends the stream.`,
        args: { id: { type: new GraphQLNonNull(OrderId) }, waitSeconds: { type: GraphQLInt, defaultValue: MAX_WAIT_SECONDS } },
        subscribe: (_root, { id, waitSeconds }: { id: string; waitSeconds: number }, { watcher, viewer }) =>
          followOrder(watcher, id, Math.max(0, Math.min(MAX_WAIT_SECONDS, waitSeconds)), viewer),
      },
      openOrders: {
        type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(Order))),
        description: "The shop's open orders, oldest first, now and again at each change: for the staff only.",
        // Refused before the stream starts: the answer is one error, not a stream cut short.
        subscribe: (_root, _args, { api, events, viewer, closed }) => {
          if (!viewer?.staff) throw new NotFoundError('openOrders');
          return followOpenOrders(api, events, viewer, closed);
        },
      },
    },
  }),
});
