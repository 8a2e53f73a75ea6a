import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import yauzl from 'yauzl';
import type { LocalStack } from '../../local/stack.js';
import { apiEvent, sqsEvent, sqsRecord } from '../helpers/events.js';
import { getStoredOrder, SEED_ORDER, startTestStack, unreachableUrl } from '../helpers/local-stack.js';
import { newCustomer, WebClient } from '../helpers/customers.js';
import { cognitoEnvOf } from '../helpers/web.js';
import { acceptOrder } from '../../domain/order.js';
import { waitFor } from '../helpers/wait.js';
import { functionNames } from '../../platform/functions.js';

const run = promisify(execFile);
const webArtifact = new URL('../../dist/web/order-web.tar.gz', import.meta.url).pathname;
const bundle = (name: string) => new URL(`../../dist/lambdas/${name}/index.mjs`, import.meta.url).pathname;

let stack: LocalStack;
beforeAll(async () => {
  if (!existsSync(bundle('submit-order')) || !existsSync(webArtifact)) await run('npm', ['run', 'build'], { cwd: new URL('../..', import.meta.url).pathname });
  // The kitchen stays off: the test runs the kitchen's own bundle on an order it knows is RECEIVED.
  stack = await startTestStack({ runSchedules: false });
}, 60_000);
afterAll(() => stack.stop(), 30_000);

/** The EMF lines each invocation printed to stdout, as CloudWatch Logs would receive them from Lambda. */
const emfLines: Record<string, unknown>[] = [];

/** Loads a built bundle in a fresh Node process, configured only by its environment, as Lambda does, and invokes it once. */
async function invoke(name: string, env: Record<string, string>, event: unknown): Promise<Record<string, unknown>> {
  // The emulator's queue URLs (sqs.us-east-1.localhost) need DNS that AWS's real ones have: fauxqs supplies it.
  // The result goes last, on a line of its own: Powertools Metrics writes EMF lines to stdout before it.
  const script = `(await import('fauxqs')).interceptLocalhostDns(); const { handler } = await import(${JSON.stringify(bundle(name))}); const result = await handler(JSON.parse(process.argv[1]), {}); process.stdout.write('\\n' + JSON.stringify(result));`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(event)], {
    cwd: new URL('../..', import.meta.url).pathname,
    env: {
      PATH: process.env.PATH,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      ...env,
    },
  });
  const lines = stdout.trim().split('\n');
  for (const line of lines.slice(0, -1).filter(Boolean)) emfLines.push(JSON.parse(line) as Record<string, unknown>);
  return JSON.parse(lines.at(-1)!) as Record<string, unknown>;
}

