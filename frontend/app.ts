import cookieParser from 'cookie-parser';
import ejs from 'ejs';
import express, { type ErrorRequestHandler, type NextFunction, type Request, type Response } from 'express';
import { rateLimit } from 'express-rate-limit';
import helmet from 'helmet';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import { createMenu, formatPrice, type Menu } from '../domain/catalogue.js';
import type { WebConfig } from './config.js';
import { MAX_BODY_BYTES } from '../domain/order.js';
import { UnauthorizedError } from '../domain/errors.js';
import type { Accounts } from './accounts.js';
import type { IdTokenVerifier } from './id-token.js';
import type { CustomerApi, OrderApi, StaffApi } from './order-api.js';
import { graphqlRoutes } from './graphql/routes.js';
import { accountLimiters } from './account-limits.js';
import { accountRoutes } from './routes/accounts.js';
import { createSessions } from './session.js';
import { describeError, respond, wantsJson } from './pages.js';
import { crossSiteReason, isAllowedHost } from './request-origin.js';
import { strictContentSecurityPolicy } from './security-headers.js';
import { shopRoutes } from './routes/shop.js';
import { staffRoutes } from './routes/staff.js';
import { createStatusWatcher } from './status-watch.js';
import type { OrderEvents } from './order-events.js';

export const SHOP_NAME = 'Corner Shop';
const viewsDir = fileURLToPath(new URL('./views', import.meta.url));
const publicDir = fileURLToPath(new URL('./public', import.meta.url));
const REQUEST_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

export type AppConfig = Pick<
  WebConfig,
  | 'RATE_LIMIT_WINDOW_MS'
  | 'RATE_LIMIT_MAX'
  | 'RATE_LIMIT_BURST_MAX'
  | 'ORDER_RATE_LIMIT_MAX'
  | 'TRUST_PROXY_HOPS'
  | 'NODE_ENV'
  | 'STATUS_SAFETY_NET_MS'
  | 'STREAMS_MAX'
  | 'STREAMS_MAX_PER_CLIENT'
  | 'ALLOWED_HOSTS'
  | 'SIGN_IN_WINDOW_MS'
  | 'SIGN_IN_ACCOUNT_MAX'
  | 'SIGN_IN_CLIENT_MAX'
  | 'CODE_MAIL_WINDOW_MS'
  | 'CODE_MAIL_ADDRESS_MAX'
  | 'CODE_MAIL_CLIENT_MAX'
  | 'CODE_ATTEMPT_WINDOW_MS'
  | 'CODE_ATTEMPT_ADDRESS_MAX'
  | 'CODE_ATTEMPT_CLIENT_MAX'
  | 'CONFIRM_ANSWER_FLOOR_MS'
  | 'MENU_CACHE_SECONDS'
>;

export interface AppDeps {
  api: OrderApi & CustomerApi & StaffApi;
  /** The user pool's sign-up and sign-in calls. */
  accounts: Accounts;
  /** Checks a session's ID token (aws-jwt-verify). */
  verifyIdToken: IdTokenVerifier;
  /** Signs CSRF tokens; the same on every instance (see CSRF_SECRET). */
  sessionSecret: string;
  /** The order events this process receives: the status watches and the staff board wait for them. */
  events: OrderEvents;
  config: AppConfig;
  logger: Logger;
  /** The menu the pages show: read through the API and kept MENU_CACHE_SECONDS unless given. */
  menu?: Menu;
  clock?: () => Date;
}

/**
 * The Express web tier: logging, security headers, health check, static files and rate limits
 * around the shop's routes, then one 404 and one error handler. It does not listen; server.ts does.
 */
