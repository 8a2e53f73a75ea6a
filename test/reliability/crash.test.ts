// Must show 1 of issue 11: kill -9 of the whole local stack in the middle of a load of orders,
// a restart on the same state folder, every unanswered request retried with its key; then every
// key is one stored order and one "order received" mail. Three runs, each its own stack.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { simpleParser } from 'mailparser';
import { randomUUID } from 'node:crypto';
import { readdir, readFile, rm } from 'node:fs/promises';
import { mkdtemp } from 'node:fs/promises';
import { Agent, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOrderStore } from '../../backend-lambdas/lib/order-store.js';
import { catalogue } from '../../domain/catalogue.js';
import { orderIdFor } from '../../domain/order.js';
import { startStackProcess, stackPorts, type StackPorts, type StackProcess } from '../helpers/stack-process.js';
import { waitFor } from '../helpers/wait.js';

const ORDERS = 500;
const CLIENTS = 8;
/** The stack is killed once this many orders have been answered 202. */
const KILL_AFTER_ACCEPTED = 250;
// Under the API's usage-plan throttle (100 requests/s, burst 200): each client waits this long between posts.
const CLIENT_PAUSE_MS = 90;
const API_KEY = 'local-dev-key';
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const products = [...catalogue.keys()];

interface Planned {
  customer: string;
  key: string;
  body: string;
  /** What the API answered, once it answered 202. */
  orderId?: string;
  attempts: number;
}

type Outcome = { status: number; orderId?: string } | { error: string };

function post(agent: Agent, port: number, order: Planned): Promise<Outcome> {
  return new Promise((resolve) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, method: 'POST', path: '/orders', agent, timeout: 10_000, headers: { 'content-type': 'application/json', 'x-api-key': API_KEY, 'idempotency-key': order.key, 'content-length': Buffer.byteLength(order.body) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          let orderId: string | undefined;
          try {
            orderId = (JSON.parse(text) as { order_id?: string }).order_id;
          } catch {
            orderId = undefined;
          }
          resolve({ status: res.statusCode ?? 0, ...(orderId ? { orderId } : {}) });
        });
        res.on('error', (error) => resolve({ error: error.message }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
    req.end(order.body);
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Posts every order not yet answered 202, from CLIENTS clients, until each is or `stop()` says so.
 * Anything but a 202 (no answer, a 429, a 503) is tried again with the same key.
 */
async function sendAll(port: number, orders: Planned[], { stop = () => false }: { stop?: () => boolean } = {}): Promise<{ noAnswer: number; throttled: number; other: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
  const counts = { noAnswer: 0, throttled: 0, other: 0 };
  const pending = orders.filter((order) => !order.orderId);
  try {
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        while (!stop()) {
          const order = pending.shift();
          if (!order) return;
          order.attempts++;
          const outcome = await post(agent, port, order);
          if ('status' in outcome && outcome.status === 202 && outcome.orderId) {
            order.orderId = outcome.orderId;
          } else {
            if ('error' in outcome) counts.noAnswer++;
            else if (outcome.status === 429) counts.throttled++;
            else counts.other++;
            pending.push(order);
          }
          await sleep(CLIENT_PAUSE_MS);
        }
      }),
    );
  } finally {
    agent.destroy();
  }
  return counts;
}

/** The "order received" mails in the outbox, as order id -> how many. */
async function receivedMails(mailDir: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const file of (await readdir(mailDir)).filter((name) => name.endsWith('.eml'))) {
    const mail = await simpleParser(await readFile(join(mailDir, file)));
    if (!mail.subject?.startsWith('Order received:')) continue;
    const orderId = /Order ([0-9a-f-]{36}) was received and stored\./.exec(mail.text ?? '')?.[1];
    if (orderId) counts.set(orderId, (counts.get(orderId) ?? 0) + 1);
  }
  return counts;
}

function clientsFor(ports: StackPorts) {
  const sqs = new SQSClient({ region: 'us-east-1', endpoint: `http://127.0.0.1:${ports.SQS_PORT}`, credentials });
  const dynamodb = new DynamoDBClient({ region: 'us-east-1', endpoint: `http://127.0.0.1:${ports.DYNAMODB_PORT}`, credentials });
  return { sqs, store: createOrderStore({ documents: DynamoDBDocumentClient.from(dynamodb), tableName: 'orders' }), destroy: () => (sqs.destroy(), dynamodb.destroy()) };
}

async function messagesIn(sqs: SQSClient, queueName: string): Promise<number> {
  const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: queueName }));
  const { Attributes = {} } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
  return Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible);
}

const running = new Set<StackProcess>();
afterAll(() => {
  for (const stack of running) stack.signal('SIGKILL');
});

