import type { Logger } from '@aws-lambda-powertools/logger';
import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { DependencyUnavailableError, NotFoundError, ValidationError } from '../../domain/errors.js';
import { isOrderId } from '../../domain/order.js';
import { jsonResponse, toApiResponse } from '../lib/http.js';

export interface GetOrderDeps {
  ddb: DynamoDBDocumentClient;
  tableName: string;
  logger: Logger;
  retryAfterSeconds?: number;
}

/** GET /orders/{id}: the stored order, or 404 until it has been processed. */
export function createGetOrderHandler({ ddb, tableName, logger, retryAfterSeconds = 2 }: GetOrderDeps) {
  async function readOrder(orderId: string) {
    try {
      // Consistent read: the status page asks right after processing and must not see a stale miss.
      const result = await ddb.send(new GetCommand({ TableName: tableName, Key: { order_id: orderId }, ConsistentRead: true }));
      return result.Item;
    } catch (error) {
      throw new DependencyUnavailableError('order table', retryAfterSeconds, { cause: error });
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
