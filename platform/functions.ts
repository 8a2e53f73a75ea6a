/**
 * The Lambda functions, declared once. `npm run build` bundles each `entry`; the local stack wires
 * each from its `wiring` module, environment and trigger; the parity test checks Terraform and
 * CloudFormation deploy the same. A new function is its folder, one entry here and its IaC.
 */
import type { QueueType } from './settings.js';

/** A value a function's environment variable is given, named by what it is, not by how each tool spells it. */
export type ResourceRef =
  | 'orders-queue-url'
  | 'orders-table-name'
  | 'order-events-topic-arn'
  | 'lifecycle-timings'
  | 'max-receive-count'
  | 'carts-table-name'
  | 'cart-ttl-seconds'
  | 'customer-mail-from';

export type Trigger =
  /**
   * API Gateway REST routes, each "METHOD /resource/{param}", all behind the web tier's API key;
   * `cognito` routes also need the customer's Cognito ID token, and the function takes the customer
   * from the authorizer's claims.
   */
  | { readonly type: 'api'; readonly routes: readonly string[]; readonly authorizer?: 'cognito' }
  /** An SQS event source mapping that reports batch item failures. */
  | {
      readonly type: 'queue';
      readonly queue: 'orders' | 'customer-notifications';
      readonly batchSize: number;
      readonly maximumBatchingWindowSeconds: number;
      readonly maximumConcurrency: number;
    }
  /** An EventBridge schedule; `everySeconds` is the same rate, for the local stack. */
  | { readonly type: 'schedule'; readonly expression: string; readonly everySeconds: number };

export interface FunctionSpec {
  readonly description: string;
  /** The Lambda entry point, exporting `handler`; what the build bundles. */
  readonly entry: string;
  /** Exports `wire(env, clients, options)`: the same handler, built from an environment and clients. */
  readonly wiring: string;
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  readonly environment: Readonly<Record<string, ResourceRef>>;
  readonly trigger: Trigger;
}

