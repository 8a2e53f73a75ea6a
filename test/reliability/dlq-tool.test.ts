import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { catalogue, createCatalogue, type Product } from '../../domain/catalogue.js';
import { acceptOrder } from '../../domain/order.js';
import type { LocalStack } from '../../local/stack.js';
import { getStoredOrder, queueDepth, readOutbox, SEED_ORDER, startTestStack, unpricedOrder, unreachableUrl } from '../helpers/local-stack.js';
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
afterAll(() => stack.stop(), 30_000);

function dlq(...args: string[]) {
  return run(process.execPath, ['--import', 'tsx', 'ops/dlq.ts', ...args, '--endpoint', stack.urls.sqs, '--region', 'us-east-1'], {
    cwd: root,
    env: { ...process.env, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
}

describe('the DLQ tool', () => {
  it('when a poison message is fixed at its cause and redriven, then the order is stored, the alarm returns to OK and its OK mail arrives', async () => {
    // Queued unpriced (as before lines carried their price) while the pizza was on the menu, processed after it was taken off: it fails until it is back.
    const order = unpricedOrder(acceptOrder({ ...SEED_ORDER, product_id: 'Margherita', quantity: 2 }, { now: new Date() }));
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

  it('when a body holds line breaks and terminal escapes, then list prints it escaped on its one line, so it cannot fake another entry', async () => {
    // SQS takes tab, CR, LF and anything from U+0020 (NEL and the bidi overrides included), not other C0 controls.
    const forged = 'junk\n\n  order_id  00000000-0000-4000-8000-000000000000\n  receives  1\r\u0085\u202eevil';
    await stack.clients.sqs.send(new SendMessageCommand({ QueueUrl: stack.resources.deadLetterQueue.url, MessageBody: forged }));
    const { stdout } = await dlq('list');
    expect(stdout).toContain('1 message in orders-dlq');
    expect(stdout.split('\n').filter((line) => line.startsWith('  order_id'))).toEqual(['  order_id  (none)']);
    expect(stdout).toContain('body      junk\\n\\n  order_id  00000000-0000-4000-8000-000000000000\\n  receives  1\\r\\u0085\\u202eevil\n');
    // eslint-disable-next-line no-control-regex -- looking for control characters is the point
    expect(stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u0085\u202e]/);
    expect((await dlq('purge', '--yes')).stdout).toContain('Purged orders-dlq.');
  });

  it('when the command is unknown, then one line says so and where the usage is', async () => {
    const failed = (await dlq('explode').catch((error: unknown) => error)) as { code: number; stderr: string };
    expect(failed.code).toBe(2);
    expect(failed.stderr).toBe('dlq: Unknown or missing command: explode (npm run dlq -- --help shows the usage)\n');
  });

  it('when the endpoint does not answer, then one line says so, without a stack trace', async () => {
    const failed = (await run(process.execPath, ['--import', 'tsx', 'ops/dlq.ts', 'list', '--local'], { cwd: root, env: { ...process.env, SQS_PORT: new URL(await unreachableUrl()).port, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } }).catch((error: unknown) => error)) as { code: number; stderr: string };
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/^dlq: cannot reach http:\/\/127\.0\.0\.1:\d+: is the local stack running \(npm start\)\?\n$/);
  });
});
