import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { get as httpGet } from 'node:http';
import { promisify } from 'node:util';
import type { LocalStack } from '../../local/stack.js';
import { apiRequest, SEED_ORDER, startTestStack } from '../helpers/local-stack.js';
import { waitFor } from '../helpers/wait.js';
import { follow, startWeb } from '../helpers/web.js';
import type { ProxyHandler } from '../../local/api-gateway.js';

const run = promisify(execFile);
let stack: LocalStack;
/** How often each order was asked for upstream (alone or in a batch of ids): what the web tier asked the API. */
const upstream = new Map<string, number>();

beforeAll(async () => {
  stack = await startTestStack({
    webEnv: { STREAMS_MAX_PER_CLIENT: '1000', RATE_LIMIT_MAX: '100000' },
    wrap: {
      'get-order': (handler: ProxyHandler) => async (event: APIGatewayProxyEvent, context: Context) => {
        const ids = event.pathParameters?.id !== undefined ? [event.pathParameters.id] : (event.queryStringParameters?.ids ?? '').split(',');
        for (const id of ids) upstream.set(id, (upstream.get(id) ?? 0) + 1);
        return handler(event, context);
      },
    },
  });
});
afterAll(() => stack.stop());

const ORDER_FIELDS = 'id status version final total customerId statusHistory { status at } lines { productId productName quantity unitPriceCents totalCents } totalCents currency';

async function placeOrder(fields: Record<string, unknown> = {}): Promise<string> {
  const response = await apiRequest(stack, '/orders', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...SEED_ORDER, ...fields }) });
  return ((await response.json()) as { order_id: string }).order_id;
}

