import type { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { join } from 'node:path';
import type { AwsClients, Wiring, WiringOptions } from '../backend-lambdas/lib/wiring.js';
import { functions, functionNames, type FunctionName, type FunctionSpec, type ResourceRef } from '../platform/functions.js';
import type { ProxyHandler } from './api-gateway.js';
import type { SqsBatchHandler } from './event-source-mapping.js';
import { settings } from '../platform/settings.js';
import type { Invoker } from './invocation.js';
import { LocalMetrics, type MetricsTally } from './observability.js';
import type { Profile } from './profiles.js';
import type { LocalResources } from './resources.js';
import type { ScheduledHandler } from './scheduler.js';

const root = new URL('..', import.meta.url).pathname;

interface HandlerByTrigger {
  api: ProxyHandler;
  queue: SqsBatchHandler;
  schedule: ScheduledHandler;
}
type Wrapper<Handler> = (handler: Handler) => Handler;

/**
 * Lets a test put a fault between a function's trigger and its handler. The wrapper names the
 * handler it takes (functions.json is JSON, so its trigger types are not known to the type checker).
 */
export type FunctionWrappers = Partial<Record<FunctionName, Wrapper<ProxyHandler> | Wrapper<SqsBatchHandler> | Wrapper<ScheduledHandler>>>;

/** A declared function, ready to be given its trigger. */
export interface LocalFunction {
  name: FunctionName;
  spec: FunctionSpec;
  /** A new handler, as a new Lambda execution environment would build it. */
  create(): HandlerByTrigger[keyof HandlerByTrigger];
}

export interface LoadFunctionsOptions {
  resources: LocalResources;
  /** The web tier's address, which the mails link to. */
  shopUrl: string;
  profile: Profile;
  clients: AwsClients;
  logger: (functionName: string) => PowertoolsLogger;
  /** Where every function's metrics go: the stack's log and the console's counts. */
  metrics: MetricsTally;
  /** Runs each invocation in its own invoke context (request and trace ids). */
  invoker: Invoker;
  overrides?: Omit<WiringOptions, 'logger' | 'metrics'>;
  wrappers?: FunctionWrappers;
}

/** What each kind of environment value is in the local stack. */
function resolve(ref: ResourceRef, resources: LocalResources, profile: Profile, shopUrl: string): string {
  switch (ref) {
    case 'orders-queue-url':
      return resources.queue.url;
    case 'orders-table-name':
      return resources.tableName;
    case 'order-events-topic-arn':
      return resources.topics.orderEvents;
    case 'lifecycle-timings':
      return JSON.stringify(profile.lifecycleTimings);
    case 'max-receive-count':
      return String(settings.queue.maxReceiveCount);
    case 'carts-table-name':
      return resources.cartsTableName;
    case 'cart-ttl-seconds':
      return String(settings.cart.ttlSeconds);
    case 'customer-mail-from':
      return settings.customerMail.fromAddress;
    case 'shop-url':
      return shopUrl;
    case 'products-table-name':
      return resources.productsTableName;
  }
}

/**
 * Every function of the declaration, built by its own wiring from the environment Terraform would
 * give it, here pointing at the local resources. Nothing here knows a function by name.
 */
export async function loadFunctions({ resources, shopUrl, profile, clients, logger, metrics, invoker, overrides = {}, wrappers = {} }: LoadFunctionsOptions): Promise<LocalFunction[]> {
  const loaded: LocalFunction[] = [];
  // One import at a time: jest's ESM loader fails on modules that share dependencies when imported at once.
  for (const name of functionNames) {
    const spec: FunctionSpec = functions[name];
    const { wire } = (await import(join(root, spec.wiring))) as { wire: Wiring<keyof AwsClients, HandlerByTrigger[keyof HandlerByTrigger]> };
    const env = Object.fromEntries(Object.entries(spec.environment).map(([variable, ref]) => [variable, resolve(ref, resources, profile, shopUrl)]));
    const wrap = (wrappers[name] ?? ((handler) => handler)) as (handler: HandlerByTrigger[keyof HandlerByTrigger]) => HandlerByTrigger[keyof HandlerByTrigger];
    const create = () => {
      const handler = wrap(wire(env, clients, { ...overrides, logger: logger(name), metrics: new LocalMetrics(name, metrics) })) as (event: unknown, context: Context) => Promise<unknown>;
      return ((event: unknown, context: Context) => invoker(name, context, () => handler(event, context))) as HandlerByTrigger[keyof HandlerByTrigger];
    };
    loaded.push({ name, spec, create });
  }
  return loaded;
}
