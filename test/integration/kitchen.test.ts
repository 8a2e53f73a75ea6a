import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { SubscribeCommand } from '@aws-sdk/client-sns';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { randomUUID } from 'node:crypto';
import { createAdvanceOrdersHandler, type KitchenRun, type StaffResult } from '../../backend-lambdas/advance-orders/advance-orders.js';
import { awsClientConfig } from '../../backend-lambdas/lib/aws.js';
import { createOrderStore, orderTable } from '../../backend-lambdas/lib/order-store.js';
import { acceptOrder, storedOrder, type StoredOrder } from '../../domain/order.js';
import { createLambdaContext } from '../../local/lambda-context.js';
import { CUSTOMER_MAIL_FILTER } from '../../local/resources.js';
import type { LocalStack } from '../../local/stack.js';
import { SEED_ORDER, startTestStack } from '../helpers/local-stack.js';
import { silentLambdaLogger } from '../helpers/loggers.js';
import { waitFor } from '../helpers/wait.js';

let stack: LocalStack;
beforeAll(async () => {
  // The schedule stays off: here the test is the only one that runs the kitchen.
  stack = await startTestStack({ runSchedules: false, processOrders: false });
});
afterAll(() => stack.stop());

// Due at once, then not again for an hour: each order can be moved exactly one step in a test.
const timings = { RECEIVED: 0, PREPARING: 3600, READY: 3600 };
const scheduled = { source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} };
const context = () => createLambdaContext('advance-orders');

/** Every command the kitchen sends to DynamoDB, with the index it names. */
function recordingStore() {
  const documents = DynamoDBDocumentClient.from(
    new DynamoDBClient(awsClientConfig({ region: 'us-east-1', endpoint: stack.urls.dynamodb, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } })),
  );
  const commands: { name: string; indexName?: string }[] = [];
  documents.middlewareStack.add(
    (next, { commandName }) =>
      async (args) => {
        commands.push({ name: String(commandName), indexName: (args.input as { IndexName?: string }).IndexName });
        return next(args);
      },
    { step: 'initialize', name: 'recordCommands' },
  );
  return { store: createOrderStore({ documents, tableName: stack.resources.tableName }), commands };
}

function kitchen(store = stack.store, topicArn: string | undefined = stack.resources.topics.orderEvents) {
  return createAdvanceOrdersHandler({ store, timings, sns: stack.clients.sns, topicArn, logger: silentLambdaLogger() });
}

/** `count` orders stored as RECEIVED a moment ago, so due now. */
async function dueOrders(count: number, customer = `k-${randomUUID().slice(0, 8)}`, email?: string): Promise<StoredOrder[]> {
  const at = new Date(Date.now() - 1000);
  const orders = Array.from({ length: count }, () => storedOrder({ ...acceptOrder({ ...SEED_ORDER, customer_id: customer }, { now: at }), ...(email ? { customer_email: email } : {}) }, at, timings));
  await Promise.all(orders.map((order) => stack.store.putOnce(order)));
  return orders;
}

async function eventQueue(filter: Record<string, string[]>) {
  const { QueueUrl } = await stack.clients.sqs.send(new CreateQueueCommand({ QueueName: `events-${randomUUID()}` }));
  const { Attributes } = await stack.clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  await stack.clients.sns.send(
    new SubscribeCommand({
      TopicArn: stack.resources.topics.orderEvents,
      Protocol: 'sqs',
      Endpoint: Attributes!.QueueArn,
      Attributes: { RawMessageDelivery: 'true', FilterPolicy: JSON.stringify(filter) },
    }),
  );
  return async (expected: number) => {
    const bodies: { body: unknown; attributes: Record<string, string | undefined> }[] = [];
    await waitFor(
      async () => {
        const { Messages = [] } = await stack.clients.sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, MessageAttributeNames: ['All'] }));
        for (const message of Messages) {
          bodies.push({ body: JSON.parse(message.Body!), attributes: Object.fromEntries(Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [name, value.StringValue])) });
        }
        return bodies.length >= expected;
      },
      { what: `${expected} events` },
    );
    return bodies;
  };
}

