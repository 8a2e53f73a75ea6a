import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { readFileSync } from 'node:fs';
import { NODE_FLOOR, nodeTooOld, serverUrl } from '../../frontend/lifecycle.js';
import { catalogue } from '../../domain/catalogue.js';
import type { LocalStack } from '../../local/stack.js';
import { getStoredOrder, startTestStack, unreachableUrl } from '../helpers/local-stack.js';
import { PASSWORD, signedInCustomer, WebClient } from '../helpers/customers.js';
import { waitFor } from '../helpers/wait.js';
import { cartVersionOf, cognitoEnvOf, orderIdOfLocation, signedInAt, startWeb } from '../helpers/web.js';

let stack: LocalStack;
beforeAll(async () => {
  stack = await startTestStack({ webEnv: { ORDER_RATE_LIMIT_MAX: '1000' } });
});
afterAll(() => stack.stop(), 30_000);

const page = (path: string, init?: RequestInit) => fetch(`${stack.urls.web}${path}`, init);

describe('the web tier', () => {
  it('when it starts on a Node below the floor, then it is refused with the version named; the floor is package.json\'s engines', () => {
    expect(nodeTooOld('22.18.3')).toMatch(/^Node 22\.18\.3 is older than 22\.19/);
    expect(nodeTooOld('20.20.2')).toMatch(/^Node 20\.20\.2 is older/);
    for (const fine of ['22.19.0', '22.23.5', '24.1.0', process.versions.node]) expect(nodeTooOld(fine)).toBeUndefined();
    const { engines } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { engines: { node: string } };
    expect(engines.node).toBe(`>=${NODE_FLOOR.major}.${NODE_FLOOR.minor}`);
  });

  it('when the menu is served, then it lists the catalogue with prices; signed in, each product has a cart form with its own CSRF token, and the checkout form carries the cart\'s version, new with every change', async () => {
    const visitor = await (await page('/')).text();
    for (const text of ['<span class="product-name">Pizza Margherita</span>', '<span class="product-price">$11.50</span>', '<span class="product-name">Banana</span>', '<span class="product-price">$0.35</span>', 'id="sign-in-to-order"']) {
      expect(visitor).toContain(text);
    }
    // Signed out, nothing on the menu can be posted.
    expect(visitor).not.toContain('action="/cart/lines"');
    // By section, in a customer's order, each reached from a link at the top, each product in its own.
    const links = [...visitor.matchAll(/<a href="#menu-(\w+)">([^<]+)<\/a>/g)].map(([, id, title]) => `${id}:${title}`);
    expect(links).toEqual(['pizzas:Pizzas', 'starters:Starters', 'salads:Salads', 'desserts:Desserts', 'drinks:Drinks']);
    const sections = visitor.split('<section class="menu-section" id="menu-').slice(1);
    expect(sections.map((section) => section.slice(0, section.indexOf('"')))).toEqual(['pizzas', 'starters', 'salads', 'desserts', 'drinks']);
    for (const product of catalogue.values()) {
      expect([product.id, sections.find((section) => section.includes(`id="product-${product.id}"`))?.slice(0, product.category.length)]).toEqual([product.id, product.category]);
    }

    const { client } = await signedInCustomer(stack);
    const menu = (await client.get('/')).html;
    expect(menu).toMatch(/<form method="post" action="\/cart\/lines" class="add-line" data-product-id="Margherita">\s*<input type="hidden" name="_csrf" value="[^"]+">\s*<input type="hidden" name="product_id" value="Margherita">/);
    expect(menu).toContain('id="quantity-Margherita" name="quantity"');
    expect(menu).not.toContain('id="sign-in-to-order"');

    expect((await client.putInCart('Margherita', 1)).status).toBe(303);
    const first = cartVersionOf((await client.get('/cart')).html);
    expect(cartVersionOf((await client.get('/cart')).html)).toBe(first);
    expect((await client.putInCart('Margherita', 2)).status).toBe(303);
    expect(cartVersionOf((await client.get('/cart')).html)).not.toBe(first);
  });

  it('when a page is served, then it carries a strict CSP and the other security headers', async () => {
    const response = await page('/');
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('x-powered-by')).toBeNull();
    expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    // Served over plain HTTP here, so no HSTS, and a client's own X-Forwarded-Proto is not believed.
    expect(response.headers.get('strict-transport-security')).toBeNull();
    expect((await page('/', { headers: { 'x-forwarded-proto': 'https' } })).headers.get('strict-transport-security')).toBeNull();
    // Behind the ALB's HTTPS listener (one trusted hop, as the ecosystem file sets), it is set.
    const behindAlb = await startWeb({ API_BASE_URL: await unreachableUrl(), TRUST_PROXY_HOPS: '1' });
    expect((await fetch(`${behindAlb.url}/`, { headers: { 'x-forwarded-proto': 'https' } })).headers.get('strict-transport-security')).toContain('max-age=');
    behindAlb.server.close();
  });

  it('when any page is served, then its head links the shop\'s icon; the icon and /favicon.ico answer as an image, cacheable like the other static files', async () => {
    const iconOf = (html: string) => /<link rel="icon" href="([^"]+)" type="image\/svg\+xml">/.exec(html)?.[1];
    const visitor = new WebClient(stack.urls.web);
    const { client } = await signedInCustomer(stack);
    const linked: Record<string, string | undefined> = {};
    for (const path of ['/', '/sign-in', '/sign-up', '/forgot-password', `/orders/${randomUUID()}`, '/orders/not-an-id', '/no/such/page']) {
      linked[path] = iconOf((await visitor.get(path)).html);
    }
    for (const path of ['/', '/cart', '/my-orders']) linked[`${path}, signed in`] = iconOf((await client.get(path)).html);
    expect(linked).toEqual(Object.fromEntries(Object.keys(linked).map((name) => [name, '/static/favicon.svg'])));

    const staticCaching = (await page('/static/app.css')).headers.get('cache-control');
    expect(staticCaching).toMatch(/max-age=[1-9]/);
    for (const path of ['/static/favicon.svg', '/favicon.ico']) {
      const response = await page(path);
      const type = response.headers.get('content-type')?.split(';')[0];
      expect([path, response.status, type, response.headers.get('cache-control')]).toEqual([path, 200, 'image/svg+xml', staticCaching]);
      expect(await response.text()).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    }
  });

  it('when a cart form has errors, then 400 shows the cart with each problem named by its product, markup escaped, and the cart unchanged', async () => {
    const { client } = await signedInCustomer(stack);
    expect((await client.putInCart('Banana', 2)).status).toBe(303);
    for (const quantity of ['0', '1001', '-5', 'three', '1.5']) {
      const response = await client.post('/cart/lines', { product_id: 'Margherita', quantity });
      expect(response.status).toBe(400);
      const html = await response.text();
      expect(html).toContain('id="error-summary"');
      expect(html).toMatch(/<li>Pizza Margherita: [^<]+<\/li>/);
    }
    const hostile = await client.post('/cart/lines', { product_id: '<b>bold</b>', quantity: '1' });
    expect(hostile.status).toBe(400);
    const html = await hostile.text();
    expect(html).toContain('&lt;b&gt;bold&lt;/b&gt;');
    expect(html).not.toContain('<b>bold</b>');
    const removed = await client.post('/cart/lines/remove', { product_id: '<script>x</script>' });
    expect([303, 400, 404]).toContain(removed.status);
    expect(await removed.text()).not.toContain('<script>x</script>');
    const cart = (await client.get('/cart')).html;
    expect(cart.match(/class="cart-line" data-product-id="[^"]*"/g)).toEqual(['class="cart-line" data-product-id="Banana"']);
    expect(cart).toContain('data-quantity="2"');
  });

  it('when the sign-up form has errors, then 400 re-renders it with each message by its field, the values kept and markup escaped', async () => {
    const visitor = new WebClient(stack.urls.web);
    await visitor.get('/sign-up');
    const response = await visitor.post('/sign-up', { email: 'not an email', name: '<b>bold</b>"><script>alert(1)</script>', password: '' });
    expect(response.status).toBe(400);
    const html = await response.text();
    expect(html).toContain('id="email-error"');
    expect(html).toContain('id="password-error"');
    expect(html).not.toContain('id="name-error"');
    expect(html).toContain('value="&lt;b&gt;bold&lt;/b&gt;&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"');
    expect(html).not.toContain('<b>bold</b>');
    expect(html).not.toContain('<script>alert(1)</script>');
    expect(html).toContain('value="not an email"');
    expect(html).toMatch(/id="email"[^>]*aria-invalid="true"[^>]*autofocus/);
  });

  it('when the same checkout is posted twice, at once and again later, then each redirects to the same order and one item is stored', async () => {
    const { client, email } = await signedInCustomer(stack);
    await client.putInCart('Banana', 1);
    await client.putInCart('Calzone', 2);
    const version = cartVersionOf((await client.get('/cart')).html);
    const [first, second] = await Promise.all([client.post('/checkout', { cart_version: version }), client.post('/checkout', { cart_version: version })]);
    expect(first.status).toBe(303);
    expect(second.status).toBe(303);
    const orderId = orderIdOfLocation(first.headers.get('location'));
    expect(orderIdOfLocation(second.headers.get('location'))).toBe(orderId);
    // The page posted again once the cart is emptied (a retry after a timeout): still the same order.
    const again = await client.post('/checkout', { cart_version: version });
    expect(again.status).toBe(303);
    expect(orderIdOfLocation(again.headers.get('location'))).toBe(orderId);
    await waitFor(() => getStoredOrder(stack, orderId), { what: 'the order' });
    expect((await stack.store.all()).filter((order) => order.customer_email === email)).toHaveLength(1);
    expect((await client.get('/cart')).html).toContain('Your cart is empty');
  });

  it('when a checkout is posted without a cart version, for an older version of a changed cart, or for an empty cart, then 4xx shows the cart and nothing is ordered', async () => {
    const { client, email } = await signedInCustomer(stack);
    // An empty cart's page has no checkout form; posted anyway, it is refused.
    expect((await client.get('/cart')).html).not.toContain('id="checkout-form"');
    const empty = await client.post('/checkout', { cart_version: '0' });
    expect([400, 409]).toContain(empty.status);
    await client.putInCart('Banana', 1);
    const version = cartVersionOf((await client.get('/cart')).html);
    await client.putInCart('Banana', 3);
    const stale = await client.post('/checkout', { cart_version: version });
    expect(stale.status).toBe(409);
    expect(await stale.text()).toContain('Your cart changed since you looked at it');
    for (const cart_version of ['', 'one', '-1']) expect((await client.post('/checkout', { cart_version })).status).toBe(400);
    expect((await stack.store.all()).filter((order) => order.customer_email === email)).toHaveLength(0);
  });

  it('when the status is asked for as JSON, then 404 until stored and 200 with the order, its status and history after', async () => {
    const unknown = await page(`/orders/${randomUUID()}`, { headers: { accept: 'application/json' } });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: 'not_found' });
    const { client } = await signedInCustomer(stack);
    await client.putInCart('Banana', 7);
    const orderId = await client.checkout();
    const order = await waitFor(async () => {
      const response = await client.request(`/orders/${orderId}`, { headers: { accept: 'application/json' } });
      return response.status === 200 && ((await response.json()) as Record<string, unknown>);
    });
    expect(order).toMatchObject({ status: expect.stringMatching(/^(RECEIVED|PREPARING|READY|COMPLETED)$/) as unknown, lines: [{ product_id: 'Banana', quantity: 7 }], total_cents: 245 });
    expect((order as { status_history: { status: string }[] }).status_history[0]).toMatchObject({ status: 'RECEIVED' });
    // The checkout form has no date: the order is placed for today.
    expect(order).toMatchObject({ order_date: new Date().toISOString().slice(0, 10) });
  });

  it('when a just-placed order is not stored yet, then its page says it is being taken in, refreshes itself without script, and loads the external script', async () => {
    const response = await page(`/orders/${randomUUID()}?placed=${Date.now()}`);
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain('id="status-text">PLACED<');
    expect(html).not.toContain('safe in the queue');
    expect(html).toMatch(/data-wait-ms="\d+"/);
    expect(html).toContain('<noscript><meta http-equiv="refresh"');
    expect(html).toContain('<script src="/static/status.js" defer></script>');
    expect(html).not.toMatch(/<script>(?!<\/script>)/);
  });

  it('when an order number was never accepted, then its page says plainly that no such order was found and what to do', async () => {
    for (const path of [`/orders/${randomUUID()}`, `/orders/${randomUUID()}?placed=${Date.now() - 120_000}`, `/orders/${randomUUID()}?placed=soon`]) {
      const response = await page(path);
      expect(response.status).toBe(404);
      const html = await response.text();
      expect(html).toContain('No order with this number was found');
      expect(html).toContain('place the order again');
      expect(html).not.toContain('safe in the queue');
    }
  });

  it.each(['not-an-id', '..%2F..%2Fetc%2Fpasswd', '%3Cscript%3E', '1%00'])('when the order id in the path is %p, then 400 or 404, never 5xx', async (id) => {
    const response = await page(`/orders/${id}`);
    expect([400, 404]).toContain(response.status);
    expect(await response.text()).not.toContain('<script>');
  });

  it('when "find my order" gets an id, then it redirects to the status page; a bad one gets 400', async () => {
    const id = randomUUID();
    const found = await page(`/find?id=${id}`, { redirect: 'manual' });
    expect(found.status).toBe(303);
    expect(found.headers.get('location')).toBe(`/orders/${id}`);
    expect((await page('/find?id=nope')).status).toBe(400);
  });

  it('when the health check, an unknown page or an oversize form is asked for, then 200, 404 and 413', async () => {
    expect(await (await page('/healthz')).json()).toEqual({ status: 'ok' });
    const missing = await page('/no/such/page');
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain('Page not found');
    const { client } = await signedInCustomer(stack);
    const oversize = await client.post('/cart/lines', { product_id: 'x'.repeat(9000), quantity: '1' });
    expect(oversize.status).toBe(413);
    expect(await oversize.text()).toContain('That form is too large');
    const visitor = new WebClient(stack.urls.web);
    await visitor.get('/sign-up');
    expect((await visitor.post('/sign-up', { email: 'a@example.com', name: 'x'.repeat(9000), password: PASSWORD })).status).toBe(413);
  });
});

