import { createCatalogue, catalogue } from '../../domain/catalogue.js';
import { InvalidJsonError, ValidationError } from '../../domain/errors.js';
import {
  acceptOrder,
  isCalendarDate,
  orderIdFor,
  parseOrderRequest,
  parseQueuedOrder,
  parseOrderLines,
  priceLines,
  MAX_LINES,
  storedOrder,
} from '../../domain/order.js';

const seed = { customer_id: '001', product_id: 'Banana', quantity: '1', order_date: '2025-04-25' };
const now = new Date('2026-03-04T05:06:07.000Z');
const timings = { RECEIVED: 60, PREPARING: 60, READY: 60 };

function issuesOf(action: () => unknown) {
  try {
    action();
  } catch (error) {
    if (error instanceof ValidationError) return error.issues;
    throw error;
  }
  throw new Error('expected a ValidationError');
}

describe('the order contract', () => {
  it('when the seed payload is given, then it is valid and normalised', () => {
    expect(parseOrderRequest(seed)).toEqual({ customer_id: '001', lines: [{ product_id: 'Banana', quantity: 1 }], order_date: '2025-04-25' });
  });

  it('when quantity is a number or a numeric string, then both are accepted', () => {
    expect(parseOrderRequest({ ...seed, quantity: 1000 }).lines[0]!.quantity).toBe(1000);
    expect(parseOrderRequest({ ...seed, quantity: ' 12 ' }).lines[0]!.quantity).toBe(12);
  });

  it.each([0, -1, 1001, 1.5, '1.5', '1e3', '', 'ten', null, true, [], {}])('when quantity is %p, then quantity is named', (quantity) => {
    expect(issuesOf(() => parseOrderRequest({ ...seed, quantity }))).toEqual([{ field: 'quantity', message: expect.stringMatching(/whole number/) as unknown }]);
  });

  it('when order_date is left out, then it defaults to today in UTC', () => {
    const { order_date: _omitted, ...withoutDate } = seed;
    expect(acceptOrder(withoutDate, { now }).order_date).toBe('2026-03-04');
  });

  it.each(['2025-02-29', '2025-13-01', '2025-04-31', '2025-00-10', '2025-4-5', '25-04-25', '2025-04-25T00:00:00Z', 'yesterday'])(
    'when order_date is %p, then order_date is named',
    (order_date) => {
      expect(issuesOf(() => parseOrderRequest({ ...seed, order_date })).map((issue) => issue.field)).toEqual(['order_date']);
    },
  );

  it('when a date is on a leap day, then it is a calendar date only in leap years', () => {
    expect(isCalendarDate('2024-02-29')).toBe(true);
    expect(isCalendarDate('2000-02-29')).toBe(true);
    expect(isCalendarDate('1900-02-29')).toBe(false);
    expect(isCalendarDate('2025-12-31')).toBe(true);
  });

  it('when several fields are bad and unknown ones are present, then every one is named', () => {
    const issues = issuesOf(() => parseOrderRequest({ customer_id: 'a b', product_id: 'Caviar', quantity: 0, order_date: '2025-02-30', coupon: 'x', admin: true }));
    expect(issues.map((issue) => issue.field).sort()).toEqual(['admin', 'coupon', 'customer_id', 'order_date', 'product_id', 'quantity']);
    expect(issues.find((issue) => issue.field === 'coupon')?.message).toBe('Unknown field');
  });

  it('when fields are missing, then each says it is required', () => {
    expect(issuesOf(() => parseOrderRequest({}))).toEqual([
      { field: 'customer_id', message: 'Required' },
      { field: 'product_id', message: 'Required' },
      { field: 'quantity', message: 'Required' },
    ]);
  });

  it.each([null, [], 'order', 42])('when the body is %p rather than an object, then the body is named', (body) => {
    expect(issuesOf(() => parseOrderRequest(body))).toEqual([{ field: 'body', message: 'Must be a JSON object' }]);
  });

  it('when customer_id has markup or is too long, then it is refused', () => {
    expect(issuesOf(() => parseOrderRequest({ ...seed, customer_id: '<script>alert(1)</script>' }))[0]?.field).toBe('customer_id');
    expect(issuesOf(() => parseOrderRequest({ ...seed, customer_id: 'x'.repeat(65) }))[0]?.field).toBe('customer_id');
    expect(parseOrderRequest({ ...seed, customer_id: 'A_b-9'.padEnd(64, 'z') }).customer_id).toHaveLength(64);
  });
});

