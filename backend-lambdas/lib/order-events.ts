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
