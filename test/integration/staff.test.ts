// The shop's staff at the counter: `npm run staff` makes a member, the /staff board and its buttons,
// the API's /staff routes behind it, and everyone else kept out as if none of it existed.
import { SignUpCommand } from '@aws-sdk/client-cognito-identity-provider';
import { ListSubscriptionsByTopicCommand, SubscribeCommand, UnsubscribeCommand } from '@aws-sdk/client-sns';
import { ListQueuesCommand } from '@aws-sdk/client-sqs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createAdvanceOrdersHandler } from '../../backend-lambdas/advance-orders/advance-orders.js';
import { createProductStore, type StoredProduct } from '../../backend-lambdas/lib/product-store.js';
import { SEED_PRODUCTS } from '../../domain/catalogue.js';
import type { LocalStack } from '../../local/stack.js';
import { settings } from '../../platform/settings.js';
import { cognitoOf, newCustomer, signedInCustomer, signIn, WebClient } from '../helpers/customers.js';
import { apiRequest, readOutbox, startTestStack } from '../helpers/local-stack.js';
import { silentLambdaLogger } from '../helpers/loggers.js';
import { waitFor } from '../helpers/wait.js';
import { follow, startWebProcess } from '../helpers/web.js';

let stack: LocalStack;
let staff: { client: WebClient; email: string };
let customer: { client: WebClient; email: string };

/** `npm run staff` as the README has it, against this stack's user pool. */
async function staffCommand(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return promisify(execFile)('npm', ['run', '--silent', 'staff', '--', ...args, '--local'], { env: { ...process.env, COGNITO_PORT: new URL(stack.urls.cognito).port }, timeout: 30_000 });
}

/** A one-pizza order of the customer's, stored. */
async function placeOrder(): Promise<string> {
  await customer.client.putInCart('Margherita', 1);
  const orderId = await customer.client.checkout();
  await waitFor(async () => (await stack.store.get(orderId)) !== undefined, { what: 'the order to be stored' });
  return orderId;
}

const cardOf = (html: string, orderId: string) => new RegExp(`<li class="board-order" id="order-${orderId}"[^>]*data-version="(\\d+)" data-status="(\\w+)"`).exec(html);

beforeAll(async () => {
  // The kitchen's timer is off: only staff (and the tests) move orders here.
  stack = await startTestStack({ runSchedules: false });
  [staff, customer] = await Promise.all([signedInCustomer(stack, { name: 'Sam Staff' }), signedInCustomer(stack, { name: 'Cleo Customer' })]);
  const added = await staffCommand('add', staff.email);
  expect(added.stdout).toContain(`${staff.email}: now a member of the staff (${settings.accounts.userPool.name})`);
  expect((await staffCommand('add', staff.email)).stdout).toContain('already a member of the staff');
  // The group travels in the ID token: a new sign-in carries it.
  await staff.client.signIn(staff.email);
}, 120_000);
afterAll(() => stack.stop(), 30_000);

