/**
 * The pipeline's settings, one value each. Terraform's and CloudFormation's defaults are checked
 * against these by test/iac/parity.test.ts, and the local stack runs with them.
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
  },
  queue: {
    // At least 6 x the process-order timeout, as AWS advises for an event source mapping.
    visibilityTimeoutSeconds: 180,
    messageRetentionSeconds: 345_600,
    receiveWaitTimeSeconds: 20,
    maxReceiveCount: 5,
  },
  deadLetterQueue: { messageRetentionSeconds: 1_209_600 },
  eventSourceMapping: { batchSize: 10, maximumBatchingWindowSeconds: 0, maximumConcurrency: 5 },
  lambda: {
    runtime: 'nodejs22.x',
    architecture: 'arm64',
    functions: {
      'submit-order': { memoryMb: 256, timeoutSeconds: 10 },
      'process-order': { memoryMb: 256, timeoutSeconds: 30 },
      'get-order': { memoryMb: 256, timeoutSeconds: 10 },
    },
  },
  table: { partitionKey: 'order_id', billingMode: 'PAY_PER_REQUEST' },
  api: {
    routes: ['POST /orders', 'GET /orders/{id}'],
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
export type LambdaName = keyof Settings['lambda']['functions'];
export type ProfileName = 'default' | 'fast';

/** The local stack's timings: AWS's by default; `fast` makes the failure path take seconds. */
export interface Profile {
  name: ProfileName;
  visibilityTimeoutSeconds: number;
  alarmPeriodSeconds: number;
}

export const profiles: Record<ProfileName, Profile> = {
  default: {
    name: 'default',
    visibilityTimeoutSeconds: settings.queue.visibilityTimeoutSeconds,
    alarmPeriodSeconds: settings.alarm.periodSeconds,
  },
  fast: { name: 'fast', visibilityTimeoutSeconds: 2, alarmPeriodSeconds: 2 },
};
