// What each ResourceRef of platform/functions.ts is, spelt as each tool must spell it. Typed by the
// declaration's ResourceRef: a new kind of binding does not compile until both tools have a spelling.
import { functions, type FunctionName, type ResourceRef } from '../../platform/functions.js';

export type KnownRef = ResourceRef;

/** The Terraform expression (as @cdktf/hcl2json renders it) an environment variable bound to each reference must be. */
export const TERRAFORM_REFS: Record<KnownRef, string> = {
  'orders-queue-url': '${aws_sqs_queue.orders.url}',
  'orders-table-name': '${aws_dynamodb_table.orders.name}',
  'order-events-topic-arn': '${aws_sns_topic.order_events.arn}',
  'lifecycle-timings': '${jsonencode(var.order_timings_seconds)}',
  'max-receive-count': '${var.max_receive_count}',
  'carts-table-name': '${aws_dynamodb_table.carts.name}',
  'cart-ttl-seconds': '${var.cart_ttl_seconds}',
  'customer-mail-from': '${var.customer_mail_from}',
};

/** The timings JSON as CloudFormation writes it, one parameter a status. */
export const CFN_TIMINGS_PARAMETERS = { RECEIVED: 'OrderReceivedSeconds', PREPARING: 'OrderPreparingSeconds', READY: 'OrderReadySeconds' } as const;

/** The CloudFormation value (standard JSON form) an environment variable bound to each reference must be. */
export const CFN_REFS: Record<KnownRef, unknown> = {
  'orders-queue-url': { Ref: 'OrdersQueue' },
  'orders-table-name': { Ref: 'OrdersTable' },
  'order-events-topic-arn': { Ref: 'OrderEventsTopic' },
  'lifecycle-timings': {
    'Fn::Sub': `{${Object.entries(CFN_TIMINGS_PARAMETERS)
      .map(([status, parameter]) => `"${status}":\${${parameter}}`)
      .join(',')}}`,
  },
  'max-receive-count': { Ref: 'MaxReceiveCount' },
  'carts-table-name': { Ref: 'CartsTable' },
  'cart-ttl-seconds': { Ref: 'CartTtlSeconds' },
  'customer-mail-from': { Ref: 'CustomerMailFrom' },
};

/** A function's variables as the IaC must bind them: the declaration's. */
export function expectedBindings(name: FunctionName): Record<string, KnownRef> {
  return functions[name].environment;
}

/** The reference a tool's value stands for, or a marker that names the value when it is none of them. */
export function refOf(spellings: Record<KnownRef, unknown>, value: unknown): string {
  const found = (Object.entries(spellings) as [KnownRef, unknown][]).find(([, spelling]) => JSON.stringify(spelling) === JSON.stringify(value));
  return found ? found[0] : `<not a known reference: ${JSON.stringify(value)}>`;
}
