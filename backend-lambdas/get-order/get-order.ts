import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import * as z from 'zod/mini';
import { parseConfig } from '../../domain/config.js';
import { DependencyUnavailableError, NotFoundError, ValidationError } from '../../domain/errors.js';
import { isIntegrationOrder, isOrderId, publicOrder } from '../../domain/order.js';
import { jsonResponse, orderIdsOf, toApiResponse } from '../lib/http.js';
import { BATCH_GET_LIMIT, createOrderStore, type OrderStore } from '../lib/order-store.js';
import { observabilityFor } from '../lib/defaults.js';
import { instrumented } from '../lib/observability.js';
import type { LambdaHandler, Wiring } from '../lib/wiring.js';

export interface GetOrderDeps {
  store: OrderStore;
  logger: Logger;
  retryAfterSeconds?: number;
}

/**
 * The integration API's reads, with the API key: orders placed with the API key only. An account's
 * order is a 404 here, as one never placed is (its lines and email are read with its account's token).
 * GET /orders/{id}: the stored order with its status and history, or 404 until it is stored.
 * GET /orders?ids=...: those of up to 100 orders that are stored, in one read (what the web tier's
 * status watches poll with, so 500 pages watching cost one call per hundred, not 500).
 */
export function createGetOrderHandler({ store, logger, retryAfterSeconds = 2 }: GetOrderDeps) {
  async function read<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw new DependencyUnavailableError('order service', retryAfterSeconds, { cause: error });
    }
  }

  return async function getOrder(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
    const requestId = event.requestContext.requestId;
    try {
      if (event.pathParameters?.id === undefined) {
        const ids = orderIdsOf(event.queryStringParameters, BATCH_GET_LIMIT);
        return jsonResponse(200, { orders: (await read(() => store.getMany(ids))).filter(isIntegrationOrder).map(publicOrder) });
      }
      const orderId = event.pathParameters.id;
      if (!isOrderId(orderId)) throw new ValidationError([{ field: 'id', message: 'Must be an order id (a UUID)' }]);
      const order = await read(() => store.get(orderId));
      if (!order || !isIntegrationOrder(order)) throw new NotFoundError(`Order ${orderId}`);
      return jsonResponse(200, publicOrder(order));
    } catch (error) {
      return toApiResponse(error, logger, requestId);
    }
  };
}

export const configSchema = z.object({ TABLE_NAME: z.string().check(z.minLength(3)) });

export const wire: Wiring<'documents', LambdaHandler<APIGatewayProxyEvent, APIGatewayProxyResult>> = (env, { documents }, options = {}) => {
  const { logger, tracer } = observabilityFor('get-order', env, options);
  const handler = createGetOrderHandler({ store: createOrderStore({ documents, tableName: parseConfig(configSchema, env, 'get-order').TABLE_NAME }), logger });
  // No business metric here: reads are counted by API Gateway and Lambda themselves.
  return instrumented('get-order', { tracer }, handler);
};
