import { v4 as randomUuid, v5 as nameBasedUuid } from 'uuid';
import { catalogue as shopCatalogue, CURRENCY, type Catalogue } from './catalogue.js';
import { ValidationError, type FieldIssue } from './errors.js';
import { MAX_LINES, parseQuantity, priceLine, totalCents, type OrderLine } from './order.js';

// Fixed namespace for checkout order ids: changing it would change every derived id.
const CHECKOUT_NAMESPACE = '2b6c3f1e-8d4a-5c7b-9e21-4f5a6b7c8d90';

/** A line of a cart, with when it was first put in (the cart shows its lines in that order). */
export interface CartLine extends OrderLine {
  added_at: string;
}

/**
 * A customer's cart. `cart_id` is new for every cart (after a checkout, or once one expired), so an
 * order id derived from it and `version` names one checkout of one cart's contents.
 */
export interface Cart {
  customer_id: string;
  cart_id: string;
  /** One more at every change; every write is conditional on it. */
  version: number;
  lines: CartLine[];
  updated_at: string;
  /** When the cart is gone if nobody touches it, in epoch seconds (DynamoDB TTL's unit). */
  expires_at: number;
  /** The checkout that emptied the cart before this one: a second post of that checkout gets the same order. */
  last_checkout?: { version: number; order_id: string };
}

/** A cart as the customer sees it: each line with its product's name and price now, and the total. */
export interface CartView {
  cart_id: string;
  version: number;
  lines: (CartLine & { product_name: string; unit_price_cents: number; line_total_cents: number; available: boolean })[];
  total_cents: number;
  currency: string;
  expires_at: number;
}

const expiry = (now: Date, ttlSeconds: number) => Math.floor(now.getTime() / 1000) + ttlSeconds;

/**
 * A new, empty cart at `version`: 0 for a customer's first, the stored version for one replacing an
 * expired cart (so the write that follows is conditional on the stored one), one more than the
 * cart it empties after a checkout.
 */
export function emptyCart(customerId: string, now: Date, ttlSeconds: number, version = 0): Cart {
  return { customer_id: customerId, cart_id: randomUuid(), version, lines: [], updated_at: now.toISOString(), expires_at: expiry(now, ttlSeconds) };
}

/** True once a cart has passed its expiry (DynamoDB deletes it some time after; until then it must not count). */
export function isExpired(cart: Cart, now: Date): boolean {
  return cart.expires_at * 1000 <= now.getTime();
}

/** The cart a customer has now: the stored one, or an empty one if it is missing or expired. */
export function currentCart(stored: Cart | undefined, customerId: string, now: Date, ttlSeconds: number): Cart {
  if (stored && !isExpired(stored, now)) return stored;
  return emptyCart(customerId, now, ttlSeconds, stored?.version ?? 0);
}

/** The cart with `productId` at `quantity` (added, or its quantity changed); throws ValidationError naming the problem. */
export function setCartLine(cart: Cart, productId: unknown, quantity: unknown, { now, ttlSeconds, catalogue = shopCatalogue }: { now: Date; ttlSeconds: number; catalogue?: Catalogue }): Cart {
  const issues: FieldIssue[] = [];
  const product = typeof productId === 'string' ? catalogue.get(productId) : undefined;
  if (!product) issues.push({ field: 'product_id', message: `Must be one of: ${[...catalogue.values()].filter((each) => each.available).map((each) => each.id).join(', ')}` });
  else if (!product.available) issues.push({ field: 'product_id', message: `${product.name} is not available at the moment` });
  let amount = 0;
  try {
    amount = parseQuantity(quantity);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    issues.push(...error.issues);
  }
  if (issues.length > 0) throw new ValidationError(issues);
  const existing = cart.lines.find((line) => line.product_id === productId);
  if (!existing && cart.lines.length >= MAX_LINES) {
    throw new ValidationError([{ field: 'lines', message: `A cart holds at most ${MAX_LINES} lines: remove one first` }]);
  }
  const lines = existing
    ? cart.lines.map((line) => (line.product_id === productId ? { ...line, quantity: amount } : line))
    : [...cart.lines, { product_id: productId as string, quantity: amount, added_at: now.toISOString() }];
  return { ...cart, lines, version: cart.version + 1, updated_at: now.toISOString(), expires_at: expiry(now, ttlSeconds) };
}

/** The cart without `productId` (unchanged but for its version and expiry when it was not there). */
export function removeCartLine(cart: Cart, productId: string, { now, ttlSeconds }: { now: Date; ttlSeconds: number }): Cart {
  return { ...cart, lines: cart.lines.filter((line) => line.product_id !== productId), version: cart.version + 1, updated_at: now.toISOString(), expires_at: expiry(now, ttlSeconds) };
}

/**
 * The cart priced from the catalogue. A product staff took off for now shows as unavailable at its
 * price, one no longer on the menu at 0; neither counts in the total (checkout refuses both).
 */
export function cartView(cart: Cart, catalogue: Catalogue = shopCatalogue): CartView {
  const lines = cart.lines.map((line) => {
    const product = catalogue.get(line.product_id);
    return { ...line, ...priceLine(product?.name ?? line.product_id, product?.unit_price_cents ?? 0, line.quantity), available: product?.available === true };
  });
  return { cart_id: cart.cart_id, version: cart.version, lines, total_cents: totalCents(lines.filter((line) => line.available)), currency: CURRENCY, expires_at: cart.expires_at };
}

/**
 * The id of the order a checkout of this cart makes: the same for the same cart at the same version,
 * so a checkout sent twice (a double click, a retry) is one order.
 */
export function checkoutOrderId(cart: Pick<Cart, 'customer_id' | 'cart_id' | 'version'>): string {
  return nameBasedUuid(`${cart.customer_id}\n${cart.cart_id}\n${cart.version}`, CHECKOUT_NAMESPACE);
}