export function createApp({ api, accounts, verifyIdToken, sessionSecret, events, config, logger, menu = createMenu({ load: ({ fresh }) => api.menu({ fresh }), ttlMs: config.MENU_CACHE_SECONDS * 1000 }), clock = () => new Date() }: AppDeps) {
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
  Object.assign(app.locals, { shopName: SHOP_NAME, formatPrice });

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
  const allowedHosts = config.ALLOWED_HOSTS;
  if (allowedHosts) {
    // Locally, only the names the shop is served under: a page whose own name points at 127.0.0.1
    // (DNS rebinding) sends its own Host, and is refused before it can read or post anything.
    app.use((req, res, next) => {
      if (isAllowedHost(req.headers.host, allowedHosts, req.socket.localPort)) return next();
      respond(req, res, 403, { title: 'Unknown host name', message: 'This shop only answers at the address it was started with.' });
    });
  }
  app.use(
    helmet({
      contentSecurityPolicy: strictContentSecurityPolicy,
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
  // Browsers and crawlers ask for this without reading the page's <link rel="icon">: the same SVG answers.
  app.get('/favicon.ico', (_req, res) => res.sendFile('favicon.svg', { root: publicDir, maxAge: '1h' }));

  const limiterOptions = {
    windowMs: config.RATE_LIMIT_WINDOW_MS,
    standardHeaders: 'draft-8' as const,
    legacyHeaders: false,
    handler: (req: Request, res: Response) =>
      respond(req, res, 429, { title: 'Too many requests', message: 'Please wait a moment and try again.' }),
  };
  app.use(rateLimit({ ...limiterOptions, limit: config.RATE_LIMIT_MAX }));
  app.use(rateLimit({ ...limiterOptions, windowMs: 1000, limit: config.RATE_LIMIT_BURST_MAX, identifier: 'burst' }));
  const orderLimiter = rateLimit({ ...limiterOptions, limit: config.ORDER_RATE_LIMIT_MAX, identifier: 'orders' });
  // A form another site makes the browser post (an order placed without the customer knowing) is refused.
  app.use((req, res, next) => {
    if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') return next();
    const reason = crossSiteReason(req.headers);
    if (!reason) return next();
    req.log.warn({ reason }, 'cross-site request refused');
    respond(req, res, 403, {
      title: 'This form was sent from another site',
      message: 'Nothing was ordered. To place an order, open the shop at its own address and use its form.',
    });
  });

  const sessions = createSessions({ verify: verifyIdToken, accounts, secret: sessionSecret });
  app.use(cookieParser());
  app.use(sessions.readSession);
  app.use((req, res, next) => {
    res.locals.customer = req.customer ?? null;
    // Called by the pages that have forms; a page without one sets no CSRF cookie. One token a
    // response: each call would otherwise make a new one (and cookie) while the cookie is not yet set.
    let token: string | undefined;
    res.locals.csrfToken = () => (token ??= sessions.csrfToken(req, res));
    next();
  });
  // Every form is urlencoded; parsed here so the CSRF check can read its token.
  app.use(express.urlencoded({ extended: false, limit: MAX_BODY_BYTES, parameterLimit: 30 }));
  app.use(sessions.csrfProtection);
  app.use(['/cart', '/checkout'], (req, _res, next) => (req.method === 'POST' ? orderLimiter(req, _res, next) : next()));
  app.use(accountRoutes({ accounts, sessions, limiters: accountLimiters(config), confirmFloorMs: config.CONFIRM_ANSWER_FLOOR_MS }));
  app.use(shopRoutes({ api, menu, clock }));
  app.use(staffRoutes({ api, menu }));

  const watcher = createStatusWatcher({
    api,
    events,
    logger,
    timings: { safetyNetMs: config.STATUS_SAFETY_NET_MS, retryMs: Math.min(5000, config.STATUS_SAFETY_NET_MS) },
  });
  const graphql = graphqlRoutes({
    api,
    viewerOf: (req) => req.customer,
    watcher,
    events,
    logger,
    introspection: config.NODE_ENV !== 'production',
    streams: { max: config.STREAMS_MAX, maxPerClient: config.STREAMS_MAX_PER_CLIENT },
  });
  app.use(graphql.router);
  // lifecycle.stopServer calls this: long-lived streams must not hold a stopping process open.
  app.locals.closeStreams = () => {
    graphql.closeStreams();
    watcher.close();
  };

  app.use((req, res) => respond(req, res, 404, { title: 'Page not found', message: 'There is nothing at this address.' }));

  const errorHandler: ErrorRequestHandler = (error: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(error);
    if ((error as { code?: unknown }).code === 'EBADCSRFTOKEN') {
      req.log.warn('form refused: CSRF token missing or not this session\'s');
      return respond(req, res, 403, {
        title: 'This form could not be accepted',
        message: 'It was not sent from a page this shop gave you in this session (it may be from before you signed in or out). Nothing was changed. Go back, reload the page and send it again.',
      });
    }
    // The session ended between the check and the API's own (the token expired in between).
    if (error instanceof UnauthorizedError && !wantsJson(req)) return res.redirect(303, '/sign-in?notice=sign-in-first');
    const { status, title, message, retryAfter } = describeError(error);
    // pino-http logs the response with this error attached: one log line per failed request.
    if (status >= 500) res.err = error as Error;
    if (retryAfter !== undefined) res.setHeader('Retry-After', String(retryAfter));
    respond(req, res, status, { title, message });
  };
  app.use(errorHandler);

  return app;
}
