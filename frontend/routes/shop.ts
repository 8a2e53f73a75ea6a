import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { menuSections, PRODUCT_ID_PATTERN, type Menu } from '../../domain/catalogue.js';
import { ConflictError, NotFoundError, ValidationError } from '../../domain/errors.js';
import { customerMayCancel, isFinal } from '../../domain/lifecycle.js';
import { customerNameOf, isOrderId, isOrderOf, type StoredOrder } from '../../domain/order.js';
import { readOrder, type CustomerApi, type OrderApi } from '../order-api.js';
import { respond, wantsJson } from '../pages.js';
import type { Customer } from '../session.js';

const NOT_AN_ORDER_NUMBER = { title: 'That is not an order number', message: 'Order numbers look like 3f2b8c1e-6d4a-4f7b-9c2d-1a2b3c4d5e6f.' };
/** How long a just-placed order may take to be stored before its page stops waiting for it. */
export const ORDER_PATIENCE_MS = 60_000;
/** Orders on one page of "My orders". */
export const MY_ORDERS_PAGE_SIZE = 10;

const text = (value: unknown) => (typeof value === 'string' ? value : '');

/** The signed-in customer, or a redirect to sign-in (pages) or a 401 (scripts). */
function requireCustomer(req: Request, res: Response, next: NextFunction) {
  if (req.customer) return next();
  if (wantsJson(req)) return respond(req, res, 401, { title: 'Sign in first', message: 'This needs a signed-in customer.' });
  const back = req.method === 'GET' ? req.originalUrl : req.path === '/checkout' ? '/cart' : '/';
  res.redirect(303, `/sign-in?notice=sign-in-first&next=${encodeURIComponent(back)}`);
}

const signedIn = (req: Request): Customer => req.customer as Customer;

