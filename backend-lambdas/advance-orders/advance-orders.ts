import type { Logger } from '@aws-lambda-powertools/logger';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { Context } from 'aws-lambda';
import * as z from 'zod/mini';
import { AppError, NotFoundError } from '../../domain/errors.js';
import {
  dueAt,
  ORDER_STATUSES,
  transition,
  type LifecycleTimings,
  type OrderStatus,
  type StatusChange,
  type StatusChangedEvent,
} from '../../domain/lifecycle.js';
import { isOrderId } from '../../domain/order.js';
import { eventAttributes, publishInBatches } from '../lib/order-events.js';
import { orderWriterDeps, orderWriterEnvironment } from '../lib/defaults.js';
import { count, instrumented, type MetricsRecorder } from '../lib/observability.js';
import type { DueOrder, OrderStore } from '../lib/order-store.js';
import type { LambdaHandler, Wiring } from '../lib/wiring.js';

export interface AdvanceOrdersDeps {
  store: OrderStore;
  timings: LifecycleTimings;
  logger: Logger;
  metrics?: MetricsRecorder;
  /** Where order.status_changed goes; none is published when absent. */
  sns?: SNSClient | undefined;
  topicArn?: string | undefined;
  clock?: () => Date;
  /** Conditional updates in flight at once within a run. */
  concurrency?: number;
}

/** What one scheduled run did. */
export interface KitchenRun {
  advanced: number;
  /** Due orders another run (or a member of staff) moved first: the conditional write refused them. */
  skipped: number;
  /** Events of earlier runs whose publish had failed, published now. */
  republished: number;
  /** Events whose publish failed in this run; kept on their order for the next run. */
  pending: number;
}

/** What a staff command answers: the change made, or why none was. */
export type StaffResult =
  | { ok: true; order_id: string; from: OrderStatus; to: OrderStatus; at: string }
  | { ok: false; error: string; message: string };

/** A member of staff moving or cancelling an order by hand (the console, or `aws lambda invoke`). */
const staffCommandSchema = z.strictObject({
  action: z.enum(['advance', 'cancel']),
  order_id: z.string().check(z.refine(isOrderId, { error: 'Must be an order id (a UUID)' })),
  to: z.optional(z.enum(ORDER_STATUSES)),
});
export type StaffCommand = z.infer<typeof staffCommandSchema>;

// Leaves time to publish what was written before Lambda's timeout cuts the run; the next run goes on.
const STOP_BEFORE_TIMEOUT_MS = 10_000;

/**
 * The kitchen, run on a schedule: every order whose time in its status is up moves to its next
 * status with a write conditional on the status and version it was read in, so two runs that
 * overlap never move an order twice or skip a status; each change is published as
 * order.status_changed. The same function takes staff commands.
 */
