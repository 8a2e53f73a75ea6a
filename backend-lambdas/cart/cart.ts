import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import * as z from 'zod/mini';
import { currentCart, cartView, removeCartLine, setCartLine, type Cart } from '../../domain/cart.js';
import type { Menu } from '../../domain/catalogue.js';
import { parseConfig } from '../../domain/config.js';
import { ConflictError, DependencyUnavailableError, NotFoundError, toFieldIssues, ValidationError } from '../../domain/errors.js';
import { createCartStore, type CartStore } from '../lib/cart-store.js';
import { menuEnvironment, menuFor } from '../lib/product-store.js';
import { customerOf } from '../lib/customer.js';
import { observabilityFor } from '../lib/defaults.js';
import { jsonResponse, readJsonBody, toApiResponse } from '../lib/http.js';
import { instrumented } from '../lib/observability.js';
import type { LambdaHandler, Wiring } from '../lib/wiring.js';

export interface CartDeps {
  store: CartStore;
  ttlSeconds: number;
  logger: Logger;
  clock?: () => Date;
  menu: Menu;
}

// Two requests of one customer changing their cart at once: the loser reads it again, a few times.
const ATTEMPTS = 3;

/** The signed-in customer's cart: read it, put a line in (or change its quantity), take one out. */
export function createCartHandler({ store, ttlSeconds, logger, clock = () => new Date(), menu }: CartDeps) {
  async function read(customerId: string): Promise<Cart> {
    try {
      return currentCart(await store.get(customerId), customerId, clock(), ttlSeconds);
    } catch (error) {
      throw new DependencyUnavailableError('cart service', 2, { cause: error });
    }
  }

  /** Applies `change` to the customer's cart and writes it, conditional on the version it read. */
  async function update(customerId: string, change: (cart: Cart) => Cart): Promise<Cart> {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const next = change(await read(customerId));
      let written: boolean;
      try {
        written = await store.put(next);
      } catch (error) {
        throw new DependencyUnavailableError('cart service', 2, { cause: error });
      }
      if (written) return next;
    }
    throw new ConflictError('The cart changed while it was being updated; read it again and retry');
  }

  const catalogueFor = (ids: string[]) => menu.catalogue(ids);

  return async function cart(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
    const requestId = event.requestContext.requestId;
    try {
      const customer = customerOf(event);
      const productId = event.pathParameters?.product_id;
      if (event.httpMethod === 'GET' && event.resource === '/me/cart') {
        const current = await read(customer.id);
        return jsonResponse(200, cartView(current, await catalogueFor(current.lines.map((line) => line.product_id))));
      }
      if (event.resource !== '/me/cart/lines/{product_id}' || productId === undefined) throw new NotFoundError(`${event.httpMethod} ${event.path}`);
      if (event.httpMethod === 'PUT') {
        const body = readJsonBody(event);
        const parsed = z.safeParse(z.strictObject({ quantity: z.unknown() }, { error: 'Must be a JSON object with quantity' }), body);
        if (!parsed.success) throw new ValidationError(toFieldIssues(parsed.error));
        const now = clock();
        const catalogue = await catalogueFor([productId]);
        const updated = await update(customer.id, (current) => setCartLine(current, productId, parsed.data.quantity, { now, ttlSeconds, catalogue }));
        logger.info('Cart line set', { customer_id: customer.id, product_id: productId, lines: updated.lines.length, request_id: requestId });
        return jsonResponse(200, cartView(updated, catalogue));
      }
      if (event.httpMethod === 'DELETE') {
        const now = clock();
        const updated = await update(customer.id, (current) => removeCartLine(current, productId, { now, ttlSeconds }));
        return jsonResponse(200, cartView(updated, await catalogueFor(updated.lines.map((line) => line.product_id))));
      }
      throw new NotFoundError(`${event.httpMethod} ${event.path}`);
    } catch (error) {
      return toApiResponse(error, logger, requestId);
    }
  };
}

export const configSchema = z.extend(menuEnvironment, {
  CARTS_TABLE_NAME: z.string().check(z.minLength(3)),
  CART_TTL_SECONDS: z.pipe(z.string().check(z.regex(/^\d{1,8}$/)), z.transform(Number)),
});

export const wire: Wiring<'documents', LambdaHandler<APIGatewayProxyEvent, APIGatewayProxyResult>> = (env, { documents }, options = {}) => {
  const config = parseConfig(configSchema, env, 'cart');
  const { logger, tracer } = observabilityFor('cart', env, options);
  const handler = createCartHandler({
    store: createCartStore({ documents, tableName: config.CARTS_TABLE_NAME }),
    ttlSeconds: config.CART_TTL_SECONDS,
    logger,
    ...(options.clock ? { clock: options.clock } : {}),
    menu: menuFor(config, documents, options.menu),
  });
  return instrumented('cart', { tracer }, handler);
};
