// The pipeline on a FIFO queue (QUEUE_TYPE=fifo), end to end on the local stack: each customer's
// orders are stored in the order they were received, a poison message holds back only its
// customer's group until it reaches the DLQ, and a duplicate send of an order id is dropped by the
// queue itself.
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { acceptOrder, fifoIdsOf } from '../../domain/order.js';
import type { LocalStack } from '../../local/stack.js';
import { profiles } from '../../local/profiles.js';
import { settings } from '../../platform/settings.js';
import { apiRequest, SEED_ORDER, startTestStack } from '../helpers/local-stack.js';
import { waitFor } from '../helpers/wait.js';
import type { SqsBatchHandler } from '../../local/event-source-mapping.js';

let stack: LocalStack;

interface Delivery {
  messageId: string;
  orderId: string | undefined;
  group: string | undefined;
  body: string;
  /** When process-order was invoked with it and when that invocation answered (ms since epoch). */
  at: number;
  answeredAt: number;
  failed: boolean;
}
/** Every record process-order was given, in the order of its invocations. */
const deliveries: Delivery[] = [];
/** A group handed to a poller while another poller's invocation still held it: must stay empty. */
const overlaps: string[] = [];
const inFlight = new Map<string, number>();

beforeAll(async () => {
  stack = await startTestStack({
    queueType: 'fifo',
    // A poison message blocks its group for maxReceiveCount visibility timeouts: 5 s each (the fast
    // profile's 2 s otherwise), so that window is sure to outlast the other 19 customers' drain on a
    // shared two-core machine, where that drain took from 3 to 13 s.
    profile: { ...profiles.fast, visibilityTimeoutSeconds: 5 },
    // The mapping starts once the orders are sent (each test starts it), so the drain is timed alone.
    processOrders: false,
    // No kitchen: the stored order is what is read here. The throttle as high as the test's burst.
    runSchedules: false,
    throttle: { rateLimit: 100_000, burstLimit: 100_000 },
    wrap: {
      'process-order': (handler: SqsBatchHandler) => async (event: SQSEvent, context: Context) => {
        const at = Date.now();
        const groups = event.Records.map((record) => record.attributes.MessageGroupId ?? '(none)');
        for (const group of new Set(groups)) {
          if (inFlight.has(group)) overlaps.push(group);
          inFlight.set(group, (inFlight.get(group) ?? 0) + 1);
        }
        let response: SQSBatchResponse | undefined;
        try {
          response = (await handler(event, context)) as SQSBatchResponse;
          return response;
        } finally {
          for (const group of new Set(groups)) {
            const left = inFlight.get(group)! - 1;
            if (left === 0) inFlight.delete(group);
            else inFlight.set(group, left);
          }
          const failed = new Set((response?.batchItemFailures ?? event.Records.map((record) => ({ itemIdentifier: record.messageId }))).map((failure) => failure.itemIdentifier));
          const answeredAt = Date.now();
          for (const record of event.Records) {
            let orderId: string | undefined;
            try {
              orderId = (JSON.parse(record.body) as { order_id?: string }).order_id;
            } catch {
              orderId = undefined;
            }
            deliveries.push({ messageId: record.messageId, orderId, group: record.attributes.MessageGroupId, body: record.body, at, answeredAt, failed: failed.has(record.messageId) });
          }
        }
      },
    },
  });
}, 30_000);
afterAll(() => stack.stop(), 30_000);

const postOrder = (body: unknown, headers: Record<string, string> = {}) =>
  apiRequest(stack, '/orders', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

/** Runs `work` over `items`, `limit` at a time, in order of start. */
async function withConcurrency<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) await work(items[next++]!);
  }));
}

