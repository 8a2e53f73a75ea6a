import { ReceiveMessageCommand, DeleteMessageBatchCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { randomUUID } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';
import { createCartStore } from '../../backend-lambdas/lib/cart-store.js';
import { catalogue } from '../../domain/catalogue.js';
import type { StoredOrder } from '../../domain/order.js';
import type { LocalStack } from '../../local/stack.js';
import { queueDepth, startTestStack } from '../helpers/local-stack.js';
import { waitFor } from '../helpers/wait.js';
import { prepareCustomers, writeCarts, type PreparedCustomer } from '../helpers/prepared-customers.js';
import { orderIdOfLocation } from '../helpers/web.js';

const ORDERS = 2000;
const CLIENTS = 50;
const REPEAT_SHARE = 0.1;
const POISON_SHARE = 0.05;

let stack: LocalStack;
beforeAll(async () => {
  stack = await startTestStack({
    throttle: { rateLimit: 100_000, burstLimit: 100_000 },
    // This test judges reconciliation, the bench judges latency: on a shared 2-core machine 50 clients'
    // checkouts can queue past the web tier's 3 s upstream timeout, and a 503 for an order that was in
    // fact accepted (seen in CI) says nothing about lost or doubled orders.
    webEnv: { RATE_LIMIT_MAX: '1000000', ORDER_RATE_LIMIT_MAX: '1000000', API_TIMEOUT_MS: '20000' },
  });
});
afterAll(() => stack.stop(), 30_000);

interface Planned {
  customer: string;
  productId: string;
  quantity: number;
}

/** The checkout form of a signed-in customer's cart page, posted as the browser would. */
function postCheckout(agent: Agent, customer: PreparedCustomer): Promise<{ status: number; location?: string | undefined }> {
  const body = customer.checkoutBody;
  const { hostname, port } = new URL(stack.urls.web);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, method: 'POST', path: '/checkout', agent, headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html', cookie: customer.cookie, 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function scanRun(runId: string): Promise<StoredOrder[]> {
  return (await stack.store.all()).filter((order) => order.customer_id.startsWith(runId));
}

describe('load with reconciliation', () => {
  it(`when ${ORDERS} checkouts arrive from ${CLIENTS} clients with repeats and poison on the queue, then every order is stored exactly once and the DLQ holds exactly the poison`, async () => {
    const runId = `L${randomUUID().slice(0, 6)}`;
    const products = [...catalogue.values()];
    // Each logical order is its own signed-in customer's checkout of a one-line cart, so the table shows
    // at once whether one is missing or doubled; a repeat posts that customer's same checkout form again.
    const logical: Planned[] = [];
    const posts: Planned[] = [];
    for (let i = 0; i < ORDERS; i++) {
      if (i > 0 && i % Math.round(1 / REPEAT_SHARE) === 0) {
        posts.push(logical[Math.floor((i * 7919) % logical.length)]!);
      } else {
        const order = { customer: `${runId}-${i}`, productId: products[i % products.length]!.id, quantity: 1 + (i % 7) };
        logical.push(order);
        posts.push(order);
      }
    }
    const poison = Array.from({ length: Math.round(ORDERS * POISON_SHARE) }, (_, i) =>
      i % 2 === 0 ? `not an order ${runId} ${i}` : JSON.stringify({ order_id: randomUUID(), customer_id: `${runId}-poison-${i}`, product_id: 'Caviar', quantity: 1, order_date: '2025-04-25', received_at: new Date().toISOString() }),
    );

    // The carts written as the cart Lambda writes them, each customer's cart page opened once (its
    // session is an ID token signed with the pool's key): outside the load, as a browser had done before.
    await writeCarts(createCartStore({ documents: stack.clients.documents, tableName: stack.resources.cartsTableName }), logical.map((order) => order.customer), (index) => [[logical[index]!.productId, logical[index]!.quantity]]);
    const prepared = new Map((await prepareCustomers(stack.urls.web, stack.userPool, logical.map((order) => order.customer))).map((customer) => [customer.id, customer]));

    const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
    const answers: { planned: Planned; status: number; orderId?: string | undefined }[] = [];
    let next = 0;
    const started = Date.now();
    const clients = Array.from({ length: CLIENTS }, async () => {
      for (let index = next++; index < posts.length; index = next++) {
        const planned = posts[index]!;
        const { status, location } = await postCheckout(agent, prepared.get(planned.customer)!);
        answers.push({ planned, status, orderId: location ? orderIdOfLocation(location) : undefined });
        // Poison goes straight onto the queue, spread through the run.
        if (index % 200 === 0) {
          const batch = poison.splice(0, 10);
          if (batch.length > 0) {
            await stack.clients.sqs.send(new SendMessageBatchCommand({ QueueUrl: stack.resources.queue.url, Entries: batch.map((body, i) => ({ Id: String(i), MessageBody: body })) }));
            sentPoison.push(...batch);
          }
        }
      }
    });
    const sentPoison: string[] = [];
    await Promise.all(clients);
    if (poison.length > 0) {
      await stack.clients.sqs.send(new SendMessageBatchCommand({ QueueUrl: stack.resources.queue.url, Entries: poison.map((body, i) => ({ Id: String(i), MessageBody: body })) }));
      sentPoison.push(...poison.splice(0));
    }
    const postSeconds = (Date.now() - started) / 1000;
    agent.destroy();

    const accepted = new Set(answers.filter((answer) => answer.status === 303).map((answer) => answer.orderId!));
    await waitFor(async () => (await scanRun(runId)).length >= logical.length, { timeoutMs: 60_000, intervalMs: 500, what: 'every order to be stored' });
    await waitFor(async () => (await queueDepth(stack, stack.resources.deadLetterQueue)).visible >= sentPoison.length, { timeoutMs: 60_000, intervalMs: 500, what: 'the poison to reach the DLQ' });
    // Let anything still in flight land before counting.
    await waitFor(async () => {
      const depth = await queueDepth(stack, stack.resources.queue);
      return depth.visible + depth.inFlight === 0;
    }, { timeoutMs: 30_000, what: 'the queue to drain' });

    const stored = await scanRun(runId);
    const deadLetters: string[] = [];
    for (;;) {
      const { Messages = [] } = await stack.clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: stack.resources.deadLetterQueue.url, MaxNumberOfMessages: 10, VisibilityTimeout: 60 }));
      if (Messages.length === 0) break;
      deadLetters.push(...Messages.map((message) => message.Body ?? ''));
      await stack.clients.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: stack.resources.deadLetterQueue.url, Entries: Messages.map((message, i) => ({ Id: String(i), ReceiptHandle: message.ReceiptHandle })) }));
    }

    const storedByCustomer = new Map<string, StoredOrder[]>();
    for (const item of stored) storedByCustomer.set(item.customer_id, [...(storedByCustomer.get(item.customer_id) ?? []), item]);
    const lost = logical.filter((order) => !storedByCustomer.has(order.customer));
    const doubled = [...storedByCustomer.values()].filter((items) => items.length > 1);
    const wrongTotal = stored.filter((item) => item.total_cents !== item.lines.reduce((sum, line) => sum + catalogue.get(line.product_id)!.unit_price_cents * line.quantity, 0));
    const storedIds = new Set(stored.map((item) => item.order_id));
    const unaccounted = [...accepted].filter((id) => !storedIds.has(id));
    const poisonSet = new Set(sentPoison);

    const rows: [string, number | string][] = [
      ['checkout posts', answers.length],
      ['answered 303', answers.filter((answer) => answer.status === 303).length],
      ['answered otherwise', answers.filter((answer) => answer.status !== 303).length],
      ['repeats of an earlier checkout', posts.length - logical.length],
      ['distinct order ids accepted', accepted.size],
      ['distinct valid orders', logical.length],
      ['stored', stored.length],
      ['lost', lost.length],
      ['doubled', doubled.length],
      ['wrong total', wrongTotal.length],
      ['accepted ids not stored', unaccounted.length],
      ['poison sent', sentPoison.length],
      ['in the DLQ', deadLetters.length],
      ['DLQ messages that are not poison', deadLetters.filter((body) => !poisonSet.has(body)).length],
      ['poison not in the DLQ', sentPoison.filter((body) => !deadLetters.includes(body)).length],
      ['posting took', `${postSeconds.toFixed(1)} s (${Math.round(answers.length / postSeconds)} posts/s)`],
    ];
    console.log(`Reconciliation\n${rows.map(([name, value]) => `  ${name.padEnd(34)} ${value}`).join('\n')}`);

    // Counted by status, so a failure says which answers came back and how many.
    const byStatus = Object.groupBy(answers, (answer) => String(answer.status));
    expect(Object.fromEntries(Object.entries(byStatus).map(([status, group]) => [status, group!.length]))).toEqual({ 303: answers.length });
    expect(accepted.size).toBe(logical.length);
    expect(stored).toHaveLength(logical.length);
    expect({ lost: lost.length, doubled: doubled.length, wrongTotal: wrongTotal.length, unaccounted: unaccounted.length }).toEqual({ lost: 0, doubled: 0, wrongTotal: 0, unaccounted: 0 });
    expect(deadLetters.sort()).toEqual([...sentPoison].sort());
  }, 300_000);
});
