import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { SNSClient } from '@aws-sdk/client-sns';
import * as z from 'zod/mini';
import { parseConfig } from '../../domain/config.js';
import { lifecycleTimingsJson, type LifecycleTimings } from '../../domain/lifecycle.js';
import { instrumented, METRICS_NAMESPACE, type MetricsRecorder } from './observability.js';
import { createOrderStore, type OrderStore } from './order-store.js';
import type { AwsClients, Environment, LambdaHandler, Wiring, WiringOptions } from './wiring.js';

/** The logger, metrics and tracer of a function: the host's where it gives them, Powertools' otherwise. */
export function observabilityFor(serviceName: string, env: Environment, options: WiringOptions) {
  return {
    logger: options.logger ?? new Logger({ serviceName }),
    metrics: options.metrics ?? new Metrics({ namespace: env.POWERTOOLS_METRICS_NAMESPACE ?? METRICS_NAMESPACE, serviceName }),
    tracer: options.tracer,
  };
}

/** The environment of a function that writes orders and publishes their events (process-order, the kitchen). */
export const orderWriterEnvironment = z.object({
  TABLE_NAME: z.string().check(z.minLength(3)),
  ORDER_EVENTS_TOPIC_ARN: z.optional(z.string().check(z.startsWith('arn:'))),
  ORDER_TIMINGS: lifecycleTimingsJson,
});

/** The dependencies such a function shares: its store, timings, topic and observability. */
export function orderWriterDeps(serviceName: string, env: Environment, { documents, sns }: Pick<AwsClients, 'documents' | 'sns'>, options: WiringOptions) {
  const config = parseConfig(orderWriterEnvironment, env, serviceName);
  return {
    store: createOrderStore({ documents, tableName: config.TABLE_NAME }),
    timings: config.ORDER_TIMINGS,
    sns: config.ORDER_EVENTS_TOPIC_ARN ? sns : undefined,
    topicArn: config.ORDER_EVENTS_TOPIC_ARN,
    ...observabilityFor(serviceName, env, options),
    ...(options.clock ? { clock: options.clock } : {}),
  };
}

export type OrderWriterDeps = Omit<ReturnType<typeof orderWriterDeps>, 'tracer'>;

/** What an order writer's factory takes (a test may give its own of each). */
export interface OrderWriterHandlerDeps {
  store: OrderStore;
  logger: Logger;
  /** The lifecycle its changes follow. */
  timings: LifecycleTimings;
  /** Where its events go (order-events); none is published when absent. */
  sns?: SNSClient | undefined;
  topicArn?: string | undefined;
  metrics?: MetricsRecorder | undefined;
  clock?: () => Date;
}

/** The wiring of an order writer whose factory takes just those dependencies (my-orders, the kitchen, the staff's). */
export function orderWriterWiring<Event, Result>(serviceName: string, create: (deps: OrderWriterDeps) => LambdaHandler<Event, Result>): Wiring<'documents' | 'sns', LambdaHandler<Event, Result>> {
  return (env, clients, options = {}) => {
    const { tracer, ...deps } = orderWriterDeps(serviceName, env, clients, options);
    return instrumented(serviceName, { tracer, metrics: deps.metrics }, create(deps));
  };
}
