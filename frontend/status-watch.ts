import DataLoader from 'dataloader';
import type { Logger } from 'pino';
import { isFinal } from '../domain/lifecycle.js';
import type { StoredOrder } from '../domain/order.js';
import { UnauthorizedError } from '../domain/errors.js';
import type { CustomerApi, OrderApi } from './order-api.js';

export interface WatchTimings {
  /** Poll interval once the order is due to move on (the kitchen may move it any moment). */
  pollMs: number;
  /** Poll interval once it is overdue by more than `overdueAfterMs` (the kitchen is late or down). */
  slowPollMs: number;
  overdueAfterMs: number;
  /** Longest wait before the order is due: a member of staff may move or cancel it any time. */
  recheckMs: number;
}

export interface WatchListener {
  /** A newer version of the order than the listener has seen. */
  next(order: StoredOrder): void;
  /** The order was not stored (or is not the viewer's to read) within `waitMs` of the first watch. */
  notFound(): void;
  /** The watch cannot go on: the viewer's session ended (their token expired). Optional: such a watch just ends. */
  failed?(error: Error): void;
}

/** Who follows an order: a signed-in customer (their own orders are read with their token), or anyone. */
export interface Viewer {
  id: string;
  idToken: string;
  name?: string;
  staff?: boolean;
}

/** What the watches read with: the API key's (orders placed with it) and a customer's own. */
export type WatchReads = Pick<OrderApi, 'getOrders'> & Pick<CustomerApi, 'myOrdersByIds'>;

export interface StatusWatcher {
  /** Follows an order until it is final; the returned function stops this listener. */
  watch(orderId: string, listener: WatchListener, options: { waitMs: number; viewer?: Viewer | undefined }): () => void;
  /** How many orders are watched upstream and how many listeners share them. */
  stats(): { watches: number; listeners: number; upstreamRequests: number };
  close(): void;
}

interface Watch {
  orderId: string;
  /** Whose watch it is (their newest token is in `tokens`); undefined for anyone's. */
  viewerId: string | undefined;
  listeners: Set<WatchListener>;
  latest: StoredOrder | undefined;
  giveUpAt: number;
  timer: NodeJS.Timeout | undefined;
  polling: boolean;
}

/** The most orders one upstream read asks for (the API's limit). */
const BATCH_SIZE = 100;
/** The most of their own orders one read asks for, as one customer (GET /me/orders?ids=, its limit). */
const OWN_BATCH_SIZE = 25;
/** How long a poll waits for others to share its read: orders due together poll within a few ms of each other. */
const BATCH_WINDOW_MS = 10;

const chunks = <T>(items: readonly T[], size: number): T[][] => Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

/**
 * One upstream watch per order and viewer in this process, however many pages follow it: the watch
 * polls the order API at the rhythm of the order's own schedule (nothing before it is due but a slow
 * recheck, every `pollMs` once it is due) and hands each new version to every listener. It stops when
 * the order is final or nobody listens. Polls that fall within `BATCH_WINDOW_MS` of each other share
 * reads: orders placed with the API key, up to 100 a call (GET /orders?ids=), so 500 watched orders
 * moving together cost five requests, not 500; a signed-in viewer's own orders, with their token
 * (GET /me/orders?ids=), since the API key reads no account's order.
 */
