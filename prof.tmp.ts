import autocannon from 'autocannon';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { randomUUID } from 'node:crypto';
import { startTestStack } from './test/helpers/local-stack.js';
import { handMadeToken } from './test/helpers/customers.js';

const stack = await startTestStack({ profile: 'fast', processOrders: false, runSchedules: false, throttle: { rateLimit: 100000, burstLimit: 100000 } });
const now = Math.floor(Date.now() / 1000);
const N = Number(process.env.N ?? 1500);
const tokens: string[] = [];
for (let i = 0; i < N; i++) {
  const sub = randomUUID();
  tokens.push(handMadeToken({ sub, email: `${sub}@example.com`, token_use: 'id', aud: stack.userPool.clientId, iss: stack.userPool.issuer, iat: now, exp: now + 3600, auth_time: now }, 'pool'));
}
// carts
let next = 0;
await Promise.all(Array.from({ length: 20 }, async () => {
  for (let i = next++; i < N; i = next++) {
    for (const p of ['Banana', 'Cola', 'Margherita']) {
      const r = await fetch(`${stack.urls.api}/me/cart/lines/${p}`, { method: 'PUT', headers: { 'x-api-key': stack.apiKey, authorization: tokens[i]!, 'content-type': 'application/json' }, body: '{"quantity":2}' });
      if (r.status !== 200) throw new Error(`cart ${r.status} ${await r.text()}`);
    }
  }
}));
console.error('carts ready');
let k = 0;
const t0 = Date.now();
const result = await autocannon({ url: `${stack.urls.api}/me/orders`, method: 'POST', connections: 50, amount: N, requests: [{ setupRequest: (req) => ({ ...req, headers: { ...req.headers, 'x-api-key': stack.apiKey, authorization: tokens[k++]!, 'content-type': 'application/json' }, body: '{}' }) }] });
console.error(`checkout: ${(result.requests.total / ((Date.now() - t0) / 1000)).toFixed(0)} req/s, p99 ${result.latency.p99}, non2xx ${result.non2xx}`);
const deadline = Date.now() + 3000;
let count = 0;
const body = JSON.stringify({ hello: 'x'.repeat(300) });
await Promise.all(Array.from({ length: 50 }, async () => { while (Date.now() < deadline) { await stack.clients.sqs.send(new SendMessageCommand({ QueueUrl: stack.resources.queue.url, MessageBody: body })); count++; } }));
console.error(`raw send: ${(count / 3).toFixed(0)}/s`);
await stack.stop();
