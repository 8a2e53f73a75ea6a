import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { serverUrl } from '../../frontend/lifecycle.js';
import type { LocalStack } from '../../local/stack.js';
import { getStoredOrder, SEED_ORDER, startTestStack, unreachableUrl } from '../helpers/local-stack.js';
import { waitFor } from '../helpers/wait.js';
import { idempotencyKeyOf, orderIdOfLocation, postForm, startWeb } from '../helpers/web.js';

let stack: LocalStack;
beforeAll(async () => {
  stack = await startTestStack({ webEnv: { ORDER_RATE_LIMIT_MAX: '1000' } });
});
afterAll(() => stack.stop(), 30_000);

const page = (path: string, init?: RequestInit) => fetch(`${stack.urls.web}${path}`, init);

describe('the web tier', () => {
  it('when the form is served, then it lists the catalogue with prices, today\'s date and a fresh idempotency key each time', async () => {
    const first = await (await page('/')).text();
    const second = await (await page('/')).text();
    for (const text of ['name="customer_id"', 'name="product_id"', 'name="quantity"', 'name="order_date"', 'Pizza Margherita ($11.50)', 'Banana ($0.35)']) {
      expect(first).toContain(text);
    }
    expect(first).toContain(`value="${new Date().toISOString().slice(0, 10)}"`);
    expect(idempotencyKeyOf(first)).not.toBe(idempotencyKeyOf(second));
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

  it('when the form has errors, then 400 re-renders it with each message by its field, the values kept and markup escaped', async () => {
    const response = await postForm(stack.urls.web, { customer_id: '<b>bold</b>', product_id: 'Margherita', quantity: '0', order_date: '2025-02-30', idempotency_key: randomUUID() });
    expect(response.status).toBe(400);
    const html = await response.text();
    expect(html).toContain('id="customer_id-error"');
    expect(html).toContain('id="quantity-error"');
    expect(html).toContain('id="order_date-error"');
    expect(html).not.toContain('id="product_id-error"');
    expect(html).toContain('value="&lt;b&gt;bold&lt;/b&gt;"');
    expect(html).not.toContain('<b>bold</b>');
    expect(html).toMatch(/<option value="Margherita"[^>]*selected/);
    expect(html).toContain('value="2025-02-30"');
    expect(html).toMatch(/id="customer_id"[^>]*aria-invalid="true"[^>]*autofocus/);
  });

  it('when the form is submitted twice with the same key, then both redirect to the same order and one item is stored', async () => {
    const key = idempotencyKeyOf(await (await page('/')).text());
    const fields = { ...SEED_ORDER, customer_id: `c-${randomUUID().slice(0, 8)}`, idempotency_key: key };
    const [first, second] = await Promise.all([postForm(stack.urls.web, fields), postForm(stack.urls.web, fields)]);
    expect(first.status).toBe(303);
    const orderId = orderIdOfLocation(first.headers.get('location'));
    expect(orderIdOfLocation(second.headers.get('location'))).toBe(orderId);
    await waitFor(() => getStoredOrder(stack, orderId), { what: 'the order' });
  });

  it('when the date is left empty, then the order is placed for today', async () => {
    const response = await postForm(stack.urls.web, { ...SEED_ORDER, order_date: '' });
    expect(response.status).toBe(303);
    const orderId = orderIdOfLocation(response.headers.get('location'));
    const stored = await waitFor(() => getStoredOrder(stack, orderId), { what: 'the order' });
    expect(stored.order_date).toBe(new Date().toISOString().slice(0, 10));
  });

  it('when the status is asked for as JSON, then 404 until stored and 200 with the order, its status and history after', async () => {
    const unknown = await page(`/orders/${randomUUID()}`, { headers: { accept: 'application/json' } });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: 'not_found' });
    const location = (await postForm(stack.urls.web, { ...SEED_ORDER, quantity: '7' })).headers.get('location')!;
    const order = await waitFor(async () => {
      const response = await page(location, { headers: { accept: 'application/json' } });
      return response.status === 200 && ((await response.json()) as Record<string, unknown>);
    });
    expect(order).toMatchObject({ status: expect.stringMatching(/^(RECEIVED|PREPARING|READY|COMPLETED)$/) as unknown, lines: [{ product_id: 'Banana', quantity: 7 }], total_cents: 245 });
    expect((order as { status_history: { status: string }[] }).status_history[0]).toMatchObject({ status: 'RECEIVED' });
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
    expect((await postForm(stack.urls.web, { ...SEED_ORDER, customer_id: 'x'.repeat(9000) })).status).toBe(413);
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

  it('when the API is unreachable, then the customer gets a 503 page that says to try again', async () => {
    const web = await startWeb({ API_BASE_URL: await unreachableUrl() });
    const response = await postForm(web.url, SEED_ORDER);
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
    expect(await response.text()).toMatch(/try again/i);
    expect((await fetch(`${web.url}/orders/${randomUUID()}`)).status).toBe(503);
    web.server.close();
  });

  it('when the API is too slow, then 503 after the configured timeout', async () => {
    const { createServer } = await import('node:http');
    const slow = createServer(() => undefined);
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    const web = await startWeb({ API_BASE_URL: serverUrl(slow), API_TIMEOUT_MS: '300' });
    const started = Date.now();
    expect((await postForm(web.url, SEED_ORDER)).status).toBe(503);
    expect(Date.now() - started).toBeLessThan(3000);
    web.server.close();
    slow.closeAllConnections();
    slow.close();
  });

  it('when a client posts orders faster than the limit, then 429 with Retry-After', async () => {
    const web = await startWeb({ API_BASE_URL: await unreachableUrl(), ORDER_RATE_LIMIT_MAX: '2' });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await postForm(web.url, { ...SEED_ORDER, quantity: '0' })).status);
    expect(statuses).toEqual([400, 400, 429]);
    const limited = await postForm(web.url, SEED_ORDER);
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    web.server.close();
  });
});
