import DataLoader from 'dataloader';
import type { Logger } from 'pino';
import { applyChange, isFinal, publicEntry } from '../domain/lifecycle.js';
import type { StoredOrder } from '../domain/order.js';
import { UnauthorizedError } from '../domain/errors.js';
import type { CustomerApi, OrderApi } from './order-api.js';
import type { OrderEvent, OrderEvents } from './order-events.js';

export interface WatchTimings {
  /**
   * The safety net: how long past its step's due time (or its last read, while it is not found) a
   * watch waits for its order's event before it reads the order itself. Events normally come within
   * the kitchen's period (a minute on AWS) of the due time; this covers events that are late or lost.
   */
  safetyNetMs: number;
  /** How soon a read that failed (the API down or slow) is tried again. */
  retryMs: number;
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
  /** How many orders are watched and how many listeners share them; the upstream requests made and the order reads they held. */
  stats(): { watches: number; listeners: number; upstreamRequests: number; orderReads: number };
  close(): void;
}

interface Watch {
  /** Its key in `watches`: the order, and whose watch it is. */
  key: string;
  orderId: string;
  /** Whose watch it is (their newest token is in `tokens`); undefined for anyone's. */
  viewerId: string | undefined;
  listeners: Set<WatchListener>;
  latest: StoredOrder | undefined;
  giveUpAt: number;
  timer: NodeJS.Timeout | undefined;
  reading: boolean;
  /** An event came while a read was under way: read once more after it. */
  readAgain: boolean;
  /** When the watch last learned something of its order (a read or an event). */
  heardAt: number;
  /** Reads that found no order yet: each waits twice as long as the one before (see NOT_STORED_RETRY_MS). */
  misses: number;
}

/** The most orders one upstream read asks for (the API's limit). */
const BATCH_SIZE = 100;
/** The most of their own orders one read asks for, as one customer (GET /me/orders?ids=, its limit). */
const OWN_BATCH_SIZE = 25;
/**
 * A page opened at checkout usually asks before process-order has stored the order (a few hundred ms
 * on AWS): it reads again after this, then twice as long each time, until the order is there or the
 * page's wait is over. Two reads for most orders; about six in the longest wait (60 s).
 */
const NOT_STORED_RETRY_MS = 1000;
/** How long a read waits for others to share its request: the events of a kitchen run come within a few ms of each other. */
const BATCH_WINDOW_MS = 10;

const chunks = <T>(items: readonly T[], size: number): T[][] => Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

/**
 * One watch per order and viewer in this process, however many pages follow it. A watch reads its
 * order when it starts (and again after NOT_STORED_RETRY_MS, doubling, while it is not stored yet),
 * then waits for the order's events (`events`): a status change one version on from what it holds is
 * applied in place, with no read; any other (a version skipped, an event without its version) reads it. If no event comes, the safety net reads it `safetyNetMs` after its step was due,
 * then every `safetyNetMs` while it is overdue. It stops when the order is final or nobody listens.
 * Reads that fall within `BATCH_WINDOW_MS` of each other share requests: orders placed with the API
 * key, up to 100 a call (GET /orders?ids=); a signed-in viewer's own orders, with their token
 * (GET /me/orders?ids=), since the API key reads no account's order.
 */