/** The shop's pages: each route parses, asks the order API or the domain, and answers. */
export function shopRoutes({ api, menu, clock }: { api: OrderApi & CustomerApi; menu: Menu; clock: () => Date }): Router {
  const router = express.Router();
  const options = (req: Request) => ({ requestId: req.id as string });

  async function renderCart(req: Request, res: Response, status: number, issues: readonly { field: string; message: string }[] = []) {
    const cart = await api.getCart(signedIn(req).idToken, options(req));
    res.set('Cache-Control', 'no-store');
    res.status(status).render('cart', { cart, issues, title: 'Your cart' });
  }

  router.get('/', async (req, res) => {
    // The menu; a signed-in customer sees what is in their cart beside each product.
    const [catalogue, cart] = await Promise.all([menu.catalogue(), req.customer ? api.getCart(req.customer.idToken, options(req)) : undefined]);
    const inCart = Object.fromEntries((cart?.lines ?? []).map((line) => [line.product_id, line.quantity]));
    if (cart) res.set('Cache-Control', 'no-store');
    res.render('menu', { menu: menuSections(catalogue), cart, inCart, title: 'Menu' });
  });

  router.get('/cart', requireCustomer, (req, res) => renderCart(req, res, 200));

  // One form for "put in cart" (the menu) and "change quantity" (the cart): the line's quantity is set.
  router.post('/cart/lines', requireCustomer, async (req, res) => {
    const { product_id: productId, quantity, back } = (req.body ?? {}) as Record<string, unknown>;
    const product = text(productId);
    if (!product) return renderCart(req, res, 400, [{ field: 'product_id', message: 'Choose a product' }]);
    // Before the id goes into the API's path, where "." or ".." would be read as a path segment; the API checks it is on the menu.
    if (!PRODUCT_ID_PATTERN.test(product)) return renderCart(req, res, 400, [{ field: 'product_id', message: `${product}: not on the menu` }]);
    try {
      // As typed: the cart's one quantity rule (domain/order.ts) reads numbers written as text; left empty, it is missing.
      await api.setCartLine(signedIn(req).idToken, product, text(quantity).trim() === '' ? undefined : text(quantity), options(req));
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      const name = (await menu.catalogue()).get(product)?.name ?? product;
      return renderCart(req, res, 400, error.issues.map((issue) => ({ field: issue.field, message: issue.message.startsWith(name) ? issue.message : `${name}: ${issue.message}` })));
    }
    res.redirect(303, back === 'menu' ? `/#product-${encodeURIComponent(product)}` : '/cart');
  });

  router.post('/cart/lines/remove', requireCustomer, async (req, res) => {
    const product = text((req.body as Record<string, unknown> | undefined)?.product_id);
    if (!PRODUCT_ID_PATTERN.test(product)) return renderCart(req, res, 400, [{ field: 'product_id', message: 'Choose a product on the menu' }]);
    await api.removeCartLine(signedIn(req).idToken, product, options(req));
    res.redirect(303, '/cart');
  });

  router.post('/checkout', requireCustomer, async (req, res) => {
    const raw = text((req.body as Record<string, unknown> | undefined)?.cart_version);
    // The version the customer saw: a second post of the same page is the same order, a changed cart is shown again.
    const cartVersion = /^\d{1,9}$/.test(raw) ? Number(raw) : undefined;
    // The total the page showed, so a price changed meanwhile is shown before it is charged.
    const total = text((req.body as Record<string, unknown> | undefined)?.total_cents);
    const expectedTotal = /^\d{1,9}$/.test(total) ? Number(total) : undefined;
    if (cartVersion === undefined) return renderCart(req, res, 400, [{ field: 'cart_version', message: 'The checkout form is incomplete: check out from your cart.' }]);
    try {
      const { order_id } = await api.checkout(signedIn(req).idToken, { cart_version: cartVersion, ...(expectedTotal !== undefined ? { expected_total_cents: expectedTotal } : {}) }, options(req));
      // The time it was placed rides along, so the page knows how long to wait for it to be stored.
      res.redirect(303, `/orders/${order_id}?placed=${clock().getTime()}`);
    } catch (error) {
      if (error instanceof ConflictError) return renderCart(req, res, 409, [{ field: 'cart', message: error.message }]);
      if (error instanceof ValidationError) return renderCart(req, res, 400, error.issues);
      throw error;
    }
  });

  router.get('/my-orders', requireCustomer, async (req, res) => {
    const cursor = text(req.query.cursor);
    try {
      const page = await api.myOrders(signedIn(req).idToken, { limit: MY_ORDERS_PAGE_SIZE, ...(cursor ? { cursor } : {}) }, options(req));
      res.set('Cache-Control', 'no-store');
      res.render('my-orders', { page, firstPage: !cursor, isFinal, customerMayCancel, title: 'My orders' });
    } catch (error) {
      if (error instanceof ValidationError) return respond(req, res, 400, { title: 'That page of your orders does not exist', message: 'The link is not one this shop gave out. Start again from My orders.' });
      throw error;
    }
  });

  /** The status page of an order as the viewer may see it; `notice` says why it is shown again (a refused cancel). */
  function renderStatus(req: Request, res: Response, order: StoredOrder, { status = 200, notice, refreshUrl }: { status?: number; notice?: string; refreshUrl?: string } = {}) {
    // Only the customer whose order it is sees its cancel button, and only while the kitchen has not started it.
    const own = req.customer !== undefined && isOrderOf(order, req.customer.id);
    const cancellable = own && customerMayCancel(order.status);
    const customerName = customerNameOf(order, own ? req.customer : undefined);
    res.status(status).render('status', { orderId: order.order_id, order, customerName, waitMs: 0, final: isFinal(order.status), cancellable, maybeCancellable: false, notice, refreshUrl, title: `Order ${order.status.toLowerCase()}` });
  }

  const orderNotFound = (req: Request, res: Response, orderId: string) =>
    wantsJson(req) ? res.status(404).json({ order_id: orderId, error: 'not_found', message: 'No order with this number is stored yet' }) : res.status(404).render('not-found', { orderId, title: 'Order not found' });

  router.post('/orders/:id/cancel', requireCustomer, async (req, res) => {
    const orderId = req.params.id as string;
    if (!isOrderId(orderId)) return respond(req, res, 400, NOT_AN_ORDER_NUMBER);
    res.set('Cache-Control', 'no-store');
    try {
      await api.cancelMyOrder(signedIn(req).idToken, orderId, options(req));
    } catch (error) {
      // Another customer's order, or one never placed: the same 404 as the status page gives.
      if (error instanceof NotFoundError) return orderNotFound(req, res, orderId);
      if (!(error instanceof ConflictError)) throw error;
      const order = await api.myOrder(signedIn(req).idToken, orderId, options(req));
      if (!order) return orderNotFound(req, res, orderId);
      // Cancelled by this customer already (a double click, a second window): what they asked for holds.
      const last = order.status_history.at(-1);
      if (order.status === 'CANCELLED' && last?.by?.role === 'customer') return res.redirect(303, `/orders/${orderId}`);
      if (wantsJson(req)) return res.status(409).json({ order_id: orderId, error: 'conflict', message: error.message });
      return renderStatus(req, res, order, { status: 409, notice: `This order can no longer be cancelled: it is ${order.status.toLowerCase()}.`, refreshUrl: `/orders/${orderId}` });
    }
    res.redirect(303, `/orders/${orderId}`);
  });

  router.get('/orders/:id', async (req, res) => {
    const orderId = req.params.id;
    if (!isOrderId(orderId)) return respond(req, res, 400, NOT_AN_ORDER_NUMBER);
    // Another account's order is as absent as one never placed: the page says nothing of it.
    const order = await readOrder(api, req.customer, orderId, options(req));
    res.set('Cache-Control', 'no-store');
    if (wantsJson(req)) return order ? res.json(order) : orderNotFound(req, res, orderId);
    // A number that is not stored (or not this viewer's) is not "on its way": only a just-placed order is
    // waited for, and the wait says nothing either: any number with a fresh `placed` waits the same.
    const waitMs = ORDER_PATIENCE_MS - (clock().getTime() - Number(text(req.query.placed)));
    if (!order && !(waitMs > 0)) return orderNotFound(req, res, orderId);
    if (order) return renderStatus(req, res, order);
    // A signed-in customer's just-placed order: its cancel button is there, hidden, for status.js to show once the order is stored and theirs.
    res.render('status', { orderId, order, customerName: undefined, waitMs: Math.min(waitMs, ORDER_PATIENCE_MS), final: false, cancellable: false, maybeCancellable: req.customer !== undefined, notice: undefined, title: 'Order placed' });
  });

  router.get('/find', (req, res) => {
    const orderId = typeof req.query.id === 'string' ? req.query.id.trim() : '';
    if (isOrderId(orderId)) return res.redirect(303, `/orders/${orderId}`);
    respond(req, res, 400, NOT_AN_ORDER_NUMBER);
  });

  return router;
}
