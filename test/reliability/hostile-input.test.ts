import type { Context, SQSEvent } from 'aws-lambda';
import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { catalogue } from '../../domain/catalogue.js';
import type { OrderStatus } from '../../domain/lifecycle.js';
import { createCartStore } from '../../backend-lambdas/lib/cart-store.js';
import { acceptOrder, MAX_BODY_BYTES, MAX_LINES, parseJson } from '../../domain/order.js';
import type { LocalStack } from '../../local/stack.js';
import { apiRequest, SEED_ORDER, startTestStack } from '../helpers/local-stack.js';
import { newCustomer, PASSWORD } from '../helpers/customers.js';
import { prepareCustomers, THREE_LINES, writeCarts, type PreparedCustomer } from '../helpers/prepared-customers.js';
import { waitFor } from '../helpers/wait.js';
import type { SqsBatchHandler } from '../../local/event-source-mapping.js';

let stack: LocalStack;
const delivered = new Set<string>();

beforeAll(async () => {
  stack = await startTestStack({
    ports: { console: 0 },
    throttle: { rateLimit: 100_000, burstLimit: 100_000 },
    webEnv: { RATE_LIMIT_MAX: '1000000', ORDER_RATE_LIMIT_MAX: '1000000', SIGN_IN_ACCOUNT_MAX: '10000', SIGN_IN_CLIENT_MAX: '10000', CODE_MAIL_ADDRESS_MAX: '10000', CODE_ATTEMPT_ADDRESS_MAX: '10000' },
    wrap: {
      'process-order': (handler: SqsBatchHandler) => async (event: SQSEvent, context: Context) => {
      for (const record of event.Records) {
        try {
          delivered.add((JSON.parse(record.body) as { order_id: string }).order_id);
        } catch {
          delivered.add(record.body);
        }
      }
      return handler(event, context);
    },
    },
  });
});
afterAll(() => stack.stop(), 30_000);

function rawGet(base: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, path, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const HOSTILE = ['<script>alert(1)</script>', '"><img src=x onerror=alert(1)>', "' OR 1=1 --", '../../etc/passwd', '\u0000', '\u202e', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢', '${jndi:ldap://x}', '{{7*7}}', '%00', 'x'.repeat(5000), ' ', ''];
const products = [...catalogue.keys()];
const printable = (max: number) => fc.string({ unit: fc.constantFrom(...Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i))), maxLength: max });

const validOrder = fc.record(
  {
    customer_id: fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/),
    product_id: fc.constantFrom(...products),
    quantity: fc.oneof(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: 1000 }).map(String)),
    order_date: fc.date({ min: new Date('2000-01-01'), max: new Date('2099-12-31'), noInvalidDate: true }).map((date) => date.toISOString().slice(0, 10)),
  },
  { requiredKeys: ['customer_id', 'product_id', 'quantity'] },
);

/** A valid order with one thing changed: a field dropped, replaced by anything, hostile, or one too many. */
const mutatedOrder = fc.tuple(validOrder, fc.constantFrom('customer_id', 'product_id', 'quantity', 'order_date', 'extra'), fc.oneof(fc.anything(), fc.constantFrom(...HOSTILE), fc.integer(), fc.double(), fc.constant(undefined))).map(
  ([order, field, value]) => ({ ...order, [field]: value }),
);

const body = fc.oneof(
  { weight: 3, arbitrary: validOrder.map((order) => JSON.stringify(order)) },
  { weight: 5, arbitrary: mutatedOrder.map((order) => JSON.stringify(order)) },
  { weight: 1, arbitrary: fc.json() },
  { weight: 1, arbitrary: fc.string({ maxLength: 300 }) },
  { weight: 1, arbitrary: fc.constantFrom(...HOSTILE) },
  { weight: 1, arbitrary: validOrder.map((order) => JSON.stringify({ ...order, pad: 'x'.repeat(MAX_BODY_BYTES) })) },
);
// Mostly well-formed envelopes, so enough of the bodies are judged on their content.
const contentType = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON') },
  { weight: 2, arbitrary: fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'application/jsonx', undefined) },
);
const idempotencyKey = fc.oneof(
  { weight: 3, arbitrary: fc.constant(undefined) },
  { weight: 3, arbitrary: fc.uuid() },
  { weight: 1, arbitrary: printable(140) },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', 'a b', 'x'.repeat(129)) },
);

