// Customer routes of the API as a customer's client meets them: the Cognito authorizer in front
// (locally the adapter, as API Gateway would), carts, checkout, "my orders", and the customer's mails.
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { Context, SQSEvent } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { catalogue, CURRENCY } from '../../domain/catalogue.js';
import { applyChange, transition } from '../../domain/lifecycle.js';
import { acceptOrder, MAX_LINES, MAX_QUANTITY, storedOrder, type StoredOrder } from '../../domain/order.js';
import { createCartStore } from '../../backend-lambdas/lib/cart-store.js';
import type { LocalStack } from '../../local/stack.js';
import { settings } from '../../platform/settings.js';
import { claimsOf, handMadeToken, newCustomer, type SignedInCustomer } from '../helpers/customers.js';
import { apiRequest, queueDepth, readOutbox, SEED_ORDER, startTestStack } from '../helpers/local-stack.js';
import { waitFor } from '../helpers/wait.js';
import { apiEvent } from '../helpers/events.js';
import { silentLambdaLogger } from '../helpers/loggers.js';
import { createMyOrdersHandler } from '../../backend-lambdas/my-orders/my-orders.js';
import type { SqsBatchHandler } from '../../local/event-source-mapping.js';

let stack: LocalStack;
let ada: SignedInCustomer;
let bob: SignedInCustomer;
const delivered: string[] = [];
const products = [...catalogue.keys()];
const cartStore = () => createCartStore({ documents: stack.clients.documents, tableName: stack.resources.cartsTableName });

beforeAll(async () => {
  stack = await startTestStack({
    wrap: {
      'process-order': (handler: SqsBatchHandler) => async (event: SQSEvent, context: Context) => {
        delivered.push(...event.Records.map((record) => record.body));
        return handler(event, context);
      },
    },
  });
  [ada, bob] = await Promise.all([newCustomer(stack, 'Ada'), newCustomer(stack, 'Bob')]);
}, 60_000);
afterAll(() => stack.stop(), 30_000);

interface CartBody { version: number; lines: { product_id: string; quantity: number; product_name: string; unit_price_cents: number; line_total_cents: number }[]; total_cents: number }
interface Refusal { error: string; message: string; issues?: { field: string; message: string }[] }

