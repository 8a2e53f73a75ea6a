import { v4 as randomUuid, v5 as nameBasedUuid, validate as isUuid } from 'uuid';
// zod/mini: the same validation as zod, in a form the Lambda bundles can tree-shake (zod's full build is 440 KB).
import * as z from 'zod/mini';
import { catalogue as shopCatalogue, CURRENCY, MAX_PRICE_CENTS, MAX_PRODUCT_NAME, PRODUCT_ID_PATTERN, type Catalogue } from './catalogue.js';
import { InvalidJsonError, toFieldIssues, ValidationError, type FieldIssue } from './errors.js';
import { publicEntry, received, type Lifecycle, type LifecycleTimings } from './lifecycle.js';

export const MAX_QUANTITY = 1000;
/** The most lines an order (and a cart) may have. */
export const MAX_LINES = 20;
/** The largest order body the API and the web tier accept. */
export const MAX_BODY_BYTES = 8 * 1024;
export const IDEMPOTENCY_KEY_FIELD = 'Idempotency-Key';

// Fixed namespace for name-based order ids: changing it would change every derived id.
const ORDER_ID_NAMESPACE = '6f1d8c2e-4b7a-5e3f-9a21-0c5d7e8f9b10';
const IDEMPOTENCY_KEY_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;
const CUSTOMER_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** One line of an order: a product of the catalogue and how many. */
export interface OrderLine {
  product_id: string;
  quantity: number;
}

/**
 * What a customer asks for, normalised: the contract's first form (one product_id and quantity)
 * becomes one line, the same as the second (`lines`).
 */
export interface OrderRequest {
  customer_id: string;
  lines: OrderLine[];
  order_date?: string;
}

/** The longest name an order keeps: sign-up takes at most 100 characters, an admin's account may have more. */
export const MAX_CUSTOMER_NAME = 100;

/**
 * A line as it is queued: priced when the order was accepted, so the order keeps the name and price it
 * was checked out with whatever the menu says when it is stored. A message queued before lines carried
 * them has neither, and is priced from the seed menu, the menu of its day.
 */
export interface QueuedLine extends OrderLine {
  product_name?: string;
  unit_price_cents?: number;
}

/** An accepted order as it travels on the queue. */
export interface QueuedOrder {
  order_id: string;
  customer_id: string;
  /**
   * The account (Cognito `sub`) an order checked out by a signed-in customer belongs to; absent on an
   * order an integration placed with the API key. The two never meet: see ownership in docs/data-model.md.
   */
  account_id?: string;
  /** Where the customer's mail goes: from the account that checked out, absent for orders of integrations. */
  customer_email?: string;
  /** Who the receipt and the mails greet: the account's name when it checked out, absent for orders of integrations. */
  customer_name?: string;
  lines: QueuedLine[];
  order_date: string;
  received_at: string;
}

/** A line as priced when the order is stored: the product's name and price then, and the line's total. */
export interface PricedLine extends OrderLine {
  product_name: string;
  unit_price_cents: number;
  line_total_cents: number;
}

/** An order as the table stores it: every line priced, the total, and its lifecycle (status, history, version). */
export interface StoredOrder extends Omit<QueuedOrder, 'lines'>, Lifecycle {
  lines: PricedLine[];
  total_cents: number;
  currency: string;
}

function required(what: string) {
  return (issue: { input: unknown }) => (issue.input === undefined ? 'Required' : what);
}

/**
 * Whether an order was placed by an integration with the API key (whoever has the key and its number
 * may read it) rather than checked out by an account (read with that account's token only). Whatever
 * customer_id an integration names, its order has no account_id: the API's POST /orders cannot set one.
 */
export function isIntegrationOrder(order: Pick<StoredOrder, 'account_id'>): boolean {
  return order.account_id === undefined;
}

/**
 * Who a receipt or a mail names: the name the account checked out with, or an integration's own
 * customer id; for an account's order from before names were kept, the account holder reading it.
 */
export function customerNameOf(order: Pick<StoredOrder, 'customer_name' | 'customer_id' | 'account_id'>, reader?: { name: string }): string | undefined {
  return order.customer_name ?? (isIntegrationOrder(order) ? order.customer_id : reader?.name);
}

/**
 * The account of an order (or queued message) checked out before account_id existed: only checkout
 * ever put an email on an order, so such an order is its customer_id's account's. Undefined otherwise.
 */
export function legacyAccountIdOf(order: { customer_id?: unknown; customer_email?: unknown; account_id?: unknown }): string | undefined {
  return order.account_id === undefined && typeof order.customer_email === 'string' && typeof order.customer_id === 'string' ? order.customer_id : undefined;
}