describe('staff at the counter', () => {
  it('when a member of staff opens /staff, then each open order is in its status column, oldest first, with its customer and lines; "advance" moves it one step, recorded with who did it, and its customer sees it moved by the shop', async () => {
    const [older, newer] = [await placeOrder(), await placeOrder()];
    const { response, html } = await staff.client.get('/staff');
    expect(response.status).toBe(200);
    expect(html).toContain('id="nav-staff"');
    expect(cardOf(html, older)?.slice(1)).toEqual(['1', 'RECEIVED']);
    expect(html.indexOf(`id="order-${older}"`)).toBeLessThan(html.indexOf(`id="order-${newer}"`));
    expect(html).toMatch(new RegExp(`id="order-${older}"[\\s\\S]*?Cleo Customer[\\s\\S]*?1 × Pizza Margherita`));

    const advanced = await staff.client.post(`/staff/orders/${older}/advance`, { version: '1' });
    expect([advanced.status, advanced.headers.get('location')]).toEqual([303, '/staff']);
    const stored = await stack.store.get(older);
    expect(stored).toMatchObject({ status: 'PREPARING', version: 2 });
    expect(stored!.status_history.at(-1)).toMatchObject({ status: 'PREPARING', by: { role: 'staff', id: staff.email } });
    // The customer reads "by the shop", never the member of staff's address.
    const page = (await customer.client.get(`/orders/${older}`)).html;
    expect(page).toContain('Your order is being prepared');
    expect(page).toContain('by the shop');
    expect(page).not.toContain(staff.email);
    expect(cardOf((await staff.client.get('/staff/board')).html, older)?.slice(1)).toEqual(['2', 'PREPARING']);
  });

  it('when the kitchen moved an order after the board showed it, then "advance" from the board is refused with a 409 that shows it as it is now, and it moved one step only', async () => {
    const orderId = await placeOrder();
    await staff.client.get('/staff');
    const kitchen = createAdvanceOrdersHandler({ store: stack.store, timings: settings.lifecycle.timingsSeconds, logger: silentLambdaLogger() });
    expect(await kitchen({ action: 'advance', order_id: orderId })).toMatchObject({ ok: true, to: 'PREPARING' });
    const refused = await staff.client.post(`/staff/orders/${orderId}/advance`, { version: '1' });
    expect(refused.status).toBe(409);
    const html = await refused.text();
    expect(html).toContain('moved on since it was shown: it is preparing now');
    expect(cardOf(html, orderId)?.slice(1)).toEqual(['2', 'PREPARING']);
    expect(await stack.store.get(orderId)).toMatchObject({ status: 'PREPARING', version: 2 });
  });

  it('when staff cancel an order with a reason, then it is CANCELLED by staff with that reason and the customer\'s mail says why; without a reason nothing changes and the board says so', async () => {
    const orderId = await placeOrder();
    await staff.client.get('/staff');
    const noReason = await staff.client.post(`/staff/orders/${orderId}/cancel`, { version: '1', reason: '  ' });
    expect(noReason.status).toBe(400);
    expect(await noReason.text()).toContain('Say why: the customer is told');
    expect(await stack.store.get(orderId)).toMatchObject({ status: 'RECEIVED', version: 1 });

    const cancelled = await staff.client.post(`/staff/orders/${orderId}/cancel`, { version: '1', reason: 'We are out of mozzarella' });
    expect([cancelled.status, cancelled.headers.get('location')]).toEqual([303, '/staff?done=cancelled']);
    expect((await stack.store.get(orderId))?.status_history.at(-1)).toMatchObject({ status: 'CANCELLED', by: { role: 'staff', id: staff.email }, reason: 'We are out of mozzarella' });
    const mail = await waitFor(async () => (await readOutbox(stack)).find((candidate) => candidate.subject?.startsWith('Your order was cancelled') && candidate.text?.includes(orderId)), { what: 'the cancellation mail' });
    expect(mail.text).toContain('The shop cancelled this order.\nReason: We are out of mozzarella');
    expect(cardOf((await staff.client.get('/staff')).html, orderId)).toBeNull();
  });

  it('when a signed-in customer who is not staff, or a visitor, asks for any /staff page or action, then each is the shop\'s 404, and nothing changes', async () => {
    const orderId = await placeOrder();
    const visitor = new WebClient(stack.urls.web);
    for (const client of [customer.client, visitor]) {
      // A page with a form, for its CSRF token: the posts below are refused for who sends them, not for a missing token.
      await client.get(client === visitor ? '/sign-in' : '/');
      for (const path of ['/staff', '/staff/board', '/staff/orders']) {
        const { response, html } = await client.get(path);
        expect([path, response.status]).toEqual([path, 404]);
        expect(html).toContain('Page not found');
      }
      for (const [path, fields] of [[`/staff/orders/${orderId}/advance`, { version: '1' }], [`/staff/orders/${orderId}/cancel`, { version: '1', reason: 'mine now' }]] as const) {
        expect([path, (await client.post(path, fields)).status]).toEqual([path, 404]);
      }
    }
    // The board's subscription too: an error and no orders, for them as for a visitor.
    for (const client of [customer.client, visitor]) {
      const stream = await client.request(`/graphql/stream?query=${encodeURIComponent('subscription { openOrders { id } }')}`, { headers: { accept: 'text/event-stream' } });
      const events = await stream.text();
      expect(events).toContain('"errors"');
      expect(events).not.toContain(orderId);
    }
    expect(customer.client.cookies.size).toBeGreaterThan(0);
    expect((await customer.client.get('/')).html).not.toContain('id="nav-staff"');
    expect(await stack.store.get(orderId)).toMatchObject({ status: 'RECEIVED', version: 1 });
  });

  it('when the API\'s /staff routes are called with a customer\'s token, then each is a 404; with a member of staff\'s, the list and a change answer, and a body without the version is a 400 that names it', async () => {
    const orderId = await placeOrder();
    const [plain, member] = await Promise.all([newCustomer(stack, 'Dee'), newCustomer(stack, 'Eve')]);
    await staffCommand('add', member.email);
    const { idToken: memberToken } = await signIn(stack, member.email, member.password);
    const call = (token: string, path: string, body?: unknown) =>
      apiRequest(stack, path, { method: body === undefined ? 'GET' : 'POST', headers: { authorization: token, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    for (const [path, body] of [['/staff/orders', undefined], [`/staff/orders/${orderId}/advance`, { version: 1 }], [`/staff/orders/${orderId}/cancel`, { version: 1, reason: 'no' }]] as const) {
      expect([path, (await call(plain.idToken, path, body)).status]).toEqual([path, 404]);
    }
    const list = await call(memberToken, '/staff/orders');
    expect(list.status).toBe(200);
    const listed = (await list.json()) as { orders: { order_id: string }[] };
    expect(listed.orders.map((order) => order.order_id)).toContain(orderId);
    // More open than asked for: the list is cut, and says so.
    const cut = await stack.store.openOrders(1);
    expect([cut.orders.length, cut.truncated]).toEqual([1, true]);
    const missing = await call(memberToken, `/staff/orders/${orderId}/advance`, {});
    expect(missing.status).toBe(400);
    expect((await missing.json()) as unknown).toMatchObject({ issues: [{ field: 'version' }] });
    const moved = await call(memberToken, `/staff/orders/${orderId}/advance`, { version: 1 });
    expect(moved.status).toBe(200);
    expect((await moved.json()) as unknown).toMatchObject({ order_id: orderId, status: 'PREPARING', version: 2 });
    expect(await stack.store.get(orderId)).toMatchObject({ status: 'PREPARING' });
  });

  it('when a staff action is posted without the page\'s CSRF token, then it is refused and nothing changes', async () => {
    const orderId = await placeOrder();
    const refused = await staff.client.post(`/staff/orders/${orderId}/advance`, { version: '1' }, { csrf: null });
    expect(refused.status).toBe(403);
    expect(await stack.store.get(orderId)).toMatchObject({ status: 'RECEIVED', version: 1 });
  });

  it('when a member is removed with npm run staff -- remove, then from their next sign-in /staff is a 404', async () => {
    const { client, email } = await signedInCustomer(stack, { name: 'Temp Staff' });
    await staffCommand('add', email);
    await client.signIn(email);
    expect((await client.get('/staff')).response.status).toBe(200);
    expect((await staffCommand('remove', email)).stdout).toContain('no longer a member of the staff');
    await client.signIn(email);
    expect((await client.get('/staff')).response.status).toBe(404);
    // An account whose address was never confirmed may not be its owner's: it is not made staff.
    const unconfirmed = `u-${Date.now()}@example.com`;
    await cognitoOf(stack).send(new SignUpCommand({ ClientId: stack.userPool.clientId, Username: unconfirmed, Password: 'Unconfirmed-1', UserAttributes: [{ Name: 'email', Value: unconfirmed }] }));
    const refused = await staffCommand('add', unconfirmed).then(() => undefined, (error: unknown) => error as { code: number; stderr: string });
    expect(refused?.code).toBe(1);
    expect(refused?.stderr).toContain('is not confirmed with a verified address');
    const unknown = await staffCommand('add', 'nobody-here@example.com').then(() => undefined, (error: unknown) => error as { code: number; stderr: string });
    expect(unknown?.code).toBe(1);
    expect(unknown?.stderr).toContain('UserNotFoundException');
  });
});

describe('the menu as data', () => {
  const products = () => createProductStore({ documents: stack.clients.documents, tableName: stack.resources.productsTableName });
  const stored = async (id: string) => (await products().list()).find((product) => product.product_id === id);
  const menuOverApi = async () => (await (await apiRequest(stack, '/menu')).json()) as { products: { product_id: string; unit_price_cents: number; available: boolean; category: string }[]; currency: string };
  const save = (fields: Record<string, string>) => staff.client.post('/staff/menu', fields);

  it('when the stack starts, then the products table holds the seed menu, and filling it again keeps what staff changed', async () => {
    const listed = await products().list();
    expect(listed.map((product) => product.product_id).sort()).toEqual(SEED_PRODUCTS.map((product) => product.id).sort());
    await staff.client.get('/staff/menu');
    expect((await save({ product_id: 'Cola', name: 'Cola', description: 'Can, 33 cl.', category: 'drinks', price: '2.75', available: 'true' })).status).toBe(303);
    expect(await products().seed()).toBe(0);
    expect(await stored('Cola')).toMatchObject({ unit_price_cents: 275, version: 2 });
  });

  it('when staff add a product and change a price on /staff/menu, then the menu and GET /menu show both at once; an order of it keeps the price it was checked out at after the price changes again', async () => {
    const page = await staff.client.get('/staff/menu');
    expect(page.response.status).toBe(200);
    expect(page.html).toContain('id="edit-Margherita"');
    const added = await save({ product_id: 'Focaccia', name: 'Focaccia <b>al rosmarino</b>', description: 'Olive oil & rosemary.', category: 'starters', price: '6.50', available: 'true' });
    expect([added.status, added.headers.get('location')]).toEqual([303, '/staff/menu?saved=Focaccia']);
    expect((await save({ product_id: 'Margherita', name: 'Pizza Margherita', description: 'Tomato, mozzarella, basil.', category: 'pizzas', price: '12.00', available: 'true' })).status).toBe(303);

    const menu = (await customer.client.get('/')).html;
    // Under its section, escaped, at its price.
    expect(menu).toMatch(/id="menu-starters"[\s\S]*id="product-Focaccia"[\s\S]*Focaccia &lt;b&gt;al rosmarino&lt;\/b&gt;[\s\S]*\$6\.50[\s\S]*id="menu-salads"/);
    expect(menu).toMatch(/id="product-Margherita"[\s\S]*?\$12\.00/);
    expect((await menuOverApi()).products).toEqual(expect.arrayContaining([expect.objectContaining({ product_id: 'Focaccia', unit_price_cents: 650, category: 'starters', available: true })]));
    const focaccia = (await products().get('Focaccia')) as StoredProduct;
    expect(focaccia.history).toEqual([expect.objectContaining({ by: staff.email, unit_price_cents: 650, at: expect.stringMatching(/^\d{4}-/) as unknown })]);

    await customer.client.putInCart('Focaccia', 2);
    await customer.client.putInCart('Margherita', 1);
    const orderId = await customer.client.checkout();
    await waitFor(async () => (await stack.store.get(orderId)) !== undefined, { what: 'the order to be stored' });
    expect((await save({ product_id: 'Focaccia', name: 'Focaccia', description: '', category: 'starters', price: '8.00', available: 'true' })).status).toBe(303);
    const order = await stack.store.get(orderId);
    expect(order).toMatchObject({ lines: [{ product_id: 'Focaccia', product_name: 'Focaccia <b>al rosmarino</b>', unit_price_cents: 650, line_total_cents: 1300 }, { product_id: 'Margherita', unit_price_cents: 1200 }], total_cents: 2500 });
    expect((await products().get('Focaccia'))?.history?.map((change) => change.unit_price_cents)).toEqual([650, 800]);
    expect((await customer.client.get(`/orders/${orderId}`)).html).toContain('$25.00');
  });

  it('when staff make a product unavailable, then the menu marks it without a cart form, it cannot be put in a cart, a cart holding it says so and cannot check out, and the API refuses an order of it; made available again, it can be ordered', async () => {
    await customer.client.putInCart('Calzone', 1);
    await staff.client.get('/staff/menu');
    expect((await save({ product_id: 'Calzone', name: 'Calzone', description: 'Folded pizza: ricotta, ham, mozzarella.', category: 'pizzas', price: '14.25' })).status).toBe(303);
    expect(await stored('Calzone')).toMatchObject({ available: false });

    const menu = (await customer.client.get('/')).html;
    expect(menu).toContain('id="unavailable-Calzone"');
    expect(menu).not.toContain('id="add-Calzone"');
    const refused = await customer.client.putInCart('Calzone', 2);
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain('Calzone is not available at the moment');
    const cart = (await customer.client.get('/cart')).html;
    expect(cart).toContain('not available at the moment: remove it to check out');
    const version = /name="cart_version" value="(\d+)"/.exec(cart)?.[1] ?? '';
    const checkout = await customer.client.post('/checkout', { cart_version: version });
    expect(checkout.status).toBe(400);
    expect(await checkout.text()).toContain('Calzone is not available at the moment');
    const byApi = await apiRequest(stack, '/orders', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ customer_id: 'pos-1', product_id: 'Calzone', quantity: 1 }) });
    expect(byApi.status).toBe(400);
    expect((await byApi.json()) as unknown).toMatchObject({ issues: [{ field: 'product_id', message: 'Calzone is not available at the moment' }] });

    await staff.client.get('/staff/menu');
    expect((await save({ product_id: 'Calzone', name: 'Calzone', description: 'Folded pizza: ricotta, ham, mozzarella.', category: 'pizzas', price: '14.25', available: 'true' })).status).toBe(303);
    expect((await customer.client.checkout()).length).toBe(36);
  });

  it('when a price changes between the cart page and its checkout, then the checkout is refused with a 409 that says so and nothing is queued; checked out from the new page, it is at the new price', async () => {
    await customer.client.putInCart('Lemonade', 2);
    const cart = (await customer.client.get('/cart')).html;
    const [version, total] = [/name="cart_version" value="(\d+)"/.exec(cart)?.[1] ?? '', /name="total_cents" value="(\d+)"/.exec(cart)?.[1] ?? ''];
    expect(Number(total)).toBeGreaterThan(0);
    await staff.client.get('/staff/menu');
    expect((await save({ product_id: 'Lemonade', name: 'Lemonade', description: 'Fresh lemons, 33 cl.', category: 'drinks', price: '3.75', available: 'true' })).status).toBe(303);
    const refused = await customer.client.post('/checkout', { cart_version: version, total_cents: total });
    expect(refused.status).toBe(409);
    const page = await refused.text();
    expect(page).toContain('A price on the menu changed since your cart was shown');
    expect(page).toContain(`name="total_cents" value="${Number(total) - 2 * 325 + 2 * 375}"`);
    const orderId = await customer.client.checkout();
    await waitFor(async () => (await stack.store.get(orderId)) !== undefined, { what: 'the order to be stored' });
    expect((await stack.store.get(orderId))?.lines.find((line) => line.product_id === 'Lemonade')).toMatchObject({ unit_price_cents: 375, quantity: 2 });
  });

  it('when a member of staff saves a product another changed since their page was shown, then nothing is saved and the page shows it as it is now (409)', async () => {
    const page = (await staff.client.get('/staff/menu')).html;
    const shown = /id="edit-Espresso"[\s\S]*?name="version" value="(\d+)"/.exec(page)?.[1] ?? '';
    expect(shown).not.toBe('');
    const fields = { product_id: 'Espresso', name: 'Espresso', description: 'A single shot.', category: 'drinks', available: 'true' };
    expect((await save({ ...fields, price: '2.10', version: shown })).status).toBe(303);
    await staff.client.get('/staff/menu');
    const stale = await save({ ...fields, price: '1.50', version: shown });
    expect(stale.status).toBe(409);
    expect(await stale.text()).toContain('Nothing was saved. Espresso was changed meanwhile');
    expect(await stored('Espresso')).toMatchObject({ unit_price_cents: 210, version: Number(shown) + 1 });
  });

  it('when staff send a bad product, then the page is a 400 naming each field and nothing is stored; a customer gets 404 from /staff/menu and its API route, and a post without the CSRF token is refused', async () => {
    await staff.client.get('/staff/menu');
    const bad = await save({ product_id: '../x', name: ' ', description: 'x', category: 'soups', price: '12.505', available: 'true' });
    expect(bad.status).toBe(400);
    const html = await bad.text();
    for (const field of ['product_id', 'name', 'category', 'price']) expect(html).toContain(`id="issue-${field}"`);
    for (const price of ['0', '-1', 'abc', '1000000']) {
      await staff.client.get('/staff/menu');
      expect([price, (await save({ product_id: 'Soup', name: 'Soup', category: 'starters', price })).status]).toEqual([price, 400]);
    }
    expect(await stored('Soup')).toBeUndefined();

    await customer.client.get('/');
    expect((await customer.client.get('/staff/menu')).response.status).toBe(404);
    expect((await customer.client.post('/staff/menu', { product_id: 'Soup', name: 'Soup', category: 'starters', price: '1.00' })).status).toBe(404);
    const { idToken } = await newCustomer(stack, 'Fay');
    const byApi = await apiRequest(stack, '/staff/menu', { method: 'POST', headers: { authorization: idToken, 'content-type': 'application/json' }, body: JSON.stringify({ product_id: 'Soup', name: 'Soup', category: 'starters', price: '1.00' }) });
    expect(byApi.status).toBe(404);
    await staff.client.get('/staff/menu');
    expect((await staff.client.post('/staff/menu', { product_id: 'Soup', name: 'Soup', category: 'starters', price: '1.00' }, { csrf: null })).status).toBe(403);
    expect(await stored('Soup')).toBeUndefined();
  });
});

