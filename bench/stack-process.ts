// The local stack in a process of its own for the benchmark, driven over IPC by bench/run.ts, so its
// memory can be measured apart from the driver and the baselines run with the stack's own clients.
import { DeleteMessageBatchCommand, GetQueueAttributesCommand, PurgeQueueCommand, ReceiveMessageCommand, SendMessageBatchCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createCartStore } from '../backend-lambdas/lib/cart-store.js';
import { createOrderStore } from '../backend-lambdas/lib/order-store.js';
import { transition } from '../domain/lifecycle.js';
import { acceptOrder, fifoIdsOf, parseQueuedOrder, storedOrder } from '../domain/order.js';
import { isFifoQueue } from '../backend-lambdas/lib/fifo.js';
import { triggerOf } from '../platform/functions.js';
import { profiles } from '../local/profiles.js';
import { startSchedule, type Schedule } from '../local/scheduler.js';
import { startLocalStack } from '../local/stack.js';
import { THREE_LINES, writeCarts } from '../test/helpers/prepared-customers.js';
import { percentile } from './report.js';

// Stored orders wait an hour before the kitchen may take them, so intake and drain leave nothing due;
// the kitchen's rows make their own due orders, and then each later step takes 2 s.
const lifecycleTimings = { RECEIVED: 3600, PREPARING: 2, READY: 2 };
const scheduledEvent = { source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} };

const stack = await startLocalStack({
  stateDir: await mkdtemp(join(tmpdir(), 'orders-bench-')),
  profile: { ...profiles.default, lifecycleTimings },
  logLevel: 'silent',
  processOrders: false,
  // The kitchen runs only when the benchmark asks (its own row); on a schedule it would move orders mid-measurement.
  runSchedules: false,
  // As deployed by default (order_events_email unset): no mail per order.
  // Disabling the mapping between runs waits for its polls to end: keep them short so no poll is left holding messages.
  pollWaitSeconds: 1,
  throttle: { rateLimit: 1_000_000, burstLimit: 1_000_000 },
  // As npm start runs it, unless bench/run.ts asks for the comparison without the queue journal.
  durableQueues: process.env.BENCH_DURABLE_QUEUES !== '0',
  // The FIFO comparison's stack: orders.fifo, a group per customer.
  queueType: process.env.BENCH_QUEUE_TYPE === 'fifo' ? 'fifo' : 'standard',
  webEnv: { RATE_LIMIT_MAX: '1000000', RATE_LIMIT_BURST_MAX: '1000000', ORDER_RATE_LIMIT_MAX: '1000000', LOG_LEVEL: 'silent' },
});
const { sqs, documents } = stack.clients;
const queueUrl = stack.resources.queue.url;
const tableName = stack.resources.tableName;
const store = createOrderStore({ documents, tableName });
const concurrency = triggerOf('process-order', 'queue').maximumConcurrency;
let minimalConsumer: { stop(): Promise<void> } | undefined;

let kitchenSchedule: Schedule | undefined;

/** `count` orders stored as RECEIVED long enough ago to be due `dueInMs` from now. */
async function storeDue(count: number, tag: string, dueInMs: number) {
  const at = new Date(Date.now() - lifecycleTimings.RECEIVED * 1000 + dueInMs);
  const orders = Array.from({ length: count }, (_, i) => storedOrder(order(`${tag}-${i}`), at, lifecycleTimings));
  for (let i = 0; i < orders.length; i += 50) await Promise.all(orders.slice(i, i + 50).map((stored) => store.putOnce(stored)));
  return orders;
}

function order(tag: string) {
  return acceptOrder({ customer_id: tag, product_id: 'Banana', quantity: 1 }, { now: new Date() });
}

async function depth(): Promise<number> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible);
}

async function untilEmpty(): Promise<void> {
  while ((await depth()) > 0) await new Promise((resolve) => setTimeout(resolve, 50));
}

/** `op` in a loop, `connections` at a time, for `seconds`: how many succeeded (true) and how many did not. */
async function loopFor(seconds: number, connections: number, op: () => Promise<boolean>) {
  const deadline = Date.now() + seconds * 1000;
  let count = 0;
  let errors = 0;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (Date.now() < deadline) {
        if (await op().catch(() => false)) count++;
        else errors++;
      }
    }),
  );
  return { count, errors, seconds };
}

