/** The attributes of an order-events message, so subscribers can filter by event type, customer and status. */
export function eventAttributes(eventType: 'order.received' | 'order.status_changed', customerId: string, status: string) {
  return {
    event_type: { DataType: 'String', StringValue: eventType },
    customer_id: { DataType: 'String', StringValue: customerId },
    status: { DataType: 'String', StringValue: status },
  };
}