describe('the pipeline on a FIFO queue', () => {
  it('when 1,000 orders from 20 customers are sent at once and one customer\'s group has a poison message, then every order is stored in its customer\'s received order, and the poison holds back only its group until the DLQ while the other 19 finish', async () => {
    const started = Date.now();
    const run = randomUUID().slice(0, 6);
    const customers = Array.from({ length: 20 }, (_, i) => `f${run}-${String(i).padStart(2, '0')}`);
    const poisoned = customers[7]!;
    // An integration's customer's FIFO group, as submit-order gives it.
    const groupOf = (customer: string) => fifoIdsOf({ order_id: '', customer_id: customer }).groupId;
    const perCustomer = 50;
    const poisonAfter = 20;
    const poison = JSON.stringify({ ...acceptOrder({ ...SEED_ORDER, customer_id: poisoned }, { now: new Date() }), lines: [{ product_id: 'Discontinued', quantity: 1 }] });
    const accepted = new Map<string, string[]>(customers.map((customer) => [customer, []]));
    const send = async (customer: string) => {
      const response = await postOrder({ ...SEED_ORDER, customer_id: customer });
      expect(response.status).toBe(202);
      accepted.get(customer)!.push(((await response.json()) as { order_id: string }).order_id);
    };
    await Promise.all(
      customers.map(async (customer) => {
        const orders = Array.from({ length: perCustomer }, (_, i) => i);
        if (customer !== poisoned) return withConcurrency(orders, 5, () => send(customer));
        // The poisoned customer's first orders, then the poison in their group, then the rest: its place is known.
        await withConcurrency(orders.slice(0, poisonAfter), 5, () => send(customer));
        await stack.clients.sqs.send(new SendMessageCommand({ QueueUrl: stack.resources.queue.url, MessageBody: poison, MessageGroupId: groupOf(poisoned), MessageDeduplicationId: randomUUID() }));
        await withConcurrency(orders.slice(poisonAfter), 5, () => send(customer));
      }),
    );
    const sentMs = Date.now() - started;
    const processingFrom = Date.now();
    stack.faults.startProcessing();

    const others = customers.filter((customer) => customer !== poisoned);
    const storedOf = (customer: string) => deliveries.filter((delivery) => delivery.group === groupOf(customer) && !delivery.failed && delivery.body !== poison);
    const othersDoneAt = await waitFor(() => (others.every((customer) => new Set(storedOf(customer).map((delivery) => delivery.orderId)).size === perCustomer) ? Date.now() : undefined), { timeoutMs: 60_000, intervalMs: 20, what: 'the other 19 customers\' orders' });
    const dlqAt = await waitFor(() => ((stack.inspectQueue(stack.resources.deadLetterQueue.name)?.messages.ready.length ?? 0) > 0 ? Date.now() : undefined), { timeoutMs: 60_000, intervalMs: 20, what: 'the poison message in the DLQ' });
    await waitFor(() => new Set(storedOf(poisoned).map((delivery) => delivery.orderId)).size === perCustomer, { timeoutMs: 30_000, intervalMs: 20, what: 'the poisoned customer\'s orders' });
    const items = (await stack.store.all()).filter((order) => customers.includes(order.customer_id));
    console.log(
      `fifo: 1,000 orders from 20 customers sent in ${sentMs} ms; then, from the mapping's start, the other 19 customers done in ${othersDoneAt - processingFrom} ms, the poison in ${stack.resources.deadLetterQueue.name} at ${dlqAt - processingFrom} ms, everything stored at ${Date.now() - processingFrom} ms; ${deliveries.length} records delivered`,
    );

    // Every order stored once, and nothing else.
    expect(items).toHaveLength(customers.length * perCustomer);
    for (const customer of customers) expect({ customer, stored: items.filter((order) => order.customer_id === customer).length }).toEqual({ customer, stored: perCustomer });
    // The group as process-order saw it is the customer, as Lambda's record would have it.
    expect(deliveries.filter((delivery) => delivery.orderId && items.some((order) => order.order_id === delivery.orderId)).every((delivery) => customers.map(groupOf).includes(delivery.group!))).toBe(true);

    // Each customer's orders were stored in the order they were received: by the sequence of
    // successful deliveries, and by the table's own RECEIVED times.
    const receivedAt = new Map(items.map((order) => [order.order_id, order.received_at]));
    for (const customer of customers) {
      const sequence = [...new Set(storedOf(customer).map((delivery) => delivery.orderId!))].map((id) => receivedAt.get(id)!);
      expect({ customer, sequence }).toEqual({ customer, sequence: [...sequence].sort() });
      // Two orders received in the same millisecond are in received order either way round.
      const storedAtOf = (order: (typeof items)[number]) => Date.parse(order.status_history[0]!.at);
      const byReceipt = items.filter((order) => order.customer_id === customer).sort((a, b) => a.received_at.localeCompare(b.received_at) || storedAtOf(a) - storedAtOf(b));
      const storedAt = byReceipt.map(storedAtOf);
      expect({ customer, storedAt }).toEqual({ customer, storedAt: [...storedAt].sort((a, b) => a - b) });
      expect(new Set(accepted.get(customer))).toEqual(new Set(byReceipt.map((order) => order.order_id)));
    }

    // The poison: received maxReceiveCount times, then in the DLQ in its customer's group.
    const poisonReceives = deliveries.filter((delivery) => delivery.body === poison);
    expect(poisonReceives).toHaveLength(settings.queue.maxReceiveCount);
    expect(stack.inspectQueue(stack.resources.deadLetterQueue.name)?.messages.ready.map((message) => [message.body, message.messageGroupId])).toEqual([[poison, groupOf(poisoned)]]);
    // It held back its own group only: the other 19 finished before it reached the DLQ...
    expect(othersDoneAt).toBeLessThan(dlqAt);
    // ...and its customer's orders after it waited for its last receive, those before it did not.
    const firstPoisonReceive = Math.min(...poisonReceives.map((delivery) => delivery.at));
    const lastPoisonAnswer = Math.max(...poisonReceives.map((delivery) => delivery.answeredAt));
    const [before, after] = [accepted.get(poisoned)!.slice(0, poisonAfter), accepted.get(poisoned)!.slice(poisonAfter)];
    const storedTime = (ids: string[]) => storedOf(poisoned).filter((delivery) => ids.includes(delivery.orderId!)).map((delivery) => delivery.at);
    expect(Math.max(...storedTime(before))).toBeLessThan(firstPoisonReceive);
    expect(Math.min(...storedTime(after))).toBeGreaterThan(lastPoisonAnswer);

    // Five pollers, and never two with the same group at once (fauxqs locks a group while a message of it is in flight).
    expect(overlaps).toEqual([]);
    expect(Date.now() - started).toBeLessThan(90_000);
  }, 100_000);

  it('when an order id is sent again within five minutes, then the queue drops the duplicate: process-order gets it once and the table holds one item', async () => {
    stack.faults.startProcessing();
    const customer = `dup-${randomUUID().slice(0, 8)}`;
    const key = randomUUID();
    const first = (await (await postOrder({ ...SEED_ORDER, customer_id: customer }, { 'Idempotency-Key': key })).json()) as { order_id: string };
    const second = (await (await postOrder({ ...SEED_ORDER, customer_id: customer }, { 'Idempotency-Key': key })).json()) as { order_id: string };
    expect(second.order_id).toBe(first.order_id);
    // The same order id sent straight to the queue, even with other content: the queue deduplicates by the id, not the body.
    const queued = acceptOrder({ ...SEED_ORDER, customer_id: customer }, { idempotencyKey: key, now: new Date() });
    const direct = await stack.clients.sqs.send(
      new SendMessageCommand({ QueueUrl: stack.resources.queue.url, MessageBody: JSON.stringify({ ...queued, lines: [{ product_id: 'Banana', quantity: 7 }] }), MessageGroupId: customer, MessageDeduplicationId: queued.order_id }),
    );
    expect(queued.order_id).toBe(first.order_id);

    // A marker order of the same customer, sent after: once it is stored, anything queued before it in the group was delivered.
    const marker = (await (await postOrder({ ...SEED_ORDER, customer_id: customer })).json()) as { order_id: string };
    await waitFor(() => deliveries.some((delivery) => delivery.orderId === marker.order_id && !delivery.failed), { what: 'the marker order' });
    const delivered = deliveries.filter((delivery) => delivery.orderId === first.order_id);
    expect(delivered).toHaveLength(1);
    expect(delivered[0]!.messageId).toBe(direct.MessageId);
    const items = (await stack.store.all()).filter((order) => order.customer_id === customer);
    expect(items.map((order) => order.order_id).sort()).toEqual([first.order_id, marker.order_id].sort());
    expect(items.find((order) => order.order_id === first.order_id)?.lines).toMatchObject([{ product_id: 'Banana', quantity: 1 }]);
  });
});
