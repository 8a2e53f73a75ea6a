import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import * as z from 'zod/mini';
import { parseConfig } from '../../domain/config.js';
import { DependencyUnavailableError, NotFoundError, ValidationError } from '../../domain/errors.js';
import { isOrderId } from '../../domain/order.js';
import { jsonResponse, toApiResponse } from '../lib/http.js';
import { BATCH_GET_LIMIT, createOrderStore, type OrderStore } from '../lib/order-store.js';
import { observabilityFor } from '../lib/defaults.js';
import { instrumented } from '../lib/observability.js';
import type { LambdaHandler, Wiring } from '../lib/wiring.js';

export interface GetOrderDeps {
  store: OrderStore;
  logger: Logger;
  retryAfterSeconds?: number;
}

/** The ids of `GET /orders?ids=a,b,c`: 1 to BATCH_GET_LIMIT order ids, each named if it is not one. */
function idsOf(event: APIGatewayProxyEvent): string[] {
  const unknown = Object.keys(event.queryStringParameters ?? {}).filter((name) => name !== 'ids');
  if (unknown.length > 0) throw new ValidationError(unknown.map((name) => ({ field: name, message: 'Unknown query parameter' })));
  const ids = (event.queryStringParameters?.ids ?? '').split(',').filter((id) => id !== '');
  if (ids.length === 0 || ids.length > BATCH_GET_LIMIT) throw new ValidationError([{ field: 'ids', message: `Must be 1 to ${BATCH_GET_LIMIT} order ids, separated by commas` }]);
  const bad = ids.flatMap((id, i) => (isOrderId(id) ? [] : [{ field: `ids[${i}]`, message: 'Must be an order id (a UUID)' }]));
  if (bad.length > 0) throw new ValidationError(bad);
  return ids;
}

/**
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
        const ids = idsOf(event);
        return jsonResponse(200, { orders: await read(() => store.getMany(ids)) });
      }
      const orderId = event.pathParameters.id;
      if (!isOrderId(orderId)) throw new ValidationError([{ field: 'id', message: 'Must be an order id (a UUID)' }]);
      const order = await read(() => store.get(orderId));
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
