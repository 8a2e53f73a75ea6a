import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { randomUUID } from 'node:crypto';
import { awsClientConfig } from '../../backend-lambdas/lib/aws.js';
import { createGetOrderHandler } from '../../backend-lambdas/get-order/get-order.js';
import { createProcessOrderHandler } from '../../backend-lambdas/process-order/process-order.js';
import { createSubmitOrderHandler } from '../../backend-lambdas/submit-order/submit-order.js';
import { createOrderStore } from '../../backend-lambdas/lib/order-store.js';
import { fixedMenu } from '../../domain/catalogue.js';
import { acceptOrder, storedOrder, type StoredOrder } from '../../domain/order.js';
import { createLambdaContext } from '../../local/lambda-context.js';
import type { LocalStack } from '../../local/stack.js';
import { apiEvent, sqsEvent, sqsRecord } from '../helpers/events.js';
import { getStoredOrder, SEED_ORDER, startTestStack, unreachableUrl } from '../helpers/local-stack.js';
import { silentLambdaLogger } from '../helpers/loggers.js';

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
let stack: LocalStack;
let queueUrl: string;

beforeAll(async () => {
  // No kitchen: these tests read orders as process-order left them.
  stack = await startTestStack({ runSchedules: false });
  // A queue of this test's own: the stack's poller drains `orders`, and here the sent message is read back.
  ({ QueueUrl: queueUrl } = (await stack.clients.sqs.send(new CreateQueueCommand({ QueueName: `submit-${randomUUID()}` }))) as { QueueUrl: string });
});
afterAll(() => stack.stop(), 30_000);

async function receiveAll(url: string) {
  const { Messages = [] } = await stack.clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
  return Messages;
}

async function depth(url: string) {
  const { Attributes } = await stack.clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages'] }));
  return Number(Attributes?.ApproximateNumberOfMessages);
}

function json(body: string) {
  return JSON.parse(body) as Record<string, unknown> & { issues?: { field: string }[] };
}

describe('submit-order', () => {
  const now = new Date('2026-05-06T07:08:09.000Z');
  const submit = () => createSubmitOrderHandler({ sqs: stack.clients.sqs, queueUrl, logger: silentLambdaLogger(), clock: () => now, menu: fixedMenu() });

  it('when the seed payload is posted, then 202 QUEUED and the normalised order is on the queue', async () => {
    const response = await submit()(apiEvent({ body: JSON.stringify(SEED_ORDER) }));
    expect(response.statusCode).toBe(202);
    const { order_id, status } = json(response.body);
    expect(status).toBe('QUEUED');
    const [message] = await receiveAll(queueUrl);
    expect(JSON.parse(message!.Body!)).toEqual({ customer_id: '001', lines: [{ product_id: 'Banana', quantity: 1, product_name: 'Banana', unit_price_cents: 35 }], order_date: '2025-04-25', order_id, received_at: now.toISOString() });
  });

  it('when the same Idempotency-Key is sent twice (any header case), then both answers carry the same order id', async () => {
    const key = randomUUID();
    const first = await submit()(apiEvent({ body: JSON.stringify(SEED_ORDER), headers: { 'content-type': 'application/json', 'Idempotency-Key': key } }));
    const second = await submit()(apiEvent({ body: JSON.stringify(SEED_ORDER), headers: { 'CONTENT-TYPE': 'application/json; charset=utf-8', 'idempotency-key': key } }));
    expect(json(first.body).order_id).toBe(json(second.body).order_id);
    await receiveAll(queueUrl);
  });

  it('when the body is base64 encoded by the gateway, then it is decoded', async () => {
    const response = await submit()(apiEvent({ body: Buffer.from(JSON.stringify(SEED_ORDER)).toString('base64'), isBase64Encoded: true }));
    expect(response.statusCode).toBe(202);
    await receiveAll(queueUrl);
  });

  it.each([
    ['bad JSON', apiEvent({ body: '{"customer_id":' }), 400, 'invalid_json'],
    ['an empty body', apiEvent({ body: '' }), 400, 'validation_error'],
    ['the wrong content type', apiEvent({ body: JSON.stringify(SEED_ORDER), headers: { 'content-type': 'text/plain' } }), 415, 'unsupported_media_type'],
    ['no content type', apiEvent({ body: JSON.stringify(SEED_ORDER), headers: {} }), 415, 'unsupported_media_type'],
    ['a 9 KiB body', apiEvent({ body: JSON.stringify({ ...SEED_ORDER, customer_id: 'x'.repeat(9 * 1024) }) }), 413, 'payload_too_large'],
    ['an unknown product', apiEvent({ body: JSON.stringify({ ...SEED_ORDER, product_id: 'Caviar' }) }), 400, 'validation_error'],
  ])('when the request has %s, then it is refused with a named problem and nothing is queued', async (_case, event, status, code) => {
    const response = await submit()(event);
    expect(response.statusCode).toBe(status);
    expect(json(response.body)).toMatchObject({ error: code, message: expect.any(String) as unknown });
    expect(await depth(queueUrl)).toBe(0);
  });

  it('when SQS is unreachable, then 503 with Retry-After and no internals in the body', async () => {
    const handler = createSubmitOrderHandler({
      sqs: new SQSClient(awsClientConfig({ region: 'us-east-1', endpoint: await unreachableUrl(), credentials })),
      queueUrl,
      logger: silentLambdaLogger(),
      menu: fixedMenu(),
    });
    const response = await handler(apiEvent({ body: JSON.stringify(SEED_ORDER) }));
    expect(response.statusCode).toBe(503);
    expect(response.headers?.['Retry-After']).toBe('5');
    expect(response.body).not.toMatch(/ECONNREFUSED|stack|at .*\.ts/);
    expect(json(response.body)).toMatchObject({ error: 'dependency_unavailable' });
  });
});

