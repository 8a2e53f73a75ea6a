import { v4 as randomUuid, v5 as nameBasedUuid, validate as isUuid } from 'uuid';
// zod/mini: the same validation as zod, in a form the Lambda bundles can tree-shake (zod's full build is 440 KB).
import * as z from 'zod/mini';
import { catalogue as shopCatalogue, CURRENCY, type Catalogue } from './catalogue.js';
import { InvalidJsonError, ValidationError, type FieldIssue } from './errors.js';
import { received, type Lifecycle, type LifecycleTimings } from './lifecycle.js';

export const MAX_QUANTITY = 1000;
/** The largest order body the API and the web tier accept. */
export const MAX_BODY_BYTES = 8 * 1024;
export const IDEMPOTENCY_KEY_FIELD = 'Idempotency-Key';

// Fixed namespace for name-based order ids: changing it would change every derived id.
const ORDER_ID_NAMESPACE = '6f1d8c2e-4b7a-5e3f-9a21-0c5d7e8f9b10';
const IDEMPOTENCY_KEY_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;
const CUSTOMER_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

/** What a customer asks for: the contract's fields, normalised. */
export interface OrderRequest {
  customer_id: string;
  product_id: string;
  quantity: number;
  order_date?: string;
}

/** An accepted order as it travels on the queue. */
export interface QueuedOrder {
  order_id: string;
  customer_id: string;
  product_id: string;
  quantity: number;
  order_date: string;
  received_at: string;
}

/** An order as the table stores it: priced, with its lifecycle (status, history, version). */
export interface StoredOrder extends QueuedOrder, Lifecycle {
  product_name: string;
  unit_price_cents: number;
  total_cents: number;
  currency: string;
}

function required(what: string) {
  return (issue: { input: unknown }) => (issue.input === undefined ? 'Required' : what);
}

/** True when `value` is a real calendar date written YYYY-MM-DD. */
export function isCalendarDate(value: string): boolean {
  const match = DATE_PATTERN.exec(value);
  if (!match) return false;
  const [year, month, day] = match.slice(1).map(Number) as [number, number, number];
  if (year < 1 || month < 1 || month > 12 || day < 1) return false;
  const daysInMonth = new Date(Date.UTC(2000, month, 0)).getUTCDate();
  const isLeap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return day <= (month === 2 && !isLeap ? 28 : daysInMonth);
}

function buildSchemas(catalogue: Catalogue) {
  const productIds = [...catalogue.keys()];
  const quantityMessage = `Must be a whole number from 1 to ${MAX_QUANTITY}`;
  const dateMessage = 'Must be a real date written YYYY-MM-DD';

  const fields = {
    customer_id: z
      .string({ error: required('Must be text') })
      .check(z.regex(CUSTOMER_ID_PATTERN, { error: 'Must be 1 to 64 letters, digits, "-" or "_"' })),
    product_id: z
      .string({ error: required('Must be text') })
      .check(z.refine((id) => catalogue.has(id), { error: `Must be one of: ${productIds.join(', ')}` })),
    quantity: z.pipe(
      z.union([z.number(), z.pipe(z.string().check(z.regex(/^\s*\d{1,9}\s*$/)), z.transform(Number))], { error: required(quantityMessage) }),
      z.int({ error: quantityMessage }).check(z.minimum(1, { error: quantityMessage }), z.maximum(MAX_QUANTITY, { error: quantityMessage })),
    ),
    order_date: z.string({ error: required(dateMessage) }).check(z.refine(isCalendarDate, { error: dateMessage })),
  };

  const request = z.strictObject({ ...fields, order_date: z.optional(fields.order_date) }, { error: 'Must be a JSON object' });
  const queued = z.strictObject(
    {
      ...fields,
      order_id: z.string({ error: required('Must be text') }).check(z.refine(isOrderId, { error: 'Must be a UUID' })),
      received_at: z.iso.datetime({ error: required('Must be an ISO 8601 time') }),
    },
    { error: 'Must be a JSON object' },
  );
  return { request, queued };
}

// Schemas are built once per catalogue: building them on every request would cost more than parsing.
const schemaCache = new WeakMap<Catalogue, ReturnType<typeof buildSchemas>>();
function schemasFor(catalogue: Catalogue) {
  let schemas = schemaCache.get(catalogue);
  if (!schemas) {
    schemas = buildSchemas(catalogue);
    schemaCache.set(catalogue, schemas);
  }
  return schemas;
}

