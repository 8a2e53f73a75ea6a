import ejs from 'ejs';
import express, { type ErrorRequestHandler, type NextFunction, type Request, type Response } from 'express';
import { rateLimit } from 'express-rate-limit';
import helmet from 'helmet';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import { catalogue as shopCatalogue, formatPrice, type Catalogue } from '../domain/catalogue.js';
import { AppError, DependencyUnavailableError, HTTP_STATUS_BY_CODE, ValidationError, type FieldIssue } from '../domain/errors.js';
import { isIdempotencyKey, isOrderId, MAX_BODY_BYTES, parseOrderRequest, priceOrder, utcDate, type OrderRequest } from '../domain/order.js';
import type { WebConfig } from './config.js';
import type { OrderApi } from './order-api.js';

export const SHOP_NAME = 'Corner Shop';
const viewsDir = fileURLToPath(new URL('./views', import.meta.url));
const publicDir = fileURLToPath(new URL('./public', import.meta.url));
const REQUEST_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
const NOT_AN_ORDER_NUMBER = { title: 'That is not an order number', message: 'Order numbers look like 3f2b8c1e-6d4a-4f7b-9c2d-1a2b3c4d5e6f.' };

export type AppConfig = Pick<
  WebConfig,
  'RATE_LIMIT_WINDOW_MS' | 'RATE_LIMIT_MAX' | 'ORDER_RATE_LIMIT_MAX' | 'TRUST_PROXY_HOPS'
>;

export interface AppDeps {
  api: OrderApi;
  config: AppConfig;
  logger: Logger;
  catalogue?: Catalogue;
  clock?: () => Date;
}

/** The form's fields as typed, kept to show them again. */
type FormValues = Record<keyof Required<OrderRequest>, string>;

/** What a page shows for an error, whatever threw it. */
function describeError(error: unknown): { status: number; title: string; message: string; retryAfter?: number } {
  if (error instanceof DependencyUnavailableError) {
    return {
      status: 503,
      title: 'We could not take your order just now',
      message: 'Our order service is busy or unavailable. Nothing was charged; please try again in a moment.',
      retryAfter: error.retryAfterSeconds,
    };
  }
  if (error instanceof AppError) return { status: HTTP_STATUS_BY_CODE[error.code], title: 'Something is wrong with that request', message: error.message };
  // Errors of body-parser and friends carry a status and say whether their message is safe to show.
  const httpError = error as { status?: unknown; expose?: unknown; type?: unknown };
  if (typeof httpError.status === 'number' && httpError.status >= 400 && httpError.status < 500) {
    const tooLarge = httpError.type === 'entity.too.large' || httpError.type === 'parameters.too.many';
    return {
      status: tooLarge ? 413 : httpError.status,
      title: tooLarge ? 'That form is too large' : 'Something is wrong with that request',
      message: tooLarge ? `Forms may be at most ${MAX_BODY_BYTES} bytes.` : 'The request could not be read.',
    };
  }
  return { status: 500, title: 'Something went wrong', message: 'Sorry, we could not complete that. Please try again.' };
}

function wantsJson(req: Request): boolean {
  return req.accepts(['html', 'json']) === 'json';
}