describe('the web tier\'s request log', () => {
  it('when a request is served, then one line says its id, method, path and status, and nothing of its headers', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
    const web = await startWeb({ API_BASE_URL: await unreachableUrl() }, logger);
    const response = await fetch(`${web.url}/find?id=nope`, { headers: { cookie: 'session=secret-cookie', 'x-request-id': 'trace-42' } });
    expect(response.status).toBe(400);
    const line = await waitFor(() => lines.find((entry) => entry.msg === 'request completed'), { what: 'the request log line' });
    web.server.close();
    expect(line).toMatchObject({ level: 40, req: { id: 'trace-42', method: 'GET', url: '/find?id=nope' }, res: { statusCode: 400 } });
    expect(typeof line.responseTime).toBe('number');
    expect(JSON.stringify(lines)).not.toContain('secret-cookie');
    expect(JSON.stringify(lines)).not.toContain('headers');
  });
});

describe('the web tier when things go wrong', () => {

  it('when the API is unreachable, then a signed-in customer\'s checkout and cart posts get a 503 page that says to try again', async () => {
    const web = await startWeb({ API_BASE_URL: await unreachableUrl(), ...cognitoEnvOf(stack) });
    const client = await signedInAt(stack, web.url);
    for (const [path, fields] of [['/checkout', { cart_version: '1' }], ['/cart/lines', { product_id: 'Banana', quantity: '1' }]] as const) {
      const response = await client.post(path, fields);
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('5');
      expect(await response.text()).toMatch(/try again/i);
    }
    expect((await fetch(`${web.url}/orders/${randomUUID()}`)).status).toBe(503);
    await web.stop();
  });

  it('when the API is too slow, then checkout gets 503 after the configured timeout', async () => {
    const { createServer } = await import('node:http');
    const slow = createServer(() => undefined);
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    const web = await startWeb({ API_BASE_URL: serverUrl(slow), API_TIMEOUT_MS: '300', ...cognitoEnvOf(stack) });
    const client = await signedInAt(stack, web.url);
    const started = Date.now();
    expect((await client.post('/checkout', { cart_version: '1' })).status).toBe(503);
    expect(Date.now() - started).toBeLessThan(3000);
    slow.closeAllConnections();
    await web.stop();
    slow.close();
  });

  it('when a client posts to the cart and checkout faster than ORDER_RATE_LIMIT_MAX, then 429 with Retry-After, on both', async () => {
    const web = await startWeb({ API_BASE_URL: stack.urls.api, API_KEY: stack.apiKey, ORDER_RATE_LIMIT_MAX: '2', ...cognitoEnvOf(stack) });
    const client = await signedInAt(stack, web.url);
    const statuses = [(await client.putInCart('Banana', 1)).status, (await client.putInCart('Banana', 2)).status];
    const { html } = await client.get('/cart');
    statuses.push((await client.post('/checkout', { cart_version: cartVersionOf(html) })).status);
    const limited = await client.post('/cart/lines', { product_id: 'Banana', quantity: '3' });
    statuses.push(limited.status);
    expect(statuses).toEqual([303, 303, 429, 429]);
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    // The limit is the cart's and checkout's: pages and the sign-out form still answer.
    expect((await client.get('/cart')).response.status).toBe(200);
    await web.stop();
  });
});