describe('order ids', () => {
  it('when the same customer sends the same idempotency key, then the order id is the same', () => {
    expect(orderIdFor('001', 'key-1')).toBe(orderIdFor('001', 'key-1'));
    expect(acceptOrder(seed, { now, idempotencyKey: 'key-1' }).order_id).toBe(orderIdFor('001', 'key-1'));
  });

  it('when keys or customers differ, or no key is given, then ids differ', () => {
    expect(orderIdFor('001', 'key-1')).not.toBe(orderIdFor('001', 'key-2'));
    expect(orderIdFor('001', 'key-1')).not.toBe(orderIdFor('002', 'key-1'));
    expect(orderIdFor('001')).not.toBe(orderIdFor('001'));
  });

  it('when the idempotency key is malformed, then it is named with the other bad fields', () => {
    const issues = issuesOf(() => acceptOrder({ ...seed, quantity: 0 }, { now, idempotencyKey: 'bad key with spaces' }));
    expect(issues.map((issue) => issue.field)).toEqual(['quantity', 'Idempotency-Key']);
  });
});

describe('pricing and processing', () => {
  it('when an order is priced, then each line is unit price x quantity and the total their sum, in cents', () => {
    const margherita = catalogue.get('Margherita')!;
    expect(priceLines([{ product_id: 'Margherita', quantity: 3 }, { product_id: 'Banana', quantity: 2 }])).toEqual({
      lines: [
        { product_id: 'Margherita', quantity: 3, product_name: 'Pizza Margherita', unit_price_cents: margherita.unit_price_cents, line_total_cents: margherita.unit_price_cents * 3 },
        { product_id: 'Banana', quantity: 2, product_name: 'Banana', unit_price_cents: 35, line_total_cents: 70 },
      ],
      total_cents: margherita.unit_price_cents * 3 + 70,
      currency: 'USD',
    });
    expect(priceLines([{ product_id: 'Banana', quantity: 1000 }]).total_cents).toBe(35_000);
  });

  it('when a queued order is stored, then it is RECEIVED with its price, history, version and due time', () => {
    const queued = acceptOrder(seed, { now });
    const stored = storedOrder(queued, new Date('2026-03-04T05:06:08.000Z'), { RECEIVED: 60, PREPARING: 600, READY: 300 });
    expect(stored).toEqual({
      ...queued,
      lines: [{ product_id: 'Banana', quantity: 1, product_name: 'Banana', unit_price_cents: 35, line_total_cents: 35 }],
      total_cents: 35,
      currency: 'USD',
      status: 'RECEIVED',
      status_history: [{ status: 'RECEIVED', at: '2026-03-04T05:06:08.000Z' }],
      version: 1,
      due_at: '2026-03-04T05:07:08.000Z',
    });
  });

  it('when a queued message is not JSON or breaks the contract, then it is refused', () => {
    expect(() => parseQueuedOrder('not json')).toThrow(InvalidJsonError);
    const queued = acceptOrder(seed, { now });
    expect(parseQueuedOrder(JSON.stringify(queued))).toEqual(queued);
    expect(issuesOf(() => parseQueuedOrder(JSON.stringify({ ...queued, order_id: 'x' })))[0]?.field).toBe('order_id');
    expect(issuesOf(() => parseQueuedOrder(JSON.stringify({ ...queued, received_at: undefined })))[0]?.field).toBe('received_at');
  });

  it("when a message checkout queued before account_id existed is read (an email, no account_id), then it is its customer's account's; an integration's stays without one, and no message can name another account", () => {
    const queued = acceptOrder({ ...seed, customer_id: 'sub-1' }, { now });
    expect(parseQueuedOrder(JSON.stringify({ ...queued, customer_email: 'ada@example.com' })).account_id).toBe('sub-1');
    expect(parseQueuedOrder(JSON.stringify(queued)).account_id).toBeUndefined();
    expect(parseQueuedOrder(JSON.stringify({ ...queued, account_id: 'sub-1', customer_email: 'ada@example.com' })).account_id).toBe('sub-1');
    expect(issuesOf(() => parseQueuedOrder(JSON.stringify({ ...queued, account_id: 'not valid!' })))[0]?.field).toBe('account_id');
  });

  it('when an order is accepted, then each line carries the name and price it was accepted at, and it is stored at them whatever the menu says by then', () => {
    const dearer = createCatalogue([...catalogue.values()].map((product) => (product.id === 'Margherita' ? { ...product, name: 'Margherita DOP', unit_price_cents: 9999 } : product)));
    const queued = acceptOrder({ ...seed, product_id: 'Margherita', quantity: 2 }, { now, catalogue: dearer });
    expect(queued.lines).toEqual([{ product_id: 'Margherita', quantity: 2, product_name: 'Margherita DOP', unit_price_cents: 9999 }]);
    const withoutPizza = createCatalogue([...catalogue.values()].filter((product) => product.id !== 'Margherita'));
    const stored = storedOrder(parseQueuedOrder(JSON.stringify(queued), withoutPizza), now, timings, withoutPizza);
    expect(stored).toMatchObject({ lines: [{ product_name: 'Margherita DOP', unit_price_cents: 9999, line_total_cents: 19998 }], total_cents: 19998 });
  });

  it('when a line was queued without its price (before lines carried one), then it is priced from the catalogue, and refused while the catalogue does not have its product', () => {
    const { lines, ...rest } = acceptOrder({ ...seed, product_id: 'Margherita' }, { now });
    const queued = JSON.stringify({ ...rest, lines: lines.map(({ product_id, quantity }) => ({ product_id, quantity })) });
    const withoutPizza = createCatalogue([...catalogue.values()].filter((product) => product.id !== 'Margherita'));
    expect(issuesOf(() => parseQueuedOrder(queued, withoutPizza))[0]?.field).toBe('lines.0.product_id');
    expect(storedOrder(parseQueuedOrder(queued, catalogue), now, timings).lines[0]).toMatchObject({ product_id: 'Margherita', unit_price_cents: catalogue.get('Margherita')!.unit_price_cents });
    // Half a price is not a price.
    const half = JSON.stringify({ ...rest, lines: [{ product_id: 'Margherita', quantity: 1, unit_price_cents: 1 }] });
    expect(issuesOf(() => parseQueuedOrder(half))[0]).toEqual({ field: 'lines.0', message: 'Must have both product_name and unit_price_cents, or neither' });
  });

  it('when a product is on the menu but not available, then an order for it is refused naming it; another product of the same order is not blamed', () => {
    const off = createCatalogue([...catalogue.values()].map((product) => (product.id === 'Calzone' ? { ...product, available: false } : product)));
    const issues = issuesOf(() => acceptOrder({ customer_id: '001', lines: [{ product_id: 'Banana', quantity: 1 }, { product_id: 'Calzone', quantity: 1 }] }, { now, catalogue: off }));
    expect(issues).toEqual([{ field: 'lines.1.product_id', message: 'Calzone is not available at the moment' }]);
    expect(issuesOf(() => parseOrderRequest({ ...seed, product_id: 'Nope' }, off))[0]?.message).not.toContain('Calzone');
  });

  it('when a message queued before orders had lines is processed, then its product is its one line', () => {
    const { lines: _lines, ...rest } = acceptOrder(seed, { now });
    expect(parseQueuedOrder(JSON.stringify({ ...rest, product_id: 'Funghi', quantity: 2 })).lines).toEqual([{ product_id: 'Funghi', quantity: 2 }]);
  });
});

