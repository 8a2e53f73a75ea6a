import { SendEmailCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { randomUUID } from 'node:crypto';
import { createAdvanceOrdersHandler } from '../../backend-lambdas/advance-orders/advance-orders.js';
import { createNotifyCustomerHandler, customerMail } from '../../backend-lambdas/notify-customer/notify-customer.js';
import { createProcessOrderHandler } from '../../backend-lambdas/process-order/process-order.js';
import { acceptOrder, type QueuedOrder, type StoredOrder } from '../../domain/order.js';
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

const notify = (shopUrl?: string) => createNotifyCustomerHandler({ store: stack.store, ses: new SESv2Client({ region: 'us-east-1' }), from: 'orders@example.com', shopUrl, logger: silentLambdaLogger() });

/** An order stored as process-order stores it (no topic: these tests make the events themselves). */
async function storedOrder(email: string | undefined, more: Partial<QueuedOrder> = {}): Promise<QueuedOrder> {
  const order = { ...acceptOrder({ ...SEED_ORDER, customer_id: `n-${randomUUID().slice(0, 8)}` }, { now: new Date() }), ...(email ? { customer_email: email } : {}), ...more };
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

/** A stored order as the mail reads it, with names a customer or staff could have typed. */
function pricedOrder(names: { customer?: string; product: string }): StoredOrder {
  return {
    order_id: randomUUID(),
    customer_id: 'acc-1',
    account_id: 'acc-1',
    customer_email: 'ada@example.com',
    ...(names.customer ? { customer_name: names.customer } : {}),
    lines: [
      { product_id: 'Odd', quantity: 2, product_name: names.product, unit_price_cents: 1250, line_total_cents: 2500 },
      { product_id: 'Banana', quantity: 1, product_name: 'Banana', unit_price_cents: 140, line_total_cents: 140 },
    ],
    total_cents: 2640,
    currency: 'USD',
    order_date: '2026-12-07',
    received_at: '2026-12-07T12:00:00.000Z',
    status: 'RECEIVED',
    version: 1,
    status_history: [{ status: 'RECEIVED', at: '2026-12-07T12:00:00.000Z' }],
  };
}

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

  it('when an account\'s order is received, then its mail has a text and an HTML part, each greeting the customer by name, with every line, the total and the link to the order\'s page', async () => {
    const order = await storedOrder('ada@example.com', { account_id: 'acc-ada', customer_name: 'Ada Lovelace' });
    expect((await notify('https://shop.example')(sqsEvent(eventRecord(order, 'RECEIVED')), createLambdaContext('notify-customer'))).batchItemFailures).toEqual([]);
    const body = ses.commandCalls(SendEmailCommand)[0]!.args[0].input.Content?.Simple?.Body;
    const link = `https://shop.example/sign-in?next=%2Forders%2F${order.order_id}`;
    expect(body?.Text?.Data).toMatch(/^Hello Ada Lovelace,\n/);
    expect(body?.Text?.Data).toContain('  1 x Banana at $0.35   $0.35\n  Total   $0.35');
    expect(body?.Text?.Data).toContain(`Your order: ${link}`);
    expect(body?.Html?.Data).toContain('<p>Hello Ada Lovelace,</p>');
    expect(body?.Html?.Data).toMatch(/<td[^>]*>Banana<\/td><td[^>]*>1<\/td><td[^>]*>\$0\.35<\/td><td[^>]*>\$0\.35<\/td>/);
    expect(body?.Html?.Data).toMatch(/Total<\/th><td[^>]*><strong>\$0\.35<\/strong>/);
    expect(body?.Html?.Data).toContain(`<a href="${link}">See your order</a>`);
  });

  it('when a product\'s or the customer\'s name holds markup, then the HTML part shows it as text and the text part as typed; without the shop\'s address there is no link', () => {
    const mail = customerMail(pricedOrder({ customer: 'Ada <img src=x onerror=alert(1)>', product: 'Pizza <script>alert("x")</script> & "co"' }), 'RECEIVED');
    expect(mail.html).not.toMatch(/<img|<script/);
    expect(mail.html).toContain('Hello Ada &lt;img src=x onerror=alert(1)&gt;,');
    expect(mail.html).toContain('Pizza &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &quot;co&quot;');
    expect(mail.text).toContain('Hello Ada <img src=x onerror=alert(1)>,');
    expect(mail.text).toContain('2 x Pizza <script>alert("x")</script> & "co" at $12.50   $25.00');
    expect(mail.text).toContain('Total   $26.40');
    expect(`${mail.text}${mail.html}`).not.toMatch(/https?:|href/);
    expect(customerMail(pricedOrder({ product: 'Pizza' }), 'READY').text).toMatch(/^Hello,\n\nYour order is ready\./);
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