export function createAdvanceOrdersHandler({ store, timings, logger, metrics, sns, topicArn, clock = () => new Date(), concurrency = 16 }: AdvanceOrdersDeps) {
  function eventOf(order: Pick<DueOrder, 'order_id' | 'customer_id'>, change: StatusChange): StatusChangedEvent {
    return { type: 'order.status_changed', order_id: order.order_id, customer_id: order.customer_id, from: change.from, to: change.to, at: change.at };
  }

  /** An event, and whether its order has an address to mail (the customer mail subscription's filter). */
  interface Outgoing {
    event: StatusChangedEvent;
    customerMail: boolean;
  }

  /** Publishes events ten to a call; answers those that failed. */
  async function publish(events: Outgoing[]): Promise<Outgoing[]> {
    if (!sns || !topicArn) return [];
    return publishInBatches(
      sns,
      topicArn,
      events,
      ({ event, customerMail }) => ({
        Subject: `Order ${event.order_id}: ${event.to}`,
        Message: JSON.stringify(event),
        MessageAttributes: eventAttributes(event.type, { orderId: event.order_id, customerId: event.customer_id, status: event.to, customerMail }),
      }),
      (error) => logger.error('Publishing status changes failed; they are kept on their orders for the next run', { error: error as Error }),
    );
  }

  /** Publishes the events of changes already written; a failed one is kept on its order, due now. */
  async function publishOrKeep(written: (Outgoing & { version: number })[], now: Date): Promise<number> {
    const failed = new Set(await publish(written));
    for (const entry of written.filter((candidate) => failed.has(candidate))) {
      await store.keepPendingEvent(entry.event, entry.version, JSON.stringify(entry.event), now);
    }
    return failed.size;
  }

  /**
   * Runs `work` over a page of due orders, at most `concurrency` at a time, but one customer's orders
   * one after another, in the page's order (due time): a customer's changes are applied in order.
   */
  async function eachByCustomer(page: readonly DueOrder[], work: (due: DueOrder) => Promise<void>): Promise<void> {
    const byCustomer = new Map<string, DueOrder[]>();
    for (const due of page) byCustomer.set(due.customer_id, [...(byCustomer.get(due.customer_id) ?? []), due]);
    const customers = [...byCustomer.values()];
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(concurrency, customers.length) }, async () => {
        while (next < customers.length) for (const due of customers[next++]!) await work(due);
      }),
    );
  }

  async function run(context: Pick<Context, 'getRemainingTimeInMillis'> | undefined): Promise<KitchenRun> {
    const now = clock();
    const result: KitchenRun = { advanced: 0, skipped: 0, republished: 0, pending: 0 };
    for await (const page of store.dueOrders(now)) {
      const written: (Outgoing & { version: number })[] = [];
      const republish: DueOrder[] = [];
      await eachByCustomer(page, async (due) => {
        if (due.pending_event) {
          republish.push(due);
          return;
        }
        // Each change at the time it is made: a run of thousands takes seconds, and the history says when the customer could see it.
        const change = transition(due, { at: clock(), timings });
        if (await store.applyChange(due, change)) {
          result.advanced++;
          count(metrics, 'StatusChanges');
          written.push({ event: eventOf(due, change), customerMail: due.customer_email !== undefined, version: change.version });
        } else {
          result.skipped++;
        }
      });
      result.pending += await publishOrKeep(written, now);
      const failedAgain = new Set(
        (await publish(republish.map((due) => ({ event: JSON.parse(due.pending_event!) as StatusChangedEvent, customerMail: due.customer_email !== undefined })))).map((outgoing) => outgoing.event.order_id),
      );
      for (const due of republish.filter((candidate) => !failedAgain.has(candidate.order_id))) {
        const event = JSON.parse(due.pending_event!) as StatusChangedEvent;
        if (await store.clearPendingEvent(due, due.version, dueAt(event.to, event.at, timings))) result.republished++;
      }
      result.pending += failedAgain.size;
      if (typeof context?.getRemainingTimeInMillis === 'function' && context.getRemainingTimeInMillis() < STOP_BEFORE_TIMEOUT_MS) {
        logger.warn('Stopping before the timeout; the next run moves the rest', { ...result });
        break;
      }
    }
    if (result.advanced + result.skipped + result.republished + result.pending > 0) logger.info('Kitchen run', { ...result });
    return result;
  }

  async function command(input: StaffCommand): Promise<StaffResult> {
    try {
      const order = await store.get(input.order_id);
      if (!order) throw new NotFoundError(`Order ${input.order_id}`);
      const change = transition(order, { to: input.action === 'cancel' ? 'CANCELLED' : input.to, at: clock(), timings });
      if (!(await store.applyChange(order, change))) {
        return { ok: false, error: 'conflict', message: `Order ${order.order_id} changed while it was being ${input.action === 'cancel' ? 'cancelled' : 'advanced'}; read it again and retry` };
      }
      count(metrics, 'StatusChanges');
      await publishOrKeep([{ event: eventOf(order, change), customerMail: order.customer_email !== undefined, version: change.version }], clock());
      logger.info('Order changed by staff', { order_id: order.order_id, from: change.from, to: change.to });
      return { ok: true, order_id: order.order_id, from: change.from, to: change.to, at: change.at };
    } catch (error) {
      if (error instanceof AppError) return { ok: false, error: error.code, message: error.message };
      throw error;
    }
  }

  return async function advanceOrders(event: unknown, context?: Context): Promise<KitchenRun | StaffResult> {
    // A scheduled event comes from EventBridge; anything that names an action is a staff command.
    if (typeof event === 'object' && event !== null && 'action' in event) {
      const parsed = z.safeParse(staffCommandSchema, event);
      if (!parsed.success) {
        return { ok: false, error: 'validation_error', message: parsed.error.issues.map((issue) => `${issue.path.map(String).join('.') || 'command'}: ${issue.message}`).join('; ') };
      }
      return command(parsed.data);
    }
    return run(context);
  };
}

export const configSchema = orderWriterEnvironment;

export const wire: Wiring<'documents' | 'sns', LambdaHandler<unknown, KitchenRun | StaffResult>> = (env, clients, options = {}) => {
  const { tracer, ...deps } = orderWriterDeps('advance-orders', env, clients, options);
  return instrumented('advance-orders', { tracer, metrics: deps.metrics }, createAdvanceOrdersHandler(deps));
};
