// What each ResourceRef of platform/functions.ts is, spelt as each tool must spell it. Typed by the
// declaration's ResourceRef: a new kind of binding does not compile until both tools have a spelling.
import type { ResourceRef } from '../../platform/functions.js';

/** The Terraform expression (as @cdktf/hcl2json renders it) an environment variable bound to each reference must be. */
export const TERRAFORM_REFS: Record<ResourceRef, string> = {
  'orders-queue-url': '${aws_sqs_queue.orders.url}',
  'orders-table-name': '${aws_dynamodb_table.orders.name}',
  'order-events-topic-arn': '${aws_sns_topic.order_events.arn}',
  'lifecycle-timings': '${jsonencode(var.order_timings_seconds)}',
  'max-receive-count': '${tostring(var.max_receive_count)}',
};

/** The timings JSON as CloudFormation writes it, one parameter a status. */
export const CFN_TIMINGS_PARAMETERS = { RECEIVED: 'OrderReceivedSeconds', PREPARING: 'OrderPreparingSeconds', READY: 'OrderReadySeconds' } as const;

/** The CloudFormation value (standard JSON form) an environment variable bound to each reference must be. */
export const CFN_REFS: Record<ResourceRef, unknown> = {
  'orders-queue-url': { Ref: 'OrdersQueue' },
  'orders-table-name': { Ref: 'OrdersTable' },
  'order-events-topic-arn': { Ref: 'OrderEventsTopic' },
  'lifecycle-timings': {
    'Fn::Sub': `{${Object.entries(CFN_TIMINGS_PARAMETERS)
      .map(([status, parameter]) => `"${status}":\${${parameter}}`)
      .join(',')}}`,
  },
  // The redrive policy's maxReceiveCount is written into the template (5), so its variable is too.
  'max-receive-count': '5',
};

/** The reference a tool's value stands for, or a marker that names the value when it is none of them. */
export function refOf(spellings: Record<ResourceRef, unknown>, value: unknown): string {
  const found = (Object.entries(spellings) as [ResourceRef, unknown][]).find(([, spelling]) => JSON.stringify(spelling) === JSON.stringify(value));
  return found ? found[0] : `<not a known reference: ${JSON.stringify(value)}>`;
}
