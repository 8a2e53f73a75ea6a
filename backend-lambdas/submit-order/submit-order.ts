import type { Logger } from '@aws-lambda-powertools/logger';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import * as z from 'zod/mini';
import { CURRENCY, productJson, sortedProducts, type Menu } from '../../domain/catalogue.js';
import { parseConfig } from '../../domain/config.js';
import { DependencyUnavailableError, NotFoundError } from '../../domain/errors.js';
import { acceptOrder, fifoIdsOf, IDEMPOTENCY_KEY_FIELD, type QueuedOrder } from '../../domain/order.js';
import { createBatchingSender } from '../lib/batching-sender.js';
import { isFifoQueue } from '../lib/fifo.js';
import { header, jsonResponse, readJsonBody, toApiResponse } from '../lib/http.js';
import { observabilityFor } from '../lib/defaults.js';
import { menuEnvironment, menuFor } from '../lib/product-store.js';
import { count, instrumented, type MetricsRecorder } from '../lib/observability.js';
import type { LambdaHandler, Wiring } from '../lib/wiring.js';

export interface SubmitOrderDeps {
  sqs: SQSClient;
  queueUrl: string;
  logger: Logger;
  metrics?: MetricsRecorder;
  clock?: () => Date;
  menu: Menu;
  /** What a 503 tells the caller to wait before retrying. */
  retryAfterSeconds?: number;
}

/**
 * POST /orders: validate the order against the menu, queue it priced, answer 202 with its id.
 * GET /menu: the menu, every product with its price and whether it can be ordered now (the web tier's
 * menu); `?fresh=1` reads the table rather than this instance's kept menu, at most once a second per
 * instance however often any caller with the API key asks.
 */
export function createSubmitOrderHandler({ sqs, queueUrl, logger, metrics, clock = () => new Date(), menu, retryAfterSeconds = 5 }: SubmitOrderDeps) {
  const sendMessage = createBatchingSender(sqs, queueUrl);
  const fifo = isFifoQueue(queueUrl);

  async function enqueue(order: QueuedOrder): Promise<void> {
    try {
      await sendMessage(JSON.stringify(order), fifo ? fifoIdsOf(order) : undefined);
    } catch (error) {
      throw new DependencyUnavailableError('order queue', retryAfterSeconds, { cause: error });
    }
  }

  let freshAt = -Infinity;

  return async function submitOrder(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
    const requestId = event.requestContext.requestId;
    try {
      if (event.resource === '/menu') {
        if (event.httpMethod !== 'GET') throw new NotFoundError(`${event.httpMethod} ${event.path}`);
        // The web tier's first read after a change it saved: not this instance's kept menu, which may be older.
        if (event.queryStringParameters?.fresh === '1' && clock().getTime() - freshAt >= 1000) {
          freshAt = clock().getTime();
          menu.invalidate();
        }
        const catalogue = await menu.catalogue();
        return jsonResponse(200, { products: sortedProducts(catalogue.values()).map(productJson), currency: CURRENCY });
      }
      const body = readJsonBody(event);
      const catalogue = await menu.catalogue(productIdsIn(body));
      const order = acceptOrder(body, { idempotencyKey: header(event, IDEMPOTENCY_KEY_FIELD), now: clock(), catalogue });
      await enqueue(order);
      count(metrics, 'OrdersAccepted');
      logger.info('Order queued', { order_id: order.order_id, request_id: requestId });
      return jsonResponse(202, { order_id: order.order_id, status: 'QUEUED' });
    } catch (error) {
      return toApiResponse(error, logger, requestId);
    }
  };
}

/** The product ids an order's body names, so a product added since the menu was read is looked up at once. */
function productIdsIn(body: unknown): string[] {
  if (typeof body !== 'object' || body === null) return [];
  const { product_id: single, lines } = body as { product_id?: unknown; lines?: unknown };
  const ids = Array.isArray(lines) ? lines.map((line: unknown) => (typeof line === 'object' && line !== null ? (line as { product_id?: unknown }).product_id : undefined)) : [single];
  return ids.filter((id): id is string => typeof id === 'string').slice(0, 100);
}

export const configSchema = z.extend(menuEnvironment, { QUEUE_URL: z.url() });

export const wire: Wiring<'sqs' | 'documents', LambdaHandler<APIGatewayProxyEvent, APIGatewayProxyResult>> = (env, { sqs, documents }, options = {}) => {
  const { tracer, ...observability } = observabilityFor('submit-order', env, options);
  const config = parseConfig(configSchema, env, 'submit-order');
  const handler = createSubmitOrderHandler({
    sqs,
    queueUrl: config.QUEUE_URL,
    menu: menuFor(config, documents, options.menu),
    ...observability,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  return instrumented('submit-order', { tracer, metrics: observability.metrics }, handler);
};
