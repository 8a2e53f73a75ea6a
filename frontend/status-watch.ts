import DataLoader from 'dataloader';
import type { Logger } from 'pino';
import { isFinal } from '../domain/lifecycle.js';
import type { StoredOrder } from '../domain/order.js';
import type { OrderApi } from './order-api.js';

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
  /** The order was not stored within `waitMs` of the first watch. */
  notFound(): void;
}

export interface StatusWatcher {
  /** Follows an order until it is final; the returned function stops this listener. */
  watch(orderId: string, listener: WatchListener, options: { waitMs: number }): () => void;
  /** How many orders are watched upstream and how many listeners share them. */
  stats(): { watches: number; listeners: number; upstreamRequests: number };
  close(): void;
}

interface Watch {
  listeners: Set<WatchListener>;
  latest: StoredOrder | undefined;
  giveUpAt: number;
  timer: NodeJS.Timeout | undefined;
  polling: boolean;
}

/** The most orders one upstream read asks for (the API's limit). */
const BATCH_SIZE = 100;
/** How long a poll waits for others to share its read: orders due together poll within a few ms of each other. */
const BATCH_WINDOW_MS = 10;

/**
 * One upstream watch per order in this process, however many pages follow it: the watch polls the
 * order API at the rhythm of the order's own schedule (nothing before it is due but a slow recheck,
 * every `pollMs` once it is due) and hands each new version to every listener. It stops when the
 * order is final or nobody listens. Polls that fall within `BATCH_WINDOW_MS` of each other share one
 * read of up to 100 orders (GET /orders?ids=), so 500 watched orders moving together cost five
 * requests, not 500.
 */
export function createStatusWatcher({ api, timings, logger, clock = () => Date.now() }: { api: OrderApi; timings: WatchTimings; logger: Logger; clock?: () => number }): StatusWatcher {
  const watches = new Map<string, Watch>();
  let upstreamRequests = 0;
  const reads = new DataLoader<string, StoredOrder | null>(
    async (orderIds) => {
      upstreamRequests++;
      const found = new Map((await api.getOrders(orderIds)).map((order) => [order.order_id, order]));
      return orderIds.map((orderId) => found.get(orderId) ?? null);
    },
    { cache: false, maxBatchSize: BATCH_SIZE, batchScheduleFn: (dispatch) => setTimeout(dispatch, BATCH_WINDOW_MS) },
  );

  function delayFor(watch: Watch): number {
    const order = watch.latest;
    if (!order?.due_at) return timings.pollMs;
    const untilDue = Date.parse(order.due_at) - clock();
    if (untilDue > 0) return Math.min(untilDue, timings.recheckMs);
    return -untilDue > timings.overdueAfterMs ? timings.slowPollMs : timings.pollMs;
  }

  function end(orderId: string, watch: Watch) {
    clearTimeout(watch.timer);
    watches.delete(orderId);
  }

  async function poll(orderId: string, watch: Watch) {
    watch.polling = true;
    let order: StoredOrder | null | undefined;
    try {
      order = await reads.load(orderId);
    } catch (error) {
      // The API is down or slow: keep the listeners and try again later.
      logger.warn({ err: error, order_id: orderId }, 'status watch could not read the order; retrying');
    } finally {
      watch.polling = false;
    }
    if (watches.get(orderId) !== watch) return;
    if (order && (!watch.latest || order.version > watch.latest.version)) {
      watch.latest = order;
      for (const listener of [...watch.listeners]) listener.next(order);
    }
    if (order && isFinal(order.status)) return end(orderId, watch);
    if (!order && order !== undefined && !watch.latest && clock() > watch.giveUpAt) {
      for (const listener of [...watch.listeners]) listener.notFound();
      return end(orderId, watch);
    }
    if (watch.listeners.size === 0) return end(orderId, watch);
    const delay = order === undefined ? timings.slowPollMs : delayFor(watch);
    watch.timer = setTimeout(() => void poll(orderId, watch), delay);
  }

  return {
    watch(orderId, listener, { waitMs }) {
      let watch = watches.get(orderId);
      if (!watch) {
        watch = { listeners: new Set(), latest: undefined, giveUpAt: clock() + waitMs, timer: undefined, polling: false };
        watches.set(orderId, watch);
        watch.listeners.add(listener);
        void poll(orderId, watch);
      } else {
        watch.listeners.add(listener);
        watch.giveUpAt = Math.max(watch.giveUpAt, clock() + waitMs);
        // A late listener starts from what the watch already knows.
        if (watch.latest) listener.next(watch.latest);
      }
      const current = watch;
      return () => {
        current.listeners.delete(listener);
        if (current.listeners.size === 0 && !current.polling && watches.get(orderId) === current) end(orderId, current);
      };
    },
    stats() {
      let listeners = 0;
      for (const watch of watches.values()) listeners += watch.listeners.size;
      return { watches: watches.size, listeners, upstreamRequests };
    },
    close() {
      for (const [orderId, watch] of watches) end(orderId, watch);
    },
  };
}
