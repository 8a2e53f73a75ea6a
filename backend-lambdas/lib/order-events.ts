import { PublishBatchCommand, type PublishBatchRequestEntry, type SNSClient } from '@aws-sdk/client-sns';

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
  const failed: T[] = [];
  for (let i = 0; i < items.length; i += 10) {
    const chunk = items.slice(i, i + 10);
    try {
      const { Failed = [] } = await sns.send(new PublishBatchCommand({ TopicArn: topicArn, PublishBatchRequestEntries: chunk.map((item, j) => ({ Id: String(j), ...entryOf(item) })) }));
      for (const entry of Failed) failed.push(chunk[Number(entry.Id)]!);
    } catch (error) {
      onError(error);
      failed.push(...chunk);
    }
  }
  return failed;
}