export const functions = {
  'submit-order': {
    description: 'POST /orders; validates the order and queues it.',
    entry: 'backend-lambdas/submit-order/handler.ts',
    wiring: 'backend-lambdas/submit-order/submit-order.ts',
    memoryMb: 256,
    timeoutSeconds: 10,
    environment: { QUEUE_URL: 'orders-queue-url' },
    trigger: { type: 'api', routes: ['POST /orders'] },
  },
  'process-order': {
    description: 'Consumes the orders queue; stores each order once as RECEIVED and publishes order.received.',
    entry: 'backend-lambdas/process-order/handler.ts',
    wiring: 'backend-lambdas/process-order/process-order.ts',
    memoryMb: 256,
    timeoutSeconds: 30,
    environment: { TABLE_NAME: 'orders-table-name', ORDER_EVENTS_TOPIC_ARN: 'order-events-topic-arn', ORDER_TIMINGS: 'lifecycle-timings', MAX_RECEIVE_COUNT: 'max-receive-count' },
    trigger: { type: 'queue', queue: 'orders', batchSize: 10, maximumBatchingWindowSeconds: 0, maximumConcurrency: 5 },
  },
  'get-order': {
    description: 'GET /orders/{id} and GET /orders?ids=; reads stored orders with their status and history.',
    entry: 'backend-lambdas/get-order/handler.ts',
    wiring: 'backend-lambdas/get-order/get-order.ts',
    memoryMb: 256,
    timeoutSeconds: 10,
    environment: { TABLE_NAME: 'orders-table-name' },
    trigger: { type: 'api', routes: ['GET /orders/{id}', 'GET /orders'] },
  },
  'advance-orders': {
    description: 'The kitchen: moves due orders to their next status and publishes order.status_changed; staff commands too.',
    entry: 'backend-lambdas/advance-orders/handler.ts',
    wiring: 'backend-lambdas/advance-orders/advance-orders.ts',
    memoryMb: 256,
    timeoutSeconds: 60,
    environment: { TABLE_NAME: 'orders-table-name', ORDER_EVENTS_TOPIC_ARN: 'order-events-topic-arn', ORDER_TIMINGS: 'lifecycle-timings' },
    trigger: { type: 'schedule', expression: 'rate(1 minute)', everySeconds: 60 },
  },
  cart: {
    description: "The signed-in customer's cart: GET /me/cart, PUT and DELETE /me/cart/lines/{product_id}.",
    entry: 'backend-lambdas/cart/handler.ts',
    wiring: 'backend-lambdas/cart/cart.ts',
    memoryMb: 256,
    timeoutSeconds: 10,
    environment: { CARTS_TABLE_NAME: 'carts-table-name', CART_TTL_SECONDS: 'cart-ttl-seconds' },
    trigger: { type: 'api', routes: ['GET /me/cart', 'PUT /me/cart/lines/{product_id}', 'DELETE /me/cart/lines/{product_id}'], authorizer: 'cognito' },
  },
  checkout: {
    description: "POST /me/orders: the signed-in customer's cart becomes one order on the queue, and is emptied once it is accepted.",
    entry: 'backend-lambdas/checkout/handler.ts',
    wiring: 'backend-lambdas/checkout/checkout.ts',
    memoryMb: 256,
    timeoutSeconds: 10,
    environment: { CARTS_TABLE_NAME: 'carts-table-name', CART_TTL_SECONDS: 'cart-ttl-seconds', QUEUE_URL: 'orders-queue-url' },
    trigger: { type: 'api', routes: ['POST /me/orders'], authorizer: 'cognito' },
  },
  'my-orders': {
    description: "GET /me/orders (newest first, a page at a time) and GET /me/orders/{id}: the signed-in customer's own orders.",
    entry: 'backend-lambdas/my-orders/handler.ts',
    wiring: 'backend-lambdas/my-orders/my-orders.ts',
    memoryMb: 256,
    timeoutSeconds: 10,
    environment: { TABLE_NAME: 'orders-table-name' },
    trigger: { type: 'api', routes: ['GET /me/orders', 'GET /me/orders/{id}'], authorizer: 'cognito' },
  },
  'notify-customer': {
    description: 'Mails the customer when an order is received and at each change of status (SES), from order-events.',
    entry: 'backend-lambdas/notify-customer/handler.ts',
    wiring: 'backend-lambdas/notify-customer/notify-customer.ts',
    memoryMb: 256,
    timeoutSeconds: 30,
    environment: { TABLE_NAME: 'orders-table-name', MAIL_FROM: 'customer-mail-from' },
    trigger: { type: 'queue', queue: 'customer-notifications', batchSize: 10, maximumBatchingWindowSeconds: 0, maximumConcurrency: 2 },
  },
} as const satisfies Record<string, FunctionSpec>;

export type FunctionName = keyof typeof functions;

type QueueTrigger = Extract<Trigger, { type: 'queue' }>;

/** The most messages a FIFO event source mapping may hand a function at once (AWS's limit; standard queues take 10,000). */
export const FIFO_MAX_BATCH_SIZE = 10;

/**
 * What an SQS event source mapping is created with on a queue of this type. FIFO queues take no
 * batching window and batches of at most 10 (AWS Lambda's "Lambda parameters for Amazon SQS event
 * source mappings"), so the window is left out there, and a declared batch above 10 is an error
 * rather than a silent cut.
 */
export function mappingSettings(trigger: QueueTrigger, queueType: QueueType): { batchSize: number; maximumBatchingWindowSeconds: number | undefined; maximumConcurrency: number } {
  if (queueType === 'fifo' && trigger.batchSize > FIFO_MAX_BATCH_SIZE) throw new Error(`a FIFO event source mapping takes batches of at most ${FIFO_MAX_BATCH_SIZE}, not ${trigger.batchSize}`);
  return {
    batchSize: trigger.batchSize,
    maximumBatchingWindowSeconds: queueType === 'fifo' ? undefined : trigger.maximumBatchingWindowSeconds,
    maximumConcurrency: trigger.maximumConcurrency,
  };
}
export const functionNames = Object.keys(functions) as FunctionName[];

/** Every API route of every function, "METHOD /path". */
export const apiRoutes: readonly string[] = Object.values(functions as Record<string, FunctionSpec>).flatMap((spec) =>
  spec.trigger.type === 'api' ? spec.trigger.routes : [],
);