/** An order as its customer or an integration reads it over the API: its history names no member of staff. */
export function publicOrder<T extends Pick<StoredOrder, 'status_history'>>(order: T): T {
  return { ...order, status_history: order.status_history.map(publicEntry) };
}

/** Whether `order` was checked out by the account `accountId`. */
export function isOrderOf(order: Pick<StoredOrder, 'account_id'>, accountId: string): boolean {
  return order.account_id !== undefined && order.account_id === accountId;
}

const DATE_MESSAGE = 'Must be a real date written YYYY-MM-DD';
const QUANTITY_MESSAGE = `Must be a whole number from 1 to ${MAX_QUANTITY}`;

/** An order date: a real calendar date written YYYY-MM-DD (zod's ISO date, leap years and all). */
export const orderDateSchema = z.iso.date({ error: required(DATE_MESSAGE) });

/** True when `value` is a real calendar date written YYYY-MM-DD. */
export function isCalendarDate(value: string): boolean {
  return z.safeParse(orderDateSchema, value).success;
}

/** A line's quantity, the one rule for orders and carts: a whole number 1 to MAX_QUANTITY, as a number or a numeric string. */
const quantitySchema = z.pipe(
  z.union([z.number(), z.pipe(z.string().check(z.regex(/^\s*\d{1,9}\s*$/)), z.transform(Number))], { error: required(QUANTITY_MESSAGE) }),
  z.int({ error: QUANTITY_MESSAGE }).check(z.minimum(1, { error: QUANTITY_MESSAGE }), z.maximum(MAX_QUANTITY, { error: QUANTITY_MESSAGE })),
);

/** `input` as a quantity (see quantitySchema); throws ValidationError naming `field`. */
export function parseQuantity(input: unknown, field = 'quantity'): number {
  const parsed = z.safeParse(quantitySchema, input);
  if (!parsed.success) throw new ValidationError([{ field, message: parsed.error.issues[0]?.message ?? QUANTITY_MESSAGE }]);
  return parsed.data;
}

/** A line whose product is already in an earlier line, named by the later one. */
function duplicateIssues(lines: readonly { product_id?: unknown }[], path = 'lines'): FieldIssue[] {
  const first = new Map<unknown, number>();
  const issues: FieldIssue[] = [];
  lines.forEach((line, index) => {
    const earlier = first.get(line.product_id);
    if (earlier === undefined) first.set(line.product_id, index);
    else issues.push({ field: `${path}.${index}.product_id`, message: `Is already in ${path}.${earlier}: change that line's quantity instead` });
  });
  return issues;
}

