import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest, createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createCartStore } from '../../backend-lambdas/lib/cart-store.js';
import { cartView, emptyCart, setCartLine } from '../../domain/cart.js';
import { acceptOrder, type QueuedOrder } from '../../domain/order.js';
import type { LocalStack } from '../../local/stack.js';
import { apiRequest, getStoredOrder, queueDepth, SEED_ORDER, startTestStack, unreachableUrl } from '../helpers/local-stack.js';
import { waitFor } from '../helpers/wait.js';
import { cognitoLocalJwks, prepareCustomers, writeCarts, type PreparedCustomer } from '../helpers/prepared-customers.js';
import type { SqsBatchHandler } from '../../local/event-source-mapping.js';

const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;
const webArtifact = join(root, 'dist', 'web', 'order-web.tar.gz');

/** Every delivery process-order got, by order id; and what the test wants to go wrong. */
const deliveries = new Map<string, number>();
const thrownBatches: string[][] = [];
let throwOnceFor: string | undefined;
let failOnceFor: string | undefined;

function idOf(body: string): string {
  try {
    return (JSON.parse(body) as { order_id?: string }).order_id ?? body;
  } catch {
    return body;
  }
}

let stack: LocalStack;
beforeAll(async () => {
  stack = await startTestStack({
    throttle: { rateLimit: 10_000, burstLimit: 10_000 },
    wrap: {
      'process-order': (handler: SqsBatchHandler) => async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
      const ids = event.Records.map((record) => idOf(record.body));
      for (const id of ids) deliveries.set(id, (deliveries.get(id) ?? 0) + 1);
      if (throwOnceFor && ids.includes(throwOnceFor)) {
        throwOnceFor = undefined;
        thrownBatches.push(ids);
        throw new Error('process-order crashed on this batch');
      }
      const failing = event.Records.find((record) => idOf(record.body) === failOnceFor);
      if (failing) {
        failOnceFor = undefined;
        const rest = await handler({ Records: event.Records.filter((record) => record !== failing) }, context);
        return { batchItemFailures: [...(rest?.batchItemFailures ?? []), { itemIdentifier: failing.messageId }] };
      }
      return (await handler(event, context)) ?? { batchItemFailures: [] };
    },
    },
  });
});
afterAll(() => stack.stop(), 30_000);

const newOrders = (count: number, customer = `f-${randomUUID().slice(0, 8)}`) =>
  Array.from({ length: count }, () => acceptOrder({ ...SEED_ORDER, customer_id: customer }, { now: new Date() }));

async function enqueue(orders: QueuedOrder[]) {
  for (let i = 0; i < orders.length; i += 10) {
    await stack.clients.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: stack.resources.queue.url,
        Entries: orders.slice(i, i + 10).map((order, index) => ({ Id: String(index), MessageBody: JSON.stringify(order) })),
      }),
    );
  }
}

async function allStored(orders: QueuedOrder[], timeoutMs = 30_000) {
  await waitFor(async () => (await Promise.all(orders.map((order) => getStoredOrder(stack, order.order_id)))).every(Boolean), { timeoutMs, what: 'every order to be stored' });
}

