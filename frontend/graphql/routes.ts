import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { GraphQLError, OperationTypeNode, type ExecutionResult } from 'graphql';
import { createHandler as createQueryHandler } from 'graphql-http/lib/use/express';
import { createHandler as createStreamHandler } from 'graphql-sse/lib/use/express';
import type { Logger } from 'pino';
import { AppError } from '../../domain/errors.js';
import type { CustomerApi, OrderApi, StaffApi } from '../order-api.js';
import type { OrderEvents } from '../order-events.js';
import type { StatusWatcher, Viewer } from '../status-watch.js';
import { MAX_DOCUMENT_BYTES, prepareOperation, type OperationParams } from './operation.js';
import { schema, type GraphQLContext } from './schema.js';

export interface GraphQLRoutesOptions {
  api: OrderApi & CustomerApi & StaffApi;
  /** The signed-in customer, whose account's orders only they may read (with their token). */
  viewerOf: (req: Request) => Viewer | undefined;
  watcher: StatusWatcher;
  events: OrderEvents;
  logger: Logger;
  introspection: boolean;
  streams: { max: number; maxPerClient: number };
}

const STATUS_TEXT: Record<number, string> = { 405: 'Method Not Allowed', 413: 'Payload Too Large', 415: 'Unsupported Media Type', 429: 'Too Many Requests' };

type HandlerResponse = [string, { status: number; statusText: string; headers: Record<string, string> }];

/** A GraphQL answer that is only errors, with its HTTP status. */
function errorResponse(errors: readonly { message: string; locations?: readonly unknown[] | undefined }[], status = 400, headers: Record<string, string> = {}): HandlerResponse {
  return [
    JSON.stringify({ errors: errors.map(({ message, locations }) => ({ message, ...(locations?.length ? { locations } : {}) })) }),
    { status, statusText: STATUS_TEXT[status] ?? 'Bad Request', headers: { 'content-type': 'application/json; charset=utf-8', ...headers } },
  ];
}

function sendErrors(res: Response, ...args: Parameters<typeof errorResponse>) {
  const [body, init] = errorResponse(...args);
  res.status(init.status).set(init.headers).send(body);
}

/**
 * Errors a resolver threw: an AppError's message is safe to show (the order service is down, say);
 * anything else is logged and shown as a bare internal error, as the REST routes do.
 */
function maskErrors(result: ExecutionResult, logger: Logger, requestId: string | undefined): ExecutionResult {
  if (!result.errors?.length) return result;
  return {
    ...result,
    errors: result.errors.map((error) => {
      if (!error.originalError || error.originalError instanceof AppError || error.originalError instanceof GraphQLError) return error;
      logger.error({ err: error.originalError, request_id: requestId }, 'GraphQL resolver failed');
      return new GraphQLError('Internal server error', { nodes: error.nodes ?? null, path: error.path ?? null });
    }),
  };
}

/**
 * GraphQL on the web tier: queries at /graphql (graphql-http), subscriptions as server-sent events at
 * /graphql/stream (graphql-sse, which pings every 12 s, inside the ALB's 60 s idle timeout). Both
 * parse and validate through prepareOperation, so every hostile document is a 400 naming its problem.
 */
