// What each ResourceRef of platform/functions.ts is, spelt as each tool must spell it. Typed by the
// declaration's ResourceRef: a new kind of binding does not compile until both tools have a spelling.
import { functions, type FunctionName, type ResourceRef } from '../../platform/functions.js';

/**
 * References the IaC binds before platform/functions.ts declares them (issue 13: process-order is told
 * the redrive count). Once the declaration's ResourceRef has the name, this union is ResourceRef and
 * nothing here needs to change; see PENDING_BINDINGS for the one edit the declaration needs.
 */
export type KnownRef = ResourceRef | 'max-receive-count';

/** The Terraform expression (as @cdktf/hcl2json renders it) an environment variable bound to each reference must be. */
export const TERRAFORM_REFS: Record<KnownRef, string> = {
  'orders-queue-url': '${aws_sqs_queue.orders.url}',
  'orders-table-name': '${aws_dynamodb_table.orders.name}',
  'order-events-topic-arn': '${aws_sns_topic.order_events.arn}',
  'lifecycle-timings': '${jsonencode(var.order_timings_seconds)}',
  'max-receive-count': '${var.max_receive_count}',
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
};

/**
 * Variables both tools set that platform/functions.ts does not declare yet: the declaration change
 * asked of its owner is exactly `MAX_RECEIVE_COUNT: 'max-receive-count'` in process-order's
 * environment (and 'max-receive-count' in ResourceRef). Merged under the declaration, so once it is
 * declared this list changes nothing.
 */
export const PENDING_BINDINGS: Partial<Record<FunctionName, Record<string, KnownRef>>> = {
  'process-order': { MAX_RECEIVE_COUNT: 'max-receive-count' },
};

/** A function's variables as the IaC must bind them: the declaration's, with the pending ones under it. */
export function expectedBindings(name: FunctionName): Record<string, KnownRef> {
  return { ...PENDING_BINDINGS[name], ...(functions[name].environment as Record<string, KnownRef>) };
}

/** The reference a tool's value stands for, or a marker that names the value when it is none of them. */
export function refOf(spellings: Record<KnownRef, unknown>, value: unknown): string {
  const found = (Object.entries(spellings) as [KnownRef, unknown][]).find(([, spelling]) => JSON.stringify(spelling) === JSON.stringify(value));
  return found ? found[0] : `<not a known reference: ${JSON.stringify(value)}>`;
}
