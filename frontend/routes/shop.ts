import express, { type Response, type Router } from 'express';
import { randomUUID } from 'node:crypto';
import type { Catalogue } from '../../domain/catalogue.js';
import { ValidationError, type FieldIssue } from '../../domain/errors.js';
import { isFinal } from '../../domain/lifecycle.js';
import { isIdempotencyKey, isOrderId, MAX_BODY_BYTES, parseOrderRequest, priceLines, summariseLines, utcDate } from '../../domain/order.js';
import type { OrderApi } from '../order-api.js';
import { respond, wantsJson } from '../pages.js';

const NOT_AN_ORDER_NUMBER = { title: 'That is not an order number', message: 'Order numbers look like 3f2b8c1e-6d4a-4f7b-9c2d-1a2b3c4d5e6f.' };
/** How long a just-placed order may take to be stored before its page stops waiting for it. */
export const ORDER_PATIENCE_MS = 60_000;

/** The form's fields as typed, kept to show them again. */
type FormValues = Record<'customer_id' | 'product_id' | 'quantity' | 'order_date', string>;

interface FormView {
  values: FormValues;
  issues?: readonly FieldIssue[];
  idempotencyKey?: string | undefined;
  /** The priced order, shown before it is placed. */
  total?: { cents: number; summary: string };
}

function renderForm(res: Response, status: number, { values, issues = [], idempotencyKey = randomUUID(), total }: FormView) {
  const errors: Record<string, string> = {};
  for (const issue of issues) errors[issue.field] ??= issue.message;
  res.status(status).render('form', { values, errors, issues, idempotencyKey, total, title: issues.length > 0 ? 'Check your order' : 'Place an order' });
}

const text = (value: unknown) => (typeof value === 'string' ? value : '');

/** The shop's pages: each route parses, asks the order API or the domain, and answers. */
export function shopRoutes({ api, catalogue, clock, orderLimiter }: { api: OrderApi; catalogue: Catalogue; clock: () => Date; orderLimiter: express.RequestHandler }): Router {
  const router = express.Router();

  router.get('/', (_req, res) => {
    renderForm(res, 200, { values: { customer_id: '', product_id: '', quantity: '1', order_date: utcDate(clock()) } });
  });

  router.post('/orders', orderLimiter, express.urlencoded({ extended: false, limit: MAX_BODY_BYTES, parameterLimit: 20 }), async (req, res) => {
    const { idempotency_key: rawKey, action, ...fields } = (req.body ?? {}) as Record<string, unknown>;
    const values: FormValues = {
      customer_id: text(fields.customer_id),
      product_id: text(fields.product_id),
      quantity: text(fields.quantity),
      order_date: text(fields.order_date),
    };
    // An empty field was not filled in: "Required", and for the date "today", as the contract's default does.
    for (const [name, value] of Object.entries(fields)) if (value === '') delete fields[name];
    // The key is ours, from the rendered form: one that is missing or altered is dropped, not shown to the customer.
    const idempotencyKey = typeof rawKey === 'string' && isIdempotencyKey(rawKey) ? rawKey : undefined;
    try {
      const order = parseOrderRequest(fields, catalogue);
      if (action === 'preview') {
        // "Update total" without JavaScript: the same form again, priced, nothing placed.
        const priced = priceLines(order.lines, catalogue);
        return renderForm(res, 200, { values, idempotencyKey, total: { cents: priced.total_cents, summary: summariseLines(priced.lines) } });
      }
      const { order_id } = await api.submitOrder(order, { idempotencyKey, requestId: req.id as string });
      // The time it was placed rides along, so the page knows how long to wait for it to be stored.
      res.redirect(303, `/orders/${order_id}?placed=${clock().getTime()}`);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      renderForm(res, 400, { values, issues: error.issues, idempotencyKey });
    }
  });

  router.get('/orders/:id', async (req, res) => {
    const orderId = req.params.id;
    if (!isOrderId(orderId)) return respond(req, res, 400, NOT_AN_ORDER_NUMBER);
    const order = await api.getOrder(orderId, { requestId: req.id as string });
    res.set('Cache-Control', 'no-store');
    if (wantsJson(req)) {
      if (order) res.json(order);
      else res.status(404).json({ order_id: orderId, error: 'not_found', message: 'No order with this number is stored yet' });
      return;
    }
    // A number that was never stored is not "on its way": only a just-placed order is waited for.
    const waitMs = ORDER_PATIENCE_MS - (clock().getTime() - Number(text(req.query.placed)));
    if (!order && !(waitMs > 0)) return res.status(404).render('not-found', { orderId, title: 'Order not found' });
    res.render('status', { orderId, order, waitMs: order ? 0 : Math.min(waitMs, ORDER_PATIENCE_MS), final: order ? isFinal(order.status) : false, title: order ? `Order ${order.status.toLowerCase()}` : 'Order placed' });
  });

  router.get('/find', (req, res) => {
    const orderId = typeof req.query.id === 'string' ? req.query.id.trim() : '';
    if (isOrderId(orderId)) return res.redirect(303, `/orders/${orderId}`);
    respond(req, res, 400, NOT_AN_ORDER_NUMBER);
  });

  return router;
}