describe('submit-order on a FIFO queue', () => {
  let fifoUrl: string;
  beforeAll(async () => {
    ({ QueueUrl: fifoUrl } = (await stack.clients.sqs.send(
      new CreateQueueCommand({ QueueName: `submit-${randomUUID()}.fifo`, Attributes: { FifoQueue: 'true', ContentBasedDeduplication: 'false' } }),
    )) as { QueueUrl: string });
  });
  const submit = () => createSubmitOrderHandler({ sqs: stack.clients.sqs, queueUrl: fifoUrl, logger: silentLambdaLogger(), menu: fixedMenu() });

  /** Every message of the queue, receiving and deleting until it is empty (a FIFO receive holds a group until its message is deleted). */
  async function drainFifo(url: string) {
    const messages: Message[] = [];
    for (;;) {
      const { Messages = [] } = await stack.clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, MessageSystemAttributeNames: ['MessageGroupId', 'MessageDeduplicationId'] }));
      if (Messages.length === 0) return messages;
      messages.push(...Messages);
      await stack.clients.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: url, Entries: Messages.map((message, i) => ({ Id: String(i), ReceiptHandle: message.ReceiptHandle })) }));
    }
  }

  it('when an order is posted, then it is queued in its customer\'s group with its order id as the deduplication id', async () => {
    const response = await submit()(apiEvent({ body: JSON.stringify({ ...SEED_ORDER, customer_id: 'fifo-c1' }) }));
    expect(response.statusCode).toBe(202);
    const [message] = await drainFifo(fifoUrl);
    expect(message?.Attributes).toEqual({ MessageGroupId: 'integration:fifo-c1', MessageDeduplicationId: json(response.body).order_id });
  });

  it('when the same Idempotency-Key is posted twice, then the queue takes the second as a duplicate: one message', async () => {
    const key = randomUUID();
    const post = () => submit()(apiEvent({ body: JSON.stringify(SEED_ORDER), headers: { 'content-type': 'application/json', 'Idempotency-Key': key } }));
    const [first, second] = [await post(), await post()];
    expect([first.statusCode, second.statusCode]).toEqual([202, 202]);
    expect(json(second.body).order_id).toBe(json(first.body).order_id);
    expect((await drainFifo(fifoUrl)).map((message) => JSON.parse(message.Body!) as { order_id: string }).map((order) => order.order_id)).toEqual([json(first.body).order_id]);
  });

  it('when many orders of a few customers arrive at once, in several turns, and some sends are slower than others, then each customer\'s are queued in the order they were received', async () => {
    // Every other call to SQS takes 40 ms longer, so a batch sent later could overtake an earlier one.
    const sqs = new SQSClient(awsClientConfig({ region: 'us-east-1', endpoint: stack.urls.sqs, credentials }));
    let calls = 0;
    sqs.middlewareStack.add((next) => async (args) => {
      if (calls++ % 2 === 0) await new Promise((resolve) => setTimeout(resolve, 40));
      return next(args);
    }, { step: 'finalizeRequest', name: 'slowEveryOtherCall' });
    const handler = createSubmitOrderHandler({ sqs, queueUrl: fifoUrl, logger: silentLambdaLogger(), menu: fixedMenu() });
    const customers = ['fifo-a', 'fifo-b', 'fifo-c'];
    const posted: { customer: string; id: string }[] = [];
    for (let turn = 0; turn < 5; turn++) {
      // 30 at once a turn, and the next turn before this one is answered: batches of one group overlap in time.
      const answers = Array.from({ length: 30 }, (_, i) => handler(apiEvent({ body: JSON.stringify({ ...SEED_ORDER, customer_id: customers[i % 3] }) })));
      for (const [i, answer] of (await Promise.all(answers)).entries()) posted.push({ customer: customers[i % 3]!, id: json(answer.body).order_id as string });
    }
    const queued = await drainFifo(fifoUrl);
    expect(queued).toHaveLength(150);
    for (const customer of customers) {
      const received = queued.filter((message) => message.Attributes?.MessageGroupId === `integration:${customer}`).map((message) => (JSON.parse(message.Body!) as { received_at: string; order_id: string }));
      expect(received.map((order) => order.order_id)).toEqual(posted.filter((entry) => entry.customer === customer).map((entry) => entry.id));
      expect(received.map((order) => order.received_at)).toEqual(received.map((order) => order.received_at).sort());
    }
  });
});