function toFieldIssues(error: z.core.$ZodError): FieldIssue[] {
  return error.issues.flatMap((issue): FieldIssue[] => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ field: key === '' ? '(empty name)' : key, message: 'Unknown field' }));
    }
    const field = issue.path.length > 0 ? issue.path.map(String).join('.') : 'body';
    return [{ field, message: issue.message }];
  });
}

function parseWith<T>(schema: z.ZodMiniType<T>, input: unknown, extraIssues: FieldIssue[] = []): T {
  const result = z.safeParse(schema, input);
  const issues = [...(result.success ? [] : toFieldIssues(result.error)), ...extraIssues];
  if (issues.length > 0 || !result.success) throw new ValidationError(issues);
  return result.data;
}

/** Parses JSON text, throwing InvalidJsonError rather than SyntaxError. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new InvalidJsonError();
  }
}

/** Validates a customer's order against the contract; throws ValidationError naming every bad field. */
export function parseOrderRequest(input: unknown, catalogue: Catalogue = shopCatalogue): OrderRequest {
  return parseWith(schemasFor(catalogue).request, input);
}

/** True when `key` is an acceptable Idempotency-Key. */
export function isIdempotencyKey(key: string): boolean {
  return IDEMPOTENCY_KEY_PATTERN.test(key);
}

/** True when `id` has the shape of an order id. */
export function isOrderId(id: string): boolean {
  return isUuid(id);
}

/** Today's date in UTC, YYYY-MM-DD. */
export function utcDate(now: Date): string {
  return now.toISOString().slice(0, 10);
}

/** The order id for a request: derived from the customer's idempotency key when given, random otherwise. */
export function orderIdFor(customerId: string, idempotencyKey?: string): string {
  // Scoped to the customer so one customer's key can never address another's order.
  return idempotencyKey === undefined ? randomUuid() : nameBasedUuid(`${customerId}\n${idempotencyKey}`, ORDER_ID_NAMESPACE);
}

export interface AcceptOrderOptions {
  idempotencyKey?: string | undefined;
  now: Date;
  catalogue?: Catalogue;
}

/** Turns a customer's order into the order that is queued: validated, with its id, date and receipt time. */
export function acceptOrder(input: unknown, { idempotencyKey, now, catalogue = shopCatalogue }: AcceptOrderOptions): QueuedOrder {
  const keyIssues: FieldIssue[] =
    idempotencyKey === undefined || isIdempotencyKey(idempotencyKey)
      ? []
      : [{ field: IDEMPOTENCY_KEY_FIELD, message: 'Must be 1 to 128 letters, digits, ".", ":", "-" or "_"' }];
  const request = parseWith(schemasFor(catalogue).request, input, keyIssues);
  return {
    order_id: orderIdFor(request.customer_id, idempotencyKey),
    customer_id: request.customer_id,
    product_id: request.product_id,
    quantity: request.quantity,
    order_date: request.order_date ?? utcDate(now),
    received_at: now.toISOString(),
  };
}

/** Validates a queued order again: the queue is not a trusted boundary. */
export function parseQueuedOrder(body: string, catalogue: Catalogue = shopCatalogue): QueuedOrder {
  return parseWith(schemasFor(catalogue).queued, parseJson(body));
}

/** Prices an order from the catalogue: total = unit price x quantity, in cents. */
export function priceOrder(order: Pick<QueuedOrder, 'product_id' | 'quantity'>, catalogue: Catalogue = shopCatalogue) {
  const product = catalogue.get(order.product_id);
  if (!product) throw new ValidationError([{ field: 'product_id', message: 'Is not in the catalogue' }]);
  return {
    product_name: product.name,
    unit_price_cents: product.unit_price_cents,
    total_cents: product.unit_price_cents * order.quantity,
    currency: CURRENCY,
  };
}

/** The order as process-order stores it: priced, and RECEIVED at `now`. */
export function storedOrder(order: QueuedOrder, now: Date, timings: LifecycleTimings, catalogue: Catalogue = shopCatalogue): StoredOrder {
  return { ...order, ...priceOrder(order, catalogue), ...received(now.toISOString(), timings) };
}