function graphql(body: unknown, { url = `${stack.urls.web}/graphql`, headers = {} } = {}) {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

describe('GraphQL on the web tier', () => {
  it('when an order is queried, then its status, history, lines and totals come back; an order never stored is null', async () => {
    const id = await placeOrder({ product_id: 'Margherita', quantity: 2 });
    const order = await waitFor(async () => {
      const { data } = (await (await graphql({ query: `query($id: OrderId!) { order(id: $id) { ${ORDER_FIELDS} } }`, variables: { id } })).json()) as { data: { order: Record<string, unknown> | null } };
      return data.order ?? undefined;
    }, { what: 'the order to be stored' });
    expect(order).toMatchObject({
      id,
      customerId: '001',
      lines: [{ productId: 'Margherita', productName: 'Pizza Margherita', quantity: 2, unitPriceCents: 1150, totalCents: 2300 }],
      totalCents: 2300,
      currency: 'USD',
      total: '$23.00',
    });
    expect((order.statusHistory as { status: string }[])[0]).toMatchObject({ status: 'RECEIVED' });
    const missing = await graphql({ query: `{ order(id: "${randomUUID()}") { id } }` });
    expect(missing.status).toBe(200);
    expect(await missing.json()).toEqual({ data: { order: null } });
  });

  it('when curl posts a query and opens a subscription, then the query answers and the stream carries every status to COMPLETED, then completes', async () => {
    const id = await placeOrder();
    const { stdout: answer } = await run('curl', ['-s', '-X', 'POST', `${stack.urls.web}/graphql`, '-H', 'content-type: application/json', '-d', JSON.stringify({ query: `{ order(id: "${id}") { id } }` })]);
    expect(JSON.parse(answer)).toHaveProperty('data');
    const { stdout: stream } = await run('curl', ['-sN', '--max-time', '25', `${stack.urls.web}/graphql/stream`, '-H', 'accept: text/event-stream', '-H', 'content-type: application/json', '-d', JSON.stringify({ query: `subscription { orderStatus(id: "${id}") { status version } }` })], { timeout: 30_000 });
    const statuses = [...stream.matchAll(/"status":"(\w+)"/g)].map((match) => match[1]);
    expect(statuses.slice(-3)).toEqual(['PREPARING', 'READY', 'COMPLETED']);
    expect(stream.trimEnd()).toMatch(/event: complete\ndata:$/);
  }, 35_000);

  it('when the graphql-sse client subscribes, then it sees each status once, in order, and the stream ends at the final one', async () => {
    const id = await placeOrder();
    const seen = await follow(stack.urls.web, id);
    expect(seen.map((order) => order?.status)).toEqual(['RECEIVED', 'PREPARING', 'READY', 'COMPLETED'].slice(-seen.length));
    expect(seen.at(-1)).toEqual({ status: 'COMPLETED', version: 4 });
    expect(seen.length).toBeGreaterThanOrEqual(3);
  }, 30_000);

  it('when ten pages follow one order, then they share one upstream watch: the API is asked no more than for one page', async () => {
    const [alone, shared] = [await placeOrder(), await placeOrder()];
    const [aloneSeen, ...sharedSeen] = await Promise.all([follow(stack.urls.web, alone), ...Array.from({ length: 10 }, () => follow(stack.urls.web, shared))]);
    for (const seen of [aloneSeen, ...sharedSeen]) expect(seen.at(-1)?.status).toBe('COMPLETED');
    expect(upstream.get(shared)).toBeLessThanOrEqual((upstream.get(alone) ?? 0) + 2);
    // Read when the page starts (and once more if it was not stored yet): each change comes as an event, applied without a read.
    expect(upstream.get(alone)).toBeLessThanOrEqual(2);
  }, 40_000);

  it('when a subscription names an order that never comes, then it yields one null after its wait and ends', async () => {
    const started = Date.now();
    expect(await follow(stack.urls.web, randomUUID(), 2)).toEqual([null]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
    expect(Date.now() - started).toBeLessThan(10_000);
  }, 15_000);

  it('when a stream stays open, then a heartbeat comes within 25 s (the ALB closes idle connections after 60 s)', async () => {
    const variables = encodeURIComponent(JSON.stringify({ id: randomUUID(), wait: 30 }));
    const query = encodeURIComponent('subscription($id: OrderId!, $wait: Int) { orderStatus(id: $id, waitSeconds: $wait) { status } }');
    const started = Date.now();
    const firstPingAfter = await new Promise<number>((resolve, reject) => {
      const request = httpGet(`${stack.urls.web}/graphql/stream?query=${query}&variables=${variables}`, { headers: { accept: 'text/event-stream' } }, (response) => {
        let pings = 0;
        response.setEncoding('utf8').on('data', (chunk: string) => {
          // graphql-sse opens with one ":" comment, then pings with the same.
          pings += chunk.split('\n').filter((line) => line === ':').length;
          if (pings >= 2) {
            resolve(Date.now() - started);
            request.destroy();
          }
        });
      });
      request.on('error', reject);
      setTimeout(() => reject(new Error('no heartbeat within 25 s')), 25_000).unref();
    });
    expect(firstPingAfter).toBeLessThanOrEqual(25_000);
  }, 30_000);
});

describe('hostile GraphQL', () => {
  const id = randomUUID();
  const cases: [string, unknown][] = [
    ['a depth bomb', { query: `{ __schema { types { fields { type { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } } }` }],
    ['a fragment cycle', { query: `{ order(id: "${id}") { ...A } } fragment A on Order { ...B } fragment B on Order { ...A }` }],
    ['a thousand aliases', { query: `{ ${Array.from({ length: 1000 }, (_, i) => `a${i}: __typename`).join(' ')} }` }],
    ['twenty aliases of one field', { query: `{ ${Array.from({ length: 20 }, (_, i) => `o${i}: order(id: "${id}") { id }`).join(' ')} }` }],
    ['a 1 MB document', { query: `{ order(id: "${id}") { id } }${' '.repeat(1024 * 1024)}` }],
    ['an unknown field', { query: `{ order(id: "${id}") { id secret } }` }],
    ['an unknown root field', { query: '{ orders { id } }' }],
    ['a bad id literal', { query: '{ order(id: "../../etc/passwd") { id } }' }],
    ['an id of the wrong type', { query: '{ order(id: 42) { id } }' }],
    ['a bad id variable', { query: 'query($id: OrderId!) { order(id: $id) { id } }', variables: { id: '<script>' } }],
    ['a missing variable', { query: 'query($id: OrderId!) { order(id: $id) { id } }' }],
    ['a syntax error', { query: '{ order(id: ' }],
    ['an empty query', { query: '' }],
    ['no query at all', { variables: {} }],
    ['a query that is not a string', { query: 42 }],
    ['fifty directives', { query: `{ order(id: "${id}") { id ${'@include(if: true) '.repeat(50)} } }` }],
    ['a mutation (there are none)', { query: 'mutation { cancel(id: 1) }' }],
    ['a subscription over plain POST', { query: `subscription { orderStatus(id: "${id}") { status } }` }],
    ['an unknown operation name', { query: `query A { order(id: "${id}") { id } }`, operationName: 'B' }],
    ['two operations without a name', { query: `query A { __typename } query B { __typename }` }],
    ['not JSON', '{"query": '],
  ];

  it.each(cases)('when it sends %s, then 4xx with GraphQL errors that say what is wrong, never a 500 or a stack', async (_name, body) => {
    const response = await graphql(body);
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    const text = await response.text();
    const answer = JSON.parse(text) as { errors?: { message: string }[]; data?: unknown };
    expect(answer.errors?.length).toBeGreaterThan(0);
    for (const error of answer.errors!) expect(error.message.length).toBeGreaterThan(5);
    expect(text).not.toMatch(/\bat [\w.<>]+ \(|node_modules|\.ts:\d+/);
  });

  it.each([
    ['a depth bomb', `subscription { orderStatus(id: "${id}") { statusHistory { status } lines { productName } } }`.replace('statusHistory', '__typename statusHistory'), 200],
    ['a bad id', 'subscription { orderStatus(id: "nope") { status } }', 400],
    ['an unknown field', `subscription { orderStatus(id: "${id}") { secret } }`, 400],
    ['twenty aliases', `subscription { ${Array.from({ length: 20 }, (_, i) => `a${i}: __typename`).join(' ')} orderStatus(id: "${id}") { status } }`, 400],
    // Node itself refuses a URL this long, before any of our code runs.
    ['a thousand aliases', `subscription { ${Array.from({ length: 1000 }, (_, i) => `a${i}: orderStatus(id: "${id}") { status }`).join(' ')} }`, 431],
  ])('when a stream is asked for with %s, then it is refused before it opens (or runs when it is fine)', async (_name, query, status) => {
    const response = await fetch(`${stack.urls.web}/graphql/stream?query=${encodeURIComponent(query)}&variables=${encodeURIComponent(JSON.stringify({}))}`, {
      headers: { accept: 'text/event-stream' },
      signal: AbortSignal.timeout(5000),
    }).catch((error: unknown) => ({ status: 0, error }) as const);
    expect(response.status).toBe(status);
    if ('body' in response) await response.body?.cancel();
  });

  it('when the web tier runs in production, then introspection is refused and unknown fields get no suggestions', async () => {
    const web = await startWeb({ API_BASE_URL: stack.urls.api, API_KEY: stack.apiKey, NODE_ENV: 'production' });
    try {
      const introspection = await graphql({ query: '{ __schema { types { name } } }' }, { url: `${web.url}/graphql` });
      expect(introspection.status).toBe(400);
      expect(JSON.stringify(await introspection.json())).toContain('introspection');
      const typo = (await (await graphql({ query: `{ order(id: "${id}") { statu } }` }, { url: `${web.url}/graphql` })).json()) as { errors: { message: string }[] };
      expect(typo.errors[0]!.message).toBe('Cannot query field "statu" on type "Order".');
      const development = (await (await graphql({ query: '{ __schema { queryType { name } } }' })).json()) as { data: unknown };
      expect(development.data).toEqual({ __schema: { queryType: { name: 'Query' } } });
    } finally {
      await web.stop();
    }
  });

  it('when one client opens more streams than allowed, or the process is full, then 429 with a GraphQL error, and a stopping server drops its streams at once', async () => {
    const web = await startWeb({ API_BASE_URL: stack.urls.api, API_KEY: stack.apiKey, STREAMS_MAX_PER_CLIENT: '3', STREAMS_MAX: '1000' });
    const open = async () => {
      const response = await fetch(`${web.url}/graphql/stream?query=${encodeURIComponent('subscription($id: OrderId!) { orderStatus(id: $id, waitSeconds: 30) { status } }')}&variables=${encodeURIComponent(JSON.stringify({ id: randomUUID() }))}`, { headers: { accept: 'text/event-stream' } });
      return response;
    };
    const streams = [await open(), await open(), await open()];
    for (const stream of streams) expect(stream.status).toBe(200);
    const refused = await open();
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(((await refused.json()) as { errors: { message: string }[] }).errors[0]!.message).toBe('At most 3 status streams may be open from one address');
    await streams[0]!.body!.cancel();
    await waitFor(async () => {
      const again = await open();
      if (again.status === 200) streams.push(again);
      else await again.body?.cancel();
      return again.status === 200;
    }, { what: 'a closed stream to free its place' });
    const stopping = Date.now();
    await web.stop();
    expect(Date.now() - stopping).toBeLessThan(900);
  });
});
