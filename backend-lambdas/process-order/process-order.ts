import { BatchProcessor, EventType, processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod/mini';
import type { Catalogue } from '../../domain/catalogue.js';
import { formatPrice } from '../../domain/catalogue.js';
import { parseConfig } from '../../domain/config.js';
import type { LifecycleTimings } from '../../domain/lifecycle.js';
import { parseQueuedOrder, storedOrder, summariseLines, type StoredOrder } from '../../domain/order.js';
import { isFifoQueue } from '../lib/fifo.js';
import { eventAttributes, publishInBatches } from '../lib/order-events.js';
import { orderWriterDeps, orderWriterEnvironment } from '../lib/defaults.js';
import { count, instrumented, type MetricsRecorder } from '../lib/observability.js';
import type { OrderStore } from '../lib/order-store.js';
import type { LambdaHandler, Wiring } from '../lib/wiring.js';

export interface ProcessOrderDeps {
  store: OrderStore;
  timings: LifecycleTimings;
  logger: Logger;
  metrics?: MetricsRecorder;
  /** The queue's maxReceiveCount: a record failing at this receive goes to the DLQ, and is counted so. */
  maxReceiveCount?: number | undefined;
  /** Where "order received" notifications go; none are sent when absent. */
  sns?: SNSClient | undefined;
  topicArn?: string | undefined;
  clock?: () => Date;
  catalogue?: Catalogue;
}

/**
 * The SQS consumer: each record is validated again, priced and stored once as RECEIVED. A record
 * that fails is reported in batchItemFailures so SQS redelivers it, and after maxReceiveCount moves
 * it to the DLQ.
 *
 * From a FIFO queue (one group per customer) a customer's records are processed one after another,
 * and once one of them fails, that customer's later records in the batch are reported as failures
 * without being tried (Powertools' SqsFifoPartialProcessorAsync with skipGroupOnError), so the
 * customer's orders are stored in the order they were received; other customers' records go on.
 */
export function createProcessOrderHandler({ store, timings, logger, metrics, maxReceiveCount, sns, topicArn, clock = () => new Date(), catalogue }: ProcessOrderDeps) {
  // Processors live as long as the handler instance, as in one Lambda execution environment, and
  // hold per-batch state. Which kind a batch gets is the queue's type, read from its records'
  // eventSourceARN, so the same function serves a standard and a FIFO queue alike (both at once
  // while a deployment moves from one to the other).
  const standardProcessor = new BatchProcessor(EventType.SQS);
  // The FIFO processor takes its records one at a time, whatever their group: a batch of ten
  // customers' orders would take ten times one order's time. So each customer's records of a batch
  // get a processor of their own and the customers go side by side; the processors are reused from
  // batch to batch (at most one per record of a batch).
  const fifoProcessors: SqsFifoPartialProcessorAsync[] = [];
  const isLastReceive = (record: SQSRecord) => maxReceiveCount !== undefined && Number(record.attributes.ApproximateReceiveCount) >= maxReceiveCount;

  function notification(order: StoredOrder) {
    return {
      Subject: `Order received: ${summariseLines(order.lines)}`.slice(0, 100),
      Message: [
        `Order ${order.order_id} was received and stored.`,
        '',
        `Customer: ${order.customer_id}`,
        ...order.lines.map((line) => `  ${line.quantity} x ${line.product_name} (${line.product_id})  ${formatPrice(line.line_total_cents, order.currency)}`),
        `Total:    ${formatPrice(order.total_cents, order.currency)}`,
        `Ordered:  ${order.order_date}`,
      ].join('\n'),
      MessageAttributes: eventAttributes('order.received', { orderId: order.order_id, customerId: order.customer_id, status: order.status, customerMail: order.customer_email !== undefined }),
    };
  }

  /**
   * Publishes "order received" for the stored orders, ten to a PublishBatch call; answers the message
   * ids whose notification failed. Published on duplicate deliveries too: if an earlier delivery's
   * publish failed, this is its retry (notifications are at least once).
   */
  async function notifyAll(stored: { messageId: string; order: StoredOrder }[]): Promise<string[]> {
    if (!sns || !topicArn || stored.length === 0) return [];
    const failed = await publishInBatches(sns, topicArn, stored, (entry) => notification(entry.order), (error) =>
      logger.error('Publishing order notifications failed; SQS will redeliver their orders', { error: error as Error }),
    );
    return failed.map((entry) => entry.messageId);
  }

  async function processRecord(record: SQSRecord, stored: { messageId: string; order: StoredOrder }[], tried: Set<string>): Promise<void> {
    tried.add(record.messageId);
    let orderId: string | undefined;
    try {
      const order = storedOrder(parseQueuedOrder(record.body, catalogue), clock(), timings, catalogue);
      orderId = order.order_id;
      const isNew = await store.putOnce(order);
      if (isNew) count(metrics, 'OrdersStored');
      stored.push({ messageId: record.messageId, order });
      logger.info(isNew ? 'Order stored' : 'Order already stored; duplicate delivery', {
        order_id: orderId,
        message_id: record.messageId,
      });
    } catch (error) {
      count(metrics, 'OrdersFailed');
      if (isLastReceive(record)) count(metrics, 'OrdersDeadLettered');
      logger.error('Order failed; SQS will redeliver it', {
        order_id: orderId,
        message_id: record.messageId,
        receive_count: record.attributes.ApproximateReceiveCount,
        error: error as Error,
      });
      throw error;
    }
  }

  /**
   * The records a FIFO batch's processor failed without trying them: behind an earlier failure of
   * their customer. Their receive counts rose with that failure's, so at the last receive SQS moves
   * them to the DLQ as well, and they are counted so.
   */
  function heldBack(records: readonly SQSRecord[], failed: ReadonlySet<string>, tried: ReadonlySet<string>): void {
    for (const record of records.filter((candidate) => failed.has(candidate.messageId) && !tried.has(candidate.messageId))) {
      if (isLastReceive(record)) count(metrics, 'OrdersDeadLettered');
      logger.warn('Order held back behind an earlier failure of its customer; SQS will redeliver it in order', {
        message_id: record.messageId,
        group: record.attributes.MessageGroupId,
        receive_count: record.attributes.ApproximateReceiveCount,
      });
    }
  }

  /** A FIFO batch, each customer's records in their order through a FIFO processor, the customers side by side. */
  async function processByGroup(records: SQSRecord[], recordHandler: (record: SQSRecord) => Promise<void>, context: Context): Promise<SQSBatchResponse['batchItemFailures']> {
    const byGroup = new Map<string, SQSRecord[]>();
    for (const record of records) {
      const group = record.attributes.MessageGroupId ?? '';
      byGroup.set(group, [...(byGroup.get(group) ?? []), record]);
    }
    const groups = [...byGroup.values()];
    while (fifoProcessors.length < groups.length) fifoProcessors.push(new SqsFifoPartialProcessorAsync());
    const responses = await Promise.all(
      groups.map((Records, i) => processPartialResponse({ Records }, recordHandler, fifoProcessors[i]!, { context, throwOnFullBatchFailure: false, skipGroupOnError: true })),
    );
    return responses.flatMap((response) => response.batchItemFailures);
  }

  return async function processOrders(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
    const records = event.Records ?? [];
    const fifo = records.length > 0 && isFifoQueue(records[0]!.eventSourceARN);
    const stored: { messageId: string; order: StoredOrder }[] = [];
    const tried = new Set<string>();
    const recordHandler = (record: SQSRecord) => processRecord(record, stored, tried);
    // All records failing is answered like any partial failure, not thrown: SQS retries exactly the
    // same set either way.
    const batchItemFailures = fifo
      ? await processByGroup(records, recordHandler, context)
      : (await processPartialResponse(event, recordHandler, standardProcessor, { context, throwOnFullBatchFailure: false })).batchItemFailures;
    const failed = new Set(batchItemFailures.map((failure) => failure.itemIdentifier));
    if (fifo) heldBack(records, failed, tried);
    // The batch's notifications are published once it is processed, ten to a call.
    for (const messageId of await notifyAll(stored)) {
      failed.add(messageId);
      // In a FIFO batch, a customer's later orders wait for this one's retry too: their "order
      // received" must not go out before its.
      if (fifo) {
        const failedRecord = records.findIndex((record) => record.messageId === messageId);
        const group = records[failedRecord]?.attributes.MessageGroupId;
        for (const later of records.slice(failedRecord + 1)) if (later.attributes.MessageGroupId === group) failed.add(later.messageId);
      }
    }
    // In the batch's order, as Lambda reads them.
    return { batchItemFailures: records.filter((record) => failed.has(record.messageId)).map((record) => ({ itemIdentifier: record.messageId })) };
  };
}

export const configSchema = z.extend(orderWriterEnvironment, {
  MAX_RECEIVE_COUNT: z.optional(z.pipe(z.string().check(z.regex(/^\d{1,4}$/)), z.transform(Number))),
});

export const wire: Wiring<'documents' | 'sns', LambdaHandler<SQSEvent, SQSBatchResponse>> = (env, clients, options = {}) => {
  const { tracer, ...deps } = orderWriterDeps('process-order', env, clients, options);
  const handler = createProcessOrderHandler({
    ...deps,
    maxReceiveCount: parseConfig(configSchema, env, 'process-order').MAX_RECEIVE_COUNT,
    ...(options.catalogue ? { catalogue: options.catalogue } : {}),
  });
  return instrumented('process-order', { tracer, metrics: deps.metrics }, handler);
};
