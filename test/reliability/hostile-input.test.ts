import type { SQSEvent } from 'aws-lambda';
import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { catalogue } from '../../domain/catalogue.js';
import type { OrderStatus } from '../../domain/lifecycle.js';
import { acceptOrder, MAX_BODY_BYTES, parseJson, parseOrderRequest } from '../../domain/order.js';
import type { LocalStack } from '../../local/stack.js';
import { apiRequest, SEED_ORDER, startTestStack } from '../helpers/local-stack.js';
import { waitFor } from '../helpers/wait.js';

let stack: LocalStack;
const delivered = new Set<string>();

beforeAll(async () => {
  stack = await startTestStack({
    ports: { console: 0 },
    throttle: { rateLimit: 100_000, burstLimit: 100_000 },
    webEnv: { RATE_LIMIT_MAX: '1000000', ORDER_RATE_LIMIT_MAX: '1000000' },
    wrap: {
      'process-order': (handler) => async (event: SQSEvent, context) => {
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

  it('when 1,000 random and mutated forms are posted, then never a 5xx, a redirect only for a valid order, and every 400 shows the problem', async () => {
    const formValue = fc.oneof(fc.string({ maxLength: 80 }), fc.constantFrom(...HOSTILE), fc.integer().map(String));
    const formFields = fc.oneof(
      validOrder.map((order) => Object.entries(order).map(([name, value]) => [name, String(value)] as [string, string])),
      fc.tuple(validOrder, fc.constantFrom('customer_id', 'product_id', 'quantity', 'order_date', 'idempotency_key', 'action', 'coupon'), formValue).map(([order, name, value]) =>
        [...Object.entries(order).filter(([field]) => field !== name).map(([field, v]) => [field, String(v)] as [string, string]), [name, value] as [string, string]],
      ),
      fc.array(fc.tuple(fc.oneof(fc.constantFrom('customer_id', 'product_id', 'quantity', 'order_date'), fc.string({ maxLength: 10 })), formValue), { maxLength: 8 }),
    );
    await fc.assert(
      fc.asyncProperty(formFields, async (fields) => {
        const encoded = new URLSearchParams(fields).toString();
        const response = await fetch(`${stack.urls.web}/orders`, {
          method: 'POST',
          redirect: 'manual',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: encoded,
        });
        const text = await response.text();
        expect(response.status).toBeLessThan(500);
        const input: Record<string, string | string[]> = {};
        for (const [name, value] of fields) {
          if (name === 'idempotency_key' || name === 'action' || value === '') continue;
          const previous = input[name];
          input[name] = previous === undefined ? value : ([] as string[]).concat(previous, value);
        }
        let expectValid = Buffer.byteLength(encoded) <= MAX_BODY_BYTES && fields.length <= 20;
        try {
          parseOrderRequest(input);
        } catch {
          expectValid = false;
        }
        const preview = fields.some(([name, value]) => name === 'action' && value === 'preview');
        if (expectValid) expect(response.status).toBe(preview && fields.filter(([name]) => name === 'action').length === 1 ? 200 : 303);
        else {
          expect([400, 413]).toContain(response.status);
          expect(text).toMatch(/There (is a problem|are \d+ problems) with your order|That form is too large|Something is wrong with that request/);
        }
        expect(text).not.toMatch(/<script>alert|<img src=x/);
      }),
      { numRuns: 1000, seed: Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31) },
    );
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
    expect((await fetch(`${stack.urls.web}/orders`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `customer_id=${megabyte}` })).status).toBe(413);
  });
});