describe('status pushed to every web process (a queue each on order-events)', () => {
  const KITCHEN_RUN = { source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} };
  const prefix = settings.names.webEventQueuePrefix;
  /** The web processes' queues and the subscriptions of order-events that deliver to them, as SQS and SNS list them. */
  async function eventQueues() {
    const { QueueUrls = [] } = await stack.clients.sqs.send(new ListQueuesCommand({ QueueNamePrefix: prefix }));
    const { Subscriptions = [] } = await stack.clients.sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: stack.resources.topics.orderEvents }));
    const names = QueueUrls.map((url) => url.split('/').pop()!).sort();
    const subscribed = Subscriptions.flatMap((subscription) => (subscription.Endpoint?.split(':').pop()?.startsWith(prefix) ? [subscription.Endpoint.split(':').pop()!] : [])).sort();
    return { names, subscribed, subscriptions: Subscriptions };
  }
  async function integrationOrder(): Promise<string> {
    const response = await apiRequest(stack, '/orders', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ customer_id: 'push-test', product_id: 'Margherita', quantity: 1 }) });
    const { order_id } = (await response.json()) as { order_id: string };
    await waitFor(async () => (await stack.store.get(order_id)) !== undefined, { what: 'the order to be stored' });
    return order_id;
  }
  const statusesOf = (seen: ({ status: string } | null)[]) => seen.map((order) => order?.status);

  it('when the kitchen moves an order and then staff move it on, then a page on each of two web processes sees every change within a second; a process killed with kill -9 leaves its queue only until the next start\'s clean-up, and a stopped one none', async () => {
    // The safety net is ten minutes off: only the events can bring the changes in time.
    const env = { STATUS_SAFETY_NET_MS: '600000', EVENT_QUEUE_STALE_SECONDS: '2' };
    const before = await eventQueues();
    const [first, second] = await Promise.all([startWebProcess(stack, env), startWebProcess(stack, env)]);
    let third: Awaited<ReturnType<typeof startWebProcess>> | undefined;
    try {
      const started = await eventQueues();
      expect(started.names).toHaveLength(before.names.length + 2);
      expect(started.subscribed).toEqual(started.names);

      const orderId = await integrationOrder();
      type Seen = { status: string; version: number; at: number } | null;
      const pages: Seen[][] = [[], []];
      const following = [first, second].map((web, i) => follow(web.url, orderId, undefined, pages[i]));
      await waitFor(() => pages.every((seen) => seen.length === 1), { what: 'both pages to show the order' });
      // The kitchen: its timer is off here; one run, once the order is due (the fast profile: 2 s).
      await waitFor(async () => Date.parse((await stack.store.get(orderId))!.due_at!) <= Date.now(), { what: 'the order to be due' });
      await stack.invoke('advance-orders', KITCHEN_RUN);
      const moved = Date.now();
      await waitFor(() => pages.every((seen) => seen.at(-1)?.status === 'PREPARING'), { timeoutMs: 5000, what: 'both pages to show PREPARING' });
      // A member of staff, on the stack's own web tier (a third process's board), moves it on twice.
      await staff.client.get('/staff');
      const byStaff: number[] = [];
      for (const version of ['2', '3']) {
        const advanced = await staff.client.post(`/staff/orders/${orderId}/advance`, { version });
        expect(advanced.status).toBe(303);
        byStaff.push(Date.now());
        await waitFor(() => pages.every((seen) => seen.at(-1)?.version === Number(version) + 1), { timeoutMs: 5000, what: `both pages to show version ${Number(version) + 1}` });
      }
      const ended = await Promise.all(following);
      for (const seen of ended) expect(statusesOf(seen)).toEqual(['RECEIVED', 'PREPARING', 'READY', 'COMPLETED']);
      for (const seen of pages) {
        expect(seen[1]!.at - moved).toBeLessThan(1000);
        expect(seen[2]!.at - byStaff[0]!).toBeLessThan(1000);
        expect(seen[3]!.at - byStaff[1]!).toBeLessThan(1000);
      }

      // kill -9: no stop, so its queue and subscription stay...
      second.child.kill('SIGKILL');
      await second.stop();
      expect((await eventQueues()).names).toEqual(started.names);
      // ...until its time is past (EVENT_QUEUE_STALE_SECONDS after its last heartbeat): then the next sweep, a live
      // process's (every EVENT_QUEUE_STALE_SECONDS) or a starting one's, removes them.
      await new Promise((resolve) => setTimeout(resolve, 2500));
      // A subscription left without its queue (a process killed between deleting one and unsubscribing it) goes too.
      const orphanEndpoint = stack.resources.queue.arn.replace(/[^:]+$/, `${prefix}gone`);
      await stack.clients.sns.send(new SubscribeCommand({ TopicArn: stack.resources.topics.orderEvents, Protocol: 'sqs', Endpoint: orphanEndpoint, ReturnSubscriptionArn: true }));
      expect((await eventQueues()).subscribed).toContain(`${prefix}gone`);
      third = await startWebProcess(stack, env);
      // The orphan goes at the second sweep that finds its queue gone (a queue made a moment ago may not answer yet).
      const swept = await waitFor(async () => {
        const now = await eventQueues();
        return now.subscribed.includes(`${prefix}gone`) ? undefined : now;
      }, { timeoutMs: 10_000, what: 'the orphan subscription to be swept' });
      expect(swept.names).toHaveLength(before.names.length + 2);
      const killed = started.names.find((name) => second.output().includes(name));
      expect(killed).toBeDefined();
      expect(swept.names).not.toContain(killed);
      expect(swept.subscribed).toEqual(swept.names);
      expect(first.output() + third.output()).toContain('removed the event queues of web processes that stopped without removing them');
    } finally {
      await Promise.all([first.stop(), second.stop(), third?.stop()]);
    }
    // Stopped as pm2 stops them: their queues and subscriptions went with them.
    expect(await eventQueues()).toMatchObject({ names: before.names, subscribed: before.subscribed });
  }, 90_000);

  it('when event delivery stops, then a watched order still reaches its final status on the page through the safety net, within STATUS_SAFETY_NET_MS of its step\'s due time', async () => {
    const safetyNetMs = 1500;
    const before = await eventQueues();
    const web = await startWebProcess(stack, { STATUS_SAFETY_NET_MS: String(safetyNetMs) });
    try {
      // Delivery stopped, as if its subscription were gone: order-events sends this process nothing.
      const { subscriptions } = await eventQueues();
      const mine = subscriptions.filter((subscription) => !before.subscribed.includes(subscription.Endpoint!.split(':').pop()!) && subscription.Endpoint!.split(':').pop()!.startsWith(prefix));
      expect(mine).toHaveLength(1);
      await stack.clients.sns.send(new UnsubscribeCommand({ SubscriptionArn: mine[0]!.SubscriptionArn }));

      const orderId = await integrationOrder();
      const page: ({ status: string; version: number; at: number } | null)[] = [];
      const following = follow(web.url, orderId, undefined, page);
      await waitFor(() => page.length === 1, { what: 'the page to show the order' });
      await staff.client.get('/staff');
      expect((await staff.client.post(`/staff/orders/${orderId}/cancel`, { version: '1', reason: 'Closing early' })).status).toBe(303);
      const dueAt = Date.parse((await stack.store.get(orderId))!.status_history[0]!.at) + 2000;
      expect(statusesOf(await following)).toEqual(['RECEIVED', 'CANCELLED']);
      // Read at the latest safetyNetMs after the step was due (RECEIVED is due 2 s after it was stored), give or take a read's time.
      expect(page[1]!.at).toBeLessThan(Math.max(dueAt, page[0]!.at) + safetyNetMs + 1000);
    } finally {
      await web.stop();
    }
  }, 60_000);
});