describe('orders of several lines (contract v2)', () => {
  const products = [...catalogue.keys()];
  const lines = (count: number) => products.slice(0, count).map((product_id, i) => ({ product_id, quantity: i + 1 }));
  const v2 = (fields: Record<string, unknown>) => ({ customer_id: '001', order_date: '2025-04-25', ...fields });

  it('when 20 lines of different products are given, then all are kept, in order, and priced', () => {
    expect(products.length).toBeGreaterThanOrEqual(MAX_LINES);
    const request = parseOrderRequest(v2({ lines: lines(MAX_LINES) }));
    expect(request.lines).toEqual(lines(MAX_LINES));
    const priced = priceLines(request.lines);
    expect(priced.lines.every((line) => line.line_total_cents === catalogue.get(line.product_id)!.unit_price_cents * line.quantity)).toBe(true);
  });

  it.each([
    ['21 lines', { lines: lines(MAX_LINES + 1) }, ['lines']],
    ['no lines', { lines: [] }, ['lines']],
    ['lines that are not a list', { lines: 'Banana' }, ['lines']],
    ['a zero quantity in line 2', { lines: [{ product_id: 'Banana', quantity: 1 }, { product_id: 'Cola', quantity: 1 }, { product_id: 'Funghi', quantity: 0 }] }, ['lines.2.quantity']],
    ['an unknown product in line 1', { lines: [{ product_id: 'Banana', quantity: 1 }, { product_id: 'Caviar', quantity: 1 }] }, ['lines.1.product_id']],
    ['a duplicate of line 0 in line 3', { lines: [...lines(3), { product_id: products[0], quantity: 5 }] }, ['lines.3.product_id']],
    ['an unknown field in a line', { lines: [{ product_id: 'Banana', quantity: 1, discount: 10 }] }, ['lines.0.discount']],
    ['a line that is not an object', { lines: ['Banana'] }, ['lines.0']],
    ['product_id beside lines', { lines: lines(1), product_id: 'Banana' }, ['product_id']],
  ])('when an order has %s, then the line (or lines) is named and nothing else', (_case, fields, named) => {
    expect(issuesOf(() => parseOrderRequest(v2(fields))).map((issue) => issue.field)).toEqual(named);
  });

  it('when a duplicate line is named, then its message says which line it repeats', () => {
    expect(issuesOf(() => parseOrderRequest(v2({ lines: [{ product_id: 'Cola', quantity: 1 }, { product_id: 'Cola', quantity: 2 }] })))).toEqual([
      { field: 'lines.1.product_id', message: expect.stringContaining('lines.0') as unknown },
    ]);
    expect(() => parseOrderLines([{ product_id: 'Cola', quantity: 1 }, { product_id: 'Cola', quantity: 1 }])).toThrow(ValidationError);
  });
});
