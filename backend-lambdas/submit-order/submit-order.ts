import type { Logger } from '@aws-lambda-powertools/logger';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import * as z from 'zod/mini';
import type { Catalogue } from '../../domain/catalogue.js';
import { parseConfig } from '../../domain/config.js';
import { DependencyUnavailableError } from '../../domain/errors.js';
import { acceptOrder, fifoIdsOf, IDEMPOTENCY_KEY_FIELD, type QueuedOrder } from '../../domain/order.js';
import { createBatchingSender } from '../lib/batching-sender.js';
import { isFifoQueue } from '../lib/fifo.js';
import { header, jsonResponse, readJsonBody, toApiResponse } from '../lib/http.js';
import { observabilityFor } from '../lib/defaults.js';
import { count, instrumented, type MetricsRecorder } from '../lib/observability.js';
import type { LambdaHandler, Wiring } from '../lib/wiring.js';

export interface SubmitOrderDeps {
  sqs: SQSClient;
  queueUrl: string;
  logger: Logger;
  metrics?: MetricsRecorder;
  clock?: () => Date;
  catalogue?: Catalogue;
  /** What a 503 tells the caller to wait before retrying. */
  retryAfterSeconds?: number;
}

/** POST /orders: validate the order, queue it, answer 202 with its id. */
export function createSubmitOrderHandler({ sqs, queueUrl, logger, metrics, clock = () => new Date(), catalogue, retryAfterSeconds = 5 }: SubmitOrderDeps) {
  const sendMessage = createBatchingSender(sqs, queueUrl);
  const fifo = isFifoQueue(queueUrl);

  async function enqueue(order: QueuedOrder): Promise<void> {
    try {
      await sendMessage(JSON.stringify(order), fifo ? fifoIdsOf(order) : undefined);
    } catch (error) {
      throw new DependencyUnavailableError('order queue', retryAfterSeconds, { cause: error });
    }
  }

  return async function submitOrder(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
    const requestId = event.requestContext.requestId;
    try {
      const order = acceptOrder(readJsonBody(event), {
        idempotencyKey: header(event, IDEMPOTENCY_KEY_FIELD),
        now: clock(),
        ...(catalogue ? { catalogue } : {}),
      });
      await enqueue(order);
      count(metrics, 'OrdersAccepted');
      logger.info('Order queued', { order_id: order.order_id, request_id: requestId });
      return jsonResponse(202, { order_id: order.order_id, status: 'QUEUED' });
    } catch (error) {
      return toApiResponse(error, logger, requestId);
    }
  };
}

export const configSchema = z.object({ QUEUE_URL: z.url() });

export const wire: Wiring<'sqs', LambdaHandler<APIGatewayProxyEvent, APIGatewayProxyResult>> = (env, { sqs }, options = {}) => {
  const { tracer, ...observability } = observabilityFor('submit-order', env, options);
  const handler = createSubmitOrderHandler({
    sqs,
    queueUrl: parseConfig(configSchema, env, 'submit-order').QUEUE_URL,
    ...observability,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.catalogue ? { catalogue: options.catalogue } : {}),
  });
  return instrumented('submit-order', { tracer, metrics: observability.metrics }, handler);
};
