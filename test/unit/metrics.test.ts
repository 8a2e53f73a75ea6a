import { Metrics } from '@aws-lambda-powertools/metrics';
import { randomUUID } from 'node:crypto';
import { wire as wireKitchen } from '../../backend-lambdas/advance-orders/advance-orders.js';
import { jest } from '@jest/globals';
import { count, instrumented, METRICS_NAMESPACE, type MetricsRecorder } from '../../backend-lambdas/lib/observability.js';
import { wire as wireProcess } from '../../backend-lambdas/process-order/process-order.js';
import { wire as wireSubmit } from '../../backend-lambdas/submit-order/submit-order.js';
import { acceptOrder, storedOrder } from '../../domain/order.js';
import { createLambdaContext } from '../../local/lambda-context.js';
import type { LocalStack } from '../../local/stack.js';
import { apiEvent, sqsEvent, sqsRecord } from '../helpers/events.js';
import { SEED_ORDER, startTestStack } from '../helpers/local-stack.js';
import { silentLambdaLogger } from '../helpers/loggers.js';

let stack: LocalStack;
beforeAll(async () => {
  stack = await startTestStack({ processOrders: false, runSchedules: false });
});
afterAll(() => stack.stop());

/** Counts what a function records, and how often it flushes (once per invocation, as on Lambda). */
function recorder() {
  const counts: Record<string, number> = {};
  const state = { flushes: 0 };
  let stored = false;
  const metrics: MetricsRecorder = {
    addMetric: (name, _unit, value) => void ((counts[name] = (counts[name] ?? 0) + value), (stored = true)),
    hasStoredMetrics: () => stored,
    publishStoredMetrics: () => void (state.flushes++, (stored = false)),
  };
  return { metrics, counts, state };
}

const timings = { RECEIVED: 0, PREPARING: 3600, READY: 3600 };
const tableEnv = () => ({ TABLE_NAME: stack.resources.tableName, ORDER_TIMINGS: JSON.stringify(timings), ORDER_EVENTS_TOPIC_ARN: stack.resources.topics.orderEvents });

describe('business metrics', () => {
  it('when submit-order accepts one order and refuses another, then OrdersAccepted is 1, flushed by the invocation that counted it; the other flushes nothing', async () => {
    const { metrics, counts, state } = recorder();
    const handler = wireSubmit({ QUEUE_URL: stack.resources.queue.url, PRODUCTS_TABLE_NAME: stack.resources.productsTableName }, stack.clients, { metrics, logger: silentLambdaLogger() });
    expect((await handler(apiEvent({ body: JSON.stringify(SEED_ORDER) }), createLambdaContext('submit-order'))).statusCode).toBe(202);
    expect((await handler(apiEvent({ body: '{"quantity":0}' }), createLambdaContext('submit-order'))).statusCode).toBe(400);
    expect(counts).toEqual({ OrdersAccepted: 1 });
    expect(state.flushes).toBe(1);
  });

  it('when process-order stores one new order, sees a duplicate and fails two records, one at its last receive, then Stored 1, Failed 2, DeadLettered 1', async () => {
    const { metrics, counts } = recorder();
    const handler = wireProcess({ ...tableEnv(), MAX_RECEIVE_COUNT: '5' }, stack.clients, { metrics, logger: silentLambdaLogger() });
    const order = acceptOrder(SEED_ORDER, { now: new Date() });
    const poison = JSON.stringify({ ...order, order_id: randomUUID(), product_id: 'Gone' });
    const response = await handler(
      sqsEvent(sqsRecord(JSON.stringify(order)), sqsRecord(JSON.stringify(order)), sqsRecord(poison, { receiveCount: 2 }), sqsRecord(poison, { receiveCount: 5 })),
      createLambdaContext('process-order'),
    );
    expect(response.batchItemFailures).toHaveLength(2);
    expect(counts).toEqual({ OrdersStored: 1, OrdersFailed: 2, OrdersDeadLettered: 1 });
  });

  it('when the kitchen moves orders, then StatusChanges counts each move', async () => {
    const { metrics, counts } = recorder();
    const at = new Date(Date.now() - 1000);
    for (let i = 0; i < 3; i++) await stack.store.putOnce(storedOrder(acceptOrder({ ...SEED_ORDER, customer_id: `m-${i}` }, { now: at }), at, timings));
    const run = (await wireKitchen(tableEnv(), stack.clients, { metrics, logger: silentLambdaLogger() })({}, createLambdaContext('advance-orders'))) as { advanced: number };
    expect(run.advanced).toBeGreaterThanOrEqual(3);
    expect(counts).toEqual({ StatusChanges: run.advanced });
  });

  it('when an invocation counts nothing, then Powertools Metrics is not flushed (it would log a warning for every read); one that counts is flushed once', async () => {
    const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'my-orders' });
    const flush = jest.spyOn(metrics, 'publishStoredMetrics').mockImplementation(() => metrics);
    await instrumented('my-orders', { metrics }, () => Promise.resolve('read'))(undefined, createLambdaContext('my-orders'));
    expect(flush).not.toHaveBeenCalled();
    await instrumented('my-orders', { metrics }, () => Promise.resolve(count(metrics, 'OrdersCancelled')))(undefined, createLambdaContext('my-orders'));
    expect(flush).toHaveBeenCalledTimes(1);
    metrics.clearMetrics();
  });

  it('when Powertools Metrics serializes them, then they are EMF in namespace OrderPipeline with the function as service', () => {
    const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'process-order' });
    metrics.addMetric('OrdersStored', 'Count', 2);
    const emf = metrics.serializeMetrics();
    expect(emf._aws.CloudWatchMetrics).toEqual([{ Namespace: 'OrderPipeline', Dimensions: [['service']], Metrics: [{ Name: 'OrdersStored', Unit: 'Count' }] }]);
    expect(emf).toMatchObject({ service: 'process-order', OrdersStored: 2 });
    metrics.clearMetrics();
  });
});
