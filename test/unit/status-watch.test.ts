import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { acceptOrder, storedOrder, type StoredOrder } from '../../domain/order.js';
import { UnauthorizedError } from '../../domain/errors.js';
import { createStatusWatcher, type StatusWatcher, type WatchReads } from '../../frontend/status-watch.js';
import { SEED_ORDER } from '../helpers/local-stack.js';

const timings = { pollMs: 50, slowPollMs: 200, overdueAfterMs: 60_000, recheckMs: 100 };

/**
 * The order API's reads over a map of orders, as the API answers them: the API key's read leaves out
 * accounts' orders, a customer's own read (token `token-<account>`) gives only that account's. Each
 * upstream call's size is counted, and the tokens the own reads came with.
 */
function ordersApi(orders: Map<string, StoredOrder>, { expired = new Set<string>() }: { expired?: Set<string> } = {}) {
  const calls: number[] = [];
  const tokens: string[] = [];
  const api: WatchReads = {
    getOrders(ids) {
      calls.push(ids.length);
      if (ids.length > 100) return Promise.reject(new Error(`${ids.length} ids in one call`));
      return Promise.resolve(ids.flatMap((id) => (orders.get(id)?.account_id === undefined && orders.has(id) ? [orders.get(id)!] : [])));
    },
    myOrdersByIds(idToken, ids) {
      calls.push(ids.length);
      tokens.push(idToken);
      if (expired.has(idToken)) return Promise.reject(new UnauthorizedError('Your session has ended: sign in again'));
      if (ids.length > 25) return Promise.reject(new Error(`${ids.length} own ids in one call`));
      return Promise.resolve(ids.flatMap((id) => (orders.get(id)?.account_id !== undefined && `token-${orders.get(id)!.account_id}` === idToken ? [orders.get(id)!] : [])));
    },
  };
  return { api, calls, tokens };
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

  it("when a signed-in customer follows their own order, another account's and a never-placed one, then only theirs is found (read with their token); the other two both end not found", async () => {
    const own = { ...order(), account_id: 'ada' };
    const foreign = { ...order(), account_id: 'bob' };
    const { api, tokens } = ordersApi(new Map([own, foreign].map((stored) => [stored.order_id, stored])));
    watcher = createStatusWatcher({ api, timings, logger: pino({ level: 'silent' }) });
    const viewer = { id: 'ada', idToken: 'token-ada' };
    const outcome = (id: string, as: typeof viewer | undefined) =>
      new Promise<string>((resolve) => watcher!.watch(id, { next: (found) => resolve(`found ${found.order_id}`), notFound: () => resolve('not found') }, { waitMs: 100, viewer: as }));
    expect(await Promise.all([outcome(own.order_id, viewer), outcome(foreign.order_id, viewer), outcome(randomUUID(), viewer), outcome(own.order_id, undefined)])).toEqual([
      `found ${own.order_id}`,
      'not found',
      'not found',
      // The API key reads no account's order: signed out, the customer's own order is not found either.
      'not found',
    ]);
    expect(new Set(tokens)).toEqual(new Set(['token-ada']));
  });

  it("when the viewer's token has expired, then their watch ends with the session error, and nobody else's does", async () => {
    const own = { ...order(), account_id: 'ada' };
    const open = order();
    const { api } = ordersApi(new Map([own, open].map((stored) => [stored.order_id, stored])), { expired: new Set(['token-ada']) });
    watcher = createStatusWatcher({ api, timings, logger: pino({ level: 'silent' }) });
    const outcome = (id: string, viewer?: { id: string; idToken: string }) =>
      new Promise<string>((resolve) => watcher!.watch(id, { next: () => resolve('found'), notFound: () => resolve('not found'), failed: (error) => resolve(error.message) }, { waitMs: 1000, viewer }));
    expect(await Promise.all([outcome(own.order_id, { id: 'ada', idToken: 'token-ada' }), outcome(open.order_id)])).toEqual(['Your session has ended: sign in again', 'found']);
  });

  it("when a customer's older page holds an expired token and a newer page a fresh one, then all their watches read with the fresh one", async () => {
    const [first, second] = [{ ...order(), account_id: 'ada' }, { ...order(), account_id: 'ada' }];
    const { api, tokens } = ordersApi(new Map([first, second].map((stored) => [stored.order_id, stored])), { expired: new Set(['old-token']) });
    // The fake answers a token `token-<account>` for that account's orders: the fresh one.
    watcher = createStatusWatcher({ api, timings, logger: pino({ level: 'silent' }) });
    const outcome = (id: string, idToken: string) =>
      new Promise<string>((resolve) => watcher!.watch(id, { next: () => resolve('found'), notFound: () => resolve('not found'), failed: (error) => resolve(error.message) }, { waitMs: 1000, viewer: { id: 'ada', idToken } }));
    expect(await Promise.all([outcome(first.order_id, 'old-token'), outcome(second.order_id, 'token-ada')])).toEqual(['found', 'found']);
    expect(tokens).not.toContain('old-token');
  });

  it('when one read of a batch fails, then only the watches it was for wait for the next poll; the others get their orders', async () => {
    const orders = new Map(Array.from({ length: 150 }, () => order()).map((stored) => [stored.order_id, stored]));
    const ids = [...orders.keys()];
    const { api } = ordersApi(orders);
    const failing: typeof api = { ...api, getOrders: (asked) => (asked.includes(ids[149]!) ? Promise.reject(new Error('throttled')) : api.getOrders(asked)) };
    watcher = createStatusWatcher({ api: failing, timings: { ...timings, slowPollMs: 60_000 }, logger: pino({ level: 'silent' }) });
    // The first is not stored yet: its read (which did not fail) says so, and it is asked again at the due rhythm.
    const late = orders.get(ids[0]!)!;
    orders.delete(ids[0]!);
    const seen = new Set<string>();
    for (const id of ids) watcher.watch(id, { next: (found) => seen.add(found.order_id), notFound: () => undefined }, { waitMs: 1000 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    orders.set(late.order_id, late);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // The first hundred were read in a call of their own, which did not fail: the late one within a poll or two, not the slow poll.
    expect(ids.slice(0, 100).every((id) => seen.has(id))).toBe(true);
    expect(ids.slice(100).some((id) => seen.has(id))).toBe(false);
  });
});
