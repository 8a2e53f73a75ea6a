import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { Context, SQSEvent } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { acceptOrder } from '../../domain/order.js';
import type { LocalStack } from '../../local/stack.js';
import { apiRequest, getStoredOrder, queueDepth, readOutbox, SEED_ORDER, startTestStack } from '../helpers/local-stack.js';
import { waitFor } from '../helpers/wait.js';
import { signedInCustomer, type WebClient } from '../helpers/customers.js';
import { cartVersionOf, orderIdOfLocation } from '../helpers/web.js';
import type { SqsBatchHandler } from '../../local/event-source-mapping.js';

let stack: LocalStack;
/** Every body process-order was given, in order: proof of what was (and was not) queued. */
const delivered: string[] = [];

beforeAll(async () => {
  stack = await startTestStack({
    adminOrderMail: true,
    wrap: {
      'process-order': (handler: SqsBatchHandler) => async (event: SQSEvent, context: Context) => {
      delivered.push(...event.Records.map((record) => record.body));
      return handler(event, context);
    },
    },
  });
});
afterAll(() => stack.stop(), 30_000);

const postOrder = (body: unknown, headers: Record<string, string> = {}) =>
  apiRequest(stack, '/orders', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

describe('the order pipeline, end to end on the local stack', () => {
  it('when a signed-in customer checks out a cart, then 303 to a status page that reaches COMPLETED by itself, and the item has every field, the right total and its whole history', async () => {
    const { client, email } = await signedInCustomer(stack);
    expect((await client.putInCart('Margherita', 3)).status).toBe(303);
    expect((await client.putInCart('Espresso', 2)).status).toBe(303);
    const response = await client.post('/checkout', { cart_version: cartVersionOf((await client.get('/cart')).html) });
    expect(response.status).toBe(303);
    const location = response.headers.get('location')!;
    expect(location).toMatch(/^\/orders\/[0-9a-f-]{36}\?placed=\d+$/);
    const orderId = orderIdOfLocation(location);

    const page = await waitFor(
      async () => {
        const { html } = await client.get(location);
        return html.includes('id="status-text">COMPLETED<') && html;
      },
      { what: 'the status page to show COMPLETED', timeoutMs: 25_000 },
    );
    // The receipt: each line at its unit price and line total, then the total.
    expect(page).toMatch(/<th scope="row">Pizza Margherita<\/th><td class="num">3<\/td><td class="num">\$11\.50<\/td><td class="num">\$34\.50<\/td>/);
    expect(page).toMatch(/<th scope="row">Espresso<\/th><td class="num">2<\/td><td class="num">\$1\.95<\/td><td class="num">\$3\.90<\/td>/);
    expect(page).toContain('id="detail-total">$38.40<');

    const stored = await getStoredOrder(stack, orderId);
    expect(stored).toEqual({
      order_id: orderId,
      customer_id: expect.stringMatching(/^[0-9a-f-]{36}$/) as unknown,
      // The account's own order: its id is the account's, and only checkout sets it.
      account_id: stored?.customer_id,
      customer_email: email,
      // The name signed up with (signedInCustomer's), which the receipt and the mails use.
      customer_name: 'Test Customer',
      lines: [
        { product_id: 'Margherita', product_name: 'Pizza Margherita', quantity: 3, unit_price_cents: 1150, line_total_cents: 3450 },
        { product_id: 'Espresso', product_name: 'Espresso', quantity: 2, unit_price_cents: 195, line_total_cents: 390 },
      ],
      total_cents: 3840,
      currency: 'USD',
      order_date: new Date().toISOString().slice(0, 10),
      received_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) as unknown,
      status: 'COMPLETED',
      status_history: ['RECEIVED', 'PREPARING', 'READY', 'COMPLETED'].map((status) => ({ status, at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) as unknown })),
      version: 4,
    });
    const times = stored!.status_history.map((entry) => Date.parse(entry.at));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    // Each step waited its time in the fast profile (RECEIVED 2 s, PREPARING 3 s, READY 2 s).
    expect(times[3]! - times[0]!).toBeGreaterThanOrEqual(7_000);
  }, 30_000);

  it('when the seed payload is posted to the API, then 202, and GET reads it back as 200 with its status, history and total_cents', async () => {
    const response = await postOrder(SEED_ORDER);
    expect(response.status).toBe(202);
    const { order_id, status } = (await response.json()) as { order_id: string; status: string };
    expect(status).toBe('QUEUED');
    const stored = await waitFor(
      async () => {
        const read = await apiRequest(stack, `/orders/${order_id}`);
        return read.status === 200 && ((await read.json()) as Record<string, unknown>);
      },
      { what: 'the order to be readable' },
    );
    expect(stored).toMatchObject({ order_id, status: 'RECEIVED', status_history: [{ status: 'RECEIVED' }], version: 1, total_cents: 35, lines: [{ product_id: 'Banana', quantity: 1 }] });
  });

  it('when the same idempotency key is posted twice, then one order id, one item and one "order received" mail', async () => {
    const key = randomUUID();
    const customer = `c-${randomUUID().slice(0, 8)}`;
    const first = (await (await postOrder({ ...SEED_ORDER, customer_id: customer }, { 'Idempotency-Key': key })).json()) as { order_id: string };
    const second = (await (await postOrder({ ...SEED_ORDER, customer_id: customer }, { 'Idempotency-Key': key })).json()) as { order_id: string };
    expect(second.order_id).toBe(first.order_id);
    await waitFor(() => getStoredOrder(stack, first.order_id), { what: 'the order to be stored' });
    await waitFor(() => delivered.filter((body) => body.includes(first.order_id)).length === 2, { what: 'both deliveries' });
    expect((await stack.store.all()).filter((order) => order.customer_id === customer)).toHaveLength(1);
    // process-order published "order received" for both deliveries; the mail is sent once for the event.
    const mailsOf = async () => (await readOutbox(stack)).filter((mail) => mail.text?.includes(`Order ${first.order_id} was received`));
    await waitFor(async () => (await mailsOf()).length >= 1, { what: 'the mail' });
    await waitFor(async () => {
      const depth = await queueDepth(stack, stack.resources.mailQueue);
      return depth.visible + depth.inFlight === 0;
    }, { what: 'the mail queue to drain' });
    expect(await mailsOf()).toHaveLength(1);
    expect((await mailsOf())[0]!.headers.get('x-event-id')).toBe(`${first.order_id}:order.received:RECEIVED`);
  });

  it('when the same message is delivered twice, then one item is stored', async () => {
    const order = acceptOrder(SEED_ORDER, { now: new Date() });
    for (let i = 0; i < 2; i++) {
      await stack.clients.sqs.send(new SendMessageCommand({ QueueUrl: stack.resources.queue.url, MessageBody: JSON.stringify(order) }));
    }
    await waitFor(() => delivered.filter((body) => body.includes(order.order_id)).length === 2, { what: 'both deliveries' });
    await waitFor(async () => (await queueDepth(stack, stack.resources.queue)).inFlight === 0, { what: 'the batch to finish' });
    expect(await getStoredOrder(stack, order.order_id)).toMatchObject({ order_id: order.order_id, status_history: [{ status: 'RECEIVED' }] });
    expect((await queueDepth(stack, stack.resources.deadLetterQueue)).visible).toBe(0);
  });

  describe('when the input is bad, then a 4xx names the problem and nothing is queued', () => {
    const cases: [string, () => Promise<Response>, number, RegExp][] = [
      ['bad JSON', () => postOrder('{"customer_id": "001",'), 400, /not valid JSON/],
      ['quantity as words', () => postOrder({ ...SEED_ORDER, quantity: 'three' }), 400, /quantity/],
      ['negative quantity', () => postOrder({ ...SEED_ORDER, quantity: -1 }), 400, /quantity/],
      ['zero quantity', () => postOrder({ ...SEED_ORDER, quantity: '0' }), 400, /quantity/],
      ['huge quantity', () => postOrder({ ...SEED_ORDER, quantity: 1_000_000 }), 400, /quantity/],
      ['fractional quantity', () => postOrder({ ...SEED_ORDER, quantity: 1.5 }), 400, /quantity/],
      ['February 30th', () => postOrder({ ...SEED_ORDER, order_date: '2025-02-30' }), 400, /order_date/],
      ['month 13', () => postOrder({ ...SEED_ORDER, order_date: '2025-13-01' }), 400, /order_date/],
      ['a date as a number', () => postOrder({ ...SEED_ORDER, order_date: 20250425 }), 400, /order_date/],
      ['an unknown product', () => postOrder({ ...SEED_ORDER, product_id: 'Caviar' }), 400, /product_id/],
      ['a null product', () => postOrder({ ...SEED_ORDER, product_id: null }), 400, /product_id/],
      ['an unknown field', () => postOrder({ ...SEED_ORDER, discount: 100 }), 400, /discount/],
      ['a customer id as a number', () => postOrder({ ...SEED_ORDER, customer_id: 1 }), 400, /customer_id/],
      ['no customer id', () => postOrder({ product_id: 'Banana', quantity: 1 }), 400, /customer_id/],
      ['a script tag', () => postOrder({ ...SEED_ORDER, customer_id: '<script>alert(1)</script>' }), 400, /customer_id/],
      ['an array body', () => postOrder([SEED_ORDER]), 400, /body/],
      ['a 9 KiB body', () => postOrder({ ...SEED_ORDER, customer_id: 'x'.repeat(9 * 1024) }), 413, /larger than 8192 bytes/],
      ['text/plain', () => apiRequest(stack, '/orders', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify(SEED_ORDER) }), 415, /application\/json/],
      ['a malformed idempotency key', () => postOrder(SEED_ORDER, { 'Idempotency-Key': 'has spaces in it' }), 400, /Idempotency-Key/],
      // Through the shop: what a signed-in customer's cart and checkout forms may not carry.
      ['a cart form with a script tag for a product', () => shopper.post('/cart/lines', { product_id: '<script>x</script>', quantity: '1' }), 400, /&lt;script&gt;x&lt;\/script&gt;: /],
      ['a cart form with a bad quantity', () => shopper.post('/cart/lines', { product_id: 'Banana', quantity: '-5' }), 400, /Banana: /],
      ['a checkout of an empty cart', () => shopper.post('/checkout', { cart_version: '0' }), 400, /cart is empty/],
      ['a checkout without its cart version', () => shopper.post('/checkout', {}), 400, /check out from your cart/],
    ];
    expect(cases.length).toBeGreaterThanOrEqual(15);

    let deliveredBefore: number;
    let shopper: WebClient;
    beforeAll(async () => {
      deliveredBefore = delivered.length;
      ({ client: shopper } = await signedInCustomer(stack));
      await shopper.get('/');
    });

    it.each(cases)('%s', async (_name, send, status, named) => {
      const depthBefore = await queueDepth(stack, stack.resources.queue);
      const response = await send();
      expect(response.status).toBe(status);
      expect(await response.text()).toMatch(named);
      expect(await queueDepth(stack, stack.resources.queue)).toEqual(depthBefore);
    });

    it('and process-order received none of them', async () => {
      // A good order after the bad ones: once it arrives, anything queued before it would have too.
      const marker = (await (await postOrder(SEED_ORDER)).json()) as { order_id: string };
      await waitFor(() => delivered.some((body) => body.includes(marker.order_id)), { what: 'the marker order' });
      const since = delivered.slice(deliveredBefore);
      expect(since).toHaveLength(1);
      expect(since[0]).toContain(marker.order_id);
    });
  });

  it('when the API key is missing or wrong, then 403 and nothing is queued', async () => {
    expect((await apiRequest(stack, '/orders', { method: 'POST', apiKey: null, headers: { 'content-type': 'application/json' }, body: JSON.stringify(SEED_ORDER) })).status).toBe(403);
    expect((await apiRequest(stack, `/orders/${randomUUID()}`, { apiKey: 'wrong-key-123' })).status).toBe(403);
  });
});