describe('faults against the local stack', () => {
  it('1. when DynamoDB is down for a few seconds while orders flow, then they come back after the visibility timeout and are stored once, none in the DLQ', async () => {
    await stack.faults.stopTableEmulator();
    const orders = newOrders(20);
    await enqueue(orders);
    await waitFor(() => orders.every((order) => (deliveries.get(order.order_id) ?? 0) >= 1), { what: 'every order to be tried while the table is down' });
    await new Promise((resolve) => setTimeout(resolve, 3000));
    await stack.faults.startTableEmulator();
    await allStored(orders);
    expect(orders.every((order) => (deliveries.get(order.order_id) ?? 0) >= 2)).toBe(true);
    expect(orders.every((order) => (deliveries.get(order.order_id) ?? 0) < 5)).toBe(true);
    expect((await queueDepth(stack, stack.resources.deadLetterQueue)).visible).toBe(0);
  });

  it('2. when process-order throws on a batch, then that whole batch is redone; when it fails one record, then only that record is redone', async () => {
    const thrown = newOrders(10);
    throwOnceFor = thrown[0]!.order_id;
    await enqueue(thrown);
    await allStored(thrown);
    const crashedBatch = thrownBatches[0]!;
    expect(crashedBatch).toContain(thrown[0]!.order_id);
    for (const order of thrown) {
      expect(deliveries.get(order.order_id)).toBe(crashedBatch.includes(order.order_id) ? 2 : 1);
    }

    const partial = newOrders(10);
    failOnceFor = partial[3]!.order_id;
    await enqueue(partial);
    await allStored(partial);
    for (const order of partial) expect(deliveries.get(order.order_id)).toBe(order === partial[3] ? 2 : 1);
    expect((await queueDepth(stack, stack.resources.deadLetterQueue)).visible).toBe(0);
  });

  it('3. when the queue emulator is down, then submit and checkout answer 503 with Retry-After and the web tier its 503 page; both recover once it is back', async () => {
    // A signed-in customer with a cart, ready to check out (the cart page read while the queue is up).
    const id = `f3-${randomUUID().slice(0, 8)}`;
    await writeCarts(createCartStore({ documents: stack.clients.documents, tableName: stack.resources.cartsTableName }), [id]);
    const [customer] = (await prepareCustomers(stack.urls.web, stack.userPool, [id])) as [PreparedCustomer];
    const checkout = () =>
      fetch(`${stack.urls.web}/checkout`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html', cookie: customer.cookie }, body: customer.checkoutBody });
    await stack.faults.stopQueueEmulator();
    try {
      const api = await apiRequest(stack, '/orders', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(SEED_ORDER) });
      expect(api.status).toBe(503);
      expect(api.headers.get('retry-after')).toBe('5');
      expect(await api.json()).toMatchObject({ error: 'dependency_unavailable' });
      const web = await checkout();
      expect(web.status).toBe(503);
      expect(web.headers.get('retry-after')).toBe('5');
      expect(await web.text()).toMatch(/try again/i);
    } finally {
      await stack.faults.startQueueEmulator();
    }
    const api = await apiRequest(stack, '/orders', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(SEED_ORDER) });
    expect(api.status).toBe(202);
    const { order_id } = (await api.json()) as { order_id: string };
    // The cart was kept (the order was not accepted): the same checkout form now places it.
    const web = await checkout();
    expect(web.status).toBe(303);
    const checkedOut = /^\/orders\/([0-9a-f-]{36})\?/.exec(web.headers.get('location') ?? '')?.[1];
    expect(checkedOut).toBeDefined();
    await waitFor(() => getStoredOrder(stack, order_id), { timeoutMs: 20_000, what: 'the order placed after recovery' });
    await waitFor(async () => (await getStoredOrder(stack, checkedOut!))?.customer_id === id, { timeoutMs: 20_000, what: 'the checkout placed after recovery' });
  });

  describe('4. the web tier under SIGTERM and pm2 reload', () => {
    let dir: string;
    beforeAll(async () => {
      if (!existsSync(webArtifact)) await run('npm', ['run', 'build'], { cwd: root });
      dir = await mkdtemp(join(tmpdir(), 'order-web-'));
      await run('tar', ['-xzf', webArtifact, '-C', dir]);
    }, 120_000);
    afterAll(() => rm(dir, { recursive: true, force: true }));

    /** One form post on its own connection, as a client that does not reuse sockets: its status, or the error. */
    function post(port: number, path: string, cookie: string, body: string): Promise<number | string> {
      return new Promise((resolve) => {
        const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path, agent: false, headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html', cookie, 'content-length': Buffer.byteLength(body) } }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
        req.end(body);
      });
    }

    it('when SIGTERM arrives with checkouts in flight, then they finish, new ones are refused, and the process exits 0', async () => {
      // An API that takes its time over checkouts, so they are in flight when the signal comes. It also
      // stands in for the user pool: the web tier verifies sessions itself, against the JWKS at the
      // issuer, and this one serves cognito-local's, whose key signs the test's session.
      const cart = cartView(setCartLine(emptyCart('sigterm-customer', new Date(), 3600), 'Banana', 1, { now: new Date(), ttlSeconds: 3600 }));
      let checkoutsArrived = 0;
      const slowApi = createServer((req, res) => {
        req.resume();
        const json = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
        if (req.url?.endsWith('/.well-known/jwks.json')) return json(200, cognitoLocalJwks());
        if (req.method === 'GET' && req.url === '/me/cart') return json(200, cart);
        if (req.method === 'POST' && req.url === '/me/orders') {
          checkoutsArrived++;
          return void setTimeout(() => json(202, { order_id: randomUUID(), status: 'QUEUED' }), 800);
        }
        json(404, { message: 'not here' });
      });
      await new Promise<void>((resolve) => slowApi.listen(0, '127.0.0.1', resolve));
      const apiUrl = `http://127.0.0.1:${(slowApi.address() as { port: number }).port}`;
      const pool = { userPoolId: 'local_sigterm', clientId: 'sigtermclient', issuer: `${apiUrl}/local_sigterm` };
      const port = Number(new URL(await unreachableUrl()).port);
      const server: ChildProcess = spawn(process.execPath, ['server.js'], {
        cwd: dir,
        env: { PATH: process.env.PATH, API_BASE_URL: apiUrl, API_KEY: 'k', PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'silent', RATE_LIMIT_BURST_MAX: '100000', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          COGNITO_ENDPOINT: apiUrl, COGNITO_USER_POOL_ID: pool.userPoolId, COGNITO_CLIENT_ID: pool.clientId, COGNITO_ISSUER: pool.issuer },
        stdio: 'ignore',
      });
      const exited = new Promise<number | null>((resolve) => server.once('exit', resolve));
      try {
        await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok, { what: 'the web tier to listen' });
        const [customer] = (await prepareCustomers(`http://127.0.0.1:${port}`, pool, ['sigterm-customer'])) as [PreparedCustomer];
        const inFlight = Array.from({ length: 20 }, () => post(port, '/checkout', customer.cookie, customer.checkoutBody));
        // Every one has reached the API (so the web tier holds it) before the signal: a fixed wait let a
        // loaded CI machine signal while some were still unread, which the grace period then cut.
        await waitFor(() => checkoutsArrived === 20, { what: 'the 20 checkouts to reach the API', timeoutMs: 10_000, intervalMs: 20 });
        server.kill('SIGTERM');
        await new Promise((resolve) => setTimeout(resolve, 100));
        const late = await post(port, '/checkout', customer.cookie, customer.checkoutBody);
        expect(await Promise.all(inFlight)).toEqual(Array(20).fill(303));
        expect(late).toBe('ECONNREFUSED');
        expect(await exited).toBe(0);
      } finally {
        server.kill('SIGKILL');
        slowApi.close();
      }
    });

    it('when pm2 reloads the cluster under load, then no request is dropped', async () => {
      const port = Number(new URL(await unreachableUrl()).port);
      const pm2Home = await mkdtemp(join(tmpdir(), 'pm2-'));
      const pm2 = (...args: string[]) =>
        run(join(dir, 'node_modules', '.bin', 'pm2'), args, {
          cwd: dir,
          env: {
            PATH: process.env.PATH,
            PM2_HOME: pm2Home,
            API_BASE_URL: stack.urls.api,
            API_KEY: stack.apiKey,
            PORT: String(port),
            HOST: '127.0.0.1',
            LOG_LEVEL: 'silent',
            WEB_INSTANCES: '2',
            RATE_LIMIT_MAX: '100000',
            RATE_LIMIT_BURST_MAX: '100000',
            ORDER_RATE_LIMIT_MAX: '100000',
            COGNITO_ENDPOINT: stack.urls.cognito,
            COGNITO_USER_POOL_ID: stack.userPool.userPoolId,
            COGNITO_CLIENT_ID: stack.userPool.clientId,
            COGNITO_ISSUER: stack.userPool.issuer,
            AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          },
        });
      try {
        await pm2('start', 'ecosystem.config.cjs');
        await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok, { what: 'the cluster to listen' });
        // 8 signed-in customers (pool-signed sessions, carts written to the table), one per client.
        const ids = Array.from({ length: 8 }, (_, i) => `reload-${randomUUID().slice(0, 8)}-${i}`);
        await writeCarts(createCartStore({ documents: stack.clients.documents, tableName: stack.resources.cartsTableName }), ids);
        const customers = await prepareCustomers(`http://127.0.0.1:${port}`, stack.userPool, ids);
        const results: (number | string)[] = [];
        let loading = true;
        // 8 clients setting a cart line back to back (through the web tier to the API and the carts
        // table, as a checkout is), bounded by the reload (and by a count).
        const clients = customers.map(async (customer) => {
          for (let i = 0; loading && i < 2000; i++) {
            results.push(await post(port, '/cart/lines', customer.cookie, new URLSearchParams({ _csrf: customer.csrf, product_id: 'Banana', quantity: String(1 + (i % 1000)) }).toString()));
          }
        });
        await new Promise((resolve) => setTimeout(resolve, 500));
        await pm2('reload', 'order-web');
        await new Promise((resolve) => setTimeout(resolve, 500));
        loading = false;
        await Promise.all(clients);
        const failures = results.filter((result) => result !== 303);
        expect({ requests: results.length, failures }).toEqual({ requests: results.length, failures: [] });
        expect(results.length).toBeGreaterThan(50);
      } finally {
        await pm2('kill').catch(() => undefined);
        await rm(pm2Home, { recursive: true, force: true });
      }
    }, 90_000);
  });
});

describe('5. a restart of the local stack', () => {
  it('when the stack stops and starts again on the same state folder, then the stored orders are still there', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'orders-restart-'));
    const first = await startTestStack({ stateDir });
    const response = await apiRequest(first, '/orders', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(SEED_ORDER) });
    const { order_id } = (await response.json()) as { order_id: string };
    await waitFor(() => getStoredOrder(first, order_id), { what: 'the order' });
    await first.stop();

    const second = await startTestStack({ stateDir });
    try {
      const read = await apiRequest(second, `/orders/${order_id}`);
      expect(read.status).toBe(200);
      expect(await read.json()).toMatchObject({ order_id, status_history: [{ status: 'RECEIVED' }], total_cents: 35 });
    } finally {
      await second.stop();
      await rm(stateDir, { recursive: true, force: true });
    }
  });
});
