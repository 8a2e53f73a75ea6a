import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { acceptOrder, storedOrder, type StoredOrder } from '../../domain/order.js';
import type { OrderApi } from '../../frontend/order-api.js';
import { createStatusWatcher, type StatusWatcher } from '../../frontend/status-watch.js';
import { SEED_ORDER } from '../helpers/local-stack.js';

const timings = { pollMs: 50, slowPollMs: 200, overdueAfterMs: 60_000, recheckMs: 100 };

/** The order API's reads over a map of orders, counting each upstream call and its size. */
function ordersApi(orders: Map<string, StoredOrder>) {
  const calls: number[] = [];
  const api: OrderApi = {
    submitOrder: () => Promise.reject(new Error('not used')),
    getOrder: () => Promise.reject(new Error('the watcher reads in batches')),
    getOrders(ids) {
      calls.push(ids.length);
      if (ids.length > 100) return Promise.reject(new Error(`${ids.length} ids in one call`));
      return Promise.resolve(ids.flatMap((id) => (orders.has(id) ? [orders.get(id)!] : [])));
    },
  };
  return { api, calls };
}

const order = () => storedOrder(acceptOrder(SEED_ORDER, { now: new Date() }), new Date(), { RECEIVED: 3600, PREPARING: 3600, READY: 3600 });

let watcher: StatusWatcher | undefined;
afterEach(() => watcher?.close());

describe('the web tier status watches', () => {
  it('when 250 orders are watched at once, then their reads go upstream a hundred to a call and each listener gets its own order', async () => {
    const orders = new Map(Array.from({ length: 250 }, () => order()).map((stored) => [stored.order_id, stored]));
    const { api, calls } = ordersApi(orders);
    watcher = createStatusWatcher({ api, timings, logger: pino({ level: 'silent' }) });
    const seen = await Promise.all(
      [...orders.keys()].map((id) => new Promise<string>((resolve, reject) => watcher!.watch(id, { next: (found) => resolve(found.order_id), notFound: () => reject(new Error(`${id} not found`)) }, { waitMs: 1000 }))),
    );
    expect(seen).toEqual([...orders.keys()]);
    expect(calls).toEqual([100, 100, 50]);
  });

  it('when a watched order changes, then every listener of it gets the new version once, and a later read is shared too', async () => {
    const first = order();
    const orders = new Map([[first.order_id, first]]);
    const { api, calls } = ordersApi(orders);
    watcher = createStatusWatcher({ api, timings: { ...timings, recheckMs: 50 }, logger: pino({ level: 'silent' }) });
    const versions: number[][] = [[], []];
    for (const seen of versions) watcher.watch(first.order_id, { next: (found) => seen.push(found.version), notFound: () => undefined }, { waitMs: 1000 });
    await new Promise((resolve) => setTimeout(resolve, 30));
    orders.set(first.order_id, { ...first, status: 'PREPARING', version: 2 });
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(versions).toEqual([
      [1, 2],
      [1, 2],
    ]);
    // One watch for both listeners: each read asked for the one order once.
    expect(calls.every((size) => size === 1)).toBe(true);
    expect(watcher.stats()).toMatchObject({ watches: 1, listeners: 2 });
  });

  it('when an order is never stored, then its listener is told so once the wait is over, and the others are not', async () => {
    const known = order();
    const { api } = ordersApi(new Map([[known.order_id, known]]));
    watcher = createStatusWatcher({ api, timings, logger: pino({ level: 'silent' }) });
    const outcome = (id: string) => new Promise<string>((resolve) => watcher!.watch(id, { next: () => resolve('found'), notFound: () => resolve('not found') }, { waitMs: 100 }));
    expect(await Promise.all([outcome(known.order_id), outcome(randomUUID())])).toEqual(['found', 'not found']);
  });
});