const timings = { RECEIVED: 60, PREPARING: 600, READY: 300 };
const storeOn = (documents: DynamoDBDocumentClient) => createOrderStore({ documents, tableName: stack.resources.tableName });
const unreachableTable = async () => storeOn(DynamoDBDocumentClient.from(new DynamoDBClient(awsClientConfig({ region: 'us-east-1', endpoint: await unreachableUrl(), credentials }))));

describe('process-order', () => {
  const processed = new Date('2026-05-06T07:08:10.000Z');
  const process = (overrides: Partial<Parameters<typeof createProcessOrderHandler>[0]> = {}) =>
    createProcessOrderHandler({
      store: stack.store,
      timings,
      sns: stack.clients.sns,
      topicArn: stack.resources.topics.orderEvents,
      logger: silentLambdaLogger(),
      clock: () => processed,
      ...overrides,
    });
  const queued = (fields: Record<string, unknown> = {}) => acceptOrder({ ...SEED_ORDER, ...fields }, { now: new Date() });

  /** A topic of its own with a queue subscribed raw: what process-order publishes lands in the queue. */
  async function topicWithQueue() {
    const { TopicArn } = await stack.clients.sns.send(new CreateTopicCommand({ Name: `events-${randomUUID()}` }));
    const { QueueUrl } = await stack.clients.sqs.send(new CreateQueueCommand({ QueueName: `events-${randomUUID()}` }));
    const { Attributes } = await stack.clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
    await stack.clients.sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: Attributes!.QueueArn, Attributes: { RawMessageDelivery: 'true' } }));
    return { TopicArn: TopicArn!, QueueUrl: QueueUrl! };
  }

  it('when a batch has good and poison records, then only the poison ones are reported and the good ones are stored priced', async () => {
    const good = [queued({ quantity: 3 }), queued({ product_id: 'Margherita', quantity: 2 })];
    const poison = [sqsRecord('not json'), sqsRecord(JSON.stringify({ ...good[0], quantity: 0 })), sqsRecord(JSON.stringify({ ...good[0], order_id: 'x' }))];
    const records = [sqsRecord(JSON.stringify(good[0])), ...poison, sqsRecord(JSON.stringify(good[1]))];
    const response = await process()(sqsEvent(...records), createLambdaContext('process-order'));
    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier).sort()).toEqual(poison.map((record) => record.messageId).sort());
    expect(await getStoredOrder(stack, good[0]!.order_id)).toEqual({
      ...good[0],
      lines: [{ product_id: 'Banana', quantity: 3, product_name: 'Banana', unit_price_cents: 35, line_total_cents: 105 }],
      total_cents: 105,
      currency: 'USD',
      status: 'RECEIVED',
      status_history: [{ status: 'RECEIVED', at: processed.toISOString() }],
      version: 1,
      due_at: new Date(processed.getTime() + 60_000).toISOString(),
    });
    expect(await getStoredOrder(stack, good[1]!.order_id)).toMatchObject({ total_cents: 2300, status: 'RECEIVED' });
  });

  it('when the same order is delivered twice, then one item is stored and both deliveries succeed', async () => {
    const order = queued();
    const first = await process({ clock: () => new Date('2026-01-01T00:00:00.000Z') })(sqsEvent(sqsRecord(JSON.stringify(order))), createLambdaContext('process-order'));
    const second = await process({ clock: () => new Date('2026-01-02T00:00:00.000Z') })(sqsEvent(sqsRecord(JSON.stringify(order))), createLambdaContext('process-order'));
    expect(first.batchItemFailures).toEqual([]);
    expect(second.batchItemFailures).toEqual([]);
    // The first write wins: the redelivery did not overwrite it.
    expect(await getStoredOrder(stack, order.order_id)).toMatchObject({ status_history: [{ status: 'RECEIVED', at: '2026-01-01T00:00:00.000Z' }] });
  });

  it('when a topic is configured, then an "order received" notification is published for each stored order', async () => {
    const { TopicArn, QueueUrl } = await topicWithQueue();
    const order = queued({ quantity: 4 });
    await process({ topicArn: TopicArn })(sqsEvent(sqsRecord(JSON.stringify(order))), createLambdaContext('process-order'));
    const [message] = await receiveAll(QueueUrl);
    expect(message?.Body).toContain(`Order ${order.order_id} was received and stored.`);
    expect(message?.Body).toContain('Total:    $1.40');
  });

  it('when the same order is delivered twice, then "order received" is published twice with the same event_id, so a subscriber can act on it once', async () => {
    const { TopicArn, QueueUrl } = await topicWithQueue();
    const order = queued();
    for (let delivery = 0; delivery < 2; delivery++) await process({ topicArn: TopicArn })(sqsEvent(sqsRecord(JSON.stringify(order))), createLambdaContext('process-order'));
    const { Messages = [] } = await stack.clients.sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: ['All'] }));
    expect(Messages.map((message) => message.MessageAttributes?.event_id?.StringValue)).toEqual([`${order.order_id}:order.received:RECEIVED`, `${order.order_id}:order.received:RECEIVED`]);
    expect(Messages[0]!.MessageAttributes?.event_type?.StringValue).toBe('order.received');
  });

  it('when a stored order has an address to mail, then its "order received" carries customer_mail, and an order without one does not', async () => {
    const { TopicArn, QueueUrl } = await topicWithQueue();
    const [mailed, unmailed] = [{ ...queued(), customer_email: 'someone@example.com' }, queued()];
    await process({ topicArn: TopicArn })(sqsEvent(sqsRecord(JSON.stringify(mailed)), sqsRecord(JSON.stringify(unmailed))), createLambdaContext('process-order'));
    const { Messages = [] } = await stack.clients.sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: ['All'] }));
    const mailFlags = Object.fromEntries(Messages.map((message): [string, string | undefined] => [message.MessageAttributes!.order_id!.StringValue!, message.MessageAttributes?.customer_mail?.StringValue]));
    expect(mailFlags).toEqual({ [mailed.order_id]: 'true', [unmailed.order_id]: undefined });
  });

  it('when publishing fails, then the record is reported for retry, and the retry succeeds without a second item', async () => {
    const order = queued();
    const record = sqsRecord(JSON.stringify(order));
    const failing = await process({ topicArn: 'arn:aws:sns:us-east-1:000000000000:no-such-topic' })(sqsEvent(record), createLambdaContext('process-order'));
    expect(failing.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
    const retried = await process()(sqsEvent(record), createLambdaContext('process-order'));
    expect(retried.batchItemFailures).toEqual([]);
    expect(await getStoredOrder(stack, order.order_id)).toMatchObject({ status: 'RECEIVED' });
  });

  it('when DynamoDB is unreachable, then every record is reported for retry', async () => {
    const records = [sqsRecord(JSON.stringify(queued())), sqsRecord(JSON.stringify(queued()))];
    const response = await process({ store: await unreachableTable() })(sqsEvent(...records), createLambdaContext('process-order'));
    expect(response.batchItemFailures).toHaveLength(2);
  });

  it('when no topic is configured, then orders are stored without publishing', async () => {
    const order = queued();
    const response = await process({ sns: new SNSClient(awsClientConfig({ region: 'us-east-1', endpoint: await unreachableUrl(), credentials })), topicArn: undefined })(
      sqsEvent(sqsRecord(JSON.stringify(order))),
      createLambdaContext('process-order'),
    );
    expect(response.batchItemFailures).toEqual([]);
    expect(await getStoredOrder(stack, order.order_id)).toBeDefined();
  });
});