function as(customer: SignedInCustomer | string | null, path: string, init: RequestInit = {}) {
  const token = customer === null ? undefined : typeof customer === 'string' ? customer : customer.idToken;
  return apiRequest(stack, path, { ...init, headers: { 'content-type': 'application/json', ...(token ? { authorization: token } : {}), ...(init.headers as Record<string, string>) } });
}
const put = (customer: SignedInCustomer, productId: string, quantity: unknown) => as(customer, `/me/cart/lines/${encodeURIComponent(productId)}`, { method: 'PUT', body: JSON.stringify({ quantity }) });
const cartOf = async (customer: SignedInCustomer) => (await (await as(customer, '/me/cart')).json()) as CartBody;
async function emptyCartOf(customer: SignedInCustomer) {
  for (const line of (await cartOf(customer)).lines) await as(customer, `/me/cart/lines/${line.product_id}`, { method: 'DELETE' });
}
async function checkout(customer: SignedInCustomer, body: object = {}) {
  const response = await as(customer, '/me/orders', { method: 'POST', body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as { order_id: string } & Refusal };
}

describe('the Cognito authorizer on the customer routes', () => {
  const claimsLike = (overrides: Record<string, unknown>) => {
    const now = Math.floor(Date.now() / 1000);
    return { ...claimsOf(ada.idToken), iat: now, exp: now + 3600, ...overrides };
  };

  it.each([
    ['no token', null],
    ['a token signed with another key (forged)', () => handMadeToken(claimsLike({}), 'stranger')],
    ['an expired token, signed by the pool', () => handMadeToken(claimsLike({ iat: Math.floor(Date.now() / 1000) - 7200, exp: Math.floor(Date.now() / 1000) - 3600 }), 'pool')],
    ['a token for another app client', () => handMadeToken(claimsLike({ aud: 'another-client' }), 'pool')],
    ['a token from another issuer', () => handMadeToken(claimsLike({ iss: 'http://127.0.0.1:1/local_other' }), 'pool')],
    ['an access token instead of an ID token', () => ada.accessToken],
    ['a token cut short', () => ada.idToken.slice(0, -10)],
  ])('when a customer route is called with %s, then 401 and the Lambda is not reached: the cart is unchanged', async (_what, token) => {
    const before = await cartOf(ada);
    for (const [method, path] of [['GET', '/me/cart'], ['PUT', `/me/cart/lines/${products[0]}`], ['POST', '/me/orders'], ['GET', '/me/orders']] as const) {
      const response = await as(typeof token === 'function' ? token() : token, path, { method, ...(method === 'PUT' ? { body: '{"quantity":2}' } : {}) });
      expect({ path, status: response.status, body: (await response.json()) as unknown }).toEqual({ path, status: 401, body: { message: 'Unauthorized' } });
    }
    expect((await cartOf(ada)).version).toBe(before.version);
  });

  it('when a valid token comes without the API key, then 403: both are required, as on API Gateway', async () => {
    const response = await apiRequest(stack, '/me/cart', { apiKey: null, headers: { authorization: ada.idToken } });
    expect(response.status).toBe(403);
  });
});

describe('carts', () => {
  it(`when ${MAX_LINES} different products are put in, then the cart holds them priced; the ${MAX_LINES + 1}st is refused naming the limit`, async () => {
    const customer = await newCustomer(stack);
    for (const [i, product] of products.slice(0, MAX_LINES).entries()) expect((await put(customer, product, i + 1)).status).toBe(200);
    const cart = await cartOf(customer);
    expect(cart.lines).toHaveLength(MAX_LINES);
    for (const [i, line] of cart.lines.entries()) {
      const product = catalogue.get(line.product_id)!;
      expect(line).toMatchObject({ product_id: products[i], quantity: i + 1, product_name: product.name, unit_price_cents: product.unit_price_cents, line_total_cents: product.unit_price_cents * (i + 1) });
    }
    expect(cart.total_cents).toBe(cart.lines.reduce((sum, line) => sum + line.line_total_cents, 0));
    const refused = await put(customer, products[MAX_LINES]!, 1);
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as Refusal).issues).toEqual([{ field: 'lines', message: `A cart holds at most ${MAX_LINES} lines: remove one first` }]);
    // Changing the quantity of a line already there is not a new line.
    expect((await put(customer, products[0]!, 7)).status).toBe(200);
    expect((await cartOf(customer)).lines[0]).toMatchObject({ product_id: products[0], quantity: 7 });
  }, 60_000);

  it.each([
    ['a quantity of 0', 'quantity', products[0], 0],
    [`a quantity of ${MAX_QUANTITY + 1}`, 'quantity', products[0], MAX_QUANTITY + 1],
    ['a fractional quantity', 'quantity', products[0], 1.5],
    ['a quantity that is text', 'quantity', products[0], 'lots'],
    ['an unknown product', 'product_id', 'Caviar', 1],
    ['a hostile product id', 'product_id', '<script>alert(1)</script>', 1],
  ])('when a line with %s is put, then 400 naming %s and the cart is unchanged', async (_what, field, product, quantity) => {
    const before = await cartOf(bob);
    const response = await put(bob, product as string, quantity);
    expect(response.status).toBe(400);
    expect(((await response.json()) as Refusal).issues?.map((issue) => issue.field)).toEqual([field]);
    const after = await cartOf(bob);
    expect({ version: after.version, lines: after.lines }).toEqual({ version: before.version, lines: before.lines });
  });

  it('when a body is not JSON, or has a field besides quantity, then 400 naming it', async () => {
    const malformed = await as(bob, `/me/cart/lines/${products[0]}`, { method: 'PUT', body: '{"quantity":' });
    expect(malformed.status).toBe(400);
    const extra = await as(bob, `/me/cart/lines/${products[0]}`, { method: 'PUT', body: JSON.stringify({ quantity: 1, customer_id: ada.id }) });
    expect(extra.status).toBe(400);
    expect(((await extra.json()) as Refusal).issues).toEqual([{ field: 'customer_id', message: 'Unknown field' }]);
  });

  it('when a cart has passed its expiry, then it reads as empty and checks out nothing, before DynamoDB\'s TTL (which dynalite lacks) removes it', async () => {
    const customer = await newCustomer(stack);
    await put(customer, products[0]!, 2);
    const stored = await cartStore().get(customer.id);
    // As the table holds it a second after its TTL: still there, with its lines.
    await stack.clients.documents.send(new PutCommand({ TableName: stack.resources.cartsTableName, Item: { ...stored, expires_at: Math.floor(Date.now() / 1000) - 1 } }));
    expect((await cartOf(customer)).lines).toEqual([]);
    expect((await checkout(customer)).status).toBe(400);
    // The next change starts a new cart over the expired one.
    expect((await put(customer, products[1]!, 1)).status).toBe(200);
    const fresh = await cartStore().get(customer.id);
    expect(fresh?.lines.map((line) => line.product_id)).toEqual([products[1]]);
    expect(fresh?.cart_id).not.toBe(stored?.cart_id);
    expect(fresh!.expires_at - Math.floor(Date.now() / 1000)).toBeGreaterThan(settings.cart.ttlSeconds - 60);
  });

  it('when two customers fill their carts, then each sees only their own, whatever a body says', async () => {
    await emptyCartOf(ada);
    await emptyCartOf(bob);
    await put(ada, products[1]!, 2);
    await put(bob, products[2]!, 3);
    expect((await cartOf(ada)).lines.map((line) => line.product_id)).toEqual([products[1]]);
    expect((await cartOf(bob)).lines.map((line) => line.product_id)).toEqual([products[2]]);
    // Taking out a line that is in the other's cart touches only one's own.
    await as(bob, `/me/cart/lines/${products[1]}`, { method: 'DELETE' });
    expect((await cartOf(ada)).lines.map((line) => line.product_id)).toEqual([products[1]]);
  });
});

