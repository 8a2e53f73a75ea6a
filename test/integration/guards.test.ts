// Must show 3 of issue 11: what a web page the developer happens to open can no longer do to the
// local stack, and what the tools developers use still can.
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { ListTopicsCommand } from '@aws-sdk/client-sns';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { promisify } from 'node:util';
import type { StoredOrder } from '../../domain/order.js';
import type { LocalStack } from '../../local/stack.js';
import { queueDepth, SEED_ORDER, startTestStack } from '../helpers/local-stack.js';
import { signedInCustomer } from '../helpers/customers.js';
import { commandMissing, gate } from '../helpers/requirements.js';
import { cartVersionOf } from '../helpers/web.js';
import { waitFor } from '../helpers/wait.js';
import type { ProxyHandler } from '../../local/api-gateway.js';

const run = promisify(execFile);
const EVIL = 'http://evil.example';
/** The email of the customer each checkout was for (from the authorizer's claims): proof that a refused post reached nothing. */
const checkedOut: string[] = [];

let stack: LocalStack;
beforeAll(async () => {
  stack = await startTestStack({
    ports: { console: 0 },
    webEnv: { ORDER_RATE_LIMIT_MAX: '3' },
    wrap: {
      checkout: (handler: ProxyHandler) => async (event: APIGatewayProxyEvent, context: Context) => {
        checkedOut.push(String((event.requestContext.authorizer as { claims?: Record<string, unknown> } | null)?.claims?.email));
        return handler(event, context);
      },
    },
  });
});
afterAll(() => stack.stop(), 30_000);

/** A raw HTTP request with exactly these headers (fetch would set Host and Origin itself). */
function raw(url: string, { method = 'GET', headers = {}, body }: { method?: string; headers?: Record<string, string>; body?: string }): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const { hostname, port, pathname, search } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, method, path: `${pathname}${search}`, agent: false, headers: { ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}), ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A form post from a page on another site, as the browser sends it. */
const formFrom = (origin: string, body: string, extra: Record<string, string> = {}) => ({
  method: 'POST',
  headers: { origin, 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'cross-site', ...extra },
  body,
});

