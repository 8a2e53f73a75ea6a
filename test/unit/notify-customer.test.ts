import { SendEmailCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { randomUUID } from 'node:crypto';
import { createAdvanceOrdersHandler } from '../../backend-lambdas/advance-orders/advance-orders.js';
import { createNotifyCustomerHandler } from '../../backend-lambdas/notify-customer/notify-customer.js';
import { createProcessOrderHandler } from '../../backend-lambdas/process-order/process-order.js';
import { acceptOrder, type QueuedOrder } from '../../domain/order.js';
import { createLambdaContext } from '../../local/lambda-context.js';
import type { LocalStack } from '../../local/stack.js';
import { settings } from '../../platform/settings.js';
import { sqsEvent, sqsRecord } from '../helpers/events.js';
import { SEED_ORDER, startTestStack } from '../helpers/local-stack.js';
import { silentLambdaLogger } from '../helpers/loggers.js';

let stack: LocalStack;
const ses = mockClient(SESv2Client);

beforeAll(async () => {
  stack = await startTestStack({ runSchedules: false, processOrders: false });
});
afterAll(() => stack.stop(), 30_000);
beforeEach(() => {
  ses.reset();
  ses.on(SendEmailCommand).resolves({ MessageId: randomUUID() });
});

const notify = () => createNotifyCustomerHandler({ store: stack.store, ses: new SESv2Client({ region: 'us-east-1' }), from: 'orders@example.com', logger: silentLambdaLogger() });

/** An order stored as process-order stores it (no topic: these tests make the events themselves). */
async function storedOrder(email: string | undefined): Promise<QueuedOrder> {
  const order = { ...acceptOrder({ ...SEED_ORDER, customer_id: `n-${randomUUID().slice(0, 8)}` }, { now: new Date() }), ...(email ? { customer_email: email } : {}) };
  const process = createProcessOrderHandler({ store: stack.store, timings: settings.lifecycle.timingsSeconds, logger: silentLambdaLogger() });
  const { batchItemFailures } = await process(sqsEvent(sqsRecord(JSON.stringify(order))), createLambdaContext('process-order'));
  expect(batchItemFailures).toEqual([]);
  return order;
}

/** An order-events message as the customer-notifications queue delivers it (raw, attributes kept). */
function eventRecord(order: Pick<QueuedOrder, 'order_id' | 'customer_id'>, status: string, type = status === 'RECEIVED' ? 'order.received' : 'order.status_changed'): SQSRecord {
  const attributes = { event_type: type, event_id: `${order.order_id}:${type}:${status}`, order_id: order.order_id, customer_id: order.customer_id, status };
  return {
    ...sqsRecord(JSON.stringify({ type, order_id: order.order_id })),
    messageAttributes: Object.fromEntries(Object.entries(attributes).map(([name, value]) => [name, { dataType: 'String', stringValue: value, stringListValues: [], binaryListValues: [] }])),
  };
}

const run = (...records: SQSRecord[]) => notify()(sqsEvent(...records), createLambdaContext('notify-customer'));

describe('notify-customer', () => {
  it('when an order is received, then its customer is mailed from the sender, about that order, tagged with the event', async () => {
    const order = await storedOrder('ada@example.com');
    expect((await run(eventRecord(order, 'RECEIVED'))).batchItemFailures).toEqual([]);
    const sent = ses.commandCalls(SendEmailCommand).map((call) => call.args[0].input);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ FromEmailAddress: 'orders@example.com', Destination: { ToAddresses: ['ada@example.com'] } });
    expect(sent[0]!.Content?.Simple?.Subject?.Data).toBe(`We have your order (order ${order.order_id.slice(0, 8)})`);
    expect(sent[0]!.Content?.Simple?.Body?.Text?.Data).toContain(`Order ${order.order_id}`);
    // SES tag values allow only letters, digits, _ and -.
    for (const tag of sent[0]!.EmailTags ?? []) expect(tag.Value).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(sent[0]!.EmailTags).toContainEqual({ Name: 'status', Value: 'RECEIVED' });
  });

  it('when staff cancel an order with a reason, then the history says who and why, and the customer\'s mail says the shop cancelled it and why', async () => {
    const order = await storedOrder('cy@example.com');
    const kitchen = createAdvanceOrdersHandler({ store: stack.store, timings: settings.lifecycle.timingsSeconds, logger: silentLambdaLogger() });
    expect(await kitchen({ action: 'cancel', order_id: order.order_id, by: 'ana@shop.example', reason: 'We are out of mozzarella' })).toMatchObject({ ok: true, to: 'CANCELLED' });
    expect((await stack.store.get(order.order_id))?.status_history.at(-1)).toMatchObject({ status: 'CANCELLED', by: { role: 'staff', id: 'ana@shop.example' }, reason: 'We are out of mozzarella' });
    expect((await run(eventRecord(order, 'CANCELLED'))).batchItemFailures).toEqual([]);
    const text = ses.commandCalls(SendEmailCommand)[0]!.args[0].input.Content?.Simple?.Body?.Text?.Data;
    expect(text).toContain('The shop cancelled this order.\nReason: We are out of mozzarella');
    expect(text).not.toContain('You cancelled');
  });

  it('when the same event is delivered twice, then the customer is mailed once; a new status is a new mail', async () => {
    const order = await storedOrder('bob@example.com');
    await run(eventRecord(order, 'RECEIVED'));
    await run(eventRecord(order, 'RECEIVED'));
    await run(eventRecord(order, 'PREPARING'));
    expect(ses.commandCalls(SendEmailCommand).map((call) => call.args[0].input.Content?.Simple?.Subject?.Data?.split(' (')[0])).toEqual(['We have your order', 'Your order is being prepared']);
  });

  it('when two deliveries of one event overlap, then one mail is sent; the other delivery goes back to the queue, and its retry sends nothing', async () => {
    const order = await storedOrder('dora@example.com');
    // SES takes its time, so the second delivery arrives while the first is sending.
    ses.on(SendEmailCommand).callsFake(async () => {
      await new Promise((resolve) => setTimeout(resolve, 200));
      return { MessageId: randomUUID() };
    });
    const [first, second] = [eventRecord(order, 'READY'), eventRecord(order, 'READY')];
    const outcomes = await Promise.all([run(first), run(second)]);
    expect(ses.commandCalls(SendEmailCommand)).toHaveLength(1);
    expect(outcomes.flatMap((outcome) => outcome.batchItemFailures)).toHaveLength(1);
    // Redelivered after its visibility timeout: the mail is done, nothing more is sent.
    expect((await run(second)).batchItemFailures).toEqual([]);
    expect((await run(first)).batchItemFailures).toEqual([]);
    expect(ses.commandCalls(SendEmailCommand)).toHaveLength(1);
    // As stored: the event marked mailed, and no claim left behind.
    const { Item } = await stack.clients.documents.send(new GetCommand({ TableName: stack.store.tableName, Key: { order_id: order.order_id } }));
    expect([...(Item!.notified as Set<string>)]).toEqual([`${order.order_id}:order.status_changed:READY`]);
    expect(Object.keys(Item!).filter((name) => name.startsWith('mail_claim:'))).toEqual([]);
  });

  it('when SES fails, then the record is reported for retry and not marked mailed; the retry mails it once', async () => {
    const order = await storedOrder('cleo@example.com');
    ses.on(SendEmailCommand).rejectsOnce(new Error('Throttling: Maximum sending rate exceeded'));
    const record = eventRecord(order, 'RECEIVED');
    expect((await run(record)).batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
    expect((await run(record)).batchItemFailures).toEqual([]);
    expect((await run(record)).batchItemFailures).toEqual([]);
    expect(ses.commandCalls(SendEmailCommand)).toHaveLength(2);
  });

  it('when the order is not stored (yet), or the record is not an order event, then it is reported for retry, and so reaches the DLQ if it never can be', async () => {
    const unknown = eventRecord({ order_id: randomUUID(), customer_id: 'x' }, 'RECEIVED');
    const poison = { ...sqsRecord('not an event'), messageAttributes: {} };
    const good = eventRecord(await storedOrder('dee@example.com'), 'RECEIVED');
    const { batchItemFailures } = await run(unknown, poison, good);
    expect(batchItemFailures.map((failure) => failure.itemIdentifier).sort()).toEqual([unknown.messageId, poison.messageId].sort());
    expect(ses.commandCalls(SendEmailCommand)).toHaveLength(1);
  });

  it('when an order has no customer address (an integration placed it), then nobody is mailed and the event is done', async () => {
    const order = await storedOrder(undefined);
    expect((await run(eventRecord(order, 'RECEIVED'))).batchItemFailures).toEqual([]);
    expect(ses.commandCalls(SendEmailCommand)).toHaveLength(0);
  });
});