describe('checkout and my orders', () => {
  it('when a cart of 3 lines is checked out, then one order is stored with every line priced and the customer from the token, the cart is emptied, and a second post of the same checkout is the same order', async () => {
    const customer = await newCustomer(stack, 'Cleo');
    await put(customer, products[3]!, 1);
    await put(customer, products[4]!, 2);
    await put(customer, products[5]!, 3);
    const { version } = await cartOf(customer);
    const first = await checkout(customer, { cart_version: version });
    expect(first.status).toBe(202);
    const again = await checkout(customer, { cart_version: version });
    expect(again).toEqual(first);
    expect((await cartOf(customer)).lines).toEqual([]);

    const stored = await waitFor(() => stack.store.get(first.body.order_id), { what: 'the order to be stored' });
    expect(stored).toMatchObject({ customer_id: customer.id, customer_email: customer.email, status: 'RECEIVED', currency: CURRENCY });
    expect(stored.lines).toEqual(
      [[products[3]!, 1], [products[4]!, 2], [products[5]!, 3]].map(([id, quantity]) => {
        const product = catalogue.get(id as string)!;
        return { product_id: id, product_name: product.name, quantity, unit_price_cents: product.unit_price_cents, line_total_cents: product.unit_price_cents * (quantity as number) };
      }),
    );
    expect(stored.total_cents).toBe(stored.lines.reduce((sum, line) => sum + line.line_total_cents, 0));
    expect((await stack.store.all()).filter((order) => order.customer_id === customer.id)).toHaveLength(1);
  }, 60_000);

  it('when the cart is empty, or changed since it was shown, then checkout is refused and nothing is queued', async () => {
    const customer = await newCustomer(stack);
    const empty = await checkout(customer);
    expect(empty.status).toBe(400);
    expect(empty.body.issues).toEqual([{ field: 'cart', message: 'The cart is empty: put something in it first' }]);
    await put(customer, products[0]!, 1);
    const stale = await checkout(customer, { cart_version: 0 });
    expect(stale.status).toBe(409);
    expect((await cartOf(customer)).lines).toHaveLength(1);
    expect(delivered.filter((body) => body.includes(customer.id))).toEqual([]);
  });

  it('when a customer lists their orders, then they are newest first, a page at a time, and none is another customer\'s', async () => {
    const customer = await newCustomer(stack, 'Dee');
    const placed: string[] = [];
    for (const product of products.slice(6, 9)) {
      await put(customer, product, 1);
      placed.push((await checkout(customer)).body.order_id);
    }
    await waitFor(async () => (await Promise.all(placed.map((id) => stack.store.get(id)))).every(Boolean), { what: 'the three orders to be stored' });
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 5; page++) {
      const response = await as(customer, `/me/orders?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(response.status).toBe(200);
      const body = (await response.json()) as { orders: { order_id: string; customer_id: string; status: string }[]; next_cursor: string | null };
      expect(body.orders.length).toBeLessThanOrEqual(2);
      for (const order of body.orders) expect(order).toMatchObject({ customer_id: customer.id, status: expect.stringMatching(/^[A-Z]+$/) as unknown });
      seen.push(...body.orders.map((order) => order.order_id));
      cursor = body.next_cursor;
      if (!cursor) break;
    }
    expect(seen).toEqual([...placed].reverse());

    // Another customer: none of them in the list, each a 404, and the first's cursor refused.
    const others = (await (await as(bob, '/me/orders')).json()) as { orders: { order_id: string }[] };
    expect(others.orders.map((order) => order.order_id)).not.toEqual(expect.arrayContaining([placed[0]]));
    for (const id of placed) expect((await as(bob, `/me/orders/${id}`)).status).toBe(404);
    expect((await as(customer, `/me/orders/${placed[0]}`)).status).toBe(200);
    const firstPage = (await (await as(customer, '/me/orders?limit=1')).json()) as { next_cursor: string };
    const borrowed = await as(bob, `/me/orders?limit=1&cursor=${encodeURIComponent(firstPage.next_cursor)}`);
    expect(borrowed.status).toBe(400);
    expect(((await borrowed.json()) as Refusal).issues?.[0]?.field).toBe('cursor');
  }, 60_000);

  it('when an order moves through its life, then its customer is mailed when it is received and once at each status change, and nobody else is', async () => {
    const customer = await newCustomer(stack, 'Eve');
    await put(customer, products[10]!, 2);
    const { body } = await checkout(customer);
    // The fast profile: RECEIVED 2 s, PREPARING 3 s, READY 2 s, then COMPLETED.
    await waitFor(async () => (await stack.store.get(body.order_id))?.status === 'COMPLETED', { timeoutMs: 30_000, what: 'the order to be completed' });
    const mailsTo = async () => (await readOutbox(stack)).filter((mail) => JSON.stringify(mail.to ?? '').includes(customer.email) && !mail.headers.has('x-cognito-code'));
    await waitFor(async () => (await mailsTo()).length >= 4, { timeoutMs: 15_000, what: 'four mails' });
    await waitFor(async () => {
      const depth = await queueDepth(stack, stack.resources.customerNotificationsQueue);
      return depth.visible + depth.inFlight === 0;
    }, { what: 'the notifications queue to drain' });
    const mails = await mailsTo();
    expect(mails.map((mail) => mail.subject?.replace(/ \(order [0-9a-f]{8}\)$/, ''))).toEqual(['We have your order', 'Your order is being prepared', 'Your order is ready', 'Your order is completed']);
    for (const mail of mails) expect(mail.text).toContain(`Order ${body.order_id}`);
    expect((await readOutbox(stack)).filter((mail) => mail.text?.includes(body.order_id) && !JSON.stringify(mail.to ?? '').includes(customer.email))).toEqual([]);
  }, 60_000);
});

describe('a customer cancels their order', () => {
  const slow = { RECEIVED: 3600, PREPARING: 3600, READY: 3600 };
  /** An order of the customer's account as checkout makes it, stored RECEIVED an hour from due: the kitchen leaves it alone. */
  async function storedFor(customer: SignedInCustomer, status: 'RECEIVED' | 'PREPARING' = 'RECEIVED') {
    const now = new Date();
    const queued = acceptOrder({ customer_id: customer.id, lines: [{ product_id: products[1]!, quantity: 2 }] }, { now });
    let order = storedOrder({ ...queued, account_id: customer.id, customer_email: customer.email }, now, slow);
    if (status === 'PREPARING') order = applyChange(order, transition(order, { at: now, timings: slow }));
    await stack.store.putOnce(order);
    return order;
  }
  const cancel = (customer: SignedInCustomer | null, orderId: string) => as(customer, `/me/orders/${orderId}/cancel`, { method: 'POST' });

  it('when the customer cancels an order still RECEIVED, then it is CANCELLED by them, out of the kitchen\'s reach, they are mailed who cancelled it, and a second cancel is a 409', async () => {
    const customer = await newCustomer(stack, 'Fay');
    const order = await storedFor(customer);
    const response = await cancel(customer, order.order_id);
    expect(response.status).toBe(200);
    const answered = (await response.json()) as StoredOrder;
    expect(answered).toMatchObject({ order_id: order.order_id, status: 'CANCELLED', version: 2 });
    const stored = (await stack.store.get(order.order_id))!;
    expect(stored).toMatchObject({ status: 'CANCELLED', version: 2 });
    expect(stored.due_at).toBeUndefined();
    expect(stored.status_history.at(-1)).toMatchObject({ status: 'CANCELLED', by: { role: 'customer', id: customer.id } });

    // The kitchen's run leaves it where it is.
    await stack.invoke('advance-orders', { source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} });
    expect((await stack.store.get(order.order_id))?.status).toBe('CANCELLED');

    const again = await cancel(customer, order.order_id);
    expect(again.status).toBe(409);
    expect(((await again.json()) as Refusal).message).toMatch(/cancelled: only an order still RECEIVED can be cancelled/);
    expect((await stack.store.get(order.order_id))?.version).toBe(2);

    const mails = await waitFor(async () => {
      const found = (await readOutbox(stack)).filter((mail) => JSON.stringify(mail.to ?? '').includes(customer.email) && mail.subject?.startsWith('Your order was cancelled'));
      return found.length > 0 ? found : undefined;
    }, { timeoutMs: 15_000, what: 'the cancellation mail' });
    expect(mails).toHaveLength(1);
    expect(mails[0]!.text).toContain('You cancelled this order.');
    expect(mails[0]!.text).toContain(`Order ${order.order_id}`);
  }, 60_000);

  it('when the kitchen has started an order, then cancelling it is a 409 and it goes on unchanged', async () => {
    const customer = await newCustomer(stack, 'Gus');
    const order = await storedFor(customer, 'PREPARING');
    const response = await cancel(customer, order.order_id);
    expect(response.status).toBe(409);
    expect(((await response.json()) as Refusal).message).toMatch(/is preparing: only an order still RECEIVED can be cancelled/);
    expect(await stack.store.get(order.order_id)).toMatchObject({ status: 'PREPARING', version: 2 });
  });

  it('when the kitchen takes the order between the cancel\'s read and its write, then the kitchen wins, the cancel is a 409 that says so, and nothing of the cancel is written', async () => {
    const customer = await newCustomer(stack, 'Ida');
    const order = await storedFor(customer);
    const store = stack.store;
    // The kitchen's conditional write lands first, between the handler's read and its own.
    const racing = { ...store, applyChange: async (key: Parameters<typeof store.applyChange>[0], change: Parameters<typeof store.applyChange>[1]) => {
      expect(await store.applyChange(key, transition(order, { at: new Date(), timings: slow }))).toBe(true);
      return store.applyChange(key, change);
    } };
    const handler = createMyOrdersHandler({ store: racing, logger: silentLambdaLogger(), timings: slow });
    const event = apiEvent({ method: 'POST', resource: '/me/orders/{id}/cancel', path: `/me/orders/${order.order_id}/cancel`, pathParameters: { id: order.order_id } });
    const response = await handler({ ...event, requestContext: { ...event.requestContext, authorizer: { claims: { sub: customer.id, email: customer.email } } } });
    expect(response.statusCode).toBe(409);
    expect((JSON.parse(response.body) as Refusal).message).toMatch(/changed while it was being cancelled: it is preparing/);
    const stored = await stack.store.get(order.order_id);
    expect(stored).toMatchObject({ status: 'PREPARING', version: 2 });
    expect(stored!.status_history.map((entry) => entry.status)).toEqual(['RECEIVED', 'PREPARING']);
  });

  it('when publishing the cancel fails, then the order is CANCELLED with its event kept on it, and the kitchen\'s next run publishes it: the customer is still mailed', async () => {
    const customer = await newCustomer(stack, 'Kit');
    const order = await storedFor(customer);
    const down = { send: () => Promise.reject(new Error('SNS is down')) } as unknown as SNSClient;
    const handler = createMyOrdersHandler({ store: stack.store, logger: silentLambdaLogger(), timings: slow, sns: down, topicArn: stack.resources.topics.orderEvents });
    const event = apiEvent({ method: 'POST', resource: '/me/orders/{id}/cancel', path: `/me/orders/${order.order_id}/cancel`, pathParameters: { id: order.order_id } });
    const response = await handler({ ...event, requestContext: { ...event.requestContext, authorizer: { claims: { sub: customer.id, email: customer.email } } } });
    expect(response.statusCode).toBe(200);
    // The item as stored: the store's reads leave its bookkeeping (pending_event, due_at) out.
    const raw = async () => (await stack.clients.documents.send(new GetCommand({ TableName: stack.resources.tableName, Key: { order_id: order.order_id }, ConsistentRead: true }))).Item as StoredOrder & { pending_event?: string };
    const kept = await raw();
    expect(kept).toMatchObject({ status: 'CANCELLED', version: 2 });
    expect(kept.due_at).toBeDefined();
    expect(JSON.parse(kept.pending_event!)).toMatchObject({ type: 'order.status_changed', order_id: order.order_id, to: 'CANCELLED', by: { role: 'customer' } });

    await stack.invoke('advance-orders', { source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} });
    const published = await raw();
    expect(published.pending_event).toBeUndefined();
    expect(published).toMatchObject({ status: 'CANCELLED', version: 2 });
    expect(published.due_at).toBeUndefined();
    await waitFor(async () => (await readOutbox(stack)).some((mail) => JSON.stringify(mail.to ?? '').includes(customer.email) && mail.subject?.startsWith('Your order was cancelled')), { timeoutMs: 15_000, what: 'the cancellation mail' });
  }, 30_000);

  it('when anyone but its customer cancels an order, then 404 as for one never placed (401 without a token, 400 for a malformed id), and it stays RECEIVED', async () => {
    const customer = await newCustomer(stack, 'Hal');
    const order = await storedFor(customer);
    const other = await cancel(bob, order.order_id);
    expect(other.status).toBe(404);
    const neverId = randomUUID();
    const never = await cancel(bob, neverId);
    expect(never.status).toBe(404);
    // The same answer but for the id it names: nothing says the first one exists.
    const shape = (body: Refusal, id: string) => ({ error: body.error, message: body.message.replace(id, '<id>') });
    expect(shape((await other.json()) as Refusal, order.order_id)).toEqual(shape((await never.json()) as Refusal, neverId));
    // An integration's order (the API key's, no account) is no account's to cancel either.
    const integration = storedOrder(acceptOrder({ customer_id: 'shop-integration', lines: [{ product_id: products[1]!, quantity: 1 }] }, { now: new Date() }), new Date(), slow);
    await stack.store.putOnce(integration);
    expect((await cancel(customer, integration.order_id)).status).toBe(404);
    expect((await cancel(null, order.order_id)).status).toBe(401);
    const malformed = await cancel(customer, 'not-an-order');
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as Refusal).issues?.[0]?.field).toBe('id');
    expect(await stack.store.get(order.order_id)).toMatchObject({ status: 'RECEIVED', version: 1 });
    expect(await stack.store.get(integration.order_id)).toMatchObject({ status: 'RECEIVED', version: 1 });
  });
});

describe('the order contract on POST /orders (integrations with the API key)', () => {
  const postOrder = (body: unknown) => apiRequest(stack, '/orders', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const line = (i: number, quantity = 1) => ({ product_id: products[i]!, quantity });

  it('when the seed\'s single-product payload is posted, then 202 and one stored line', async () => {
    const customer = `seed-${randomUUID().slice(0, 8)}`;
    const response = await postOrder({ ...SEED_ORDER, customer_id: customer });
    expect(response.status).toBe(202);
    const { order_id } = (await response.json()) as { order_id: string };
    const stored = await waitFor(() => stack.store.get(order_id), { what: 'the order' });
    expect(stored).toMatchObject({ customer_id: customer, lines: [{ product_id: 'Banana', quantity: 1 }] });
  });

  it(`when a v2 order of ${MAX_LINES} lines is posted, then every line is stored priced, with the total in minor units`, async () => {
    const lines = products.slice(0, MAX_LINES).map((_, i) => line(i, i + 1));
    const response = await postOrder({ customer_id: `v2-${randomUUID().slice(0, 8)}`, order_date: '2026-12-01', lines });
    expect(response.status).toBe(202);
    const { order_id } = (await response.json()) as { order_id: string };
    const stored = await waitFor(() => stack.store.get(order_id), { what: 'the order' });
    expect(stored.lines).toHaveLength(MAX_LINES);
    for (const [i, storedLine] of stored.lines.entries()) {
      const product = catalogue.get(products[i]!)!;
      expect(storedLine).toEqual({ product_id: products[i], product_name: product.name, quantity: i + 1, unit_price_cents: product.unit_price_cents, line_total_cents: product.unit_price_cents * (i + 1) });
    }
    expect(stored.total_cents).toBe(stored.lines.reduce((sum, each) => sum + each.line_total_cents, 0));
    expect(Number.isInteger(stored.total_cents)).toBe(true);
  });

  it.each([
    [`${MAX_LINES + 1} lines`, 'lines', () => products.slice(0, MAX_LINES + 1).map((_, i) => line(i))],
    ['a zero quantity in line 2', 'lines.2.quantity', () => [line(0), line(1), line(2, 0)]],
    ['an unknown product in line 1', 'lines.1.product_id', () => [line(0), { product_id: 'Caviar', quantity: 1 }]],
    ['line 3 repeating line 0', 'lines.3.product_id', () => [line(0), line(1), line(2), line(0, 4)]],
  ])('when an order has %s, then 400 naming %s, and nothing is queued', async (_what, field, lines) => {
    const customer = `bad-${randomUUID().slice(0, 8)}`;
    const response = await postOrder({ customer_id: customer, order_date: '2026-12-01', lines: lines() });
    expect(response.status).toBe(400);
    expect(((await response.json()) as Refusal).issues?.map((issue) => issue.field)).toContain(field);
    // A good order of the same customer behind it: once it has come through, the bad one never did.
    const good = (await (await postOrder({ ...SEED_ORDER, customer_id: customer })).json()) as { order_id: string };
    await waitFor(() => stack.store.get(good.order_id), { what: 'the good order' });
    expect(delivered.filter((body) => body.includes(customer))).toHaveLength(1);
    expect((await stack.store.all()).filter((order) => order.customer_id === customer).map((order) => order.order_id)).toEqual([good.order_id]);
  });
});