describe('kill -9 of the local stack under load', () => {
  it.each([1, 2, 3])(
    `run %i: when ${ORDERS} orders with idempotency keys come from ${CLIENTS} clients, the stack is killed with kill -9 mid-way and started again on the same state folder, and every unanswered request is retried with its key, then every key is one stored order with one "order received" mail`,
    async (run) => {
      const stateDir = await mkdtemp(join(tmpdir(), `orders-crash-${run}-`));
      const ports = await stackPorts();
      const env = { ...Object.fromEntries(Object.entries(ports).map(([name, port]) => [name, String(port)])), LOCAL_STATE_DIR: stateDir, ADMIN_ORDER_MAIL: 'true' };
      const runId = `K${run}${randomUUID().slice(0, 6)}`;
      const orders: Planned[] = Array.from({ length: ORDERS }, (_, i) => ({
        customer: `${runId}-${i}`,
        key: randomUUID(),
        body: JSON.stringify({ customer_id: `${runId}-${i}`, product_id: products[i % products.length], quantity: 1 + (i % 5) }),
        attempts: 0,
      }));
      const clients = clientsFor(ports);
      try {
        // 1. Load; once half the orders are answered, a burst of posts is sent and the whole
        //    process group is killed while they are in flight.
        const first = await startStackProcess(env);
        running.add(first);
        let stopping = false;
        const accepted = () => orders.filter((order) => order.orderId).length;
        const load = sendAll(ports.API_PORT, orders, { stop: () => stopping });
        await waitFor(() => accepted() >= KILL_AFTER_ACCEPTED, { timeoutMs: 60_000, intervalMs: 5, what: `${KILL_AFTER_ACCEPTED} orders to be answered` });
        stopping = true;
        const burstAgent = new Agent({ keepAlive: false });
        const burst = orders.filter((order) => order.attempts === 0).slice(0, CLIENTS).map(async (order) => {
          order.attempts++;
          const outcome = await post(burstAgent, ports.API_PORT, order);
          if ('status' in outcome && outcome.status === 202 && outcome.orderId) order.orderId = outcome.orderId;
          return 'error' in outcome;
        });
        await sleep(3);
        first.signal('SIGKILL');
        const killedAt = accepted();
        const firstCounts = await load;
        const cut = (await Promise.all(burst)).filter(Boolean).length + firstCounts.noAnswer;
        burstAgent.destroy();
        expect(await first.exited).toBe('SIGKILL');
        running.delete(first);
        const unanswered = orders.filter((order) => !order.orderId).length;

        // 2. Started again on the same state folder; every order without a 202 is sent again with its key.
        const second = await startStackProcess(env);
        running.add(second);
        const secondCounts = await sendAll(ports.API_PORT, orders);

        // 3. Reconcile, once the pipeline has caught up: the queues empty, then every order stored and
        //    mailed (or the wait ends, and the table says what is missing).
        const storedOfRun = async () => (await clients.store.all()).filter((order) => order.customer_id.startsWith(`${runId}-`));
        const mailDir = join(stateDir, 'mail');
        await waitFor(async () => (await messagesIn(clients.sqs, 'orders')) + (await messagesIn(clients.sqs, 'local-email-delivery')) === 0, { timeoutMs: 60_000, intervalMs: 500, what: 'the orders and mail queues to drain' });
        await waitFor(async () => (await storedOfRun()).length >= ORDERS && (await receivedMails(mailDir)).size >= ORDERS, { timeoutMs: 15_000, intervalMs: 500 }).catch(() => undefined);

        const stored = await storedOfRun();
        const storedByCustomer = new Map<string, string[]>();
        for (const order of stored) storedByCustomer.set(order.customer_id, [...(storedByCustomer.get(order.customer_id) ?? []), order.order_id]);
        const mails = await receivedMails(mailDir);
        const lost = orders.filter((order) => !storedByCustomer.has(order.customer));
        const doubled = [...storedByCustomer.values()].filter((ids) => ids.length > 1);
        // The same key always gives the same id: what the client was told is what was stored.
        const wrongId = orders.filter((order) => order.orderId !== orderIdFor(order.customer, order.key) || storedByCustomer.get(order.customer)?.[0] !== order.orderId);
        const mailsPerOrder = stored.map((order) => mails.get(order.order_id) ?? 0);
        const rows: [string, number | string][] = [
          ['orders (keys)', ORDERS],
          ['answered 202 before the kill', killedAt],
          ['without a 202 at the kill (cut or not sent)', unanswered],
          ['  of which requests cut by the kill', cut],
          ['429 before / after (retried)', `${firstCounts.throttled} / ${secondCounts.throttled}`],
          ['restart (spawn to banner)', `${second.startMs} ms`],
          ['messages put back by the journal', second.restoredMessages],
          ['answered 202 in the end', orders.filter((order) => order.orderId).length],
          ['posts in all', orders.reduce((sum, order) => sum + order.attempts, 0)],
          ['stored', stored.length],
          ['lost', lost.length],
          ['doubled', doubled.length],
          ['answered id not the stored one', wrongId.length],
          ['"order received" mails', [...mails.values()].reduce((sum, count) => sum + count, 0)],
          ['stored orders without exactly one mail', mailsPerOrder.filter((count) => count !== 1).length],
        ];
        console.log(`Crash run ${run}\n${rows.map(([name, value]) => `  ${name.padEnd(40)} ${value}`).join('\n')}`);

        expect(killedAt).toBeGreaterThanOrEqual(KILL_AFTER_ACCEPTED);
        // Requests were in flight when the stack died, and were answered only after the restart.
        expect(cut).toBeGreaterThan(0);
        expect(firstCounts.other + secondCounts.other).toBe(0);
        expect(stored).toHaveLength(ORDERS);
        expect({ lost: lost.length, doubled: doubled.length, wrongId: wrongId.length }).toEqual({ lost: 0, doubled: 0, wrongId: 0 });
        expect(mailsPerOrder.every((count) => count === 1)).toBe(true);
        expect(mails.size).toBe(ORDERS);

        second.signal('SIGINT');
        expect(await second.exited).toBe(0);
        running.delete(second);
      } finally {
        clients.destroy();
        await rm(stateDir, { recursive: true, force: true });
      }
    },
    // Each run is bounded by its orders; this is room for a loaded machine (run 1 took 103 s of 120).
    240_000,
  );
});
