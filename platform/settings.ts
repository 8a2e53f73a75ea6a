import { FIFO_SUFFIX } from '../backend-lambdas/lib/fifo.js';

/**
 * The pipeline's settings, one value each, shared by production and the local stack: Terraform's
 * and CloudFormation's defaults are checked against these by test/iac/parity.test.ts, and
 * `npm start` runs with them (its profiles change only timings, see local/profiles.ts).
 */
export const settings = {
  region: 'us-east-1',
  names: {
    queue: 'orders',
    deadLetterQueue: 'orders-dlq',
    table: 'orders',
    orderEventsTopic: 'order-events',
    opsAlarmsTopic: 'ops-alarms',
    dlqAlarm: 'orders-dlq-not-empty',
    cartsTable: 'carts',
    productsTable: 'products',
    customerNotificationsQueue: 'customer-notifications',
    customerNotificationsDeadLetterQueue: 'customer-notifications-dlq',
    /** Each web process's own queue on order-events is this and random digits (EVENT_QUEUE_PREFIX, after the stack's prefix). */
    webEventQueuePrefix: 'order-web-events-',
  },
  queue: {
    /**
     * `standard` (the default) or `fifo`: one group per customer, so each customer's orders are
     * processed in the order they were received (see QUEUE_TYPES and queueNames).
     */
    type: 'standard' as QueueType,
    // The queue's deduplication is submit-order's MessageDeduplicationId (the order id), never the
    // body's hash: two orders with the same lines are two orders.
    contentBasedDeduplication: false,
    // At least 6 x the process-order timeout, as AWS advises for an event source mapping.
    visibilityTimeoutSeconds: 180,
    messageRetentionSeconds: 345_600,
    receiveWaitTimeSeconds: 20,
    maxReceiveCount: 5,
  },
  deadLetterQueue: { messageRetentionSeconds: 1_209_600 },
  lambda: { runtime: 'nodejs22.x', architecture: 'arm64' },
  table: { billingMode: 'PAY_PER_REQUEST' },
  /**
   * How long an order stays in each status before the kitchen moves it on, in seconds. The kitchen
   * runs once a minute on AWS, so each step takes its time plus up to a minute.
   */
  lifecycle: { timingsSeconds: { RECEIVED: 60, PREPARING: 600, READY: 300 } },
  /** A cart no one has touched for this long is gone (DynamoDB TTL on AWS; enforced on read locally). */
  cart: { ttlSeconds: 7 * 24 * 3600 },
  /** How long each reader keeps the menu it read: a price change reaches every reader within it (docs/data-model.md). */
  menu: { cacheSeconds: 10 },
  /** The customer's mail at each step: which events, and who it is from. */
  customerMail: { eventTypes: ['order.received', 'order.status_changed'], fromAddress: 'orders@example.com' },
  /** Customers' accounts: the Cognito user pool and the web tier's app client (no secret: USER_PASSWORD_AUTH from the server). */
  accounts: {
    userPool: {
      name: 'order-customers',
      clientName: 'web-tier',
      passwordPolicy: { MinimumLength: 8, RequireLowercase: true, RequireUppercase: true, RequireNumbers: true, RequireSymbols: false },
      idTokenValidityMinutes: 60,
      refreshTokenValidityDays: 30,
    },
    /** The pool's group whose members are the shop's staff: the /staff pages and routes are theirs alone. */
    staffGroup: 'staff',
  },
  api: {
    stageName: 'v1',
    throttleRateLimit: 100,
    throttleBurstLimit: 200,
    maxBodyBytes: 8192,
  },
  alarm: {
    namespace: 'AWS/SQS',
    metricName: 'ApproximateNumberOfMessagesVisible',
    statistic: 'Maximum',
    comparisonOperator: 'GreaterThanOrEqualToThreshold',
    threshold: 1,
    periodSeconds: 60,
    evaluationPeriods: 1,
    treatMissingData: 'notBreaching',
  },
  web: { appPort: 3000, healthCheckPath: '/healthz' },
} as const;

export type Settings = typeof settings;

/** The two kinds of orders queue the pipeline can run on; Terraform's queue_type, CloudFormation's QueueType, the local QUEUE_TYPE. */
export const QUEUE_TYPES = ['standard', 'fifo'] as const;
export type QueueType = (typeof QUEUE_TYPES)[number];

/** The orders queue's and its DLQ's names for a queue type (before any name prefix); the DLQ of a FIFO queue must be FIFO too. */
export function queueNames(type: QueueType): { queue: string; deadLetterQueue: string } {
  const suffix = type === 'fifo' ? FIFO_SUFFIX : '';
  return { queue: `${settings.names.queue}${suffix}`, deadLetterQueue: `${settings.names.deadLetterQueue}${suffix}` };
}