export function createStatusWatcher({ api, events, timings, logger, clock = () => Date.now() }: { api: WatchReads; events: OrderEvents; timings: WatchTimings; logger: Logger; clock?: () => number }): StatusWatcher {
  const watches = new Map<string, Watch>();
  /** The watches of each order id (one per viewer who follows it). */
  const byOrder = new Map<string, Set<Watch>>();
  /** Each viewer's newest token: all their watches read with it, whichever page gave an older one. */
  const tokens = new Map<string, string>();
  let upstreamRequests = 0;
  let orderReads = 0;
  const counted = <T>(call: Promise<T>, orders: number) => {
    upstreamRequests++;
    orderReads += orders;
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
    const read = async (watches: Watch[], ids: string[], call: (ids: string[]) => Promise<StoredOrder[]>, keyOf: (order: StoredOrder) => string | undefined) => {
      try {
        for (const order of await counted(call(ids), ids.length)) {
          const key = keyOf(order);
          if (key !== undefined) found.set(key, order);
        }
      } catch (error) {
        for (const watch of watches) failed.set(watch, error as Error);
      }
    };
    const byOrderId = (watches: Watch[]) => new Map(chunks([...new Set(watches.map((watch) => watch.orderId))], BATCH_SIZE).map((ids) => [ids, watches.filter((watch) => ids.includes(watch.orderId))]));
    await Promise.all([
      ...[...byOrderId(integration)].map(([ids, watches]) => read(watches, ids, (asked) => api.getOrders(asked), (order) => (order.account_id === undefined ? order.order_id : undefined))),
      ...[...byViewer].flatMap(([viewerId, own]) =>
        chunks(own, OWN_BATCH_SIZE).map((part) => read(part, [...new Set(part.map((watch) => watch.orderId))], (asked) => api.myOrdersByIds(tokens.get(viewerId)!, asked), (order) => `${viewerId}/${order.order_id}`)),
      ),
    ]);
    return batch.map((watch) => {
      const order = (watch.viewerId !== undefined ? found.get(`${watch.viewerId}/${watch.orderId}`) : undefined) ?? (integration.includes(watch) ? found.get(watch.orderId) : undefined);
      return order ?? failed.get(watch) ?? null;
    });
  }

  const reads = new DataLoader<Watch, StoredOrder | null>(readBatch, { cache: false, maxBatchSize: BATCH_SIZE, batchScheduleFn: (dispatch) => setTimeout(dispatch, BATCH_WINDOW_MS) });

  function end(key: string, watch: Watch) {
    clearTimeout(watch.timer);
    watches.delete(key);
    const same = byOrder.get(watch.orderId);
    same?.delete(watch);
    if (same?.size === 0) byOrder.delete(watch.orderId);
    const { viewerId } = watch;
    if (viewerId !== undefined && ![...watches.values()].some((other) => other.viewerId === viewerId)) tokens.delete(viewerId);
  }

  /** Hands a newer version to the listeners; ends the watch at a final status. Answers whether the watch goes on. */
  function deliver(key: string, watch: Watch, order: StoredOrder): boolean {
    watch.heardAt = clock();
    if (!watch.latest || order.version > watch.latest.version) {
      watch.latest = order;
      for (const listener of [...watch.listeners]) listener.next(order);
    }
    if (isFinal(order.status) || watch.listeners.size === 0) {
      end(key, watch);
      return false;
    }
    return watches.get(key) === watch;
  }

  /** When the safety net reads next: past the step's due time, or before the wait for a missing order is over. */
  function schedule(key: string, watch: Watch, delay?: number) {
    clearTimeout(watch.timer);
    const now = clock();
    const dueAt = watch.latest?.due_at ? Date.parse(watch.latest.due_at) : undefined;
    const at =
      delay !== undefined ? now + delay
      : watch.latest ? Math.max(dueAt ?? now, watch.heardAt) + timings.safetyNetMs
      : Math.min(watch.giveUpAt, watch.heardAt + Math.min(timings.safetyNetMs, NOT_STORED_RETRY_MS * 2 ** Math.max(0, watch.misses - 1)));
    watch.timer = setTimeout(() => readSoon(key, watch), Math.max(0, at - now));
  }

  /** Reads in the background: nothing of it may become an unhandled rejection (a listener that throws, say). */
  function readSoon(key: string, watch: Watch) {
    read(key, watch).catch((error: unknown) => logger.error({ err: error, order_id: watch.orderId }, 'status watch failed'));
  }

  async function read(key: string, watch: Watch) {
    clearTimeout(watch.timer);
    if (watch.reading) {
      watch.readAgain = true;
      return;
    }
    watch.reading = true;
    let order: StoredOrder | null | undefined;
    try {
      order = await reads.load(watch);
    } catch (error) {
      if (error instanceof UnauthorizedError) {
        // The viewer's token expired: their pages ask again with a renewed one.
        watch.reading = false;
        for (const listener of [...watch.listeners]) listener.failed?.(error);
        return watches.get(key) === watch ? end(key, watch) : undefined;
      }
      // The API is down or slow: keep the listeners and try again later.
      logger.warn({ err: error, order_id: watch.orderId }, 'status watch could not read the order; retrying');
    } finally {
      watch.reading = false;
    }
    if (watches.get(key) !== watch) return;
    if (watch.listeners.size === 0) return end(key, watch);
    if (order === undefined) return schedule(key, watch, timings.retryMs);
    if (order && !deliver(key, watch, order)) return;
    if (!order && !watch.latest) {
      if (clock() >= watch.giveUpAt) {
        for (const listener of [...watch.listeners]) listener.notFound();
        return end(key, watch);
      }
      watch.heardAt = clock();
      watch.misses++;
    }
    if (watch.readAgain) {
      watch.readAgain = false;
      return readSoon(key, watch);
    }
    schedule(key, watch);
  }

  function onEvent(event: OrderEvent) {
    for (const watch of [...(byOrder.get(event.orderId) ?? [])]) {
      const { key, latest } = watch;
      const { change } = event;
      if (change?.version !== undefined && latest) {
        if (change.version <= latest.version) continue;
        if (change.version === latest.version + 1 && change.from === latest.status && !watch.reading) {
          // The change as the viewer's read would show it: who made it by hand is their role alone.
          const { by, reason } = publicEntry({ status: change.to, at: change.at, by: change.by, reason: change.reason });
          const next = applyChange(latest, { from: change.from, fromVersion: latest.version, to: change.to, version: change.version, at: change.at, due_at: change.due_at, ...(by ? { by } : {}), ...(reason ? { reason } : {}) });
          if (deliver(key, watch, next)) schedule(key, watch);
          continue;
        }
      }
      readSoon(key, watch);
    }
  }
  const stopListening = events.listen(onEvent);

  return {
    watch(orderId, listener, { waitMs, viewer }) {
      // A viewer's watch is theirs: it reads with their token, and what it finds is theirs to see.
      const key = viewer ? `${viewer.id}/${orderId}` : orderId;
      if (viewer) tokens.set(viewer.id, viewer.idToken);
      let watch = watches.get(key);
      if (!watch) {
        watch = { key, orderId, viewerId: viewer?.id, listeners: new Set(), latest: undefined, giveUpAt: clock() + waitMs, timer: undefined, reading: false, readAgain: false, heardAt: clock(), misses: 0 };
        watches.set(key, watch);
        byOrder.set(orderId, (byOrder.get(orderId) ?? new Set()).add(watch));
        watch.listeners.add(listener);
        readSoon(key, watch);
      } else {
        watch.listeners.add(listener);
        watch.giveUpAt = Math.max(watch.giveUpAt, clock() + waitMs);
        // A late listener starts from what the watch already knows.
        if (watch.latest) listener.next(watch.latest);
      }
      const current = watch;
      return () => {
        current.listeners.delete(listener);
        if (current.listeners.size === 0 && !current.reading && watches.get(key) === current) end(key, current);
      };
    },
    stats() {
      let listeners = 0;
      for (const watch of watches.values()) listeners += watch.listeners.size;
      return { watches: watches.size, listeners, upstreamRequests, orderReads };
    },
    close() {
      stopListening();
      for (const [key, watch] of watches) end(key, watch);
    },
  };
}
