import type { Logger } from '@aws-lambda-powertools/logger';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import * as z from 'zod/mini';
import { checkoutOrderId, currentCart, emptyCart, type Cart } from '../../domain/cart.js';
import type { Menu } from '../../domain/catalogue.js';
import { parseConfig } from '../../domain/config.js';
import { ConflictError, DependencyUnavailableError, toFieldIssues, ValidationError } from '../../domain/errors.js';
import { fifoIdsOf, orderDateSchema, parseOrderLines, priceLines, totalCents, utcDate, type QueuedOrder } from '../../domain/order.js';
import { createBatchingSender } from '../lib/batching-sender.js';
import { isFifoQueue } from '../lib/fifo.js';
import { createCartStore, type CartStore } from '../lib/cart-store.js';
import { customerOf } from '../lib/customer.js';
import { menuEnvironment, menuFor } from '../lib/product-store.js';
import { observabilityFor } from '../lib/defaults.js';
import { jsonResponse, readJsonBody, toApiResponse } from '../lib/http.js';
import { count, instrumented, type MetricsRecorder } from '../lib/observability.js';
import type { LambdaHandler, Wiring } from '../lib/wiring.js';

export interface CheckoutDeps {
  store: CartStore;
  ttlSeconds: number;
  sqs: SQSClient;
  queueUrl: string;
  logger: Logger;
  metrics?: MetricsRecorder;
  clock?: () => Date;
  menu: Menu;
}

const bodySchema = z.strictObject({
  /** The cart's version the customer saw: a second post of the same checkout is the same order. */
  cart_version: z.optional(z.int().check(z.minimum(0))),
  order_date: z.optional(orderDateSchema),
  /** The total the customer was shown: checkout at another (a price changed meanwhile) is refused, not charged. */
  expected_total_cents: z.optional(z.int().check(z.minimum(0))),
});

/**
 * POST /me/orders: the signed-in customer's cart, priced lines and all, becomes one order on the
 * queue; the cart is emptied only once the queue has accepted it. The order's id comes from the
 * cart and its version, so a checkout posted twice is one order.
 */
export function createCheckoutHandler({ store, ttlSeconds, sqs, queueUrl, logger, metrics, clock = () => new Date(), menu }: CheckoutDeps) {
  const sendMessage = createBatchingSender(sqs, queueUrl);
  const fifo = isFifoQueue(queueUrl);
  const unavailable = (what: string, error: unknown) => new DependencyUnavailableError(what, 5, { cause: error });

  function parseBody(event: APIGatewayProxyEvent) {
    const raw = event.body === null || event.body === '' ? {} : readJsonBody(event);
    const parsed = z.safeParse(bodySchema, raw);
    if (parsed.success) return parsed.data;
    throw new ValidationError(toFieldIssues(parsed.error));
  }

  return async function checkout(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
    const requestId = event.requestContext.requestId;
    try {
      const customer = customerOf(event);
      const body = parseBody(event);
      const now = clock();
      let cart: Cart;
      try {
        cart = currentCart(await store.get(customer.id), customer.id, now, ttlSeconds);
      } catch (error) {
        throw unavailable('cart service', error);
      }
      if (body.cart_version !== undefined && body.cart_version !== cart.version) {
        // The same checkout posted again (a double click, a retry after a timeout): the order it made.
        if (cart.last_checkout?.version === body.cart_version) return jsonResponse(202, { order_id: cart.last_checkout.order_id, status: 'QUEUED' });
        throw new ConflictError('Your cart changed since you looked at it (in another window?). Check it and check out again.');
      }
      if (cart.lines.length === 0) throw new ValidationError([{ field: 'cart', message: 'The cart is empty: put something in it first' }]);
      const catalogue = await menu.catalogue(cart.lines.map((line) => line.product_id));
      const order: QueuedOrder = {
        order_id: checkoutOrderId(cart),
        customer_id: customer.id,
        // The account's own: only this route sets it, so only its orders are the account's (and listed as theirs).
        account_id: customer.id,
        ...(customer.email ? { customer_email: customer.email } : {}),
        ...(customer.name ? { customer_name: customer.name } : {}),
        // The same rules as any order: a product taken off since it was put in the cart is named. Each
        // line keeps the name and price it is checked out at, whatever the menu says later.
        lines: parseOrderLines(cart.lines.map(({ product_id, quantity }) => ({ product_id, quantity })), catalogue),
        order_date: body.order_date ?? utcDate(now),
        received_at: now.toISOString(),
      };
      if (body.expected_total_cents !== undefined && body.expected_total_cents !== totalCents(priceLines(order.lines).lines)) {
        throw new ConflictError('A price on the menu changed since your cart was shown. Check the new total and check out again.');
      }
      try {
        await sendMessage(JSON.stringify(order), fifo ? fifoIdsOf(order) : undefined);
      } catch (error) {
        throw unavailable('order queue', error);
      }
      count(metrics, 'OrdersAccepted');
      // Only now, with the order accepted: emptied, remembering this checkout for a second post of it.
      const emptied = { ...emptyCart(customer.id, now, ttlSeconds, cart.version + 1), last_checkout: { version: cart.version, order_id: order.order_id } };
      const cleared = await store.put(emptied).catch((error: unknown) => {
        // The order is queued either way; a cart left full is the customer's to empty, not an error to them.
        logger.error('Could not empty the cart after checkout', { customer_id: customer.id, order_id: order.order_id, error: error as Error });
        return false;
      });
      logger.info('Checked out', { customer_id: customer.id, order_id: order.order_id, lines: order.lines.length, cart_emptied: cleared, request_id: requestId });
      return jsonResponse(202, { order_id: order.order_id, status: 'QUEUED' });
    } catch (error) {
      return toApiResponse(error, logger, requestId);
    }
  };
}

export const configSchema = z.extend(menuEnvironment, {
  CARTS_TABLE_NAME: z.string().check(z.minLength(3)),
  CART_TTL_SECONDS: z.pipe(z.string().check(z.regex(/^\d{1,8}$/)), z.transform(Number)),
  QUEUE_URL: z.url(),
});

export const wire: Wiring<'documents' | 'sqs', LambdaHandler<APIGatewayProxyEvent, APIGatewayProxyResult>> = (env, { documents, sqs }, options = {}) => {
  const config = parseConfig(configSchema, env, 'checkout');
  const { tracer, ...observability } = observabilityFor('checkout', env, options);
  const handler = createCheckoutHandler({
    store: createCartStore({ documents, tableName: config.CARTS_TABLE_NAME }),
    ttlSeconds: config.CART_TTL_SECONDS,
    sqs,
    queueUrl: config.QUEUE_URL,
    ...observability,
    ...(options.clock ? { clock: options.clock } : {}),
    menu: menuFor(config, documents, options.menu),
  });
  return instrumented('checkout', { tracer, metrics: observability.metrics }, handler);
};
