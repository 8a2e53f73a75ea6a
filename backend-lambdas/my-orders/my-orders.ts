import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { ConflictError, DependencyUnavailableError, NotFoundError, ValidationError } from '../../domain/errors.js';
import { applyChange, customerMayCancel, transition } from '../../domain/lifecycle.js';
import { isOrderId, isOrderOf, publicOrder, type StoredOrder } from '../../domain/order.js';
import { customerOf } from '../lib/customer.js';
import { orderWriterEnvironment, orderWriterWiring, type OrderWriterHandlerDeps } from '../lib/defaults.js';
import { jsonResponse, orderIdsOf, toApiResponse } from '../lib/http.js';
import { count } from '../lib/observability.js';
import { createStatusChanges } from '../lib/order-events.js';
import { orderTable } from '../lib/order-store.js';

export const DEFAULT_PAGE_SIZE = 10;
export const MAX_PAGE_SIZE = 50;
/** The most of their own orders a customer reads by id in one call (the orders their open pages follow). */
export const MAX_IDS = 25;

/** For a cancel: the lifecycle, and where the change is published. */
export type MyOrdersDeps = OrderWriterHandlerDeps;

/** A page's continuation as the client carries it: the index key it ended at, opaque (base64url JSON). */
function encodeCursor(key: Record<string, unknown> | undefined): string | null {
  return key ? Buffer.from(JSON.stringify(key)).toString('base64url') : null;
}

/** The index key a cursor names, checked to be one of this customer's: a cursor cannot page another's orders. */
function decodeCursor(cursor: string, customerId: string): Record<string, unknown> {
  const invalid = new ValidationError([{ field: 'cursor', message: 'Is not a cursor this API gave out; start again without it' }]);
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid;
  }
  const { partitionKey, accountIndex } = orderTable;
  const expected = [partitionKey, accountIndex.partitionKey, accountIndex.sortKey].sort();
  if (typeof key !== 'object' || key === null || JSON.stringify(Object.keys(key).sort()) !== JSON.stringify(expected)) throw invalid;
  const fields = key as Record<string, unknown>;
  if (fields[accountIndex.partitionKey] !== customerId || !expected.every((name) => typeof fields[name] === 'string')) throw invalid;
  return fields;
}

function pageSize(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_PAGE_SIZE;
  const size = /^\d{1,3}$/.test(raw) ? Number(raw) : NaN;
  if (!(size >= 1 && size <= MAX_PAGE_SIZE)) throw new ValidationError([{ field: 'limit', message: `Must be a whole number from 1 to ${MAX_PAGE_SIZE}` }]);
  return size;
}

/**
 * GET /me/orders, GET /me/orders?ids=... and GET /me/orders/{id}: the signed-in customer's orders
 * (those their account checked out); anyone else's, and any order placed with the API key, is a 404
 * or left out, as one never placed is. POST /me/orders/{id}/cancel: the customer cancels their own
 * order while it is still RECEIVED (the kitchen has not started it); after that, a 409.
 */
export function createMyOrdersHandler({ store, logger, timings, sns, topicArn, metrics, clock = () => new Date() }: MyOrdersDeps) {
  const unavailable = (error: unknown) => new DependencyUnavailableError('order service', 2, { cause: error });
  const changes = createStatusChanges({ store, sns, topicArn, logger, clock });

  /** The customer's own order by the path's id; anyone else's is as absent as one never placed. */
  async function ownOrder(event: APIGatewayProxyEvent, customerId: string): Promise<StoredOrder> {
    const orderId = event.pathParameters?.id ?? '';
    if (!isOrderId(orderId)) throw new ValidationError([{ field: 'id', message: 'Must be an order id (a UUID)' }]);
    const order = await store.get(orderId).catch((error: unknown) => Promise.reject(unavailable(error)));
    if (!order || !isOrderOf(order, customerId)) throw new NotFoundError(`Order ${orderId}`);
    return order;
  }

  async function cancel(order: StoredOrder, customerId: string): Promise<StoredOrder> {
    const tooLate = () => new ConflictError(`Order ${order.order_id} is ${order.status.toLowerCase()}: only an order still RECEIVED can be cancelled`);
    if (!customerMayCancel(order.status)) throw tooLate();
    const change = transition(order, { to: 'CANCELLED', at: clock(), timings, by: { role: 'customer', id: customerId } });
    // The kitchen may take the order in the same moment: the write is conditional on the version read, and one of the two wins.
    if (!(await changes.applyByHand(order, change).catch((error: unknown) => Promise.reject(unavailable(error))))) {
      const now = await store.get(order.order_id).catch((error: unknown) => Promise.reject(unavailable(error)));
      throw new ConflictError(`Order ${order.order_id} changed while it was being cancelled: it is ${now?.status.toLowerCase() ?? 'gone'}`);
    }
    count(metrics, 'OrdersCancelled');
    logger.info('Order cancelled by its customer', { order_id: order.order_id });
    return applyChange(order, change);
  }

  return async function myOrders(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
    const requestId = event.requestContext.requestId;
    try {
      const customer = customerOf(event);
      if (event.resource === '/me/orders/{id}/cancel') return jsonResponse(200, publicOrder(await cancel(await ownOrder(event, customer.id), customer.id)));
      if (event.resource === '/me/orders/{id}') return jsonResponse(200, publicOrder(await ownOrder(event, customer.id)));
      const query = event.queryStringParameters ?? {};
      if (query.ids !== undefined) {
        // What the web tier's status watches read: a few orders at a time, each by its key (GetItem).
        const ids = orderIdsOf(query, MAX_IDS);
        const orders = await Promise.all([...new Set(ids)].map((id) => store.get(id))).catch((error: unknown) => Promise.reject(unavailable(error)));
        return jsonResponse(200, { orders: orders.filter((order): order is StoredOrder => order !== undefined && isOrderOf(order, customer.id)).map(publicOrder) });
      }
      const unknown = Object.keys(query).filter((name) => name !== 'limit' && name !== 'cursor');
      if (unknown.length > 0) throw new ValidationError(unknown.map((field) => ({ field, message: 'Unknown parameter' })));
      const limit = pageSize(query.limit);
      const after = query.cursor ? decodeCursor(query.cursor, customer.id) : undefined;
      const page = await store.ordersOf(customer.id, { limit, after }).catch((error: unknown) => Promise.reject(unavailable(error)));
      return jsonResponse(200, { orders: page.orders.map(publicOrder), next_cursor: encodeCursor(page.next) });
    } catch (error) {
      return toApiResponse(error, logger, requestId);
    }
  };
}

export const configSchema = orderWriterEnvironment;

export const wire = orderWriterWiring('my-orders', createMyOrdersHandler);