const carts = createCartStore({ documents, tableName: stack.resources.cartsTableName });
const commands: Record<string, (args: Record<string, number | string>) => Promise<unknown>> = {
  /** Carts of three lines for customers `${tag}-0` ... written as the cart Lambda writes them. */
  async fillCarts({ count, tag }) {
    const total = Number(count);
    await writeCarts(carts, Array.from({ length: total }, (_, i) => `${tag}-${i}`));
    return { count: total };
  },
  /** The floor of intake: SendMessage in a loop from this process, `connections` at a time. */
  async rawSend({ seconds, connections }) {
    const body = JSON.stringify(order('bench-raw'));
    return loopFor(Number(seconds), Number(connections), async () => {
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
      return true;
    });
  },
  /**
   * A checkout's work in a raw loop, the baseline of the checkout target: read the cart, send its
   * order (three priced lines) with SendMessage, write the cart back conditional on the version read,
   * with the stack's own clients. `connections` at a time over carts written first, unmeasured; each
   * one's time for the p99.
   */
  async checkoutWork({ seconds, connections, tag }) {
    const ids = Array.from({ length: Number(connections) * 20 }, (_, i) => `${tag}-${i}`);
    await writeCarts(carts, ids);
    // The order as checkout sends it, priced once here: the loop is the I/O, our code is what is measured against it.
    const queued = acceptOrder({ customer_id: `${tag}-order`, lines: THREE_LINES.map(([product_id, quantity]) => ({ product_id, quantity })) }, { now: new Date() });
    const body = JSON.stringify(queued);
    const fifo = isFifoQueue(queueUrl);
    let next = 0;
    const latencies: number[] = [];
    const result = await loopFor(Number(seconds), Number(connections), async () => {
      const started = performance.now();
      const cart = await carts.get(ids[next++ % ids.length]!);
      if (!cart) return false;
      // On FIFO a group per send, as checkout gives each customer theirs; the id is unique per send so none is deduplicated.
      const fifoIds = fifo ? { MessageGroupId: cart.customer_id, MessageDeduplicationId: `${cart.customer_id}-${cart.version}` } : {};
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body, ...fifoIds }));
      const written = await carts.put({ ...cart, version: cart.version + 1 });
      latencies.push(performance.now() - started);
      return written;
    });
    return { ...result, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
  },
  async purge() {
    await sqs.send(new PurgeQueueCommand({ QueueUrl: queueUrl }));
    return {};
  },
  /**
   * Puts `count` valid orders on the queue: each its own customer's, or with `customers`, spread over
   * that many customers in turn. On a FIFO queue each goes in its customer's group, as submit-order sends it.
   */
  async fill({ count, tag, customers }) {
    const total = Number(count);
    const customerOf = (i: number) => (customers ? `${tag}-c${i % Number(customers)}` : `${tag}-${i}`);
    const entryOf = (id: number, i: number) => {
      const queued = order(customerOf(i));
      const fifo = isFifoQueue(queueUrl) ? fifoIdsOf(queued) : undefined;
      return { Id: String(id), MessageBody: JSON.stringify(queued), ...(fifo ? { MessageGroupId: fifo.groupId, MessageDeduplicationId: fifo.deduplicationId } : {}) };
    };
    let next = 0;
    await Promise.all(
      // On FIFO one sender: parallel batches would put a customer's orders in the queue out of their turn (harmless here, but not what submit-order does).
      Array.from({ length: isFifoQueue(queueUrl) ? 1 : 10 }, async () => {
        for (let start = (next += 10) - 10; start < total; start = (next += 10) - 10) {
          const entries = Array.from({ length: Math.min(10, total - start) }, (_, i) => entryOf(i, start + i));
          await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
        }
      }),
    );
    return { count: total };
  },
  /** The event source mapping and process-order, timed from start until the queue is empty. */
  async drain() {
    const started = performance.now();
    stack.faults.startProcessing();
    await untilEmpty();
    const seconds = (performance.now() - started) / 1000;
    await stack.faults.stopProcessing();
    return { seconds };
  },
  /** The least that draining takes: receive, the same conditional put, delete; same clients, same concurrency. */
  async baselineDrain() {
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (;;) {
          const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
          if (Messages.length === 0 && (await depth()) === 0) return;
          await Promise.all(
            Messages.map(async (message) => {
              await store.putOnce(storedOrder(JSON.parse(message.Body!) as ReturnType<typeof order>, new Date(), stack.profile.lifecycleTimings));
            }),
          );
          if (Messages.length > 0) {
            await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: Messages.map((message, i) => ({ Id: String(i), ReceiptHandle: message.ReceiptHandle })) }));
          }
        }
      }),
    );
    return { seconds: (performance.now() - started) / 1000 };
  },
  /**
   * The least a consumer can do under the steady load: receive (with the mapping's poll wait and
   * concurrency), the same conditional put of the same stored order, delete. Runs until stopped.
   */
  startMinimalConsumer() {
    minimalConsumer ??= (() => {
      let running = true;
      const done = Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (running || (await depth()) > 0) {
            const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
            await Promise.all(Messages.map((message) => store.putOnce(storedOrder(parseQueuedOrder(message.Body!), new Date(), stack.profile.lifecycleTimings))));
            if (Messages.length > 0) {
              await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: Messages.map((message, i) => ({ Id: String(i), ReceiptHandle: message.ReceiptHandle })) }));
            }
          }
        }),
      );
      return {
        async stop() {
          running = false;
          await done;
        },
      };
    })();
    return Promise.resolve({});
  },
  /** Stops the minimal consumer once the queue is empty. */
  async stopMinimalConsumer() {
    await minimalConsumer?.stop();
    minimalConsumer = undefined;
    return {};
  },
  startProcessing() {
    stack.faults.startProcessing();
    return Promise.resolve({});
  },
  async stopProcessing() {
    await stack.faults.stopProcessing();
    return {};
  },
  /** Submit-to-stored times (stored as RECEIVED minus received_at, both stamped here) of the orders of a customer tag. */
  async latencies({ tag }) {
    const values: number[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await documents.send(
        new ScanCommand({ TableName: tableName, FilterExpression: 'begins_with(customer_id, :tag)', ExpressionAttributeValues: { ':tag': tag }, ProjectionExpression: 'received_at, status_history', ExclusiveStartKey }),
      );
      for (const item of page.Items ?? []) values.push(Date.parse((item.status_history as { at: string }[])[0]!.at) - Date.parse(item.received_at as string));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return { values };
  },
  async untilEmpty() {
    await untilEmpty();
    return {};
  },
  /** Stores `count` due orders, then one kitchen run (Query the index, conditional UpdateItem, publish). */
  async kitchenRound({ count, tag }) {
    await storeDue(Number(count), String(tag), -1000);
    const started = performance.now();
    const run = (await stack.invoke('advance-orders', scheduledEvent)) as { advanced: number };
    return { seconds: (performance.now() - started) / 1000, advanced: run.advanced };
  },
  /** The least that advancing takes: the same conditional UpdateItem per order, ids known, no Query, no publish. */
  async baselineAdvance({ count, tag }) {
    const orders = await storeDue(Number(count), String(tag), 3_600_000);
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        // The same concurrency the kitchen uses for its writes; CANCELLED, so none of these is due later.
        while (next < orders.length) {
          await store.applyChange(orders[next++]!, transition({ status: 'RECEIVED', version: 1 }, { to: 'CANCELLED', at: new Date(), timings: lifecycleTimings }));
        }
      }),
    );
    return { seconds: (performance.now() - started) / 1000, advanced: orders.length };
  },
  /** `perCustomer` stored orders of three lines for each of `customers` (ids), as process-order stores them: what "My orders" lists. */
  async storeCustomerOrders({ customers, perCustomer }) {
    const ids = String(customers).split(',');
    const orders = ids.flatMap((customer) =>
      Array.from({ length: Number(perCustomer) }, () =>
        storedOrder(acceptOrder({ customer_id: customer, lines: THREE_LINES.map(([product_id, quantity]) => ({ product_id, quantity })) }, { now: new Date() }), new Date(), lifecycleTimings),
      ),
    );
    for (let i = 0; i < orders.length; i += 50) await Promise.all(orders.slice(i, i + 50).map((stored) => store.putOnce(stored)));
    return { stored: orders.length };
  },
  /** Orders for the live-status row: due `dueInMs` from now. */
  async liveOrders({ count, tag, dueInMs }) {
    return { ids: (await storeDue(Number(count), String(tag), Number(dueInMs))).map((stored) => stored.order_id) };
  },
  /** The kitchen on a schedule of `everyMs`, as EventBridge would run it (seconds apart, not minutes). */
  startKitchen({ everyMs }) {
    kitchenSchedule = startSchedule({
      functionName: 'advance-orders',
      everySeconds: Number(everyMs) / 1000,
      handler: (event) => stack.invoke('advance-orders', event),
      // A failed run is retried by the next tick, as on AWS; it shows on stderr rather than ending the run.
      logger: pino({ level: 'warn' }, pino.destination(2)),
    });
    return Promise.resolve({});
  },
  async stopKitchen() {
    await kitchenSchedule?.stop();
    return {};
  },
};

process.on('message', (message: { id: number; command: string; args?: Record<string, number | string> }) => {
  const run = commands[message.command];
  (run ? run(message.args ?? {}) : Promise.reject(new Error(`unknown command ${message.command}`))).then(
    (result) => process.send!({ id: message.id, result }),
    (error: unknown) => process.send!({ id: message.id, error: String(error) }),
  );
});
process.on('disconnect', () => void stack.stop().then(() => process.exit(0)));
process.send!({ ready: true, urls: stack.urls, apiKey: stack.apiKey, userPool: stack.userPool, topicArn: stack.resources.topics.orderEvents });
