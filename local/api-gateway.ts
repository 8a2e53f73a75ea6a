import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { isAllowedHost, type HostRule } from '../frontend/request-origin.js';
import { createLambdaContext } from './lambda-context.js';
import type { FunctionName } from '../platform/functions.js';
import type { Authorizer } from './authorizer.js';

export type ProxyHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

export interface ApiRoute {
  method: string;
  /** API Gateway's resource path, for example /orders/{id}. */
  resource: string;
  functionName: FunctionName;
  handler: ProxyHandler;
  /** The route's Cognito authorizer; without one the API key alone lets a request in. */
  authorizer?: Authorizer;
}

export interface ApiGatewayOptions {
  routes: readonly ApiRoute[];
  apiKey: string;
  maxBodyBytes: number;
  throttle: { rateLimit: number; burstLimit: number };
  stageName: string;
  logger: Logger;
  /** The Host names it answers to; API Gateway answers its own domain only. Absent: any. */
  hosts?: readonly HostRule[];
}

interface CompiledRoute extends ApiRoute {
  pattern: RegExp;
  parameterNames: string[];
}

function compile(route: ApiRoute): CompiledRoute {
  const parameterNames: string[] = [];
  const source = route.resource.replace(/\{(\w+)\}/g, (_match, name: string) => {
    parameterNames.push(name);
    return '([^/]+)';
  });
  return { ...route, pattern: new RegExp(`^${source}$`), parameterNames };
}

/** A usage plan's throttle: a token bucket of `burstLimit` tokens refilled at `rateLimit` a second. */
function createTokenBucket({ rateLimit, burstLimit }: { rateLimit: number; burstLimit: number }) {
  let tokens = burstLimit;
  let refilledAt = Date.now();
  return () => {
    const now = Date.now();
    tokens = Math.min(burstLimit, tokens + ((now - refilledAt) / 1000) * rateLimit);
    refilledAt = now;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  };
}

function sameKey(given: string | undefined, expected: Buffer): boolean {
  if (given === undefined) return false;
  const buffer = Buffer.from(given);
  return buffer.length === expected.length && timingSafeEqual(buffer, expected);
}

function send(res: ServerResponse, statusCode: number, body: string, headers: Record<string, string | number | boolean | string[]> = {}) {
  res.writeHead(statusCode, { 'content-type': 'application/json', ...headers });
  res.end(body);
}

/** Reads the body up to `limit` bytes; null when it is larger. */
async function readBody(req: IncomingMessage, limit: number): Promise<string | null> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return null;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function toEvent(
  req: IncomingMessage,
  route: CompiledRoute,
  pathParameters: Record<string, string> | null,
  body: string,
  requestId: string,
  claims: Record<string, string> | undefined,
  options: ApiGatewayOptions,
): APIGatewayProxyEvent {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (const [name, values] of Object.entries(req.headersDistinct)) {
    if (!values) continue;
    headers[name] = values.join(',');
    multiValueHeaders[name] = values;
  }
  const query: Record<string, string> = {};
  const multiQuery: Record<string, string[]> = {};
  for (const [name, value] of url.searchParams) {
    query[name] = value;
    (multiQuery[name] ??= []).push(value);
  }
  const hasQuery = Object.keys(query).length > 0;
  const now = new Date();
  return {
    resource: route.resource,
    path: url.pathname,
    httpMethod: route.method,
    headers,
    multiValueHeaders,
    queryStringParameters: hasQuery ? query : null,
    multiValueQueryStringParameters: hasQuery ? multiQuery : null,
    pathParameters,
    stageVariables: null,
    body: body === '' ? null : body,
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: claims ? { claims } : null,
      protocol: `HTTP/${req.httpVersion}`,
      httpMethod: route.method,
      path: `/${options.stageName}${url.pathname}`,
      stage: options.stageName,
      requestId,
      requestTimeEpoch: now.getTime(),
      resourceId: 'local',
      resourcePath: route.resource,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: headers['x-api-key'] ?? null,
        apiKeyId: 'local',
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        user: null,
        userAgent: headers['user-agent'] ?? null,
        userArn: null,
      },
    },
  };
}

