import type { Context } from 'aws-lambda';
import * as z from 'zod/mini';
import { AppError } from '../../domain/errors.js';
import { dueAt, statusChangedEvent, transition, type OrderStatus, type StatusChangedEvent } from '../../domain/lifecycle.js';
import { createStatusChanges, type OutgoingChange } from '../lib/order-events.js';
import { orderWriterEnvironment, orderWriterWiring, type OrderWriterHandlerDeps } from '../lib/defaults.js';
import { count } from '../lib/observability.js';
import type { DueOrder } from '../lib/order-store.js';
import { createStaffCommands, staffCommandSchema, type StaffCommand } from '../lib/staff.js';

export interface AdvanceOrdersDeps extends OrderWriterHandlerDeps {
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

// Leaves time to publish what was written before Lambda's timeout cuts the run; the next run goes on.
const STOP_BEFORE_TIMEOUT_MS = 10_000;

/**
 * The kitchen, run on a schedule: every order whose time in its status is up moves to its next
 * status with a write conditional on the status and version it was read in, so two runs that
 * overlap never move an order twice or skip a status; each change is published as
 * order.status_changed. The same function takes staff commands.
 */
export function createAdvanceOrdersHandler({ store, timings, logger, metrics, sns, topicArn, clock = () => new Date(), concurrency = 16 }: AdvanceOrdersDeps) {
  const changes = createStatusChanges({ store, sns, topicArn, logger, clock });

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
      // Told ten at a time as they are written (SNS's batch), not after the whole page: a page of a hundred takes a while to write.
      let written: (OutgoingChange & { version: number })[] = [];
      // Settled results, so one that fails before the page ends is not an unhandled rejection meanwhile.
      const publishing: Promise<PromiseSettledResult<number>>[] = [];
      const tell = (batch: typeof written) => publishing.push(changes.publishOrKeep(batch).then((value) => ({ status: 'fulfilled', value }), (reason: unknown) => ({ status: 'rejected', reason })));
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
          written.push({ event: statusChangedEvent(due, change), customerMail: due.customer_email !== undefined, version: change.version });
          if (written.length === 10) {
            tell(written);
            written = [];
          }
        } else {
          result.skipped++;
        }
      });
      tell(written);
      for (const outcome of await Promise.all(publishing)) {
        if (outcome.status === 'rejected') throw outcome.reason;
        result.pending += outcome.value;
      }
      const failedAgain = new Set(
        (await changes.publish(republish.map((due) => ({ event: JSON.parse(due.pending_event!) as StatusChangedEvent, customerMail: due.customer_email !== undefined })))).map((outgoing) => outgoing.event.order_id),
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

  const staffCommand = createStaffCommands({ store, changes, timings, clock });

  async function command(input: StaffCommand): Promise<StaffResult> {
    try {
      const { order, change } = await staffCommand(input);
      count(metrics, 'StatusChanges');
      // Beside my-orders' count of the customers' own: the dashboard tells the two apart by service.
      if (change.to === 'CANCELLED') count(metrics, 'OrdersCancelled');
      logger.info('Order changed by staff', { order_id: order.order_id, from: change.from, to: change.to, by: input.by ?? 'staff command' });
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

export const wire = orderWriterWiring('advance-orders', createAdvanceOrdersHandler);