describe('process-order on a FIFO queue', () => {
  const queued = (customer: string) => acceptOrder({ ...SEED_ORDER, customer_id: customer }, { now: new Date() });
  /** The store, with the first put of the given orders failing as a busy table would, and every put it was asked for. */
  function storeFailingOnce(...orderIds: string[]) {
    const failing = new Set(orderIds);
    const puts: string[] = [];
    const store: typeof stack.store = {
      ...stack.store,
      async putOnce(order) {
        puts.push(order.order_id);
        if (failing.delete(order.order_id)) throw new Error('ProvisionedThroughputExceededException (injected)');
        return stack.store.putOnce(order);
      },
    };
    return { store, puts };
  }
  const counts = () => {
    const counted: Record<string, number> = {};
    return { counted, metrics: { addMetric: (name: string, _unit: unknown, value: number) => void (counted[name] = (counted[name] ?? 0) + value), hasStoredMetrics: () => Object.keys(counted).length > 0, publishStoredMetrics: () => undefined } };
  };
  const ids = (response: { batchItemFailures: { itemIdentifier: string }[] }) => response.batchItemFailures.map((failure) => failure.itemIdentifier);

  it('when one customer\'s record fails, then that customer\'s later records are reported without being tried, and another customer\'s are stored', async () => {
    const [a1, b1, a2, b2] = [queued('fifo-a'), queued('fifo-b'), queued('fifo-a'), queued('fifo-b')];
    const { store, puts } = storeFailingOnce(a1.order_id);
    const records = [a1, b1, a2, b2].map((order) => sqsRecord(JSON.stringify(order), { groupId: order.customer_id }));
    const response = await createProcessOrderHandler({ store, timings, logger: silentLambdaLogger() })(sqsEvent(...records), createLambdaContext('process-order'));
    expect(ids(response)).toEqual([records[0]!.messageId, records[2]!.messageId]);
    // a2 never reached the table: storing it before a1 would put the customer's orders out of order.
    expect(puts).toEqual([a1.order_id, b1.order_id, b2.order_id]);
    expect(await getStoredOrder(stack, a2.order_id)).toBeUndefined();
    expect(await getStoredOrder(stack, b2.order_id)).toMatchObject({ status: 'RECEIVED' });
  });

  it('when the failed customer\'s records are redelivered to the same handler (Powertools issue #3673), then they reach the record handler again and are stored in order', async () => {
    const [a1, b1, a2] = [queued('fifo-a'), queued('fifo-b'), queued('fifo-a')];
    const { store, puts } = storeFailingOnce(a1.order_id);
    let tick = Date.parse('2026-06-01T00:00:00.000Z');
    // One handler across both invocations, as one Lambda execution environment: the customer's
    // records, first in both batches, go through the same FIFO processor instance both times.
    const handler = createProcessOrderHandler({ store, timings, logger: silentLambdaLogger(), clock: () => new Date((tick += 1000)) });
    const first = [a1, b1, a2].map((order) => sqsRecord(JSON.stringify(order), { groupId: order.customer_id }));
    expect(ids(await handler(sqsEvent(...first), createLambdaContext('process-order')))).toEqual([first[0]!.messageId, first[2]!.messageId]);

    // SQS hands the group back once the failed record's visibility times out: the same messages, received again.
    const retry = [a1, a2].map((order, i) => sqsRecord(JSON.stringify(order), { groupId: order.customer_id, messageId: [first[0]!, first[2]!][i]!.messageId, receiveCount: 2 }));
    expect(ids(await handler(sqsEvent(...retry), createLambdaContext('process-order')))).toEqual([]);
    expect(puts).toEqual([a1.order_id, b1.order_id, a1.order_id, a2.order_id]);
    const [storedA1, storedA2] = [await getStoredOrder(stack, a1.order_id), await getStoredOrder(stack, a2.order_id)];
    expect(Date.parse(storedA1!.status_history[0]!.at)).toBeLessThan(Date.parse(storedA2!.status_history[0]!.at));
  });

  it('when a record fails at its last receive, then it and the customer\'s records held back behind it are counted as dead-lettered', async () => {
    const [a1, a2, b1] = [queued('fifo-a'), queued('fifo-a'), queued('fifo-b')];
    const { store } = storeFailingOnce(a1.order_id);
    const { counted, metrics } = counts();
    const records = [a1, a2, b1].map((order) => sqsRecord(JSON.stringify(order), { groupId: order.customer_id, receiveCount: 5 }));
    const response = await createProcessOrderHandler({ store, timings, logger: silentLambdaLogger(), metrics, maxReceiveCount: 5 })(sqsEvent(...records), createLambdaContext('process-order'));
    expect(ids(response)).toEqual([records[0]!.messageId, records[1]!.messageId]);
    expect(counted).toEqual({ OrdersFailed: 1, OrdersDeadLettered: 2, OrdersStored: 1 });
  });

  it('when the records come from a standard queue, then a failure holds back nothing: the same customer\'s other records are stored', async () => {
    const [a1, a2] = [queued('std-a'), queued('std-a')];
    const { store } = storeFailingOnce(a1.order_id);
    const records = [a1, a2].map((order) => sqsRecord(JSON.stringify(order)));
    const response = await createProcessOrderHandler({ store, timings, logger: silentLambdaLogger() })(sqsEvent(...records), createLambdaContext('process-order'));
    expect(ids(response)).toEqual([records[0]!.messageId]);
    expect(await getStoredOrder(stack, a2.order_id)).toMatchObject({ status: 'RECEIVED' });
  });
});

