import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { CATEGORIES, menuSections, type Menu } from '../../domain/catalogue.js';
import { ConflictError, NotFoundError, ValidationError } from '../../domain/errors.js';
import { customerMayCancel, type OrderStatus } from '../../domain/lifecycle.js';
import { customerNameOf, isOrderId, type StoredOrder } from '../../domain/order.js';
import type { StaffApi } from '../order-api.js';
import { respond } from '../pages.js';
import type { Customer } from '../session.js';

/** The board's columns: the statuses an order is open in, in the kitchen's order. */
const COLUMNS: readonly { status: OrderStatus; title: string; advance: string }[] = [
  { status: 'RECEIVED', title: 'Received', advance: 'Start preparing' },
  { status: 'PREPARING', title: 'Preparing', advance: 'Mark ready' },
  { status: 'READY', title: 'Ready', advance: 'Hand over (completed)' },
];

const NOT_FOUND = { title: 'Page not found', message: 'There is nothing at this address.' };

/** Staff only; anyone else, signed in or not, gets the shop's own 404, as if the pages were not there. */
function requireStaff(req: Request, res: Response, next: NextFunction) {
  if (req.customer?.staff) return next();
  respond(req, res, 404, NOT_FOUND);
}

const staffOf = (req: Request): Customer => req.customer as Customer;
const field = (req: Request, name: string): string => {
  const value = (req.body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value : '';
};

/** The board as both the page and its live refresh (`/staff/board`) render it. */
function boardModel(orders: readonly StoredOrder[], truncated: boolean) {
  const shortId = (order: StoredOrder) => order.order_id.slice(0, 8);
  return {
    columns: COLUMNS.map((column) => ({ ...column, orders: orders.filter((order) => order.status === column.status) })),
    truncated,
    shortId,
    nameOf: (order: StoredOrder) => customerNameOf(order) ?? 'A customer',
    // The lifecycle's rule, for staff as for customers: once the kitchen has started it, an order is made.
    mayCancel: customerMayCancel,
  };
}

/**
 * The staff's pages: `/staff`, the open orders by status, oldest first, with "Advance" and "Cancel"
 * (a reason the customer is told), following changes live; the two posts behind its buttons.
 * `/staff/menu`, every product with a form to change it and one to add a product, all posting to
 * `POST /staff/menu` (the same product_id again changes it).
 */
export function staffRoutes({ api, menu }: { api: StaffApi; menu: Menu }): Router {
  const router = express.Router();
  router.use('/staff', requireStaff);

  async function renderBoard(req: Request, res: Response, { status = 200, notice }: { status?: number; notice?: string } = {}) {
    const { orders, truncated } = await api.openOrders(staffOf(req).idToken, { requestId: req.id as string });
    res.set('Cache-Control', 'no-store');
    res.status(status).render('staff', { ...boardModel(orders, truncated), notice, title: 'Open orders' });
  }

  router.get('/staff', (req, res) => renderBoard(req, res, { notice: req.query.done === 'cancelled' ? 'The order is cancelled; its customer is mailed why.' : undefined }));
  // What the page's script swaps in when the subscription says the list changed.
  router.get('/staff/board', async (req, res) => {
    const { orders, truncated } = await api.openOrders(staffOf(req).idToken, { requestId: req.id as string });
    res.set('Cache-Control', 'no-store');
    res.render('partials/staff-board', boardModel(orders, truncated));
  });

  /** A change the board asked for; a refused one shows the board again, saying why. */
  async function change(req: Request, res: Response, act: (orderId: string, version: number) => Promise<unknown>, done: string) {
    const orderId = req.params.id as string;
    const version = Number(field(req, 'version'));
    if (!isOrderId(orderId) || !Number.isSafeInteger(version) || version < 1) return respond(req, res, 400, { title: 'That change is not one the board makes', message: 'Use the buttons on the board.' });
    try {
      await act(orderId, version);
    } catch (error) {
      if (error instanceof NotFoundError) return renderBoard(req, res, { status: 404, notice: `Order ${orderId.slice(0, 8)} is not stored.` });
      if (error instanceof ConflictError) return renderBoard(req, res, { status: 409, notice: `Nothing was done. ${error.message}; the board shows it as it is now.` });
      if (error instanceof ValidationError) return renderBoard(req, res, { status: 400, notice: `Order ${orderId.slice(0, 8)} was not cancelled: ${error.issues.map((issue) => issue.message).join('; ')}.` });
      throw error;
    }
    res.redirect(303, done);
  }

  const MENU_FIELDS = ['product_id', 'name', 'description', 'category', 'price', 'available', 'version'] as const;

  async function renderMenu(req: Request, res: Response, { status = 200, notice, issues = [], form }: { status?: number; notice?: string | undefined; issues?: readonly { field: string; message: string }[]; form?: Record<string, string> } = {}) {
    res.set('Cache-Control', 'no-store');
    res.status(status).render('staff-menu', { sections: menuSections(await menu.catalogue()), categories: CATEGORIES, notice, issues, form, title: 'Menu' });
  }

  router.get('/staff/menu', (req, res) => renderMenu(req, res, { notice: typeof req.query.saved === 'string' && /^[A-Za-z0-9_-]{1,40}$/.test(req.query.saved) ? `${req.query.saved} is saved: customers see it now.` : undefined }));
  router.post('/staff/menu', async (req, res) => {
    // As typed: the API reads the price as a customer writes it; an unticked box is not sent, so it is "false".
    const { version, ...form } = Object.fromEntries(MENU_FIELDS.map((name) => [name, field(req, name)]));
    try {
      await api.saveProduct(staffOf(req).idToken, { ...form, available: form.available === '' ? 'false' : form.available, ...(version ? { version } : {}) }, { requestId: req.id as string });
    } catch (error) {
      if (error instanceof ValidationError) return renderMenu(req, res, { status: 400, issues: error.issues, form, notice: `${form.product_id || 'The product'} was not saved.` });
      if (error instanceof ConflictError) {
        menu.invalidate();
        return renderMenu(req, res, { status: 409, notice: `Nothing was saved. ${error.message}; the menu shows it as it is now.` });
      }
      throw error;
    }
    // Read again at once, from the table (GET /menu?fresh=1); other instances within MENU_CACHE_SECONDS and the API's own 10 s.
    menu.invalidate();
    res.redirect(303, `/staff/menu?saved=${encodeURIComponent(form.product_id ?? '')}`);
  });

  router.post('/staff/orders/:id/advance', (req, res) => change(req, res, (id, version) => api.advanceOrder(staffOf(req).idToken, id, version, { requestId: req.id as string }), '/staff'));
  router.post('/staff/orders/:id/cancel', (req, res) =>
    change(req, res, (id, version) => api.cancelOrder(staffOf(req).idToken, id, version, field(req, 'reason'), { requestId: req.id as string }), '/staff?done=cancelled'),
  );
  return router;
}
