import type { Logger } from '@aws-lambda-powertools/logger';
import { PublishBatchCommand, PublishCommand, type PublishBatchRequestEntry, type SNSClient } from '@aws-sdk/client-sns';
import { statusChangedEvent, type OrderDigest, type StatusChange, type StatusChangedEvent } from '../../domain/lifecycle.js';
import type { StoredOrder } from '../../domain/order.js';
import type { OrderStore } from './order-store.js';

/** What names one event of an order: the same event published again carries the same id. */
export function eventId(eventType: 'order.received' | 'order.status_changed', orderId: string, status: string): string {
  // An order enters each status at most once (the lifecycle only moves forward), so order, type and status name the event.
  return `${orderId}:${eventType}:${status}`;
}

/**
 * The attributes of an order-events message: subscribers filter by event type, customer and status,
 * find the order by `order_id`,
 * and `event_id` lets one act once on an event that is published again (process-order republishes
 * "order received" on a duplicate delivery, as its retry of a publish that may have failed).
 * `customer_mail` is there only when the order has an address to mail, so the customer mail
 * subscription's filter leaves out the orders integrations place (nobody to mail) before any
 * Lambda runs for them.
 */
export function eventAttributes(
  eventType: 'order.received' | 'order.status_changed',
  { orderId, customerId, status, customerMail }: { orderId: string; customerId: string; status: string; customerMail: boolean },
) {
  return {
    event_type: { DataType: 'String', StringValue: eventType },
    order_id: { DataType: 'String', StringValue: orderId },
    event_id: { DataType: 'String', StringValue: eventId(eventType, orderId, status) },
    customer_id: { DataType: 'String', StringValue: customerId },
    status: { DataType: 'String', StringValue: status },
    ...(customerMail ? { customer_mail: { DataType: 'String', StringValue: 'true' } } : {}),
  };
}

/**
 * Publishes `items` to the topic ten to a PublishBatch call (its limit); answers the items that were
 * not published, those SNS refused one by one and those of a call that failed (`onError` hears why).
 */
export async function publishInBatches<T>(sns: SNSClient, topicArn: string, items: readonly T[], entryOf: (item: T) => Omit<PublishBatchRequestEntry, 'Id'>, onError: (error: unknown) => void): Promise<T[]> {
  const chunks = Array.from({ length: Math.ceil(items.length / 10) }, (_, i) => items.slice(i * 10, i * 10 + 10));
  // The calls side by side: a kitchen page of 100 changes is told in one round trip, not ten one after another.
  const failed = await Promise.all(
    chunks.map(async (chunk) => {
      try {
        const { Failed = [] } = await sns.send(new PublishBatchCommand({ TopicArn: topicArn, PublishBatchRequestEntries: chunk.map((item, j) => ({ Id: String(j), ...entryOf(item) })) }));
        return Failed.map((entry) => chunk[Number(entry.Id)]!);
      } catch (error) {
        onError(error);
        return chunk;
      }
    }),
  );
  return failed.flat();
}

/** One order.digest message of `events` (see OrderDigest); answers whether SNS took it. */
export async function publishDigest(sns: SNSClient, topicArn: string, events: OrderDigest['events'], onError: (error: unknown) => void): Promise<boolean> {
  if (events.length === 0) return true;
  const digest: OrderDigest = { type: 'order.digest', events };
  try {
    await sns.send(new PublishCommand({ TopicArn: topicArn, Message: JSON.stringify(digest), MessageAttributes: { event_type: { DataType: 'String', StringValue: 'order.digest' } } }));
    return true;
  } catch (error) {
    onError(error);
    return false;
  }
}

/** An order.status_changed event to publish, and whether its order has an address to mail (the customer mail filter). */
export interface OutgoingChange {
  event: StatusChangedEvent;
  customerMail: boolean;
}

/**
 * Status changes, published to order-events after they are written. An event whose publish fails is
 * kept on its order, due now, so the kitchen's next run publishes it: a written change is never left
 * untold. The kitchen and every change made by hand (staff, a customer's cancel) go through here.
 */
export function createStatusChanges({ store, sns, topicArn, logger, clock = () => new Date() }: { store: OrderStore; sns?: SNSClient | undefined; topicArn?: string | undefined; logger: Logger; clock?: () => Date }) {
  /**
   * Publishes events ten to a call, and their digest beside them; answers those that failed. A digest
   * that failed fails all its events: kept on their orders, they are told again (the mails act once on
   * an event_id, the pages once on a version), so the web tier is not left to its safety net.
   */
  async function publish(events: readonly OutgoingChange[]): Promise<OutgoingChange[]> {
    if (!sns || !topicArn) return [];
    const [failed, digested] = await Promise.all([
      publishInBatches(
        sns,
        topicArn,
        events,
        ({ event, customerMail }) => ({
          Subject: `Order ${event.order_id}: ${event.to}`,
          Message: JSON.stringify(event),
          MessageAttributes: eventAttributes(event.type, { orderId: event.order_id, customerId: event.customer_id, status: event.to, customerMail }),
        }),
        (error) => logger.error('Publishing status changes failed; they are kept on their orders for the next kitchen run', { error: error as Error }),
      ),
      publishDigest(sns, topicArn, events.map(({ event }) => event), (error) => logger.error('Publishing a digest of status changes failed; its changes are kept on their orders for the next kitchen run', { error: error as Error })),
    ]);
    return digested ? failed : [...events];
  }

  /** Publishes the events of changes already written; a failed one is kept on its order. Answers how many failed. */
  async function publishOrKeep(written: readonly (OutgoingChange & { version: number })[]): Promise<number> {
    const failed = new Set(await publish(written));
    for (const entry of written.filter((candidate) => failed.has(candidate))) {
      await store.keepPendingEvent(entry.event, entry.version, JSON.stringify(entry.event), clock());
    }
    return failed.size;
  }

  /**
   * One change made by hand: written only if the order is still in the status and version it was read
   * in (so a click and the kitchen's timer never both move one step), then published. False when the
   * order changed meanwhile, and then nothing is written. The event is written with the change, so a
   * change is never stored untold: if publishing (or clearing the kept event) fails here, the
   * kitchen's next run publishes it, and subscribers act once on an event_id however often it comes.
   */
  async function applyByHand(order: StoredOrder, change: StatusChange): Promise<boolean> {
    const event = statusChangedEvent(order, change);
    if (!(await store.applyChange(order, change, { pendingEvent: JSON.stringify(event) }))) return false;
    try {
      const failed = await publish([{ event, customerMail: order.customer_email !== undefined }]);
      if (failed.length === 0) await store.clearPendingEvent(order, change.version, change.due_at);
    } catch (error) {
      logger.error('Clearing a published change\'s kept event failed; the kitchen publishes it again', { order_id: order.order_id, error: error as Error });
    }
    return true;
  }

  return { publish, publishOrKeep, applyByHand };
}

export type StatusChanges = ReturnType<typeof createStatusChanges>;
