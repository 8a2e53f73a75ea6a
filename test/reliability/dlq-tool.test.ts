import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { catalogue, createCatalogue, type Product } from '../../domain/catalogue.js';
import { acceptOrder } from '../../domain/order.js';
import type { LocalStack } from '../../local/stack.js';
import { getStoredOrder, queueDepth, readOutbox, SEED_ORDER, startTestStack } from '../helpers/local-stack.js';
import { waitFor } from '../helpers/wait.js';

const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;
let stack: LocalStack;
const margherita = catalogue.get('Margherita')!;
// The shop's catalogue, as a map the test can change while the stack runs: a product taken off, then put back.
const liveCatalogue = createCatalogue([...catalogue.values()].filter((product) => product.id !== 'Margherita')) as Map<string, Product>;

beforeAll(async () => {
  stack = await startTestStack({ catalogue: liveCatalogue });
});
afterAll(() => stack.stop());

function dlq(...args: string[]) {
  return run(process.execPath, ['--import', 'tsx', 'ops/dlq.ts', ...args, '--endpoint', stack.urls.sqs, '--region', 'us-east-1'], {
    cwd: root,
    env: { ...process.env, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
}

describe('the DLQ tool', () => {
  it('when a poison message is fixed at its cause and redriven, then the order is stored, the alarm returns to OK and its OK mail arrives', async () => {
    // Accepted while the pizza was on the menu, processed after it was taken off: it fails until it is back.
    const order = acceptOrder({ ...SEED_ORDER, product_id: 'Margherita', quantity: 2 }, { now: new Date() });
    await stack.clients.sqs.send(new SendMessageCommand({ QueueUrl: stack.resources.queue.url, MessageBody: JSON.stringify(order) }));
    await waitFor(async () => (await queueDepth(stack, stack.resources.deadLetterQueue)).visible === 1, { timeoutMs: 30_000, what: 'the DLQ' });
    await waitFor(() => stack.alarm.state === 'ALARM', { timeoutMs: 15_000, what: 'the alarm' });

    const listed = await dlq('list');
    expect(listed.stdout).toContain('1 message in orders-dlq');
    expect(listed.stdout).toContain(`order_id  ${order.order_id}`);
    // The five deliveries to process-order, and any receive SQS counted when it moved the message.
    expect(Number(/receives {2}(\d+)\n/.exec(listed.stdout)?.[1])).toBeGreaterThanOrEqual(5);
    expect(listed.stdout).toContain('"product_id":"Margherita"');
    // Listing gave the message back: it is still there, visible.
    expect((await queueDepth(stack, stack.resources.deadLetterQueue)).visible).toBe(1);

    liveCatalogue.set('Margherita', margherita);
    const redriven = await dlq('redrive');
    expect(redriven.stdout).toContain('Moved 1 message from orders-dlq to orders (receive-send-delete).');

    const stored = await waitFor(() => getStoredOrder(stack, order.order_id), { what: 'the redriven order to be stored' });
    expect(stored).toMatchObject({ status_history: [{ status: 'RECEIVED' }], total_cents: 2 * margherita.unit_price_cents });
    await waitFor(() => stack.alarm.state === 'OK', { timeoutMs: 15_000, what: 'the alarm to return to OK' });
    const okMail = await waitFor(async () => (await readOutbox(stack)).find((mail) => mail.subject === 'OK: "orders-dlq-not-empty" in US East (N. Virginia)'), { what: 'the OK mail' });
    expect(okMail.text).toContain('ALARM -> OK');
  }, 60_000);

  it('when purge is asked for without a terminal or --yes, then it refuses and deletes nothing; with --yes, then the DLQ is emptied', async () => {
    for (const body of ['junk 1', 'junk 2']) {
      await stack.clients.sqs.send(new SendMessageCommand({ QueueUrl: stack.resources.deadLetterQueue.url, MessageBody: body }));
    }
    await expect(dlq('purge')).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('Refusing to purge orders-dlq without confirmation') as unknown });
    expect((await queueDepth(stack, stack.resources.deadLetterQueue)).visible).toBe(2);
    expect((await dlq('purge', '--yes')).stdout).toContain('Purged orders-dlq.');
    expect((await queueDepth(stack, stack.resources.deadLetterQueue)).visible).toBe(0);
  });

  it('when the command is unknown, then it says so with the usage', async () => {
    await expect(dlq('explode')).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('Usage: npm run dlq') as unknown });
  });
});
