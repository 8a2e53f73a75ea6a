// The quick start on whatever Node runs it: `npm start`'s command, then the README's first order with
// its API key, followed until the kitchen has COMPLETED it. .ci/run runs this with the unit project on
// the newest LTS too (Node 24), beside the whole suite on the floor (Node 22).
import { startStackProcess, stackPorts, type StackProcess } from '../helpers/stack-process.js';
import { waitFor } from '../helpers/wait.js';

let stack: StackProcess | undefined;
afterAll(async () => {
  stack?.signal('SIGINT');
  await stack?.exited;
});

it(`when npm start runs on Node ${process.versions.node} and an order is placed with curl's request, then it is COMPLETED`, async () => {
  // Named by npm test's stage for a second Node: a smoke that ran on another Node would prove nothing.
  if (process.env.EXPECT_NODE_MAJOR) expect(process.versions.node.split('.')[0]).toBe(process.env.EXPECT_NODE_MAJOR);
  const ports = await stackPorts();
  stack = await startStackProcess(Object.fromEntries(Object.entries(ports).map(([name, port]) => [name, String(port)])));
  const api = `http://127.0.0.1:${ports.API_PORT}`;
  const headers = { 'content-type': 'application/json', 'x-api-key': 'local-dev-key' };
  const placed = await fetch(`${api}/orders`, { method: 'POST', headers, body: JSON.stringify({ customer_id: '001', product_id: 'Banana', quantity: '1', order_date: '2025-04-25' }) });
  expect(placed.status).toBe(202);
  const { order_id: orderId } = (await placed.json()) as { order_id: string };
  let history: string[] = [];
  await waitFor(
    async () => {
      const read = await fetch(`${api}/orders/${orderId}`, { headers });
      if (read.status !== 200) return false;
      const order = (await read.json()) as { status: string; status_history: { status: string }[] };
      history = order.status_history.map((step) => step.status);
      return order.status === 'COMPLETED';
    },
    { timeoutMs: 90_000, intervalMs: 500, what: `order ${orderId} to be COMPLETED` },
  );
  expect(history).toEqual(['RECEIVED', 'PREPARING', 'READY', 'COMPLETED']);
  stack.signal('SIGINT');
  expect(await stack.exited).toBe(0);
  stack = undefined;
}, 120_000);