/** What the contract says of a request, computed from the domain's own rules. */
function isValidApiRequest(text: string, type: string | undefined, key: string | undefined): boolean {
  if (type?.split(';')[0]?.trim().toLowerCase() !== 'application/json') return false;
  if (Buffer.byteLength(text) > MAX_BODY_BYTES || text.trim() === '') return false;
  try {
    acceptOrder(parseJson(text), { idempotencyKey: key, now: new Date() });
    return true;
  } catch {
    return false;
  }
}

describe('hostile input', () => {
  it('when 1,000 random and mutated requests hit the API, then never a 5xx, a 202 only for a valid order, and every 4xx names the problem', async () => {
    const accepted = new Set<string>();
    let valid = 0;
    await fc.assert(
      fc.asyncProperty(body, contentType, idempotencyKey, async (text, type, key) => {
        const headers: Record<string, string> = {};
        if (type !== undefined) headers['content-type'] = type;
        if (key !== undefined && key !== '') headers['idempotency-key'] = key;
        const response = await apiRequest(stack, '/orders', { method: 'POST', headers, body: text });
        const answer = (await response.json()) as { order_id?: string; message?: string; issues?: { field: string; message: string }[] };
        // HTTP drops the spaces around a header's value; a header left out is no key at all.
        const expectValid = isValidApiRequest(text, type, key === undefined || key === '' ? undefined : key.trim());
        if (expectValid) valid++;
        expect(response.status).toBeLessThan(500);
        expect(response.status === 202).toBe(expectValid);
        if (response.status === 202) accepted.add(answer.order_id!);
        else {
          expect(answer.message).toEqual(expect.stringMatching(/\w/));
          if (answer.issues) expect(answer.issues.every((issue) => issue.field && issue.message)).toBe(true);
        }
      }),
      { numRuns: 1000, seed: Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31) },
    );
    expect(valid).toBeGreaterThan(100);
    // A marker after the fuzz: once it is delivered, anything queued before it would have been too.
    const response = await apiRequest(stack, '/orders', { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID() }, body: JSON.stringify(SEED_ORDER) });
    const { order_id: markerId } = (await response.json()) as { order_id: string };
    await waitFor(() => delivered.has(markerId), { timeoutMs: 30_000, what: 'the marker order' });
    delivered.delete(markerId);
    expect([...delivered].filter((id) => !accepted.has(id))).toEqual([]);
    expect([...accepted].filter((id) => !delivered.has(id))).toEqual([]);
  }, 180_000);

  it('when 1,000 random and mutated forms are posted to every form of the shop (sign-up, confirm, send the code again, sign-in, forgotten and reset password, cart lines, checkout), then never a 5xx, hostile values refused with a 4xx or shown escaped, and a cart line changed only when it is valid', async () => {
    // The cart forms as one signed-in customer (a pool-signed session, a cart of three lines written to
    // the table); the account forms as a new visitor each time, with the token of the form's own page.
    const customerId = `hostile-${randomUUID().slice(0, 8)}`;
    await writeCarts(createCartStore({ documents: stack.clients.documents, tableName: stack.resources.cartsTableName }), [customerId]);
    const [customer] = (await prepareCustomers(stack.urls.web, stack.userPool, [customerId])) as [PreparedCustomer];
    const inCart = new Set<string>(THREE_LINES.map(([product]) => product));
    const account = await newCustomer(stack);

    const formValue = fc.oneof(fc.string({ maxLength: 80 }), fc.constantFrom(...HOSTILE), fc.integer().map(String));
    const forms: Record<string, fc.Arbitrary<Record<string, string>>> = {
      '/sign-up': fc.record({ email: fc.uuid().map((id) => `h-${id}@example.com`), name: fc.constant('Hostile Tester'), password: fc.constant(PASSWORD) }),
      '/confirm': fc.record({ email: fc.constant(account.email), code: fc.integer({ min: 0, max: 999_999 }).map((n) => String(n).padStart(6, '0')), password: fc.constantFrom(account.password, 'wrong-Password-1') }),
      '/sign-in': fc.record({ email: fc.constant(account.email), password: fc.constantFrom(account.password, 'wrong-Password-1'), next: fc.constantFrom('/', '/cart', '/my-orders') }),
      '/forgot-password': fc.record({ email: fc.constant(account.email) }),
      '/confirm/resend': fc.record({ email: fc.constant(account.email) }),
      '/reset-password': fc.record({ email: fc.constant(account.email), code: fc.constant('123456'), password: fc.constant(PASSWORD) }),
      '/cart/lines': fc.record({ product_id: fc.constantFrom(...products), quantity: fc.integer({ min: 1, max: 1000 }).map(String), back: fc.constantFrom('menu', 'cart') }),
      '/cart/lines/remove': fc.record({ product_id: fc.constantFrom(...products) }),
      '/checkout': fc.record({ cart_version: fc.integer({ min: 0, max: 50 }).map(String) }),
    };
    const paths = Object.keys(forms);
    const namesOf = (path: string) => ({ '/sign-up': ['email', 'name', 'password'], '/confirm': ['email', 'code', 'password'], '/sign-in': ['email', 'password', 'next'], '/forgot-password': ['email'], '/confirm/resend': ['email'], '/reset-password': ['email', 'code', 'password'], '/cart/lines': ['product_id', 'quantity', 'back'], '/cart/lines/remove': ['product_id'], '/checkout': ['cart_version'] })[path]!;
    const posted = fc.constantFrom(...paths).chain((path) =>
      fc.tuple(
        fc.constant(path),
        fc.oneof(
          // The form as its page would send it.
          forms[path]!.map((values) => Object.entries(values)),
          // One field replaced by anything, hostile, or one added (the CSRF token's own field among them).
          fc.tuple(forms[path]!, fc.constantFrom(...namesOf(path), '_csrf', 'next', 'coupon', 'customer_id'), formValue).map(([values, name, value]) =>
            [...Object.entries(values).filter(([key]) => key !== name), [name, value] as [string, string]],
          ),
          // A field sent twice, or left out.
          fc.tuple(forms[path]!, fc.constantFrom(...namesOf(path)), fc.boolean(), formValue).map(([values, name, twice, value]) =>
            twice ? [...Object.entries(values), [name, value] as [string, string]] : Object.entries(values).filter(([key]) => key !== name),
          ),
          // Anything at all.
          fc.array(fc.tuple(fc.oneof(fc.constantFrom(...namesOf(path)), fc.string({ maxLength: 10 })), formValue), { maxLength: 8 }),
        ),
      ),
    );
    const counts = new Map<string, Map<number, number>>();
    await fc.assert(
      fc.asyncProperty(posted, async ([path, fields]) => {
        const cartForm = path.startsWith('/cart') || path === '/checkout';
        let cookie = customer.cookie;
        let csrf = customer.csrf;
        if (!cartForm) {
          // A new visitor: its pre-session and CSRF cookies and the token of the form's page.
          const page = await fetch(`${stack.urls.web}${path}`, { headers: { accept: 'text/html' } });
          const html = await page.text();
          cookie = page.headers.getSetCookie().map((line) => line.split(';')[0]).join('; ');
          csrf = /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
        }
        const withToken: [string, string][] = fields.some(([name]) => name === '_csrf') ? fields : [['_csrf', csrf], ...fields];
        const encoded = new URLSearchParams(withToken).toString();
        const response = await fetch(`${stack.urls.web}${path}`, {
          method: 'POST',
          redirect: 'manual',
          headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html', cookie },
          body: encoded,
        });
        const text = await response.text();
        const byStatus = counts.get(path) ?? new Map<number, number>();
        byStatus.set(response.status, (byStatus.get(response.status) ?? 0) + 1);
        counts.set(path, byStatus);
        expect(response.status).toBeLessThan(500);
        // Shown back (the form's values, its problems) only escaped: as text, never as markup.
        expect(text).not.toMatch(/<script>alert|<img src=x/);
        if (response.status === 303) {
          // Never off the site (an open redirect), never a hostile value in the address.
          const location = response.headers.get('location') ?? '';
          expect(location).toMatch(/^\/(?![/\\])/);
          expect(location).not.toMatch(/[<>"'\s]/);
        } else if (response.status === 400) {
          expect(text).toMatch(/There (is a problem|are \d+ problems)|That form is too large|Something is wrong with that request/);
        } else {
          expect([200, 401, 403, 404, 409, 413, 429]).toContain(response.status);
        }
        const value = (name: string) => {
          const values = withToken.filter(([key]) => key === name).map(([, v]) => v);
          // Express (extended: false) makes a field sent twice an array, which no form field accepts.
          return values.length === 1 ? values[0]! : '';
        };
        // A body over the limit is refused before anything reads it, token or not: nothing changed.
        if (Buffer.byteLength(encoded) > MAX_BODY_BYTES) {
          expect(response.status).toBe(413);
          return;
        }
        const tokenIntact = value('_csrf') === csrf && csrf !== '';
        if (!tokenIntact) expect(response.status).toBe(403);
        if (path === '/cart/lines' && tokenIntact) {
          // The domain's own rule for a line, and the cart's twenty-line limit, from the model of this cart.
          const product = value('product_id');
          const quantity = value('quantity');
          const amount = /^\s*\d{1,9}\s*$/.test(quantity) ? Number(quantity) : NaN;
          const valid = catalogue.has(product) && Number.isInteger(amount) && amount >= 1 && amount <= 1000 && (inCart.has(product) || inCart.size < MAX_LINES);
          expect(response.status).toBe(valid ? 303 : 400);
          if (valid) inCart.add(product);
        }
        if (path === '/cart/lines/remove' && response.status === 303) inCart.delete(value('product_id'));
        if (path === '/checkout' && tokenIntact) {
          if (!/^\d{1,9}$/.test(value('cart_version'))) expect(response.status).toBe(400);
          else expect([303, 400, 409]).toContain(response.status);
          if (response.status === 303) inCart.clear();
        }
      }),
      { numRuns: 1000, seed: Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31) },
    );
    console.log(`Forms posted, by status\n${[...counts].map(([path, byStatus]) => `  ${path.padEnd(20)} ${[...byStatus].sort(([a], [b]) => a - b).map(([status, n]) => `${status}: ${n}`).join(', ')}`).join('\n')}`);
    // Enough of every form got past its checks to be judged on its content.
    for (const path of paths) expect(counts.get(path)?.size ?? 0).toBeGreaterThan(1);
  }, 180_000);

  it('when a stored order holds markup, then every page renders it escaped', async () => {
    const orderId = randomUUID();
    const hostileStatus = '<b>PROCESSED</b>' as OrderStatus;
    await stack.store.putOnce({
      order_id: orderId,
      customer_id: '<script>alert("c")</script>',
      lines: [{ product_id: 'Banana', product_name: '<img src=x onerror=alert(1)>', quantity: 1, unit_price_cents: 35, line_total_cents: 35 }],
      total_cents: 35,
      currency: 'USD',
      order_date: '2025-04-25',
      received_at: new Date().toISOString(),
      status: hostileStatus,
      status_history: [{ status: hostileStatus, at: new Date().toISOString() }],
      version: 1,
    });
    for (const url of [`${stack.urls.web}/orders/${orderId}`, stack.urls.console!]) {
      const html = await (await fetch(url)).text();
      expect(html).not.toContain('<script>alert("c")</script>');
      expect(html).not.toContain('<img src=x');
      expect(html).not.toContain('<b>PROCESSED</b>');
      expect(html).toContain('&lt;script&gt;alert(&#34;c&#34;)&lt;/script&gt;');
    }
  });

  it.each(['..%2F..%2Fetc%2Fpasswd', '%2e%2e', '%00', '%ff', '%', '%E0%A4%A', 'a'.repeat(300), '..;', '%252e%252e', encodeURIComponent('<svg onload=alert(1)>')])(
    'when /orders/%s is asked for, then 400 or 404 from the web tier and the API',
    async (id) => {
      // Sent as written: fetch would normalise "%2e%2e" away before the server saw it.
      const web = await rawGet(stack.urls.web, `/orders/${id}`);
      const api = await rawGet(stack.urls.api, `/orders/${id}`, { 'x-api-key': stack.apiKey });
      expect([400, 404]).toContain(web.status);
      expect([400, 404]).toContain(api.status);
      expect(web.body).not.toContain('<svg onload');
    },
  );

  it('when headers or bodies are oversize, then they are refused before any work', async () => {
    const huge = { 'x-filler': 'x'.repeat(20 * 1024) };
    expect((await fetch(stack.urls.web, { headers: huge })).status).toBe(431);
    expect((await apiRequest(stack, '/orders', { method: 'POST', headers: { ...huge, 'content-type': 'application/json' }, body: '{}' })).status).toBe(431);
    const megabyte = 'x'.repeat(1024 * 1024);
    expect((await apiRequest(stack, '/orders', { method: 'POST', headers: { 'content-type': 'application/json' }, body: megabyte })).status).toBe(413);
    expect((await fetch(`${stack.urls.web}/sign-up`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `email=${megabyte}` })).status).toBe(413);
  });
});