/**
 * API Gateway's REST API in front of the Lambda handlers: routes, API key, usage-plan throttle
 * and body limit enforced as the gateway would, then a proxy event for the same handler code.
 */
export function createApiGateway(options: ApiGatewayOptions): RequestListener {
  const routes = options.routes.map(compile);
  const expectedKey = Buffer.from(options.apiKey);
  const takeToken = createTokenBucket(options.throttle);

  return (req, res) => {
    const requestId = randomUUID();
    res.setHeader('x-amzn-RequestId', requestId);
    void (async () => {
      if (options.hosts && !isAllowedHost(req.headers.host, options.hosts, req.socket.localPort)) {
        return send(res, 403, JSON.stringify({ message: 'Forbidden: unknown host name' }));
      }
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      let matched: { route: CompiledRoute; parameters: Record<string, string> | null } | undefined;
      for (const route of routes) {
        const match = route.method === req.method ? route.pattern.exec(path) : null;
        if (!match) continue;
        try {
          const values = match.slice(1).map((value) => decodeURIComponent(value));
          const parameters = route.parameterNames.length > 0 ? Object.fromEntries(route.parameterNames.map((name, i) => [name, values[i]!])) : null;
          matched = { route, parameters };
        } catch {
          return send(res, 400, JSON.stringify({ message: 'Bad request: malformed path' }));
        }
        break;
      }
      if (!matched) return send(res, 404, JSON.stringify({ message: 'Not Found' }));
      // As API Gateway does: the authorizer first, then the API key and the usage plan.
      let claims: Record<string, string> | undefined;
      if (matched.route.authorizer) {
        claims = await matched.route.authorizer(req.headers.authorization);
        if (!claims) return send(res, 401, JSON.stringify({ message: 'Unauthorized' }));
      }
      if (!sameKey(req.headers['x-api-key'] as string | undefined, expectedKey)) return send(res, 403, JSON.stringify({ message: 'Forbidden' }));
      if (!takeToken()) return send(res, 429, JSON.stringify({ message: 'Too Many Requests' }), { 'retry-after': 1 });

      const body = await readBody(req, options.maxBodyBytes);
      if (body === null) {
        return send(res, 413, JSON.stringify({ message: `Request body is larger than ${options.maxBodyBytes} bytes` }), { connection: 'close' });
      }
      const event = toEvent(req, matched.route, matched.parameters, body, requestId, claims, options);
      let result: APIGatewayProxyResult;
      try {
        result = await matched.route.handler(event, createLambdaContext(matched.route.functionName));
      } catch (error) {
        options.logger.error({ err: error, functionName: matched.route.functionName, requestId }, 'Lambda invocation failed');
        return send(res, 502, JSON.stringify({ message: 'Internal server error' }));
      }
      const headers: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(result.headers ?? {})) headers[name] = String(value);
      for (const [name, values] of Object.entries(result.multiValueHeaders ?? {})) headers[name] = values.map(String);
      const payload = result.isBase64Encoded ? Buffer.from(result.body, 'base64') : result.body;
      res.writeHead(result.statusCode, headers);
      res.end(payload);
    })().catch((error: unknown) => {
      options.logger.error({ err: error, requestId }, 'API adapter failed');
      if (!res.headersSent) send(res, 500, JSON.stringify({ message: 'Internal server error' }));
      else res.destroy();
    });
  };
}

/** The adapter on its own HTTP server; `stop` cuts open connections, as a stack shutting down does. */
export async function startApiGateway(options: ApiGatewayOptions, port: number, host: string): Promise<{ url: string; stop(): Promise<void> }> {
  const server = createServer(createApiGateway(options));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    url: `http://${host}:${(server.address() as AddressInfo).port}`,
    stop: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}
