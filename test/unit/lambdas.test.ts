import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { randomUUID } from 'node:crypto';
import { awsClientConfig } from '../../backend-lambdas/lib/aws.js';
import { createGetOrderHandler } from '../../backend-lambdas/get-order/get-order.js';
import { createProcessOrderHandler } from '../../backend-lambdas/process-order/process-order.js';
import { createSubmitOrderHandler } from '../../backend-lambdas/submit-order/submit-order.js';
import { createOrderStore } from '../../backend-lambdas/lib/order-store.js';
import { acceptOrder } from '../../domain/order.js';
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
  const submit = () => createSubmitOrderHandler({ sqs: stack.clients.sqs, queueUrl, logger: silentLambdaLogger(), clock: () => now });

  it('when the seed payload is posted, then 202 QUEUED and the normalised order is on the queue', async () => {
    const response = await submit()(apiEvent({ body: JSON.stringify(SEED_ORDER) }));
    expect(response.statusCode).toBe(202);
    const { order_id, status } = json(response.body);
    expect(status).toBe('QUEUED');
    const [message] = await receiveAll(queueUrl);
    expect(JSON.parse(message!.Body!)).toEqual({ customer_id: '001', lines: [{ product_id: 'Banana', quantity: 1 }], order_date: '2025-04-25', order_id, received_at: now.toISOString() });
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
    });
    const response = await handler(apiEvent({ body: JSON.stringify(SEED_ORDER) }));
    expect(response.statusCode).toBe(503);
    expect(response.headers?.['Retry-After']).toBe('5');
    expect(response.body).not.toMatch(/ECONNREFUSED|stack|at .*\.ts/);
    expect(json(response.body)).toMatchObject({ error: 'dependency_unavailable' });
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
    const sns = stack.clients.sns;
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: `events-${randomUUID()}` }));
    const { QueueUrl } = await stack.clients.sqs.send(new CreateQueueCommand({ QueueName: `events-${randomUUID()}` }));
    const { Attributes } = await stack.clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
    await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: Attributes!.QueueArn, Attributes: { RawMessageDelivery: 'true' } }));
    const order = queued({ quantity: 4 });
    await process({ topicArn: TopicArn })(sqsEvent(sqsRecord(JSON.stringify(order))), createLambdaContext('process-order'));
    const [message] = await receiveAll(QueueUrl!);
    expect(message?.Body).toContain(`Order ${order.order_id} was received and stored.`);
    expect(message?.Body).toContain('Total:    $1.40');
  });

  it('when the same order is delivered twice, then "order received" is published twice with the same event_id, so a subscriber can act on it once', async () => {
    const sns = stack.clients.sns;
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: `events-${randomUUID()}` }));
    const { QueueUrl } = await stack.clients.sqs.send(new CreateQueueCommand({ QueueName: `events-${randomUUID()}` }));
    const { Attributes } = await stack.clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
    await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: Attributes!.QueueArn, Attributes: { RawMessageDelivery: 'true' } }));
    const order = queued();
    for (let delivery = 0; delivery < 2; delivery++) await process({ topicArn: TopicArn })(sqsEvent(sqsRecord(JSON.stringify(order))), createLambdaContext('process-order'));
    const { Messages = [] } = await stack.clients.sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: ['All'] }));
    expect(Messages.map((message) => message.MessageAttributes?.event_id?.StringValue)).toEqual([`${order.order_id}:order.received:RECEIVED`, `${order.order_id}:order.received:RECEIVED`]);
    expect(Messages[0]!.MessageAttributes?.event_type?.StringValue).toBe('order.received');
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