describe('the emulators, from a web page', () => {
  it('when another site posts forms to the SQS/SNS endpoint (make a topic, subscribe orders, publish an order), then each is refused and nothing changes', async () => {
    const topic = `evil-${randomUUID().slice(0, 8)}`;
    const depthBefore = await queueDepth(stack, stack.resources.queue);
    const forms = [
      `Action=CreateTopic&Name=${topic}`,
      `Action=Subscribe&TopicArn=${encodeURIComponent(stack.resources.topics.orderEvents)}&Protocol=sqs&Endpoint=${encodeURIComponent(stack.resources.queue.arn)}`,
      `Action=Publish&TopicArn=${encodeURIComponent(stack.resources.topics.orderEvents)}&Message=${encodeURIComponent(JSON.stringify({ ...SEED_ORDER, quantity: 1000 }))}`,
    ];
    for (const form of forms) {
      const response = await raw(stack.urls.sqs, formFrom(EVIL, form));
      expect(response.status).toBe(403);
      expect(response.headers['access-control-allow-origin']).toBeUndefined();
    }
    // The same forms without an Origin (an old browser) are still not signed: refused too.
    expect((await raw(stack.urls.sqs, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: forms[0] })).status).toBe(403);
    const preflight = await raw(stack.urls.sqs, { method: 'OPTIONS', headers: { origin: EVIL, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,x-amz-target' } });
    expect(preflight.status).toBe(403);
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();

    const { Topics = [] } = await stack.clients.sns.send(new ListTopicsCommand({}));
    expect(Topics.map((entry) => entry.TopicArn)).not.toContainEqual(expect.stringContaining(topic));
    expect(await queueDepth(stack, stack.resources.queue)).toEqual(depthBefore);
  });

  it('when another site reads or writes the table at the DynamoDB endpoint, then its preflight and its request are refused without CORS headers, and no item is written', async () => {
    const orderId = randomUUID();
    const preflight = await raw(stack.urls.dynamodb, { method: 'OPTIONS', headers: { origin: EVIL, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type,x-amz-target' } });
    expect(preflight.status).toBe(403);
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    const put = JSON.stringify({ TableName: stack.resources.tableName, Item: { order_id: { S: orderId }, quantity: { N: '1000' } } });
    for (const headers of [
      // What a page could send once a permissive preflight had let it: refused for its Origin.
      { origin: EVIL, 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.PutItem', authorization: 'AWS4-HMAC-SHA256 Credential=x/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0' },
      // A form's text/plain post: no signature.
      { origin: EVIL, 'content-type': 'text/plain' },
    ] as Record<string, string>[]) {
      const response = await raw(stack.urls.dynamodb, { method: 'POST', headers, body: put });
      expect(response.status).toBe(403);
      expect(response.headers['access-control-allow-origin']).toBeUndefined();
    }
    const { Item } = await stack.clients.dynamodb.send(new GetItemCommand({ TableName: stack.resources.tableName, Key: { order_id: { S: orderId } } }));
    expect(Item).toBeUndefined();
  });
});

const aws = gate('the aws CLI against the local stack', commandMissing('aws', ['--version'], 'pip install awscli'));
const boto3 = gate('boto3 against the local stack', commandMissing('python3', ['-c', 'import boto3'], 'pip install boto3'));
const cliEnv = () => ({ ...process.env, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', AWS_DEFAULT_REGION: 'us-east-1' });

describe('the tools the README shows', () => {
  aws.it('when aws sqs send-message is run as the README shows it, then the message is on the queue', async () => {
    const body = `from the cli ${randomUUID()}`;
    const { stdout } = await run('aws', ['--endpoint-url', stack.urls.sqs, 'sqs', 'send-message', '--queue-url', stack.resources.deadLetterQueue.url, '--message-body', body], { env: cliEnv() });
    expect(JSON.parse(stdout)).toHaveProperty('MessageId');
    const inspected = await waitFor(() => stack.inspectQueue(stack.resources.deadLetterQueue.name)?.messages.ready.find((message) => message.body === body), { what: 'the message' });
    expect(inspected.body).toBe(body);
    const attributes = await run('aws', ['--endpoint-url', stack.urls.sqs, 'sqs', 'get-queue-attributes', '--queue-url', stack.resources.deadLetterQueue.url, '--attribute-names', 'All'], { env: cliEnv() });
    expect(attributes.stdout).toContain('ApproximateNumberOfMessages');
  }, 30_000);

  boto3.it('when boto3 sends to SQS and reads DynamoDB, then both answer', async () => {
    const body = `from boto3 ${randomUUID()}`;
    const script = [
      'import boto3, sys',
      "kw = dict(region_name='us-east-1', aws_access_key_id='local', aws_secret_access_key='local')",
      `sqs = boto3.client('sqs', endpoint_url='${stack.urls.sqs}', **kw)`,
      `print(sqs.send_message(QueueUrl='${stack.resources.deadLetterQueue.url}', MessageBody=sys.argv[1])['MessageId'])`,
      `ddb = boto3.client('dynamodb', endpoint_url='${stack.urls.dynamodb}', **kw)`,
      "print(ddb.describe_table(TableName='orders')['Table']['TableStatus'])",
    ].join('\n');
    const { stdout } = await run('python3', ['-c', script, body], { env: cliEnv() });
    expect(stdout.trim().split('\n')[1]).toBe('ACTIVE');
    await waitFor(() => stack.inspectQueue(stack.resources.deadLetterQueue.name)?.messages.ready.some((message) => message.body === body), { what: 'the message' });
  }, 30_000);
});

describe('host names (DNS rebinding)', () => {
  it.each([
    ['the console', () => stack.urls.console!],
    ['the web tier', () => stack.urls.web],
    ['the API', () => `${stack.urls.api}/orders/${randomUUID()}`],
    ['the SQS/SNS emulator', () => stack.urls.sqs],
    ['the DynamoDB emulator', () => stack.urls.dynamodb],
  ])('when %s is asked for with Host: evil.example, then 403 and nothing of it is shown', async (_name, url) => {
    const response = await raw(url(), { headers: { host: 'evil.example', 'x-api-key': stack.apiKey } });
    expect(response.status).toBe(403);
    expect(response.body).not.toContain('csrf');
    expect(response.body).not.toContain('Pizza Margherita');
  });

  it('when they are asked for as localhost, then they answer, the console and the shop with the same strict CSP', async () => {
    const policies: unknown[] = [];
    for (const base of [stack.urls.console!, stack.urls.web]) {
      const { port } = new URL(base);
      const response = await raw(`http://127.0.0.1:${port}/`, { headers: { host: `localhost:${port}` } });
      expect(response.status).toBe(200);
      policies.push(response.headers['content-security-policy']);
    }
    expect(policies[0]).toMatch(/^default-src 'none';.*script-src 'self';.*frame-ancestors 'none'/);
    expect(policies[0]).not.toContain('unsafe');
    expect(policies[1]).toBe(policies[0]);
  });
});

describe('cross-site posts', () => {
  it('when another site posts a signed-in customer\'s checkout or cart form, even with their cookies and CSRF token, then a 403 page says so and nothing is ordered or changed', async () => {
    const { client, email } = await signedInCustomer(stack);
    expect((await client.putInCart('Banana', 1)).status).toBe(303);
    const { html } = await client.get('/cart');
    const checkout = new URLSearchParams({ _csrf: client.csrf!, cart_version: cartVersionOf(html) }).toString();
    const cartLine = new URLSearchParams({ _csrf: client.csrf!, product_id: 'Margherita', quantity: '1000' }).toString();
    // What a page elsewhere could send at best: the session's cookies and a token it somehow learnt.
    const cookies = { accept: 'text/html', cookie: client.cookieHeader() };
    for (const extra of [{}, { 'sec-fetch-site': 'same-site' }] as Record<string, string>[]) {
      for (const [path, body] of [['/checkout', checkout], ['/cart/lines', cartLine]] as const) {
        const response = await raw(`${stack.urls.web}${path}`, formFrom(EVIL, body, { ...cookies, ...extra }));
        expect(response.status).toBe(403);
        expect(response.body).toContain('This form was sent from another site');
      }
    }
    expect((await client.get('/cart')).html).not.toContain('data-product-id="Margherita"');
    // The shop's own page posting the same checkout is taken (the control), then the refused ones are known to have reached nothing.
    const own = await raw(`${stack.urls.web}/checkout`, formFrom(new URL(stack.urls.web).origin, checkout, { ...cookies, 'sec-fetch-site': 'same-origin' }));
    expect(own.status).toBe(303);
    expect(checkedOut.filter((who) => who === email)).toHaveLength(1);
  });

  it('when another site posts to the console\'s redrive, even with the token, then 403 and the DLQ keeps its message', async () => {
    const poison = `poison ${randomUUID()}`;
    await stack.clients.sqs.send(new SendMessageCommand({ QueueUrl: stack.resources.deadLetterQueue.url, MessageBody: poison }));
    const page = await raw(stack.urls.console!, {});
    const token = /name="csrf" value="([0-9a-f]+)"/.exec(page.body)?.[1];
    expect(token).toBeDefined();
    const inDlq = () => stack.inspectQueue(stack.resources.deadLetterQueue.name)!.messages.ready.some((message) => message.body === poison);
    for (const headers of [{ origin: EVIL }, {}, { origin: 'null' }] as Record<string, string>[]) {
      const response = await raw(`${stack.urls.console!}/dlq/redrive`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: `csrf=${token}` });
      expect(response.status).toBe(403);
      expect(inDlq()).toBe(true);
    }
    // From the console's own page it redrives.
    const own = await raw(`${stack.urls.console!}/dlq/redrive`, { method: 'POST', headers: { origin: new URL(stack.urls.console!).origin, 'content-type': 'application/x-www-form-urlencoded' }, body: `csrf=${token}` });
    expect(own.status).toBe(303);
    expect(inDlq()).toBe(false);
  });
});

describe('the local rate limit', () => {
  it('when a client sends a new X-Forwarded-For with every cart post, then it is still limited as one client', async () => {
    const { client } = await signedInCustomer(stack);
    await client.get('/');
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const body = new URLSearchParams({ _csrf: client.csrf!, product_id: 'Banana', quantity: String(i + 1) }).toString();
      const response = await client.request('/cart/lines', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': `203.0.113.${i + 1}` }, body });
      statuses.push(response.status);
    }
    // ORDER_RATE_LIMIT_MAX is 3 here, for this client's cart and checkout posts together (those of the test above count too).
    expect(statuses.filter((status) => status !== 429).length).toBeLessThanOrEqual(3);
    expect(statuses.filter((status) => status === 429).length).toBeGreaterThanOrEqual(2);
    expect(statuses.slice(-1)).toEqual([429]);
  });
});

describe('the console', () => {
  it('when it shows the DLQ, then it receives nothing: the receive count stays what the emulator has, refresh after refresh', async () => {
    const body = `counted ${randomUUID()}`;
    await stack.clients.sqs.send(new SendMessageCommand({ QueueUrl: stack.resources.deadLetterQueue.url, MessageBody: body }));
    const shown = async () => {
      const { body: json } = await raw(`${stack.urls.console!}/api/state`, {});
      return (JSON.parse(json) as { deadLetters: { body: string; receiveCount: number }[] }).deadLetters.find((letter) => letter.body === body)?.receiveCount;
    };
    const counts = [await shown(), await shown(), await shown(), await shown()];
    expect(counts).toEqual([0, 0, 0, 0]);
    expect(stack.inspectQueue(stack.resources.deadLetterQueue.name)!.messages.ready.find((message) => message.body === body)?.approximateReceiveCount).toBe(0);
  });

  it('when a post is too large, then 413 (not 500); when an item in the table is not an order, then the page still shows, with that row marked', async () => {
    const large = await raw(`${stack.urls.console!}/dlq/redrive`, { method: 'POST', headers: { origin: new URL(stack.urls.console!).origin, 'content-type': 'application/x-www-form-urlencoded' }, body: `csrf=${'x'.repeat(4096)}` });
    expect(large.status).toBe(413);
    const orderId = randomUUID();
    // Written by hand, as someone might with the aws CLI: no status, no total, a number for the lines.
    await stack.store.putOnce({ order_id: orderId, customer_id: 'by-hand', lines: 42, received_at: new Date().toISOString() } as unknown as StoredOrder);
    const page = await raw(stack.urls.console!, {});
    expect(page.status).toBe(200);
    expect(page.body).toMatch(new RegExp(`data-order="${orderId}" class="unreadable"`));
    expect(page.body).toContain('unreadable: lines, total_cents, status');
  });
});
