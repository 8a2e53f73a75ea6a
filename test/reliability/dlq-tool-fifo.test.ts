// The DLQ tool (and the console, which redrives through the same function) on a FIFO stack
// (QUEUE_TYPE=fifo): a FIFO queue takes no message without a group, and drops a message whose
// deduplication id it saw in the last five minutes, which is what a redrive under the order's own id
// would be.
import { CreateQueueCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { catalogue, createCatalogue, type Product } from '../../domain/catalogue.js';
import { acceptOrder, fifoIdsOf } from '../../domain/order.js';
import type { LocalStack } from '../../local/stack.js';
import { moveMessages, UNKNOWN_CUSTOMER_GROUP } from '../../ops/dead-letters.js';
import { getStoredOrder, queueDepth, SEED_ORDER, startTestStack, unpricedOrder } from '../helpers/local-stack.js';
import { waitFor } from '../helpers/wait.js';

const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;
let stack: LocalStack;
const margherita = catalogue.get('Margherita')!;
const liveCatalogue = createCatalogue([...catalogue.values()].filter((product) => product.id !== 'Margherita')) as Map<string, Product>;

beforeAll(async () => {
  stack = await startTestStack({ queueType: 'fifo', catalogue: liveCatalogue, runSchedules: false });
});
afterAll(() => stack.stop(), 30_000);

function dlq(...args: string[]) {
  return run(process.execPath, ['--import', 'tsx', 'ops/dlq.ts', ...args, '--queue-type', 'fifo', '--endpoint', stack.urls.sqs, '--region', 'us-east-1'], {
    cwd: root,
    env: { ...process.env, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
}

describe('the DLQ tool on FIFO queues', () => {
  it('when a poison order reaches orders-dlq.fifo and is redriven within five minutes of its first send, then it goes back in its customer\'s group, is not dropped as a duplicate, and is stored', async () => {
    expect(stack.resources.deadLetterQueue.name).toBe('orders-dlq.fifo');
    const order = unpricedOrder(acceptOrder({ ...SEED_ORDER, customer_id: `c-${randomUUID().slice(0, 8)}`, product_id: 'Margherita', quantity: 1 }, { now: new Date() }));
    const { groupId, deduplicationId } = fifoIdsOf(order);
    await stack.clients.sqs.send(new SendMessageCommand({ QueueUrl: stack.resources.queue.url, MessageBody: JSON.stringify(order), MessageGroupId: groupId, MessageDeduplicationId: deduplicationId }));
    await waitFor(async () => (await queueDepth(stack, stack.resources.deadLetterQueue)).visible === 1, { timeoutMs: 45_000, what: 'the FIFO DLQ' });
    await waitFor(() => stack.alarm.state === 'ALARM', { timeoutMs: 15_000, what: 'the alarm on the FIFO DLQ' });

    const listed = await dlq('list');
    expect(listed.stdout).toContain('1 message in orders-dlq.fifo');
    expect(listed.stdout).toContain(`order_id  ${order.order_id}`);

    liveCatalogue.set('Margherita', margherita);
    const redriven = await dlq('redrive');
    expect(redriven.stdout).toContain('Moved 1 message from orders-dlq.fifo to orders.fifo (receive-send-delete).');
    // Resent under the order id, the queue would have dropped it (sent less than five minutes ago): it would never be stored.
    const stored = await waitFor(() => getStoredOrder(stack, order.order_id), { timeoutMs: 30_000, what: 'the redriven order to be stored' });
    expect(groupId).toBe(`integration:${order.customer_id}`);
    expect(stored).toMatchObject({ customer_id: order.customer_id, status_history: [{ status: 'RECEIVED' }] });
    await waitFor(() => stack.alarm.state === 'OK', { timeoutMs: 15_000, what: 'the alarm to return to OK' });
  }, 120_000);

  it('when a FIFO DLQ holds two messages of one group, then list shows the first and says how many wait behind it, and purge empties it', async () => {
    for (const body of ['junk 1', 'junk 2']) {
      await stack.clients.sqs.send(new SendMessageCommand({ QueueUrl: stack.resources.deadLetterQueue.url, MessageBody: body, MessageGroupId: 'one-group', MessageDeduplicationId: randomUUID() }));
    }
    const { stdout } = await dlq('list');
    expect(stdout).toContain('1 message in orders-dlq.fifo');
    expect(stdout).toContain('body      junk 1');
    expect(stdout).toContain('(and about 1 more behind them in their customers\' groups');
    // Listing gave it back: both are still there.
    expect(await queueDepth(stack, stack.resources.deadLetterQueue)).toEqual({ visible: 2, inFlight: 0 });
    expect((await dlq('purge', '--yes')).stdout).toContain('Purged orders-dlq.fifo.');
    expect((await queueDepth(stack, stack.resources.deadLetterQueue)).visible).toBe(0);
  });

  it('when dead letters are moved into a FIFO queue, then each goes into its customer\'s group (or the unknown customer\'s), deduplicated by its own message id, not its order id', async () => {
    const sqs = stack.clients.sqs;
    const [source, target] = await Promise.all(
      ['source', 'target'].map(async (role) => (await sqs.send(new CreateQueueCommand({ QueueName: `move-${role}-${randomUUID().slice(0, 8)}.fifo`, Attributes: { FifoQueue: 'true' } }))).QueueUrl!),
    );
    const order = acceptOrder({ ...SEED_ORDER, customer_id: 'move-customer' }, { now: new Date() });
    const sent: Record<string, string> = {};
    for (const body of [JSON.stringify(order), 'not json']) {
      const { MessageId } = await sqs.send(new SendMessageCommand({ QueueUrl: source!, MessageBody: body, MessageGroupId: body === 'not json' ? 'g2' : 'g1', MessageDeduplicationId: randomUUID() }));
      sent[body] = MessageId!;
    }
    expect(await moveMessages(sqs, { sourceUrl: source!, targetUrl: target! })).toEqual({ moved: 2, failed: 0 });

    const received: { body: string; group: string | undefined; deduplication: string | undefined }[] = [];
    await waitFor(
      async () => {
        const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: target!, MaxNumberOfMessages: 10, VisibilityTimeout: 60, MessageSystemAttributeNames: ['MessageGroupId', 'MessageDeduplicationId'] }));
        received.push(...Messages.map((message) => ({ body: message.Body!, group: message.Attributes?.MessageGroupId, deduplication: message.Attributes?.MessageDeduplicationId })));
        return received.length === 2;
      },
      { timeoutMs: 10_000, what: 'both moved messages' },
    );
    expect(received.sort((a, b) => a.body.localeCompare(b.body))).toEqual(
      [
        { body: JSON.stringify(order), group: 'integration:move-customer', deduplication: sent[JSON.stringify(order)] },
        { body: 'not json', group: UNKNOWN_CUSTOMER_GROUP, deduplication: sent['not json'] },
      ].sort((a, b) => a.body.localeCompare(b.body)),
    );
    expect(received.map((message) => message.deduplication)).not.toContain(order.order_id);
  });
});