describe('the built Lambda bundles', () => {
  it('when a bundle is loaded without its configuration, then it fails at start naming the missing key', async () => {
    await expect(invoke('submit-order', {}, {})).rejects.toThrow(/QUEUE_URL/);
  });

  it('when each bundle runs against the local emulators, then submit queues, process stores, get reads and the kitchen moves the order', async () => {
    const sqsEnv = { QUEUE_URL: stack.resources.queue.url, PRODUCTS_TABLE_NAME: stack.resources.productsTableName, AWS_ENDPOINT_URL_DYNAMODB: stack.urls.dynamodb };
    const submitted = await invoke('submit-order', sqsEnv, apiEvent({ body: JSON.stringify(SEED_ORDER) }));
    expect(submitted.statusCode).toBe(202);
    const { order_id } = JSON.parse(submitted.body as string) as { order_id: string };
    await waitFor(() => getStoredOrder(stack, order_id), { what: 'the queued order to be processed by the stack' });

    const order = acceptOrder({ ...SEED_ORDER, quantity: 2 }, { now: new Date() });
    const processed = await invoke(
      'process-order',
      { AWS_ENDPOINT_URL: stack.urls.dynamodb, TABLE_NAME: stack.resources.tableName, ORDER_TIMINGS: JSON.stringify(stack.profile.lifecycleTimings) },
      sqsEvent(sqsRecord(JSON.stringify(order)), sqsRecord('poison')),
    );
    expect((processed.batchItemFailures as unknown[]).length).toBe(1);
    expect(await getStoredOrder(stack, order.order_id)).toMatchObject({ total_cents: 70 });

    const read = await invoke(
      'get-order',
      { AWS_ENDPOINT_URL: stack.urls.dynamodb, TABLE_NAME: stack.resources.tableName },
      apiEvent({ method: 'GET', resource: '/orders/{id}', path: `/orders/${order.order_id}`, pathParameters: { id: order.order_id }, headers: {} }),
    );
    expect(read.statusCode).toBe(200);
    const kitchenEnv = { AWS_ENDPOINT_URL: stack.urls.dynamodb, TABLE_NAME: stack.resources.tableName, ORDER_TIMINGS: JSON.stringify(stack.profile.lifecycleTimings) };
    expect(await invoke('advance-orders', kitchenEnv, { action: 'cancel', order_id: order.order_id })).toMatchObject({ ok: true, from: 'RECEIVED', to: 'CANCELLED' });
    expect(await invoke('advance-orders', kitchenEnv, { source: 'aws.events', 'detail-type': 'Scheduled Event' })).toEqual({
      advanced: expect.any(Number) as unknown,
      skipped: expect.any(Number) as unknown,
      republished: 0,
      pending: 0,
    });
    // Each bundle published its business metrics as EMF, in the pipeline's namespace.
    expect(emfLines).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ service: 'submit-order', OrdersAccepted: 1 }),
        expect.objectContaining({ service: 'process-order', OrdersStored: 1, OrdersFailed: 1 }),
        expect.objectContaining({ service: 'advance-orders', StatusChanges: 1 }),
      ]),
    );
    for (const line of emfLines) expect(line).toMatchObject({ _aws: { CloudWatchMetrics: [{ Namespace: 'OrderPipeline' }] } });
    expect((await invoke('get-order', { AWS_ENDPOINT_URL: stack.urls.dynamodb, TABLE_NAME: 'orders' }, apiEvent({ method: 'GET', pathParameters: { id: randomUUID() }, headers: {} }))).statusCode).toBe(404);
  }, 30_000);

  it.each(functionNames)('when %s.zip is opened, then it holds index.mjs alone, as built', async (name) => {
    const zip = await promisify<string, yauzl.Options, yauzl.ZipFile>(yauzl.open)(new URL(`../../dist/lambdas/${name}.zip`, import.meta.url).pathname, { lazyEntries: false });
    const entries: string[] = [];
    await new Promise<void>((resolve, reject) => zip.on('entry', (entry: yauzl.Entry) => entries.push(entry.fileName)).on('end', resolve).on('error', reject));
    expect(entries).toEqual(['index.mjs']);
  });
});

describe('the built web tier artifact', () => {
  it('when it is unpacked and started as on EC2, then it signs a customer in against the user pool, serves the menu and cart, and forwards a checkout to the API', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'order-web-'));
    await run('tar', ['-xzf', webArtifact, '-C', dir]);
    for (const file of ['server.js', 'views/menu.ejs', 'views/cart.ejs', 'views/account-form.ejs', 'public/app.css', 'public/status.js', 'ecosystem.config.cjs', 'node_modules/pm2/package.json']) {
      expect(existsSync(join(dir, file))).toBe(true);
    }
    const port = Number(new URL(await unreachableUrl()).port);
    const server = spawn(process.execPath, ['server.js'], {
      cwd: dir,
      // What the local stack gives its own web tier (local/web-tier.ts): the API, its key and cognito-local's pool.
      env: { PATH: process.env.PATH, API_BASE_URL: stack.urls.api, API_KEY: stack.apiKey, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'silent', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...cognitoEnvOf(stack) },
      stdio: 'ignore',
    });
    try {
      const url = `http://127.0.0.1:${port}`;
      await waitFor(async () => (await fetch(`${url}/healthz`)).ok, { what: 'the web tier to listen' });
      expect(await (await fetch(`${url}/sign-in`)).text()).toContain('name="_csrf"');
      const customer = await newCustomer(stack);
      const client = new WebClient(url);
      await client.signIn(customer.email, customer.password);
      const menu = await client.get('/');
      expect(menu.response.status).toBe(200);
      expect(menu.html).toContain('id="signed-in-as"');
      expect((await client.putInCart('Banana', 2)).status).toBe(303);
      const orderId = await client.checkout();
      const stored = await waitFor(() => getStoredOrder(stack, orderId), { what: 'the order to be stored' });
      expect(stored).toMatchObject({ customer_id: customer.id, lines: [{ product_id: 'Banana', quantity: 2 }], total_cents: 70 });
    } finally {
      server.kill('SIGTERM');
      await new Promise((resolve) => server.once('exit', resolve));
      await rm(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it('when server.js is read, then it holds no character beyond Latin-1, so V8 keeps the script one byte a character (a comment with a dash doubled it, 17 MB more at start)', async () => {
    const source = await readFile(new URL('../../dist/web/order-web/server.js', import.meta.url), 'utf8');
    expect(source.length).toBeGreaterThan(1_000_000);
    expect([...source].filter((character) => character.charCodeAt(0) > 0xff)).toEqual([]);
  });
});