function buildSchemas(catalogue: Catalogue) {
  const productIds = [...catalogue.values()].filter((product) => product.available).map((product) => product.id);

  const customerId = z
    .string({ error: required('Must be text') })
    .check(z.regex(CUSTOMER_ID_PATTERN, { error: 'Must be 1 to 64 letters, digits, "-" or "_"' }));
  // A product on the menu but taken off for now is named as such, not as unknown.
  const productId = z.string({ error: required('Must be text') }).check(
    z.refine((id) => catalogue.has(id), { error: `Must be one of: ${productIds.join(', ')}`, abort: true }),
    z.refine((id) => catalogue.get(id)?.available !== false, { error: (issue) => `${catalogue.get(issue.input as string)?.name ?? 'It'} is not available at the moment` }),
  );
  const quantity = quantitySchema;
  const orderDate = orderDateSchema;
  const line = z.strictObject({ product_id: productId, quantity }, { error: 'Must be a JSON object with product_id and quantity' });
  const lines = z.array(line, { error: required(`Must be a list of 1 to ${MAX_LINES} lines`) }).check(
    z.minLength(1, { error: 'Must have at least one line' }),
    z.maxLength(MAX_LINES, { error: `Must have at most ${MAX_LINES} lines` }),
  );

  // The contract's two forms: one product (the seed's payload), or lines.
  const singleRequest = z.strictObject({ customer_id: customerId, product_id: productId, quantity, order_date: z.optional(orderDate) }, { error: 'Must be a JSON object' });
  const linesRequest = z.strictObject({ customer_id: customerId, lines, order_date: z.optional(orderDate) }, { error: 'Must be a JSON object' });
  const queuedFields = {
    order_id: z.string({ error: required('Must be text') }).check(z.refine(isOrderId, { error: 'Must be a UUID' })),
    customer_id: customerId,
    account_id: z.optional(customerId),
    customer_email: z.optional(z.email({ error: 'Must be an email address' })),
    // Counted in characters where it is made, in UTF-16 units here: a character is at most two.
    customer_name: z.optional(z.string().check(z.minLength(1), z.maxLength(MAX_CUSTOMER_NAME * 2))),
    order_date: orderDate,
    received_at: z.iso.datetime({ error: required('Must be an ISO 8601 time') }),
  };
  // A queued line is checked for its shape: its price came from the menu when it was accepted.
  const queuedLine = z.strictObject(
    {
      product_id: z.string({ error: required('Must be text') }).check(z.regex(PRODUCT_ID_PATTERN, { error: 'Must be a product id' })),
      quantity,
      // The same bounds as staff may set (domain/catalogue.ts).
      product_name: z.optional(z.string().check(z.minLength(1), z.maxLength(MAX_PRODUCT_NAME))),
      unit_price_cents: z.optional(z.int().check(z.minimum(1), z.maximum(MAX_PRICE_CENTS))),
    },
    { error: 'Must be a JSON object with product_id and quantity' },
  );
  const queuedLines = z.array(queuedLine, { error: required(`Must be a list of 1 to ${MAX_LINES} lines`) }).check(z.minLength(1), z.maxLength(MAX_LINES));
  const queued = z.strictObject({ ...queuedFields, lines: queuedLines }, { error: 'Must be a JSON object' });
  // Messages queued before orders had lines: read for as long as one may still be on a queue.
  const queuedSingle = z.strictObject({ ...queuedFields, product_id: productId, quantity }, { error: 'Must be a JSON object' });
  return { singleRequest, linesRequest, queued, queuedSingle, lines };
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

function parseWith<T>(schema: z.ZodMiniType<T>, input: unknown, extraIssues: FieldIssue[] = []): T {
  const result = z.safeParse(schema, input);
  const issues = [...(result.success ? [] : toFieldIssues(result.error)), ...extraIssues];
  if (issues.length > 0 || !result.success) throw new ValidationError(issues);
  return result.data;
}

const hasLines = (input: unknown): boolean => typeof input === 'object' && input !== null && 'lines' in input;
const linesOf = (input: unknown): Record<string, unknown>[] =>
  hasLines(input) && Array.isArray((input as { lines: unknown }).lines) ? ((input as { lines: unknown[] }).lines.filter((line) => typeof line === 'object' && line !== null) as Record<string, unknown>[]) : [];

/** Parses JSON text, throwing InvalidJsonError rather than SyntaxError. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new InvalidJsonError();
  }
}

/** Validates a customer's order, in either form of the contract; throws ValidationError naming every bad field and line. */
export function parseOrderRequest(input: unknown, catalogue: Catalogue = shopCatalogue, extraIssues: FieldIssue[] = []): OrderRequest {
  const schemas = schemasFor(catalogue);
  if (hasLines(input)) {
    const request = parseWith(schemas.linesRequest, input, [...duplicateIssues(linesOf(input)), ...extraIssues]);
    return { customer_id: request.customer_id, lines: request.lines, ...(request.order_date !== undefined ? { order_date: request.order_date } : {}) };
  }
  const { customer_id, product_id, quantity, order_date } = parseWith(schemas.singleRequest, input, extraIssues);
  return { customer_id, lines: [{ product_id, quantity }], ...(order_date !== undefined ? { order_date } : {}) };
}

/** Validates lines on their own (a cart's, at checkout): the same rules, priced from `catalogue`. */
export function parseOrderLines(input: unknown, catalogue: Catalogue = shopCatalogue): QueuedLine[] {
  const lines = parseWith(schemasFor(catalogue).lines, input, duplicateIssues(Array.isArray(input) ? (input as { product_id: unknown }[]) : []));
  return withPrices(lines, catalogue);
}

/** Each line with its product's name and price in `catalogue`, which has every one (the lines were checked against it). */
function withPrices(lines: readonly OrderLine[], catalogue: Catalogue): QueuedLine[] {
  return lines.map((line) => {
    const product = catalogue.get(line.product_id)!;
    return { ...line, product_name: product.name, unit_price_cents: product.unit_price_cents };
  });
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
  const request = parseOrderRequest(input, catalogue, keyIssues);
  return {
    order_id: orderIdFor(request.customer_id, idempotencyKey),
    customer_id: request.customer_id,
    lines: withPrices(request.lines, catalogue),
    order_date: request.order_date ?? utcDate(now),
    received_at: now.toISOString(),
  };
}

/**
 * Validates a queued order again: the queue is not a trusted boundary. Single-product messages become
 * one line; a line queued without its price (before lines carried one) must be in `catalogue`, the seed
 * menu unless a host gives another, and a line has both its name and price or neither.
 */
export function parseQueuedOrder(body: string, catalogue: Catalogue = shopCatalogue): QueuedOrder {
  const input = parseJson(body);
  const schemas = schemasFor(catalogue);
  const order: QueuedOrder = hasLines(input)
    ? parseWith(schemas.queued, input, [...duplicateIssues(linesOf(input)), ...unpricedIssues(linesOf(input), catalogue)])
    : (({ product_id, quantity, ...rest }) => ({ ...rest, lines: [{ product_id, quantity }] }))(parseWith(schemas.queuedSingle, input));
  // Queued by checkout before account_id existed (in flight, or redriven from the DLQ): stored as its account's.
  const legacy = legacyAccountIdOf(order);
  return legacy === undefined ? order : { ...order, account_id: legacy };
}

/** Queued lines without a price whose product `catalogue` does not have, and lines with half a price. */
function unpricedIssues(lines: readonly Record<string, unknown>[], catalogue: Catalogue): FieldIssue[] {
  return lines.flatMap((line, index): FieldIssue[] => {
    const named = line.product_name !== undefined;
    if (named !== (line.unit_price_cents !== undefined)) return [{ field: `lines.${index}`, message: 'Must have both product_name and unit_price_cents, or neither' }];
    return named || typeof line.product_id !== 'string' || catalogue.has(line.product_id) ? [] : [{ field: `lines.${index}.product_id`, message: 'Is not in the catalogue' }];
  });
}

/**
 * Prices lines: each at the name and price it was accepted with, or (a line queued before lines
 * carried them) its product's in the catalogue; each line's unit price x quantity, and the total, in
 * integer minor units.
 */
export function priceLines(lines: readonly QueuedLine[], catalogue: Catalogue = shopCatalogue): { lines: PricedLine[]; total_cents: number; currency: string } {
  const priced = lines.map(({ product_id, quantity, product_name, unit_price_cents }, index): PricedLine => {
    if (product_name !== undefined && unit_price_cents !== undefined) return { product_id, quantity, ...priceLine(product_name, unit_price_cents, quantity) };
    const product = catalogue.get(product_id);
    if (!product) throw new ValidationError([{ field: `lines.${index}.product_id`, message: 'Is not in the catalogue' }]);
    return { product_id, quantity, ...priceLine(product.name, product.unit_price_cents, quantity) };
  });
  return { lines: priced, total_cents: totalCents(priced), currency: CURRENCY };
}

/** A line's price fields: its product's name and unit price, and the line's total, in minor units. */
export function priceLine(productName: string, unitPriceCents: number, quantity: number): Omit<PricedLine, keyof OrderLine> {
  return { product_name: productName, unit_price_cents: unitPriceCents, line_total_cents: unitPriceCents * quantity };
}

/** The sum of priced lines, in minor units. */
export function totalCents(lines: readonly Pick<PricedLine, 'line_total_cents'>[]): number {
  return lines.reduce((sum, line) => sum + line.line_total_cents, 0);
}

/** A short description of an order's lines, such as "2 x Pizza Margherita, 1 x Cola". */
export function summariseLines(lines: readonly Pick<PricedLine, 'quantity' | 'product_name'>[]): string {
  return lines.map((line) => `${line.quantity} x ${line.product_name}`).join(', ');
}

/** The order as process-order stores it: every line priced, and RECEIVED at `now`. */
export function storedOrder(order: QueuedOrder, now: Date, timings: LifecycleTimings, catalogue: Catalogue = shopCatalogue): StoredOrder {
  return { ...order, ...priceLines(order.lines, catalogue), ...received(now.toISOString(), timings) };
}

/**
 * How an order travels on a FIFO queue: in its customer's group, so one customer's orders are
 * processed in the order they were received (and different customers' side by side), and
 * deduplicated by its id, so the queue's five-minute deduplication and the Idempotency-Key agree:
 * the same key is the same order id is one message.
 */
export function fifoIdsOf(order: Pick<QueuedOrder, 'order_id' | 'customer_id' | 'account_id'>): { groupId: string; deduplicationId: string } {
  return { groupId: fifoGroupOf(order), deduplicationId: order.order_id };
}

/** An account's group and an integration's customer's group are apart, whatever ids they share. */
function fifoGroupOf({ customer_id, account_id }: { customer_id: string; account_id?: string | undefined }): string {
  return account_id === undefined ? `integration:${customer_id}` : `account:${account_id}`;
}

/**
 * The FIFO group of a message body that may not be a valid order (a dead letter, say): its
 * customer's, when the body names a customer id the contract allows, else `fallback`.
 */
export function fifoGroupOfBody(body: string, fallback: string): string {
  try {
    const { customer_id: customerId, account_id: accountId } = JSON.parse(body) as { customer_id?: unknown; account_id?: unknown };
    const valid = (id: unknown): id is string => typeof id === 'string' && CUSTOMER_ID_PATTERN.test(id);
    if (!valid(customerId) || (accountId !== undefined && !valid(accountId))) return fallback;
    return fifoGroupOf({ customer_id: customerId, account_id: accountId });
  } catch {
    return fallback;
  }
}
