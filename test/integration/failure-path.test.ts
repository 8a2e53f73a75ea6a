import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { Context, SQSEvent } from 'aws-lambda';
import type { LocalStack } from '../../local/stack.js';
import { drainQueue, getStoredOrder, queueDepth, readOutbox, startTestStack } from '../helpers/local-stack.js';
import { waitFor } from '../helpers/wait.js';
import { acceptOrder } from '../../domain/order.js';
import { SEED_ORDER } from '../helpers/local-stack.js';
import type { SqsBatchHandler } from '../../local/event-source-mapping.js';

let stack: LocalStack;
const receives = new Map<string, number>();

beforeAll(async () => {
  stack = await startTestStack({
    wrap: {
      'process-order': (handler: SqsBatchHandler) => async (event: SQSEvent, context: Context) => {
      for (const record of event.Records) receives.set(record.body, (receives.get(record.body) ?? 0) + 1);
      return handler(event, context);
    },
    },
  });
});
afterAll(() => stack.stop(), 30_000);

describe('the failure path: poison message -> DLQ -> alarm -> mail', () => {
  it('when a message cannot be processed, then after exactly 5 receives it is in the DLQ, the alarm fires and mails the admin; drained, it mails OK', async () => {
    // Valid JSON, well-formed order, but a product the catalogue does not have: fails every time.
    const poison = JSON.stringify({ ...acceptOrder(SEED_ORDER, { now: new Date() }), product_id: 'Discontinued' });
    const good = acceptOrder(SEED_ORDER, { now: new Date() });
    await stack.clients.sqs.send(new SendMessageCommand({ QueueUrl: stack.resources.queue.url, MessageBody: poison }));
    await stack.clients.sqs.send(new SendMessageCommand({ QueueUrl: stack.resources.queue.url, MessageBody: JSON.stringify(good) }));

    await waitFor(async () => (await queueDepth(stack, stack.resources.deadLetterQueue)).visible === 1, { timeoutMs: 30_000, what: 'the poison message in the DLQ' });
    expect(receives.get(poison)).toBe(5);
    expect(receives.get(JSON.stringify(good))).toBe(1);
    expect((await getStoredOrder(stack, good.order_id))?.status_history[0]).toMatchObject({ status: 'RECEIVED' });
    expect(await getStoredOrder(stack, (JSON.parse(poison) as { order_id: string }).order_id)).toBeUndefined();

    await waitFor(() => stack.alarm.state === 'ALARM', { timeoutMs: 15_000, what: 'the alarm' });
    const alarmMail = await waitFor(async () => (await readOutbox(stack)).find((mail) => mail.subject?.startsWith('ALARM')), { what: 'the ALARM mail' });
    expect(alarmMail.subject).toBe('ALARM: "orders-dlq-not-empty" in US East (N. Virginia)');
    expect(alarmMail.to).toMatchObject({ text: 'admin@example.com' });
    expect(alarmMail.text).toContain('ApproximateNumberOfMessagesVisible');
    expect(alarmMail.text).toContain('QueueName = orders-dlq');
    expect(alarmMail.file).toMatch(/^\d{4}-\d\d-\d\dT[\d.-]+Z-ops-alarms-[0-9a-f]{16}\.eml$/);

    expect(await drainQueue(stack, stack.resources.deadLetterQueue)).toEqual([poison]);
    await waitFor(() => stack.alarm.state === 'OK', { timeoutMs: 15_000, what: 'the alarm to clear' });
    const okMail = await waitFor(async () => (await readOutbox(stack)).find((mail) => mail.subject?.startsWith('OK')), { what: 'the OK mail' });
    expect(okMail.text).toContain('ALARM -> OK');
    expect(stack.alarm.history.map((change) => `${change.from}->${change.to}`)).toEqual(['INSUFFICIENT_DATA->OK', 'OK->ALARM', 'ALARM->OK']);
  }, 60_000);
});
