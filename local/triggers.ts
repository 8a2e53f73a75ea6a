import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import type { Logger } from 'pino';
import { mappingSettings, type FunctionName } from '../platform/functions.js';
import type { ApiRoute, ProxyHandler } from './api-gateway.js';
import type { Authorizer } from './authorizer.js';
import { startEventSourceMapping, type EventSourceMapping, type SqsBatchHandler } from './event-source-mapping.js';
import type { LocalFunction } from './functions.js';
import { createLambdaContext } from './lambda-context.js';
import type { Profile } from './profiles.js';
import type { LocalResources } from './resources.js';
import { startSchedule, type Schedule, type ScheduledHandler } from './scheduler.js';

export interface TriggerOptions {
  functions: readonly LocalFunction[];
  resources: LocalResources;
  profile: Profile;
  /** The client for the event source mappings' long polls. */
  sqsPolling: SQSClient;
  logger: Logger;
  /** False starts with the event source mappings disabled (see startProcessing). */
  processQueues?: boolean;
  /** False leaves scheduled functions to be invoked by hand. */
  runSchedules?: boolean;
  /** The pollers' long-poll wait, 20 s as Lambda's; shorter makes disabling a mapping quicker. */
  pollWaitSeconds?: number;
  /** The user pool's authorizer, for routes declared `authorizer: 'cognito'`. */
  cognitoAuthorizer: Authorizer;
}

export interface Triggers {
  /** The API Gateway routes of every function with an API trigger. */
  routes: ApiRoute[];
  /** Disable and enable the SQS event source mappings, as `aws lambda update-event-source-mapping --no-enabled` does. */
  stopProcessing(): Promise<void>;
  startProcessing(): void;
  /** Invokes a function once, as `aws lambda invoke` does. */
  invoke: (name: FunctionName, event: unknown) => Promise<unknown>;
  stop(): Promise<void>;
}

/** What AWS does to call each function: API routes, SQS event source mappings and EventBridge schedules. */
export function startTriggers({ functions, resources, profile, sqsPolling, logger, processQueues = true, runSchedules = true, pollWaitSeconds, cognitoAuthorizer }: TriggerOptions): Triggers {
  const queues = { orders: resources.queue, 'customer-notifications': resources.customerNotificationsQueue } as const;
  const routes: ApiRoute[] = [];
  const startMappings: (() => EventSourceMapping)[] = [];
  const schedules: Schedule[] = [];
  for (const fn of functions) {
    const { trigger } = fn.spec;
    if (trigger.type === 'api') {
      const handler = fn.create() as ProxyHandler;
      for (const route of trigger.routes) {
        const [method, resource] = route.split(' ') as [string, string];
        routes.push({ method, resource, functionName: fn.name, handler, ...(trigger.authorizer === 'cognito' ? { authorizer: cognitoAuthorizer } : {}) });
      }
    } else if (trigger.type === 'queue') {
      // As AWS creates it on this queue type (a FIFO queue takes no batching window, which the local poller has none of anyway);
      // queue_type chooses the orders queue's type only: customer notifications stay on a standard queue.
      const mapping = mappingSettings(trigger, trigger.queue === 'orders' ? resources.queueType : 'standard');
      startMappings.push(() =>
        startEventSourceMapping({
          sqs: sqsPolling,
          queue: queues[trigger.queue],
          functionName: fn.name,
          batchSize: mapping.batchSize,
          concurrency: mapping.maximumConcurrency,
          ...(pollWaitSeconds !== undefined ? { waitTimeSeconds: pollWaitSeconds } : {}),
          logger,
          createHandler: () => fn.create() as SqsBatchHandler,
        }),
      );
    } else {
      const handler = fn.create() as ScheduledHandler;
      if (runSchedules) schedules.push(startSchedule({ functionName: fn.name, everySeconds: profile.scheduleEverySeconds ?? trigger.everySeconds, handler, logger }));
    }
  }

  const invoked: Partial<Record<FunctionName, (event: unknown, context: Context) => Promise<unknown>>> = {};
  let mappings: EventSourceMapping[] = processQueues ? startMappings.map((start) => start()) : [];
  return {
    routes,
    async stopProcessing() {
      const stopping = mappings;
      mappings = [];
      await Promise.all(stopping.map((mapping) => mapping.stop({ graceful: true })));
    },
    startProcessing() {
      if (mappings.length === 0) mappings = startMappings.map((start) => start());
    },
    async invoke(name, event) {
      const fn = functions.find((candidate) => candidate.name === name);
      if (!fn) throw new Error(`${name} is not a declared function`);
      // A handler of its own, as a direct invocation may land in a new execution environment.
      const handler = (invoked[name] ??= fn.create() as (event: unknown, context: Context) => Promise<unknown>);
      return handler(event, createLambdaContext(name));
    },
    async stop() {
      await Promise.all([...schedules.map((schedule) => schedule.stop()), ...mappings.map((mapping) => mapping.stop())]);
    },
  };
}