/** The Express web tier: the order form, status pages and health check. It does not listen; server.ts does. */
export function createApp({ api, config, logger, catalogue = shopCatalogue, clock = () => new Date() }: AppDeps) {
  const app = express();
  app.set('trust proxy', config.TRUST_PROXY_HOPS);
  // Registered, not looked up by name: the bundled server has no node_modules/ejs to require.
  app.engine('ejs', (path, data, callback) => ejs.renderFile(path, data, callback));
  app.set('views', viewsDir);
  app.set('view engine', 'ejs');
  // Templates compiled once, not on every request (Express only does this by itself in production).
  app.set('view cache', true);
  app.disable('x-powered-by');
  app.locals.draining = false;
  Object.assign(app.locals, { shopName: SHOP_NAME, formatPrice, products: [...catalogue.values()] });

  app.use(
    pinoHttp({
      logger,
      genReqId(req, res) {
        const incoming = req.headers['x-request-id'];
        const id = typeof incoming === 'string' && REQUEST_ID_PATTERN.test(incoming) ? incoming : randomUUID();
        res.setHeader('X-Request-Id', id);
        return id;
      },
      // One short line per request: what and how it ended, never the headers (cookies, keys) or bodies.
      // Unwrapped, these serializers read the request and response themselves; wrapped, pino's standard
      // ones would first copy every header of both, on every request, only for these to drop them.
      wrapSerializers: false,
      serializers: {
        req: (req: { id: unknown; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
      customLogLevel: (_req, res, error) => (error || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
      autoLogging: { ignore: (req) => req.url === '/healthz' || (req.url ?? '').startsWith('/static/') },
    }),
  );
  app.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'none'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:'],
          connectSrc: ["'self'"],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
          baseUri: ["'none'"],
          objectSrc: ["'none'"],
        },
      },
      // HSTS only means something over HTTPS; set below per request.
      strictTransportSecurity: false,
      xFrameOptions: { action: 'deny' },
    }),
  );
  app.use((req, res, next) => {
    if (req.secure) res.setHeader('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
    if (req.app.locals.draining) res.setHeader('Connection', 'close');
    next();
  });

  app.get('/healthz', (req, res) => {
    const draining = Boolean(req.app.locals.draining);
    res.status(draining ? 503 : 200).json({ status: draining ? 'draining' : 'ok' });
  });
  app.use('/static', express.static(publicDir, { index: false, maxAge: '1h', fallthrough: false }));

  const limiterOptions = {
    windowMs: config.RATE_LIMIT_WINDOW_MS,
    standardHeaders: 'draft-8' as const,
    legacyHeaders: false,
    handler: (req: Request, res: Response) =>
      respond(req, res, 429, { title: 'Too many requests', message: 'Please wait a moment and try again.' }),
  };
  app.use(rateLimit({ ...limiterOptions, limit: config.RATE_LIMIT_MAX }));
  const orderLimiter = rateLimit({ ...limiterOptions, limit: config.ORDER_RATE_LIMIT_MAX, identifier: 'orders' });

  function respond(req: Request, res: Response, status: number, page: { title: string; message: string }) {
    res.status(status);
    if (wantsJson(req)) res.json({ error: page.title, message: page.message });
    else res.render('error', { ...page, status });
  }

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

  app.get('/', (_req, res) => {
    renderForm(res, 200, { values: { customer_id: '', product_id: '', quantity: '1', order_date: utcDate(clock()) } });
  });

  app.post('/orders', orderLimiter, express.urlencoded({ extended: false, limit: MAX_BODY_BYTES, parameterLimit: 20 }), async (req, res) => {
    const { idempotency_key: rawKey, action, ...fields } = (req.body ?? {}) as Record<string, unknown>;
    const text = (value: unknown) => (typeof value === 'string' ? value : '');
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
        const { total_cents, product_name } = priceOrder(order, catalogue);
        return renderForm(res, 200, { values, idempotencyKey, total: { cents: total_cents, summary: `${order.quantity} x ${product_name}` } });
      }
      const { order_id } = await api.submitOrder(order, { idempotencyKey, requestId: req.id as string });
      res.redirect(303, `/orders/${order_id}`);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      renderForm(res, 400, { values, issues: error.issues, idempotencyKey });
    }
  });

  app.get('/orders/:id', async (req, res) => {
    const orderId = req.params.id;
    if (!isOrderId(orderId)) {
      return respond(req, res, 400, NOT_AN_ORDER_NUMBER);
    }
    const order = await api.getOrder(orderId, { requestId: req.id as string });
    res.set('Cache-Control', 'no-store');
    if (wantsJson(req)) {
      if (order) res.json(order);
      else res.status(404).json({ order_id: orderId, status: 'QUEUED', message: 'Not processed yet' });
      return;
    }
    res.render('status', { orderId, order, title: order ? 'Order processed' : 'Order received' });
  });

  app.get('/find', (req, res) => {
    const orderId = typeof req.query.id === 'string' ? req.query.id.trim() : '';
    if (isOrderId(orderId)) return res.redirect(303, `/orders/${orderId}`);
    respond(req, res, 400, NOT_AN_ORDER_NUMBER);
  });

  app.use((req, res) => respond(req, res, 404, { title: 'Page not found', message: 'There is nothing at this address.' }));

  const errorHandler: ErrorRequestHandler = (error: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(error);
    const { status, title, message, retryAfter } = describeError(error);
    // pino-http logs the response with this error attached: one log line per failed request.
    if (status >= 500) res.err = error as Error;
    if (retryAfter !== undefined) res.setHeader('Retry-After', String(retryAfter));
    respond(req, res, status, { title, message });
  };
  app.use(errorHandler);

  return app;
}