describe('the kitchen (advance-orders)', () => {
  it('when two runs overlap on the same due orders, 50 times over, then every order moves exactly one step, none twice and none skipped', async () => {
    let advanced = 0;
    let skipped = 0;
    for (let round = 0; round < 50; round++) {
      const orders = await dueOrders(8);
      const [first, second] = (await Promise.all([kitchen()(scheduled, context()), kitchen()(scheduled, context())])) as KitchenRun[];
      advanced += first!.advanced + second!.advanced;
      skipped += first!.skipped + second!.skipped;
      for (const order of orders) {
        const stored = await stack.store.get(order.order_id);
        expect({ round, status: stored?.status, version: stored?.version, history: stored?.status_history.map((entry) => entry.status) }).toEqual({
          round,
          status: 'PREPARING',
          version: 2,
          history: ['RECEIVED', 'PREPARING'],
        });
      }
    }
    expect(advanced).toBe(50 * 8);
    // Each order was seen by both runs at least once: the other run's write was refused, not repeated.
    expect(skipped).toBeGreaterThan(0);
  }, 120_000);

  it('when the kitchen looks for due orders, then it queries the sparse index and never scans the table', async () => {
    const orders = await dueOrders(5);
    const { store, commands } = recordingStore();
    const run = (await kitchen(store)(scheduled, context())) as KitchenRun;
    expect(run.advanced).toBeGreaterThanOrEqual(orders.length);
    const names = new Set(commands.map((command) => command.name));
    expect([...names].filter((name) => /Scan/.test(name))).toEqual([]);
    expect(names.has('QueryCommand')).toBe(true);
    for (const command of commands.filter((candidate) => candidate.name === 'QueryCommand')) expect(command.indexName).toBe(orderTable.dueIndex.name);
    expect([...names].sort()).toEqual(['QueryCommand', 'UpdateItemCommand']);
  });

  it('when an order is final, then it leaves the index and no later run touches it', async () => {
    const [order] = await dueOrders(1);
    const quick = createAdvanceOrdersHandler({ store: stack.store, timings: { RECEIVED: 0, PREPARING: 0, READY: 0 }, logger: silentLambdaLogger() });
    await waitFor(async () => {
      await quick(scheduled, context());
      return (await stack.store.get(order!.order_id))?.status === 'COMPLETED';
    });
    const done = await stack.store.get(order!.order_id);
    expect(done?.status_history.map((entry) => entry.status)).toEqual(['RECEIVED', 'PREPARING', 'READY', 'COMPLETED']);
    expect(done?.due_at).toBeUndefined();
    const { store, commands } = recordingStore();
    await createAdvanceOrdersHandler({ store, timings, logger: silentLambdaLogger() })(scheduled, context());
    expect(commands.filter((command) => command.name !== 'QueryCommand')).toEqual([]);
    expect((await stack.store.get(order!.order_id))?.version).toBe(4);
  });

  it('when an order moves, then order.status_changed carries order, customer, from, to, time, the new version and due time, with attributes a subscriber can filter on', async () => {
    const customer = `evt-${randomUUID().slice(0, 8)}`;
    const received = await eventQueue({ event_type: ['order.status_changed'], customer_id: [customer] });
    const [mine] = await dueOrders(1, customer);
    await dueOrders(2);
    await kitchen()(scheduled, context());
    const [event, ...others] = await received(1);
    expect(others).toEqual([]);
    expect(event).toEqual({
      body: { type: 'order.status_changed', order_id: mine!.order_id, customer_id: customer, from: 'RECEIVED', to: 'PREPARING', at: expect.stringMatching(/^\d{4}-/) as unknown, version: 2, due_at: expect.stringMatching(/^\d{4}-/) as unknown },
      attributes: { event_type: 'order.status_changed', event_id: `${mine!.order_id}:order.status_changed:PREPARING`, order_id: mine!.order_id, customer_id: customer, status: 'PREPARING' },
    });
  });

  it("when an order has an address to mail, then its change passes the customer mail subscription's filter, and an integration's order does not", async () => {
    const [mailed, unmailed] = [`mail-${randomUUID().slice(0, 8)}`, `nomail-${randomUUID().slice(0, 8)}`];
    const received = await eventQueue({ ...CUSTOMER_MAIL_FILTER, customer_id: [mailed, unmailed] });
    const [withAddress] = await dueOrders(1, mailed, 'someone@example.com');
    const [withoutAddress] = await dueOrders(1, unmailed);
    await kitchen()(scheduled, context());
    expect((await stack.store.get(withoutAddress!.order_id))?.status).toBe('PREPARING');
    const events = await received(1);
    // The order without an address moved too, but its event never reaches this queue.
    await new Promise((resolve) => setTimeout(resolve, 300));
    events.push(...(await received(0)));
    expect(events.map((event) => [event.attributes.order_id, event.attributes.customer_mail])).toEqual([[withAddress!.order_id, 'true']]);
  });

  it('when publishing fails after a change is written, then the event is kept on the order and the next run publishes it, without moving the order again', async () => {
    const customer = `pend-${randomUUID().slice(0, 8)}`;
    const [order] = await dueOrders(1, customer);
    const failing = (await kitchen(stack.store, `arn:aws:sns:us-east-1:000000000000:no-such-topic-${randomUUID().slice(0, 6)}`)(scheduled, context())) as KitchenRun;
    expect(failing.pending).toBeGreaterThanOrEqual(1);
    expect(await stack.store.get(order!.order_id)).toMatchObject({ status: 'PREPARING', version: 2 });

    const received = await eventQueue({ customer_id: [customer] });
    const retry = (await kitchen()(scheduled, context())) as KitchenRun;
    expect(retry.republished).toBeGreaterThanOrEqual(1);
    const [event] = await received(1);
    expect(event?.body).toMatchObject({ order_id: order!.order_id, from: 'RECEIVED', to: 'PREPARING' });
    const after = await stack.store.get(order!.order_id);
    expect(after).toMatchObject({ status: 'PREPARING', version: 2 });
    // Back at its real due time: an hour after it entered PREPARING, not "now".
    expect(Date.parse(after!.due_at!)).toBeGreaterThan(Date.now() + 3_000_000);
  });

  it('when staff cancel, advance or mistype, then the same transition function decides, and the answer says what happened', async () => {
    const [first, second] = await dueOrders(2);
    const run = (command: unknown) => kitchen()(command, context()) as Promise<StaffResult>;
    expect(await run({ action: 'cancel', order_id: first!.order_id })).toMatchObject({ ok: true, from: 'RECEIVED', to: 'CANCELLED' });
    const cancelled = await stack.store.get(first!.order_id);
    expect(cancelled).toMatchObject({ status: 'CANCELLED', version: 2 });
    expect(cancelled).not.toHaveProperty('due_at');
    expect(await run({ action: 'advance', order_id: first!.order_id })).toEqual({ ok: false, error: 'illegal_transition', message: 'An order that is CANCELLED is final and cannot move on' });
    expect(await run({ action: 'advance', order_id: second!.order_id })).toMatchObject({ ok: true, from: 'RECEIVED', to: 'PREPARING' });
    expect(await run({ action: 'cancel', order_id: second!.order_id })).toMatchObject({ ok: false, error: 'illegal_transition', message: expect.stringContaining('PREPARING cannot become CANCELLED') as unknown });
    expect(await run({ action: 'advance', order_id: second!.order_id, to: 'COMPLETED' })).toMatchObject({ ok: false, error: 'illegal_transition' });
    expect(await run({ action: 'advance', order_id: randomUUID() })).toMatchObject({ ok: false, error: 'not_found' });
    expect(await run({ action: 'advance', order_id: 'x' })).toMatchObject({ ok: false, error: 'validation_error', message: expect.stringContaining('order_id') as unknown });
    expect(await run({ action: 'explode', order_id: second!.order_id })).toMatchObject({ ok: false, error: 'validation_error' });
    expect(await stack.store.get(second!.order_id)).toMatchObject({ status: 'PREPARING', version: 2 });
  });
});