export function graphqlRoutes({ api, viewerOf, watcher, events, logger, introspection, streams }: GraphQLRoutesOptions): { router: Router; closeStreams(): void } {
  const router = express.Router();
  const limits = { introspection };
  const context = (req: Request): GraphQLContext => {
    const connection = new AbortController();
    req.res?.once('close', () => connection.abort());
    return { api, watcher, events, viewer: viewerOf(req), requestId: req.id as string | undefined, closed: connection.signal };
  };

  function prepare(req: Request, params: OperationParams, transport: 'query' | 'stream') {
    const prepared = prepareOperation(params, limits);
    if (!prepared.ok) return errorResponse(prepared.errors);
    if (transport === 'query' && prepared.operation === OperationTypeNode.SUBSCRIPTION) {
      return errorResponse([{ message: 'Subscriptions are served as server-sent events: send them to /graphql/stream with Accept: text/event-stream' }]);
    }
    return { schema, document: prepared.document, operationName: params.operationName ?? null, variableValues: params.variables ?? null, contextValue: context(req) };
  }

  const queries = createQueryHandler<GraphQLContext>({
    schema,
    onSubscribe: (req, params) => prepare(req.raw, params, 'query'),
    onOperation(req, args, result) {
      // Variables that do not fit their types leave no data: a request error, not a 200.
      if (!('data' in result) || result.data === undefined) return errorResponse(result.errors ?? [{ message: 'The operation could not run' }]);
      return maskErrors(result, logger, args.contextValue?.requestId);
    },
  });

  const stream = createStreamHandler<GraphQLContext>({
    schema,
    onSubscribe: (req, params) => prepare(req.raw, params, 'stream'),
    onNext: (ctx, _req, result) => maskErrors(result as ExecutionResult, logger, ctx.requestId),
  });

  const bodyLimit = express.json({ limit: MAX_DOCUMENT_BYTES, type: ['application/json', 'application/graphql-response+json'] });

  // graphql-http answers other methods with an empty 405; this one says what to do.
  router.all(['/graphql', '/graphql/stream'], (req, res, next) => {
    if (req.method === 'GET' || req.method === 'POST') return next();
    sendErrors(res, [{ message: `${req.method} is not served here: send the operation with GET or POST` }], 405, { allow: 'GET, POST' });
  });

  router.all('/graphql', bodyLimit, (req, res, next) => {
    queries(req, res, next);
  });

  const open = new Set<Response>();
  const perClient = new Map<string, number>();
  router.all(
    '/graphql/stream',
    (req, res, next) => {
      if (req.originalUrl.length > MAX_DOCUMENT_BYTES) return sendErrors(res, [{ message: `The request is larger than ${MAX_DOCUMENT_BYTES} bytes` }]);
      const client = req.ip ?? 'unknown';
      const fromClient = perClient.get(client) ?? 0;
      if (open.size >= streams.max) return sendErrors(res, [{ message: 'Too many status streams are open on this server; try again shortly' }], 429, { 'retry-after': '5' });
      if (fromClient >= streams.maxPerClient) return sendErrors(res, [{ message: `At most ${streams.maxPerClient} status streams may be open from one address` }], 429, { 'retry-after': '5' });
      open.add(res);
      perClient.set(client, fromClient + 1);
      res.once('close', () => {
        open.delete(res);
        const left = (perClient.get(client) ?? 1) - 1;
        if (left > 0) perClient.set(client, left);
        else perClient.delete(client);
      });
      // graphql-sse's distinct-connections mode wants exactly this value; browsers and curl vary.
      if (req.headers.accept?.includes('text/event-stream')) req.headers.accept = 'text/event-stream';
      next();
    },
    bodyLimit,
    (req, res, next) => {
      stream(req, res).catch((error: unknown) => {
        if (res.headersSent) {
          logger.warn({ err: error }, 'status stream ended by an error');
          res.destroy();
        } else next(error);
      });
    },
  );

  // Body-parser's refusals (too large, not JSON) as GraphQL errors, like every other request error here.
  router.use(['/graphql', '/graphql/stream'], (error: unknown, _req: Request, res: Response, next: NextFunction) => {
    const { type, status } = error as { type?: string; status?: number };
    if (type === 'entity.too.large') return sendErrors(res, [{ message: `The request is larger than ${MAX_DOCUMENT_BYTES} bytes` }]);
    if (type === 'entity.parse.failed') return sendErrors(res, [{ message: 'The request body is not valid JSON' }]);
    if (typeof status === 'number' && status >= 400 && status < 500) return sendErrors(res, [{ message: 'The request could not be read' }], status);
    next(error);
  });

  return {
    router,
    // A stopping process drops its streams at once: browsers reconnect, through the load balancer, to another instance.
    closeStreams() {
      for (const res of open) res.destroy();
    },
  };
}
