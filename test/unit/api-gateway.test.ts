import type { APIGatewayProxyEvent } from 'aws-lambda';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApiGateway, type ApiRoute } from '../../local/api-gateway.js';
import { silentLogger } from '../helpers/loggers.js';

const seen: APIGatewayProxyEvent[] = [];
const echo: ApiRoute['handler'] = (event) => {
  seen.push(event);
  return Promise.resolve({ statusCode: 200, headers: { 'content-type': 'application/json', 'x-echo': 'yes' }, body: JSON.stringify({ ok: true }) });
};

async function start(throttle = { rateLimit: 1000, burstLimit: 1000 }, handler = echo) {
  const server = createServer(
    createApiGateway({
      apiKey: 'secret-key-123',
      maxBodyBytes: 8192,
      throttle,
      stageName: 'v1',
      logger: silentLogger(),
      routes: [
        { method: 'POST', resource: '/orders', functionName: 'submit-order', handler },
        { method: 'GET', resource: '/orders/{id}', functionName: 'get-order', handler },
      ],
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

let gateway: { server: Server; url: string };
beforeAll(async () => (gateway = await start()));
afterAll(() => new Promise((resolve) => gateway.server.close(resolve)));
beforeEach(() => (seen.length = 0));

const key = { 'x-api-key': 'secret-key-123' };

describe('the API Gateway adapter', () => {
  it('when a request matches a route, then the handler gets a REST proxy event with path, query, headers and request id', async () => {
    const response = await fetch(`${gateway.url}/orders/abc%20def?x=1&x=2&y=3`, { headers: { ...key, 'X-Custom': 'v' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-echo')).toBe('yes');
    const [event] = seen;
    expect(event).toMatchObject({
      resource: '/orders/{id}',
      path: '/orders/abc%20def',
      httpMethod: 'GET',
      pathParameters: { id: 'abc def' },
      queryStringParameters: { x: '2', y: '3' },
      multiValueQueryStringParameters: { x: ['1', '2'], y: ['3'] },
      body: null,
      requestContext: { stage: 'v1', resourcePath: '/orders/{id}', httpMethod: 'GET', identity: { apiKey: 'secret-key-123' } },
    });
    expect(event?.headers['x-custom']).toBe('v');
    expect(event?.requestContext.requestId).toBe(response.headers.get('x-amzn-requestid'));
  });

  it('when the API key is missing or wrong, then 403 and the handler is not called', async () => {
    expect((await fetch(`${gateway.url}/orders`, { method: 'POST', body: '{}' })).status).toBe(403);
    expect((await fetch(`${gateway.url}/orders`, { method: 'POST', body: '{}', headers: { 'x-api-key': 'secret-key-124' } })).status).toBe(403);
    expect(seen).toHaveLength(0);
  });

  it('when the route is unknown, then 404', async () => {
    for (const [method, path] of [['GET', '/'], ['DELETE', '/orders/1'], ['GET', '/orders'], ['GET', '/orders/1/2']] as const) {
      expect((await fetch(`${gateway.url}${path}`, { method, headers: key })).status).toBe(404);
    }
  });

  it('when the body is over 8 KiB, then 413; at 8 KiB exactly, then it passes', async () => {
    const over = await fetch(`${gateway.url}/orders`, { method: 'POST', headers: key, body: 'x'.repeat(8193) });
    expect(over.status).toBe(413);
    const at = await fetch(`${gateway.url}/orders`, { method: 'POST', headers: key, body: 'x'.repeat(8192) });
    expect(at.status).toBe(200);
    expect(seen[0]?.body).toHaveLength(8192);
  });

  it('when a path parameter has a malformed escape, then 400', async () => {
    expect((await fetch(`${gateway.url}/orders/%E0%A4%A`, { headers: key })).status).toBe(400);
  });

  it('when the handler throws, then 502 with no detail', async () => {
    const failing = await start(undefined, () => Promise.reject(new Error('secret detail')));
    const response = await fetch(`${failing.url}/orders`, { method: 'POST', headers: key, body: '{}' });
    expect(response.status).toBe(502);
    expect(await response.text()).not.toContain('secret detail');
    failing.server.close();
  });

  it('when requests exceed the burst, then 429 with Retry-After', async () => {
    const throttled = await start({ rateLimit: 1, burstLimit: 3 });
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await fetch(`${throttled.url}/orders/x`, { headers: key })).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    const limited = await fetch(`${throttled.url}/orders/x`, { headers: key });
    expect(limited.headers.get('retry-after')).toBe('1');
    throttled.server.close();
  });
});
