import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { acceptOrder, storedOrder, type StoredOrder } from '../../domain/order.js';
import { UnauthorizedError } from '../../domain/errors.js';
import { orderEventsOf, type OrderEvent, type OrderEvents } from '../../frontend/order-events.js';
import { createStatusWatcher, type StatusWatcher, type WatchReads } from '../../frontend/status-watch.js';
import { applyChange, statusChangedEvent, transition } from '../../domain/lifecycle.js';
import { SEED_ORDER } from '../helpers/local-stack.js';

const timings = { safetyNetMs: 60_000, retryMs: 50 };
const LIFECYCLE = { RECEIVED: 3600, PREPARING: 3600, READY: 3600 };

/** order-events as a web process hears them: the test sends each. */
function eventSource() {
  const listeners = new Set<(event: OrderEvent) => void>();
  const events: OrderEvents = { listen: (listener) => (listeners.add(listener), () => listeners.delete(listener)) };
  return { events, send: (event: OrderEvent) => listeners.forEach((listener) => listener(event)) };
}
const quiet = eventSource().events;
const settle = (ms = 50) => new Promise((resolve) => setTimeout(resolve, ms));

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

const order = () => storedOrder(acceptOrder(SEED_ORDER, { now: new Date() }), new Date(), LIFECYCLE);

let watcher: StatusWatcher | undefined;
afterEach(() => watcher?.close());

