// What each ResourceRef and PermissionTarget of platform/functions.ts is in each tool. Typed by the
// declaration's names: a new kind of binding or target does not compile until both tools have it.
import { orderTable } from '../../backend-lambdas/lib/order-store.js';
import { functions, type FunctionName, type PermissionTarget, type ResourceRef } from '../../platform/functions.js';

export type KnownRef = ResourceRef;

/**
 * Where a Terraform deployment's value of each ResourceRef is in `terraform show -json` of a plan
 * against its state: a resource's attribute, or a root variable the module passes on as text (a
 * number as its digits, an object as its JSON).
 */
export const TERRAFORM_REFS: Record<KnownRef, { resource: string; attribute: string } | { variable: string }> = {
  'orders-queue-url': { resource: 'aws_sqs_queue.orders', attribute: 'url' },
  'orders-table-name': { resource: 'aws_dynamodb_table.orders', attribute: 'name' },
  'order-events-topic-arn': { resource: 'aws_sns_topic.order_events', attribute: 'arn' },
  'lifecycle-timings': { variable: 'order_timings_seconds' },
  'max-receive-count': { variable: 'max_receive_count' },
  'carts-table-name': { resource: 'aws_dynamodb_table.carts', attribute: 'name' },
  'cart-ttl-seconds': { variable: 'cart_ttl_seconds' },
  'customer-mail-from': { resource: 'aws_sesv2_email_identity.customer_mail_from', attribute: 'email_identity' },
  'shop-url': { variable: 'shop_url' },
  'products-table-name': { resource: 'aws_dynamodb_table.products', attribute: 'name' },
};

/**
 * The Terraform resource whose ARN each PermissionTarget of platform/functions.ts is; for an index,
 * its table and the index's name (the order store's), the ARN being <table ARN>/index/<name>.
 */
export const TERRAFORM_PERMISSION_TARGETS: Record<PermissionTarget, { resource: string; index?: string }> = {
  'orders-queue': { resource: 'aws_sqs_queue.orders' },
  'customer-notifications-queue': { resource: 'aws_sqs_queue.customer_notifications' },
  'orders-table': { resource: 'aws_dynamodb_table.orders' },
  'orders-table-due-index': { resource: 'aws_dynamodb_table.orders', index: orderTable.dueIndex.name },
  'orders-table-account-index': { resource: 'aws_dynamodb_table.orders', index: orderTable.accountIndex.name },
  'carts-table': { resource: 'aws_dynamodb_table.carts' },
  'products-table': { resource: 'aws_dynamodb_table.products' },
  'order-events-topic': { resource: 'aws_sns_topic.order_events' },
  'notifications-key': { resource: 'aws_kms_key.notifications' },
  'customer-mail-identity': { resource: 'aws_sesv2_email_identity.customer_mail_from' },
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
  'shop-url': { Ref: 'ShopUrl' },
  'products-table-name': { Ref: 'ProductsTable' },
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