describe('get-order', () => {
  const get = (store = stack.store) => createGetOrderHandler({ store, logger: silentLambdaLogger() });
  const getEvent = (id: string) => apiEvent({ method: 'GET', resource: '/orders/{id}', path: `/orders/${id}`, pathParameters: { id }, headers: {} });

  it('when the id is malformed, then 400 names the id', async () => {
    for (const id of ['x', '../etc/passwd', '<script>', '']) {
      const response = await get()(getEvent(id));
      expect(response.statusCode).toBe(400);
      expect(json(response.body).issues).toEqual([{ field: 'id', message: expect.any(String) as unknown }]);
    }
  });

  it('when the order is not stored, then 404; once stored, then 200 with the order', async () => {
    const order = acceptOrder(SEED_ORDER, { now: new Date() });
    expect((await get()(getEvent(order.order_id))).statusCode).toBe(404);
    await createProcessOrderHandler({ store: stack.store, timings, logger: silentLambdaLogger() })(
      sqsEvent(sqsRecord(JSON.stringify(order))),
      createLambdaContext('process-order'),
    );
    const response = await get()(getEvent(order.order_id));
    expect(response.statusCode).toBe(200);
    expect(json(response.body)).toMatchObject({ order_id: order.order_id, status: 'RECEIVED', status_history: [{ status: 'RECEIVED' }], version: 1, total_cents: 35 });
  });

  it('when DynamoDB is unreachable, then 503 with Retry-After', async () => {
    const response = await get(await unreachableTable())(getEvent(randomUUID()));
    expect(response.statusCode).toBe(503);
    expect(response.headers?.['Retry-After']).toBeDefined();
  });

  const listEvent = (query: Record<string, string> | null) => ({ ...apiEvent({ method: 'GET', resource: '/orders', path: '/orders', headers: {} }), queryStringParameters: query });

  it('when up to 100 ids are asked for at once, then 200 with those that are stored, each once, and none of the others', async () => {
    const stored = Array.from({ length: 60 }, (_, i) => storedOrder(acceptOrder({ ...SEED_ORDER, quantity: i + 1 }, { now: new Date() }), new Date(), timings));
    await Promise.all(stored.map((order) => stack.store.putOnce(order)));
    const missing = Array.from({ length: 39 }, () => randomUUID());
    const ids = [...stored.map((order) => order.order_id), ...missing, stored[0]!.order_id];
    const response = await get()(listEvent({ ids: ids.join(',') }));
    expect(response.statusCode).toBe(200);
    const { orders } = json(response.body) as { orders: StoredOrder[] };
    expect(orders.map((order) => order.order_id).sort()).toEqual(stored.map((order) => order.order_id).sort());
    expect(orders.find((order) => order.order_id === stored[9]!.order_id)).toMatchObject({ status: 'RECEIVED', version: 1, lines: [{ quantity: 10 }] });
  });

  it('when the ids are missing, too many, malformed or beside an unknown parameter, then 400 names the problem', async () => {
    const cases: [Record<string, string> | null, { field: string }[]][] = [
      [null, [{ field: 'ids' }]],
      [{ ids: '' }, [{ field: 'ids' }]],
      [{ ids: Array.from({ length: 101 }, () => randomUUID()).join(',') }, [{ field: 'ids' }]],
      [{ ids: `${randomUUID()},<script>,${randomUUID()},../x` }, [{ field: 'ids[1]' }, { field: 'ids[3]' }]],
      [{ ids: randomUUID(), status: 'READY' }, [{ field: 'status' }]],
    ];
    for (const [query, issues] of cases) {
      const response = await get()(listEvent(query));
      expect({ query, status: response.statusCode, issues: (json(response.body).issues as { field: string }[]).map(({ field }) => ({ field })) }).toEqual({ query, status: 400, issues });
    }
  });
});

describe('the order store', () => {
  it('when an order stored before the lifecycle (PROCESSED, no history) is read, then it reads as COMPLETED at its processed time', async () => {
    const order = acceptOrder(SEED_ORDER, { now: new Date('2026-01-01T00:00:00.000Z') });
    const { PutCommand } = await import('@aws-sdk/lib-dynamodb');
    // Written as the version before the lifecycle wrote it, behind the store's back on purpose.
    await stack.clients.documents.send(
      new PutCommand({
        TableName: stack.resources.tableName,
        Item: { ...order, product_name: 'Banana', unit_price_cents: 35, total_cents: 35, currency: 'USD', status: 'PROCESSED', processed_at: '2026-01-01T00:00:01.000Z' },
      }),
    );
    const read = await stack.store.get(order.order_id);
    expect(read).toMatchObject({ status: 'COMPLETED', status_history: [{ status: 'COMPLETED', at: '2026-01-01T00:00:01.000Z' }], version: 1 });
    expect(read).not.toHaveProperty('processed_at');
  });
});
