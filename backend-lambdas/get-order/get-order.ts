import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import * as z from 'zod/mini';
import { parseConfig } from '../../domain/config.js';
import { DependencyUnavailableError, NotFoundError, ValidationError } from '../../domain/errors.js';
import { isOrderId } from '../../domain/order.js';
import { jsonResponse, toApiResponse } from '../lib/http.js';
import { createOrderStore, type OrderStore } from '../lib/order-store.js';
import { observabilityFor } from '../lib/defaults.js';
import { instrumented } from '../lib/observability.js';
import type { LambdaHandler, Wiring } from '../lib/wiring.js';

export interface GetOrderDeps {
  store: OrderStore;
  logger: Logger;
  retryAfterSeconds?: number;
}

/** GET /orders/{id}: the stored order with its status and history, or 404 until it is stored. */
export function createGetOrderHandler({ store, logger, retryAfterSeconds = 2 }: GetOrderDeps) {
  async function readOrder(orderId: string) {
    try {
      return await store.get(orderId);
    } catch (error) {
      throw new DependencyUnavailableError('order service', retryAfterSeconds, { cause: error });
    }
  }

  return async function getOrder(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
    const requestId = event.requestContext.requestId;
    try {
      const orderId = event.pathParameters?.id ?? '';
      if (!isOrderId(orderId)) throw new ValidationError([{ field: 'id', message: 'Must be an order id (a UUID)' }]);
      const order = await readOrder(orderId);
      if (!order) throw new NotFoundError(`Order ${orderId}`);
      return jsonResponse(200, order);
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
