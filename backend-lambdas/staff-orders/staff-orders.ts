import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import * as z from 'zod/mini';
import { parseProductInput, productJson, SEED_PRODUCTS, type Menu, type Product } from '../../domain/catalogue.js';
import { parseConfig } from '../../domain/config.js';
import { AppError, DependencyUnavailableError, toFieldIssues, ValidationError } from '../../domain/errors.js';
import { isOrderId } from '../../domain/order.js';
import { orderWriterEnvironment, orderWriterWiring, type OrderWriterHandlerDeps } from '../lib/defaults.js';
import { jsonResponse, readJsonBody, toApiResponse } from '../lib/http.js';
import { count } from '../lib/observability.js';
import { createStatusChanges } from '../lib/order-events.js';
import { createProductStore, menuEnvironment, type ProductStore } from '../lib/product-store.js';
import { createStaffCommands, staffOf } from '../lib/staff.js';
import type { AwsClients, LambdaHandler, Wiring } from '../lib/wiring.js';

/** The most open orders the board shows; a shop with more is told the list is cut. */
export const MAX_OPEN_ORDERS = 200;

export interface StaffOrdersDeps extends OrderWriterHandlerDeps {
  products: Pick<ProductStore, 'list' | 'seed' | 'save'>;
  /** The menu this host's readers share, emptied after a change so they read it again (absent on Lambda). */
  menu?: Menu | undefined;
}

/** The version the board showed: a change to an order that moved since is refused, not applied to where it is now. */
const version = z.int({ error: 'Must be the version of the order as it was shown (a whole number)' }).check(z.minimum(1, { error: 'Must be at least 1' }));
const advanceSchema = z.strictObject({ version }, { error: 'Must be a JSON object with the version' });
const cancelSchema = z.strictObject(
  {
    version,
    reason: z.string({ error: 'Say why: the customer is told' }).check(z.trim(), z.minLength(1, { error: 'Say why: the customer is told' }), z.maxLength(500, { error: 'Must be at most 500 characters' })),
  },
  { error: 'Must be a JSON object with the version and the reason' },
);

/**
 * The shop's staff, members of the user pool's staff group, at the counter: GET /staff/orders lists
 * the open orders oldest first; POST /staff/orders/{id}/advance moves one to its next step and POST
 * /staff/orders/{id}/cancel (a reason the customer is told) cancels it, each only if the order is
 * still at the `version` the board showed, each through the kitchen's
 * own conditional, versioned write and recorded with who did it. POST /staff/menu adds a product or
 * changes one (the same product_id again), on the product's history with who and when. Anyone else gets a 404.
 */
export function createStaffOrdersHandler({ store, products, menu, logger, timings, sns, topicArn, metrics, clock = () => new Date() }: StaffOrdersDeps) {
  const unavailable = (error: unknown) => (error instanceof AppError ? error : new DependencyUnavailableError('order service', 2, { cause: error }));
  const apply = createStaffCommands({ store, changes: createStatusChanges({ store, sns, topicArn, logger, clock }), timings, clock });

  function orderIdOf(event: APIGatewayProxyEvent): string {
    const orderId = event.pathParameters?.id ?? '';
    if (!isOrderId(orderId)) throw new ValidationError([{ field: 'id', message: 'Must be an order id (a UUID)' }]);
    return orderId;
  }

  function bodyOf<T>(schema: z.ZodMiniType<T>, event: APIGatewayProxyEvent): T {
    const parsed = z.safeParse(schema, readJsonBody(event));
    if (!parsed.success) throw new ValidationError(toFieldIssues(parsed.error));
    return parsed.data;
  }

  /**
   * A new deployment's table is empty and every reader serves the seed menu: its products are written
   * first (those missing, if a filling was cut short), so a change is made to a stored product at the
   * version the form showed (a seed product's is 1).
   */
  async function saveProduct(product: Product, by: string) {
    const stored = new Set((await products.list()).map((item) => item.product_id));
    if (SEED_PRODUCTS.some((seed) => !stored.has(seed.id))) await products.seed();
    return products.save(product, by, clock());
  }

  return async function staffOrders(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
    const requestId = event.requestContext.requestId;
    try {
      const staff = staffOf(event);
      if (event.resource === '/staff/menu') {
        const product = parseProductInput(readJsonBody(event));
        const saved = await saveProduct(product, staff.name).catch((error: unknown) => Promise.reject(unavailable(error)));
        menu?.invalidate();
        logger.info('Product changed by staff', { product_id: product.id, version: saved.version, by: staff.id });
        return jsonResponse(200, { ...productJson({ ...product, version: saved.version }), updated_at: saved.updated_at });
      }
      if (event.resource === '/staff/orders') {
        const { orders, truncated } = await store.openOrders(MAX_OPEN_ORDERS).catch((error: unknown) => Promise.reject(unavailable(error)));
        return jsonResponse(200, { orders, truncated });
      }
      const orderId = orderIdOf(event);
      const command = event.resource === '/staff/orders/{id}/cancel' ? { action: 'cancel' as const, ...bodyOf(cancelSchema, event) } : { action: 'advance' as const, ...bodyOf(advanceSchema, event) };
      const { order, change } = await apply({ ...command, order_id: orderId, by: staff.name }).catch((error: unknown) => Promise.reject(unavailable(error)));
      count(metrics, 'StatusChanges');
      if (change.to === 'CANCELLED') count(metrics, 'OrdersCancelled');
      logger.info('Order changed by staff', { order_id: orderId, from: change.from, to: change.to, by: staff.id });
      return jsonResponse(200, order);
    } catch (error) {
      return toApiResponse(error, logger, requestId);
    }
  };
}

export const configSchema = z.extend(orderWriterEnvironment, menuEnvironment.shape);

export const wire: Wiring<'documents' | 'sns', LambdaHandler<APIGatewayProxyEvent, APIGatewayProxyResult>> = (env, clients: Pick<AwsClients, 'documents' | 'sns'>, options = {}) => {
  const products = createProductStore({ documents: clients.documents, tableName: parseConfig(menuEnvironment, env, 'staff-orders').PRODUCTS_TABLE_NAME });
  return orderWriterWiring('staff-orders', (deps) => createStaffOrdersHandler({ ...deps, products, menu: options.menu }))(env, clients, options);
};