export function createStatusWatcher({ api, timings, logger, clock = () => Date.now() }: { api: WatchReads; timings: WatchTimings; logger: Logger; clock?: () => number }): StatusWatcher {
  const watches = new Map<string, Watch>();
  /** Each viewer's newest token: all their watches read with it, whichever page gave an older one. */
  const tokens = new Map<string, string>();
  let upstreamRequests = 0;
  const counted = <T>(call: Promise<T>) => {
    upstreamRequests++;
    return call;
  };

  /** Each watch's order as its viewer may read it: theirs (asked only while it may be), else the API key's. */
  async function readBatch(batch: readonly Watch[]): Promise<(StoredOrder | null | Error)[]> {
    const found = new Map<string, StoredOrder>();
    // The error of the read that asked for a watch's order and failed, by watch.
    const failed = new Map<Watch, Error>();
    const integration = batch.filter((watch) => !watch.latest || watch.latest.account_id === undefined);
    const byViewer = new Map<string, Watch[]>();
    for (const watch of batch) {
      if (watch.viewerId !== undefined && (!watch.latest || watch.latest.account_id !== undefined)) byViewer.set(watch.viewerId, [...(byViewer.get(watch.viewerId) ?? []), watch]);
    }
    /** One read for `watches`; if it fails, each of them has the error (a watch whose order another read found still gets it). */
    const read = async (watches: Watch[], call: () => Promise<StoredOrder[]>, keyOf: (order: StoredOrder) => string | undefined) => {
      try {
        for (const order of await counted(call())) {
          const key = keyOf(order);
          if (key !== undefined) found.set(key, order);
        }
      } catch (error) {
        for (const watch of watches) failed.set(watch, error as Error);
      }
    };
    const byOrderId = (watches: Watch[]) => new Map(chunks([...new Set(watches.map((watch) => watch.orderId))], BATCH_SIZE).map((ids) => [ids, watches.filter((watch) => ids.includes(watch.orderId))]));
    await Promise.all([
      ...[...byOrderId(integration)].map(([ids, watches]) => read(watches, () => api.getOrders(ids), (order) => (order.account_id === undefined ? order.order_id : undefined))),
      ...[...byViewer].flatMap(([viewerId, own]) =>
        chunks(own, OWN_BATCH_SIZE).map((part) => read(part, () => api.myOrdersByIds(tokens.get(viewerId)!, [...new Set(part.map((watch) => watch.orderId))]), (order) => `${viewerId}/${order.order_id}`)),
      ),
    ]);
    return batch.map((watch) => {
      const order = (watch.viewerId !== undefined ? found.get(`${watch.viewerId}/${watch.orderId}`) : undefined) ?? (integration.includes(watch) ? found.get(watch.orderId) : undefined);
      return order ?? failed.get(watch) ?? null;
    });
  }

  const reads = new DataLoader<Watch, StoredOrder | null>(readBatch, { cache: false, maxBatchSize: BATCH_SIZE, batchScheduleFn: (dispatch) => setTimeout(dispatch, BATCH_WINDOW_MS) });

  function delayFor(watch: Watch): number {
    const order = watch.latest;
    if (!order?.due_at) return timings.pollMs;
    const untilDue = Date.parse(order.due_at) - clock();
    if (untilDue > 0) return Math.min(untilDue, timings.recheckMs);
    return -untilDue > timings.overdueAfterMs ? timings.slowPollMs : timings.pollMs;
  }

  function end(key: string, watch: Watch) {
    clearTimeout(watch.timer);
    watches.delete(key);
    const { viewerId } = watch;
    if (viewerId !== undefined && ![...watches.values()].some((other) => other.viewerId === viewerId)) tokens.delete(viewerId);
  }

  async function poll(key: string, watch: Watch) {
    const { orderId } = watch;
    watch.polling = true;
    let order: StoredOrder | null | undefined;
    try {
      order = await reads.load(watch);
    } catch (error) {
      if (error instanceof UnauthorizedError) {
        // The viewer's token expired: their pages ask again with a renewed one.
        watch.polling = false;
        for (const listener of [...watch.listeners]) listener.failed?.(error);
        return watches.get(key) === watch ? end(key, watch) : undefined;
      }
      // The API is down or slow: keep the listeners and try again later.
      logger.warn({ err: error, order_id: orderId }, 'status watch could not read the order; retrying');
    } finally {
      watch.polling = false;
    }
    if (watches.get(key) !== watch) return;
    if (order && (!watch.latest || order.version > watch.latest.version)) {
      watch.latest = order;
      for (const listener of [...watch.listeners]) listener.next(order);
    }
    if (order && isFinal(order.status)) return end(key, watch);
    if (!order && order !== undefined && !watch.latest && clock() > watch.giveUpAt) {
      for (const listener of [...watch.listeners]) listener.notFound();
      return end(key, watch);
    }
    if (watch.listeners.size === 0) return end(key, watch);
    const delay = order === undefined ? timings.slowPollMs : delayFor(watch);
    watch.timer = setTimeout(() => void poll(key, watch), delay);
  }

  return {
    watch(orderId, listener, { waitMs, viewer }) {
      // A viewer's watch is theirs: it reads with their token, and what it finds is theirs to see.
      const key = viewer ? `${viewer.id}/${orderId}` : orderId;
      if (viewer) tokens.set(viewer.id, viewer.idToken);
      let watch = watches.get(key);
      if (!watch) {
        watch = { orderId, viewerId: viewer?.id, listeners: new Set(), latest: undefined, giveUpAt: clock() + waitMs, timer: undefined, polling: false };
        watches.set(key, watch);
        watch.listeners.add(listener);
        void poll(key, watch);
      } else {
        watch.listeners.add(listener);
        watch.giveUpAt = Math.max(watch.giveUpAt, clock() + waitMs);
        // A late listener starts from what the watch already knows.
        if (watch.latest) listener.next(watch.latest);
      }
      const current = watch;
      return () => {
        current.listeners.delete(listener);
        if (current.listeners.size === 0 && !current.polling && watches.get(key) === current) end(key, current);
      };
    },
    stats() {
      let listeners = 0;
      for (const watch of watches.values()) listeners += watch.listeners.size;
      return { watches: watches.size, listeners, upstreamRequests };
    },
    close() {
      for (const [key, watch] of watches) end(key, watch);
    },
  };
}