describe('the web tier status watches', () => {
  it('when 250 orders are watched at once, then their reads go upstream a hundred to a call and each listener gets its own order', async () => {
    const orders = new Map(Array.from({ length: 250 }, () => order()).map((stored) => [stored.order_id, stored]));
    const { api, calls } = ordersApi(orders);
    watcher = createStatusWatcher({ api, events: quiet, timings, logger: pino({ level: 'silent' }) });
    const seen = await Promise.all(
      [...orders.keys()].map((id) => new Promise<string>((resolve, reject) => watcher!.watch(id, { next: (found) => resolve(found.order_id), notFound: () => reject(new Error(`${id} not found`)) }, { waitMs: 1000 }))),
    );
    expect(seen).toEqual([...orders.keys()]);
    expect(calls).toEqual([100, 100, 50]);
  });

  it('when a status change one version on is heard, then every listener of the order gets it at once and nothing is read; the history shows who changed it by role only', async () => {
    const first = order();
    const orders = new Map([[first.order_id, first]]);
    const { api, calls } = ordersApi(orders);
    const { events, send } = eventSource();
    watcher = createStatusWatcher({ api, events, timings, logger: pino({ level: 'silent' }) });
    const seen: [number, unknown][][] = [[], []];
    for (const list of seen) watcher.watch(first.order_id, { next: (found) => list.push([found.version, found.status_history.at(-1)]), notFound: () => undefined }, { waitMs: 1000 });
    await settle();
    const change = transition(first, { to: 'CANCELLED', at: new Date(), timings: LIFECYCLE, by: { role: 'staff', id: 'chef@example.com' }, reason: 'out of dough' });
    orders.set(first.order_id, applyChange(first, change));
    send({ type: 'order.status_changed', orderId: first.order_id, change: statusChangedEvent(first, change) });
    const entries = [[1, first.status_history[0]], [2, { status: 'CANCELLED', at: change.at, by: { role: 'staff' }, reason: 'out of dough' }]];
    expect(seen).toEqual([entries, entries]);
    // One read, when the watch started; the final status ended the watch.
    expect(calls).toEqual([1]);
    expect(watcher.stats()).toMatchObject({ watches: 0, upstreamRequests: 1, orderReads: 1 });
  });

  it('when the order is not stored yet, then the watch reads it again a second later; when an event skips a version, it reads it (and an old event reads nothing)', async () => {
    const first = order();
    const orders = new Map<string, StoredOrder>();
    const { api, calls } = ordersApi(orders);
    const { events, send } = eventSource();
    watcher = createStatusWatcher({ api, events, timings, logger: pino({ level: 'silent' }) });
    const statuses: string[] = [];
    watcher.watch(first.order_id, { next: (found) => statuses.push(`${found.status} ${found.version}`), notFound: () => statuses.push('not found') }, { waitMs: 10_000 });
    await settle(300);
    expect(statuses).toEqual([]);
    orders.set(first.order_id, first);
    await settle(900);
    expect(statuses).toEqual(['RECEIVED 1']);
    const preparing = applyChange(first, transition(first, { at: new Date(), timings: LIFECYCLE }));
    const ready = applyChange(preparing, transition(preparing, { at: new Date(), timings: LIFECYCLE }));
    orders.set(first.order_id, ready);
    // The PREPARING event was lost: READY's is two versions on.
    send({ type: 'order.status_changed', orderId: first.order_id, change: statusChangedEvent(preparing, transition(preparing, { at: new Date(), timings: LIFECYCLE })) });
    await settle();
    expect(statuses).toEqual(['RECEIVED 1', 'READY 3']);
    expect(calls).toEqual([1, 1, 1]);
    // An old event again changes nothing and reads nothing.
    send({ type: 'order.status_changed', orderId: first.order_id, change: statusChangedEvent(first, transition(first, { at: new Date(), timings: LIFECYCLE })) });
    await settle();
    expect(calls).toEqual([1, 1, 1]);
  });

  it('when no event comes, then the safety net reads the order safetyNetMs after its step was due, and not before', async () => {
    const due = { ...order(), due_at: new Date(Date.now() + 400).toISOString() };
    const orders = new Map([[due.order_id, due]]);
    const { api, calls } = ordersApi(orders);
    watcher = createStatusWatcher({ api, events: quiet, timings: { ...timings, safetyNetMs: 200 }, logger: pino({ level: 'silent' }) });
    const statuses: string[] = [];
    watcher.watch(due.order_id, { next: (found) => statuses.push(found.status), notFound: () => undefined }, { waitMs: 1000 });
    await settle();
    orders.set(due.order_id, applyChange(due, transition(due, { to: 'CANCELLED', at: new Date(), timings: LIFECYCLE })));
    await settle(450);
    // Due at 400 ms, read at about 600 ms: not at the due time, nor at safetyNetMs after the start.
    expect(statuses).toEqual(['RECEIVED']);
    await settle(250);
    expect(statuses).toEqual(['RECEIVED', 'CANCELLED']);
    expect(calls).toEqual([1, 1]);
  });

  it('when an order is never stored, then its listener is told so once the wait is over, and the others are not', async () => {
    const known = order();
    const { api } = ordersApi(new Map([[known.order_id, known]]));
    watcher = createStatusWatcher({ api, events: quiet, timings, logger: pino({ level: 'silent' }) });
    const outcome = (id: string) => new Promise<string>((resolve) => watcher!.watch(id, { next: () => resolve('found'), notFound: () => resolve('not found') }, { waitMs: 100 }));
    expect(await Promise.all([outcome(known.order_id), outcome(randomUUID())])).toEqual(['found', 'not found']);
  });

  it("when a signed-in customer follows their own order, another account's and a never-placed one, then only theirs is found (read with their token); the other two both end not found", async () => {
    const own = { ...order(), account_id: 'ada' };
    const foreign = { ...order(), account_id: 'bob' };
    const { api, tokens } = ordersApi(new Map([own, foreign].map((stored) => [stored.order_id, stored])));
    watcher = createStatusWatcher({ api, events: quiet, timings, logger: pino({ level: 'silent' }) });
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
    watcher = createStatusWatcher({ api, events: quiet, timings, logger: pino({ level: 'silent' }) });
    const outcome = (id: string, viewer?: { id: string; idToken: string }) =>
      new Promise<string>((resolve) => watcher!.watch(id, { next: () => resolve('found'), notFound: () => resolve('not found'), failed: (error) => resolve(error.message) }, { waitMs: 1000, viewer }));
    expect(await Promise.all([outcome(own.order_id, { id: 'ada', idToken: 'token-ada' }), outcome(open.order_id)])).toEqual(['Your session has ended: sign in again', 'found']);
  });

  it("when a customer's older page holds an expired token and a newer page a fresh one, then all their watches read with the fresh one", async () => {
    const [first, second] = [{ ...order(), account_id: 'ada' }, { ...order(), account_id: 'ada' }];
    const { api, tokens } = ordersApi(new Map([first, second].map((stored) => [stored.order_id, stored])), { expired: new Set(['old-token']) });
    // The fake answers a token `token-<account>` for that account's orders: the fresh one.
    watcher = createStatusWatcher({ api, events: quiet, timings, logger: pino({ level: 'silent' }) });
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
    watcher = createStatusWatcher({ api: failing, events: quiet, timings: { ...timings, retryMs: 60_000 }, logger: pino({ level: 'silent' }) });
    const seen = new Set<string>();
    for (const id of ids) watcher.watch(id, { next: (found) => seen.add(found.order_id), notFound: () => undefined }, { waitMs: 1000 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    // The first hundred were read in a call of their own, which did not fail; the rest wait for the retry.
    expect(ids.slice(0, 100).every((id) => seen.has(id))).toBe(true);
    expect(ids.slice(100).some((id) => seen.has(id))).toBe(false);
  });
});

describe('the digests a web process receives from order-events', () => {
  it('when a digest carries complete changes, changes published before they carried their version, and junk, then each order gets its event and nothing else is made up', () => {
    const first = order();
    const change = transition(first, { at: new Date(), timings: LIFECYCLE });
    const { version: _version, due_at: _due, ...older } = statusChangedEvent(first, change);
    const body = JSON.stringify({
      type: 'order.digest',
      events: [statusChangedEvent(first, change), older, { type: 'order.status_changed' }, { type: 'order.received', order_id: 'a' }],
    });
    expect(orderEventsOf({ Body: body })).toEqual([
      { type: 'order.status_changed', orderId: first.order_id, change: statusChangedEvent(first, change) },
      // Without its version it cannot be applied in place: the watch reads the order.
      { type: 'order.status_changed', orderId: first.order_id, change: undefined },
    ]);
    for (const junk of ['', 'not json', '{"type":"order.status_changed","order_id":"x"}', '{"type":"order.digest","events":"x"}']) expect(orderEventsOf({ Body: junk })).toEqual([]);
  });
});
